/**
 * Offline replay: capture files through the packet pipeline (decode, defrag, flows, reassembly, HTTP) into a
 * matcher, one pipeline per capture (Snort run once per pcap), events handed to a callback.
 */
import { DNS_MAX_NAME, DNS_MAX_QUERIES } from '../app/dns.js';
import { TLS_MAX_HELLO } from '../app/tls-sni.js';
import { SMB2_MAX_CHAIN, SMB2_MAX_TREES } from '../dce2/smb2.js';
import { NativePipeline } from '../flow/native-pipeline.js';
import { EngineUnavailableError, loadEngine } from '../native/engine.js';
import { SHARD_PLAN_PAIRS } from '../flow/shard.js';
import { PacketPipeline, type InspectionItem, type PipelineOptions } from '../flow/pipeline.js';
import { FlowRecorder, type FlowRecord, type FlowRemovals } from '../flow/recorder.js';
import { SNORT_CONF_STREAM5_BOTH_PORTS, SNORT_CONF_STREAM5_CLIENT_PORTS } from '../flow/table.js';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { eventContext, type EventContext } from '../output/alert.js';
import type { DefragStats } from '../packet/defrag.js';
import { CaptureFormatError, CaptureNotes, openCaptureBatches, type CaptureRecord, type CaptureState } from '../packet/pcap.js';
import { ArtifactError, type LoadedArtifact } from './artifact.js';
import type { RulePlan } from './plan.js';
import { LimitCounters } from './budget.js';
import { EventDecider, type MatchEvent } from './decide.js';
import { byCaptureOrder, type ShardResult } from './replay-shard.js';
import { readReports } from './shard-reports.js';
import type { ReplayWorkerData, ReplayWorkerMessage, ReplayWorkerRequest } from './replay-worker.js';

export interface Inspector {
  inspect(item: InspectionItem): MatchEvent[];
}

export interface ReplayOptions {
  checksumMode: 'all' | 'none';
  pipeline?: PipelineOptions;
  /** A sharded replay: keep flow records in the threads, for ReplayHooks.onFlowEnd (ShardedReplay.start). */
  flowEvents?: boolean;
}

export interface ReplayStats {
  packets: number;
  bytes: number;
  items: number;
  events: number;
}

/**
 * What a capture's replay changed or left out without stopping, one line each (`file: byte N: ...`): the reader's
 * notes (timestamps clamped, records cut: the capture is damaged, exit 1), datagrams the defragmenter dropped at its
 * memcaps (the fragments themselves were still inspected) and compressed HTTP bodies whose zlib stream was closed at
 * the cap on open streams (their file_data ends there).
 */
export interface CaptureWarning {
  text: string;
  damaged: boolean;
}

/** The pipeline's counts a warning is made of (summed over the shards of a sharded replay). */
export type PipelineDrops = Pick<DefragStats, 'datagramMemcap' | 'evicted'> & {
  /** Compressed bodies whose inflater was closed for a newer one (InflaterPool). */
  inflatersEvicted: number;
  /** The cap on open inflaters they met. */
  inflatersMax: number;
  /** DNS requests and TLS ClientHellos that did not parse, names cut, questions and hellos past their bounds (src/app). */
  dnsMalformed: number;
  dnsTruncated: number;
  dnsQueriesDropped: number;
  tlsMalformed: number;
  tlsTooLong: number;
  /** TCP streams whose DNS or ClientHello reader a gap ended. */
  appGaps: number;
  /** SMB2 command chains cut at SMB2_MAX_CHAIN, tree ids evicted at SMB2_MAX_TREES (src/dce2). */
  smb2ChainsCut: number;
  smb2TreesEvicted: number;
  /** Sessions the flow table evicted at its limits (stream5_global max_tcp, max_udp, max_icmp, max_ip). */
  flowsEvicted: number;
  /** TCP segments a full reassembly queue refused (stream5_tcp max_queued_bytes, max_queued_segs), and their bytes. */
  segmentsRefused: number;
  segmentsRefusedBytes: number;
};

/** The drops that are counts (every one but the inflaters' cap): a sharded replay sums them over its shards. */
const DROP_COUNTS = [
  'datagramMemcap',
  'evicted',
  'inflatersEvicted',
  'dnsMalformed',
  'dnsTruncated',
  'dnsQueriesDropped',
  'tlsMalformed',
  'tlsTooLong',
  'appGaps',
  'smb2ChainsCut',
  'smb2TreesEvicted',
  'flowsEvicted',
  'segmentsRefused',
  'segmentsRefusedBytes',
] as const satisfies readonly Exclude<keyof PipelineDrops, 'inflatersMax'>[];

