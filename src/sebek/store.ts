/**
 * Sebek storage in SQLite (better-sqlite3 12: synchronous, embedded, works on Node 20), in the analysis store
 * (src/store: its schema and migrations; an older Sebek-only file is migrated when opened).
 *
 * Tables: records (every record, data as a BLOB), processes (client, pid), keystroke_lines,
 * opens, sockets, forks, loss (per client). Rows an import writes carry its capture's id. `ingest` runs a record through a SebekSession and stores
 * the record and every event in one transaction; `exportJsonl` writes one JSON object per line.
 *
 * What the intruder wrote is stored two ways: faithfully as bytes (records.data, records.com_raw: BLOBs) and as
 * escaped text in every TEXT column (com, path, line, coms: text.ts, no control character), so a query printed on a
 * terminal or mailed shows the text and never plays it.
 */
import type Database from 'better-sqlite3';
import { openStore, StoreError } from '../store/db.js';
import type { CapturedSebekRecord } from './extract.js';
import { jsonLine, recordJson } from './json.js';
import type { ClientLoss, SebekEvent, SebekProcess } from './session.js';
import { SebekSession } from './session.js';

/** Thrown when the database file cannot be opened or written (message names the file). */
export class SebekStoreError extends Error {}

export class SebekStore {
  readonly db: Database.Database;
  readonly session = new SebekSession();
  /** The capture the rows come from (`honeywall import`), stored in their capture_id; null otherwise. */
  captureId: number | null = null;
  private readonly owned: boolean;
  private readonly insRecord: Database.Statement;
  private readonly insLine: Database.Statement;
  private readonly insOpen: Database.Statement;
  private readonly insSocket: Database.Statement;
  private readonly insFork: Database.Statement;
  private readonly upProcess: Database.Statement;
  private readonly upLoss: Database.Statement;
  private readonly ingestTx: (records: readonly CapturedSebekRecord[]) => void;

  /** `target`: a path or ':memory:' (opened and migrated here, closed by close()), or a store already open. */
  constructor(target: string | Database.Database) {
    this.owned = typeof target === 'string';
    if (typeof target === 'string') {
      try {
        this.db = openStore(target, { label: 'the Sebek database' });
      } catch (err) {
        throw new SebekStoreError(err instanceof StoreError ? err.message : `${target}: cannot open the Sebek database: ${(err as Error).message}`);
      }
    } else this.db = target;
    this.insRecord = this.db.prepare(`INSERT INTO records (client, cap_sec, cap_usec, magic, version, type, type_name, counter, time_sec, time_usec,
      usec_swapped, ppid, pid, uid, fd, inode, com, length, data, com_raw, capture_id) VALUES (@client, @capSec, @capUsec, @magic, @version, @type,
      @typeName, @counter, @timeSec, @timeUsec, @usecSwapped, @ppid, @pid, @uid, @fd, @inode, @com, @length, @data, @comRaw, @captureId)`);
    this.insLine = this.db.prepare(`INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated, capture_id)
      VALUES (@client, @pid, @fd, @uid, @com, @timeSec, @timeUsec, @line, @terminated, @captureId)`);
    this.insOpen = this.db.prepare(`INSERT INTO opens (client, pid, uid, com, fd, inode, path, time_sec, time_usec, capture_id)
      VALUES (@client, @pid, @uid, @com, @fd, @inode, @path, @timeSec, @timeUsec, @captureId)`);
    this.insSocket =
      this.db.prepare(`INSERT INTO sockets (client, pid, uid, com, fd, call, call_name, proto, sip, sport, dip, dport, time_sec, time_usec, capture_id)
      VALUES (@client, @pid, @uid, @com, @fd, @call, @callName, @proto, @sip, @sport, @dip, @dport, @timeSec, @timeUsec, @captureId)`);
    this.insFork = this.db.prepare(`INSERT INTO forks (client, pid, ppid, uid, com, time_sec, time_usec, capture_id)
      VALUES (@client, @pid, @ppid, @uid, @com, @timeSec, @timeUsec, @captureId)`);
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
          captureId: this.captureId,
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
          this.insLine.run({ ...e.line, terminated: e.line.terminated ? 1 : 0, captureId: this.captureId });
          break;
        case 'open':
          this.insOpen.run({ ...e.open, captureId: this.captureId });
          break;
        case 'socket':
          this.insSocket.run({ ...e.socket, captureId: this.captureId });
          break;
        case 'fork':
          this.insFork.run({ ...e.fork, captureId: this.captureId });
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
        // the store's links (import's capture, the flow a socket made) are said only when there is one
        if (rest.capture_id === null) delete rest.capture_id;
        if (rest.flow_id === null) delete rest.flow_id;
        if (kind === 'process' && typeof rest.coms === 'string') rest.coms = JSON.parse(rest.coms) as unknown;
        if ('terminated' in rest) rest.terminated = rest.terminated === 1;
        yield jsonLine({ event_type: `sebek_${kind}`, ...rest });
      }
    }
  }

  /** Closes the database if this store opened it. */
  close(): void {
    if (this.owned) this.db.close();
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
