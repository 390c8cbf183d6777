/**
 * The query layer over a made-up store: every filter of the flow and alert lists against the same filter applied to
 * the generated rows in JavaScript; keyset paging visits every row once, in order, both ways; a flow with its
 * alerts, files and the Sebek process whose socket made it; per-honeypot totals and timeline buckets against sums
 * of the rows.
 */
import { describe, expect, it } from 'vitest';
import type { FlowRecord } from '../src/flow/recorder.js';
import { openStore } from '../src/store/db.js';
import { linkSockets } from '../src/store/import.js';
import {
  getFlow,
  getProcess,
  hosts,
  listAlerts,
  listFlows,
  listProcesses,
  QueryError,
  timeline,
  type FlowFilter,
  type FlowRow,
  type Page,
  type Paged,
} from '../src/store/query.js';
import { HoneypotSet } from '../src/store/honeypots.js';
import { StoreWriter } from '../src/store/writer.js';
import { alertEvent, flowRecord } from './helpers/store.js';

const T0 = 1_700_000_000;
const honeypots = HoneypotSet.parse('10.0.0.0/24') as HoneypotSet;
const db = openStore(':memory:');
const w = new StoreWriter(db, { onFull: 'flush' });

interface Made {
  row: number;
  rec: FlowRecord;
  honeypot: string | null;
  direction: string;
  sids: number[];
}
const made: Made[] = [];
// a deterministic spread of flows: 3 honeypots, outsiders, 4 services, tcp and udp, some at the same microsecond
let seed = 7;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return (seed >>> 12) % n;
};
for (let i = 0; i < 600; i++) {
  const hp = `10.0.0.${5 + rnd(3)}`;
  const outsider = `198.51.100.${rnd(20)}`;
  const outbound = rnd(2) === 0;
  const port = [22, 23, 80, 6667][rnd(4)]!;
  const proto = rnd(5) === 0 ? 17 : 6;
  const start = T0 + rnd(7200);
  const rec = flowRecord({
    id: i,
    proto,
    clientIp: outbound ? hp : outsider,
    clientPort: 30000 + i,
    serverIp: outbound ? outsider : hp,
    serverPort: port,
    startSec: start,
    startUsec: i % 3 === 0 ? 0 : rnd(1000),
    endSec: start + rnd(100),
    bytesToServer: rnd(5000),
    bytesToClient: rnd(5000),
  });
  const c = honeypots.classify(rec.clientIp, rec.serverIp);
  const meta = { honeypot: c.honeypot, direction: c.direction, sensor: i % 2 === 0 ? 'gw1' : 'gw2', captureId: null };
  const row = w.flowStarted(rec, meta);
  w.flowEnded(row, rec, meta);
  const sids: number[] = [];
  for (let k = rnd(3); k > 0; k--) {
    const sid = 2000 + rnd(4);
    sids.push(sid);
    w.alert(alertEvent({ sid, tsSec: start + k, src: rec.clientIp, dst: rec.serverIp }), row, {
      honeypot: c.honeypot,
      sensor: meta.sensor,
      captureId: null,
    });
  }
  made.push({ row, rec, honeypot: c.honeypot, direction: c.direction, sids });
}
w.flush();

const firstUs = (m: Made) => m.rec.startSec * 1e6 + m.rec.startUsec;

function reference(f: FlowFilter): Made[] {
  return made.filter((m) => {
    const r = m.rec;
    if (f.from !== undefined && firstUs(m) < f.from) return false;
    if (f.to !== undefined && firstUs(m) >= f.to) return false;
    if (f.host !== undefined && r.clientIp !== f.host && r.serverIp !== f.host) return false;
    if (f.port !== undefined && r.clientPort !== f.port && r.serverPort !== f.port) return false;
    if (f.proto !== undefined && r.proto !== f.proto) return false;
    if (f.direction !== undefined && m.direction !== f.direction) return false;
    if (f.honeypot !== undefined && m.honeypot !== f.honeypot) return false;
    if (f.sid !== undefined && !m.sids.includes(f.sid)) return false;
    if (f.alerted && m.sids.length === 0) return false;
    return true;
  });
}

/** Every page of a listing, following the cursors. */
function all<T>(list: (p: Page) => Paged<T>, page: Page): { rows: T[]; pages: number } {
  const rows: T[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const p = list({ ...page, after });
    rows.push(...p.rows);
    after = p.next;
    pages++;
  } while (after !== undefined && pages < 10_000);
  return { rows, pages };
}

