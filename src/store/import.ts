/**
 * `honeywall import`: captures made elsewhere into the store. Each capture goes through the replay's one pipeline
 * (decode, defrag, the flow table, reassembly, HTTP: replayCapture) with a FlowRecorder on its flow table: every
 * flow's start and end, with where its frames are in the file, become a flow row; the matcher's events (when rules
 * are given) alerts linked to their flow; with a Sebek magic, the Sebek records in the capture go through the Sebek
 * reader into the same file, and Sebek socket calls are linked to the flows they made.
 *
 * Idempotent by content: a capture is known by the SHA-256 of its bytes (`captures.sha256`); one already imported is
 * skipped, whatever its path. A capture's row is marked `importing` before its first row is written and `done` after
 * its last: an import that was stopped half way is removed (every row carrying its capture id) and done again by the
 * next run.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { replayCapture, type CaptureWarning, type Inspector, type ReplayStats } from '../match/replay.js';
import type { CaptureFormatError, CaptureState } from '../packet/pcap.js';
import { SebekExtractor, type CapturedSebekRecord } from '../sebek/extract.js';
import { SebekStore } from '../sebek/store.js';
import type { HoneypotSet } from './honeypots.js';
import { StoreSink } from './sink.js';
import { StoreWriter, type StoreWriterStats } from './writer.js';

export interface ImportOptions {
  /** The rules' matcher; without one only flows (and Sebek) are imported. */
  inspector?: Inspector;
  checksumMode: 'all' | 'none';
  honeypots: HoneypotSet;
  /** The sensor name rows carry (`--sensor`). */
  sensor: string;
  /** Read Sebek records with this magic (undefined: none are read) on this UDP port. */
  sebekMagic?: number;
  sebekPort?: number;
  /** Frame offsets kept per flow and file (FlowRecorderOptions.maxOffsets; longer flows are cut by scanning). */
  maxOffsets?: number;
}

export interface CaptureImport {
  path: string;
  captureId: number;
  /** skipped: the same bytes were imported before (as `sameAs`). */
  status: 'imported' | 'skipped';
  sameAs?: string;
  /** An unfinished import of this capture was removed first. */
  rolledBack: boolean;
  packets: number;
  bytes: number;
  flows: number;
  alerts: number;
  sebekRecords: number;
  /** Sockets linked to flows after this capture (all of the store's unlinked sockets are tried). */
  socketsLinked: number;
  /** Why reading stopped early (the capture is imported up to there). */
  error?: CaptureFormatError;
  warnings: CaptureWarning[];
  writer?: StoreWriterStats;
  seconds: number;
}

/** Capture states kept per file: a pcapng with more interface and section blocks is read on from the last one kept. */
const MAX_STATES = 256;
/** Sebek records per transaction. */
const SEBEK_BATCH = 1000;
/** Operations per transaction of the import's writer (it flushes when full: an import never drops). */
const IMPORT_BATCH = 4096;

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Tables whose rows carry the capture id of the import that wrote them. */
const CAPTURE_TABLES = ['flows', 'flow_files', 'alerts', 'records', 'keystroke_lines', 'opens', 'sockets', 'forks'];

/**
 * Removes every row an import of capture `id` wrote, and the counts they had added (rebuilt); Sebek sockets of other
 * captures linked to its flows are unlinked (the next import links them again). Sebek's per-process and per-client
 * totals (`processes`, `loss`) are upserted by each import and are not taken back.
 */
export function removeCapture(db: Database.Database, id: number): void {
  db.transaction(() => {
    db.prepare('UPDATE sockets SET flow_id = NULL WHERE flow_id IN (SELECT id FROM flows WHERE capture_id = ?)').run(id);
    for (const t of CAPTURE_TABLES) db.prepare(`DELETE FROM ${t} WHERE capture_id = ?`).run(id);
    db.prepare('DELETE FROM captures WHERE id = ?').run(id);
    rebuildCounts(db);
  })();
}