/** A pipeline's drops after a capture. */
export function pipelineDrops(pipe: Pipeline): PipelineDrops {
  const { datagramMemcap, evicted } = pipe.defrag.stats;
  const { dns, tls } = pipe.app.stats;
  return {
    datagramMemcap,
    evicted,
    inflatersEvicted: pipe.inflaters.evicted,
    inflatersMax: pipe.inflaters.max,
    dnsMalformed: dns.malformed,
    dnsTruncated: dns.truncated,
    dnsQueriesDropped: dns.queriesDropped,
    tlsMalformed: tls.malformed,
    tlsTooLong: tls.tooLong,
    appGaps: dns.gaps + tls.gaps,
    smb2ChainsCut: pipe.dce2Stats.chainsCut,
    smb2TreesEvicted: pipe.dce2Stats.treesEvicted,
    flowsEvicted: pipe.flowStats.evicted,
    segmentsRefused: pipe.flowStats.refusedSegments,
    segmentsRefusedBytes: pipe.flowStats.refusedBytes,
  };
}

export function captureWarnings(file: string, notes: readonly string[], drops: PipelineDrops): CaptureWarning[] {
  const out: CaptureWarning[] = notes.map((text) => ({ text, damaged: true }));
  if (drops.datagramMemcap > 0 || drops.evicted > 0) {
    out.push({
      text:
        `${file}: fragments: ${drops.datagramMemcap} datagram(s) dropped unassembled at the per-datagram memcap, ` +
        `${drops.evicted} at the total memcap or tracker limit (their fragments were inspected)`,
      damaged: false,
    });
  }
  if (drops.inflatersEvicted > 0) {
    out.push({
      text:
        `${file}: HTTP: ${drops.inflatersEvicted} compressed bod${drops.inflatersEvicted === 1 ? 'y' : 'ies'} left undecompressed from where ` +
        `${drops.inflatersEvicted === 1 ? 'it' : 'they'} met the cap of ${drops.inflatersMax} open zlib streams (file_data ends there)`,
      damaged: false,
    });
  }
  if (drops.dnsMalformed + drops.dnsTruncated + drops.dnsQueriesDropped > 0)
    out.push({
      text:
        `${file}: DNS: ${drops.dnsMalformed} malformed request(s) not inspected as DNS, ${drops.dnsTruncated} name(s) cut at ${DNS_MAX_NAME} bytes ` +
        `or a compression loop, ${drops.dnsQueriesDropped} question(s) past ${DNS_MAX_QUERIES} per request not inspected`,
      damaged: false,
    });
  if (drops.tlsMalformed + drops.tlsTooLong > 0)
    out.push({
      text: `${file}: TLS: ${drops.tlsMalformed} malformed ClientHello(s), ${drops.tlsTooLong} longer than ${TLS_MAX_HELLO} bytes: no tls.sni for them`,
      damaged: false,
    });
  if (drops.appGaps > 0)
    out.push({
      text: `${file}: DNS/TLS: ${drops.appGaps} TCP stream(s) with missing bytes before a DNS message or ClientHello was whole: not read past the gap`,
      damaged: false,
    });
  if (drops.flowsEvicted > 0)
    out.push({
      text:
        `${file}: flows: ${drops.flowsEvicted} session(s) evicted at the flow table's per-protocol limits (stream5_global ` +
        `max_tcp, max_udp, max_icmp, max_ip), the least recently used first: their queued data was inspected as they left, ` +
        `their later packets opened new sessions`,
      damaged: false,
    });
  if (drops.segmentsRefused > 0)
    out.push({
      text:
        `${file}: reassembly: ${drops.segmentsRefused} TCP segment(s) (${drops.segmentsRefusedBytes} bytes) not queued: their ` +
        `direction's reassembly queue was full (stream5_tcp max_queued_bytes, max_queued_segs) with data it could not ` +
        `flush yet (out of order, behind a gap); inspected as packets, they are missing from the rebuilt stream`,
      damaged: false,
    });
  if (drops.smb2ChainsCut > 0 || drops.smb2TreesEvicted > 0) {
    out.push({
      text:
        `${file}: SMB2: ${drops.smb2ChainsCut} command chain(s) cut at ${SMB2_MAX_CHAIN} commands, ${drops.smb2TreesEvicted} tree id(s) ` +
        `dropped at ${SMB2_MAX_TREES} per session (their READ/WRITE data is no longer detected as file data)`,
      damaged: false,
    });
  }
  return out;
}

