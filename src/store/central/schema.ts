/**
 * The central store's schema (PostgreSQL 15), versioned like the SQLite store's (src/store/schema.ts): an ordered
 * list of migrations, `central_schema_version` holding one row per migration applied, each applied in its own
 * transaction with its row, under the DDL advisory lock (several gateways may connect at once, each migrating); a
 * database of a higher version than this program knows is refused, never written. Never edit a migration that has
 * shipped: add one.
 *
 * Migration 1: the shipped tables of tables.ts, each `sensor` + the SQLite store's columns (INTEGER as bigint, TEXT as
 * text, BLOB as bytea), partitioned by range on its time column (a DEFAULT partition for what no day partition
 * takes: partitions.ts), its primary key the natural key (sensor, the gateway's key, the partition column) that makes
 * a record shipped twice one row, and the indexes the console's queries read; and `sensors`, which spool (the
 * SQLite store's random id) feeds each sensor name.
 */
import type pg from 'pg';
import { DDL_LOCK } from './partitions.js';
import { SHIPPED_TABLES, type ColType, type ShippedTable } from './tables.js';

export interface CentralMigration {
  version: number;
  name: string;
  sql: () => string;
}

export const PG_TYPE: Record<ColType, string> = { i: 'bigint', t: 'text', b: 'bytea' };

/** The table's key columns in its primary key and ON CONFLICT target. */
export function conflictKey(t: ShippedTable): string[] {
  return ['sensor', ...t.key, ...(t.key.includes(t.time) ? [] : [t.time])];
}

function tableDdl(t: ShippedTable): string {
  const notNull = new Set([...t.key, t.time, t.mark]);
  const cols = t.columns.map((c) => `  ${c.name} ${PG_TYPE[c.type]}${notNull.has(c.name) ? ' NOT NULL' : ''}`);
  const out = [
    `CREATE TABLE ${t.name} (\n  sensor text NOT NULL,\n${cols.join(',\n')},\n  PRIMARY KEY (${conflictKey(t).join(', ')})\n) PARTITION BY RANGE (${t.time});`,
    `CREATE TABLE ${t.name}_default PARTITION OF ${t.name} DEFAULT;`,
  ];
  for (const ix of t.indexes) out.push(`CREATE INDEX ${t.name}_${ix.join('_')} ON ${t.name} (${ix.join(', ')});`);
  return out.join('\n');
}

export const CENTRAL_MIGRATIONS: readonly CentralMigration[] = [
  {
    version: 1,
    name: 'flows, alerts, firewall events and Sebek tables by sensor, partitioned by day; sensors and their spools',
    sql: () =>
      [
        `CREATE TABLE sensors (
          sensor text PRIMARY KEY,
          spool text NOT NULL,
          first_seen timestamptz NOT NULL DEFAULT now(),
          last_seen timestamptz NOT NULL DEFAULT now()
        );`,
        ...SHIPPED_TABLES.map(tableDdl),
      ].join('\n'),
  },
];

export const CENTRAL_SCHEMA_VERSION = CENTRAL_MIGRATIONS[CENTRAL_MIGRATIONS.length - 1]!.version;

export class CentralSchemaError extends Error {}

export async function centralVersion(c: pg.ClientBase): Promise<number> {
  const has = await c.query("SELECT to_regclass('central_schema_version') AS r");
  if (has.rows[0]?.r === null) return 0;
  const r = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM central_schema_version');
  return r.rows[0]?.v ?? 0;
}

/** Applies every migration above the database's version; returns the version it is at. */
export async function migrateCentral(c: pg.ClientBase, migrations: readonly CentralMigration[] = CENTRAL_MIGRATIONS): Promise<number> {
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  let version = await centralVersion(c);
  if (version > known) throw new CentralSchemaError(`central schema version ${version} is newer than this honeywall's (${known}): not touched`);
  for (const m of migrations) {
    if (m.version <= version) continue;
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS central_schema_version (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      // another gateway may have applied it while this one waited for the lock
      const done = await c.query('SELECT 1 FROM central_schema_version WHERE version = $1', [m.version]);
      if (done.rowCount === 0) {
        await c.query(m.sql());
        await c.query('INSERT INTO central_schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    version = m.version;
  }
  return version;
}
