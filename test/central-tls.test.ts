/**
 * The central store over TLS (issue 16: the gateways ship "over the management network (TLS)"): a throwaway cluster
 * whose TCP listener admits TLS connections only (test/helpers/postgres.ts `tls`), and `honeywall ship` with
 * node-postgres's URL parameters. With `sslmode=verify-full` and the CA that signed the server's certificate every
 * record arrives and the session is encrypted; trusting another CA, or asking no TLS, ships nothing, exits 2 and says
 * why. Skipped, saying why, without PostgreSQL's binaries or openssl.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_TABLES } from '../src/store/central/tables.js';
import { openStore } from '../src/store/db.js';
import { makeConsoleStore } from './helpers/console-store.js';
import { postgresMissing, startCluster, type PgCluster, type PgTls } from './helpers/postgres.js';

const missing = postgresMissing() ?? (spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed');
if (missing !== undefined) console.warn(`[central TLS test] skipped: ${missing}`);

/** `honeywall ship` in process: its exit code and what it wrote to stdout and stderr. */
async function ship(db: string, url: string, sensor: string): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const wo = process.stdout.write.bind(process.stdout);
  const we = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'honeywall', 'ship', '--db', db, '--store-url', url, '--sensor', sensor]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = wo;
    process.stderr.write = we;
  }
}

describe.skipIf(missing !== undefined)('the central store over TLS', () => {
  let cluster: PgCluster & { tls: PgTls | undefined };
  let dir: string;
  beforeAll(async () => {
    cluster = await startCluster({ tls: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-central-tls-'));
  }, 120_000);
  afterAll(() => {
    cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships with sslmode=verify-full on an encrypted session; another CA or no TLS ships nothing and exits 2', async () => {
    const tls = cluster.tls!;
    const url = cluster.createDatabase('tls1');
    const store = await makeConsoleStore(mkdtempSync(path.join(dir, 'store-')), { account: false });
    const withCa = (ca: string) => `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

    // trusting a CA that signed nothing of the server's: the certificate is refused before anything is sent
    const wrong = await ship(store.db, withCa(tls.otherCa), 'site-tls');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/certificate/i);
    // no TLS asked: the server's pg_hba admits none without it
    const plain = await ship(store.db, url, 'site-tls');
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/no encryption|pg_hba/);

    const c = new pg.Client({ connectionString: withCa(tls.ca) });
    await c.connect();
    try {
      const nothing = await c.query("SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_name = 'flows'");
      expect(nothing.rows[0].n).toBe(0);
      const good = await ship(store.db, withCa(tls.ca), 'site-tls');
      expect(good.code, good.err).toBe(0);
      expect(good.out).toMatch(/^shipped \d+ rows/);
      // this session is encrypted, as the shipper's were (pg_hba admits no other over TCP)
      const ssl = await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(ssl.rows[0].ssl).toBe(true);
      const db = openStore(store.db);
      try {
        for (const t of SHIPPED_TABLES) {
          const local = db.prepare(`SELECT COUNT(*) FROM ${t.name}`).pluck().get() as number;
          const central = await c.query(`SELECT COUNT(*)::int AS n FROM ${t.name} WHERE sensor = 'site-tls'`);
          expect(central.rows[0].n, t.name).toBe(local);
        }
        expect(db.prepare('SELECT COUNT(*) FROM flows').pluck().get()).toBeGreaterThan(0);
      } finally {
        db.close();
      }
    } finally {
      await c.end();
    }
  }, 120_000);
});
