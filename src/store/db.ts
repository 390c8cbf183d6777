/**
 * Opening the store: one SQLite file (better-sqlite3: synchronous, embedded), in WAL mode so the console reads while
 * the gateway or an import writes, brought to the current schema by the migrations of schema.ts.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './schema.js';

/** The store cannot be opened or brought up to date; the message names the file. */
export class StoreError extends Error {}

export interface OpenOptions {
  /** Open for reading only (the console): no migration is applied, an out-of-date file is refused. */
  readonly?: boolean;
  /** The migrations to apply (tests give a prefix to make an old file); default all. */
  migrations?: readonly Migration[];
  /** What the file is, in messages (default "the store"). */
  label?: string;
}

/** The highest migration applied to `db` (0 for a file without schema_version: new, or an old Sebek database). */
export function schemaVersion(db: Database.Database): number {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (has === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Applies every migration above the file's version, each in its own transaction with its schema_version row. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  let version = schemaVersion(db);
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  if (version > known) throw new StoreError(`schema version ${version} is newer than this honeywall's (${known}): not touched`);
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= version) continue;
    db.transaction(() => {
      m.up(db);
      record.run(m.version, m.name, Math.floor(Date.now() / 1000));
    })();
    version = m.version;
  }
  return version;
}

/** Opens (creating it if need be) and migrates the store at `file` (a path or ':memory:'). */
export function openStore(file: string, opts: OpenOptions = {}): Database.Database {
  const label = opts.label ?? 'the store';
  let db: Database.Database;
  try {
    db = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (err) {
    throw new StoreError(`${file}: cannot open ${label}: ${(err as Error).message}`);
  }
  try {
    if (opts.readonly) {
      const v = schemaVersion(db);
      if (v !== SCHEMA_VERSION)
        throw new StoreError(`schema version ${v}, this honeywall reads ${SCHEMA_VERSION} (open it once for writing to migrate)`);
      return db;
    }
    db.pragma('journal_mode = WAL');
    // WAL with NORMAL sync: a crash can lose the last transactions, never corrupt the file (SQLite's documented pairing)
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, opts.migrations);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw new StoreError(`${file}: ${err.message}`);
    throw new StoreError(`${file}: cannot open ${label}: ${(err as Error).message}`);
  }
}
