/**
 * The store's schema versions: a new file gets every migration; a Sebek database as the Sebek reader made it before
 * the store existed (no schema_version, and in its oldest form no com_raw column) opens as a store with its rows
 * kept; a file left at an older version is brought up; a file of a newer version is refused and not touched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, schemaVersion, StoreError } from '../src/store/db.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/schema.js';
import { SebekStore } from '../src/sebek/store.js';
import { FIXTURE_MAGIC, sessionFixture } from '../src/sebek/simulate.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { SebekExtractor } from '../src/sebek/extract.js';

const dir = mkdtempSync(join(tmpdir(), 'hw-store-mig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tables and columns a file has, to compare two files' schemas. */
function layout(db: Database.Database): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]) {
    out[name] = (db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name).sort();
  }
  return out;
}

/** The Sebek database of honeywall before the store (src/sebek/store.ts at 40e212c), oldest form: no com_raw. */
const OLD_SEBEK = `
CREATE TABLE records (id INTEGER PRIMARY KEY, client TEXT NOT NULL, cap_sec INTEGER NOT NULL, cap_usec INTEGER NOT NULL,
  magic INTEGER NOT NULL, version INTEGER NOT NULL, type INTEGER NOT NULL, type_name TEXT NOT NULL, counter INTEGER NOT NULL,
  time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, usec_swapped INTEGER NOT NULL, ppid INTEGER NOT NULL, pid INTEGER NOT NULL,
  uid INTEGER NOT NULL, fd INTEGER NOT NULL, inode INTEGER NOT NULL, com TEXT NOT NULL, length INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX records_proc ON records (client, pid);
CREATE TABLE processes (client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  coms TEXT NOT NULL, first_sec INTEGER NOT NULL, last_sec INTEGER NOT NULL, records INTEGER NOT NULL, forks INTEGER NOT NULL,
  PRIMARY KEY (client, pid));
CREATE TABLE keystroke_lines (id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, fd INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, line TEXT NOT NULL, terminated INTEGER NOT NULL);
CREATE TABLE opens (id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, inode INTEGER NOT NULL, path TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL);
CREATE TABLE sockets (id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, call INTEGER NOT NULL, call_name TEXT NOT NULL, proto INTEGER NOT NULL, sip TEXT NOT NULL, sport INTEGER NOT NULL,
  dip TEXT NOT NULL, dport INTEGER NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL);
CREATE TABLE forks (id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL);
CREATE TABLE loss (client TEXT PRIMARY KEY, received INTEGER NOT NULL, lost INTEGER NOT NULL, gaps INTEGER NOT NULL,
  backwards INTEGER NOT NULL, first_counter INTEGER NOT NULL, last_counter INTEGER NOT NULL);
INSERT INTO processes VALUES ('10.0.0.5', 2001, 2000, 0, 'bash', '["bash"]', 1704164645, 1704164650, 42, 3);
INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated)
  VALUES ('10.0.0.5', 2001, 0, 0, 'bash', 1704164646, 5, 'uname -a', 1);
INSERT INTO sockets (client, pid, uid, com, fd, call, call_name, proto, sip, sport, dip, dport, time_sec, time_usec)
  VALUES ('10.0.0.5', 2004, 0, 'wget', 3, 3, 'connect', 6, '10.0.0.5', 40001, '198.51.100.7', 80, 1704164649, 0);
`;

describe('store migrations', () => {
  it('are numbered 1, 2, ... in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('a new file gets every migration, each recorded', () => {
    const db = openStore(join(dir, 'new.sqlite'));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    const rows = db.prepare('SELECT version, name FROM schema_version ORDER BY version').all() as { version: number; name: string }[];
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    for (const t of ['captures', 'flows', 'flow_files', 'alerts', 'firewall_events', 'minutes', 'records', 'processes', 'keystroke_lines', 'sockets'])
      expect(layout(db)[t], t).toBeDefined();
    db.close();
  });

  it('an old Sebek database (no schema_version, no com_raw) becomes a store with its rows', () => {
    const file = join(dir, 'old-sebek.sqlite');
    const old = new Database(file);
    old.exec(OLD_SEBEK);
    old.close();
    const db = openStore(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT com, records FROM processes').get()).toEqual({ com: 'bash', records: 42 });
    expect(db.prepare('SELECT line, capture_id FROM keystroke_lines').get()).toEqual({ line: 'uname -a', capture_id: null });
    expect(db.prepare('SELECT dport, flow_id FROM sockets').get()).toEqual({ dport: 80, flow_id: null });
    // the migrated file has the layout of a new one
    const fresh = openStore(':memory:');
    expect(layout(db)).toEqual(layout(fresh));
    fresh.close();
    db.close();
  });

  it('the Sebek reader writes on into a migrated file', () => {
    const file = join(dir, 'old-sebek.sqlite');
    const store = new SebekStore(file);
    const { records } = readCaptureAll(sessionFixture());
    const x = new SebekExtractor({ magic: FIXTURE_MAGIC });
    store.ingest(records.flatMap((r) => x.fromFrame(r.linktype, r.data, r.tsSec, r.tsUsec)));
    store.finish();
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM keystroke_lines').get() as { n: number }).n).toBeGreaterThan(1);
    store.close();
  });

  it('a file at an older version is brought up to the current one', () => {
    const file = join(dir, 'v1.sqlite');
    openStore(file, { migrations: MIGRATIONS.slice(0, 1) }).close();
    const v1 = new Database(file);
    expect(schemaVersion(v1)).toBe(1);
    expect(layout(v1).flows).toBeUndefined();
    v1.close();
    // a reader refuses it rather than reading a schema it does not know
    expect(() => openStore(file, { readonly: true })).toThrow(/schema version 1, this honeywall reads/);
    const db = openStore(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(layout(db).flows).toBeDefined();
    db.close();
  });

  it('a file of a newer version is refused and left as it was', () => {
    const file = join(dir, 'future.sqlite');
    const db = openStore(file);
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(SCHEMA_VERSION + 1, 'from the future', 0);
    db.close();
    const before = readFileSync(file);
    expect(() => openStore(file)).toThrow(StoreError);
    expect(() => openStore(file)).toThrow(`schema version ${SCHEMA_VERSION + 1} is newer than this honeywall's (${SCHEMA_VERSION}): not touched`);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('a file that is not SQLite is refused with its name', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'hello, this is not a database at all, just text '.repeat(20));
    expect(() => openStore(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot open the store`));
  });
});
