/**
 * PacketPipeline with its decode, defragmentation, flow table, reassembly and flushing in the native front
 * (native/src/honeywall_front.c; docs/performance.md, "What closes the gap"): one call into C per frame, whose records
 * this turns into the same InspectionItems, with the same application parsers (ItemParsers) and a JavaScript Flow per
 * flow of the C table for what the matcher keeps on a flow (flowbits, its caches, the parsers' sessions).
 * test/native-pipeline.test.ts holds its items to PacketPipeline's over the corpus.
 */
import { DecodeStats, packetFromRecord, type Packet } from '../packet/decode.js';
import { copyFrame } from '../packet/pcap.js';
import { objectList, truncateList } from '../shapes.js';
import { FragAlerts, OVERLAP_POLICIES, resolveDefragOptions, type DefragStats } from '../packet/defrag.js';
import { loadEngine, type NativeEngine, type NativeHandle } from '../native/engine.js';
import type { AppParsers } from '../app/session.js';
import type { InflaterPool } from '../http/inflate.js';
import type { Dce2Stats } from '../dce2/session.js';
import { Endpoint, Flow, type FlowKind, type TcpState } from './flow.js';
import { closeSessions, httpOf, ItemParsers, packetItem, type InspectionItem, type PipelineOptions } from './pipeline.js';
import { resolveFlowConfig, type FlowStats, type FlushReason, type StreamSegment } from './table.js';
import { SHARD_KINDS as ALL_KINDS_ORDER } from './shard.js';

const REC_FLOW_NEW = 1;
const REC_FLOW_END = 2;
const REC_PACKET = 3;
const REC_SEGMENT = 4;
const REC_FRAG_DROP = 5;
const REC_COUNT = 6;
const REC_FRAME = 7;
const SYNC = 15;
const NO_SEGMENTS: StreamSegment[] = [];
const STATES: readonly TcpState[] = ['syn-sent', 'syn-received', 'established', 'closing', 'closed', 'none'];
const REASONS: readonly FlushReason[] = ['pdu', 'ack', 'size', 'fin', 'rst', 'timeout', 'evicted', 'end', 'redecode'];
const DETECTION: readonly InspectionItem['detection'][] = ['all', 'decode-only', 'relative-first'];
const STREAM_POLICIES = ['bsd', 'first', 'last'];

export class NativePipeline {
  readonly decodeStats = new DecodeStats();
  readonly parsers: ItemParsers;
  readonly inflaters: InflaterPool;
  readonly app: AppParsers;
  readonly dce2Stats: Dce2Stats;
  private readonly engine: NativeEngine;
  private readonly front: NativeHandle;
  private rec: Float64Array;
  private arena: Uint8Array;
  /** The JavaScript side of each flow of the C table, by its slot there. */
  private readonly slots: (Flow | undefined)[] = [];
  /** The alert records of the datagrams being reassembled, by the C defragmenter's tracker serial. */
  private readonly fragAlerts = new Map<number, FragAlerts>();
  /** Flows that ended during this call, whose HTTP sessions close once their last data is parsed. */
  private ended: Flow[] = objectList();
  /**
   * Told of each flow that leaves the C table (FlowTable.onRemove, for the flow log: FlowRecorder), with why, after
   * the items of its last segments were made (the segments are theirs, not given again here).
   */
  onRemove: ((flow: Flow, flushed: StreamSegment[], reason: FlushReason) => void) | undefined = undefined;

