/**
 * The store's own bound (HwSTORE_MAX_GB, HwSTORE_KEEP_DAYS): the SQLite store is the central store's spool
 * (src/store/central/ship.ts), and a gateway's disk is finite. A sweep, run by the store worker between the feed's
 * steps, deletes rows in three steps, each oldest first and in bounded batches (one short transaction each, so the
 * writer is never held for long and the capture follower reads on between batches):
 *
 * 1. age: rows older than the keep days, shipped ones only (with HwSTORE_URL: an unshipped row waits for the central
 *    store whatever its age; only the size bound may drop it);
 * 2. size, shipped: while the pages in use exceed the bound, the oldest rows already shipped (at or below their
 *    table's high-water mark);
 * 3. size, unshipped: when that is not enough (the central store has been away long enough), the oldest rows not yet
 *    shipped. These are the spool's drops: counted per table, reported in the status, logged when dropping starts and
 *    when it ends (never a line per row), and an append-only table's mark moves past them, so the shipper neither
 *    waits on the gap nor counts the rows `missing`.
 * Without HwSTORE_URL nothing is unshipped: the same steps are plain local retention (every row counts as deleted).
 *
 * Oldest first: within a table, rows go in the order they were written (their id, a B-tree range: no scan of the
 * table), the front of each table looked at through a window of two batches; across tables, the table whose oldest
 * deletable row is oldest by its time column (tables.ts: a flow's first packet, an alert's time, a Sebek record's
 * capture time; the Sebek rows without one are ordered by the honeypot's clock).
 *
 * The console stays consistent: a flow is deleted with its frames' places (`flow_files`) and its shipped alerts; an
 * alert whose flow is still in the store is kept until the flow goes (steps 1 and 2: in step 3 every table's oldest
 * rows go, a flow's alerts included), an open flow is kept until step 3 (the capture follower still writes it: an
 * update would bring the row back; in step 3 it goes, and its next update writes it again, whole), a Sebek process is
 * kept while any of its raw records remains. The per-minute and
 * per-hour count tables keep their counts (the charts go on showing what the store once held; they grow by one row a
 * honeypot and minute, not by traffic).
 *
 * A table's newest row is never deleted: SQLite gives a new row the largest id in the table plus one, so a table
 * swept empty would hand out ids again from 1, below the shipper's marks (never shipped) and colliding centrally
 * with the rows shipped before under the same ids. Kept, it keeps every later id above every earlier one.
 *
 * The bound is measured as SQLite's pages in use (`page_count - freelist_count`, times the page size), not as the
 * file's size: DELETE does not shrink the file, it puts the pages on the free list, and later inserts reuse them, so
 * once a sweep frees pages as fast as the gateway fills them the file stops growing (at the bound plus what is written
 * between two sweeps). Incremental vacuum would return pages to the file system, but a store made without
 * `auto_vacuum` needs a full VACUUM to enable it, which rewrites the whole file under the writer's lock; the free list
 * costs nothing. The WAL file is reported beside it and kept small by a journal size limit (it is reset after each
 * checkpoint, every 1,000 pages by SQLite's default).
 */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { SHIPPED_TABLES, type ShippedTable } from './central/tables.js';

/** What a sweep needs from the shipper; without one (no HwSTORE_URL) every row counts as shipped. */
export interface SpoolMarks {
  /** The table's high-water mark: rows at or below it are in the central store. */
  mark(table: string): number;
  /** A batch of the table is on its way to the central store (read, its mark not yet moved): not dropped now. */
  busy(table: string): boolean;
  /** Rows of an append-only table up to `mark` were dropped unshipped: the mark moves past them. */
  passOver(table: string, mark: number): void;
}

