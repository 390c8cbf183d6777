/**
 * The console's two heaviest questions over the central store, with a sensor filter: the connection list (keyset
 * paged as query.ts pages the SQLite store: newest first by (first_us, id), never OFFSET) and the timeline (counts
 * per bucket), made from the flow and alert rows themselves: the central store keeps no per-minute count tables (a
 * gateway's counts are additive and cannot be shipped idempotently), the indexes (sensor, honeypot, time) read one
 * honeypot's day. Every value is a bind parameter. The console itself does not read PostgreSQL yet (README).
 */
import type pg from 'pg';
import { QueryError, type Bucket, type FlowFilter, type FlowRow, type Page, type Paged } from '../query.js';

const MAX_LIMIT = 1000;

export interface CentralFlowFilter extends Pick<FlowFilter, 'from' | 'to' | 'host' | 'port' | 'proto' | 'direction' | 'honeypot' | 'sid'> {
  /** One sensor (every sensor when absent). */
  sensor?: string;
}

export type CentralFlowRow = FlowRow & { sensor: string };

class Conds {
  readonly where: string[] = [];
  readonly args: unknown[] = [];
  add(sql: string, ...values: unknown[]): void {
    // `?` placeholders become $n in order
    let i = 0;
    this.where.push(sql.replace(/\?/g, () => `$${this.args.length + ++i}`));
    this.args.push(...values);
  }
  sql(): string {
    return this.where.length > 0 ? ` WHERE ${this.where.join(' AND ')}` : '';
  }
}

export async function centralFlows(c: pg.ClientBase, f: CentralFlowFilter = {}, page: Page = {}): Promise<Paged<CentralFlowRow>> {
  const limit = Math.min(page.limit ?? 100, MAX_LIMIT);
  if (!Number.isInteger(limit) || limit < 1) throw new QueryError(`limit must be a positive integer, got ${page.limit}`);
  const desc = (page.order ?? 'desc') === 'desc';
  const w = new Conds();
  if (f.sensor !== undefined) w.add('sensor = ?', f.sensor);
  if (f.honeypot !== undefined) w.add('honeypot = ?', f.honeypot);
  if (f.from !== undefined) w.add('first_us >= ?', f.from);
  if (f.to !== undefined) w.add('first_us < ?', f.to);
  if (f.host !== undefined) w.add('(client_ip = ? OR server_ip = ?)', f.host, f.host);
  if (f.port !== undefined) w.add('(server_port = ? OR client_port = ?)', f.port, f.port);
  if (f.proto !== undefined) w.add('proto = ?', f.proto);
  if (f.direction !== undefined) w.add('direction = ?', f.direction);
  if (f.sid !== undefined) w.add('(sensor, id) IN (SELECT sensor, flow_id FROM alerts WHERE sid = ?)', f.sid);
  if (page.after !== undefined) {
    const m = /^(-?\d{1,17}):(\d{1,17})$/.exec(page.after);
    if (m === null) throw new QueryError(`bad page cursor '${page.after.slice(0, 40)}'`);
    w.add(`(first_us, id) ${desc ? '<' : '>'} (?, ?)`, Number(m[1]), Number(m[2]));
  }
  const dir = desc ? 'DESC' : 'ASC';
  const r = await c.query<CentralFlowRow>(`SELECT * FROM flows${w.sql()} ORDER BY first_us ${dir}, id ${dir} LIMIT $${w.args.length + 1}`, [
    ...w.args,
    limit + 1,
  ]);
  const rows = r.rows.map((x) => ({ ...x, id: Number(x.id), first_us: Number(x.first_us) }));
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows[rows.length - 1];
  return { rows, next: more && last !== undefined ? `${last.first_us}:${last.id}` : undefined };
}

export interface CentralTimelineQuery {
  from: number;
  to: number;
  /** Seconds, a multiple of 60. */
  bucket: number;
  sensor?: string;
  honeypot?: string;
}

/**
 * Flows (by direction, with their bytes as the honeypot saw them) and alerts per bucket, buckets with something only,
 * laid out as the SQLite store's timeline lays them (query.ts timeline): the range widened to whole minutes (whole
 * hours for buckets of whole hours), buckets counted from its start.
 */
export async function centralTimeline(c: pg.ClientBase, q: CentralTimelineQuery): Promise<Bucket[]> {
  if (!(q.to > q.from)) throw new QueryError('timeline: `to` must be after `from`');
  if (!Number.isInteger(q.bucket) || q.bucket < 60 || q.bucket % 60 !== 0)
    throw new QueryError(`timeline: bucket must be a multiple of 60 s, got ${q.bucket}`);
  const width = q.bucket * 1_000_000;
  const grain = q.bucket % 3600 === 0 ? 3600 : 60;
  const start = Math.floor(q.from / (grain * 1e6)) * grain;
  const end = Math.ceil(q.to / (grain * 1e6)) * grain;
  const filter = (time: string) => {
    const w = new Conds();
    w.add(`${time} >= ?`, start * 1e6);
    w.add(`${time} < ?`, end * 1e6);
    if (q.sensor !== undefined) w.add('sensor = ?', q.sensor);
    if (q.honeypot !== undefined) w.add('honeypot = ?', q.honeypot);
    return w;
  };
  const fw = filter('first_us');
  const flows = await c.query(
    `SELECT ${start} + ((first_us - ${start * 1e6}) / ${width}) * ${q.bucket} AS t,
       COUNT(*) FILTER (WHERE direction = 'inbound') AS flows_in, COUNT(*) FILTER (WHERE direction = 'outbound') AS flows_out,
       COUNT(*) FILTER (WHERE direction NOT IN ('inbound', 'outbound')) AS flows_other,
       SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toclient ELSE bytes_toserver END) AS bytes_in,
       SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toserver ELSE bytes_toclient END) AS bytes_out
     FROM flows${fw.sql()} GROUP BY 1`,
    fw.args,
  );
  const aw = filter('ts_us');
  const alerts = await c.query(
    `SELECT ${start} + ((ts_us - ${start * 1e6}) / ${width}) * ${q.bucket} AS t, COUNT(*) AS alerts FROM alerts${aw.sql()} GROUP BY 1`,
    aw.args,
  );
  const out = new Map<number, Bucket>();
  const at = (t: number): Bucket => {
    let b = out.get(t);
    if (b === undefined) {
      b = { t, flows_in: 0, flows_out: 0, flows_other: 0, bytes_in: 0, bytes_out: 0, alerts: 0, firewall: 0, limits: 0 };
      out.set(t, b);
    }
    return b;
  };
  for (const r of flows.rows) {
    const b = at(Number(r.t));
    b.flows_in = Number(r.flows_in);
    b.flows_out = Number(r.flows_out);
    b.flows_other = Number(r.flows_other);
    b.bytes_in = Number(r.bytes_in ?? 0);
    b.bytes_out = Number(r.bytes_out ?? 0);
  }
  for (const r of alerts.rows) at(Number(r.t)).alerts = Number(r.alerts);
  return [...out.values()].sort((a, b) => a.t - b.t);
}
