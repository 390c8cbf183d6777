/**
 * What the console's API serves, as functions over the store: flows (filtered, keyset-paged), one flow with its
 * alerts, files and the Sebek processes whose sockets made it, alerts, Sebek processes and one process's activity,
 * per-honeypot totals and timeline buckets (from the per-minute counts, so a chart over a million flows reads a few
 * thousand rows). Rows come back as the store holds them (snake_case, times in microseconds since the epoch), every
 * value bound as a parameter: a filter is never SQL text.
 *
 * Paging is by keyset, never OFFSET: a page ends with a cursor naming its last row's sort key, and the next page
 * starts after it, so paging stays as fast at page 10,000 as at page 1 and rows arriving meanwhile do not shift it.
 */
import type Database from 'better-sqlite3';
import type { Direction } from './honeypots.js';

export interface Page {
  /** Rows per page (default 100, at most 1,000). */
  limit?: number;
  /** The `next` cursor of the page before. */
  after?: string;
  /** Newest first (default) or oldest first. */
  order?: 'desc' | 'asc';
}

export interface Paged<T> {
  rows: T[];
  /** Give it as `after` for the next page; undefined on the last page. */
  next: string | undefined;
}

/** A page cursor that does not parse (a client's mistake: the API answers 400). */
export class QueryError extends Error {}

export interface FlowFilter {
  /** Flows that started in [from, to) (microseconds). */
  from?: number;
  to?: number;
  /** Either endpoint's address. */
  host?: string;
  /** Either endpoint's port. */
  port?: number;
  /** IP protocol number. */
  proto?: number;
  direction?: Direction;
  honeypot?: string;
  sensor?: string;
  appProto?: string;
  /** Flows with an alert of this sid. */
  sid?: number;
  /** Only flows with at least one alert. */
  alerted?: boolean;
  communityId?: string;
}

export interface FlowRow {
  id: number;
  flow_id: number;
  community_id: string;
  proto: number;
  vlan: number;
  client_ip: string;
  client_port: number | null;
  server_ip: string;
  server_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  first_us: number;
  last_us: number;
  pkts_toserver: number;
  pkts_toclient: number;
  bytes_toserver: number;
  bytes_toclient: number;
  payload_bytes: number;
  tcp_flags_ts: number;
  tcp_flags_tc: number;
  tcp_state: string | null;
  state: string;
  reason: string | null;
  app_proto: string | null;
  midstream: number;
  alerts: number;
  honeypot: string | null;
  direction: Direction;
  sensor: string;
  capture_id: number | null;
  first_capture_id: number | null;
  first_offset: number | null;
}

export interface AlertRow {
  id: number;
  flow_id: number | null;
  ts_us: number;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | null;
  classification: string | null;
  priority: number;
  action: string;
  blocked: number;
  replaced: number;
  proto: string;
  src_ip: string;
  src_port: number | null;
  dst_ip: string;
  dst_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  community_id: string | null;
  eve_flow_id: number | null;
  pcap_cnt: number | null;
  app_proto: string | null;
  honeypot: string | null;
  sensor: string;
  capture_id: number | null;
}

export interface ProcessRow {
  client: string;
  pid: number;
  ppid: number;
  uid: number;
  com: string;
  /** JSON array of the command names seen. */
  coms: string;
  first_sec: number;
  last_sec: number;
  records: number;
  forks: number;
}

export interface FlowFileRow {
  capture_id: number;
  path: string;
  first_offset: number;
  last_offset: number;
  packets: number;
}

export interface SocketRow {
  id: number;
  client: string;
  pid: number;
  com: string;
  fd: number;
  call_name: string;
  proto: number;
  sip: string;
  sport: number;
  dip: string;
  dport: number;
  time_sec: number;
  time_usec: number;
  flow_id: number | null;
}

/**
 * At most this many rows of each list of a detail (a flow's alerts, a process's keystroke lines, ...): an intruder's
 * process can make millions; the rows left out are counted per list in `cut`.
 */
export interface DetailLimit {
  max?: number;
}

export interface FlowDetail {
  /** Rows left out of each list, by list name (only lists that were cut). */
  cut: Record<string, number>;
  flow: FlowRow;
  alerts: AlertRow[];
  files: FlowFileRow[];
  /** Sebek socket calls linked to the flow, and the processes that made them. */
  sockets: SocketRow[];
  processes: ProcessRow[];
}

