/**
 * Sebek from a capture file: stream the file, pick the records, rebuild the session. Used by
 * `honeywall sebek`. A capture error (truncated or corrupt file) stops reading but keeps everything
 * decoded before it; it is returned, not thrown.
 */
import { CaptureFormatError, CaptureNotes, openCapture } from '../packet/pcap.js';
import { SebekExtractor, type CapturedSebekRecord, type SebekExtractOptions, type SebekExtractStats } from './extract.js';
import { SebekSession, type SebekEvent, type SebekProcess } from './session.js';
import type { SebekStore } from './store.js';

export interface AnalyzeOptions extends SebekExtractOptions {
  /** Called for each record as it is decoded. */
  onRecord?: (r: CapturedSebekRecord) => void;
  /** Called for each event (lines, opens, sockets, forks, gaps). */
  onEvent?: (e: SebekEvent) => void;
  /** Store records and events here too (its own session is used for the stored rows). */
  store?: SebekStore;
  /** A process the session let go at its limit (see SebekSession). */
  onEvict?: (p: SebekProcess) => void;
  /** Handed the session before the first record (to look a process up while events arrive). */
  onSession?: (s: SebekSession) => void;
}

export interface AnalyzeResult {
  session: SebekSession;
  stats: SebekExtractStats;
  /** Packets read from the capture. */
  packets: number;
  /** Why reading stopped early, if it did. */
  captureError?: CaptureFormatError;
  /** What the reader changed without stopping (timestamps clamped, records cut). */
  notes: CaptureNotes;
}

const STORE_BATCH = 1000;

export async function analyzeCapture(path: string, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const extractor = new SebekExtractor(opts);
  const session = new SebekSession({}, opts.onEvict);
  opts.onSession?.(session);
  let packets = 0;
  let captureError: CaptureFormatError | undefined;
  const notes = new CaptureNotes();
  let batch: CapturedSebekRecord[] = [];
  const emit = (events: SebekEvent[]): void => {
    if (opts.onEvent) for (const e of events) opts.onEvent(e);
  };
  try {
    for await (const rec of openCapture(path, notes)) {
      packets++;
      for (const r of extractor.fromFrame(rec.linktype, rec.data, rec.tsSec, rec.tsUsec)) {
        opts.onRecord?.(r);
        emit(session.add(r));
        if (opts.store) {
          batch.push(r);
          if (batch.length >= STORE_BATCH) {
            opts.store.ingest(batch);
            batch = [];
          }
        }
      }
    }
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    captureError = err;
  }
  emit(session.finish());
  if (opts.store) {
    opts.store.ingest(batch);
    opts.store.finish();
  }
  return { session, stats: extractor.stats, packets, captureError, notes };
}
