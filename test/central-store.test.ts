/**
 * The central PostgreSQL store (issue 16) against a real PostgreSQL 15: a throwaway cluster (test/helpers/postgres.ts:
 * Debian's postgresql, run as the postgres user when the tests run as root), one database per test. Skipped, saying
 * why, where the binaries are absent.
 *
 * Schema creation and migration; a store shipped twice (and its marks reset: everything sent again) gives each
 * record once; a flow updated after it was shipped is updated centrally; PostgreSQL stopped mid-ship and started
 * again: everything arrives exactly once; retention drops old day partitions; hostile fields arrive intact or
 * bounded, never as SQL; a sensor name fed by another spool is refused. The spool's bound (src/store/spool.ts): over it
 * with everything shipped, only shipped rows go (the central store keeps them); with PostgreSQL down, the oldest
 * unshipped rows are dropped, counted and reported, and the rest arrive once when it is back, nothing counted missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitions, DAY_S, partitionName } from '../src/store/central/partitions.js';
import { CENTRAL_MIGRATIONS, CENTRAL_SCHEMA_VERSION, centralVersion, migrateCentral } from '../src/store/central/schema.js';
import { CentralReader } from '../src/store/central/reader.js';
import { MAX_TEXT, Shipper } from '../src/store/central/ship.js';
import { listFlows, timeline, type Bucket } from '../src/store/query.js';
import { SHIPPED_TABLES, shippedTable } from '../src/store/central/tables.js';
import { openStore } from '../src/store/db.js';
import { SpoolBound } from '../src/store/spool.js';
import { StoreWriter, type FirewallEvent, type FlowMeta } from '../src/store/writer.js';
import { makeConsoleStore } from './helpers/console-store.js';
import { postgresMissing, startCluster, type PgCluster } from './helpers/postgres.js';
import { alertEvent, firewallEvent, flowRecord } from './helpers/store.js';

const missing = postgresMissing();
if (missing !== undefined) console.warn(`[central store tests] skipped: ${missing}`);

const meta: FlowMeta = { honeypot: '10.0.0.5', direction: 'inbound', sensor: 'local', captureId: null };
type Db = ReturnType<typeof openStore>;
const count = (db: Db, table: string) => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
const ids = (db: Db, table: string) => db.prepare(`SELECT id FROM ${table} ORDER BY id`).pluck().all() as number[];
/** A firewall line (a long one, so that a few thousand fill a bound of a few MB). */
const firewallLine = (tsUs: number, i: number): FirewallEvent =>
  firewallEvent({ tsUs, srcPort: 4000 + (i % 1000), line: `line ${i} ${'x'.repeat(300)}` });

