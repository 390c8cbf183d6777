/**
 * The flow log beside the flow table: what each flow of the table carried (packets and bytes each way, TCP flags,
 * where its frames are in the capture files), handed out as plain records when the flow starts and when it ends. It
 * tracks nothing itself: the table decides what a flow is, when it times out or is evicted; the recorder only keeps
 * counts for the flows the pipeline's packet items name, and is told of their end by the table's onRemove. EVE flow
 * events (`replay`) and the store's flow rows (`import`) are made from its records.
 *
 * With `untracked`, the packets the pipeline's table leaves without a flow (ICMP and other IP protocols: Snort's
 * stream5 tracks neither by default; TCP sessions picked up midstream where stream5's require_3whs opens none) go
 * through a second FlowTable of the recorder's own, so the store has a flow for every packet that belongs to one, as
 * Suricata does, and detection stays Snort's. The inline gateway picks such sessions up (it may start mid-connection)
 * and its alerts on them are linked to these flows.
 */
import { communityId } from './community-id.js';
import { formatIp } from '../packet/bytes.js';
import { appProtoOf, flowId, type Flow, type TcpState } from './flow.js';
import type { InspectionItem } from './pipeline.js';
import { FlowTable, type FlushReason, type StreamSegment } from './table.js';

/**
 * A flow table as the recorder sees it: what tells it of the flows that leave (timeout, eviction, a new session on the
 * tuple), and the flows held at the end: FlowTable, and the native front's pipeline (NativePipeline) for its C table.
 */
export interface FlowRemovals {
  onRemove: ((flow: Flow, flushed: StreamSegment[], reason: FlushReason) => void) | undefined;
  /** The flows still held (any order). */
  values(): Iterable<Flow>;
}

/** Why a flow's record was closed, in Suricata's words: idle too long, pushed out (table full, tuple reused), end of input. */
export type FlowEndReason = 'timeout' | 'forced' | 'shutdown';

/** Where one flow's frames are in one capture file. */
export interface FlowSpan {
  /** The capture file (the caller's number for it: the store's capture id). */
  capture: number;
  /** Byte offsets of its first and last frame there (CaptureRecord.offset). */
  first: number;
  last: number;
  packets: number;
  /** Every frame's offset, in order; undefined past `maxOffsets` (a cut then scans from `first` to `last`). */
  offsets: number[] | undefined;
}

/** A flow as logged (plain data: it crosses worker threads and goes to the store). */
export interface FlowRecord {
  /** EVE flow_id (flowId). */
  id: number;
  proto: number;
  vlan: number;
  /** The side that opened the flow (the SYN's sender; the first packet's for other protocols; see Flow). */
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** ICMP type and code of the flow's first packet, else -1. */
  icmpType: number;
  icmpCode: number;
  /** Community ID v1, '' when the flow's protocol needs ports honeywall does not decode (SCTP). */
  communityId: string;
  startSec: number;
  startUsec: number;
  endSec: number;
  endUsec: number;
  pktsToServer: number;
  pktsToClient: number;
  /** Bytes of the frames as captured (Suricata's bytes_toserver/toclient). */
  bytesToServer: number;
  bytesToClient: number;
  /** TCP flags seen from each side, OR-ed (0 for other protocols). */
  tcpFlagsTs: number;
  tcpFlagsTc: number;
  /** The table's TCP state at the end (undefined for other protocols). */
  tcpState: TcpState | undefined;
  /** new: one side only, or a TCP handshake not completed; established; closed (FIN both ways or RST). */
  state: 'new' | 'established' | 'closed';
  /** Undefined while the flow is open. */
  reason: FlowEndReason | undefined;
  /** `http` when the HTTP inspector recognised the flow; else undefined. */
  appProto: string | undefined;
  /** Payload bytes seen (to tell a flow that carried data, whose protocol was not recognised, from one that carried none). */
  payloadBytes: number;
  midstream: boolean;
  /** Capture positions (0-based packet numbers) of its first and last packet. */
  firstIndex: number;
  lastIndex: number;
  /** Where its frames are, per capture file in order (kept with FlowRecorderOptions.offsets, else empty). */
  spans: FlowSpan[];
}

export interface FlowRecorderOptions {
  /** Keep where each frame is (spans, and each frame's byte offset: for cutting a flow's packets out of its captures). Default false. */
  offsets?: boolean;
  /** Offsets kept per flow and capture file before falling back to first/last (default 4,096: a longer flow is scanned). */
  maxOffsets?: number;
  /** Record flows of the packets the table leaves without one (ICMP, IP-only, midstream TCP), in a table of the recorder's own. Default false. */
  untracked?: boolean;
}

export class FlowRecorderStats {
  started = 0;
  ended = 0;
  /** Offset lists dropped at maxOffsets (those flows' cuts scan their span). */
  offsetListsCut = 0;
}

const REASONS: Record<FlushReason, FlowEndReason> = {
  timeout: 'timeout',
  evicted: 'forced',
  end: 'forced',
  pdu: 'forced',
  ack: 'forced',
  size: 'forced',
  fin: 'forced',
  rst: 'forced',
  // (a data-less marker a cleanup flush makes, never why a flow is removed)
  redecode: 'forced',
};