/**
 * stream5_tcp of the snort.conf shipped with Snort 2.9: `ports client` and `ports both` reassembled; `require_3whs
 * 180`: sessions are picked up midstream only in the first 180 s of the capture (FlowConfig.handshakeGrace).
 */
export const SHIPPED_STREAM5 = {
  reassembleClientPorts: [...SNORT_CONF_STREAM5_CLIENT_PORTS, ...SNORT_CONF_STREAM5_BOTH_PORTS],
  reassembleServerPorts: [...SNORT_CONF_STREAM5_BOTH_PORTS],
  requireHandshake: true,
  handshakeGrace: 180,
};

/**
 * The pipeline of a replay or an import: the native front's (NativePipeline), or, where the addon is not built (an
 * import without rules: flows and Sebek only), PacketPipeline, the same stages in JavaScript, which
 * test/native-pipeline.test.ts holds the native front to, item for item.
 */
export type Pipeline = NativePipeline | PacketPipeline;

/** The pipeline's options for a replay: stream5 as the shipped snort.conf has it, checksums as asked. */
export function replayPipelineOptions(opts: ReplayOptions): PipelineOptions {
  const verify = opts.checksumMode === 'all';
  return {
    ...opts.pipeline,
    flow: { ...SHIPPED_STREAM5, ...opts.pipeline?.flow },
    decode: { ...opts.pipeline?.decode, verifyChecksums: verify },
  };
}

export function pipelineFor(opts: ReplayOptions): Pipeline {
  try {
    loadEngine();
  } catch (err) {
    if (err instanceof EngineUnavailableError) return new PacketPipeline(replayPipelineOptions(opts));
    throw err;
  }
  return new NativePipeline(replayPipelineOptions(opts));
}

/** The flow table a flow log follows: the native front's, or PacketPipeline's. */
function removalsOf(pipe: Pipeline): FlowRemovals {
  return pipe instanceof PacketPipeline ? pipe.flows : pipe;
}

/** What a replay hands out besides its events; every hook is optional but onEvent. */
export interface ReplayHooks {
  /** Every logged event, in order, with its flow and capture position. */
  onEvent(e: MatchEvent, ctx: EventContext): void;
  /** Flows as they end (after the events of the packet that ended them), then at the end of the capture those still open. */
  onFlowEnd?(rec: FlowRecord): void;
  /** Flows as their first packet is seen (before that packet's events). */
  onFlowStart?(rec: FlowRecord): void;
  /** Every frame as read, before the pipeline sees it, with its 0-based position. */
  onFrame?(rec: CaptureRecord, index: number): void;
  /** Each capture state (CaptureState: the pcap header, pcapng sections and interfaces) with its byte offset. */
  onCaptureState?(offset: number, state: CaptureState): void;
  /** Keep each flow's frame offsets in its records (FlowSpan.offsets), up to `maxOffsets` a flow (FlowRecorderOptions). */
  offsets?: boolean;
  maxOffsets?: number;
  /** FlowSpan.capture of this capture's frames. */
  capture?: number;
  /** Also record flows of the ICMP and IP-only packets the pipeline does not track (FlowRecorderOptions.untracked: the store). */
  untrackedFlows?: boolean;
}

/**
 * The frames of one or more captures through one pipeline (one flow table) with, when the hooks ask for flows, a
 * FlowRecorder beside it: what replayCapture does per frame, for a reader that gets its frames elsewhere (the
 * gateway's store feed reads the full capture's rotated files as tcpdump writes them, one flow table across them).
 */
export class FrameReplayer {
  readonly pipe: Pipeline;
  readonly recorder: FlowRecorder | undefined;
  private readonly h: ReplayHooks;

