/**
 * Offline replay: capture files through the packet pipeline (decode, defrag, flows, reassembly, HTTP) into a
 * matcher, one pipeline per capture (Snort run once per pcap), events handed to a callback.
 */
import { PacketPipeline, type InspectionItem, type PipelineOptions } from '../flow/pipeline.js';
import { SNORT_CONF_STREAM5_BOTH_PORTS, SNORT_CONF_STREAM5_CLIENT_PORTS } from '../flow/table.js';
import { Worker } from 'node:worker_threads';
import { CaptureFormatError, openCaptureBatches, visitCapture } from '../packet/pcap.js';
import { readArtifact, type LoadedArtifact } from './artifact.js';
import { LimitCounters } from './budget.js';
import { EventDecider, type MatchEvent } from './decide.js';
import { byCaptureOrder, type ShardResult } from './replay-shard.js';
import type { ReplayWorkerData, ReplayWorkerRequest } from './replay-worker.js';

export interface Inspector {
  inspect(item: InspectionItem): MatchEvent[];
}

export interface ReplayOptions {
  checksumMode: 'all' | 'none';
  pipeline?: PipelineOptions;
}

export interface ReplayStats {
  packets: number;
  bytes: number;
  items: number;
  events: number;
}

/** stream5_tcp of the snort.conf shipped with Snort 2.9: `ports client` and `ports both` reassembled. */
export const SHIPPED_STREAM5 = {
  reassembleClientPorts: [...SNORT_CONF_STREAM5_CLIENT_PORTS, ...SNORT_CONF_STREAM5_BOTH_PORTS],
  reassembleServerPorts: [...SNORT_CONF_STREAM5_BOTH_PORTS],
};

export function pipelineFor(opts: ReplayOptions): PacketPipeline {
  const verify = opts.checksumMode === 'all';
  return new PacketPipeline({
    ...opts.pipeline,
    flow: { ...SHIPPED_STREAM5, ...opts.pipeline?.flow },
    decode: { ...opts.pipeline?.decode, verifyChecksums: verify },
  });
}

/**
 * Replays one capture; calls onEvent for every logged event, in order. A capture that cannot be read to its end
 * is inspected up to the damage and the error is returned (not thrown).
 */