export interface SpoolBoundOptions {
  /** Bytes of pages in use at the most (0: no size bound). */
  maxBytes: number;
  /** Rows older than this many days are deleted (0: kept). */
  keepDays: number;
  /** Rows deleted per transaction (default 500: about 15 ms of a store with 10 indexes on flows, 8 on alerts). */
  batch?: number;
  /** Batches per sweep call (default 8): a call that stops short says so, and the worker calls again soon. */
  maxBatches?: number;
  /**
   * Milliseconds of work per sweep call after which it stops short (at least one batch; default none): the store
   * worker gives 50 ms, as to a step of the capture, so that a sweep never keeps the feed waiting for long.
   */
  budgetMs?: number;
  /** The age step runs at most this often (default 60 s: rows age by the day, and finding none costs a window a table). */
  ageEveryMs?: number;
  /** The WAL file is truncated to this after a checkpoint (default 16 MiB). */
  walLimit?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export class SpoolStats {
  /** Pages in use times the page size: what the bound is held to. */
  bytes = 0;
  /** The store file's and its WAL's sizes on disk. */
  fileBytes = 0;
  walBytes = 0;
  /** The bound in bytes (0: none) and the keep days (0: none). */
  bound = 0;
  keepDays = 0;
  /** Rows deleted after they were shipped (without HwSTORE_URL: every row deleted), per table. */
  deleted: Record<string, number> = Object.fromEntries(SHIPPED_TABLES.map((t) => [t.name, 0]));
  /** Rows dropped before they were shipped (the central store away while the bound was reached), per table. */
  dropped: Record<string, number> = Object.fromEntries(SHIPPED_TABLES.map((t) => [t.name, 0]));
  /** Deleted with their flows, beside the shipped tables. */
  flowFilesDeleted = 0;
  /** Dropping unshipped rows now (from its start line to its end line in the log). */
  dropping = false;
  sweeps = 0;
  /** Sweeps that ended still over the bound with nothing left they may delete. */
  overBound = 0;
  lastSweepAt: string | undefined = undefined;
  lastDropAt: string | undefined = undefined;
}

/** A row at a table's front: its id, time (µs), mark, and why it may have to stay. */
interface FrontRow {
  id: number;
  t: number;
  m: number;
  open: number;
  held: number;
}

interface Unit {
  t: ShippedTable;
  front: Database.Statement;
  del: Database.Statement;
  /** Tables whose `held` answer a deletion here can change (their cached front is read again). */
  affects: string[];
  /** `held` is kept in every step (a Sebek process while its records remain), not only in steps 1 and 2. */
  alwaysHeld: boolean;
}

type Step = 'age' | 'shipped' | 'drop';

const ALL = Number.MAX_SAFE_INTEGER;
/** Rows deleted between two looks at the pages in use, within a batch. */
const CHECK_EVERY = 25;

export class SpoolBound {
  readonly stats = new SpoolStats();
  private readonly units: Unit[];
  private readonly batch: number;
  private readonly maxBatches: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly pageSize: number;
  private readonly pages: Database.Statement;
  private readonly free: Database.Statement;
  private readonly delFlowFiles: Database.Statement;
  private readonly delFlowAlerts: Database.Statement;
  /** Drops since the start line (for the end line). */
  private episode: Record<string, number> = {};
  private episodeLogged = false;
  /** When the age step last ran to its end (0: never). */
  private agedAt = 0;