  constructor(
    private readonly inspector: Inspector,
    opts: ReplayOptions,
    hooks: ReplayHooks,
    private readonly stats?: ReplayStats,
  ) {
    this.h = hooks;
    this.pipe = pipelineFor(opts);
    this.recorder =
      hooks.onFlowEnd !== undefined || hooks.onFlowStart !== undefined
        ? new FlowRecorder(removalsOf(this.pipe), { offsets: hooks.offsets ?? false, maxOffsets: hooks.maxOffsets, untracked: hooks.untrackedFlows })
        : undefined;
    if (this.recorder !== undefined) this.recorder.capture = hooks.capture ?? 0;
  }

  /** The capture file the next frames come from (FlowSpan.capture). */
  set capture(id: number) {
    if (this.recorder !== undefined) this.recorder.capture = id;
  }

  /** One frame, at capture position `index` (0-based, counted across files by the caller). */
  frame(rec: CaptureRecord, index: number): void {
    const stats = this.stats;
    if (stats) {
      stats.packets++;
      stats.bytes += rec.data.length;
    }
    this.h.onFrame?.(rec, index);
    this.handle(this.pipe.push(rec.linktype, rec.data, rec.tsSec, rec.tsUsec, index), index, rec.offset);
  }

  /** The end of the input: what the pipeline still held inspected, then every open flow ended ('shutdown'). */
  finish(): void {
    this.handle(this.pipe.finish(), -1, -1);
    if (this.recorder !== undefined && this.h.onFlowEnd !== undefined) for (const r of this.recorder.finish()) this.h.onFlowEnd(r);
  }

  /** Inspects the items of the frame at `index` (-1: the end of the capture), recording its packets first. */
  private handle(items: InspectionItem[], index: number, offset: number): void {
    const { recorder, h, stats } = this;
    if (recorder !== undefined) {
      for (const item of items) {
        const started = recorder.packet(item, index, offset);
        if (started !== undefined) h.onFlowStart?.(started);
      }
    }
    for (const item of items) {
      if (stats) stats.items++;
      const events = this.inspector.inspect(item);
      if (events.length === 0) continue;
      const ctx = eventContext(item.flow, index, recorder?.recordOfItem(item));
      for (const e of events) {
        if (stats) stats.events++;
        h.onEvent(e, ctx);
      }
    }
    if (recorder !== undefined) {
      const ended = recorder.takeEnded();
      if (h.onFlowEnd !== undefined) for (const r of ended) h.onFlowEnd(r);
    }
  }
}

/**
 * Replays one capture; calls `hooks.onEvent` (or `hooks` itself) for every logged event, in order. With
 * onFlowStart/onFlowEnd a FlowRecorder keeps the pipeline's flows' counts. A capture that cannot be read to its end
 * is inspected up to the damage and the error is returned (not thrown).
 */
