/**
 * Sebek storage in SQLite (better-sqlite3 12: synchronous, embedded, works on Node 20).
 *
 * Tables: records (every record, data as a BLOB), processes (client, pid), keystroke_lines,
 * opens, sockets, forks, loss (per client). `ingest` runs a record through a SebekSession and stores
 * the record and every event in one transaction; `exportJsonl` writes one JSON object per line.
 *
 * What the intruder wrote is stored two ways: faithfully as bytes (records.data, records.com_raw: BLOBs) and as
 * escaped text in every TEXT column (com, path, line, coms: text.ts, no control character), so a query printed on a
 * terminal or mailed shows the text and never plays it.
 */
import Database from 'better-sqlite3';
import type { CapturedSebekRecord } from './extract.js';
import { jsonLine, recordJson } from './json.js';
import type { ClientLoss, SebekEvent, SebekProcess } from './session.js';
import { SebekSession } from './session.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  client TEXT NOT NULL, cap_sec INTEGER NOT NULL, cap_usec INTEGER NOT NULL,
  magic INTEGER NOT NULL, version INTEGER NOT NULL, type INTEGER NOT NULL, type_name TEXT NOT NULL,
  counter INTEGER NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, usec_swapped INTEGER NOT NULL,
  ppid INTEGER NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, fd INTEGER NOT NULL, inode INTEGER NOT NULL,
  com TEXT NOT NULL, length INTEGER NOT NULL, data BLOB NOT NULL, com_raw BLOB
);
CREATE INDEX IF NOT EXISTS records_proc ON records (client, pid);
CREATE TABLE IF NOT EXISTS processes (
  client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, coms TEXT NOT NULL, first_sec INTEGER NOT NULL, last_sec INTEGER NOT NULL,
  records INTEGER NOT NULL, forks INTEGER NOT NULL,
  PRIMARY KEY (client, pid)
);
CREATE TABLE IF NOT EXISTS keystroke_lines (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, fd INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, line TEXT NOT NULL, terminated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS opens (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, inode INTEGER NOT NULL, path TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sockets (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, uid INTEGER NOT NULL, com TEXT NOT NULL,
  fd INTEGER NOT NULL, call INTEGER NOT NULL, call_name TEXT NOT NULL, proto INTEGER NOT NULL,
  sip TEXT NOT NULL, sport INTEGER NOT NULL, dip TEXT NOT NULL, dport INTEGER NOT NULL,
  time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS forks (
  id INTEGER PRIMARY KEY, client TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, uid INTEGER NOT NULL,
  com TEXT NOT NULL, time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS loss (
  client TEXT PRIMARY KEY, received INTEGER NOT NULL, lost INTEGER NOT NULL, gaps INTEGER NOT NULL,
  backwards INTEGER NOT NULL, first_counter INTEGER NOT NULL, last_counter INTEGER NOT NULL
);
`;

/** Thrown when the database file cannot be opened or written (message names the file). */
export class SebekStoreError extends Error {}

export class SebekStore {
  readonly db: Database.Database;
  readonly session = new SebekSession();
  private readonly insRecord: Database.Statement;
  private readonly insLine: Database.Statement;
  private readonly insOpen: Database.Statement;
  private readonly insSocket: Database.Statement;
  private readonly insFork: Database.Statement;
  private readonly upProcess: Database.Statement;
  private readonly upLoss: Database.Statement;
  private readonly ingestTx: (records: readonly CapturedSebekRecord[]) => void;

  /** `file` is a path or ':memory:'. */
  constructor(readonly file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
      // a database made before com_raw existed gets the column (its old rows keep NULL there)
      const columns = this.db.prepare('PRAGMA table_info(records)').all() as { name: string }[];
      if (!columns.some((c) => c.name === 'com_raw')) this.db.exec('ALTER TABLE records ADD COLUMN com_raw BLOB');
    } catch (err) {
      throw new SebekStoreError(`${file}: cannot open the Sebek database: ${(err as Error).message}`);
    }
    this.insRecord = this.db.prepare(`INSERT INTO records (client, cap_sec, cap_usec, magic, version, type, type_name, counter, time_sec, time_usec,
      usec_swapped, ppid, pid, uid, fd, inode, com, length, data, com_raw) VALUES (@client, @capSec, @capUsec, @magic, @version, @type, @typeName, @counter,
      @timeSec, @timeUsec, @usecSwapped, @ppid, @pid, @uid, @fd, @inode, @com, @length, @data, @comRaw)`);
    this.insLine = this.db.prepare(`INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated)
      VALUES (@client, @pid, @fd, @uid, @com, @timeSec, @timeUsec, @line, @terminated)`);
    this.insOpen = this.db.prepare(`INSERT INTO opens (client, pid, uid, com, fd, inode, path, time_sec, time_usec)
      VALUES (@client, @pid, @uid, @com, @fd, @inode, @path, @timeSec, @timeUsec)`);
    this.insSocket =
      this.db.prepare(`INSERT INTO sockets (client, pid, uid, com, fd, call, call_name, proto, sip, sport, dip, dport, time_sec, time_usec)
      VALUES (@client, @pid, @uid, @com, @fd, @call, @callName, @proto, @sip, @sport, @dip, @dport, @timeSec, @timeUsec)`);
    this.insFork = this.db.prepare(`INSERT INTO forks (client, pid, ppid, uid, com, time_sec, time_usec)
      VALUES (@client, @pid, @ppid, @uid, @com, @timeSec, @timeUsec)`);
    this.upProcess = this.db.prepare(`INSERT INTO processes (client, pid, ppid, uid, com, coms, first_sec, last_sec, records, forks)
      VALUES (@client, @pid, @ppid, @uid, @com, @coms, @firstSec, @lastSec, @records, @forks)
      ON CONFLICT (client, pid) DO UPDATE SET ppid = excluded.ppid, uid = excluded.uid, com = excluded.com, coms = excluded.coms,
      last_sec = excluded.last_sec, records = excluded.records, forks = excluded.forks`);
    this.upLoss = this.db.prepare(`INSERT INTO loss (client, received, lost, gaps, backwards, first_counter, last_counter)
      VALUES (@client, @received, @lost, @gaps, @backwards, @firstCounter, @lastCounter)
      ON CONFLICT (client) DO UPDATE SET received = excluded.received, lost = excluded.lost, gaps = excluded.gaps,
      backwards = excluded.backwards, last_counter = excluded.last_counter`);
    this.ingestTx = this.db.transaction((records: readonly CapturedSebekRecord[]) => {
      const touched = new Set<string>();
      for (const r of records) {
        this.insRecord.run({
          ...r,
          usecSwapped: r.usecSwapped ? 1 : 0,
          length: r.data.length,
          data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
          comRaw: Buffer.from(r.comBytes.buffer, r.comBytes.byteOffset, r.comBytes.byteLength),
          comBytes: undefined,
          socket: undefined,
        });
        this.storeEvents(this.session.add(r));
        touched.add(r.client);
        this.saveProcess(this.session.processes.get(`${r.client}/${r.pid}`));
      }
      for (const c of touched) this.saveLoss(this.session.loss.get(c));
    });
  }

  /** Store records (one transaction) and what they complete. */
  ingest(records: readonly CapturedSebekRecord[]): void {
    if (records.length > 0) this.ingestTx(records);
  }

  /** Flush unterminated keystroke lines (end of a capture file, shutdown). */
  finish(): void {
    const events = this.session.finish();
    this.db.transaction(() => this.storeEvents(events))();
  }

  private storeEvents(events: readonly SebekEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'line':
          this.insLine.run({ ...e.line, terminated: e.line.terminated ? 1 : 0 });
          break;
        case 'open':
          this.insOpen.run(e.open);
          break;
        case 'socket':
          this.insSocket.run(e.socket);
          break;
        case 'fork':
          this.insFork.run(e.fork);
          break;
        case 'gap':
          break; // folded into the loss row
      }
    }
  }

  private saveProcess(p: SebekProcess | undefined): void {
    if (p !== undefined) this.upProcess.run({ ...p, coms: JSON.stringify(p.coms) });
  }

  private saveLoss(l: ClientLoss | undefined): void {
    if (l !== undefined) this.upLoss.run(l);
  }

  /** Every stored row as JSON lines: records, processes, keystroke lines, opens, sockets, forks, loss. */
  *exportJsonl(): Generator<string> {
    for (const row of this.db.prepare('SELECT * FROM records ORDER BY id').iterate() as IterableIterator<RecordRow>) {
      yield jsonLine(recordJson(rowToRecord(row)));
    }
    const tables: [string, string][] = [
      ['process', 'SELECT * FROM processes ORDER BY client, pid'],
      ['keystrokes', 'SELECT * FROM keystroke_lines ORDER BY id'],
      ['open', 'SELECT * FROM opens ORDER BY id'],
      ['socket', 'SELECT * FROM sockets ORDER BY id'],
      ['fork', 'SELECT * FROM forks ORDER BY id'],
      ['loss', 'SELECT * FROM loss ORDER BY client'],
    ];
    for (const [kind, sql] of tables) {
      for (const row of this.db.prepare(sql).iterate() as IterableIterator<Record<string, unknown>>) {
        const { id: _id, ...rest } = row;
        if (kind === 'process' && typeof rest.coms === 'string') rest.coms = JSON.parse(rest.coms) as unknown;
        if ('terminated' in rest) rest.terminated = rest.terminated === 1;
        yield jsonLine({ event_type: `sebek_${kind}`, ...rest });
      }
    }
  }

  close(): void {
    this.db.close();
  }
}

interface RecordRow {
  client: string;
  cap_sec: number;
  cap_usec: number;
  magic: number;
  version: 2 | 3;
  type: number;
  type_name: string;
  counter: number;
  time_sec: number;
  time_usec: number;
  usec_swapped: number;
  ppid: number;
  pid: number;
  uid: number;
  fd: number;
  inode: number;
  com: string;
  length: number;
  data: Buffer;
  com_raw: Buffer | null;
}

function rowToRecord(r: RecordRow): CapturedSebekRecord {
  const data = new Uint8Array(r.data);
  const rec: CapturedSebekRecord = {
    client: r.client,
    capSec: r.cap_sec,
    capUsec: r.cap_usec,
    magic: r.magic,
    version: r.version,
    type: r.type,
    typeName: r.type_name as CapturedSebekRecord['typeName'],
    counter: r.counter,
    timeSec: r.time_sec,
    timeUsec: r.time_usec,
    usecSwapped: r.usec_swapped === 1,
    ppid: r.ppid,
    pid: r.pid,
    uid: r.uid,
    fd: r.fd,
    inode: r.inode,
    com: r.com,
    data,
    comBytes: r.com_raw === null ? Buffer.from(r.com, 'latin1') : new Uint8Array(r.com_raw),
  };
  return rec;
}
