/**
 * The gateway's store feed: its own full capture read as tcpdump writes it (the rotated
 * `honeywall-YYYYmmdd-HHMMSS.pcap` files of the capture directory, oldest first, each followed until a newer one
 * exists) through the replay's pipeline and flow table (FrameReplayer, one table across the files, so a flow that
 * spans a rotation is one flow with a span in each file), its rows made by the import's mapping (StoreSink). So the
 * gateway's flows carry their frames' files and byte offsets, and `pcap-cut` cuts them out of the gateway's own
 * captures as it cuts an import's.
 *
 * Why the capture and not the inline inspector's flow table: the firewall queues only what the honeypots send (inbound
 * traffic is logged and accepted, never queued), so the queue's table sees half of each conversation, and it cannot
 * know where tcpdump, another process, put the frames. The alerts the inline inspector raises are linked to these
 * flows by their Community ID and time; firewall lines and the Sebek records in the capture are stored as an import
 * stores them.
 *
 * Everything is bounded: bytes read per step, the writer's queue (drops counted by kind), alerts waiting for their
 * flow (count and time), flows remembered after their end for late alerts.
 */
import { closeSync, createReadStream, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { FlowRecord } from '../flow/recorder.js';
import { FrameReplayer, type ReplayStats } from '../match/replay.js';
import type { AlertEvent } from '../output/alert.js';
import { CaptureFormatError, CaptureNotes, CaptureParser, copyFrame, type CaptureState } from '../packet/pcap.js';
import { SebekExtractor, type CapturedSebekRecord } from '../sebek/extract.js';
import { SebekStore } from '../sebek/store.js';
import type { HoneypotSet } from './honeypots.js';
import { linkSockets, removeCapture } from './import.js';
import { StoreSink } from './sink.js';
import { StoreWriter, type FirewallEvent, type StoreWriterOptions } from './writer.js';

/** The full capture's file names (retention.ts sweeps the same). */
export const LIVE_CAPTURE_FILE = /^honeywall-\d{8}-\d{6}\.pcap$/;

export interface LiveOptions {
  /** The full capture's directory (undefined: no capture, so no flows; alerts and firewall lines are still stored). */
  dir: string | undefined;
  honeypots: HoneypotSet;
  sensor: string;
  /** Files last written before this time (ms since the epoch) are an earlier run's: left to `honeywall import`. */
  since: number;
  /** Read the Sebek records in the capture (the gateway's magic and port); undefined: none. */
  sebek?: { magic: number | undefined; port: number };
  /** Link Sebek sockets to flows (also when another writer stores the Sebek rows in this file). */
  linkSockets?: boolean;
  writer?: StoreWriterOptions;
  /** Bytes read from the capture per step (default 4 MiB). */
  readChunk?: number;
  /** Frame offsets kept per flow and file (FlowRecorderOptions.maxOffsets). */
  maxOffsets?: number;
  /** How long an alert waits for its flow to appear in the capture (ms of this clock; default 5,000). */
  alertWaitMs?: number;
  /** Alerts waiting at once (default 10,000; past that an alert is stored without its flow, counted). */
  maxPendingAlerts?: number;
  /** Ended flows remembered for alerts that come late (default 65,536). */
  maxRecent?: number;
  /** Open flows' rows brought up to date at most this often (ms; default 2,000). */
  refreshMs?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
}

export class LiveStats {
  files = 0;
  current: string | undefined = undefined;
  bytesRead = 0;
  frames = 0;
  /** Bytes written to the capture but not read yet (current file). */
  lagBytes = 0;
  flows = 0;
  alerts = 0;
  alertsLinked = 0;
  /** Stored without a flow: none found in time, no Community ID, or too many waiting. */
  alertsUnlinked = 0;
  alertsPendingOverflow = 0;
  alertsPending = 0;
  firewall = 0;
  sebekRecords = 0;
  socketsLinked = 0;
  flowUpdates = 0;
  /** Capture files that could not be read further (the message, last one). */
  captureErrors = 0;
  lastCaptureError: string | undefined = undefined;
}

interface LiveFile {
  path: string;
  id: number;
  fd: number | undefined;
  offset: number;
  parser: CaptureParser;
  states: [number, CaptureState][];
  format: string | undefined;
  packets: number;
  bytes: number;
  firstUs: number | undefined;
  lastUs: number | undefined;
  done: boolean;
  dirty: boolean;
}

/** A flow as alerts find it: its row and the times it covers (µs). */
interface FlowSeen {
  row: number;
  rec: FlowRecord;
  honeypot: string | null;
  /**
   * The capture's time when the flow left the table (undefined while open). Its data still queued is inspected then,
   * as rebuilt packets with the time of the packet that ended it (a timeout: up to the timeout after its last frame).
   */
  closedUs?: number;
}

interface PendingAlert {
  alert: AlertEvent;
  since: number;
}

const US = 1_000_000;
/** An alert's time may be this far outside its flow's first and last frame (the queue's clock and tcpdump's differ). */
const SLACK_US = 2 * US;
const MAX_STATES = 256;
const SEBEK_BATCH = 1000;

export class LiveStore {
  readonly stats = new LiveStats();
  readonly writer: StoreWriter;
  private readonly sink: StoreSink;
  private readonly replayer: FrameReplayer;
  private readonly replayStats: ReplayStats = { packets: 0, bytes: 0, items: 0, events: 0 };
  private readonly files = new Map<string, LiveFile>();
  private readonly order: LiveFile[] = [];
  private index = 0;
  /** Capture time of the last frame read (µs): an alert later than this may still find its flow. */
  private captureUs = 0;
  private readonly byCid = new Map<string, FlowSeen[]>();
  /** Ended flows, oldest first (a Map keeps insertion order), for late alerts. */
  private readonly recent = new Map<FlowRecord, FlowSeen>();
  private readonly open = new Map<FlowRecord, { seen: FlowSeen; refreshedAt: number }>();
  private pending: PendingAlert[] = [];
  private readonly sebek: SebekStore | undefined;
  private readonly extractor: SebekExtractor | undefined;
  private sebekBatch: CapturedSebekRecord[] = [];
  private socketsDirty = false;
  private lastRefresh = 0;
  private readonly now: () => number;
  private readonly readChunk: number;
  private scratch: Buffer | undefined;
  private readonly insCapture: Database.Statement;
  private readonly upCapture: Database.Statement;
  private closed = false;
  private readonly hashing = new Set<Promise<void>>();

  constructor(
    readonly db: Database.Database,
    private readonly opts: LiveOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.readChunk = opts.readChunk ?? 4 << 20;
    this.writer = new StoreWriter(db, { ...opts.writer, onFull: 'drop', startRows: true });
    this.sink = new StoreSink(this.writer, opts.honeypots, opts.sensor, null, {
      started: (rec, row) => this.flowStarted(rec, row),
      ended: (rec, row) => this.flowEnded(rec, row),
    });
    this.replayer = new FrameReplayer(
      { inspect: () => [] },
      { checksumMode: 'none' },
      {
        onEvent: () => undefined,
        onFlowStart: this.sink.onFlowStart,
        onFlowEnd: this.sink.onFlowEnd,
        onFrame: (rec) => this.frame(rec.linktype, rec.data, rec.tsSec, rec.tsUsec),
        offsets: true,
        maxOffsets: opts.maxOffsets,
        untrackedFlows: true,
      },
      this.replayStats,
    );
    if (opts.sebek !== undefined) {
      this.sebek = new SebekStore(db);
      this.extractor = new SebekExtractor({ magic: opts.sebek.magic, port: opts.sebek.port });
    }
    this.insCapture = db.prepare(`INSERT INTO captures (path, sha256, size, status, sensor, imported_at) VALUES (?, ?, 0, 'live', ?, ?)`);
    this.upCapture = db.prepare(
      `UPDATE captures SET size = ?, format = ?, states = ?, states_complete = ?, packets = ?, bytes = ?, first_us = ?, last_us = ?,
       status = ?, error = ? WHERE id = ?`,
    );
  }

  // ------------------------------------------------------------------------------------------------ the capture

  /**
   * Reads on in the capture: new files found, the current one read up to `budgetMs` of work (or its end), the
   * rows queued. Returns true when bytes are left to read (call again soon).
   */
  step(budgetMs = 50): boolean {
    if (this.closed || this.opts.dir === undefined) return false;
    this.discover();
    const t0 = performance.now();
    for (;;) {
      const f = this.order.find((x) => !x.done);
      if (f === undefined) return false;
      const n = this.readSome(f);
      if (n === 0) {
        // the end of what tcpdump wrote: a newer file means this one is closed (tcpdump -G closes before it opens)
        if (this.order.some((x) => !x.done && x !== f)) this.finishFile(f);
        else {
          this.retryPending();
          return false;
        }
      }
      if (performance.now() - t0 > budgetMs) {
        this.retryPending();
        return true;
      }
    }
  }

  /** New capture files of this run, oldest first (their names are their start times). */
  private discover(): void {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir!).filter((n) => LIVE_CAPTURE_FILE.test(n));
    } catch {
      return; // not made yet (tcpdump makes it)
    }
    names.sort();
    for (const name of names) {
      const p = path.join(this.opts.dir!, name);
      if (this.files.has(p)) continue;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      // a planted symlink or device is not the capture; an older file is an earlier run's
      if (!st.isFile() || st.mtimeMs < this.opts.since - 1000) continue;
      this.track(p);
    }
  }

  private track(p: string): void {
    const placeholder = `live:${p}`;
    // the same name again: tcpdump started over in the same second and truncated the file; its rows go
    const old = this.db.prepare('SELECT id FROM captures WHERE sha256 = ?').get(placeholder) as { id: number } | undefined;
    if (old !== undefined) removeCapture(this.db, old.id);
    const id = Number(this.insCapture.run(p, placeholder, this.opts.sensor, Math.floor(this.now() / 1000)).lastInsertRowid);
    const f: LiveFile = {
      path: p,
      id,
      fd: undefined,
      offset: 0,
      parser: new CaptureParser(p, new CaptureNotes()),
      states: [],
      format: undefined,
      packets: 0,
      bytes: 0,
      firstUs: undefined,
      lastUs: undefined,
      done: false,
      dirty: true,
    };
    f.parser.onState = (offset, state) => {
      f.format ??= state.format;
      if (f.states.length < MAX_STATES) f.states.push([offset, state]);
      f.dirty = true;
    };
    this.files.set(p, f);
    this.order.push(f);
    this.order.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    this.stats.files++;
  }

  /** Reads and replays the next chunk of `f`; the bytes read (0 at its current end). */
  private readSome(f: LiveFile): number {
    try {
      f.fd ??= openSync(f.path, 'r');
      // one read buffer, the bytes read handed on as a copy of their own length (the parser keeps what it is given
      // until its records are read; a fresh 4 MiB buffer each read, zero-filled, cost more than the replay of a tail)
      this.scratch ??= Buffer.allocUnsafe(this.readChunk);
      const n = readSync(f.fd, this.scratch, 0, this.scratch.length, f.offset);
      this.stats.current = f.path;
      this.stats.lagBytes = Math.max(0, fstatSync(f.fd).size - f.offset - n);
      if (n === 0) return 0;
      f.offset += n;
      this.stats.bytesRead += n;
      f.parser.push(copyFrame(this.scratch.subarray(0, n)));
      this.replayer.capture = f.id;
      for (let r = f.parser.next(); r !== undefined; r = f.parser.next()) {
        const t = r.tsSec * US + r.tsUsec;
        if (f.firstUs === undefined || t < f.firstUs) f.firstUs = t;
        if (f.lastUs === undefined || t > f.lastUs) f.lastUs = t;
        if (t > this.captureUs) this.captureUs = t;
        f.packets++;
        f.bytes += r.data.length;
        this.stats.frames++;
        this.replayer.frame(r, this.index++);
      }
      f.dirty = true;
      return n;
    } catch (err) {
      this.captureError(f, err);
      return 0;
    }
  }

  private captureError(f: LiveFile, err: unknown): void {
    this.stats.captureErrors++;
    this.stats.lastCaptureError = `${f.path}: ${(err as Error).message}`;
    this.finishFile(f, (err as Error).message);
  }

  /** A file tcpdump has closed: the rest parsed, its row marked done with its SHA-256 (a later import skips it). */
  private finishFile(f: LiveFile, error?: string): void {
    if (f.done) return;
    f.done = true;
    let why = error;
    if (why === undefined) {
      try {
        f.parser.finish();
      } catch (err) {
        if (!(err instanceof CaptureFormatError)) throw err;
        why = err.message;
      }
    }
    if (f.fd !== undefined) closeSync(f.fd);
    f.fd = undefined;
    this.saveFile(f, 'done', why ?? null);
    const hashed = sha256Of(f.path).then(
      (sha) => {
        if (!this.db.open) return;
        try {
          this.db.prepare('UPDATE OR IGNORE captures SET sha256 = ? WHERE id = ?').run(sha, f.id);
        } catch {
          // the store closed meanwhile: the placeholder stays (an import of the file then imports it again)
        }
      },
      () => undefined,
    );
    this.hashing.add(hashed);
    void hashed.then(() => this.hashing.delete(hashed));
  }

  /** Resolves when the files finished so far carry their SHA-256 (before the store is closed). */
  async settled(): Promise<void> {
    await Promise.all([...this.hashing]);
  }

  private saveFile(f: LiveFile, status: 'live' | 'done', error: string | null): void {
    this.upCapture.run(
      f.offset,
      f.format ?? null,
      JSON.stringify(f.states),
      f.states.length < MAX_STATES ? 1 : 0,
      f.packets,
      f.bytes,
      f.firstUs ?? null,
      f.lastUs ?? null,
      status,
      error,
      f.id,
    );
    f.dirty = false;
  }

  /** Each frame: its Sebek records (the import's reader). */
  private frame(linktype: number, data: Uint8Array, tsSec: number, tsUsec: number): void {
    if (this.extractor === undefined) return;
    for (const r of this.extractor.fromFrame(linktype, data, tsSec, tsUsec)) this.sebekBatch.push(r);
    if (this.sebekBatch.length >= SEBEK_BATCH) this.ingestSebek();
  }

  private ingestSebek(): void {
    if (this.sebekBatch.length === 0 || this.sebek === undefined) return;
    this.sebek.ingest(this.sebekBatch);
    this.stats.sebekRecords += this.sebekBatch.length;
    this.sebekBatch = [];
    this.socketsDirty = true;
  }

  // ------------------------------------------------------------------------------------------------ flows and alerts

  private flowStarted(rec: FlowRecord, row: number): void {
    this.stats.flows++;
    const seen: FlowSeen = { row, rec, honeypot: this.opts.honeypots.classify(rec.clientIp, rec.serverIp).honeypot };
    this.open.set(rec, { seen, refreshedAt: rec.lastIndex });
    if (rec.communityId === '') return;
    const list = this.byCid.get(rec.communityId);
    if (list === undefined) this.byCid.set(rec.communityId, [seen]);
    else list.push(seen);
    this.retryPending();
  }

  private flowEnded(rec: FlowRecord, _row: number): void {
    const o = this.open.get(rec);
    this.open.delete(rec);
    if (o === undefined || rec.communityId === '') return;
    o.seen.closedUs = this.captureUs;
    this.recent.set(rec, o.seen);
    const max = this.opts.maxRecent ?? 65_536;
    while (this.recent.size > max) {
      const [oldest, seen] = this.recent.entries().next().value as [FlowRecord, FlowSeen];
      this.recent.delete(oldest);
      this.forget(seen);
    }
  }

  private forget(seen: FlowSeen): void {
    const list = this.byCid.get(seen.rec.communityId);
    if (list === undefined) return;
    const i = list.indexOf(seen);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.byCid.delete(seen.rec.communityId);
  }

  /**
   * The flow an alert was raised in: same Community ID, the alert's time within the flow's first and last frame (the
   * latest such flow). When giving up on waiting (`last`), an open flow that started before the alert will do: its
   * frames at the alert's time may not be in the capture yet (tcpdump buffers, or the capture lags).
   */
  private flowOf(a: AlertEvent, last: boolean): FlowSeen | undefined {
    if (a.communityId === undefined) return undefined;
    const list = this.byCid.get(a.communityId);
    if (list === undefined) return undefined;
    const t = a.tsSec * US + a.tsUsec;
    for (let i = list.length - 1; i >= 0; i--) {
      const s = list[i]!;
      const first = s.rec.startSec * US + s.rec.startUsec;
      const end = Math.max(s.rec.endSec * US + s.rec.endUsec, s.closedUs ?? 0);
      if (t >= first - SLACK_US && (t <= end + SLACK_US || (last && this.open.has(s.rec)))) return s;
    }
    return undefined;
  }

  /** Alerts from the inline inspector: linked to their flow now, or when the capture reaches them, or stored alone. */
  alerts(list: readonly AlertEvent[]): void {
    const now = this.now();
    for (const a of list) {
      this.stats.alerts++;
      if (this.store(a, false)) continue;
      if (a.communityId === undefined || this.opts.dir === undefined) {
        this.store(a, true);
        continue;
      }
      if (this.pending.length >= (this.opts.maxPendingAlerts ?? 10_000)) {
        this.stats.alertsPendingOverflow++;
        this.store(a, true);
        continue;
      }
      this.pending.push({ alert: a, since: now });
    }
    this.stats.alertsPending = this.pending.length;
  }

  /** Stores `a` linked to its flow (false when none is known and `alone` is false). */
  private store(a: AlertEvent, alone: boolean): boolean {
    const seen = this.flowOf(a, alone);
    if (seen === undefined && !alone) return false;
    const honeypot = this.opts.honeypots.of(a.src, a.dst);
    this.writer.alert(a, seen?.row ?? null, { honeypot, sensor: this.opts.sensor, captureId: null });
    if (seen !== undefined) this.stats.alertsLinked++;
    else this.stats.alertsUnlinked++;
    return true;
  }

  private retryPending(): void {
    if (this.pending.length === 0) return;
    const now = this.now();
    const wait = this.opts.alertWaitMs ?? 5000;
    const still: PendingAlert[] = [];
    for (const p of this.pending) {
      if (this.store(p.alert, false)) continue;
      const t = p.alert.tsSec * US + p.alert.tsUsec;
      // given up: the capture is well past the alert's time and no flow had it, or waited long enough with the
      // capture read up to what tcpdump wrote (a reader behind, on a busy machine, may still reach its flow)
      if (this.captureUs > t + 10 * SLACK_US || (now - p.since >= wait && this.stats.lagBytes === 0)) this.store(p.alert, true);
      else still.push(p);
    }
    this.pending = still;
    this.stats.alertsPending = still.length;
  }

  firewall(events: readonly FirewallEvent[]): void {
    for (const e of events) {
      this.stats.firewall++;
      this.writer.firewall(e);
    }
  }

  // ------------------------------------------------------------------------------------------------ writing

  /**
   * Writes what is queued: open flows' rows brought up to date (at most every refreshMs), the Sebek records, the
   * writer's queue, the capture files' rows, then Sebek sockets linked to flows.
   */
  flush(): void {
    const now = this.now();
    this.retryPending();
    if (now - this.lastRefresh >= (this.opts.refreshMs ?? 2000)) {
      this.lastRefresh = now;
      for (const [rec, o] of this.open) {
        if (rec.lastIndex === o.refreshedAt) continue;
        o.refreshedAt = rec.lastIndex;
        if (this.writer.flowUpdated(o.seen.row, rec, this.sink.metaOf(rec)!)) this.stats.flowUpdates++;
      }
    }
    this.ingestSebek();
    this.writer.flush();
    for (const f of this.order) if (f.dirty && !f.done) this.saveFile(f, 'live', null);
    if (this.socketsDirty && (this.opts.linkSockets ?? this.sebek !== undefined)) {
      this.socketsDirty = false;
      this.stats.socketsLinked += linkSockets(this.db);
    }
  }

  /** Sebek sockets may now find flows another writer stored (HwSEBEK_DB is the store itself). */
  markSocketsDirty(): void {
    this.socketsDirty = true;
  }

  /** The end: the capture read to its end, every open flow ended ('shutdown'), waiting alerts stored, all written. */
  close(): void {
    if (this.closed) return;
    if (this.opts.dir !== undefined) {
      while (this.step(1000)) {
        // read what tcpdump wrote before it stopped
      }
    }
    this.closed = true;
    this.replayer.finish();
    for (const p of this.pending) this.store(p.alert, true);
    this.pending = [];
    this.stats.alertsPending = 0;
    this.ingestSebek();
    this.sebek?.finish();
    this.socketsDirty = true;
    this.lastRefresh = Number.NEGATIVE_INFINITY;
    this.writer.flush();
    for (const f of this.order) if (!f.done) this.finishFile(f);
    if (this.opts.linkSockets ?? this.sebek !== undefined) this.stats.socketsLinked += linkSockets(this.db);
  }
}

/** SHA-256 of a file, read as a stream (a day's capture can be gigabytes). */
function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (c) => h.update(c as Buffer))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