const MAX_LIMIT = 1000;

/** Statements by SQL text, per database (filters make a few dozen distinct texts at most). */
const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function stmt(db: Database.Database, sql: string): Database.Statement {
  let m = cache.get(db);
  if (m === undefined) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (s === undefined) m.set(sql, (s = db.prepare(sql)));
  return s;
}

function limitOf(p: Page): number {
  const n = p.limit ?? 100;
  if (!Number.isInteger(n) || n < 1) throw new QueryError(`limit must be a positive integer, got ${n}`);
  return Math.min(n, MAX_LIMIT);
}

/** A cursor is the last row's sort key, `TIME:ID` in decimal. */
function parseCursor(c: string): [number, number] {
  const m = /^(-?\d{1,17}):(\d{1,17})$/.exec(c);
  if (m === null) throw new QueryError(`bad page cursor '${c.slice(0, 40)}'`);
  return [Number(m[1]), Number(m[2])];
}

interface Source {
  /** `SELECT ... FROM table` of one row. */
  select: string;
  timeCol: string;
  idCol: string;
}

/** A filter that matches either of two conditions on indexed columns (an address on either side, a port). */
interface Either {
  conds: [string, string];
  params: unknown[];
}

/**
 * One page of rows ordered by (time column, id), with the conditions given. An `either` filter is run as two
 * queries, each reading its own index in order and stopping at the page's size, their rows merged: an OR over two
 * indexes would make SQLite collect and sort every matching row before the first page (a busy port's million flows).
 */
function keyset<T extends { id: number }>(
  db: Database.Database,
  src: Source,
  conds: string[],
  params: unknown[],
  page: Page,
  timeOf: (row: T) => number,
  either?: Either,
): Paged<T> {
  const limit = limitOf(page);
  const desc = (page.order ?? 'desc') === 'desc';
  const where = [...conds];
  const args = [...params];
  if (page.after !== undefined) {
    const [t, id] = parseCursor(page.after);
    where.push(`(${src.timeCol}, ${src.idCol}) ${desc ? '<' : '>'} (?, ?)`);
    args.push(t, id);
  }
  const dir = desc ? 'DESC' : 'ASC';
  const order = ` ORDER BY ${src.timeCol} ${dir}, ${src.idCol} ${dir} LIMIT ?`;
  const query = (extra: string | undefined) => {
    const all = extra === undefined ? where : [extra, ...where];
    return `${src.select}${all.length > 0 ? ` WHERE ${all.join(' AND ')}` : ''}${order}`;
  };
  let rows: T[];
  if (either === undefined) rows = stmt(db, query(undefined)).all(...args, limit + 1) as T[];
  else {
    const [a, b] = either.conds;
    const sql = `SELECT * FROM (SELECT * FROM (${query(a)}) UNION SELECT * FROM (${query(b)}))${order.replace(src.idCol, 'id')}`;
    rows = stmt(db, sql).all(...either.params.slice(0, 1), ...args, limit + 1, ...either.params.slice(1), ...args, limit + 1, limit + 1) as T[];
  }
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows[rows.length - 1];
  return { rows, next: more && last !== undefined ? `${timeOf(last)}:${last.id}` : undefined };
}

const FLOWS: Source = { select: 'SELECT * FROM flows', timeCol: 'first_us', idCol: 'id' };
const ALERTS: Source = { select: 'SELECT * FROM alerts', timeCol: 'ts_us', idCol: 'id' };
const FIREWALL: Source = { select: 'SELECT * FROM firewall_events', timeCol: 'ts_us', idCol: 'id' };
const PROCESSES: Source = { select: 'SELECT rowid AS id, * FROM processes', timeCol: 'first_sec', idCol: 'rowid' };

/** A list's conditions and their values in order (every value bound, never SQL text), starting with its time range. */
function conditions(src: Source, range: { from?: number; to?: number }) {
  const conds: string[] = [];
  const args: unknown[] = [];
  const add = (cond: string, ...values: unknown[]) => {
    conds.push(cond);
    args.push(...values);
  };
  if (range.from !== undefined) add(`${src.timeCol} >= ?`, range.from);
  if (range.to !== undefined) add(`${src.timeCol} < ?`, range.to);
  return { conds, args, add };
}

/** A list's conditions (`?` placeholders), their values in order, and an either-or on two indexed columns. */
export interface Conditions {
  conds: string[];
  args: unknown[];
  either?: Either;
}

