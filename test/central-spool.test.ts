/**
 * The SQLite side of shipping (schema.ts migration 4), without PostgreSQL: a store of version 3 with rows gets change
 * numbers for them and a spool id; every insert and update of a flow, a Sebek process or a socket moves its change
 * number above every other (what the shipper's high-water mark relies on), other writes leave them alone.
 * The spool's bound (src/store/spool.ts) against stand-in marks: the pages in use held under the bound while rows keep
 * coming, oldest first, whole flows; the keep days; shipped rows before unshipped ones, drops counted and the marks
 * moved past them. (With PostgreSQL: test/central-store.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/runtime/gateway-config.js';
import { migrate, openStore } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { SpoolBound, type SpoolMarks } from '../src/store/spool.js';
import { StoreWriter, type FlowMeta } from '../src/store/writer.js';
import { alertEvent, firewallEvent, flowRecord } from './helpers/store.js';

const meta: FlowMeta = { honeypot: '10.0.0.5', direction: 'inbound', sensor: 's', captureId: null };

describe('the spool (SQLite migration 4)', () => {
  it('numbers the rows of a version 3 store, and every later insert and update, per table; gives the file a random spool id', () => {
    const db = openStore(':memory:', { migrations: MIGRATIONS.slice(0, 3) });
    const w = new StoreWriter(db);
    const rows = [1, 2, 3].map((i) => w.flowStarted(flowRecord({ id: i }), meta));
    w.flush();
    db.exec(`INSERT INTO processes (client, pid, ppid, uid, com, coms, first_sec, last_sec, records, forks)
      VALUES ('10.0.0.5', 10, 1, 0, 'sh', '[]', 5, 5, 1, 0), ('10.0.0.5', 11, 1, 0, 'sh', '[]', 6, 6, 1, 0)`);
    migrate(db);
    const seqs = () => db.prepare('SELECT id, seq FROM flows ORDER BY id').all() as { id: number; seq: number }[];
    expect(seqs()).toEqual(rows.map((id) => ({ id, seq: id })));
    expect(db.prepare('SELECT pid, seq FROM processes ORDER BY pid').all()).toEqual([
      { pid: 10, seq: 1 },
      { pid: 11, seq: 2 },
    ]);
    const spool = db.prepare("SELECT v FROM ship_meta WHERE k = 'spool'").pluck().get() as string;
    expect(spool).toMatch(/^[0-9a-f]{32}$/);
    // an update of flow 1 (its end, an alert counted) moves it past the others; flow 2 is left alone
    const w2 = new StoreWriter(db);
    w2.flowEnded(rows[0]!, flowRecord({ id: 1, pktsToServer: 50 }), meta);
    w2.flush();
    expect(seqs()).toEqual([
      { id: 1, seq: 4 },
      { id: 2, seq: 2 },
      { id: 3, seq: 3 },
    ]);
    w2.alert(alertEvent(), rows[1]!, meta);
    w2.flush();
    expect(seqs()[1]).toEqual({ id: 2, seq: 5 });
    const n = w2.flowStarted(flowRecord({ id: 9 }), meta);
    w2.flush();
    expect(seqs().find((r) => r.id === n)!.seq).toBe(6);
    // processes count on their own
    db.exec('UPDATE processes SET records = 2 WHERE pid = 10');
    expect(db.prepare('SELECT pid, seq FROM processes ORDER BY pid').all()).toEqual([
      { pid: 10, seq: 3 },
      { pid: 11, seq: 2 },
    ]);
    // another store file has another spool id
    const other = openStore(':memory:');
    expect(other.prepare("SELECT v FROM ship_meta WHERE k = 'spool'").pluck().get()).not.toBe(spool);
    other.close();
    db.close();
  });
});

describe('the gateway settings of the central store', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-central-conf-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const conf = (name: string, text: string) => {
    const f = path.join(tmp, name);
    writeFileSync(f, `HwCAPTURE=no\nHwQUEUE=no\nHwHOSTNAME=gw-host\n${text}`);
    return loadGatewayConfig(f);
  };

  it('HwSTORE_URL with HwSTORE: shipped as HwSENSOR (default HwHOSTNAME) with the central retention', () => {
    const a = conf('a.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgres://hw:secret@db.example:5432/honeywall?sslmode=verify-full\n');
    expect(a.errors).toEqual([]);
    expect(a.config?.store?.central).toEqual({
      url: 'postgres://hw:secret@db.example:5432/honeywall?sslmode=verify-full',
      sensor: 'gw-host',
      keepDays: 0,
    });
    const b = conf('b.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgresql://db/h\nHwSENSOR=site-2\nHwSTORE_RETENTION_DAYS=60\n');
    expect(b.config?.store?.central).toEqual({ url: 'postgresql://db/h', sensor: 'site-2', keepDays: 60 });
    expect(conf('c.conf', 'HwSTORE=/tmp/x.sqlite\n').config?.store?.central).toBeUndefined();
  });

  it('the local bound: HwSTORE_MAX_GB (bytes of pages in use) and HwSTORE_KEEP_DAYS, with or without HwSTORE_URL; bad values refused at their line', () => {
    expect(conf('g.conf', 'HwSTORE=/tmp/x.sqlite\n').config?.store?.spool).toEqual({ maxBytes: 0, keepDays: 0 });
    expect(conf('h.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_MAX_GB=2.5\nHwSTORE_KEEP_DAYS=14\n').config?.store?.spool).toEqual({
      maxBytes: 2_500_000_000,
      keepDays: 14,
    });
    const bad = conf('i.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_MAX_GB=lots\nHwSTORE_KEEP_DAYS=-1\n');
    expect(bad.errors).toEqual([
      expect.stringMatching(/i\.conf:5:16: error invalid-value: HwSTORE_MAX_GB: 'lots' is not a size in GB/),
      expect.stringMatching(/i\.conf:6:19: error invalid-value: HwSTORE_KEEP_DAYS: '-1' is not a number in 0\.\.36500$/),
    ]);
    expect(conf('j.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_MAX_GB=0.0001\n').errors).toEqual([
      expect.stringMatching(/HwSTORE_MAX_GB: '0\.0001' is below 0\.001 GB \(0 = no cap\)$/),
    ]);
    expect(conf('k.conf', 'HwSTORE_KEEP_DAYS=3\n').errors).toEqual([
      expect.stringMatching(/HwSTORE_KEEP_DAYS: bounds the local store: set HwSTORE too$/),
    ]);
  });

  it('refuses a URL that is not postgres (its password never printed), a URL without HwSTORE, a bad sensor name', () => {
    const a = conf('d.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=mysql://u:hunter2@db/h\n');
    expect(a.errors).toEqual([
      expect.stringMatching(/:5:\d+: error invalid-value: HwSTORE_URL: mysql:\/\/u:\*\*\*@db\/h: 'mysql:' is not postgres:$/),
    ]);
    expect(a.errors.join('')).not.toContain('hunter2');
    expect(conf('e.conf', 'HwSTORE_URL=postgres://db/h\n').errors).toEqual([
      expect.stringMatching(/HwSTORE_URL: the central store is fed from the local store \(the spool\): set HwSTORE too$/),
    ]);
    expect(conf('f.conf', 'HwSTORE=/tmp/x.sqlite\nHwSTORE_URL=postgres://db/h\nHwSENSOR=two words\n').errors).toEqual([
      expect.stringMatching(/HwSENSOR: 'two words' is not 1 to 64 printable characters without spaces$/),
    ]);
  });
});

/** Marks as a shipper would give them: set by the test; `passOver` recorded. */
class Marks implements SpoolMarks {
  readonly m = new Map<string, number>();
  readonly passed: [string, number][] = [];
  busyTable: string | undefined;
  mark(t: string): number {
    return this.m.get(t) ?? 0;
  }
  busy(t: string): boolean {
    return t === this.busyTable;
  }
  passOver(t: string, mark: number): void {
    this.passed.push([t, mark]);
    if (mark > this.mark(t)) this.m.set(t, mark);
  }
}

