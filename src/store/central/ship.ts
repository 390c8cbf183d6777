/**
 * Shipping the SQLite store (the gateway's durable spool) to the central PostgreSQL store.
 *
 * One pass takes, table by table, up to `batch` rows above the table's high-water mark (the row id of an append-only
 * table, the change number `seq` of a table whose rows change: tables.ts), in mark order, and writes them in one
 * statement (`INSERT ... SELECT FROM unnest($2::bigint[], $3::text[], ...)`: one array a column, so a batch of
 * thousands of rows is one round trip and one plan) with `ON CONFLICT` on the natural key: an append-only record
 * already there is left as it is, a changed row replaces the central one when its change number is higher. Only after
 * PostgreSQL committed does the mark move (in the SQLite store's `ship_state`), so a crash or an outage between the
 * two sends the same rows again, and they are stored once.
 *
 * An outage (PostgreSQL or the link down, a timeout) leaves the mark where it was; the loop retries with exponential
 * backoff (with jitter, so gateways do not come back all at once) and nothing is lost: the rows wait in the spool. A
 * batch PostgreSQL refuses for its data (a value it cannot store) is shipped row by row and each refused row is
 * counted, logged (escaped) and passed over, so one hostile row never stops the flow. Values from the honeynet are
 * bound as parameters, never SQL text; text longer than MAX_TEXT and bytes longer than MAX_BYTES are cut (counted), and
 * NUL, which PostgreSQL's text cannot hold, is written as `\x00` (the escaping the Sebek reader uses).
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { errorLine, isDataError, newClient, redactUrl } from './connect.js';
import { dayOf, Partitions, type PartitionStats } from './partitions.js';
import { conflictKey, migrateCentral, PG_TYPE } from './schema.js';
import { SHIPPED_TABLES, type ShippedTable } from './tables.js';
import type { SpoolMarks } from '../spool.js';

/** Characters of one text value shipped at the most. */
export const MAX_TEXT = 65_536;
/** Bytes of one BLOB value shipped at the most. */
export const MAX_BYTES = 1 << 20;
/** A quoted element of an array literal: `"` and `\` escaped (PostgreSQL's array input, arrays.sgml). */
function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** Refused rows logged one by one (the rest counted). */
const MAX_LOGGED_REJECTS = 20;

export interface ShipperOptions {
  url: string;
  /** The sensor name every central row carries (HwSENSOR). */
  sensor: string;
  /** Central retention in days (0: keep everything). */
  keepDays?: number;
  /** Rows per table per statement (default 5,000). */
  batch?: number;
  log?: (line: string) => void;
  now?: () => number;
  /** Wait when caught up (default 1 s). */
  idleMs?: number;
  /** Backoff after a failure: first and longest wait (default 1 s, 60 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Partitions ahead and retention, this often (default 1 h). */
  maintainMs?: number;
}

export class ShipStats {
  connected = false;
  /** Rows written to the central store by this process, by table (a row sent again after an outage counts again). */
  shipped: Record<string, number> = Object.fromEntries(SHIPPED_TABLES.map((t) => [t.name, 0]));
  batches = 0;
  /** Rows PostgreSQL refused for their data (passed over), values cut to the bounds. */
  rejected = 0;
  truncated = 0;
  /** Records missing from the spool before they were shipped (ids skipped: rows deleted before shipping). */
  missing = 0;
  /** Outages (connection lost or refused) and retries after them. */
  outages = 0;
  retries = 0;
  lastError: string | undefined = undefined;
  lastErrorAt: string | undefined = undefined;
  /** When the spool was last found fully shipped. */
  caughtUpAt: string | undefined = undefined;
  /** The lag: records in the spool above the marks, and seconds since the spool was last fully shipped. */
  behindRecords = 0;
  behindSeconds = 0;
  partitions: PartitionStats | undefined = undefined;
}

interface TableState {
  t: ShippedTable;
  select: Database.Statement;
  behind: Database.Statement;
  hwm: number;
  insertSql: string;
}

/**
 * The spool's identity (ship_meta) and the SQLite side of every shipped table. It tells the spool's bound
 * (src/store/spool.ts) what is shipped (the marks), which table has a batch on its way (not dropped under it), and
 * moves an append-only table's mark past rows the bound dropped unshipped (so they are neither waited for nor counted
 * missing: they are counted as dropped there).
 */