  constructor(
    readonly db: Database.Database,
    readonly opts: SpoolBoundOptions,
    private readonly marks: SpoolMarks | undefined = undefined,
  ) {
    this.batch = Math.max(1, Math.min(opts.batch ?? 500, 50_000));
    this.maxBatches = Math.max(1, opts.maxBatches ?? 8);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => undefined);
    this.stats.bound = opts.maxBytes;
    this.stats.keepDays = opts.keepDays;
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
    this.pages = db.prepare('PRAGMA page_count').pluck(true);
    this.free = db.prepare('PRAGMA freelist_count').pluck(true);
    db.pragma(`journal_size_limit = ${Math.max(1 << 20, opts.walLimit ?? 16 << 20)}`);
    this.delFlowFiles = db.prepare('DELETE FROM flow_files WHERE flow_id = ?');
    this.delFlowAlerts = db.prepare('DELETE FROM alerts WHERE flow_id = ? AND id <= ? AND id < (SELECT MAX(id) FROM alerts)');
    const window = 'LIMIT @w';
    this.units = SHIPPED_TABLES.map((t): Unit => {
      const time = t.unit === 's' ? `${t.time} * 1000000` : t.time;
      if (t.name === 'flows') {
        return {
          t,
          front: db.prepare(`SELECT id, ${time} AS t, seq AS m, reason IS NULL AS open,
            EXISTS (SELECT 1 FROM alerts a WHERE a.flow_id = flows.id AND a.id > @alerts) AS held FROM flows
            WHERE id < (SELECT MAX(id) FROM flows) ORDER BY id ${window}`),
          del: db.prepare('DELETE FROM flows WHERE id = ?'),
          affects: ['alerts'],
          alwaysHeld: false,
        };
      }
      if (t.name === 'alerts') {
        // an alert goes with its flow while the flow is in the store (the console links them)
        return {
          t,
          front: db.prepare(`SELECT a.id, ${time} AS t, a.id AS m, 0 AS open,
            (a.flow_id IS NOT NULL AND EXISTS (SELECT 1 FROM flows f WHERE f.id = a.flow_id)) AS held FROM alerts a
            WHERE a.id < (SELECT MAX(id) FROM alerts) ORDER BY a.id ${window}`),
          del: db.prepare('DELETE FROM alerts WHERE id = ?'),
          affects: ['flows'],
          alwaysHeld: false,
        };
      }
      if (t.name === 'processes') {
        // a process (its row id is its id, tables.ts) stays while its raw records do (the console's process page)
        return {
          t,
          front: db.prepare(`SELECT rowid AS id, ${time} AS t, seq AS m, 0 AS open,
            EXISTS (SELECT 1 FROM records r WHERE r.client = processes.client AND r.pid = processes.pid) AS held
            FROM processes WHERE rowid < (SELECT MAX(rowid) FROM processes) ORDER BY rowid ${window}`),
          del: db.prepare('DELETE FROM processes WHERE rowid = ?'),
          affects: [],
          alwaysHeld: true,
        };
      }
      return {
        t,
        front: db.prepare(
          `SELECT id, ${time} AS t, ${t.mark} AS m, 0 AS open, 0 AS held FROM ${t.name} WHERE id < (SELECT MAX(id) FROM ${t.name}) ORDER BY id ${window}`,
        ),
        del: db.prepare(`DELETE FROM ${t.name} WHERE id = ?`),
        affects: t.name === 'records' ? ['processes'] : [],
        alwaysHeld: false,
      };
    });
  }

  /** Pages in use, in bytes. */
  inUse(): number {
    return ((this.pages.get() as number) - (this.free.get() as number)) * this.pageSize;
  }

  private over(): boolean {
    return this.opts.maxBytes > 0 && this.inUse() > this.opts.maxBytes;
  }

  private mark(table: string): number {
    return this.marks === undefined ? ALL : this.marks.mark(table);
  }

  /** The rows of the unit's front window that this step may delete, oldest first. */
  private candidates(u: Unit, step: Step, cutoffUs: number): FrontRow[] {
    const name = u.t.name;
    if (step === 'drop' && this.marks?.busy(name) === true) return [];
    const rows = u.front.all({ w: this.batch * 2, alerts: this.mark('alerts') }) as FrontRow[];
    const mark = this.mark(name);
    const out: FrontRow[] = [];
    for (const r of rows) {
      if (step === 'drop') {
        // every front row goes, shipped or not, open or not, so an append-only table's drops are its oldest rows,
        // contiguous, and its mark can move past them all; only a Sebek process holding records stays (update mode:
        // marked by change numbers, it leaves no gap to move past)
        if (u.alwaysHeld && r.held) continue;
      } else {
        if (r.m > mark || r.open || r.held) continue;
        if (step === 'age' && !(r.t < cutoffUs)) continue;
      }
      out.push(r);
      if (out.length >= this.batch) break;
    }
    return out;
  }