const byKey = (desc: boolean) => (a: Made, b: Made) => (desc ? -1 : 1) * (firstUs(a) - firstUs(b) || a.row - b.row);

describe('listFlows', () => {
  it('pages through every flow once, newest first, and oldest first', () => {
    for (const order of ['desc', 'asc'] as const) {
      const { rows, pages } = all((p) => listFlows(db, {}, p), { limit: 37, order });
      expect(pages).toBe(Math.ceil(600 / 37));
      expect(rows.map((r) => r.id)).toEqual([...made].sort(byKey(order === 'desc')).map((m) => m.row));
    }
  });

  const filters: FlowFilter[] = [
    { host: '10.0.0.6' },
    { host: '198.51.100.3' },
    { port: 23 },
    { port: 30005 },
    { proto: 17 },
    { direction: 'inbound' },
    { honeypot: '10.0.0.7', direction: 'outbound' },
    { sid: 2001 },
    { alerted: true },
    { from: (T0 + 1800) * 1e6, to: (T0 + 3600) * 1e6 },
    { from: (T0 + 1800) * 1e6, port: 80, proto: 6, host: '10.0.0.5' },
    { sid: 2003, honeypot: '10.0.0.5' },
  ];
  for (const f of filters) {
    it(`filters ${JSON.stringify(f)} as the rows say`, () => {
      const want = reference(f).sort(byKey(true));
      expect(want.length).toBeGreaterThan(0);
      expect(all((p) => listFlows(db, f, p), { limit: 50 }).rows.map((r) => r.id)).toEqual(want.map((m) => m.row));
    });
  }

  it('refuses a bad cursor or limit with a QueryError', () => {
    expect(() => listFlows(db, {}, { after: "1; DROP TABLE flows; --'" })).toThrow(QueryError);
    expect(() => listFlows(db, {}, { limit: 0 })).toThrow(QueryError);
    expect(listFlows(db, {}, { limit: 5000 }).rows.length).toBe(600); // capped at 1,000 a page
  });

  it('treats filter values as data, never SQL', () => {
    expect(listFlows(db, { host: "' OR 1=1 --" }).rows).toEqual([]);
  });
});

describe('getFlow, alerts, Sebek processes', () => {
  it('gives a flow with its alerts and files', () => {
    const m = made.find((x) => x.sids.length === 2)!;
    const d = getFlow(db, m.row)!;
    expect(d.flow).toMatchObject({ id: m.row, client_ip: m.rec.clientIp, server_port: m.rec.serverPort, alerts: 2, direction: m.direction });
    expect(d.alerts.map((a) => a.sid).sort()).toEqual([...m.sids].sort());
    expect(d.files).toEqual([]); // no captures row for made-up spans
    expect(getFlow(db, 99_999)).toBeUndefined();
  });

  it("links a Sebek socket call to the flow it made, and shows the process's keystrokes", () => {
    const m = made.find((x) => x.direction === 'outbound' && x.rec.proto === 6)!;
    const r = m.rec;
    db.prepare(
      `INSERT INTO processes (client, pid, ppid, uid, com, coms, first_sec, last_sec, records, forks)
       VALUES (?, 4242, 4241, 0, 'wget', '["bash","wget"]', ?, ?, 3, 0)`,
    ).run(r.clientIp, r.startSec, r.startSec + 1);
    db.prepare(
      `INSERT INTO sockets (client, pid, uid, com, fd, call, call_name, proto, sip, sport, dip, dport, time_sec, time_usec)
       VALUES (?, 4242, 0, 'wget', 3, 3, 'connect', 6, ?, ?, ?, ?, ?, 0)`,
    ).run(r.clientIp, r.clientIp, r.clientPort, r.serverIp, r.serverPort, r.startSec + 20);
    db.prepare(
      `INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated)
       VALUES (?, 4242, 0, 0, 'bash', ?, 0, '<script>alert(1)</script>', 1)`,
    ).run(r.clientIp, r.startSec);
    expect(linkSockets(db)).toBe(1);
    const d = getFlow(db, m.row)!;
    expect(d.sockets.map((s) => s.call_name)).toEqual(['connect']);
    expect(d.processes.map((p) => [p.pid, p.com])).toEqual([[4242, 'wget']]);
    const p = getProcess(db, r.clientIp, 4242)!;
    expect(p.keystrokes.map((k) => k.line)).toEqual(['<script>alert(1)</script>']);
    expect(p.sockets[0]!.flow_id).toBe(m.row);
    expect(listProcesses(db, { com: 'bash' }).rows.map((x) => x.pid)).toEqual([4242]);
    expect(listProcesses(db, { client: '10.9.9.9' }).rows).toEqual([]);
  });

  it('lists alerts by sid and host, paged', () => {
    const want = made.filter((m) => m.sids.includes(2002)).length;
    const got = all((p) => listAlerts(db, { sid: 2002 }, p), { limit: 7 }).rows;
    expect(new Set(got.map((a) => a.flow_id)).size).toBe(want);
    expect(got.every((a) => a.sid === 2002)).toBe(true);
    for (let i = 1; i < got.length; i++) expect(got[i - 1]!.ts_us >= got[i]!.ts_us).toBe(true);
    const host = '10.0.0.5';
    expect(all((p) => listAlerts(db, { host }, p), {}).rows.length).toBe(
      made.filter((m) => m.rec.clientIp === host || m.rec.serverIp === host).reduce((n, m) => n + m.sids.length, 0),
    );
  });
});