export class Shipper implements SpoolMarks {
  readonly stats = new ShipStats();
  readonly spool: string;
  private readonly tables: TableState[];
  private readonly saveMark: Database.Statement;
  private readonly skipMark: Database.Statement;
  /** The table whose batch is read and not yet marked (between its SELECT and its mark's UPDATE). */
  private inFlight: string | undefined;
  private readonly partitions: Partitions;
  private client: pg.Client | undefined;
  private broken = false;
  private lastMaintain = 0;
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly batch: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private downSince: number | undefined;
  private startedAt: number;

  constructor(
    readonly db: Database.Database,
    readonly opts: ShipperOptions,
  ) {
    this.batch = Math.max(1, Math.min(opts.batch ?? 5000, 50_000));
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.startedAt = this.now();
    this.partitions = new Partitions(opts.keepDays ?? 0, this.now);
    this.stats.partitions = this.partitions.stats;
    const meta = db.prepare("SELECT v FROM ship_meta WHERE k = 'spool'").get() as { v: string } | undefined;
    if (meta === undefined) throw new Error('the store has no spool id (ship_meta): not migrated');
    this.spool = meta.v;
    const init = db.prepare('INSERT OR IGNORE INTO ship_state (tbl, hwm) VALUES (?, 0)');
    const mark = db.prepare('SELECT hwm FROM ship_state WHERE tbl = ?');
    this.saveMark = db.prepare('UPDATE ship_state SET hwm = ?, shipped = shipped + ?, missing = missing + ?, shipped_at = ? WHERE tbl = ?');
    this.skipMark = db.prepare('UPDATE ship_state SET hwm = ? WHERE tbl = ? AND hwm < ?');
    this.tables = SHIPPED_TABLES.map((t) => {
      init.run(t.name);
      const names = t.columns.map((c) => c.name);
      const key = conflictKey(t);
      const conflict =
        t.mode === 'append'
          ? 'DO NOTHING'
          : `DO UPDATE SET ${names
              .filter((n) => !key.includes(n))
              .map((n) => `${n} = EXCLUDED.${n}`)
              .join(', ')} WHERE ${t.name}.seq < EXCLUDED.seq`;
      return {
        t,
        select: db
          .prepare(`SELECT ${names.map((n) => t.from?.[n] ?? n).join(', ')} FROM ${t.name} WHERE ${t.mark} > ? ORDER BY ${t.mark} LIMIT ?`)
          .raw(true),
        behind: db.prepare(`SELECT COUNT(*) FROM ${t.name} WHERE ${t.mark} > ?`).pluck(true),
        hwm: (mark.get(t.name) as { hwm: number }).hwm,
        insertSql: `INSERT INTO ${t.name} (sensor, ${names.join(', ')}) SELECT $1, u.* FROM unnest(${t.columns
          .map((c, i) => `$${i + 2}::${PG_TYPE[c.type]}[]`)
          .join(', ')}) AS u(${names.join(', ')}) ON CONFLICT (${key.join(', ')}) ${conflict}`,
      };
    });
  }

  /** Connects (if not connected), brings the central schema up to date, registers the sensor, keeps partitions. */
  private async connection(): Promise<pg.Client> {
    if (this.client !== undefined && !this.broken) return this.client;
    await this.disconnect();
    const c = newClient(this.opts.url);
    // an error between queries (the server gone) arrives here: the next query fails and the loop reconnects
    c.on('error', () => {
      this.broken = true;
    });
    this.broken = false;
    try {
      await c.connect();
      await migrateCentral(c);
      const r = await c.query(
        `INSERT INTO sensors (sensor, spool) VALUES ($1, $2) ON CONFLICT (sensor) DO UPDATE SET last_seen = now()
         WHERE sensors.spool = EXCLUDED.spool RETURNING spool`,
        [this.opts.sensor, this.spool],
      );
      if (r.rowCount === 0) {
        throw new Error(
          `sensor '${this.opts.sensor}' is fed by another spool (another store file) in the central store: give this gateway its own HwSENSOR`,
        );
      }
      await this.partitions.load(c);
      if (this.stopping) throw new Error('stopping');
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    this.client = c;
    this.stats.connected = true;
    this.lastMaintain = 0;
    return c;
  }

  private async disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.stats.connected = false;
    if (c !== undefined) await c.end().catch(() => undefined);
  }

