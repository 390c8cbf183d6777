/**
 * The console's settings: `HwSTORE`, `HwCONSOLE_LISTEN`, `HwCONSOLE_TLS_CERT`, `HwCONSOLE_TLS_KEY`, and for the central
 * console `HwCONSOLE_GATEWAYS` (the gateways file, gateways.ts) and `HwCONSOLE_PCAP_MAX`, read from
 * honeywall.conf as `run` reads its Hw* settings (the gateway knows these names too, so a later change can start the
 * console from `run` on the management interface), each overridden by its command-line flag. Problems come back as
 * `file:line:column: error invalid-value: HwNAME: ...` lines, never as exceptions.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { formatDiagnostic, loadHoneywallConf, type SettingPosition } from '../config/honeywall-conf.js';
import { printable } from '../config/iface-name.js';
import { DEFAULT_FETCH_LIMITS } from './gateway-fetch.js';
import { loadGateways, type Gateway } from './gateways.js';

/** Defaults of the console's settings (the gateway's RUNTIME_DEFAULTS include them). */
export const CONSOLE_DEFAULTS: Readonly<Record<string, string>> = {
  HwSTORE: '/var/lib/honeywall/honeywall.sqlite',
  // loopback: an operator who wants the console on the management interface says so (HwMANAGE_IFACE's address)
  HwCONSOLE_LISTEN: '127.0.0.1:8443',
  HwCONSOLE_TLS_CERT: '',
  HwCONSOLE_TLS_KEY: '',
  // the central console: which gateway serves each sensor's pcaps (empty: none, the flow page names the gateway)
  HwCONSOLE_GATEWAYS: '',
  HwCONSOLE_PCAP_MAX: String(DEFAULT_FETCH_LIMITS.maxBytes),
};

export interface Listen {
  host: string;
  port: number;
  /** 127.0.0.0/8, ::1 or ::ffff:127.x: reachable from this machine only. */
  loopback: boolean;
}

export interface ConsoleSettings {
  store: string;
  listen: Listen;
  /** Both or neither (a generated self-signed pair beside the store then). */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** The gateways file's entries (none without HwCONSOLE_GATEWAYS). */
  gateways: Gateway[];
  /** The largest pcap fetched from a gateway and passed on (bytes). */
  pcapMax: number;
}

export interface ConsoleOverrides {
  db?: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  gateways?: string;
  pcapMax?: string;
}

/** A byte count: digits, or with a K/M/G suffix (powers of 1024). */
export function parseBytes(text: string): number | string {
  const m = /^(\d{1,15})([KMG]?)$/i.exec(text.trim());
  if (m === null) return `'${printable(text)}' is not a byte count (digits, or with K, M or G)`;
  const n = Number(m[1]) * 1024 ** ' KMG'.indexOf(m[2]!.toUpperCase() || ' ');
  if (n < 1 || !Number.isSafeInteger(n)) return `${printable(text)} is not in 1..${Number.MAX_SAFE_INTEGER}`;
  return n;
}

export function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  const h = host.toLowerCase();
  return h === '::1' || /^::ffff:127\./.test(h);
}

/** `ADDR:PORT` (`[ADDR]:PORT` for IPv6): an address, never a name (the console listens only where it is told). */
export function parseListen(text: string): Listen | string {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (m === null) return `'${printable(text)}' is not ADDRESS:PORT (an IPv4 address, or [IPv6]:PORT)`;
  const host = m[1]!;
  const port = Number(m[2]);
  if (isIP(host) === 0) return `'${printable(host)}' is not an IP address`;
  if (port < 1 || port > 65535) return `port ${port} is not in 1..65535`;
  return { host, port, loopback: isLoopback(host) };
}

export interface ConsoleSettingsResult {
  settings: ConsoleSettings | null;
  errors: string[];
  warnings: string[];
}

/**
 * The settings from `configFile` (when given) and the flags. Relative paths in the file are relative to the file, as
 * for the gateway; flags are relative to the working directory.
 */
export function loadConsoleSettings(configFile: string | undefined, over: ConsoleOverrides): ConsoleSettingsResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  let extra: Record<string, string> = {};
  let positions = new Map<string, SettingPosition>();
  let fileDir = process.cwd();
  const file = configFile ?? '(defaults)';
  if (configFile !== undefined) {
    const conf = loadHoneywallConf(configFile);
    for (const d of conf.diagnostics) {
      if (d.severity === 'error') errors.push(formatDiagnostic(d));
      // the console's names and the gateway's are not the firewall's: said by the firewall, not here
      else if (d.code !== 'unknown-variable') warnings.push(formatDiagnostic(d));
    }
    if (conf.config === null) return { settings: null, errors, warnings };
    extra = conf.config.extra;
    positions = conf.positions;
    fileDir = path.dirname(path.resolve(configFile));
  }
  const fromFile = (name: string): string | undefined => (extra[name] !== undefined && extra[name] !== '' ? extra[name] : undefined);
  const err = (name: string, message: string, flag: string | undefined) => {
    if (flag !== undefined) errors.push(`honeywall: ${flag}: ${message}`);
    else {
      const at = positions.get(name);
      errors.push(`${file}:${at?.line ?? 1}:${at?.column ?? 1}: error invalid-value: ${name}: ${message}`);
    }
  };
  const pathSetting = (name: string, flagValue: string | undefined): string | undefined => {
    if (flagValue !== undefined) return path.resolve(flagValue);
    const v = fromFile(name) ?? CONSOLE_DEFAULTS[name];
    return v === undefined || v === '' ? undefined : path.resolve(fileDir, v);
  };

  const store = pathSetting('HwSTORE', over.db)!;
  const listenText = over.listen ?? fromFile('HwCONSOLE_LISTEN') ?? CONSOLE_DEFAULTS.HwCONSOLE_LISTEN!;
  const listen = parseListen(listenText);
  if (typeof listen === 'string') err('HwCONSOLE_LISTEN', listen, over.listen !== undefined ? '--listen' : undefined);
  const tlsCert = pathSetting('HwCONSOLE_TLS_CERT', over.tlsCert);
  const tlsKey = pathSetting('HwCONSOLE_TLS_KEY', over.tlsKey);
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    const flag = over.tlsCert !== undefined || over.tlsKey !== undefined ? '--tls-cert/--tls-key' : undefined;
    err(tlsCert === undefined ? 'HwCONSOLE_TLS_CERT' : 'HwCONSOLE_TLS_KEY', 'give both the certificate and its key, or neither', flag);
  }
  const pcapMaxText = over.pcapMax ?? fromFile('HwCONSOLE_PCAP_MAX') ?? CONSOLE_DEFAULTS.HwCONSOLE_PCAP_MAX!;
  const pcapMax = parseBytes(pcapMaxText);
  if (typeof pcapMax === 'string') err('HwCONSOLE_PCAP_MAX', pcapMax, over.pcapMax !== undefined ? '--pcap-max' : undefined);
  const gatewaysFile = pathSetting('HwCONSOLE_GATEWAYS', over.gateways);
  let gateways: Gateway[] = [];
  if (gatewaysFile !== undefined) {
    const g = loadGateways(gatewaysFile);
    errors.push(...g.errors);
    warnings.push(...g.warnings);
    gateways = g.gateways;
  }
  if (errors.length > 0 || typeof listen === 'string' || typeof pcapMax === 'string') return { settings: null, errors, warnings };
  return { settings: { store, listen, tlsCert, tlsKey, gateways, pcapMax }, errors, warnings };
}