/**
 * The conditions of a flow filter: one builder for the SQLite store and the central one (`central`: rows are keyed by
 * sensor and id, so an alert names its flow within its sensor).
 */
export function flowConditions(f: FlowFilter, central = false): Conditions {
  const { conds, args, add } = conditions(FLOWS, f);
  // the host (else the port) is read from the two indexes of its sides; a port with a host is checked on the rows
  let either: Either | undefined;
  if (f.host !== undefined) either = { conds: ['client_ip = ?', 'server_ip = ?'], params: [f.host, f.host] };
  if (f.port !== undefined) {
    if (either === undefined) either = { conds: ['server_port = ?', 'client_port = ?'], params: [f.port, f.port] };
    else add('(server_port = ? OR client_port = ?)', f.port, f.port);
  }
  if (f.proto !== undefined) add('proto = ?', f.proto);
  if (f.direction !== undefined) add('direction = ?', f.direction);
  if (f.honeypot !== undefined) add('honeypot = ?', f.honeypot);
  if (f.sensor !== undefined) add('sensor = ?', f.sensor);
  if (f.appProto !== undefined) add('app_proto = ?', f.appProto);
  if (f.communityId !== undefined) add('community_id = ?', f.communityId);
  if (f.alerted === true) add('alerts > 0');
  if (f.sid !== undefined) {
    if (central) add('(sensor, id) IN (SELECT sensor, flow_id FROM alerts WHERE sid = ?)', f.sid);
    else add('id IN (SELECT flow_id FROM alerts WHERE sid = ?)', f.sid);
  }
  return { conds, args, either };
}

export function listFlows(db: Database.Database, f: FlowFilter = {}, page: Page = {}): Paged<FlowRow> {
  const { conds, args, either } = flowConditions(f);
  return keyset<FlowRow>(db, FLOWS, conds, args, page, (r) => r.first_us, either);
}

/**
 * The rows of `sql` (ordered, without LIMIT), at most `max` of them; with more, the number left out goes to
 * `cut[name]` (counted by a second query, only then).
 */
function bounded<T>(db: Database.Database, name: string, sql: string, args: unknown[], max: number | undefined, cut: Record<string, number>): T[] {
  if (max === undefined) return stmt(db, sql).all(...args) as T[];
  const rows = stmt(db, `${sql} LIMIT ?`).all(...args, max + 1) as T[];
  if (rows.length > max) {
    rows.length = max;
    const total = (stmt(db, `SELECT COUNT(*) AS n FROM (${sql})`).get(...args) as { n: number }).n;
    cut[name] = total - max;
  }
  return rows;
}

export function getFlow(db: Database.Database, id: number, limit: DetailLimit = {}): FlowDetail | undefined {
  const flow = stmt(db, 'SELECT * FROM flows WHERE id = ?').get(id) as FlowRow | undefined;
  if (flow === undefined) return undefined;
  const cut: Record<string, number> = {};
  const max = limit.max;
  const alerts = bounded<AlertRow>(db, 'alerts', 'SELECT * FROM alerts WHERE flow_id = ? ORDER BY ts_us, id', [id], max, cut);
  const files = bounded<FlowFileRow>(
    db,
    'files',
    `SELECT ff.capture_id, c.path, ff.first_offset, ff.last_offset, ff.packets FROM flow_files ff JOIN captures c ON c.id = ff.capture_id
     WHERE ff.flow_id = ? ORDER BY c.first_us, c.id`,
    [id],
    max,
    cut,
  );
  const sockets = bounded<SocketRow>(
    db,
    'sockets',
    `SELECT id, client, pid, com, fd, call_name, proto, sip, sport, dip, dport, time_sec, time_usec, flow_id FROM sockets WHERE flow_id = ?
     ORDER BY time_sec, time_usec, id`,
    [id],
    max,
    cut,
  );
  const processes = bounded<ProcessRow>(
    db,
    'processes',
    `SELECT p.* FROM processes p WHERE EXISTS (SELECT 1 FROM sockets s WHERE s.flow_id = ? AND s.client = p.client AND s.pid = p.pid)
     ORDER BY p.first_sec, p.pid`,
    [id],
    max,
    cut,
  );
  return { cut, flow, alerts, files, sockets, processes };
}