/** Order of records ended at one packet: least recently seen first (the table times flows out in that order). */
function byLastSeen(a: FlowRecord, b: FlowRecord): number {
  return a.lastIndex - b.lastIndex || a.firstIndex - b.firstIndex || a.id - b.id;
}

export class FlowRecorder {
  readonly stats = new FlowRecorderStats();
  /** The capture file the frames now come from (FlowSpan.capture). */
  capture = 0;
  private readonly open = new Map<Flow, FlowRecord>();
  private ended: FlowRecord[] = [];
  /**
   * Records closed since the last takeEnded, by flow. A flow leaves the table inside the pipeline's call for a frame
   * (timed out, evicted, its tuple reused by a new SYN) and its queued data comes out as rebuilt packets of that same
   * call, inspected after: their events still belong to it.
   */
  private readonly closing = new Map<Flow, FlowRecord>();
  /** The packet items of the current frame that only the recorder's own table gave a flow. */
  private readonly ownItems = new Map<InspectionItem, FlowRecord>();
  /** The recorder's table for the kinds the pipeline's table does not track (FlowRecorderOptions.untracked). */
  readonly own: FlowTable | undefined;
  private readonly offsets: boolean;
  private readonly maxOffsets: number;

  constructor(
    private readonly table: FlowRemovals,
    opts: FlowRecorderOptions = {},
  ) {
    this.offsets = opts.offsets ?? false;
    this.maxOffsets = opts.maxOffsets ?? 4096;
    const before = table.onRemove;
    table.onRemove = (flow, flushed, reason) => {
      before?.(flow, flushed, reason);
      this.close(flow, REASONS[reason]);
    };
    if (opts.untracked === true) {
      // TCP: sessions the pipeline's table opened none for (require_3whs); tracked for their counts, never reassembled
      this.own = new FlowTable({
        trackTcp: true,
        trackUdp: false,
        trackIcmp: true,
        trackIp: true,
        reassembleClientPorts: 'none',
        reassembleServerPorts: 'none',
      });
      this.own.onRemove = (flow, _flushed, reason) => this.close(flow, REASONS[reason]);
    }
  }

  /** The open record of a flow (undefined before its first packet reached the recorder, or after its end). */
  recordOf(flow: Flow): FlowRecord | undefined {
    return this.open.get(flow);
  }

  /**
   * The record an item's events belong to: its flow's, also when the flow ended during this frame (its rebuilt
   * packets flushed at the end); for a packet only the recorder's own table tracks, that flow's. Valid until takeEnded.
   */
  recordOfItem(item: InspectionItem): FlowRecord | undefined {
    if (item.flow !== undefined) return this.open.get(item.flow) ?? this.closing.get(item.flow);
    return this.ownItems.get(item);
  }

  /**
   * A packet item of the pipeline (other items are ignored), from the frame at capture position `index`, byte
   * `offset` of the current capture. Returns the flow's record when this packet started it.
   */
  packet(item: InspectionItem, index: number, offset: number): FlowRecord | undefined {
    // (a 'decode-only' item is a session cleanup's second decoding of a queued packet, or a fragment a completed
    // datagram left uninspected: no packet of a flow of its own)
    if (item.kind !== 'packet' || item.detection === 'decode-only') return undefined;
    const p = item.packet;
    let flow = item.flow;
    let fromClient = item.fromClient;
    if (flow === undefined) {
      // fragments belong to no flow (the datagram they complete does); UDP without one (a header too damaged to
      // decode): the pipeline's table decided so. TCP without one: a session the table would not pick up midstream
      const ip = p.ip;
      if (this.own === undefined || ip === undefined || ip.isFragment || ip.proto === 17) return undefined;
      if (ip.proto === 6 && p.tcp === undefined) return undefined;
      const u = this.own.process(p, undefined, index);
      if (u.flow === undefined) return undefined;
      flow = u.flow;
      fromClient = u.fromClient;
    } else if (this.own !== undefined && flow.proto === 6 && item.flow !== undefined && flow.createdIndex === index) {
      // the pipeline's table opened a session on a tuple the recorder was following (a SYN after a midstream start):
      // the recorder's flow ends there, so the tuple has one open flow
      const mine = this.own.lookup(p);
      if (mine !== undefined) this.own.drop(mine);
    }
    let rec = this.open.get(flow);
    let started: FlowRecord | undefined;
    if (rec === undefined) {
      rec = this.start(flow, item, fromClient);
      this.open.set(flow, rec);
      this.stats.started++;
      started = rec;
    }
    if (flow !== item.flow) this.ownItems.set(item, rec);
    if (fromClient) {
      rec.pktsToServer++;
      rec.bytesToServer += p.data.length;
      if (p.tcp !== undefined) rec.tcpFlagsTs |= p.tcp.flags;
    } else {
      rec.pktsToClient++;
      rec.bytesToClient += p.data.length;
      if (p.tcp !== undefined) rec.tcpFlagsTc |= p.tcp.flags;
    }
    rec.payloadBytes += p.payloadLength;
    // the state so far: an open flow's row in the store shows it (finalize sets it for good)
    rec.tcpState = flow.proto === 6 ? flow.state : undefined;
    rec.state = stateOf(flow);
    rec.endSec = p.tsSec;
    rec.endUsec = p.tsUsec;
    rec.lastIndex = index;
    if (this.offsets) this.span(rec, offset);
    return started;
  }