describe.skipIf(missing !== undefined)('central store (PostgreSQL)', () => {
  let cluster: PgCluster;
  let dir: string;
  let dbs = 0;
  const clients: pg.Client[] = [];
  /** A new database and a client on it. */
  const database = async (): Promise<{ url: string; c: pg.Client }> => {
    const url = cluster.createDatabase(`t${++dbs}`);
    const c = new pg.Client(url);
    c.on('error', () => undefined); // the outage test stops the server under every client
    await c.connect();
    clients.push(c);
    return { url, c };
  };
  const central = async (c: pg.Client, sql: string, args: unknown[] = []) => (await c.query(sql, args)).rows;
  const centralCount = async (c: pg.Client, table: string) => Number((await central(c, `SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  beforeAll(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-central-'));
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    cluster?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the schema once: partitioned tables with their keys and indexes; a later migration applies over it; a newer database is refused', async () => {
    const { c } = await database();
    expect(await centralVersion(c)).toBe(0);
    expect(await migrateCentral(c, CENTRAL_MIGRATIONS.slice(0, 1))).toBe(1);
    // every shipped table is partitioned by range on its time column, with a default partition
    const parted = await central(
      c,
      `SELECT c.relname, p.partstrat, a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] ORDER BY c.relname`,
    );
    expect(parted).toEqual(
      SHIPPED_TABLES.map((t) => ({ relname: t.name, partstrat: 'r', attname: t.time })).sort((a, b) => (a.relname < b.relname ? -1 : 1)),
    );
    for (const t of SHIPPED_TABLES) {
      const ix = await central(c, 'SELECT indexname FROM pg_indexes WHERE tablename = $1', [t.name]);
      expect(ix.map((r) => r.indexname).sort()).toEqual([`${t.name}_pkey`, ...t.indexes.map((i) => `${t.name}_${i.join('_')}`)].sort());
      expect(await central(c, 'SELECT to_regclass($1)::text AS r', [`${t.name}_default`])).toEqual([{ r: `${t.name}_default` }]);
    }
    // again: nothing applied twice
    expect(await migrateCentral(c)).toBe(CENTRAL_SCHEMA_VERSION);
    expect(await centralCount(c, 'central_schema_version')).toBe(CENTRAL_SCHEMA_VERSION);
    // a later migration (as the next release would add) applies over the database, once
    const next = [...CENTRAL_MIGRATIONS, { version: CENTRAL_SCHEMA_VERSION + 1, name: 'test', sql: () => 'ALTER TABLE flows ADD COLUMN note text' }];
    expect(await migrateCentral(c, next)).toBe(CENTRAL_SCHEMA_VERSION + 1);
    expect(await central(c, "SELECT 1 AS x FROM information_schema.columns WHERE table_name = 'flows_default' AND column_name = 'note'")).toEqual([
      { x: 1 },
    ]);
    // a database newer than this program: refused, untouched
    await expect(migrateCentral(c)).rejects.toThrow(`central schema version ${CENTRAL_SCHEMA_VERSION + 1} is newer than this honeywall's`);
  });

  it('a store shipped twice, and with its marks reset, holds each record once; `honeywall ship` reports and exits 0', async () => {
    const { url, c } = await database();
    const store = await makeConsoleStore(mkdtempSync(path.join(dir, 'ship-')), { account: false });
    const { main } = await import('../src/cli/main.js');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code1: number;
    let code2: number;
    try {
      code1 = await main(['node', 'honeywall', 'ship', '--db', store.db, '--store-url', url, '--sensor', 'site-a']);
      code2 = await main(['node', 'honeywall', 'ship', '--db', store.db, '--store-url', url, '--sensor', 'site-a']);
    } finally {
      process.stdout.write = write;
    }
    expect([code1, code2]).toEqual([0, 0]);
    expect(out[0]).toMatch(/^shipped \d+ rows \(.*flows.*\) to postgres:\/\/postgres@127\.0\.0\.1:\d+\/t\d+ as sensor site-a/);
    expect(out[1]).toMatch(/^shipped 0 rows \(nothing new\)/);
    const db = openStore(store.db);
    try {
      for (const t of SHIPPED_TABLES) expect(await centralCount(c, t.name), t.name).toBe(count(db, t.name));
      expect(count(db, 'keystroke_lines')).toBeGreaterThan(0);
      expect(count(db, 'records')).toBeGreaterThan(0);
      // everything again, from mark 0: ON CONFLICT keeps one row per record
      db.exec('UPDATE ship_state SET hwm = 0');
      const s = new Shipper(db, { url, sensor: 'site-a' });
      await s.drain();
      await s.stop();
      expect(Object.values(s.stats.shipped).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      for (const t of SHIPPED_TABLES) {
        expect(await centralCount(c, t.name), t.name).toBe(count(db, t.name));
        const key = ['sensor', ...t.key].join(', ');
        expect(Number((await central(c, `SELECT COUNT(DISTINCT (${key})) AS n FROM ${t.name}`))[0].n)).toBe(count(db, t.name));
      }
      // the rows are the store's: keystroke lines (the hostile ones too) and Sebek record bytes as they are
      const lines = db.prepare('SELECT id, line FROM keystroke_lines ORDER BY id').all();
      expect(await central(c, "SELECT id::int AS id, line FROM keystroke_lines WHERE sensor = 'site-a' ORDER BY id")).toEqual(lines);
      const rec = db.prepare('SELECT id, data FROM records ORDER BY id DESC LIMIT 1').get() as { id: number; data: Buffer };
      const [crec] = await central(c, 'SELECT data FROM records WHERE id = $1', [rec.id]);
      expect(Buffer.compare(crec.data, rec.data)).toBe(0);
    } finally {
      db.close();
    }
  });

  it('a flow updated after it was shipped is updated centrally (counts, state, end, alert count)', async () => {
    const { url, c } = await database();
    const db = openStore(':memory:');
    const w = new StoreWriter(db);
    const open = flowRecord({ id: 77, state: 'established', reason: undefined, pktsToServer: 1, bytesToServer: 60, endSec: 1_700_000_000 });
    const row = w.flowStarted(open, meta);
    w.flush();
    const s = new Shipper(db, { url, sensor: 'gw1' });
    await s.drain();
    expect(await central(c, 'SELECT state, reason, pkts_toserver::int AS p, alerts::int AS a FROM flows WHERE id = $1', [row])).toEqual([
      { state: 'established', reason: null, p: 1, a: 0 },
    ]);
    w.alert(alertEvent(), row, meta);
    w.flowEnded(row, flowRecord({ id: 77, state: 'closed', reason: 'timeout', pktsToServer: 9, bytesToServer: 900 }), meta);
    w.flush();
    await s.drain();
    await s.stop();
    expect(
      await central(c, 'SELECT state, reason, pkts_toserver::int AS p, bytes_toserver::int AS b, alerts::int AS a FROM flows WHERE id = $1', [row]),
    ).toEqual([{ state: 'closed', reason: 'timeout', p: 9, b: 900, a: 1 }]);
    expect(await centralCount(c, 'flows')).toBe(1);
    expect(await centralCount(c, 'alerts')).toBe(1);
    // an older version of the row sent again (a batch retried late) never overwrites the newer one
    const older = db.prepare('SELECT seq FROM flows WHERE id = ?').pluck().get(row) as number;
    await c.query("UPDATE flows SET seq = seq + 1000, state = 'newer' WHERE id = $1", [row]);
    db.exec('UPDATE ship_state SET hwm = 0');
    const again = new Shipper(db, { url, sensor: 'gw1' });
    await again.drain();
    await again.stop();
    expect(await central(c, 'SELECT state, seq::int AS seq FROM flows WHERE id = $1', [row])).toEqual([{ state: 'newer', seq: older + 1000 }]);
    db.close();
  });

  it('PostgreSQL stopped mid-ship and started again: every record arrives exactly once, the outage counted and the lag reported', async () => {
    const { url, c } = await database();
    const file = path.join(dir, 'outage.sqlite');
    const db = openStore(file);
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const base = Math.floor(Date.now() / 1000) - 3600;
    const add = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const r = w.flowStarted(flowRecord({ id: i, startSec: base + i, endSec: base + i + 1 }), meta);
        w.alert(alertEvent({ tsSec: base + i, sid: 1000 + (i % 7) }), r, meta);
        if (i % 3 === 0) w.flowEnded(r, flowRecord({ id: i, startSec: base + i, endSec: base + i + 5, pktsToServer: 40 }), meta);
      }
      w.flush();
    };
    add(0, 6000);
    const logs: string[] = [];
    const s = new Shipper(db, { url, sensor: 'gw-outage', batch: 300, idleMs: 20, minBackoffMs: 50, maxBackoffMs: 400, log: (l) => logs.push(l) });
    s.start();
    // wait for the first rows to arrive, then take PostgreSQL down under the shipper
    for (let i = 0; i < 600 && (await centralCount(c, 'alerts').catch(() => 0)) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await c.end();
    clients.splice(clients.indexOf(c), 1);
    cluster.stop();
    add(6000, 3000); // the gateway goes on writing its spool meanwhile
    await new Promise((r) => setTimeout(r, 800));
    expect(s.stats.connected || s.stats.lastError !== undefined).toBe(true);
    expect(s.lag().records).toBeGreaterThan(0);
    cluster.start();
    for (let i = 0; i < 3000 && s.lag().records > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(s.lag()).toEqual({ records: 0, seconds: 0 });
    expect(s.stats.outages).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => /retrying, records wait in the spool/.test(l))).toBe(true);
    expect(logs.some((l) => /shipping again after/.test(l))).toBe(true);
    const c2 = new pg.Client(url);
    c2.on('error', () => undefined);
    await c2.connect();
    clients.push(c2);
    for (const t of ['flows', 'alerts']) {
      expect(await centralCount(c2, t), t).toBe(count(db, t));
      expect(Number((await central(c2, `SELECT COUNT(DISTINCT id) AS n FROM ${t}`))[0].n)).toBe(count(db, t));
    }
    // ended flows arrived in their final state
    const ended = db.prepare('SELECT COUNT(*) FROM flows WHERE reason IS NOT NULL').pluck().get() as number;
    expect(Number((await central(c2, 'SELECT COUNT(*) AS n FROM flows WHERE reason IS NOT NULL'))[0].n)).toBe(ended);
    expect(ended).toBe(3000);
    db.close();
  });

  it('retention drops whole day partitions older than the keep days; out-of-window days go to the default partition, counted', async () => {
    const { url, c } = await database();
    const db = openStore(':memory:');
    const w = new StoreWriter(db);
    const now = Date.UTC(2026, 5, 15, 12) as number;
    const today = Math.floor(now / 1000 / DAY_S);
    for (let d = 0; d < 10; d++) {
      const sec = (today - d) * DAY_S + 3600;
      w.alert(alertEvent({ tsSec: sec }), null, meta);
    }
    w.alert(alertEvent({ tsSec: (today + 400) * DAY_S }), null, meta); // a clock a year ahead
    w.flush();
    const s = new Shipper(db, { url, sensor: 'gw-ret', keepDays: 30, now: () => now });
    await s.drain();
    await s.stop();
    const alerts = shippedTable('alerts');
    for (let d = 0; d < 10; d++) {
      expect(await central(c, 'SELECT to_regclass($1)::text AS r', [partitionName(alerts, today - d)])).toEqual([
        { r: partitionName(alerts, today - d) },
      ]);
    }
    expect(s.stats.partitions?.defaulted).toBe(1);
    expect(await centralCount(c, 'alerts_default')).toBe(1);
    expect(await centralCount(c, 'alerts')).toBe(11);
    // keep 3 days: today and the 3 before stay, the rest go as whole partitions
    const p = new Partitions(3, () => now);
    const dropped = await p.dropOld(c);
    expect(dropped).toBeGreaterThanOrEqual(6);
    expect(await centralCount(c, 'alerts')).toBe(5);
    expect(await central(c, 'SELECT to_regclass($1) AS r', [partitionName(alerts, today - 4)])).toEqual([{ r: null }]);
    expect(await central(c, 'SELECT to_regclass($1)::text AS r', [partitionName(alerts, today - 3)])).toEqual([
      { r: partitionName(alerts, today - 3) },
    ]);
    db.close();
  });

  it('hostile fields (quotes, NUL, invalid UTF-8, huge strings) arrive intact or bounded, never as SQL', async () => {
    const { url, c } = await database();
    const db = openStore(':memory:');
    const w = new StoreWriter(db);
    const sqlish = `x'); DROP TABLE flows; -- "quoted" \\ $1 $$ E'\\x00'`;
    const huge = 'A'.repeat(MAX_TEXT * 3);
    w.alert(alertEvent({ msg: sqlish }), null, meta);
    w.alert(alertEvent({ msg: `nul\0inside` }), null, meta);
    w.alert(alertEvent({ msg: huge }), null, meta);
    w.alert(alertEvent({ msg: 'lone \ud800 surrogate' }), null, meta);
    w.flush();
    // invalid UTF-8 in a TEXT column (bytes a reader stored without decoding), and a NUL byte in a blob
    db.prepare(
      `INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated)
      VALUES ('10.0.0.5', 1, 0, 0, 'sh', ?, 0, CAST(x'41ff fe42' AS TEXT), 1)`.replace("x'41ff fe42'", "x'41fffe42'"),
    ).run(1_700_000_000);
    db.prepare(`INSERT INTO records (client, cap_sec, cap_usec, magic, version, type, type_name, counter, time_sec, time_usec, usec_swapped, ppid,
      pid, uid, fd, inode, com, length, data) VALUES ('10.0.0.5', ?, 0, 1, 3, 0, 'read', 1, 0, 0, 0, 1, 2, 0, 0, 0, 'sh', 3, x'00ff27')`).run(
      1_700_000_000,
    );
    const s = new Shipper(db, { url, sensor: `gw'; --` });
    await s.drain();
    await s.stop();
    const msgs = (await central(c, 'SELECT msg FROM alerts ORDER BY id')).map((r) => r.msg as string);
    expect(msgs[0]).toBe(sqlish);
    expect(msgs[1]).toBe('nul\\x00inside');
    expect(msgs[2]).toBe(`${'A'.repeat(MAX_TEXT)}...[${MAX_TEXT * 2} more characters]`);
    // as the local store reads it back (SQLite keeps the surrogate's bytes; they decode as replacement characters)
    expect(msgs[3]).toBe(db.prepare('SELECT msg FROM alerts WHERE id = 4').pluck().get());
    expect(msgs[3]).toMatch(/^lone \ufffd+ surrogate$/);
    expect(s.stats.truncated).toBe(1);
    expect(s.stats.rejected).toBe(0);
    expect(await central(c, 'SELECT line FROM keystroke_lines')).toEqual([{ line: 'A\ufffd\ufffdB' }]);
    const [r] = await central(c, 'SELECT data, sensor FROM records');
    expect([...r.data]).toEqual([0x00, 0xff, 0x27]);
    expect(r.sensor).toBe(`gw'; --`);
    expect(await centralCount(c, 'flows')).toBe(0); // the table is still there
    db.close();
  });

  it("the gateway's store worker ships as it writes (dist/): the lag in its status, an outage waited out, a restart resumes from the marks", async () => {
    // the worker thread runs from dist/ (npm test builds it first)
    const { StoreFeed } = await import('../dist/runtime/store-feed.js');
    const { url, c } = await database();
    const file = path.join(dir, 'gateway.sqlite');
    const logs: string[] = [];
    const feed = () =>
      new StoreFeed(
        {
          store: file,
          honeypots: '10.0.0.0/8',
          live: { dir: undefined, sensor: 'gw-live', since: Date.now(), alertWaitMs: 0 },
          flushMs: 20,
          pollMs: 20,
          central: { url, sensor: 'gw-live', keepDays: 0 },
        },
        (l: string) => logs.push(l),
      );
    type Status = ReturnType<InstanceType<typeof StoreFeed>['status']>;
    const until = async (f: InstanceType<typeof StoreFeed>, ok: (s: Status) => boolean): Promise<Status> => {
      for (let i = 0; i < 1500; i++) {
        await f.refresh();
        const st = f.status();
        if (ok(st)) return st;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`not reached: ${JSON.stringify(f.status().worker?.central)}`);
    };
    const now = Math.floor(Date.now() / 1000);
    const alerts = (from: number, n: number) => Array.from({ length: n }, (_, i) => alertEvent({ tsSec: now, tsUsec: from + i, sid: from + i }));
    const f1 = feed();
    await f1.start();
    f1.alerts(alerts(0, 500));
    let st = await until(f1, (x) => x.worker?.central?.shipped.alerts === 500 && x.worker.central.behindRecords === 0);
    expect(st.worker?.central).toMatchObject({ connected: true, sensor: 'gw-live', behindSeconds: 0, url });
    // PostgreSQL down: the gateway keeps writing its spool, the status shows the lag
    cluster.stop();
    f1.alerts(alerts(500, 700));
    st = await until(f1, (x) => (x.worker?.central?.behindRecords ?? 0) === 700 && x.worker?.central?.outages === 1);
    expect(st.worker?.central?.lastError).toBeDefined();
    cluster.start();
    await until(f1, (x) => x.worker?.central?.behindRecords === 0);
    expect(logs.some((l) => /central store postgres:\/\/postgres@127\.0\.0\.1:\d+\/t\d+: .*retrying/.test(l))).toBe(true);
    await f1.stop();
    // the gateway restarted: it resumes from the marks in the store
    const f2 = feed();
    await f2.start();
    f2.alerts(alerts(1200, 300));
    st = await until(f2, (x) => x.worker?.central?.shipped.alerts === 300 && x.worker.central.behindRecords === 0);
    await f2.stop();
    const c2 = new pg.Client(url);
    c2.on('error', () => undefined);
    await c2.connect();
    clients.push(c2);
    expect(await centralCount(c2, 'alerts')).toBe(1500);
    expect(Number((await central(c2, 'SELECT COUNT(DISTINCT sid) AS n FROM alerts'))[0].n)).toBe(1500);
    void c;
  });

  it("the central connection list and timeline filter by sensor and agree with each gateway's own store", async () => {
    const { url, c } = await database();
    const base = 1_760_000_000;
    const make = (sensor: string, n: number) => {
      const db = openStore(':memory:');
      const w = new StoreWriter(db);
      for (let i = 0; i < n; i++) {
        const honeypot = `10.0.0.${1 + (i % 3)}`;
        const m: FlowMeta = { honeypot, direction: i % 4 === 0 ? 'outbound' : 'inbound', sensor, captureId: null };
        const rec = flowRecord({ id: i, startSec: base + i * 37, endSec: base + i * 37 + 2, bytesToServer: 100 + i, bytesToClient: 7 * i });
        const row = w.flowStarted(rec, m);
        w.flowEnded(row, rec, m);
        if (i % 5 === 0) w.alert(alertEvent({ tsSec: base + i * 37 + 1 }), row, { honeypot, sensor, captureId: null });
      }
      w.flush();
      return db;
    };
    const a = make('site-a', 250);
    const b = make('site-b', 120);
    for (const [db, sensor] of [
      [a, 'site-a'],
      [b, 'site-b'],
    ] as const) {
      const s = new Shipper(db, { url, sensor });
      await s.drain();
      await s.stop();
    }
    // site-a's list, paged by 40: the same rows in the same order as its own store's list
    const reader = new CentralReader(url);
    const ids: number[] = [];
    let after: string | undefined;
    for (let i = 0; i < 20; i++) {
      const p = await reader.listFlows({ sensor: 'site-a', honeypot: '10.0.0.2' }, { limit: 40, after });
      for (const r of p.rows) expect(r.sensor).toBe('site-a');
      ids.push(...p.rows.map((r) => r.id));
      after = p.next;
      if (after === undefined) break;
    }
    const local = listFlows(a, { honeypot: '10.0.0.2' }, { limit: 1000 }).rows.map((r) => r.id);
    expect(ids).toEqual(local);
    // every sensor, paged by 7: each row once (ids repeat across sensors: the cursor carries the sensor)
    const all: string[] = [];
    after = undefined;
    for (let i = 0; i < 100; i++) {
      const p = await reader.listFlows({}, { limit: 7, after });
      all.push(...p.rows.map((r) => `${(r as { sensor: string }).sensor}/${r.id}`));
      after = p.next;
      if (after === undefined) break;
    }
    expect(all.length).toBe(370);
    expect(new Set(all).size).toBe(370);
    // the timeline of one honeypot of site-b: what site-b's own store counts (flows and alerts per bucket)
    const q = { from: base * 1e6, to: (base + 120 * 37 + 60) * 1e6, bucket: 600, honeypot: '10.0.0.3' };
    const central = (await reader.timeline({ ...q, sensor: 'site-b' })).buckets;
    await reader.close();
    const pick = (x: Bucket) => ({
      t: x.t,
      flows_in: x.flows_in,
      flows_out: x.flows_out,
      flows_other: x.flows_other,
      bytes_in: x.bytes_in,
      bytes_out: x.bytes_out,
      alerts: x.alerts,
    });
    const own = timeline(b, q).buckets.map(pick);
    expect(own.length).toBeGreaterThan(3);
    expect(central.map(pick)).toEqual(own);
    a.close();
    b.close();
  });

  it('three gateways shipping at once into a new database: migrated once, partitions made once, every record of each once', async () => {
    const { url, c } = await database();
    const now = Math.floor(Date.now() / 1000);
    const spools = [1, 2, 3].map((g) => {
      const db = openStore(':memory:');
      const w = new StoreWriter(db, { maxQueue: 100_000 });
      for (let i = 0; i < 1500; i++) {
        // each gateway's records over the same 10 days: the three race to make the same partitions
        const t = now - (i % 10) * 86_400;
        const row = w.flowStarted(flowRecord({ id: i, startSec: t, endSec: t + 1 }), meta);
        w.alert(alertEvent({ tsSec: t, sid: g }), row, meta);
      }
      w.flush();
      return db;
    });
    const shippers = spools.map((db, i) => new Shipper(db, { url, sensor: `gw-${i + 1}`, batch: 200 }));
    await Promise.all(shippers.map((s) => s.drain()));
    await Promise.all(shippers.map((s) => s.stop()));
    expect(await central(c, 'SELECT version FROM central_schema_version')).toEqual([{ version: CENTRAL_SCHEMA_VERSION }]);
    for (const t of ['flows', 'alerts']) {
      expect(await central(c, `SELECT sensor, COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS d FROM ${t} GROUP BY sensor ORDER BY sensor`)).toEqual(
        [1, 2, 3].map((g) => ({ sensor: `gw-${g}`, n: 1500, d: 1500 })),
      );
    }
    expect(await centralCount(c, 'alerts_default')).toBe(0);
    expect(shippers.reduce((n, s) => n + (s.stats.partitions?.created ?? 0), 0)).toBeGreaterThanOrEqual(10);
    for (const db of spools) db.close();
  });

  it('the spool over its bound with everything shipped: the oldest shipped rows go, the unshipped stay, the central store keeps them all', async () => {
    const { url, c } = await database();
    const db = openStore(path.join(dir, 'bound-shipped.sqlite'));
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const base = Math.floor(Date.now() / 1000) - 7200;
    const add = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        const rec = flowRecord({ id: i, startSec: base + i, endSec: base + i + 1 });
        const r = w.flowStarted(rec, meta);
        w.alert(alertEvent({ tsSec: base + i, sid: i, msg: 'm'.repeat(200) }), r, meta);
        w.flowEnded(r, rec, meta);
        w.firewall(firewallLine((base + i) * 1e6, i));
      }
      w.flush(true);
    };
    add(0, 3000);
    const s = new Shipper(db, { url, sensor: 'gw-bound' });
    await s.drain();
    add(3000, 1000); // not shipped yet
    const unshipped = { flows: ids(db, 'flows').slice(3000), alerts: ids(db, 'alerts').slice(3000) };
    const logs: string[] = [];
    const size = new SpoolBound(db, { maxBytes: 1, keepDays: 0 }).inUse();
    // half of what is in use: more than the unshipped quarter, less than the shipped three quarters
    const bound = new SpoolBound(db, { maxBytes: Math.round(size / 2), keepDays: 0, log: (l) => logs.push(l) }, s);
    for (let k = 0; k < 1000 && bound.sweep(); k++);
    expect(bound.inUse()).toBeLessThanOrEqual(Math.round(size / 2));
    expect(bound.stats.deleted.flows).toBeGreaterThan(1000);
    expect(Object.values(bound.stats.dropped).every((n) => n === 0)).toBe(true);
    expect(logs).toEqual([]);
    // the oldest went: what is left is a contiguous run of the newest, the unshipped ones all there
    const left = ids(db, 'flows');
    expect(left[left.length - 1]! - left[0]! + 1).toBe(left.length);
    expect(left.slice(-1000)).toEqual(unshipped.flows);
    expect(ids(db, 'alerts').slice(-1000)).toEqual(unshipped.alerts);
    for (const t of ['flows', 'alerts', 'firewall_events']) expect(count(db, t) + bound.stats.deleted[t]!, t).toBe(4000);
    // the central store still has every shipped row, and gets the rest, none counted missing
    await s.drain();
    await s.stop();
    expect(s.stats.missing).toBe(0);
    for (const t of ['flows', 'alerts', 'firewall_events']) {
      expect(await centralCount(c, t), t).toBe(4000);
      expect(Number((await central(c, `SELECT COUNT(DISTINCT id) AS n FROM ${t}`))[0].n), t).toBe(4000);
    }
    db.close();
  });

  it('`honeywall ship --store-keep-days`: everything shipped, then the rows older than the keep days deleted from the store; the central store keeps them', async () => {
    const { url, c } = await database();
    const file = path.join(dir, 'ship-keep.sqlite');
    const db = openStore(file);
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const nowS = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 300; i++) {
      const t = i < 200 ? nowS - 40 * 86_400 + i : nowS - 3600 + i; // 200 rows 40 days old, 100 of the last hour
      const rec = flowRecord({ id: i, startSec: t, endSec: t + 1 });
      const r = w.flowStarted(rec, meta);
      w.alert(alertEvent({ tsSec: t, sid: i }), r, meta);
      w.flowEnded(r, rec, meta);
      w.firewall(firewallLine(t * 1e6, i));
    }
    w.flush(true);
    db.close();
    const { main } = await import('../src/cli/main.js');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'honeywall', 'ship', '--db', file, '--store-url', url, '--sensor', 'gw-keep', '--store-keep-days', '30']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(out[0]).toMatch(/; 600 shipped rows deleted from the store \([\d.]+ MB in use\)\n$/);
    const again = openStore(file);
    for (const t of ['flows', 'alerts', 'firewall_events']) {
      expect(count(again, t), t).toBe(100);
      expect(await centralCount(c, t), t).toBe(300);
    }
    expect(ids(again, 'flows')[0]).toBe(201);
    again.close();
  });

  it("PostgreSQL down and the bound reached, in the gateway's store worker (dist/): the oldest unshipped rows dropped, counted per table in the status, logged once; back up, every row left arrives once, none missing", async () => {
    const { StoreFeed } = await import('../dist/runtime/store-feed.js');
    const { url, c } = await database();
    const file = path.join(dir, 'bound-drops.sqlite');
    const logs: string[] = [];
    const maxBytes = 2_000_000;
    const feed = new StoreFeed(
      {
        store: file,
        honeypots: '10.0.0.0/8',
        live: { dir: undefined, sensor: 'gw-drops', since: Date.now(), alertWaitMs: 0 },
        flushMs: 20,
        pollMs: 20,
        central: { url, sensor: 'gw-drops', keepDays: 0 },
        spool: { maxBytes, keepDays: 0, sweepMs: 20 },
      },
      (l: string) => logs.push(l),
    );
    type Status = ReturnType<InstanceType<typeof StoreFeed>['status']>;
    const until = async (ok: (s: Status) => boolean): Promise<Status> => {
      for (let i = 0; i < 3000; i++) {
        await feed.refresh();
        const st = feed.status();
        if (ok(st)) return st;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`not reached: ${JSON.stringify(feed.status().worker?.spool)} ${JSON.stringify(feed.status().worker?.central)}`);
    };
    const now = Math.floor(Date.now() / 1000);
    let sent = 0;
    const send = (n: number) => {
      const from = sent;
      feed.alerts(Array.from({ length: n }, (_, i) => alertEvent({ tsSec: now, tsUsec: from + i, sid: from + i, msg: 'm'.repeat(300) })));
      feed.firewall(Array.from({ length: n }, (_, i) => firewallLine(now * 1e6 + from + i, from + i)));
      sent += n;
    };
    await feed.start();
    send(500);
    await until(
      (x) => x.worker?.central?.shipped.alerts === 500 && x.worker.central.shipped.firewall_events === 500 && x.worker.central.behindRecords === 0,
    );
    // the central store away; the gateway writes on, past the bound (started again whatever happens, for the tests after)
    const ROUNDS = 12;
    cluster.stop();
    let st: Status;
    try {
      for (let k = 0; k < ROUNDS; k++) {
        send(1000);
        await until((x) => x.worker?.writer.written === 2 * sent && x.worker.depth === 0);
      }
      st = await until(
        (x) =>
          (x.worker?.spool?.dropped.alerts ?? 0) > 0 &&
          (x.worker?.spool?.dropped.firewall_events ?? 0) > 0 &&
          (x.worker?.spool?.bytes ?? Infinity) <= maxBytes,
      );
    } finally {
      cluster.start();
    }
    const sp = st.worker!.spool!;
    expect(sp.bound).toBe(maxBytes);
    expect(sp.lastDropAt).toBeDefined();
    // only the 500 shipped ones were deleted as shipped: everything else that went was dropped
    expect(sp.deleted.alerts).toBe(500);
    expect(sp.deleted.firewall_events).toBe(500);
    const end = await until((x) => x.worker?.central?.connected === true && x.worker.central.behindRecords === 0);
    const dropped = end.worker!.spool!.dropped;
    await feed.stop();
    expect(end.worker?.central?.missing).toBe(0);
    // logged per episode, never per row: a line when dropping starts, one when the store is within its bound again
    // (an episode may end between two rounds of writes and another start with the next: at most one a round)
    const lines = logs.filter((l) => /dropping the oldest unshipped rows|within its bound again/.test(l));
    const starts = lines.filter((l) => /spool reached its bound .* dropping the oldest unshipped rows \((alerts|firewall_events) \d+/.test(l));
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeLessThanOrEqual(ROUNDS);
    lines.forEach((l, i) => expect(/dropping the oldest/.test(l), `line ${i}: ${l}`).toBe(i % 2 === 0));
    // every row still in the spool is in the central store once; what is not there is exactly what was dropped
    const db = openStore(file);
    const c2 = new pg.Client(url);
    c2.on('error', () => undefined);
    await c2.connect();
    clients.push(c2);
    for (const t of ['alerts', 'firewall_events']) {
      const local = ids(db, t);
      const rows = (await central(c2, `SELECT id::int AS id FROM ${t} ORDER BY id`)).map((r) => r.id as number);
      expect(new Set(rows).size, t).toBe(rows.length);
      expect(rows.slice(-local.length), t).toEqual(local);
      expect(rows.length, t).toBe(sent - dropped[t]!);
      // the dropped rows were the oldest unshipped ones: ids 501 .. 500 + dropped are the ones absent
      expect(rows.slice(0, 500), t).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      expect(rows[500], t).toBe(501 + dropped[t]!);
      expect(db.prepare('SELECT hwm FROM ship_state WHERE tbl = ?').pluck().get(t), t).toBe(sent);
    }
    db.close();
    void c;
  });

  it('`honeywall ship` to an unreachable central store: exit 2, the error without the password, the marks unmoved', async () => {
    const db = openStore(path.join(dir, 'unreachable.sqlite'));
    const w = new StoreWriter(db);
    w.alert(alertEvent(), null, meta);
    w.flush();
    db.close();
    const { main } = await import('../src/cli/main.js');
    const errs: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      // a port nothing listens on (the cluster's, plus one)
      const url = `postgres://hw:s3cret@127.0.0.1:${cluster.port + 1}/x`;
      code = await main(['node', 'honeywall', 'ship', '--db', path.join(dir, 'unreachable.sqlite'), '--store-url', url, '--sensor', 'gw']);
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(2);
    expect(errs.join('')).toMatch(/central store postgres:\/\/hw:\*\*\*@127\.0\.0\.1:\d+\/x: .*ECONNREFUSED/);
    expect(errs.join('')).not.toContain('s3cret');
    const again = openStore(path.join(dir, 'unreachable.sqlite'));
    expect(again.prepare("SELECT hwm FROM ship_state WHERE tbl = 'alerts'").pluck().get()).toBe(0);
    again.close();
  });

  it('a sensor name already fed by another spool (another store file) is refused, nothing shipped', async () => {
    const { url, c } = await database();
    const a = openStore(':memory:');
    const b = openStore(':memory:');
    new StoreWriter(a).alert(alertEvent(), null, meta);
    const wb = new StoreWriter(b);
    wb.alert(alertEvent(), null, meta);
    wb.flush();
    const sa = new Shipper(a, { url, sensor: 'same' });
    await sa.drain();
    await sa.stop();
    const sb = new Shipper(b, { url, sensor: 'same' });
    await expect(sb.drain()).rejects.toThrow("sensor 'same' is fed by another spool");
    await sb.stop();
    expect(await centralCount(c, 'alerts')).toBe(0);
    a.close();
    b.close();
  });
});