export interface AlertFilter {
  from?: number;
  to?: number;
  sid?: number;
  /** Source or destination address. */
  host?: string;
  honeypot?: string;
  sensor?: string;
  /** Row id of the flow. */
  flow?: number;
  /** Only alerts whose packet was dropped. */
  blocked?: boolean;
}

/** The conditions of an alert filter (both stores). */
export function alertConditions(f: AlertFilter): Conditions {
  const { conds, args, add } = conditions(ALERTS, f);
  if (f.sid !== undefined) add('sid = ?', f.sid);
  const either: Either | undefined = f.host === undefined ? undefined : { conds: ['src_ip = ?', 'dst_ip = ?'], params: [f.host, f.host] };
  if (f.honeypot !== undefined) add('honeypot = ?', f.honeypot);
  if (f.sensor !== undefined) add('sensor = ?', f.sensor);
  if (f.flow !== undefined) add('flow_id = ?', f.flow);
  if (f.blocked !== undefined) add('blocked = ?', f.blocked ? 1 : 0);
  return { conds, args, either };
}

export function listAlerts(db: Database.Database, f: AlertFilter = {}, page: Page = {}): Paged<AlertRow> {
  const { conds, args, either } = alertConditions(f);
  return keyset<AlertRow>(db, ALERTS, conds, args, page, (r) => r.ts_us, either);
}

export interface FirewallFilter {
  from?: number;
  to?: number;
  honeypot?: string;
  kind?: string;
  sensor?: string;
}

/** The conditions of a firewall line filter (both stores). */
export function firewallConditions(f: FirewallFilter): Conditions {
  const { conds, args, add } = conditions(FIREWALL, f);
  if (f.honeypot !== undefined) add('honeypot = ?', f.honeypot);
  if (f.kind !== undefined) add('kind = ?', f.kind);
  if (f.sensor !== undefined) add('sensor = ?', f.sensor);
  return { conds, args };
}

/** The firewall's lines, newest first (the overview's limits hit). */
export function listFirewall(db: Database.Database, f: FirewallFilter = {}, page: Page = {}): Paged<FirewallRow> {
  const { conds, args } = firewallConditions(f);
  return keyset<FirewallRow>(db, FIREWALL, conds, args, page, (r) => r.ts_us);
}

export interface FirewallRow {
  id: number;
  ts_us: number;
  kind: string;
  prefix: string;
  proto: string | null;
  src_ip: string | null;
  src_port: number | null;
  dst_ip: string | null;
  dst_port: number | null;
  in_iface: string | null;
  out_iface: string | null;
  length: number | null;
  honeypot: string | null;
  sensor: string;
  line: string;
}

export interface HostRow {
  honeypot: string;
  flows_in: number;
  flows_out: number;
  flows_other: number;
  bytes_in: number;
  bytes_out: number;
  alerts: number;
  firewall: number;
  limits: number;
  /** Unix seconds of its first and last active minute. */
  first_minute: number;
  last_minute: number;
  /** Sebek processes seen on it. */
  processes: number;
}

/**
 * The count table and its grain for a range: hours when both ends are whole hours (or open) and the buckets are
 * whole hours, else minutes. The hour table holds a month of a honeynet in thousands of rows; the minute table the
 * detail of a short range.
 */
function grain(from: number | undefined, to: number | undefined, bucket = 3600): { table: string; col: string; width: number } {
  const whole = (t: number | undefined) => t === undefined || t % 3_600_000_000 === 0;
  return whole(from) && whole(to) && bucket % 3600 === 0
    ? { table: 'hours', col: 'hour', width: 3600 }
    : { table: 'minutes', col: 'minute', width: 60 };
}

/**
 * Per honeypot totals over [from, to) (microseconds; the range is widened to whole minutes), from the counts of ended
 * flows, alerts and firewall lines, with its first and last active minute (hour, for totals over all time).
 */
