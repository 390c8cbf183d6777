/**
 * The console's reads over the central PostgreSQL store (reader.ts's StoreReader): every list and detail filtered by
 * sensor or spanning them, the filters' SQL from query.ts's builders (their `?` numbered as `$n` here), every value a
 * bind parameter. Lists are keyset-paged newest first by (time, id, sensor): a gateway's ids are its own, so the
 * sensor breaks ties between sensors, and the cursor carries it (`TIME:ID:SENSOR`). A flow's or a process's detail
 * needs its sensor. The per-honeypot totals and the timeline are counted from the rows (the central store has no count
 * tables), so they include open flows and count a flow in the minute it started.
 */
import pg from 'pg';
import {
  alertConditions,
  type AlertFilter,
  type AlertRow,
  type Bucket,
  type Conditions,
  type DetailLimit,
  firewallConditions,
  type FirewallFilter,
  type FirewallRow,
  flowConditions,
  type FlowDetail,
  type FlowFilter,
  type FlowRow,
  type HostRow,
  type Page,
  type Paged,
  processConditions,
  type ProcessFilter,
  type ProcessListRow,
  type ProcessRow,
  QueryError,
  type SocketRow,
  type TimelineQuery,
  timelineBucket,
} from '../query.js';
import { likePattern, type ProcessView, SEARCH_ROWS, type StoreReader, type TextSearch } from '../reader.js';
import { redactUrl } from './connect.js';

const MAX_LIMIT = 1000;

/** bigint columns as numbers (times in microseconds and ids stay below 2^53). */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** `?` placeholders numbered from `$first`. */
function numbered(sql: string, first: number): string {
  let i = first;
  return sql.replace(/\?/g, () => `$${i++}`);
}

export function parseCentralCursor(c: string): [number, number, string | undefined] {
  const m = /^(-?\d{1,17}):(\d{1,17})(?::([\x21-\x7e]{1,64}))?$/.exec(c);
  if (m === null) throw new QueryError(`bad page cursor '${c.slice(0, 40)}'`);
  return [Number(m[1]), Number(m[2]), m[3]];
}

export class CentralReader implements StoreReader {
  readonly central = true;
  readonly label: string;
  private readonly pool: pg.Pool;

