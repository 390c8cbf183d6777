/**
 * One shard of a sharded replay: a pipeline and a matcher that keep the flows whose address pair the shard plan gives
 * this shard (src/flow/shard.ts ShardPlan; the frames of the others only move its flows' clock) and report, for every item they inspect, the rules it matched, with the item's place in
 * capture order. Runs in a worker thread (replay-worker.ts); the thread that reads the capture merges the shards'
 * reports in that order and decides the events (thresholds, filters, the event queue), so the output is the one a
 * single thread gives.
 */
import type { InspectionItem } from '../flow/pipeline.js';
import type { NativePipeline } from '../flow/native-pipeline.js';
import { FlowRecorder, type FlowRecord } from '../flow/recorder.js';
import { SHARD_KINDS, SHARD_NO_IP, type ShardPlan } from '../flow/shard.js';
import { eventContext } from '../output/alert.js';
import { copyFrame } from '../packet/pcap.js';
import type { Matcher } from './engine.js';
import { ReportWriter, type ShardMatch, type ShardOrder } from './shard-reports.js';

/**
 * A report: the rules one item matched (written to the shard's ReportWriter, read back as ShardMatch), or a flow that
 * ended (with flow events on), and where it stands in capture order.
 */
export type ShardResult = ShardMatch | ShardFlowEnd;

export interface ShardFlowEnd extends ShardOrder {
  kind: 'flow';
  record: FlowRecord;
}

export class ReplayShard {
  private seq = 0;
  /** The matched items' reports since the last post (replay-worker.ts takes them). */
  readonly reports = new ReportWriter();
  /** The order fields of the report being written (one object, reused). */
  private readonly order: ShardOrder = { index: 0, phase: 1, key: 0, key2: 0, seq: 0 };
  /** Kept with flow events on: the shard's flows' records (flow events are written on the reading thread). */
  private readonly recorder: FlowRecorder | undefined;

  constructor(
    readonly pipeline: NativePipeline,
    readonly matcher: Matcher,
    readonly shard: number,
    readonly plan: ShardPlan,
    flowEvents = false,
  ) {
    this.recorder = flowEvents ? new FlowRecorder(pipeline) : undefined;
  }

  /** A frame of this shard (its bytes this call's to keep). */
  private frame(linktype: number, data: Uint8Array, tsSec: number, tsUsec: number, index: number, out: ShardFlowEnd[]): void {
    this.frameItems(this.pipeline.push(linktype, data, tsSec, tsUsec, index), index, out);
  }

  /** The items of the frame at `index` (recorded, then inspected), then the flows that ended there. */
  private frameItems(items: InspectionItem[], index: number, out: ShardFlowEnd[]): void {
    if (this.recorder !== undefined) for (const item of items) this.recorder.packet(item, index, 0);
    for (const item of items) this.item(item, index, false);
    this.ended(index, out);
  }

  /** Flows that ended at capture position `index` (timed out, evicted, or at the end, still open). */
  private ended(index: number, out: ShardFlowEnd[], end = false): void {
    const r = this.recorder;
    if (r === undefined) return;
    for (const record of r.takeEnded()) {
      out.push({ kind: 'flow', index, phase: 2, key: record.lastIndex, key2: record.firstIndex, seq: this.seq++, record });
    }
    if (end) for (const record of r.finish()) out.push({ kind: 'flow', index, phase: 2, key: record.firstIndex, key2: 0, seq: this.seq++, record });
  }

  /**
   * A frame as the capture reader shows it (`view` valid during the call only): a frame of another shard (the plan's
   * answer) only moves this shard's clock; the others are copied and go through the pipeline.
   */
  frameView(linktype: number, view: Uint8Array, tsSec: number, tsUsec: number, index: number, out: ShardFlowEnd[]): void {
    if (this.skipped(this.plan.frame(linktype, view), tsSec, tsUsec, index, out)) return;
    this.frame(linktype, copyFrame(view), tsSec, tsUsec, index, out);
  }

  /**
   * A batch of records the addon's capture walk found (CaptureParser.walkPcap: `walked` holds n, over buf, frame
   * `first + k` the k-th), in one call into the native front (NativePipeline.pushWalked).
   */
  framesWalked(linktype: number, buf: Uint8Array, walked: Int32Array, n: number, first: number, out: ShardFlowEnd[]): void {
    this.pipeline.pushWalked(buf, walked, n, this.shard, linktype, first, (items, index) => this.frameItems(items, index, out));
  }

  /** A frame of another shard (`owner`: the plan's answer) only moves this shard's clock: true for those. */
  private skipped(owner: number, tsSec: number, tsUsec: number, index: number, out: ShardFlowEnd[]): boolean {
    if (owner === SHARD_NO_IP ? this.shard === 0 : owner >> 2 === this.shard) return false;
    if (owner === SHARD_NO_IP) return true;
    const items = this.pipeline.advance(SHARD_KINDS[owner & 3]!, tsSec, tsUsec);
    for (const item of items) this.item(item, index, false);
    this.ended(index, out);
    return true;
  }

  /** End of capture: what is still queued in the shard's flows. */
  finish(total: number, out: ShardFlowEnd[]): void {
    for (const item of this.pipeline.finish()) this.item(item, total, true);
    this.ended(total, out, true);
  }

  items = 0;

  private item(item: InspectionItem, index: number, end: boolean): void {
    this.items++;
    const seq = this.seq++;
    const matched = this.matcher.collect(item);
    if (matched.rules.length === 0) return;
    const timedOut = item.kind === 'stream' && item.segment?.reason === 'timeout';
    const flow = item.flow;
    const phase = end || timedOut ? 0 : 1;
    const key = flow === undefined || phase === 1 ? 0 : end ? flow.createdIndex : flow.lastIndex;
    const ctx = eventContext(flow, end ? -1 : index);
    this.order.index = index;
    this.order.phase = phase;
    this.order.key = key;
    this.order.seq = seq;
    this.reports.add(this.order, matched.rules, matched.flags, item.packet, ctx.pcapCnt, ctx.flowId, ctx.appProto);
  }
}

/** Capture order of reports from every shard (for one batch of frames). */
export function byCaptureOrder(a: ShardResult, b: ShardResult): number {
  return a.index - b.index || a.phase - b.phase || a.key - b.key || a.key2 - b.key2 || a.seq - b.seq;
}