export function hosts(db: Database.Database, range: { from?: number; to?: number } = {}): HostRow[] {
  const g = grain(range.from, range.to);
  const conds = ["honeypot != ''"];
  const args: unknown[] = [];
  if (range.from !== undefined) {
    conds.push(`${g.col} >= ?`);
    args.push(Math.floor(range.from / (g.width * 1e6)) * g.width);
  }
  if (range.to !== undefined) {
    conds.push(`${g.col} < ?`);
    args.push(Math.ceil(range.to / (g.width * 1e6)) * g.width);
  }
  const rows = stmt(
    db,
    `SELECT honeypot, SUM(flows_in) AS flows_in, SUM(flows_out) AS flows_out, SUM(flows_other) AS flows_other, SUM(bytes_in) AS bytes_in,
     SUM(bytes_out) AS bytes_out, SUM(alerts) AS alerts, SUM(firewall) AS firewall, SUM(limits) AS limits, MIN(${g.col}) AS first_minute,
     MAX(${g.col}) AS last_minute FROM ${g.table} WHERE ${conds.join(' AND ')} GROUP BY honeypot ORDER BY honeypot`,
  ).all(...args) as Omit<HostRow, 'processes'>[];
  const procs = new Map(
    (stmt(db, 'SELECT client, COUNT(*) AS n FROM processes GROUP BY client').all() as { client: string; n: number }[]).map((r) => [r.client, r.n]),
  );
  const out: HostRow[] = rows.map((r) => ({ ...r, processes: procs.get(r.honeypot) ?? 0 }));
  // a honeypot seen only by Sebek
  const seen = new Set(rows.map((r) => r.honeypot));
  for (const [client, n] of procs) {
    if (seen.has(client)) continue;
    out.push({
      honeypot: client,
      flows_in: 0,
      flows_out: 0,
      flows_other: 0,
      bytes_in: 0,
      bytes_out: 0,
      alerts: 0,
      firewall: 0,
      limits: 0,
      first_minute: 0,
      last_minute: 0,
      processes: n,
    });
  }
  return out.sort((a, b) => (a.honeypot < b.honeypot ? -1 : a.honeypot > b.honeypot ? 1 : 0));
}

export interface TimelineQuery {
  /** [from, to) in microseconds. */
  from: number;
  to: number;
  /**
   * Bucket width in seconds, a multiple of 60 (default: about 1/100 of the range, in whole minutes, or whole hours
   * past 100 hours).
   */
  bucket?: number;
  /** One honeypot, or all of them (flows with no honeypot included). */
  honeypot?: string;
}

export interface Bucket {
  /** Unix seconds of the bucket's start. */
  t: number;
  flows_in: number;
  flows_out: number;
  flows_other: number;
  bytes_in: number;
  bytes_out: number;
  alerts: number;
  firewall: number;
  limits: number;
}

/**
 * Counts per bucket over a range (only buckets with something in them; a flow counts in the minute it started).
 * Buckets start at `from` widened to its minute (its hour, when the buckets are whole hours: then the ends are whole
 * hours too, and the hour table is read).
 */
/** A timeline's bucket width in seconds: the one asked for (checked), or about 1/100 of the range. */
export function timelineBucket(q: TimelineQuery): number {
  if (!(q.to > q.from)) throw new QueryError('timeline: `to` must be after `from`');
  const span = (Math.ceil(q.to / 60e6) - Math.floor(q.from / 60e6)) * 60;
  const bucket = q.bucket ?? (span / 100 > 3600 ? Math.ceil(span / 100 / 3600) * 3600 : Math.max(60, Math.ceil(span / 100 / 60) * 60));
  if (!Number.isInteger(bucket) || bucket < 60 || bucket % 60 !== 0)
    throw new QueryError(`timeline: bucket must be a multiple of 60 s, got ${bucket}`);
  return bucket;
}

export function timeline(db: Database.Database, q: TimelineQuery): { bucket: number; buckets: Bucket[] } {
  const bucket = timelineBucket(q);
  const g = bucket % 3600 === 0 ? { table: 'hours', col: 'hour', width: 3600 } : { table: 'minutes', col: 'minute', width: 60 };
  const from = Math.floor(q.from / (g.width * 1e6)) * g.width;
  const to = Math.ceil(q.to / (g.width * 1e6)) * g.width;
  const conds = [`${g.col} >= ?`, `${g.col} < ?`];
  const args: unknown[] = [from, to];
  if (q.honeypot !== undefined) {
    conds.push('honeypot = ?');
    args.push(q.honeypot);
  }
  const buckets = stmt(
    db,
    // parameters are bound as doubles: the division is made whole explicitly
    `SELECT ? + CAST((${g.col} - ?) / ? AS INTEGER) * ? AS t, SUM(flows_in) AS flows_in, SUM(flows_out) AS flows_out,
     SUM(flows_other) AS flows_other, SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out, SUM(alerts) AS alerts,
     SUM(firewall) AS firewall, SUM(limits) AS limits FROM ${g.table} WHERE ${conds.join(' AND ')} GROUP BY t ORDER BY t`,
  ).all(from, from, bucket, bucket, ...args) as Bucket[];
  return { bucket, buckets };
}