/** The per-minute and per-hour counts recomputed from the rows (after rows were removed; a test holds them to the incremental ones). */
export function rebuildCounts(db: Database.Database): void {
  for (const [table, col, width] of [
    ['minutes', 'minute', 60],
    ['hours', 'hour', 3600],
  ] as const) {
    const us = width * 1_000_000;
    db.exec(`DELETE FROM ${table};
    INSERT INTO ${table} (honeypot, ${col}, flows_in, flows_out, flows_other, bytes_in, bytes_out, alerts, firewall, limits)
    SELECT honeypot, t, SUM(fi), SUM(fo), SUM(fx), SUM(bi), SUM(bo), SUM(a), SUM(fw), SUM(l) FROM (
      SELECT COALESCE(honeypot, '') AS honeypot, (first_us / ${us}) * ${width} AS t,
        direction = 'inbound' AS fi, direction = 'outbound' AS fo, direction NOT IN ('inbound', 'outbound') AS fx,
        CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toclient ELSE bytes_toserver END AS bi,
        CASE WHEN direction IN ('outbound', 'internal') THEN bytes_toserver ELSE bytes_toclient END AS bo,
        0 AS a, 0 AS fw, 0 AS l
      FROM flows WHERE reason IS NOT NULL
      UNION ALL SELECT COALESCE(honeypot, ''), (ts_us / ${us}) * ${width}, 0, 0, 0, 0, 0, 1, 0, 0 FROM alerts
      UNION ALL SELECT COALESCE(honeypot, ''), (ts_us / ${us}) * ${width}, 0, 0, 0, 0, 0, 0, 1, kind = 'limit' FROM firewall_events
    ) GROUP BY honeypot, t`);
  }
}

/**
 * Links Sebek socket calls to the flows they made: same protocol and endpoints (either way round), the flow that
 * started nearest the call's time within an hour (the call's time is the honeypot's clock, the flow's the capture's).
 * Returns how many were linked.
 */
export function linkSockets(db: Database.Database): number {
  const linked = () => (db.prepare('SELECT COUNT(*) AS n FROM sockets WHERE flow_id IS NOT NULL').get() as { n: number }).n;
  const before = linked();
  db.prepare(
    `UPDATE sockets SET flow_id = (
      SELECT f.id FROM flows f
      WHERE f.proto = sockets.proto
        AND ((f.client_port = sockets.sport AND f.client_ip = sockets.sip AND f.server_ip = sockets.dip AND f.server_port = sockets.dport)
          OR (f.client_port = sockets.dport AND f.client_ip = sockets.dip AND f.server_ip = sockets.sip AND f.server_port = sockets.sport))
        AND f.first_us BETWEEN (sockets.time_sec - 3600) * 1000000 AND (sockets.time_sec + 3600) * 1000000
      ORDER BY ABS(f.first_us - sockets.time_sec * 1000000) LIMIT 1)
    WHERE flow_id IS NULL AND sport > 0 AND dport > 0`,
  ).run();
  return linked() - before;
}

export class Importer {
  constructor(
    readonly db: Database.Database,
    private readonly opts: ImportOptions,
  ) {}

  /** Imports one capture file (a regular file: it is hashed first and its records are read again by offset later). */
  async importCapture(file: string): Promise<CaptureImport> {
    const t0 = performance.now();
    const path = resolve(file);
    const db = this.db;
    const size = statSync(path).size;
    const sha256 = await sha256File(path);
    const base: CaptureImport = {
      path,
      captureId: 0,
      status: 'imported',
      rolledBack: false,
      packets: 0,
      bytes: 0,
      flows: 0,
      alerts: 0,
      sebekRecords: 0,
      socketsLinked: 0,
      warnings: [],
      seconds: 0,
    };
    const known = db.prepare('SELECT id, path, status FROM captures WHERE sha256 = ?').get(sha256) as
      | { id: number; path: string; status: string }
      | undefined;
    if (known !== undefined && known.status === 'done') {
      return { ...base, captureId: known.id, status: 'skipped', sameAs: known.path, seconds: (performance.now() - t0) / 1000 };
    }
    if (known !== undefined) {
      removeCapture(db, known.id);
      base.rolledBack = true;
    }
    const captureId = Number(
      db
        .prepare(`INSERT INTO captures (path, sha256, size, status, sensor, imported_at) VALUES (?, ?, ?, 'importing', ?, ?)`)
        .run(path, sha256, size, this.opts.sensor, Math.floor(Date.now() / 1000)).lastInsertRowid,
    );
    base.captureId = captureId;
    return this.run(path, captureId, base, t0);
  }

