/**
 * Day partitions of the central tables (PostgreSQL declarative range partitioning on each table's time column):
 * `flows_p20261203` holds the flows that started that UTC day, `flows_default` whatever has no partition (a time out
 * of the window below: a honeypot's clock, which the intruder sets, can say any year).
 *
 * Bounded: partitions exist only for days in [today - keep days (or MAX_PAST_DAYS without retention), today +
 * AHEAD_DAYS], at most MAX_NEW_PER_CALL are made per call (the rest of a batch goes to the default partition,
 * counted), and retention drops whole partitions older than the keep days (one DROP TABLE, no row-by-row DELETE) and
 * deletes the default partition's old rows. DDL runs under a transaction-scoped advisory lock, so gateways shipping
 * at once never race to make the same partition.
 */
import type pg from 'pg';
import { SHIPPED_TABLES, type ShippedTable } from './tables.js';

export const DAY_S = 86_400;
/** Partitions made ahead of today (so the first records of a day never wait for DDL). */
export const AHEAD_DAYS = 2;
/** Without retention, the oldest day a partition is made for. */
export const MAX_PAST_DAYS = 3660;
/** Partitions made in one call at the most. */
export const MAX_NEW_PER_CALL = 64;
/** The advisory lock every DDL of the central store holds (schema.ts too). */
export const DDL_LOCK = 0x68_77_63_73; // 'hwcs'

export function dayOf(t: ShippedTable, value: number): number {
  return Math.floor(value / (t.unit === 'us' ? DAY_S * 1_000_000 : DAY_S));
}

function bound(t: ShippedTable, day: number): string {
  return String(BigInt(day) * BigInt(t.unit === 'us' ? DAY_S * 1_000_000 : DAY_S));
}

export function partitionName(t: ShippedTable, day: number): string {
  return `${t.name}_p${new Date(day * DAY_S * 1000).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

const PART = /_p(\d{4})(\d{2})(\d{2})$/;

function dayOfName(name: string): number | undefined {
  const m = PART.exec(name);
  return m === null ? undefined : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000 / DAY_S;
}

export interface PartitionStats {
  created: number;
  dropped: number;
  /** Rows whose day is out of the window or over the per-call cap: stored in the default partition. */
  defaulted: number;
  /** Rows deleted from the default partitions by retention. */
  defaultDeleted: number;
}

export class Partitions {
  readonly stats: PartitionStats = { created: 0, dropped: 0, defaulted: 0, defaultDeleted: 0 };
  /** The days each table has a partition for (loaded by load(), kept by ensure()). */
  private readonly known = new Map<string, Set<number>>();

  constructor(
    /** Retention in days (0: keep everything). */
    readonly keepDays: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  today(): number {
    return Math.floor(this.nowMs() / 1000 / DAY_S);
  }

  window(): [number, number] {
    const today = this.today();
    return [today - (this.keepDays > 0 ? this.keepDays : MAX_PAST_DAYS), today + AHEAD_DAYS];
  }

  async load(c: pg.ClientBase): Promise<void> {
    this.known.clear();
    for (const t of SHIPPED_TABLES) this.known.set(t.name, new Set(await this.listDays(c, t)));
  }

  private async listDays(c: pg.ClientBase, t: ShippedTable): Promise<number[]> {
    const r = await c.query<{ relname: string }>(
      `SELECT k.relname FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = $1 AND p.relnamespace = to_regnamespace(current_schema())::oid`,
      [t.name],
    );
    const days: number[] = [];
    for (const row of r.rows) {
      const d = dayOfName(row.relname);
      if (d !== undefined && row.relname === partitionName(t, d)) days.push(d);
    }
    return days;
  }

  /**
   * Makes the partitions of `days` that are missing and in the window (at most MAX_NEW_PER_CALL); returns the days
   * that will go to the default partition instead.
   */
  async ensure(c: pg.ClientBase, t: ShippedTable, days: Iterable<number>): Promise<Set<number>> {
    const have = this.known.get(t.name) ?? new Set<number>();
    this.known.set(t.name, have);
    const [lo, hi] = this.window();
    const want: number[] = [];
    const defaulted = new Set<number>();
    for (const d of days) {
      if (have.has(d)) continue;
      if (d < lo || d > hi || want.length >= MAX_NEW_PER_CALL) defaulted.add(d);
      else if (!want.includes(d)) want.push(d);
    }
    if (want.length === 0) return defaulted;
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      for (const d of want) {
        const name = partitionName(t, d);
        const exists = await c.query('SELECT to_regclass($1) AS r', [name]);
        if (exists.rows[0]?.r !== null) continue; // another gateway made it
        // rows of that day already in the default partition (stored there before the day had a partition) move
        // into it: PostgreSQL refuses a partition whose rows sit in the default one
        await c.query(`CREATE TEMP TABLE hw_moved ON COMMIT DROP AS WITH m AS (DELETE FROM ${t.name}_default
          WHERE ${t.time} >= ${bound(t, d)} AND ${t.time} < ${bound(t, d + 1)} RETURNING *) SELECT * FROM m`);
        await c.query(`CREATE TABLE ${name} PARTITION OF ${t.name} FOR VALUES FROM (${bound(t, d)}) TO (${bound(t, d + 1)})`);
        await c.query(`INSERT INTO ${t.name} SELECT * FROM hw_moved`);
        await c.query('DROP TABLE hw_moved');
        this.stats.created++;
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const d of want) have.add(d);
    return defaulted;
  }

  /** Today's and the days ahead's partitions of every table. */
  async ahead(c: pg.ClientBase): Promise<void> {
    const today = this.today();
    const days = Array.from({ length: AHEAD_DAYS + 1 }, (_, i) => today + i);
    for (const t of SHIPPED_TABLES) await this.ensure(c, t, days);
  }

  /** Retention: drops every partition wholly older than the keep days, and the default partitions' old rows. */
  async dropOld(c: pg.ClientBase): Promise<number> {
    if (this.keepDays <= 0) return 0;
    const first = this.today() - this.keepDays; // the oldest day kept
    let dropped = 0;
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      for (const t of SHIPPED_TABLES) {
        for (const d of await this.listDays(c, t)) {
          if (d >= first) continue;
          await c.query(`DROP TABLE ${partitionName(t, d)}`);
          this.known.get(t.name)?.delete(d);
          dropped++;
        }
        const r = await c.query(`DELETE FROM ${t.name}_default WHERE ${t.time} < ${bound(t, first)}`);
        this.stats.defaultDeleted += r.rowCount ?? 0;
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.stats.dropped += dropped;
    return dropped;
  }
}
