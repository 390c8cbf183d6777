/**
 * Starting the console: the store opened, the TLS pair loaded (or made), the app built and listening. One path for
 * `honeywall console` and for the gateway, which runs it in a worker thread when HwCONSOLE_LISTEN is set.
 */
import { existsSync } from 'node:fs';
import { openStore, StoreError } from '../store/db.js';
import { errorLine, newClient, redactUrl } from '../store/central/connect.js';
import { CentralReader } from '../store/central/reader.js';
import { CENTRAL_SCHEMA_VERSION, centralVersion } from '../store/central/schema.js';
import type { ConsoleSettings } from './config.js';
import { buildConsole } from './server.js';
import { StaticError } from './static.js';
import { loadTls, TlsError } from './tls.js';

/** The console could not start; the message says why (no store, a bad certificate, the address taken, ...). */
export class ConsoleStartError extends Error {}

export interface StartedConsole {
  /** Where it listens (`https://ADDR:PORT/`). */
  url: string;
  /** The certificate it serves (made now or not, file, fingerprint), for the start line. */
  note: string;
  /** Enabled accounts (0: nobody can log in yet). */
  users: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Plain HTTP (loopback only: the caller checks). */
  insecureHttp?: boolean;
  captureDir?: string;
  /** Read the data from the central PostgreSQL store (the SQLite store keeps the accounts, sessions and audit log). */
  storeUrl?: string;
}

/** The central store, checked: reachable, and of the schema this program reads. */
async function openCentral(url: string): Promise<CentralReader> {
  const c = newClient(url);
  try {
    await c.connect();
    const v = await centralVersion(c);
    if (v !== CENTRAL_SCHEMA_VERSION)
      throw new ConsoleStartError(
        `${redactUrl(url)}: central schema version ${v}, this honeywall reads ${CENTRAL_SCHEMA_VERSION} (a gateway's shipper or honeywall ship makes it)`,
      );
  } catch (e) {
    if (e instanceof ConsoleStartError) throw e;
    throw new ConsoleStartError(`${redactUrl(url)}: ${errorLine(e)}`);
  } finally {
    await c.end().catch(() => undefined);
  }
  return new CentralReader(url);
}

export async function startConsole(s: ConsoleSettings, opts: StartOptions = {}): Promise<StartedConsole> {
  if (!existsSync(s.store)) throw new ConsoleStartError(`${s.store}: no store there (honeywall import CAPTURE --db FILE makes one)`);
  let db;
  try {
    db = openStore(s.store);
  } catch (e) {
    if (e instanceof StoreError) throw new ConsoleStartError(e.message);
    throw e;
  }
  try {
    const users = (db.prepare('SELECT COUNT(*) AS n FROM users WHERE disabled = 0').get() as { n: number }).n;
    let tls: { cert: Buffer; key: Buffer } | undefined;
    let note = '';
    if (!opts.insecureHttp) {
      try {
        const t = loadTls({ cert: s.tlsCert, key: s.tlsKey, store: s.store, host: s.listen.host });
        tls = t;
        note = ` (${t.generated ? 'a self-signed certificate made now, ' : ''}${t.certFile}, SHA-256 ${t.fingerprint})`;
      } catch (e) {
        if (e instanceof TlsError) throw new ConsoleStartError(e.message);
        throw e;
      }
    }
    const reader = opts.storeUrl === undefined ? undefined : await openCentral(opts.storeUrl);
    let app;
    try {
      app = await buildConsole({ db, reader, tls, captureDir: opts.captureDir, gateways: s.gateways, fetchLimits: { maxBytes: s.pcapMax } });
    } catch (e) {
      await reader?.close();
      if (e instanceof StaticError) throw new ConsoleStartError(e.message);
      throw e;
    }
    try {
      await app.listen({ host: s.listen.host, port: s.listen.port });
    } catch (e) {
      await app.close().catch(() => undefined);
      await reader?.close();
      throw new ConsoleStartError(`cannot listen on ${s.listen.host}:${s.listen.port}: ${(e as Error).message}`);
    }
    const host = s.listen.host.includes(':') ? `[${s.listen.host}]` : s.listen.host;
    const port = (app.server.address() as { port: number }).port;
    const opened = db;
    return {
      url: `${tls ? 'https' : 'http'}://${host}:${port}/`,
      note,
      users,
      close: async () => {
        await app.close();
        await reader?.close();
        opened.close();
      },
    };
  } catch (e) {
    if (db.open) db.close();
    throw e;
  }
}