  /**
   * Deletes the rows in one transaction, counting each as deleted (shipped) or dropped (unshipped). For the size bound
   * (`untilUnder`) it stops as soon as the pages in use are within the bound (looked at every few rows: the page counts
   * include the transaction's own changes), so a small store does not lose a whole batch more than it must.
   */
  private remove(u: Unit, rows: readonly FrontRow[], untilUnder: boolean): number {
    const name = u.t.name;
    const mark = this.mark(name);
    const alertsMark = this.mark('alerts');
    let dropped = 0;
    let top = 0;
    this.db.transaction(() => {
      for (let i = 0; i < rows.length; i++) {
        if (untilUnder && i > 0 && i % CHECK_EVERY === 0 && !this.over()) break;
        const r = rows[i]!;
        if (name === 'flows') {
          this.stats.flowFilesDeleted += this.delFlowFiles.run(r.id).changes;
          this.stats.deleted.alerts = (this.stats.deleted.alerts ?? 0) + this.delFlowAlerts.run(r.id, alertsMark).changes;
        }
        if (u.del.run(r.id).changes === 0) continue;
        if (r.m > mark) {
          dropped++;
          if (r.m > top) top = r.m;
        } else this.stats.deleted[name] = (this.stats.deleted[name] ?? 0) + 1;
      }
    })();
    if (dropped > 0) {
      this.stats.dropped[name] = (this.stats.dropped[name] ?? 0) + dropped;
      this.episode[name] = (this.episode[name] ?? 0) + dropped;
      // the rows were the table's oldest, so every id up to `top` is gone: the shipper goes on above them
      if (u.t.mode === 'append') this.marks?.passOver(name, top);
    }
    return dropped;
  }

  /**
   * One sweep: up to `maxBatches` batches over the steps, oldest first. Returns true when it stopped short with
   * work left (call again soon), false when the store is within its bounds or nothing more may be deleted.
   */
  sweep(): boolean {
    const started = this.now();
    const cutoffUs = this.opts.keepDays > 0 ? (started - this.opts.keepDays * 86_400_000) * 1000 : -Infinity;
    let batches = 0;
    let droppedNow = 0;
    let more = false;
    const steps: Step[] = [];
    const ageing = this.opts.keepDays > 0 && started - this.agedAt >= (this.opts.ageEveryMs ?? 60_000);
    if (ageing) steps.push('age');
    const t0 = performance.now();
    if (this.opts.maxBytes > 0) steps.push('shipped', 'drop');
    for (const step of steps) {
      const fronts = new Map<Unit, FrontRow[]>();
      for (;;) {
        if (step !== 'age' && !this.over()) break;
        if (batches >= this.maxBatches || (batches > 0 && this.opts.budgetMs !== undefined && performance.now() - t0 > this.opts.budgetMs)) {
          more = true;
          break;
        }
        let best: Unit | undefined;
        for (const u of this.units) {
          let c = fronts.get(u);
          if (c === undefined) {
            c = this.candidates(u, step, cutoffUs);
            fronts.set(u, c);
          }
          if (c.length > 0 && (best === undefined || c[0]!.t < fronts.get(best)![0]!.t)) best = u;
        }
        if (best === undefined) break;
        droppedNow += this.remove(best, fronts.get(best)!, step !== 'age');
        batches++;
        fronts.delete(best);
        for (const name of best.affects) for (const u of this.units) if (u.t.name === name) fronts.delete(u);
      }
      if (more) break;
      if (step === 'age') this.agedAt = started;
    }
    this.measure();
    if (!more && this.over()) this.stats.overBound++;
    this.stats.sweeps++;
    this.stats.lastSweepAt = new Date(started).toISOString();
    this.report(droppedNow, more);
    return more;
  }

  /** The drops' log lines: one when dropping starts (with its counts so far), one when it ends. */
  private report(droppedNow: number, more: boolean): void {
    if (droppedNow > 0) {
      this.stats.dropping = true;
      this.stats.lastDropAt = new Date(this.now()).toISOString();
      if (!this.episodeLogged) {
        this.episodeLogged = true;
        this.log(
          `store: the spool reached its bound (${mb(this.stats.bytes)} of ${mb(this.opts.maxBytes)} in use) with nothing shipped left to delete: ` +
            `dropping the oldest unshipped rows (${perTable(this.episode)} so far; counted in the status, store.worker.spool.dropped)`,
        );
      }
    } else if (this.stats.dropping && !more && !this.over()) {
      this.log(`store: the spool is within its bound again; rows dropped unshipped: ${perTable(this.episode)}`);
      this.stats.dropping = false;
      this.episode = {};
      this.episodeLogged = false;
    }
  }

  /** The sizes in the status. */
  measure(): SpoolStats {
    this.stats.bytes = this.inUse();
    const file = this.db.name;
    this.stats.fileBytes = sizeOf(file);
    this.stats.walBytes = sizeOf(`${file}-wal`);
    return this.stats;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function perTable(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