  private async maintain(c: pg.Client): Promise<void> {
    const now = this.now();
    if (now - this.lastMaintain < (this.opts.maintainMs ?? 3_600_000)) return;
    await this.partitions.ahead(c);
    const dropped = await this.partitions.dropOld(c);
    if (dropped > 0) this.log(`central store: retention dropped ${dropped} day partitions older than ${this.partitions.keepDays} days`);
    this.lastMaintain = now;
  }

  /** Runs retention now (tests, `honeywall ship`). */
  async retention(): Promise<number> {
    return this.partitions.dropOld(await this.connection());
  }

  /** One pass over every table (up to `batch` rows each); the rows shipped. Throws on an outage (the marks stay). */
  async pass(): Promise<number> {
    const c = await this.connection();
    await this.maintain(c);
    let n = 0;
    for (const s of this.tables) n += await this.shipTable(c, s);
    if (n === 0) this.stats.caughtUpAt = new Date(this.now()).toISOString();
    return n;
  }

  private async shipTable(c: pg.Client, s: TableState): Promise<number> {
    const rows = s.select.all(s.hwm, this.batch) as unknown[][];
    if (rows.length === 0) return 0;
    this.inFlight = s.t.name;
    try {
      return await this.shipRows(c, s, rows);
    } finally {
      this.inFlight = undefined;
    }
  }

  mark(table: string): number {
    return this.state(table).hwm;
  }

  busy(table: string): boolean {
    return this.inFlight === table;
  }

  passOver(table: string, mark: number): void {
    const s = this.state(table);
    if (s.t.mode !== 'append' || mark <= s.hwm) return;
    this.skipMark.run(mark, table, mark);
    s.hwm = mark;
  }

  private state(table: string): TableState {
    const s = this.tables.find((x) => x.t.name === table);
    if (s === undefined) throw new Error(`no shipped table ${table}`);
    return s;
  }

  private async shipRows(c: pg.Client, s: TableState, rows: unknown[][]): Promise<number> {
    const { t } = s;
    const markIx = t.columns.findIndex((col) => col.name === t.mark);
    const timeIx = t.columns.findIndex((col) => col.name === t.time);
    const days = new Set<number>();
    for (const r of rows) if (typeof r[timeIx] === 'number') days.add(dayOf(t, r[timeIx] as number));
    const defaulted = await this.partitions.ensure(c, t, days);
    if (defaulted.size > 0) {
      for (const r of rows) if (typeof r[timeIx] === 'number' && defaulted.has(dayOf(t, r[timeIx] as number))) this.partitions.stats.defaulted++;
    }
    const written = await this.insert(c, s, rows);
    let missing = 0;
    let prev = s.hwm;
    for (const r of rows) {
      const m = r[markIx] as number;
      if (t.mode === 'append' && m > prev + 1) missing += m - prev - 1;
      prev = m;
    }
    this.saveMark.run(prev, written, missing, Math.floor(this.now() / 1000), t.name);
    s.hwm = prev;
    this.stats.shipped[t.name] = (this.stats.shipped[t.name] ?? 0) + written;
    this.stats.missing += missing;
    this.stats.batches++;
    return rows.length;
  }

  /** Writes the rows; a batch refused for its data is written row by row, the refused rows counted and passed over. */
  private async insert(c: pg.Client, s: TableState, rows: unknown[][]): Promise<number> {
    try {
      await c.query(s.insertSql, this.params(s.t, rows));
      return rows.length;
    } catch (err) {
      if (!isDataError(err) || rows.length === 0) throw err;
    }
    let ok = 0;
    for (const r of rows) {
      try {
        await c.query(s.insertSql, this.params(s.t, [r]));
        ok++;
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.stats.rejected++;
        if (this.stats.rejected <= MAX_LOGGED_REJECTS) {
          this.log(
            `central store: a ${s.t.name} row (${s.t.mark} ${String(r[s.t.columns.findIndex((x) => x.name === s.t.mark)])}) refused: ${errorLine(err)}`,
          );
        }
      }
    }
    return ok;
  }

  /** One array a column, every value bounded: the statement's parameters after the sensor. */
  /**
   * One PostgreSQL array literal a column (`{1,NULL,"text \\"quoted\\""}`), every value bounded: the statement's
   * parameters after the sensor. Built here rather than by node-postgres's generic array serializer (a third of the
   * shipper's CPU): integers as they are, text and bytes double-quoted with `"` and `\` escaped, so any value is one
   * element and never SQL.
   */
  private params(t: ShippedTable, rows: unknown[][]): unknown[] {
    const out: unknown[] = [this.opts.sensor];
    t.columns.forEach((col, i) => {
      const parts = new Array<string>(rows.length);
      for (let j = 0; j < rows.length; j++) parts[j] = this.element(col.type, rows[j]![i]);
      out.push(`{${parts.join(',')}}`);
    });
    return out;
  }