export async function replayCapture(
  path: string, inspector: Inspector, opts: ReplayOptions, onEvent: (e: MatchEvent) => void, stats?: ReplayStats,
): Promise<CaptureFormatError | undefined> {
  const pipe = pipelineFor(opts);
  const handle = (items: InspectionItem[]) => {
    for (const item of items) {
      if (stats) stats.items++;
      for (const e of inspector.inspect(item)) {
        if (stats) stats.events++;
        onEvent(e);
      }
    }
  };
  let error: CaptureFormatError | undefined;
  try {
    let index = 0;
    for await (const batch of openCaptureBatches(path)) {
      for (const rec of batch) {
        if (stats) {
          stats.packets++;
          stats.bytes += rec.data.length;
        }
        handle(pipe.push(rec.linktype, rec.data, rec.tsSec, rec.tsUsec, index++));
      }
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    error = e;
  }
  handle(pipe.finish());
  return error;
}

// ------------------------------------------------------------------------------------------------ sharded replay

/** The worker script of a sharded replay (compiled JavaScript, next to this module in dist/). */
export const SHARD_WORKER = new URL('./replay-worker.js', import.meta.url);

/** Frames per batch handed to the shards, and batches in flight at once (bounds the memory a capture takes). */
const BATCH_FRAMES = 4096;
const BATCH_BYTES = 4 << 20;
const BATCHES_IN_FLIGHT = 3;
const FIELDS = 6;

/**
 * A replay sharded over worker threads, each owning the flows of its share of address pairs (a flow, its fragments
 * and its replies stay on one thread). The reading thread hands every frame to every shard (shared memory, no
 * copy), merges their reports in capture order and decides the events here, with one EventDecider over all flows:
 * the output is the single-threaded one (same events, same order), provided the capture's timestamps do not go
 * backwards and no shard's flow table fills up. The threads stay up from one capture to the next; each capture
 * starts with fresh flows, as `replayCapture` starts a fresh pipeline, while thresholds carry over as they do there.
 */
export class ShardedReplay {
  /** Matcher figures and limits, summed over the shards (after close). */
  readonly stats: Record<string, number> = {};
  readonly limits = new LimitCounters();
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { results: ShardResult[][]; left: number }>();
  private readonly decider: EventDecider;
  private nextId = 0;
  private nextToEmit = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private onEvent: (e: MatchEvent) => void = () => undefined;
  private runStats: ReplayStats | undefined;

  private constructor(
    private readonly artifact: LoadedArtifact,
    private readonly shards: number,
  ) {
    this.decider = new EventDecider(artifact);
  }

  static async start(artifactPath: string, shards: number, opts: ReplayOptions): Promise<ShardedReplay> {
    const r = new ShardedReplay(readArtifact(artifactPath), shards);
    const url = SHARD_WORKER;
    const ready = Array.from({ length: shards }, (_, shard) => {
      const data: ReplayWorkerData = { artifact: artifactPath, checksumMode: opts.checksumMode, pipeline: opts.pipeline, shard, shards };
      const w = new Worker(url, { workerData: data });
      r.workers.push(w);
      return new Promise<void>((resolve, reject) => {
        w.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'error') {
            r.fail(new Error(m.message));
            reject(r.failure);
          } else r.received(shard, m);
        });
        w.on('error', (err) => {
          r.fail(err);
          reject(err);
        });
      });
    });
    try {
      await Promise.all(ready);
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private received(shard: number, m: Extract<WorkerMessage, { type: 'results' | 'done' }>): void {
    if (m.type === 'done') {
      if (this.runStats) this.runStats.items += m.items;
      for (const [k, v] of Object.entries(m.stats)) this.stats[k] = (this.stats[k] ?? 0) + v;
      this.limits.merge(m.limits);
    }
    const p = this.pending.get(m.id)!;
    p.results[shard] = m.results;
    p.left--;
    // reports leave in capture order: batch after batch, each batch's reports sorted across the shards
    for (let q = this.pending.get(this.nextToEmit); q !== undefined && q.left === 0; q = this.pending.get(this.nextToEmit)) {
      this.pending.delete(this.nextToEmit);
      this.nextToEmit++;
      for (const r of q.results.flat().sort(byCaptureOrder)) {
        for (const e of this.decider.select(r.rules.map((i) => this.artifact.table.get(i)), r.packet)) {
          if (this.runStats) this.runStats.events++;
          this.onEvent(e);
        }
      }
    }
    this.notify();
  }

  private send(msg: ReplayWorkerRequest): void {
    this.pending.set(msg.id, { results: new Array<ShardResult[]>(this.shards), left: this.shards });
    for (const w of this.workers) w.postMessage(msg);
  }

  private async waitUntil(done: () => boolean): Promise<void> {
    while (!done() && this.failure === undefined) await new Promise<void>((r) => (this.wake = r));
    if (this.failure) throw this.failure;
  }

  /** One capture; events in capture order. A damaged capture is inspected up to the damage and the error returned. */
  async run(path: string, onEvent: (e: MatchEvent) => void, stats?: ReplayStats): Promise<CaptureFormatError | undefined> {
    this.onEvent = onEvent;
    this.runStats = stats;
    let index = 0;
    // the batch being filled: frame bytes copied straight from the reader into shared memory, one meta row each
    let frames = new SharedArrayBuffer(BATCH_BYTES);
    let bytes = new Uint8Array(frames);
    let meta = new SharedArrayBuffer(BATCH_FRAMES * FIELDS * 8);
    let rows = new Float64Array(meta);
    let count = 0;
    let used = 0;
    const flush = async () => {
      if (count === 0) return;
      await this.waitUntil(() => this.nextId - this.nextToEmit < BATCHES_IN_FLIGHT);
      this.send({ type: 'batch', id: this.nextId++, frames, meta, count });
      frames = new SharedArrayBuffer(BATCH_BYTES);
      bytes = new Uint8Array(frames);
      meta = new SharedArrayBuffer(BATCH_FRAMES * FIELDS * 8);
      rows = new Float64Array(meta);
      count = 0;
      used = 0;
    };
    const error = await visitCapture(path, (r) => {
      const data = r.bytes();
      if (stats) {
        stats.packets++;
        stats.bytes += data.length;
      }
      let wait: Promise<void> | undefined;
      if (count === BATCH_FRAMES || used + data.length > BATCH_BYTES) wait = flush();
      const put = () => {
        // a frame larger than a batch (it cannot be: snaplen <= 256 KiB) would still get a buffer of its own
        if (data.length > BATCH_BYTES - used) {
          frames = new SharedArrayBuffer(data.length);
          bytes = new Uint8Array(frames);
        }
        bytes.set(data, used);
        const m = count * FIELDS;
        rows[m] = used;
        rows[m + 1] = data.length;
        rows[m + 2] = r.linktype;
        rows[m + 3] = r.tsSec;
        rows[m + 4] = r.tsUsec;
        rows[m + 5] = index++;
        used += data.length;
        count++;
      };
      if (wait === undefined) {
        put();
        return undefined;
      }
      return wait.then(put);
    });
    await flush();
    await this.waitUntil(() => this.nextId - this.nextToEmit < BATCHES_IN_FLIGHT);
    this.send({ type: 'end', id: this.nextId++, total: index });
    await this.waitUntil(() => this.nextToEmit === this.nextId);
    return error;
  }

  /** Stops the threads; their figures are then in `stats` and `limits`. */
  async close(): Promise<void> {
    if (this.failure === undefined && this.workers.length > 0) {
      this.send({ type: 'close', id: this.nextId++ });
      await this.waitUntil(() => this.nextToEmit === this.nextId).catch(() => undefined);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'results'; id: number; results: ShardResult[] }
  | { type: 'done'; id: number; results: ShardResult[]; items: number; stats: Record<string, number>; limits: ReturnType<LimitCounters['report']> };