  constructor(url: string, max = 4) {
    this.label = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max, application_name: 'honeywall console', statement_timeout: 60_000, types: TYPES });
    // an idle connection's error (the server restarted): the pool drops it; the next query opens another
    this.pool.on('error', () => undefined);
  }

  private async rows<T>(sql: string, args: unknown[]): Promise<T[]> {
    return (await this.pool.query(sql, args)).rows as T[];
  }

  /** One page of `table` by (time, id, sensor) with the conditions built for it. */
  private async keyset<T extends { id: number; sensor: string }>(
    table: string,
    timeCol: string,
    built: Conditions,
    page: Page,
    timeOf: (row: T) => number,
  ): Promise<Paged<T>> {
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new QueryError(`limit must be a positive integer, got ${limit}`);
    const n = Math.min(limit, MAX_LIMIT);
    const desc = (page.order ?? 'desc') === 'desc';
    const conds = [...built.conds];
    const args = [...built.args];
    if (built.either !== undefined) {
      conds.push(`(${built.either.conds[0]} OR ${built.either.conds[1]})`);
      args.push(...built.either.params);
    }
    if (page.after !== undefined) {
      const [t, id, sensor] = parseCentralCursor(page.after);
      conds.push(`(${timeCol}, id, sensor) ${desc ? '<' : '>'} (?, ?, ?)`);
      args.push(t, id, sensor ?? (desc ? '' : '\u{10ffff}'));
    }
    const dir = desc ? 'DESC' : 'ASC';
    const where = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '';
    const rows = await this.rows<T>(numbered(`SELECT * FROM ${table}${where} ORDER BY ${timeCol} ${dir}, id ${dir}, sensor ${dir} LIMIT ?`, 1), [
      ...args,
      n + 1,
    ]);
    const more = rows.length > n;
    if (more) rows.length = n;
    const last = rows[rows.length - 1];
    return { rows, next: more && last !== undefined ? `${timeOf(last)}:${last.id}:${last.sensor}` : undefined };
  }

  /** At most `max` rows of `sql` (ordered), the rest counted into cut[name]. */
  private async bounded<T>(name: string, sql: string, args: unknown[], max: number | undefined, cut: Record<string, number>): Promise<T[]> {
    if (max === undefined) return this.rows<T>(numbered(sql, 1), args);
    const rows = await this.rows<T>(numbered(`${sql} LIMIT ?`, 1), [...args, max + 1]);
    if (rows.length > max) {
      rows.length = max;
      const [{ n }] = await this.rows<{ n: number }>(numbered(`SELECT COUNT(*)::int AS n FROM (${sql}) x`, 1), args);
      cut[name] = n - max;
    }
    return rows;
  }

  listFlows(f: FlowFilter, page: Page): Promise<Paged<FlowRow>> {
    return this.keyset<FlowRow>('flows', 'first_us', flowConditions(f, true), page, (r) => r.first_us);
  }

  async getFlow(id: number, sensor: string | undefined, limit: DetailLimit): Promise<FlowDetail | undefined> {
    if (sensor === undefined) throw new QueryError('sensor: the central store names a flow by its sensor and id');
    const [flow] = await this.rows<FlowRow>('SELECT * FROM flows WHERE sensor = $1 AND id = $2 LIMIT 1', [sensor, id]);
    if (flow === undefined) return undefined;
    const cut: Record<string, number> = {};
    const max = limit.max;
    const alerts = await this.bounded<AlertRow>(
      'alerts',
      'SELECT * FROM alerts WHERE sensor = ? AND flow_id = ? ORDER BY ts_us, id',
      [sensor, id],
      max,
      cut,
    );
    const sockets = await this.bounded<SocketRow>(
      'sockets',
      `SELECT id, client, pid, com, fd, call_name, proto, sip, sport, dip, dport, time_sec, time_usec, flow_id FROM sockets
       WHERE sensor = ? AND flow_id = ? ORDER BY time_sec, time_usec, id`,
      [sensor, id],
      max,
      cut,
    );
    const processes = await this.bounded<ProcessRow>(
      'processes',
      `SELECT p.* FROM processes p WHERE p.sensor = ? AND EXISTS (SELECT 1 FROM sockets s WHERE s.sensor = p.sensor AND s.flow_id = ?
       AND s.client = p.client AND s.pid = p.pid) ORDER BY p.first_sec, p.pid`,
      [sensor, id],
      max,
      cut,
    );
    // the capture files are the gateway's: the central store keeps no frame offsets
    return { cut, flow, alerts, files: [], sockets, processes };
  }

  listAlerts(f: AlertFilter, page: Page): Promise<Paged<AlertRow>> {
    return this.keyset<AlertRow & { sensor: string }>('alerts', 'ts_us', alertConditions(f), page, (r) => r.ts_us);
  }

  listProcesses(f: ProcessFilter, page: Page): Promise<Paged<ProcessListRow>> {
    return this.keyset<ProcessListRow & { sensor: string }>('processes', 'first_sec', processConditions(f, true), page, (r) => r.first_sec);
  }

  async getProcess(client: string, pid: number, sensor: string | undefined, limit: DetailLimit): Promise<ProcessView | undefined> {
    if (sensor === undefined) throw new QueryError('sensor: the central store names a process by its sensor, honeypot and pid');
    const [process] = await this.rows<ProcessRow>('SELECT * FROM processes WHERE sensor = $1 AND client = $2 AND pid = $3', [sensor, client, pid]);
    if (process === undefined) return undefined;
    const cut: Record<string, number> = {};
    const max = limit.max;
    const key = [sensor, client, pid];
    const children = await this.bounded<ProcessRow>(
      'children',
      'SELECT * FROM processes WHERE sensor = ? AND client = ? AND ppid = ? ORDER BY first_sec, pid',
      key,
      max,
      cut,
    );
    const keystrokes = await this.bounded<ProcessView['keystrokes'][number]>(
      'keystrokes',
      'SELECT time_sec, time_usec, fd, uid, com, line, terminated FROM keystroke_lines WHERE sensor = ? AND client = ? AND pid = ? ORDER BY time_sec, time_usec, id',
      key,
      max,
      cut,
    );
    const opens = await this.bounded<ProcessView['opens'][number]>(
      'opens',
      'SELECT time_sec, time_usec, fd, inode, path FROM opens WHERE sensor = ? AND client = ? AND pid = ? ORDER BY time_sec, time_usec, id',
      key,
      max,
      cut,
    );
    const sockets = await this.bounded<SocketRow>(
      'sockets',
      `SELECT id, client, pid, com, fd, call_name, proto, sip, sport, dip, dport, time_sec, time_usec, flow_id FROM sockets
       WHERE sensor = ? AND client = ? AND pid = ? ORDER BY time_sec, time_usec, id`,
      key,
      max,
      cut,
    );
    const [parent] = await this.rows<{ pid: number; com: string }>('SELECT pid, com FROM processes WHERE sensor = $1 AND client = $2 AND pid = $3', [
      sensor,
      client,
      process.ppid,
    ]);
    return { cut, process, children, keystrokes, opens, sockets, parent: parent ?? null };
  }

  /** Per sensor and honeypot: connections and bytes (as the honeypot saw them), alerts, firewall lines, limits, processes. */
  async hosts(range: { from?: number; to?: number; sensor?: string }): Promise<(HostRow & { sensor: string })[]> {
    const where = (time: string, extra: string) => {
      const conds = [extra];
      const args: unknown[] = [];
      if (range.from !== undefined) conds.push(`${time} >= ?`), args.push(range.from);
      if (range.to !== undefined) conds.push(`${time} < ?`), args.push(range.to);
      if (range.sensor !== undefined) conds.push('sensor = ?'), args.push(range.sensor);
      return { sql: conds.join(' AND '), args };
    };
    const f = where('first_us', "honeypot IS NOT NULL AND honeypot <> ''");
    const a = where('ts_us', "honeypot IS NOT NULL AND honeypot <> ''");
    const w = where('ts_us', "honeypot IS NOT NULL AND honeypot <> ''");
    const p = range.sensor === undefined ? { sql: 'true', args: [] as unknown[] } : { sql: 'sensor = ?', args: [range.sensor] as unknown[] };
    const sql = `
      WITH f AS (SELECT sensor, honeypot, COUNT(*) FILTER (WHERE direction = 'inbound') AS flows_in,
          COUNT(*) FILTER (WHERE direction = 'outbound') AS flows_out, COUNT(*) FILTER (WHERE direction NOT IN ('inbound', 'outbound')) AS flows_other,
          SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toclient ELSE bytes_toserver END) AS bytes_in,
          SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toserver ELSE bytes_toclient END) AS bytes_out,
          MIN(first_us) AS lo, MAX(first_us) AS hi FROM flows WHERE ${f.sql} GROUP BY 1, 2),
        a AS (SELECT sensor, honeypot, COUNT(*) AS alerts, MIN(ts_us) AS lo, MAX(ts_us) AS hi FROM alerts WHERE ${a.sql} GROUP BY 1, 2),
        w AS (SELECT sensor, honeypot, COUNT(*) AS firewall, COUNT(*) FILTER (WHERE kind = 'limit') AS limits, MIN(ts_us) AS lo, MAX(ts_us) AS hi
          FROM firewall_events WHERE ${w.sql} GROUP BY 1, 2),
        p AS (SELECT sensor, client AS honeypot, COUNT(*) AS processes FROM processes WHERE ${p.sql} GROUP BY 1, 2)
      SELECT sensor, honeypot, COALESCE(f.flows_in, 0)::bigint AS flows_in, COALESCE(f.flows_out, 0)::bigint AS flows_out,
        COALESCE(f.flows_other, 0)::bigint AS flows_other, COALESCE(f.bytes_in, 0)::bigint AS bytes_in, COALESCE(f.bytes_out, 0)::bigint AS bytes_out,
        COALESCE(a.alerts, 0)::bigint AS alerts, COALESCE(w.firewall, 0)::bigint AS firewall, COALESCE(w.limits, 0)::bigint AS limits,
        COALESCE(p.processes, 0)::bigint AS processes,
        COALESCE(LEAST(f.lo, a.lo, w.lo) / 60000000 * 60, 0)::bigint AS first_minute, COALESCE(GREATEST(f.hi, a.hi, w.hi) / 60000000 * 60, 0)::bigint AS last_minute
      FROM f FULL JOIN a USING (sensor, honeypot) FULL JOIN w USING (sensor, honeypot) FULL JOIN p USING (sensor, honeypot)
      ORDER BY sensor, honeypot`;
    return this.rows<HostRow & { sensor: string }>(numbered(sql, 1), [...f.args, ...a.args, ...w.args, ...p.args]);
  }

  /** Counts per bucket, laid out as the SQLite store's timeline (query.ts): buckets from `from` widened to its minute. */
  async timeline(q: TimelineQuery & { sensor?: string }): Promise<{ bucket: number; buckets: Bucket[] }> {
    const bucket = timelineBucket(q);
    const grain = bucket % 3600 === 0 ? 3600 : 60;
    const start = Math.floor(q.from / (grain * 1e6)) * grain;
    const end = Math.ceil(q.to / (grain * 1e6)) * grain;
    const filter = (time: string) => {
      const conds = [`${time} >= ?`, `${time} < ?`];
      const args: unknown[] = [start * 1e6, end * 1e6];
      if (q.sensor !== undefined) conds.push('sensor = ?'), args.push(q.sensor);
      if (q.honeypot !== undefined) conds.push('honeypot = ?'), args.push(q.honeypot);
      return { where: conds.join(' AND '), args };
    };
    // integers checked above, not values from the request
    const t = (time: string) => `${start} + ((${time} - ${start * 1e6}) / ${bucket * 1e6}) * ${bucket}`;
    const f = filter('first_us');
    const a = filter('ts_us');
    const w = filter('ts_us');
    const flows = await this.rows<Record<string, number>>(
      numbered(
        `SELECT ${t('first_us')} AS t, COUNT(*) FILTER (WHERE direction = 'inbound') AS flows_in, COUNT(*) FILTER (WHERE direction = 'outbound') AS flows_out,
         COUNT(*) FILTER (WHERE direction NOT IN ('inbound', 'outbound')) AS flows_other,
         SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toclient ELSE bytes_toserver END)::bigint AS bytes_in,
         SUM(CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toserver ELSE bytes_toclient END)::bigint AS bytes_out
         FROM flows WHERE ${f.where} GROUP BY 1`,
        1,
      ),
      f.args,
    );
    const alerts = await this.rows<Record<string, number>>(
      numbered(`SELECT ${t('ts_us')} AS t, COUNT(*) AS alerts FROM alerts WHERE ${a.where} GROUP BY 1`, 1),
      a.args,
    );
    const fw = await this.rows<Record<string, number>>(
      numbered(
        `SELECT ${t('ts_us')} AS t, COUNT(*) AS firewall, COUNT(*) FILTER (WHERE kind = 'limit') AS limits FROM firewall_events WHERE ${w.where} GROUP BY 1`,
        1,
      ),
      w.args,
    );
    const out = new Map<number, Bucket>();
    const at = (time: number): Bucket => {
      let b = out.get(time);
      if (b === undefined) {
        b = { t: time, flows_in: 0, flows_out: 0, flows_other: 0, bytes_in: 0, bytes_out: 0, alerts: 0, firewall: 0, limits: 0 };
        out.set(time, b);
      }
      return b;
    };
    for (const r of flows) Object.assign(at(Number(r.t)), { ...r, t: Number(r.t), bytes_in: r.bytes_in ?? 0, bytes_out: r.bytes_out ?? 0 });
    for (const r of alerts) at(Number(r.t)).alerts = Number(r.alerts);
    for (const r of fw) Object.assign(at(Number(r.t)), { firewall: Number(r.firewall), limits: Number(r.limits) });
    return { bucket, buckets: [...out.values()].sort((x, y) => x.t - y.t) };
  }

  listFirewall(f: FirewallFilter, page: Page): Promise<Paged<FirewallRow>> {
    return this.keyset<FirewallRow>('firewall_events', 'ts_us', firewallConditions(f), page, (r) => r.ts_us);
  }

  async searchText(text: string, sensor: string | undefined): Promise<TextSearch> {
    const pattern = likePattern(text);
    const like = async (sql: string) => {
      const args: unknown[] = [pattern];
      if (sensor !== undefined) args.push(sensor);
      const s = sql.replace('SENSOR', sensor === undefined ? 'true' : 'sensor = ?');
      const rows = await this.rows<unknown>(numbered(`${s} LIMIT ?`, 1), [...args, SEARCH_ROWS + 1]);
      const more = rows.length > SEARCH_ROWS;
      if (more) rows.length = SEARCH_ROWS;
      return { rows, more };
    };
    return {
      alerts: await like("SELECT * FROM alerts WHERE msg ILIKE ? ESCAPE '\\' AND SENSOR ORDER BY ts_us DESC, id DESC"),
      keystrokes: await like(
        "SELECT sensor, client, pid, com, time_sec, time_usec, line FROM keystroke_lines WHERE line ILIKE ? ESCAPE '\\' AND SENSOR ORDER BY time_sec DESC, time_usec DESC, id DESC",
      ),
      opens: await like(
        "SELECT sensor, client, pid, com, time_sec, time_usec, path FROM opens WHERE path ILIKE ? ESCAPE '\\' AND SENSOR ORDER BY time_sec DESC, time_usec DESC, id DESC",
      ),
      processes: await like("SELECT * FROM processes WHERE coms ILIKE ? ESCAPE '\\' AND SENSOR ORDER BY first_sec DESC, pid DESC"),
    };
  }

  /** The sensors that ship here (the console's sensor choice). */
  async sensors(): Promise<string[]> {
    return (await this.rows<{ sensor: string }>('SELECT sensor FROM sensors ORDER BY sensor', [])).map((r) => r.sensor);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