describe('hosts and timeline', () => {
  const sum = (rows: FlowRow[] | Made[], f: (m: Made) => number) => (rows as Made[]).reduce((n, m) => n + f(m), 0);

  it('totals per honeypot are the sums of its flows and alerts (over all time from hours, over a range from minutes)', () => {
    const totals = (rows: ReturnType<typeof hosts>) => rows.map(({ first_minute: _f, last_minute: _l, ...r }) => r);
    expect(totals(hosts(db, { from: T0 * 1e6 - 60e6, to: (T0 + 86400) * 1e6 }))).toEqual(totals(hosts(db)));
    const h = hosts(db);
    expect(h.map((x) => x.honeypot)).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7']);
    for (const x of h) {
      const mine = made.filter((m) => m.honeypot === x.honeypot);
      expect(x.flows_in).toBe(mine.filter((m) => m.direction === 'inbound').length);
      expect(x.flows_out).toBe(mine.filter((m) => m.direction === 'outbound').length);
      expect(x.alerts).toBe(sum(mine, (m) => m.sids.length));
      expect(x.bytes_out).toBe(sum(mine, (m) => (m.direction === 'outbound' ? m.rec.bytesToServer : m.rec.bytesToClient)));
      expect(x.processes).toBe(x.honeypot === made.find((m) => m.direction === 'outbound' && m.rec.proto === 6)!.honeypot ? 1 : 0);
    }
  });

  it('timeline buckets add up to the totals, per honeypot and for all', () => {
    const from = T0 * 1e6;
    const to = (T0 + 7300) * 1e6;
    const t = timeline(db, { from, to, bucket: 600 });
    expect(t.bucket).toBe(600);
    expect(t.buckets.reduce((n, b) => n + b.flows_in + b.flows_out + b.flows_other, 0)).toBe(600);
    for (const b of t.buckets) expect((b.t - Math.floor(T0 / 60) * 60) % 600).toBe(0);
    const one = timeline(db, { from, to, honeypot: '10.0.0.6' });
    expect(one.bucket).toBe(120); // 1/100 of the range, whole minutes
    expect(one.buckets.reduce((n, b) => n + b.alerts, 0)).toBe(
      sum(
        made.filter((m) => m.honeypot === '10.0.0.6'),
        (m) => m.sids.length,
      ),
    );
    // whole-hour buckets read the hour table: the same totals
    const hourly = timeline(db, { from, to, bucket: 3600 });
    expect(hourly.buckets.reduce((n, b) => n + b.flows_in + b.flows_out + b.flows_other, 0)).toBe(600);
    expect(hourly.buckets.reduce((n, b) => n + b.bytes_in + b.bytes_out, 0)).toBe(t.buckets.reduce((n, b) => n + b.bytes_in + b.bytes_out, 0));
    for (const b of hourly.buckets) expect(b.t % 3600).toBe(0);
    expect(timeline(db, { from, to: from + 30 * 86400e6 }).bucket).toBe(8 * 3600);
    expect(() => timeline(db, { from, to, bucket: 90 })).toThrow(QueryError);
    expect(() => timeline(db, { from: to, to: from })).toThrow(QueryError);
  });
});
