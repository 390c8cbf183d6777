/**
 * The store's bounded write queue: batched transactions, drops at a full queue counted by kind (the gateway's mode),
 * a full queue flushed instead (an import's), a failed batch counted; a flow whose start was dropped still gets its
 * row from its end; the per-minute counts kept as rows are written equal the counts recomputed from the rows.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';
import { rebuildCounts } from '../src/store/import.js';
import { decodeOffsets, encodeOffsets } from '../src/store/offsets.js';
import { StoreWriter, type FlowMeta } from '../src/store/writer.js';
import { alertEvent, flowRecord } from './helpers/store.js';

const meta: FlowMeta = { honeypot: '10.0.0.5', direction: 'outbound', sensor: 'test', captureId: null };
const count = (db: ReturnType<typeof openStore>, table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('StoreWriter', () => {
  it('drops past maxQueue, counted by kind; a flush writes the rest in batches', () => {
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { maxQueue: 10, batch: 4 });
    for (let i = 0; i < 8; i++) w.flowStarted(flowRecord({ id: i }), meta);
    for (let i = 0; i < 9; i++) w.alert(alertEvent({ sid: i }), null, meta);
    expect(w.depth).toBe(10);
    expect(w.stats.queued).toBe(10);
    expect(w.stats.dropped).toEqual({ flowStart: 0, flowUpdate: 0, flowEnd: 0, alert: 7, firewall: 0 });
    expect(w.stats.maxDepth).toBe(10);
    w.flush();
    expect(w.stats.written).toBe(10);
    expect(w.stats.batches).toBe(3);
    expect(count(db, 'flows')).toBe(8);
    expect(count(db, 'alerts')).toBe(2);
    // after a flush there is room again
    w.alert(alertEvent(), null, meta);
    expect(w.stats.dropped.alert).toBe(7);
    db.close();
  });

  it("an import's writer flushes when full and drops nothing", () => {
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { maxQueue: 5, batch: 5, onFull: 'flush' });
    for (let i = 0; i < 23; i++) w.alert(alertEvent({ sid: i }), null, meta);
    expect(w.stats.dropped.alert).toBe(0);
    w.flush();
    expect(count(db, 'alerts')).toBe(23);
    expect(w.stats.batches).toBe(5);
    db.close();
  });

  it('a flow whose start was dropped gets its row from its end; alerts count on their flow', () => {
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { maxQueue: 1 });
    w.alert(alertEvent(), null, meta); // fills the queue
    const rec = flowRecord({ reason: undefined });
    const row = w.flowStarted(rec, meta); // dropped
    expect(w.stats.dropped.flowStart).toBe(1);
    w.flush();
    w.alert(alertEvent(), row, meta);
    w.flush();
    w.flowEnded(row, { ...rec, reason: 'timeout', pktsToServer: 9 }, meta);
    w.flush();
    const f = db.prepare('SELECT pkts_toserver, reason, alerts FROM flows WHERE id = ?').get(row);
    // the alert's increment found no row yet: the flow's end counts its alerts
    expect(f).toEqual({ pkts_toserver: 9, reason: 'timeout', alerts: 1 });
    expect(db.prepare('SELECT flow_id FROM alerts ORDER BY id DESC').get()).toEqual({ flow_id: row });
    db.close();
  });

  it('a batch that fails is counted and the writer goes on (the gateway), or rethrows (an import)', () => {
    const fw = {
      tsUs: 1,
      kind: 'outbound' as const,
      prefix: 'OUTBOUND TCP:',
      proto: 'TCP',
      srcIp: '10.0.0.5',
      srcPort: 1,
      dstIp: '1.2.3.4',
      dstPort: 2,
      inIface: 'br0',
      outIface: 'br0',
      length: 60,
      honeypot: '10.0.0.5',
      sensor: 'test',
      line: 'x',
    };
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { batch: 2 });
    // a write that fails as a full disk would, for firewall rows only
    db.exec("CREATE TRIGGER no_room BEFORE INSERT ON firewall_events BEGIN SELECT RAISE(ABORT, 'database or disk is full (simulated)'); END");
    w.alert(alertEvent(), null, meta);
    w.firewall(fw);
    w.alert(alertEvent(), null, meta);
    w.flush();
    expect(w.stats.failed).toBe(2);
    expect(w.stats.lastError).toMatch(/disk is full/);
    expect(w.stats.written).toBe(1);
    expect(count(db, 'alerts')).toBe(1); // the failed batch's alert was rolled back with it
    const strict = new StoreWriter(db, { onFull: 'flush' });
    strict.firewall(fw);
    expect(() => strict.flush()).toThrow(/disk is full/);
    db.close();
  });

  it('per-minute and per-hour counts as written equal the counts recomputed from the rows', () => {
    const db = openStore(':memory:');
    const w = new StoreWriter(db, { onFull: 'flush' });
    let n = 0;
    for (const [hp, dir] of [
      ['10.0.0.5', 'outbound'],
      ['10.0.0.6', 'inbound'],
      [null, 'external'],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const rec = flowRecord({ id: n++, startSec: 1_700_000_000 + i * 37, bytesToServer: i, bytesToClient: 2 * i });
        const m = { ...meta, honeypot: hp, direction: dir };
        const row = w.flowStarted(rec, m);
        w.flowEnded(row, rec, m);
        if (i % 3 === 0) w.alert(alertEvent({ tsSec: rec.startSec + 5 }), row, m);
      }
    }
    w.flush();
    const incremental = db.prepare('SELECT * FROM minutes ORDER BY honeypot, minute').all();
    const hourly = db.prepare('SELECT * FROM hours ORDER BY honeypot, hour').all();
    expect(hourly.length).toBeLessThan(incremental.length);
    rebuildCounts(db);
    expect(db.prepare('SELECT * FROM minutes ORDER BY honeypot, minute').all()).toEqual(incremental);
    expect(db.prepare('SELECT * FROM hours ORDER BY honeypot, hour').all()).toEqual(hourly);
    const out = db.prepare("SELECT SUM(flows_out) AS o, SUM(bytes_out) AS b FROM minutes WHERE honeypot = '10.0.0.5'").get();
    expect(out).toEqual({ o: 50, b: (49 * 50) / 2 });
    db.close();
  });
});

describe('frame offsets as delta varints', () => {
  it('round-trip, past 2^32 too', () => {
    const offs = [24, 100, 127, 128, 16_384, 3_000_000_000, 2 ** 40, 2 ** 40 + 1];
    expect(decodeOffsets(encodeOffsets(offs))).toEqual(offs);
    expect(encodeOffsets([24, 100]).length).toBe(2);
    expect(() => encodeOffsets([100, 24])).toThrow(RangeError);
    expect(() => decodeOffsets(Uint8Array.of(0x80))).toThrow(/truncated/);
  });
});
