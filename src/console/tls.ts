/**
 * The console's TLS certificate: the operator's (HwCONSOLE_TLS_CERT and HwCONSOLE_TLS_KEY, or the flags), else a
 * self-signed one made once by `openssl` (Debian's; Node has no certificate writer) and kept beside the store
 * (`STORE.console-cert.pem`, `STORE.console-key.pem`, the key 0600), so that the browser's exception and the
 * fingerprint the console prints stay the same across restarts.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

export class TlsError extends Error {}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint, as browsers show it. */
  fingerprint: string;
  /** The files read, and whether they were made now. */
  certFile: string;
  keyFile: string;
  generated: boolean;
}

function read(certFile: string, keyFile: string, generated: boolean): TlsFiles {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (e) {
    throw new TlsError(`cannot read the TLS certificate or key: ${(e as Error).message}`);
  }
  let fingerprint: string;
  try {
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (e) {
    throw new TlsError(`${certFile}: not a PEM certificate (${(e as Error).message})`);
  }
  return { cert, key, fingerprint, certFile, keyFile, generated };
}

export function selfSignedPaths(store: string): { certFile: string; keyFile: string } {
  return { certFile: `${store}.console-cert.pem`, keyFile: `${store}.console-key.pem` };
}

/**
 * The operator's pair when given; else the generated pair beside the store, made now if absent. `names` go into the
 * certificate's subjectAltName (the listen address; localhost and 127.0.0.1 always).
 */
export function loadTls(opts: { cert?: string; key?: string; store: string; host: string }): TlsFiles {
  if (opts.cert !== undefined && opts.key !== undefined) return read(opts.cert, opts.key, false);
  const { certFile, keyFile } = selfSignedPaths(opts.store);
  if (existsSync(certFile) && existsSync(keyFile)) return read(certFile, keyFile, false);
  const dir = path.dirname(certFile);
  // made in a private directory and renamed into place: never written through a planted name
  const tmp = mkdtempSync(path.join(dir, '.console-tls-'));
  try {
    const sans = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
    if (opts.host !== '0.0.0.0' && opts.host !== '::') sans.add(`IP:${opts.host}`);
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '825',
          '-subj',
          '/CN=honeywall console',
          '-addext',
          `subjectAltName=${[...sans].join(',')}`,
          '-keyout',
          path.join(tmp, 'key.pem'),
          '-out',
          path.join(tmp, 'cert.pem'),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? '';
      throw new TlsError(
        `cannot make a self-signed certificate with openssl (${(e as Error).message.split('\n')[0]}${stderr ? `: ${stderr}` : ''}); ` +
          'install openssl or give --tls-cert and --tls-key',
      );
    }
    chmodSync(path.join(tmp, 'key.pem'), 0o600);
    renameSync(path.join(tmp, 'key.pem'), keyFile);
    renameSync(path.join(tmp, 'cert.pem'), certFile);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return read(certFile, keyFile, true);
}