export async function replayCapture(
  path: string,
  inspector: Inspector,
  opts: ReplayOptions,
  hooks: ReplayHooks | ((e: MatchEvent, ctx: EventContext) => void),
  stats?: ReplayStats,
  warnings?: CaptureWarning[],
): Promise<CaptureFormatError | undefined> {
  const h: ReplayHooks = typeof hooks === 'function' ? { onEvent: hooks } : hooks;
  const notes = new CaptureNotes();
  const replayer = new FrameReplayer(inspector, opts, h, stats);
  let error: CaptureFormatError | undefined;
  try {
    let index = 0;
    for await (const batch of openCaptureBatches(path, notes, h.onCaptureState)) {
      for (const rec of batch) replayer.frame(rec, index++);
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    error = e;
  }
  replayer.finish();
  warnings?.push(...captureWarnings(path, notes.lines(path), pipelineDrops(replayer.pipe)));
  return error;
}

// ------------------------------------------------------------------------------------------------ sharded replay

/** The worker script of a sharded replay (compiled JavaScript, next to this module in dist/). */
export const SHARD_WORKER = new URL('./replay-worker.js', import.meta.url);

/**
 * Each shard thread's young generation, in MiB (V8 makes it three semi-spaces' worth: 8 MiB semi-spaces here, half
 * of V8's largest). A shard allocates about 2.7 KB per frame, nearly all short-lived; with two threads cycling
 * through V8's 16 MiB semi-spaces each, the bench capture's two-worker inspection took 2.5-3% more time than with
 * these (interleaved runs of 5 and 6 rounds, 2.31 s against 2.37 s), the same alerts. One thread is not limited:
 * its collector's helpers have the other core, and smaller semi-spaces made it slower.
 */
const SHARD_YOUNG_GENERATION_MB = 24;

/**
 * Runs `start` (which starts shard threads) with V8's optimizing compiles done on the thread that asks for them when
 * the shards take every core. V8 compiles hot functions on helper threads by default, but with a shard on each core
 * those compiles queue behind the shards while the shards run unoptimized code: each shard thread compiling its own,
 * the bench capture's two-worker inspection took 5-7% less time (interleaved runs of 6 and 10 rounds, 2.06 s against
 * 2.18 s, 2.98 s against 3.13 s on a busier host; same alerts). V8 reads the flag when an isolate starts (checked
 * with --trace-opt: the shards' compiles synchronous, this thread's concurrent), so it is set for the threads'
 * start only; this thread, and one shard with a core to spare, keep the helper threads.
 */
async function startingShards<T>(shards: number, start: () => Promise<T>): Promise<T> {
  if (shards < availableParallelism()) return start();
  setFlagsFromString('--no-concurrent-recompilation');
  try {
    return await start();
  } finally {
    setFlagsFromString('--concurrent-recompilation');
  }
}

/**
 * A replay sharded over worker threads, each owning the flows of its share of address pairs (a flow, its fragments
 * and its replies stay on one thread). Every thread reads the whole capture and skips the frames of the others (read
 * from their headers, not decoded); this thread merges their reports in capture order and decides the events, with
 * one EventDecider over all flows: the output is the single-threaded one (same events, same order), provided the
 * capture's timestamps do not go backwards and no shard's flow table fills up. The threads stay up from one capture
 * to the next; each capture starts with fresh flows, as `replayCapture` starts a fresh pipeline, while thresholds
 * carry over as they do there. Captures must be regular files (each thread opens them).
 */
export class ShardedReplay {
  /** Matcher figures and limits, summed over the shards (after close). */
  readonly stats: Record<string, number> = {};
  readonly limits = new LimitCounters();
  private readonly workers: Worker[] = [];
  private readonly decider: EventDecider;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** Per shard: reports not yet emitted (in the shard's order), and the capture position it has reported up to. */
  private queued: ShardResult[][] = [];
  private upTo: number[] = [];
  private ends: Extract<ReplayWorkerMessage, { type: 'end' }>[] = [];
  private closed = 0;
  private items = 0;
  private hooks: ReplayHooks = { onEvent: () => undefined };
  private runStats: ReplayStats | undefined;

  private constructor(
    private readonly artifact: LoadedArtifact,
    private readonly shards: number,
  ) {
    this.decider = new EventDecider(artifact);
  }

  /** `artifact`: the file at artifactPath, read (the threads each load it again, with its Hyperscan databases). */
  static async start(artifactPath: string, artifact: LoadedArtifact, shards: number, opts: ReplayOptions): Promise<ShardedReplay> {
    const r = new ShardedReplay(artifact, shards);
    const ready = () =>
      Array.from({ length: shards }, (_, shard) => {
        const data: ReplayWorkerData = {
          artifact: artifactPath,
          checksumMode: opts.checksumMode,
          pipeline: opts.pipeline,
          shard,
          shards,
          flowEvents: opts.flowEvents ?? false,
        };
        const w = new Worker(SHARD_WORKER, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: SHARD_YOUNG_GENERATION_MB } });
        r.workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.on('message', (m: ReplayWorkerMessage) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') {
              r.fail(m.artifact === true ? new ArtifactError(m.message) : new Error(m.message));
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
      await startingShards(shards, () => Promise.all(ready()));
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

  private received(shard: number, m: Exclude<ReplayWorkerMessage, { type: 'ready' | 'error' }>): void {
    if (m.type === 'done') {
      this.items += m.items;
      for (const [k, v] of Object.entries(m.stats)) this.stats[k] = (this.stats[k] ?? 0) + v;
      this.limits.merge(m.limits);
      this.closed++;
    } else {
      // the shard's matches and ended flows, each in the shard's order: merged back into it by `seq`
      const q = this.queued[shard]!;
      const matches = readReports(m.reports);
      const flows = m.flows;
      let i = 0;
      let j = 0;
      while (i < matches.length || j < flows.length) {
        if (j === flows.length || (i < matches.length && matches[i]!.seq < flows[j]!.seq)) q.push(matches[i++]!);
        else q.push(flows[j++]!);
      }
      if (m.type === 'results') this.upTo[shard] = m.upTo;
      else {
        this.upTo[shard] = Infinity;
        this.ends[shard] = m;
      }
      this.emit();
    }
    this.notify();
  }

  /** Emits, in capture order, the reports of every position all shards have reported up to. */
  private emit(): void {
    const upTo = Math.min(...this.upTo);
    const ready: ShardResult[] = [];
    for (const q of this.queued) {
      let n = 0;
      while (n < q.length && q[n]!.index < upTo) n++;
      for (let i = 0; i < n; i++) ready.push(q[i]!);
      q.splice(0, n);
    }
    for (const r of ready.sort(byCaptureOrder)) {
      if (r.kind === 'flow') {
        this.hooks.onFlowEnd?.(r.record);
        continue;
      }
      // (the plans by push onto []: `map` over the arrays structured clone makes gave lists of another elements kind
      // now and then, and the event queue's functions deoptimized on each, twice or three times a replay)
      const rules: RulePlan[] = [];
      for (let k = 0; k < r.rules.length; k++) rules.push(this.artifact.table.get(r.rules[k]!));
      const events = this.decider.select({ rules, flags: r.flags }, r.packet);
      if (events.length === 0) continue;
      const ctx: EventContext = { pcapCnt: r.pcapCnt, flowId: r.flowId, appProto: r.appProto };
      for (const e of events) {
        if (this.runStats) this.runStats.events++;
        this.hooks.onEvent(e, ctx);
      }
    }
  }

  private async waitUntil(done: () => boolean): Promise<void> {
    while (!done() && this.failure === undefined) await new Promise<void>((r) => (this.wake = r));
    if (this.failure) throw this.failure;
  }

  /**
   * One capture; events in capture order, and flows' ends when the replay was started with `flowEvents` (the other
   * hooks are the single-threaded replay's). A damaged capture is inspected up to the damage and the error returned.
   */
  async run(
    path: string,
    hooks: Pick<ReplayHooks, 'onEvent' | 'onFlowEnd'> | ((e: MatchEvent, ctx: EventContext) => void),
    stats?: ReplayStats,
    warnings?: CaptureWarning[],
  ): Promise<CaptureFormatError | undefined> {
    this.hooks = typeof hooks === 'function' ? { onEvent: hooks } : hooks;
    this.runStats = stats;
    this.queued = Array.from({ length: this.shards }, () => []);
    this.upTo = new Array<number>(this.shards).fill(0);
    this.ends = [];
    for (const w of this.workers) w.postMessage({ type: 'capture', path } satisfies ReplayWorkerRequest);
    await this.waitUntil(() => this.upTo.every((u) => u === Infinity));
    const end = this.ends[0]!;
    if (stats) {
      stats.packets += end.packets;
      stats.bytes += end.bytes;
    }
    // every shard read the whole file (the same notes); each defragmented its own share of the datagrams: the counts
    // summed over the shards (inflatersMax is a cap, the same in each)
    const drops = { ...end.drops };
    for (const e of this.ends.slice(1)) for (const k of DROP_COUNTS) drops[k] += e!.drops[k];
    warnings?.push(...captureWarnings(path, end.notes, drops));
    if (drops.flowsEvicted > 0)
      warnings?.push({
        text:
          `${path}: flows: each of the ${this.shards} worker threads has a flow table of these limits, so this replay can keep ` +
          `sessions a replay in one thread (--workers 0) evicts, and its alerts can differ from that one's`,
        damaged: false,
      });
    // (every shard's plan saw every frame: the same count in each)
    if (end.planHashed > 0)
      warnings?.push({
        text:
          `${path}: ${end.planHashed} frame(s) of address pairs first seen past the ${SHARD_PLAN_PAIRS} pairs the worker threads' plan ` +
          `keeps were given to a thread by their hash, not by the threads' load (the alerts are the same; the threads may be less even)`,
        damaged: false,
      });
    return end.error && new CaptureFormatError(end.error.file, end.error.offset, end.error.detail);
  }

  /** Stops the threads; their figures are then in `stats` and `limits`. */
  async close(): Promise<void> {
    if (this.failure === undefined && this.workers.length > 0) {
      for (const w of this.workers) w.postMessage({ type: 'close' } satisfies ReplayWorkerRequest);
      await this.waitUntil(() => this.closed === this.workers.length).catch(() => undefined);
      if (this.runStats) this.runStats.items += this.items;
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