  /** `arrays`: the record and arena arrays' first sizes (values, bytes; tests make them small so they move often). */
  constructor(opts: PipelineOptions = {}, arrays?: { records: number; bytes: number }) {
    this.engine = loadEngine();
    const parsers = (this.parsers = new ItemParsers(opts));
    this.inflaters = parsers.inflaters;
    this.app = parsers.app;
    this.dce2Stats = parsers.dce2Stats;
    const f = resolveFlowConfig(opts.flow ?? {});
    const paf = opts.flow?.pduLength === undefined;
    const flow = Float64Array.from([
      ...f.track.map(Number),
      ...f.max,
      ...f.timeout,
      f.requireHandshake ? 1 : 0,
      f.handshakeGrace,
      STREAM_POLICIES.indexOf(f.policy),
      f.maxQueuedBytes,
      f.maxQueuedSegs,
      f.flushSize,
      f.clientPorts === 'all' ? 1 : 0,
      f.serverPorts === 'all' ? 1 : 0,
      paf ? 1 : 0,
    ]);
    const d = resolveDefragOptions(opts.defrag ?? {});
    const defrag = Float64Array.from([
      d.timeoutSec,
      d.memcap,
      d.datagramMemcap,
      d.maxTrackers,
      OVERLAP_POLICIES.indexOf(d.policy),
      d.overlapLimit,
      d.detectAnomalies ? 1 : 0,
      d.minTtl,
      d.holeFill,
    ]);
    const dec = opts.decode;
    const ddec = opts.defrag?.decode ?? dec;
    const decode = Float64Array.from([
      (dec?.verifyChecksums ?? true) ? 1 : 0,
      dec?.maxIpLayers ?? 8,
      (ddec?.verifyChecksums ?? true) ? 1 : 0,
      ddec?.maxIpLayers ?? 8,
      arrays?.records ?? 65536,
      arrays?.bytes ?? 1 << 20,
    ]);
    this.front = this.engine.frontOpen(
      flow,
      f.clientPorts === 'all' ? undefined : f.clientPorts,
      f.serverPorts === 'all' ? undefined : f.serverPorts,
      parsers.httpPorts,
      parsers.smbPorts,
      defrag,
      decode,
    );
    const [rec, arena] = this.engine.frontViews(this.front);
    this.rec = rec!;
    this.arena = arena!;
  }

  /** The flows the C table holds (any order). */
  *values(): IterableIterator<Flow> {
    for (const f of this.slots) if (f !== undefined) yield f;
  }

  /** The flow table's counts (FlowTable.stats), read from C. */
  get flowStats(): FlowStats {
    const s = this.engine.frontStats(this.front);
    return {
      created: { tcp: s[0]!, udp: s[1]!, icmp: s[2]!, ip: s[3]! },
      timedOut: s[4]!,
      evicted: s[5]!,
      noSession: s[6]!,
      flushedSegments: s[7]!,
      flushedBytes: s[8]!,
      refusedSegments: s[10]!,
      refusedBytes: s[11]!,
    };
  }

  /** The defragmenter's counts (Defragmenter.stats), read from C. */
  get defrag(): { stats: DefragStats; pending: number; memory: number } {
    const s = this.engine.frontStats(this.front);
    return {
      stats: { fragments: s[12]!, reassembled: s[13]!, timeouts: s[14]!, evicted: s[15]!, datagramMemcap: s[16]!, overlaps: s[17]!, bad: s[18]! },
      pending: s[19]!,
      memory: s[20]!,
    };
  }

  push(linktype: number, data: Uint8Array, tsSec = 0, tsUsec = 0, index = 0): InspectionItem[] {
    const n = this.engine.frontPush(this.front, linktype, data, tsSec, tsUsec, index);
    return this.closeEnded(this.items(n, data, tsSec, tsUsec));
  }

  advance(kind: FlowKind, tsSec: number, tsUsec: number): InspectionItem[] {
    const n = this.engine.frontAdvance(this.front, ALL_KINDS_ORDER.indexOf(kind), tsSec, tsUsec);
    return this.closeEnded(this.items(n, undefined, tsSec, tsUsec));
  }

  finish(): InspectionItem[] {
    const n = this.engine.frontFinish(this.front);
    const out = this.items(n, undefined, undefined, undefined);
    for (const f of this.values()) httpOf(f)?.close();
    return out;
  }

  private closeEnded(items: InspectionItem[]): InspectionItem[] {
    if (this.ended.length > 0) this.ended = closeSessions(this.ended);
    return items;
  }

  /** The arrays that moved in the last call. */
  private views(): void {
    const [rec, arena] = this.engine.frontViews(this.front);
    if (rec !== null) this.rec = rec;
    if (arena !== null) this.arena = arena;
  }