describe('the spool bound (HwSTORE_MAX_GB, HwSTORE_KEEP_DAYS)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-spool-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  type Db = ReturnType<typeof openStore>;
  const count = (db: Db, sql: string) => db.prepare(sql).pluck().get() as number;
  const msg = 'x'.repeat(200);
  /** Flows (ended, each with an alert and its frames' places), alerts without a flow, firewall lines; times from `t0` s. */
  const writeRound = (w: StoreWriter, from: number, n: number, t0: number) => {
    for (let i = from; i < from + n; i++) {
      const rec = flowRecord({ id: i, startSec: t0 + i, endSec: t0 + i + 1 });
      const row = w.flowStarted(rec, meta);
      w.alert(alertEvent({ tsSec: t0 + i, sid: i, msg }), row, meta);
      w.alert(alertEvent({ tsSec: t0 + i, sid: i, msg }), null, meta);
      w.flowEnded(row, rec, meta);
      w.firewall(firewallEvent({ tsUs: (t0 + i) * 1e6, sensor: 's', line: `line ${i} ${msg}` }));
    }
    w.flush(true);
  };

  it.each([
    { boundMb: 1, perRound: 100 },
    { boundMb: 2, perRound: 250 },
    { boundMb: 4, perRound: 600 },
  ])(
    'without a central store: $boundMb MB, $perRound flows a round: the pages in use stay under the bound after each sweep, the file under it plus one round; the newest rows kept, whole flows deleted',
    ({ boundMb, perRound }) => {
      const file = path.join(tmp, `local-${boundMb}.sqlite`);
      const db = openStore(file);
      const w = new StoreWriter(db, { maxQueue: 1_000_000 });
      const bound = new SpoolBound(db, { maxBytes: boundMb * 1e6, keepDays: 0 });
      const t0 = Math.floor(Date.now() / 1000) - 86_400;
      let written = 0;
      let maxGrowth = 0;
      let over = 0;
      for (let round = 0; round < 30; round++) {
        const before = bound.inUse();
        writeRound(w, written, perRound, t0);
        written += perRound;
        maxGrowth = Math.max(maxGrowth, bound.inUse() - before);
        const swept = bound.inUse() > boundMb * 1e6;
        if (swept) over++;
        for (let k = 0; k < 1000 && bound.sweep(); k++);
        const st = bound.measure();
        expect(st.bytes).toBeLessThanOrEqual(boundMb * 1e6);
        // and no more than it had to: what a sweep frees is about what the round wrote, not the store
        if (swept) expect(st.bytes).toBeGreaterThan(boundMb * 1e6 - 2 * maxGrowth);
        expect(st.fileBytes).toBeLessThanOrEqual(boundMb * 1e6 + maxGrowth + 64 * 4096);
      }
      // the bound was reached many times (else the test shows nothing)
      expect(over).toBeGreaterThan(10);
      const st = bound.stats;
      // the newest flows are the ones left, without a gap; every row deleted was counted, nothing was "unshipped"
      const ids = db.prepare('SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM flows').get() as { lo: number; hi: number; n: number };
      expect(ids.hi).toBe(written);
      expect(ids.n).toBe(ids.hi - ids.lo + 1);
      expect(ids.lo).toBeGreaterThan(1);
      expect(st.deleted.flows + ids.n).toBe(written);
      expect(st.deleted.alerts + count(db, 'SELECT COUNT(*) FROM alerts')).toBe(2 * written);
      expect(st.deleted.firewall_events + count(db, 'SELECT COUNT(*) FROM firewall_events')).toBe(written);
      expect(Object.values(st.dropped).every((n) => n === 0)).toBe(true);
      expect(st.dropping).toBe(false);
      // whole flows: no alert or frame places of a deleted flow left behind
      expect(count(db, 'SELECT COUNT(*) FROM alerts WHERE flow_id IS NOT NULL AND flow_id NOT IN (SELECT id FROM flows)')).toBe(0);
      expect(count(db, 'SELECT COUNT(*) FROM flow_files WHERE flow_id NOT IN (SELECT id FROM flows)')).toBe(0);
      expect(st.flowFilesDeleted).toBe(st.deleted.flows);
      // the count tables keep their counts (the charts still show the deleted flows)
      expect(count(db, 'SELECT SUM(flows_in) FROM minutes')).toBe(written);
      db.close();
    },
  );

  it('a bound no store can meet: every table keeps its newest row, so later rows get new ids (none given again below the marks)', () => {
    const file = path.join(tmp, 'tiny.sqlite');
    const db = openStore(file);
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    writeRound(w, 0, 400, t0);
    const max = (t: string) => count(db, `SELECT MAX(id) FROM ${t}`);
    const before = { flows: max('flows'), alerts: max('alerts'), firewall_events: max('firewall_events') };
    // everything shipped (a mark above every row), and a bound of one byte: the sweep deletes all it may
    const marks = new Marks();
    for (const t of ['flows', 'alerts', 'firewall_events']) marks.m.set(t, Number.MAX_SAFE_INTEGER);
    const bound = new SpoolBound(db, { maxBytes: 1, keepDays: 0, batch: 100, maxBatches: 50 }, marks);
    for (let k = 0; k < 1000 && bound.sweep(); k++);
    for (const t of ['flows', 'alerts', 'firewall_events'] as const) {
      expect(count(db, `SELECT COUNT(*) FROM ${t}`), t).toBe(1);
      expect(max(t), t).toBe(before[t]);
    }
    expect(bound.stats.deleted.flows).toBe(399);
    // the next rows are numbered after the deleted ones
    writeRound(w, 400, 1, t0);
    for (const t of ['flows', 'alerts', 'firewall_events'] as const)
      expect(count(db, `SELECT MIN(id) FROM ${t} WHERE id > ${before[t]}`), t).toBe(before[t] + 1);
    db.close();
  });

  it('keep days: rows older than the keep days go, shipped ones only when shipping; newer ones stay', () => {
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const now = Date.UTC(2026, 11, 3);
    const day = 86_400;
    const nowS = now / 1000;
    writeRound(w, 0, 100, nowS - 40 * day); // 40 days old
    writeRound(w, 100, 100, nowS - 5 * day - 100); // 5 days old
    const marks = new Marks();
    // shipped: the first 50 flows (by change number) and their alerts, the first 60 firewall lines
    const seq50 = count(db, 'SELECT seq FROM flows WHERE id = 50');
    marks.m.set('flows', seq50);
    marks.m.set(
      'alerts',
      count(db, 'SELECT MAX(id) FROM alerts WHERE flow_id <= 50 OR (flow_id IS NULL AND ts_us < (SELECT first_us FROM flows WHERE id = 51))'),
    );
    marks.m.set('firewall_events', 60);
    const bound = new SpoolBound(db, { maxBytes: 0, keepDays: 30, now: () => now }, marks);
    for (let k = 0; k < 100 && bound.sweep(); k++);
    expect(count(db, 'SELECT MIN(id) FROM flows')).toBe(51);
    expect(count(db, 'SELECT COUNT(*) FROM flows')).toBe(150);
    expect(count(db, 'SELECT MIN(id) FROM firewall_events')).toBe(61);
    expect(bound.stats.deleted).toMatchObject({ flows: 50, alerts: 100, firewall_events: 60 });
    // nothing unshipped goes by age
    expect(Object.values(bound.stats.dropped).every((n) => n === 0)).toBe(true);
    // without a central store, every old row goes
    const local = new SpoolBound(db, { maxBytes: 0, keepDays: 30, now: () => now });
    for (let k = 0; k < 100 && local.sweep(); k++);
    expect(count(db, 'SELECT MIN(id) FROM flows')).toBe(101);
    expect(count(db, 'SELECT MIN(id) FROM firewall_events')).toBe(101);
    expect(count(db, 'SELECT COUNT(*) FROM alerts')).toBe(200);
    db.close();
  });

  it('Sebek: a process stays while any of its raw records does; the records go by their capture time', () => {
    const db = openStore(':memory:');
    const now = Date.UTC(2026, 11, 3);
    const old = now / 1000 - 40 * 86_400;
    const ins = db.prepare(`INSERT INTO records (client, cap_sec, cap_usec, magic, version, type, type_name, counter, time_sec, time_usec,
      usec_swapped, ppid, pid, uid, fd, inode, com, length, data) VALUES ('10.0.0.5', ?, 0, 1, 3, 0, 'read', ?, ?, 0, 0, 1, ?, 0, 0, 0, 'sh', 1, x'41')`);
    // pids 1-3: records 40 days old; pid 4: records of today (its process row is as old as the others')
    for (let i = 0; i < 200; i++) {
      const pid = 1 + Math.floor(i / 50);
      const cap = pid < 4 ? old + i : now / 1000 - 60 + i;
      ins.run(cap, i, cap, pid);
    }
    for (let pid = 1; pid <= 4; pid++) {
      db.prepare(`INSERT INTO processes (client, pid, ppid, uid, com, coms, first_sec, last_sec, records, forks)
        VALUES ('10.0.0.5', ?, 1, 0, 'sh', '[]', ?, ?, 50, 0)`).run(pid, old, old);
    }
    const bound = new SpoolBound(db, { maxBytes: 0, keepDays: 30, now: () => now });
    for (let k = 0; k < 100 && bound.sweep(); k++);
    expect(db.prepare('SELECT DISTINCT pid FROM records ORDER BY pid').pluck().all()).toEqual([4]);
    expect(db.prepare('SELECT pid FROM processes ORDER BY pid').pluck().all()).toEqual([4]);
    expect(bound.stats.deleted).toMatchObject({ records: 150, processes: 3 });
    db.close();
  });

  it('over the bound: shipped rows first; then the oldest unshipped, counted per table, the marks moved past them, logged once; a table with a batch in flight waits', () => {
    const file = path.join(tmp, 'drops.sqlite');
    const db = openStore(file);
    const w = new StoreWriter(db, { maxQueue: 1_000_000 });
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    writeRound(w, 0, 3000, t0);
    const marks = new Marks();
    // the first 1,000 flows shipped (their alerts and the firewall lines of the time too)
    const flowsMark = count(db, 'SELECT seq FROM flows WHERE id = 1000');
    marks.m.set('flows', flowsMark);
    marks.m.set('alerts', count(db, 'SELECT MAX(id) FROM alerts WHERE ts_us < (SELECT first_us FROM flows WHERE id = 1001)'));
    marks.m.set('firewall_events', 1000);
    const logs: string[] = [];
    const size = new SpoolBound(db, { maxBytes: 1e9, keepDays: 0 }).inUse();
    // a bound that needs more than the shipped third gone
    const bound = new SpoolBound(db, { maxBytes: Math.round(size * 0.4), keepDays: 0, batch: 1000, maxBatches: 4, log: (l) => logs.push(l) }, marks);
    // first with the alerts' batch in flight: alerts are not dropped meanwhile (one sweep: 4 batches of 1,000 rows:
    // the shipped flows, firewall lines and flowless alerts, then one batch of drops)
    marks.busyTable = 'alerts';
    expect(bound.sweep()).toBe(true);
    const st = bound.stats;
    expect(st.deleted).toMatchObject({ flows: 1000, firewall_events: 1000 });
    expect(st.deleted.alerts).toBe(2000);
    expect(st.dropped.alerts).toBe(0);
    expect(st.dropped.flows + st.dropped.firewall_events).toBe(1000);
    marks.busyTable = undefined;
    for (let k = 0; k < 1000 && bound.sweep(); k++);
    expect(bound.inUse()).toBeLessThanOrEqual(Math.round(size * 0.4));
    for (const t of ['flows', 'alerts', 'firewall_events']) expect(st.dropped[t], t).toBeGreaterThan(0);
    // oldest first: what is left are the newest rows of each table, without a gap
    for (const t of ['flows', 'alerts', 'firewall_events']) {
      const r = db.prepare(`SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM ${t}`).get() as { lo: number; hi: number; n: number };
      expect(r.n, t).toBe(r.hi - r.lo + 1);
      expect(st.deleted[t]! + st.dropped[t]! + r.n, t).toBe(t === 'alerts' ? 6000 : 3000);
    }
    // the append-only tables' marks moved to just below their oldest row left: nothing missing for the shipper
    expect(marks.mark('alerts')).toBe(count(db, 'SELECT MIN(id) FROM alerts') - 1);
    expect(marks.mark('firewall_events')).toBe(count(db, 'SELECT MIN(id) FROM firewall_events') - 1);
    expect(marks.passed.every(([t]) => t === 'alerts' || t === 'firewall_events')).toBe(true);
    // an update-mode table's mark (flows: change numbers) is not moved
    expect(marks.mark('flows')).toBe(flowsMark);
    expect(st.dropping).toBe(true);
    const starts = logs.filter((l) => /dropping the oldest unshipped rows/.test(l));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatch(/flows \d+/);
    // within the bound with nothing to drop: the end line with the episode's counts, once
    db.exec('DELETE FROM alerts; DELETE FROM firewall_events');
    bound.sweep();
    bound.sweep();
    expect(st.dropping).toBe(false);
    const ends = logs.filter((l) => /within its bound again; rows dropped unshipped: /.test(l));
    expect(ends).toHaveLength(1);
    for (const t of ['flows', 'alerts', 'firewall_events']) expect(ends[0]).toContain(`${t} ${st.dropped[t]}`);
    expect(logs).toHaveLength(2);
    db.close();
  });
});
