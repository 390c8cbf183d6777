/**
 * Which gateway holds a sensor's packets: the central console's gateways file (HwCONSOLE_GATEWAYS, or
 * `--gateways FILE`). One line per sensor, fields separated by blanks, `#` starts a comment:
 *
 *     # sensor  gateway console (https)     token file                   CA or the gateway's own certificate
 *     site-a    https://10.1.0.2:8443/       /etc/honeywall/site-a.token  /etc/honeywall/site-a-console.pem
 *
 * The token file holds what `honeywall console token add NAME --scope pcap` printed on that gateway; the last field
 * is the PEM of the CA that signed the gateway console's certificate, or that certificate itself (the self-signed one
 * a gateway makes beside its store, `STORE.console-cert.pem`: trusting exactly it pins it). Relative paths are
 * relative to the gateways file. Everything is checked when the console starts: each problem is a
 * `file:line:column: error invalid-gateway: ...` line, never an exception.
 */
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { readBoundedText } from '../config/bounded-read.js';
import { printable } from '../config/iface-name.js';
import { SENSOR_NAME } from '../store/central/connect.js';
import { TOKEN_TEXT } from './tokens.js';

export interface Gateway {
  sensor: string;
  /** The gateway console's base URL, ending in '/'. */
  url: string;
  /** The bearer token (never logged). */
  token: string;
  /** PEM text of the CA (or pinned certificate) the gateway's certificate is verified against. */
  ca: string;
  /** Where it was configured, for messages. */
  at: string;
}

export interface GatewaysResult {
  gateways: Gateway[];
  errors: string[];
  warnings: string[];
}

/** Bounds: the file, a token file, a CA file, and the sensors listed. */
const MAX_FILE = 1024 * 1024;
const MAX_TOKEN_FILE = 4096;
const MAX_CA_FILE = 1024 * 1024;
export const MAX_GATEWAYS = 10_000;

/** A gateway console's URL: https (the token and the intruder's packets cross the management network), no secrets. */
export function gatewayUrlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `'${printable(text)}' is not a URL`;
  }
  if (u.protocol !== 'https:') return `'${printable(text)}': https only (the token and the packets cross the network)`;
  if (u.username !== '' || u.password !== '') return 'no user or password in the URL: the token file authenticates';
  if (u.search !== '' || u.hash !== '') return `'${printable(text)}': no query or fragment (the console adds api/flows/ID/pcap)`;
  return undefined;
}

interface Field {
  text: string;
  column: number;
}

function fields(line: string): Field[] {
  const out: Field[] = [];
  const re = /[^\s]+/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    if (m[0].startsWith('#')) break;
    out.push({ text: m[0], column: m.index + 1 });
  }
  return out;
}

export function loadGateways(file: string): GatewaysResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const gateways: Gateway[] = [];
  const read = readBoundedText(file, MAX_FILE);
  if ('error' in read) return { gateways, errors: [`${file}:1:1: error invalid-gateway: the gateways file ${read.error}`], warnings };
  const dir = path.dirname(path.resolve(file));
  const seen = new Map<string, number>();
  const lines = read.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const f = fields(line);
    if (f.length === 0) continue;
    const at = (column: number) => `${file}:${i + 1}:${column}`;
    const err = (column: number, message: string) => errors.push(`${at(column)}: error invalid-gateway: ${message}`);
    if (f.length !== 4) {
      err(f.length > 4 ? f[4]!.column : line.length + 1, `${f.length} fields: a line is SENSOR URL TOKEN-FILE CA-FILE`);
      continue;
    }
    const [sensor, url, tokenFile, caFile] = f as [Field, Field, Field, Field];
    if (gateways.length >= MAX_GATEWAYS) {
      err(1, `more than ${MAX_GATEWAYS} gateways: the rest of the file is not read`);
      break;
    }
    let ok = true;
    if (!SENSOR_NAME.test(sensor.text)) {
      err(sensor.column, `'${printable(sensor.text)}' is not a sensor name (1 to 64 printable characters, as HwSENSOR)`);
      ok = false;
    } else if (seen.has(sensor.text)) {
      err(sensor.column, `sensor ${sensor.text} is already on line ${seen.get(sensor.text)}`);
      ok = false;
    } else seen.set(sensor.text, i + 1);
    const badUrl = gatewayUrlProblem(url.text);
    if (badUrl !== undefined) {
      err(url.column, badUrl);
      ok = false;
    }
    const tokenPath = path.resolve(dir, tokenFile.text);
    const token = readBoundedText(tokenPath, MAX_TOKEN_FILE);
    let tokenText = '';
    if ('error' in token) {
      err(tokenFile.column, `token file ${printable(tokenPath, 200)} ${token.error}`);
      ok = false;
    } else {
      tokenText = token.text.trim();
      if (!TOKEN_TEXT.test(tokenText)) {
        err(tokenFile.column, `${printable(tokenPath, 200)} does not hold a token (what honeywall console token add printed on the gateway)`);
        ok = false;
      } else if ((statSync(tokenPath).mode & 0o077) !== 0)
        warnings.push(
          `${at(tokenFile.column)}: warning token-file-mode: ${printable(tokenPath, 200)} is readable by others than its owner (chmod 600)`,
        );
    }
    const caPath = path.resolve(dir, caFile.text);
    const ca = readBoundedText(caPath, MAX_CA_FILE);
    let caText = '';
    if ('error' in ca) {
      err(caFile.column, `CA file ${printable(caPath, 200)} ${ca.error}`);
      ok = false;
    } else {
      caText = ca.text;
      try {
        if (!caText.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no BEGIN CERTIFICATE');
        new X509Certificate(caText);
      } catch (e) {
        err(caFile.column, `${printable(caPath, 200)} is not a PEM certificate (${printable((e as Error).message)})`);
        ok = false;
      }
    }
    if (ok) {
      const base = new URL(url.text);
      if (!base.pathname.endsWith('/')) base.pathname += '/';
      gateways.push({ sensor: sensor.text, url: base.toString(), token: tokenText, ca: caText, at: at(sensor.column) });
    }
  }
  return { gateways, errors, warnings };
}