  /** The items of the records of one call (`answer`: frontPush's), the frame's timestamps given to its packets. */
  private items(answer: number, frame: Uint8Array | undefined, tsSec: number | undefined, tsUsec: number | undefined): InspectionItem[] {
    if (answer % 2 === 1) this.views();
    const out: InspectionItem[] = [];
    this.records(0, Math.floor(answer / 2), frame, tsSec, tsUsec, out);
    return out;
  }

  /** pushWalked's list of a frame's items, one for every frame. */
  private readonly walkedItems: InspectionItem[] = [];

  /**
   * A sharded replay's batch of walked records (CaptureParser.walkPcap: `walked` holds n of them, over `buf`), frame
   * `first + k` the k-th, as shard `shard` sees them in one call into C (frontPushWalked): `visit` gets each frame's
   * items that has any, in order, with its capture position. The list is valid during the call only (one list for
   * every frame: a fresh one per frame was 150 of the 2,100 bytes a shard allocated per packet).
   */
  pushWalked(
    buf: Uint8Array,
    walked: Int32Array,
    n: number,
    shard: number,
    linktype: number,
    first: number,
    visit: (items: InspectionItem[], index: number) => void,
  ): void {
    const answer = this.engine.frontPushWalked(this.front, buf, walked, n, shard, linktype, first);
    if (answer % 2 === 1) this.views();
    const end = Math.floor(answer / 2);
    let i = 0;
    while (i < end) {
      // a FRAME record: the k-th frame's records follow, up to the next
      const k = this.rec[i + 1]!;
      const w = 6 * k;
      const start = walked[w]!;
      const frame = this.rec[i + 2] === 1 ? copyFrame(buf, start, start + walked[w + 1]!) : undefined;
      const out = this.walkedItems;
      truncateList(out);
      i = this.records(i + 3, end, frame, walked[w + 2]! >>> 0, walked[w + 3]!, out);
      visit(this.closeEnded(out), first + k);
    }
  }

  /** The records from r[i] up to `end` or the next FRAME record: their items into `out`; where it stopped. */
  private records(
    i: number,
    end: number,
    frame: Uint8Array | undefined,
    tsSec: number | undefined,
    tsUsec: number | undefined,
    out: InspectionItem[],
  ): number {
    const r = this.rec;
    while (i < end) {
      switch (r[i]) {
        case REC_FRAME:
          return i;
        case REC_FLOW_NEW:
          this.flowNew(r, i);
          i += 13 + 32;
          break;
        case REC_FLOW_END: {
          const f = this.slots[r[i + 1]!];
          if (f !== undefined) {
            this.ended.push(f);
            this.onRemove?.(f, NO_SEGMENTS, REASONS[r[i + 2]!]!);
          }
          this.slots[r[i + 1]!] = undefined;
          i += 3;
          break;
        }
        case REC_PACKET:
          i = this.packetItem(r, i, frame!, tsSec ?? 0, tsUsec ?? 0, out);
          break;
        case REC_SEGMENT:
          i = this.segmentItem(r, i, tsSec, tsUsec, out);
          break;
        case REC_FRAG_DROP:
          this.fragAlerts.delete(r[i + 1]!);
          i += 2;
          break;
        case REC_COUNT:
          this.decodeStats.count(packetFromRecord(-1, this.arena.subarray(r[i + 1]!, r[i + 1]! + r[i + 2]!), r, i + 4));
          i += 4 + r[i + 3]!;
          break;
        default:
          throw new Error(`native front: record ${r[i]} at ${i} of ${end}`);
      }
    }
    return i;
  }