  private span(rec: FlowRecord, offset: number): void {
    let s = rec.spans[rec.spans.length - 1];
    if (s === undefined || s.capture !== this.capture) {
      s = { capture: this.capture, first: offset, last: offset, packets: 0, offsets: [] };
      rec.spans.push(s);
    } else if (s.last === offset && s.packets > 0) {
      return; // a second packet of the same frame (a datagram completed by it)
    }
    s.last = offset;
    s.packets++;
    if (s.offsets !== undefined) {
      if (s.offsets.length < this.maxOffsets) s.offsets.push(offset);
      else {
        s.offsets = undefined;
        this.stats.offsetListsCut++;
      }
    }
  }

  private start(flow: Flow, item: InspectionItem, fromClient: boolean): FlowRecord {
    const p = item.packet;
    const ic = p.icmp ?? p.icmp6;
    const c = flow.client;
    const s = flow.server;
    const icmpType = ic !== undefined ? ic.type : -1;
    const icmpCode = ic !== undefined ? ic.code : -1;
    // ICMP hashes the first packet's type and code, from its sender's side (the client's, for non-TCP flows)
    const cid =
      flow.proto === 132
        ? ''
        : ic !== undefined
          ? fromClient
            ? communityId(flow.proto, c.ip, s.ip, icmpType, icmpCode)
            : communityId(flow.proto, s.ip, c.ip, icmpType, icmpCode)
          : communityId(flow.proto, c.ip, s.ip, c.port, s.port);
    return {
      id: flowId(flow),
      proto: flow.proto,
      vlan: flow.vlan,
      clientIp: formatIp(c.ip),
      clientPort: ic !== undefined ? -1 : c.port,
      serverIp: formatIp(s.ip),
      serverPort: ic !== undefined ? -1 : s.port,
      icmpType,
      icmpCode,
      communityId: cid,
      startSec: p.tsSec,
      startUsec: p.tsUsec,
      endSec: p.tsSec,
      endUsec: p.tsUsec,
      pktsToServer: 0,
      pktsToClient: 0,
      bytesToServer: 0,
      bytesToClient: 0,
      tcpFlagsTs: 0,
      tcpFlagsTc: 0,
      tcpState: undefined,
      state: 'new',
      reason: undefined,
      appProto: undefined,
      payloadBytes: 0,
      midstream: flow.midstream,
      firstIndex: flow.createdIndex,
      lastIndex: flow.createdIndex,
      spans: [],
    };
  }

  private close(flow: Flow, reason: FlowEndReason): void {
    const rec = this.open.get(flow);
    if (rec === undefined) return;
    this.open.delete(flow);
    this.finalize(flow, rec, reason);
    this.ended.push(rec);
    this.closing.set(flow, rec);
  }

  private finalize(flow: Flow, rec: FlowRecord, reason: FlowEndReason): void {
    rec.reason = reason;
    rec.appProto = appProtoOf(flow);
    rec.tcpState = flow.proto === 6 ? flow.state : undefined;
    rec.state = stateOf(flow);
    this.stats.ended++;
  }

  /** Records of the flows that ended since the last call, least recently seen first. */
  takeEnded(): FlowRecord[] {
    // (clear() gives a Map a new table: not on every frame when there is nothing to clear)
    if (this.closing.size > 0) this.closing.clear();
    if (this.ownItems.size > 0) this.ownItems.clear();
    if (this.ended.length === 0) return [];
    const out = this.ended.sort(byLastSeen);
    this.ended = [];
    return out;
  }

  /**
   * End of the capture: the records of every flow still open (reason 'shutdown'), in the order the flows were made.
   * Flows that ended before are taken first (takeEnded). The table keeps its flows; the recorder forgets them.
   */
  finish(): FlowRecord[] {
    const out: FlowRecord[] = [];
    this.closing.clear();
    this.ownItems.clear();
    for (const flow of this.table.values()) {
      const rec = this.open.get(flow);
      if (rec === undefined) continue;
      this.open.delete(flow);
      this.finalize(flow, rec, 'shutdown');
      out.push(rec);
    }
    // the recorder's own table's flows, and flows the table no longer holds but that never ended (none, unless a
    // caller removed them behind its back)
    for (const [flow, rec] of this.open) {
      this.finalize(flow, rec, 'shutdown');
      out.push(rec);
    }
    this.open.clear();
    return out.sort((a, b) => a.firstIndex - b.firstIndex || a.id - b.id);
  }
}

/** EVE's flow.state: closed (TCP after FIN both ways or RST), established, or new. */
function stateOf(flow: Flow): FlowRecord['state'] {
  return flow.proto === 6 && flow.state === 'closed' ? 'closed' : flow.established ? 'established' : 'new';
}
