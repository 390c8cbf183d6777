/**
 * Worker-thread entry of a sharded replay (replay.ts): loads the matcher artifact, reads each capture itself (every
 * shard reads the whole file: from the page cache that costs less than handing frames over), runs one ReplayShard
 * over it and posts back the reports (the rules each item matched, with its capture position) as it goes.
 * Messages in: capture, close. Out: ready, error, results, end, done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEngine } from '../native/engine.js';
import { CaptureNotes, visitCapture } from '../packet/pcap.js';
import { ShardPlan } from '../flow/shard.js';
import { ArtifactError, loadMatcher } from './artifact.js';
import type { PipelineOptions } from '../flow/pipeline.js';
import { pipelineDrops, replayPipelineOptions, type PipelineDrops } from './replay.js';
import { NativePipeline } from '../flow/native-pipeline.js';
import { ReplayShard, type ShardFlowEnd } from './replay-shard.js';
import type { ReportBatch } from './shard-reports.js';

export interface ReplayWorkerData {
  artifact: string;
  checksumMode: 'all' | 'none';
  pipeline: PipelineOptions | undefined;
  shard: number;
  shards: number;
  /** Keep flow records and report each flow's end (EVE flow events). */
  flowEvents: boolean;
}

/** capture: replay this file with fresh flows; close: the last message, answered with the shard's figures. */
export type ReplayWorkerRequest = { type: 'capture'; path: string } | { type: 'close' };

/**
 * What a shard posts: reports of the frames before `upTo` (results), of the whole capture (end), its figures (done).
 * The matched items' reports come in one buffer (shard-reports.ts), the flows that ended as objects.
 */
export type ReplayWorkerMessage =
  | { type: 'ready' }
  /** `artifact`: the artifact is damaged (an ArtifactError: the reading thread tells it as one). */
  | { type: 'error'; message: string; artifact?: boolean }
  | { type: 'results'; upTo: number; reports: ReportBatch; flows: ShardFlowEnd[] }
  | {
      type: 'end';
      total: number;
      reports: ReportBatch;
      flows: ShardFlowEnd[];
      packets: number;
      bytes: number;
      /** The capture could not be read to its end: where and why (CaptureFormatError's fields). */
      error: { file: string; offset: number; detail: string } | undefined;
      /** The reader's notes (CaptureNotes.lines) and this shard's datagrams dropped at the defragmenter's memcaps. */
      notes: string[];
      drops: PipelineDrops;
      /** Frames the shard plan placed by hash, their address pairs first seen past its SHARD_PLAN_PAIRS. */
      planHashed: number;
    }
  | { type: 'done'; items: number; stats: Record<string, number>; limits: ReturnType<ReturnType<typeof loadMatcher>['limits']['report']> };

/** Frames between two posts of reports (the reading thread emits events up to the slowest shard's post). */
const POST_EVERY = 8192;
/** Records per call of the addon's capture walk (CaptureParser.walkPcap). */
const WALK_BATCH = 1024;

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('replay-worker.js must run in a worker thread');
  const data = workerData as ReplayWorkerData;
  // The reports' buffer is copied by the message, not transferred: a transfer detaches an ArrayBuffer, and the first
  // one an isolate detaches invalidates V8's ArrayBufferDetaching protector, which throws away every optimized
  // function that reads a typed array (nearly all of detection) to be compiled again with detach checks. Posted by
  // transfer, the first post (after POST_EVERY frames, when the hot code had just been compiled) did that in each
  // shard thread (--trace-protector-invalidation, --trace-deopt). test/shard-protectors.test.ts holds it.
  const post = (m: ReplayWorkerMessage) => port.postMessage(m);
  let matcher: ReturnType<typeof loadMatcher>;
  try {
    matcher = loadMatcher(data.artifact, { checksumMode: data.checksumMode });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message, artifact: err instanceof ArtifactError });
    return;
  }
  const engine = loadEngine();
  const walked = new Int32Array(6 * WALK_BATCH);
  let items = 0;
  // captures one after the other, in the order they were asked for
  let queue = Promise.resolve();
  const capture = async (path: string) => {
    const plan = new ShardPlan(data.shards);
    const shard = new ReplayShard(
      new NativePipeline(replayPipelineOptions({ checksumMode: data.checksumMode, pipeline: data.pipeline })),
      matcher,
      data.shard,
      plan,
      data.flowEvents,
    );
    let out: ShardFlowEnd[] = [];
    let index = 0;
    let bytes = 0;
    const notes = new CaptureNotes();
    const error = await visitCapture(
      path,
      (r) => {
        const view = r.bytes();
        bytes += view.length;
        shard.frameView(r.linktype, view, r.tsSec, r.tsUsec, index++, out);
        if (index % POST_EVERY === 0) {
          post({ type: 'results', upTo: index, reports: shard.reports.take(), flows: out });
          out = [];
        }
      },
      notes,
      {
        walk: engine.captureWalk,
        plan: plan.handle,
        out: walked,
        visit: (buf, linktype, n) => {
          for (let k = 0; k < 6 * n; k += 6) bytes += walked[k + 1]!;
          shard.framesWalked(linktype, buf, walked, n, index, out);
          const before = index;
          index += n;
          // (a post when the batch crossed a multiple of POST_EVERY: the frames before `index` are all reported)
          if (Math.floor(index / POST_EVERY) > Math.floor(before / POST_EVERY)) {
            post({ type: 'results', upTo: index, reports: shard.reports.take(), flows: out });
            out = [];
          }
        },
      },
    );
    shard.finish(index, out);
    items += shard.items;
    post({
      type: 'end',
      total: index,
      reports: shard.reports.take(),
      flows: out,
      packets: index,
      bytes,
      error: error && { file: error.file, offset: error.offset, detail: error.detail },
      notes: notes.lines(path),
      drops: pipelineDrops(shard.pipeline),
      planHashed: plan.stats.hashed,
    });
  };
  port.on('message', (msg: ReplayWorkerRequest) => {
    if (msg.type === 'capture') {
      queue = queue.then(() => capture(msg.path)).catch((err: unknown) => post({ type: 'error', message: (err as Error).message }));
      return;
    }
    void queue.then(() => {
      post({ type: 'done', items, stats: { ...matcher.stats }, limits: matcher.limits.report(Infinity) });
      port.close();
    });
  });
  post({ type: 'ready' });
}

run();
