/**
 * Connecting to the central store: node-postgres (`pg`) with the URL as given (`postgres://user:pass@host:port/db`
 * with node-postgres's TLS parameters: `sslmode=require|verify-ca|verify-full`, `sslrootcert=FILE` (the CA),
 * `sslcert=FILE`, `sslkey=FILE`); the password never appears in a message; which failures are an outage (retry) and
 * which are the data's (a row PostgreSQL refuses).
 */
import pg from 'pg';

/** A sensor name (HwSENSOR, --sensor): printable ASCII without spaces, at most 64 characters. */
export const SENSOR_NAME = /^[\x21-\x7e]{1,64}$/;

/** The URL with its password replaced by `***`, for logs and the status file. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** A URL this program accepts (`postgres:` or `postgresql:`); the reason otherwise. */
export function checkStoreUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL (postgres://USER@HOST:PORT/DB)';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return `'${u.protocol}' is not postgres:`;
  return undefined;
}

export function newClient(url: string): pg.Client {
  return new pg.Client({
    connectionString: url,
    application_name: 'honeywall',
    connectionTimeoutMillis: 10_000,
    // a statement stuck behind a lock or a dead link ends, and the shipper retries
    statement_timeout: 120_000,
    query_timeout: 130_000,
    keepAlive: true,
  });
}

/**
 * A failure caused by the rows (a value PostgreSQL refuses: data exception 22xxx, integrity 23xxx, program limit
 * 54xxx), not by the connection or the server's state: retrying the same rows would fail the same way.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/** An error as one line (no stack), the SQLSTATE when there is one. */
export function errorLine(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  const msg = String(e.message ?? err).replace(/[\x00-\x1f\x7f]+/g, ' ');
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? `${msg} (SQLSTATE ${e.code})` : msg;
}