export interface ProcessFilter {
  client?: string;
  /** Processes first seen in [from, to) (microseconds). */
  from?: number;
  to?: number;
  /** A command name it ran (exact). */
  com?: string;
  /** The central store's sensor (a local store's Sebek rows have none). */
  sensor?: string;
}

export type ProcessListRow = ProcessRow & { id: number };

/** The conditions of a process filter (both stores: `central` matches a command name in `coms` as JSON text). */
export function processConditions(f: ProcessFilter, central = false): Conditions {
  const conds: string[] = [];
  const args: unknown[] = [];
  if (f.client !== undefined) {
    conds.push('client = ?');
    args.push(f.client);
  }
  if (f.from !== undefined) {
    conds.push('first_sec >= ?');
    args.push(Math.floor(f.from / 1e6));
  }
  if (f.to !== undefined) {
    conds.push('first_sec < ?');
    args.push(Math.ceil(f.to / 1e6));
  }
  if (f.com !== undefined) {
    // coms is a JSON array of strings: a name is one of its elements when its JSON text is in it
    conds.push(
      central ? '(com = ? OR strpos(coms, to_json(?::text)::text) > 0)' : '(com = ? OR EXISTS (SELECT 1 FROM json_each(coms) WHERE value = ?))',
    );
    args.push(f.com, f.com);
  }
  if (f.sensor !== undefined) {
    conds.push('sensor = ?');
    args.push(f.sensor);
  }
  return { conds, args };
}

/** Sebek processes, newest first by their first record's time. */
export function listProcesses(db: Database.Database, f: ProcessFilter = {}, page: Page = {}): Paged<ProcessListRow> {
  const { conds, args } = processConditions({ ...f, sensor: undefined });
  return keyset<ProcessListRow>(db, PROCESSES, conds, args, page, (r) => r.first_sec);
}

export interface ProcessDetail {
  /** Rows left out of each list, by list name (only lists that were cut). */
  cut: Record<string, number>;
  process: ProcessRow;
  children: ProcessRow[];
  keystrokes: { time_sec: number; time_usec: number; fd: number; uid: number; com: string; line: string; terminated: number }[];
  opens: { time_sec: number; time_usec: number; fd: number; inode: number; path: string }[];
  sockets: SocketRow[];
}

/** One Sebek process: its children, keystroke lines (in order, with their times), files opened, socket calls and their flows. */
export function getProcess(db: Database.Database, client: string, pid: number, limit: DetailLimit = {}): ProcessDetail | undefined {
  const process = stmt(db, 'SELECT * FROM processes WHERE client = ? AND pid = ?').get(client, pid) as ProcessRow | undefined;
  if (process === undefined) return undefined;
  const cut: Record<string, number> = {};
  const max = limit.max;
  return {
    cut,
    process,
    children: bounded<ProcessRow>(
      db,
      'children',
      'SELECT * FROM processes WHERE client = ? AND ppid = ? ORDER BY first_sec, pid',
      [client, pid],
      max,
      cut,
    ),
    keystrokes: bounded<ProcessDetail['keystrokes'][number]>(
      db,
      'keystrokes',
      'SELECT time_sec, time_usec, fd, uid, com, line, terminated FROM keystroke_lines WHERE client = ? AND pid = ? ORDER BY time_sec, time_usec, id',
      [client, pid],
      max,
      cut,
    ),
    opens: bounded<ProcessDetail['opens'][number]>(
      db,
      'opens',
      'SELECT time_sec, time_usec, fd, inode, path FROM opens WHERE client = ? AND pid = ? ORDER BY time_sec, time_usec, id',
      [client, pid],
      max,
      cut,
    ),
    sockets: bounded<SocketRow>(
      db,
      'sockets',
      `SELECT id, client, pid, com, fd, call_name, proto, sip, sport, dip, dport, time_sec, time_usec, flow_id FROM sockets
       WHERE client = ? AND pid = ? ORDER BY time_sec, time_usec, id`,
      [client, pid],
      max,
      cut,
    ),
  };
}
