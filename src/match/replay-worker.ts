/**
 * Worker-thread entry of a sharded replay (replay.ts): loads the matcher artifact, runs one ReplayShard over every
 * batch of frames the reading thread shares, and posts back the reports (the rules each item matched, with its
 * capture position). Messages in: init, batch, finish. Out: ready, error, results, done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadMatcher } from './artifact.js';
import type { PipelineOptions } from '../flow/pipeline.js';
import { pipelineFor } from './replay.js';
import { ReplayShard, type ShardResult } from './replay-shard.js';

export interface ReplayWorkerData {
  artifact: string;
  checksumMode: 'all' | 'none';
  pipeline: PipelineOptions | undefined;
  shard: number;
  shards: number;
}

/**
 * batch: frame bytes and, per frame, [offset, length, linktype, tsSec, tsUsec, index] (Float64Array); end: the end of
 * a capture (the next one starts with fresh flows); close: the last message, answered with the shard's figures.
 */
export type ReplayWorkerRequest =
  | { type: 'batch'; id: number; frames: SharedArrayBuffer; meta: SharedArrayBuffer; count: number }
  | { type: 'end'; id: number; total: number }
  | { type: 'close'; id: number };

const FIELDS = 6;

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('replay-worker.js must run in a worker thread');
  const data = workerData as ReplayWorkerData;
  let shard: ReplayShard;
  let matcher: ReturnType<typeof loadMatcher>;
  let items = 0;
  const fresh = () => new ReplayShard(pipelineFor({ checksumMode: data.checksumMode, pipeline: data.pipeline }), matcher, data.shard, data.shards);
  try {
    matcher = loadMatcher(data.artifact, { checksumMode: data.checksumMode });
    shard = fresh();
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
    return;
  }
  port.postMessage({ type: 'ready' });
  port.on('message', (msg: ReplayWorkerRequest) => {
    const out: ShardResult[] = [];
    if (msg.type === 'batch') {
      const bytes = new Uint8Array(msg.frames);
      const meta = new Float64Array(msg.meta);
      for (let i = 0; i < msg.count; i++) {
        const m = i * FIELDS;
        const offset = meta[m]!;
        shard.frame({ data: bytes.subarray(offset, offset + meta[m + 1]!), linktype: meta[m + 2]!, tsSec: meta[m + 3]!, tsUsec: meta[m + 4]!, index: meta[m + 5]! }, out);
      }
      port.postMessage({ type: 'results', id: msg.id, results: out });
    } else if (msg.type === 'end') {
      shard.finish(msg.total, out);
      items += shard.items;
      shard = fresh();
      port.postMessage({ type: 'results', id: msg.id, results: out });
    } else {
      port.postMessage({ type: 'done', id: msg.id, results: out, items, stats: matcher.stats, limits: matcher.limits.report(Infinity) });
      port.close();
    }
  });
}

run();