  private flowNew(r: Float64Array, i: number): void {
    const n = r[i + 6]!;
    const cip = new Uint8Array(n);
    const sip = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      cip[k] = r[i + 13 + k]!;
      sip[k] = r[i + 29 + k]!;
    }
    const f = new Flow(
      ALL_KINDS_ORDER[r[i + 2]!]!,
      r[i + 3]!,
      r[i + 4]!,
      r[i + 5]!,
      new Endpoint(cip, r[i + 7]!, true),
      new Endpoint(sip, r[i + 8]!, true),
      r[i + 11]!,
      STATES[r[i + 10]!]!,
      r[i + 9] === 1,
    );
    f.createdIndex = r[i + 12]!;
    this.slots[r[i + 1]!] = f;
  }

  /** The flow's state as the C table left it after the call (SYNC values at r[i]). */
  private sync(f: Flow, r: Float64Array, i: number): void {
    f.state = STATES[r[i]!]!;
    f.established = r[i + 1] === 1;
    f.terminated = r[i + 2] === 1;
    f.synced = r[i + 3] === 1;
    f.midstream = r[i + 4] === 1;
    f.lastSec = r[i + 5]!;
    f.lastIndex = r[i + 6]!;
    const c = f.client;
    c.packets = r[i + 7]!;
    c.bytes = r[i + 8]!;
    c.isn = r[i + 9]!;
    c.nextSeq = r[i + 10]!;
    const s = f.server;
    s.packets = r[i + 11]!;
    s.bytes = r[i + 12]!;
    s.isn = r[i + 13]!;
    s.nextSeq = r[i + 14]!;
  }

  private fragAlertsOf(serial: number): FragAlerts | undefined {
    if (serial === 0) return undefined;
    let a = this.fragAlerts.get(serial);
    if (a === undefined) this.fragAlerts.set(serial, (a = new FragAlerts()));
    return a;
  }

  private packetItem(r: Float64Array, i: number, frame: Uint8Array, tsSec: number, tsUsec: number, out: InspectionItem[]): number {
    const slot = r[i + 7]!;
    const flow = slot >= 0 ? this.slots[slot] : undefined;
    let at = i + 14;
    // (C writes the flow's state after a packet with a flow)
    if (slot >= 0) {
      if (flow !== undefined) this.sync(flow, r, at);
      at += SYNC;
    }
    const data = r[i + 1] === 0 ? frame : this.arena.slice(r[i + 2]!, r[i + 2]! + r[i + 3]!);
    const p = packetFromRecord(r[i + 4]! | 0, data, r, at + 1);
    p.tsSec = tsSec;
    p.tsUsec = tsUsec;
    if (r[i + 5] === 1) p.origin = 'defrag';
    if (r[i + 6] === 1) this.decodeStats.count(p);
    const fromClient = r[i + 8] === 1;
    const item = packetItem(p, flow, fromClient, r[i + 9] === 1, r[i + 11] === 1, DETECTION[r[i + 12]!]!, this.fragAlertsOf(r[i + 13]!));
    this.parsers.packet(item, p, flow, fromClient, r[i + 10] === 1);
    out.push(item);
    return at + 1 + r[at]!;
  }

  private segmentItem(r: Float64Array, i: number, tsSec: number | undefined, tsUsec: number | undefined, out: InspectionItem[]): number {
    const flow = this.slots[r[i + 3]!]!;
    let at = i + 14;
    if (r[i + 13] === 1) {
      this.sync(flow, r, at);
      at += SYNC;
    }
    const off = r[i + 1]!;
    const len = r[i + 2]!;
    const dataLen = r[i + 12]!;
    const datagram = this.arena.slice(off, off + len);
    const p: Packet = packetFromRecord(-1, datagram, r, at + 1);
    p.origin = 'stream';
    p.tsSec = tsSec ?? Math.floor(flow.lastSec);
    p.tsUsec = tsUsec ?? 0;
    const s: StreamSegment = {
      flow,
      fromClient: r[i + 4] === 1,
      seq: r[i + 7]!,
      data: datagram.subarray(len - dataLen, len),
      reason: REASONS[r[i + 5]!]!,
      pduHead: r[i + 6] === 1,
      flags: r[i + 9]! | 0,
      ttl: r[i + 10]! | 0,
      ack: r[i + 8]!,
      window: r[i + 11]! | 0,
    };
    out.push(this.parsers.streamItem(s, p));
    return at + 1 + r[at]!;
  }
}