  private async run(path: string, captureId: number, out: CaptureImport, t0: number): Promise<CaptureImport> {
    const { honeypots, sensor } = this.opts;
    const db = this.db;
    const writer = new StoreWriter(db, { onFull: 'flush', maxQueue: IMPORT_BATCH, batch: IMPORT_BATCH, startRows: false });
    const sink = new StoreSink(writer, honeypots, sensor, captureId);
    const states: [number, CaptureState][] = [];
    let statesComplete = true;
    let firstUs: number | undefined;
    let lastUs: number | undefined;
    let format: string | undefined;
    // Sebek: the records of this capture into the same file, a batch a transaction
    const sebek = this.opts.sebekMagic === undefined ? undefined : new SebekStore(db);
    const extractor = sebek === undefined ? undefined : new SebekExtractor({ magic: this.opts.sebekMagic, port: this.opts.sebekPort });
    if (sebek !== undefined) sebek.captureId = captureId;
    let sebekBatch: CapturedSebekRecord[] = [];
    const stats: ReplayStats = { packets: 0, bytes: 0, items: 0, events: 0 };
    const inspector: Inspector = this.opts.inspector ?? { inspect: () => [] };
    const error = await replayCapture(
      path,
      inspector,
      { checksumMode: this.opts.checksumMode },
      {
        offsets: true,
        maxOffsets: this.opts.maxOffsets,
        untrackedFlows: true,
        capture: captureId,
        onCaptureState: (offset, state) => {
          format ??= state.format;
          if (states.length < MAX_STATES) states.push([offset, state]);
          else statesComplete = false;
        },
        onFrame: (rec) => {
          const t = rec.tsSec * 1_000_000 + rec.tsUsec;
          if (firstUs === undefined || t < firstUs) firstUs = t;
          if (lastUs === undefined || t > lastUs) lastUs = t;
          if (extractor !== undefined) {
            for (const r of extractor.fromFrame(rec.linktype, rec.data, rec.tsSec, rec.tsUsec)) sebekBatch.push(r);
            if (sebekBatch.length >= SEBEK_BATCH) {
              sebek!.ingest(sebekBatch);
              sebekBatch = [];
            }
          }
        },
        onFlowStart: sink.onFlowStart,
        onFlowEnd: sink.onFlowEnd,
        onEvent: sink.onEvent,
      },
      stats,
      out.warnings,
    );
    writer.flush(true);
    if (sebek !== undefined) {
      sebek.ingest(sebekBatch);
      sebek.finish();
      out.sebekRecords = extractor!.stats.records;
      out.socketsLinked = linkSockets(db);
    }
    db.prepare(
      `UPDATE captures SET status = 'done', format = ?, states = ?, states_complete = ?, packets = ?, bytes = ?, first_us = ?, last_us = ?,
       error = ? WHERE id = ?`,
    ).run(
      format ?? null,
      JSON.stringify(states),
      statesComplete ? 1 : 0,
      stats.packets,
      stats.bytes,
      firstUs ?? null,
      lastUs ?? null,
      error?.message ?? null,
      captureId,
    );
    out.flows = sink.flows;
    out.alerts = sink.alerts;
    out.packets = stats.packets;
    out.bytes = stats.bytes;
    out.error = error;
    out.writer = writer.stats;
    out.seconds = (performance.now() - t0) / 1000;
    return out;
  }
}