  private element(type: 'i' | 't' | 'b', v: unknown): string {
    if (v === null || v === undefined) return 'NULL';
    if (type === 'i') {
      // an integer, or (a value SQLite's typing let through) quoted text that PostgreSQL refuses as a bigint: the
      // batch is then written row by row and that row counted as refused
      if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') return String(v);
      return quote(String(v));
    }
    if (type === 't') {
      let s = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      if (s.length > MAX_TEXT) {
        this.stats.truncated++;
        s = `${s.slice(0, MAX_TEXT)}...[${s.length - MAX_TEXT} more characters]`;
      }
      return quote(s.includes('\0') ? s.replaceAll('\0', '\\x00') : s);
    }
    let b = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
    if (b.length > MAX_BYTES) {
      this.stats.truncated++;
      b = b.subarray(0, MAX_BYTES);
    }
    // bytea's hex input form, its backslash escaped inside the quoted element
    return `"\\\\x${b.toString('hex')}"`;
  }

  /** The lag: records above the marks, and seconds since the spool was last fully shipped. */
  lag(): { records: number; seconds: number } {
    let records = 0;
    for (const s of this.tables) records += s.behind.get(s.hwm) as number;
    const since = this.stats.caughtUpAt !== undefined ? Date.parse(this.stats.caughtUpAt) : this.startedAt;
    const seconds = records === 0 ? 0 : Math.max(0, Math.round((this.now() - since) / 1000));
    this.stats.behindRecords = records;
    this.stats.behindSeconds = seconds;
    return { records, seconds };
  }

  private failed(err: unknown): void {
    this.stats.lastError = errorLine(err);
    this.stats.lastErrorAt = new Date(this.now()).toISOString();
    if (this.downSince === undefined) {
      this.downSince = this.now();
      this.stats.outages++;
      this.log(`central store ${redactUrl(this.opts.url)}: ${this.stats.lastError}; retrying, records wait in the spool`);
    }
    this.broken = true;
  }

  private recovered(): void {
    if (this.downSince === undefined) return;
    const s = Math.round((this.now() - this.downSince) / 1000);
    this.downSince = undefined;
    this.log(`central store ${redactUrl(this.opts.url)}: shipping again after ${s} s`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /**
   * Ships until the spool is fully shipped; outages are retried with backoff for up to `giveUpMs` (then the last
   * error is thrown). For `honeywall ship` and tests.
   */
  async drain(giveUpMs = 0): Promise<void> {
    let backoff = this.opts.minBackoffMs ?? 1000;
    let firstFail: number | undefined;
    for (;;) {
      try {
        const n = await this.pass();
        this.recovered();
        firstFail = undefined;
        backoff = this.opts.minBackoffMs ?? 1000;
        if (n === 0) return;
      } catch (err) {
        this.failed(err);
        firstFail ??= this.now();
        if (this.now() - firstFail >= giveUpMs) throw err;
        this.stats.retries++;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 60_000);
      }
    }
  }

  /** The gateway's loop: ships, waits when caught up, retries outages with backoff, until stop(). */
  start(): void {
    if (this.loopDone !== undefined) return;
    this.loopDone = (async () => {
      let backoff = this.opts.minBackoffMs ?? 1000;
      while (!this.stopping) {
        try {
          const n = await this.pass();
          this.recovered();
          backoff = this.opts.minBackoffMs ?? 1000;
          if (n === 0 && !this.stopping) await this.sleep(this.opts.idleMs ?? 1000);
        } catch (err) {
          // a statement cut by stop() is not an outage
          if (this.stopping) break;
          this.failed(err);
          this.stats.retries++;
          await this.sleep(backoff * (0.8 + Math.random() * 0.4));
          backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 60_000);
        }
      }
    })();
  }

  /**
   * Ends the loop and the connection. The connection is closed at once, so a statement waiting on a dead link does
   * not hold up the gateway's stop; a batch cut that way is sent again at the next start (the mark had not moved).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.disconnect();
    await this.loopDone;
  }
}
