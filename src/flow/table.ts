import { portMap } from './port-map.js';
import type { Packet } from '../packet/packet.js';
import { TcpFlag } from '../packet/types.js';
import { Endpoint, Flow, type FlowKind } from './flow.js';
import { compareEndpoints, FlowIndex, flowPorts, tupleHash, vlanOf } from './key.js';
import { seqDiff, type StreamBuffer, type StreamPolicy } from './reassembly.js';

/** Snort stream5's default `ports client` list (reassembly of data the client sends to these server ports). */
export const STREAM5_DEFAULT_CLIENT_PORTS: readonly number[] = [
  21, 23, 25, 42, 53, 80, 110, 111, 135, 136, 137, 139, 143, 445, 513, 514, 1433, 1521, 2401, 3306,
];

/**
 * `ports client` of stream5_tcp in the snort.conf shipped with Snort 2.9.20 (etc/snort.conf of its source; the
 * longer lists of later snort.conf files name ports 2.9.20's does not reassemble, 5000 or 5222 among them).
 */
export const SNORT_CONF_STREAM5_CLIENT_PORTS: readonly number[] = [
  21, 22, 23, 25, 42, 53, 79, 109, 110, 111, 113, 119, 135, 136, 137, 139, 143, 161, 445, 513, 514, 587, 593, 691, 1433, 1521, 1741, 2100, 3306, 6070,
  6665, 6666, 6667, 6668, 6669, 7000, 8181, 32770, 32771, 32772, 32773, 32774, 32775, 32776, 32777, 32778, 32779,
];

/** `ports both` of stream5_tcp in the snort.conf shipped with Snort 2.9.20. */
export const SNORT_CONF_STREAM5_BOTH_PORTS: readonly number[] = [
  80, 81, 311, 383, 443, 465, 563, 591, 593, 636, 901, 989, 992, 993, 994, 995, 1220, 1414, 1830, 2301, 2381, 2809, 3037, 3128, 3702, 4343, 4848,
  5250, 6988, 7907, 7000, 7001, 7144, 7145, 7510, 7802, 7777, 7779, 7801, 7900, 7901, 7902, 7903, 7904, 7905, 7906, 7908, 7909, 7910, 7911, 7912,
  7913, 7914, 7915, 7916, 7917, 7918, 7919, 7920, 8000, 8008, 8014, 8028, 8080, 8085, 8088, 8090, 8118, 8123, 8180, 8243, 8280, 8300, 8800, 8888,
  8899, 9000, 9060, 9080, 9090, 9091, 9443, 9999, 11371, 34443, 34444, 41080, 50002, 55555,
];

export interface FlowConfig {
  /** stream5_global track_tcp / track_udp / track_icmp / track_ip (defaults yes, yes, no, no). */
  trackTcp?: boolean;
  trackUdp?: boolean;
  trackIcmp?: boolean;
  trackIp?: boolean;
  /** stream5_global max_tcp / max_udp / max_icmp / max_ip (defaults 262144, 131072, 65536, 16384). */
  maxTcp?: number;
  maxUdp?: number;
  maxIcmp?: number;
  maxIp?: number;
  /** Idle timeouts in seconds (stream5 default 30 each). */
  tcpTimeout?: number;
  udpTimeout?: number;
  icmpTimeout?: number;
  ipTimeout?: number;
  /** stream5_tcp require_3whs: no midstream pickup (default false: sessions are picked up midstream). */
  requireHandshake?: boolean;
  /**
   * stream5_tcp `require_3whs N` (with requireHandshake): a TCP packet without a session opens one only when it is a
   * SYN, or while it is less than N whole seconds after the first packet stream5 saw (snort_stream_tcp.c ProcessTcp:
   * `p->pkth->ts.tv_sec - firstPacketTime < hs_timeout` allows the midstream pickup of sessions older than Snort's
   * start; firstPacketTime is set once per process, spp_stream6.c / spp_session.c). Undefined: no window.
   */
  handshakeGrace?: number;
  /** Overlap policy of reassembly (stream5_tcp default policy bsd). */
  policy?: StreamPolicy;
  /** Server ports whose client-to-server data is reassembled (stream5 `ports client`; default STREAM5_DEFAULT_CLIENT_PORTS). */
  reassembleClientPorts?: readonly number[] | 'all' | 'none';
  /** Server ports whose server-to-client data is reassembled (stream5 `ports server`; default none). */
  reassembleServerPorts?: readonly number[] | 'all' | 'none';
  /** max_queued_bytes / max_queued_segs per direction (defaults 1048576 / 2621). */
  maxQueuedBytes?: number;
  maxQueuedSegs?: number;
  /** Largest rebuilt segment handed out at once (default 65495: a rebuilt IPv4 packet stays within 65535). */
  flushSize?: number;
  /**
   * Protocol aware flushing: length of the PDU starting a direction's in-order acked data, given its first bytes (at
   * most PAF_PEEK of them); 0 while it is not known yet, -1 when the data is not of the protocol (PAF gives up). An ACK
   * covering a PDU flushes it (Snort's flush_pdu_ackd).
   */
  pduLength?: (flow: Flow, fromClient: boolean, data: Uint8Array) => number;
  /**
   * Whether bytes hold the end of a PDU's head (with pduLength: an incomplete head makes pduLength 0 until its end
   * comes, so only new bytes need searching for it). `data` starts `offset` bytes into the queued data (0: at its
   * start) and overlaps what was searched before by PAF_HEAD_OVERLAP bytes, so a head end across the two is found.
   * Without it every ACK shows pduLength all the acked bytes.
   */
  pduHeadEnd?: (flow: Flow, data: Uint8Array, offset: number) => boolean;
  /**
   * Whether pduLength now answers -1 for the flow whatever the data (its preprocessor gave the session up: dcerpc2
   * after a sequence anomaly, which the other direction's flush can bring): the head search and a kept PDU length
   * are not trusted then, pduLength is asked, as at every ACK without them.
   */
  pafDeclined?: (flow: Flow) => boolean;
  /** Whether a direction's data is flushed by `pduLength` (a preprocessor registered PAF for the flow's server port). */
  pafActive?: (flow: Flow, fromClient: boolean) => boolean;
  /**
   * A preprocessor registered its PAF for the flow's server port with `auto_on` (dcerpc2 on its SMB ports,
   * dce2_paf.c DCE2_PafRegisterPort): both directions are reassembled whatever stream5's ports say
   * (stream_paf.c s5_paf_port_registration, snort_stream_tcp.c InitFlushMgrByPort), and acked data of paf_max bytes or
   * more is flushed before its PDU is complete (s5_paf_check FT_MAX). (http_inspect's PAF, as honeywall has it, does
   * not split at paf_max.)
   */
  pafAuto?: (flow: Flow) => boolean;
}

/** The data of a 'redecode' marker. */
const NO_DATA = new Uint8Array(0);

/**
 * Why data was flushed. 'redecode' is no data: a session's cleanup decoding a side's first queued packet again
 * (FlushQueuedSegs), which the pipeline shows the decode-time rules (see cleanupFlush).
 */
export type FlushReason = 'pdu' | 'ack' | 'size' | 'fin' | 'rst' | 'timeout' | 'evicted' | 'end' | 'redecode';

/** A run of in-order stream data (Snort's rebuilt packet): what one side sent, from sequence `seq`. */
export interface StreamSegment {
  flow: Flow;
  /** True if the client sent these bytes (to_server). */
  fromClient: boolean;
  seq: number;
  data: Uint8Array;
  reason: FlushReason;
  /** PAF flushed it from the start of a PDU (Snort's PKT_PDU_HEAD; never for footprint flushes and 'redecode'). */
  pduHead: boolean;
  /**
   * The rebuilt packet's header as Snort's _flush_to_seq encodes it (Encode_Format): the TCP flags and TTL of the
   * packet that caused the flush (for a session's cleanup, of the first queued segment's own packet), the ack and
   * window of the receiving side (its l_unackd and l_window).
   */
  flags: number;
  ttl: number;
  ack: number;
  window: number;
}

/** What the flow table says about one packet. */
export interface FlowUpdate {
  /** The packet's flow; undefined when its protocol is not tracked, or for a TCP packet that opens no session (RST, or no SYN with requireHandshake). */
  flow: Flow | undefined;
  /** Sender is the flow's client (to_server / from_client). True when there is no flow. */
  fromClient: boolean;
  /** The flow was created by this packet. */
  isNew: boolean;
  /** Flow was established when this packet was processed (Snort updates state before detection). */
  established: boolean;
  /** The packet's payload was queued for reassembly (Snort PKT_STREAM_INSERT). */
  streamInserted: boolean;
  /**
   * Rebuilt segments this packet caused to be flushed, oldest first, possibly of other flows
   * (timeouts, evictions). Snort inspects rebuilt packets before the packet that triggered the flush.
   */
  flushed: StreamSegment[];
}

export interface FlowStats {
  created: Record<FlowKind, number>;
  timedOut: number;
  evicted: number;
  /** TCP packets that opened no session (RST without session, or no SYN under requireHandshake). */
  noSession: number;
  flushedSegments: number;
  flushedBytes: number;
  /**
   * TCP segments a full reassembly queue did not take (max_queued_bytes / max_queued_segs, even after what was in
   * order was flushed), and their bytes: inspected as packets, missing from the rebuilt stream.
   */
  refusedSegments: number;
  refusedBytes: number;
}

class LruList {
  head: Flow | undefined = undefined;
  tail: Flow | undefined = undefined;
  size = 0;

  unlink(f: Flow): void {
    if (f.prev !== undefined) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next !== undefined) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = undefined;
    f.next = undefined;
    this.size--;
  }

  pushHead(f: Flow): void {
    f.prev = undefined;
    f.next = this.head;
    if (this.head !== undefined) this.head.prev = f;
    else this.tail = f;
    this.head = f;
    this.size++;
  }

  touch(f: Flow): void {
    if (this.head === f) return;
    this.unlink(f);
    this.pushHead(f);
  }
}

const NO_SEGMENTS: StreamSegment[] = Object.freeze([]) as unknown as StreamSegment[];
/** Bytes shown to `pduLength` (Snort's paf_max is 16000: a PDU head must fit in it). */
const PAF_PEEK = 16384;
/** base.conf `config paf_max: 16000`: added to the flush point when PAF gives up (UpdateFlushMgr, STREAM_FT_PAF_MAX). */
const PAF_MAX = 16000;
/** encode.h MAXIMUM_PAF_MAX (IP_MAXPACKET - ETHERNET_MTU - 255): the most one PAF check scans and flushes at once. */
const MAXIMUM_PAF_MAX = 65535 - 1500 - 255;
/** Bytes searched again before the new ones for a PDU head's end: HTTP's blank line (4) and SMB's header window (8). */
const PAF_HEAD_OVERLAP = 7;
/** A PDU length found from fewer bytes than this may change as more come (SMB's identifier after its header). */
const PAF_FINAL_BYTES = 8;
/**
 * The footprint flush point: Snort draws it between 128 and 255 (rand() at start; InitFlushPointList 192, 128), 192
 * under --enable-static-flushpoints-like runs (the REG_TEST constant cfp). Acked data below 128 bytes is flushed only
 * when the session ends, whichever point Snort drew.
 */
const FOOTPRINT_FLUSH_POINT = 192;
const ALL_KINDS: readonly FlowKind[] = ['tcp', 'udp', 'icmp', 'ip'];

/**
 * A kind's place in ALL_KINDS: the per-kind tables are arrays, read by this number. Read by the kind's name (a
 * Record), the name varying from packet to packet sent each of a packet's four reads through V8's megamorphic
 * lookup (~0.7% of a replay's time, all in the flow table's process).
 */
function kindIndex(k: FlowKind): number {
  return k === 'tcp' ? 0 : k === 'udp' ? 1 : k === 'icmp' ? 2 : 3;
}

/** A per-kind value as an array in ALL_KINDS order. */
function byKind<T>(v: Record<FlowKind, T>): T[] {
  return ALL_KINDS.map((k) => v[k]);
}

function portSet(v: readonly number[] | 'all' | 'none' | undefined, dflt: readonly number[] | 'none'): Uint8Array | 'all' {
  const x = v ?? dflt;
  if (x === 'all') return 'all';
  return portMap(x === 'none' ? [] : x);
}

/** A FlowConfig's limits and choices with their defaults: what the table (and the native front, native-pipeline.ts) run with. */
export interface ResolvedFlowConfig {
  /** By kind, in ALL_KINDS order. */
  track: boolean[];
  max: number[];
  timeout: number[];
  requireHandshake: boolean;
  handshakeGrace: number;
  policy: StreamPolicy;
  clientPorts: Uint8Array | 'all';
  serverPorts: Uint8Array | 'all';
  maxQueuedBytes: number;
  maxQueuedSegs: number;
  flushSize: number;
}

export function resolveFlowConfig(cfg: FlowConfig): ResolvedFlowConfig {
  return {
    track: byKind({ tcp: cfg.trackTcp ?? true, udp: cfg.trackUdp ?? true, icmp: cfg.trackIcmp ?? false, ip: cfg.trackIp ?? false }),
    max: byKind({ tcp: cfg.maxTcp ?? 262144, udp: cfg.maxUdp ?? 131072, icmp: cfg.maxIcmp ?? 65536, ip: cfg.maxIp ?? 16384 }),
    timeout: byKind({ tcp: cfg.tcpTimeout ?? 30, udp: cfg.udpTimeout ?? 30, icmp: cfg.icmpTimeout ?? 30, ip: cfg.ipTimeout ?? 30 }),
    requireHandshake: cfg.requireHandshake ?? false,
    handshakeGrace: cfg.handshakeGrace ?? 0,
    policy: cfg.policy ?? 'bsd',
    clientPorts: portSet(cfg.reassembleClientPorts, STREAM5_DEFAULT_CLIENT_PORTS),
    serverPorts: portSet(cfg.reassembleServerPorts, 'none'),
    maxQueuedBytes: cfg.maxQueuedBytes ?? 1048576,
    maxQueuedSegs: cfg.maxQueuedSegs ?? 2621,
    flushSize: cfg.flushSize ?? 65495,
  };
}

/**
 * Flow table: Snort stream5-like session tracking with bounded memory (per-kind maximum with LRU
 * eviction, idle timeouts) and TCP reassembly. Feed every decoded packet, in capture order, to
 * `process`. Call `flushAll` at the end of a capture to get the data still queued.
 */
export class FlowTable {
  readonly stats: FlowStats = {
    created: { tcp: 0, udp: 0, icmp: 0, ip: 0 },
    timedOut: 0,
    evicted: 0,
    noSession: 0,
    flushedSegments: 0,
    flushedBytes: 0,
    refusedSegments: 0,
    refusedBytes: 0,
  };
  private readonly flows = new FlowIndex<Flow>();
  /** Per kind, by kindIndex: the flows from the most recently used, whether the kind is tracked, its limit and timeout. */
  private readonly lists: LruList[] = ALL_KINDS.map(() => new LruList());
  private readonly track: boolean[];
  private readonly max: number[];
  private readonly timeout: number[];
  private readonly requireHandshake: boolean;
  private readonly handshakeGrace: number;
  /** firstPacketTime: the whole seconds of the first IP packet the table saw; -1 before it. */
  private firstSec = -1;
  private readonly policy: StreamPolicy;
  private readonly clientPorts: Uint8Array | 'all';
  private readonly serverPorts: Uint8Array | 'all';
  private readonly maxQueuedBytes: number;
  private readonly maxQueuedSegs: number;
  private readonly flushSize: number;
  private readonly pduLength: FlowConfig['pduLength'];
  private readonly pduHeadEnd: FlowConfig['pduHeadEnd'];
  private readonly pafDeclined: FlowConfig['pafDeclined'];
  private readonly pafActive: FlowConfig['pafActive'];
  private readonly pafAuto: FlowConfig['pafAuto'];

  constructor(cfg: FlowConfig = {}) {
    const r = resolveFlowConfig(cfg);
    this.track = r.track;
    this.max = r.max;
    this.timeout = r.timeout;
    this.requireHandshake = r.requireHandshake;
    this.handshakeGrace = r.handshakeGrace;
    this.policy = r.policy;
    this.clientPorts = r.clientPorts;
    this.serverPorts = r.serverPorts;
    this.maxQueuedBytes = r.maxQueuedBytes;
    this.maxQueuedSegs = r.maxQueuedSegs;
    this.flushSize = r.flushSize;
    this.pduLength = cfg.pduLength;
    this.pduHeadEnd = cfg.pduLength === undefined ? undefined : cfg.pduHeadEnd;
    this.pafDeclined = cfg.pduLength === undefined ? undefined : cfg.pafDeclined;
    this.pafActive = cfg.pduLength === undefined ? undefined : cfg.pafActive;
    this.pafAuto = cfg.pduLength === undefined ? undefined : cfg.pafAuto;
  }

  /** Number of flows held. */
  get size(): number {
    return this.flows.size;
  }

  /** Look a packet's flow up without changing anything. */
  lookup(p: Packet): Flow | undefined {
    const ip = p.ip;
    if (ip === undefined) return undefined;
    const [sp, dp] = flowPorts(p);
    const vlan = vlanOf(p);
    return this.flows.find(tupleHash(ip.proto, vlan, ip.src, sp, ip.dst, dp), ip.proto, vlan, ip.src, sp, ip.dst, dp);
  }

  /** Iterate over the flows held (no particular order). */
  values(): IterableIterator<Flow> {
    return this.flows.values();
  }

  /** Track one packet. `now` (seconds) defaults to the packet's timestamp; `index` is its place in the capture. */
  process(p: Packet, now: number = p.tsSec + p.tsUsec / 1e6, index = 0): FlowUpdate {
    // segments flushed by this packet go to a scratch list, taken at the end (most packets flush nothing: no array each)
    const flushed = this.scratch;
    const ip = p.ip;
    if (ip === undefined) return this.none();
    if (this.firstSec < 0) this.firstSec = p.tsSec;
    const kind: FlowKind = p.tcp !== undefined ? 'tcp' : p.udp !== undefined ? 'udp' : p.icmp !== undefined || p.icmp6 !== undefined ? 'icmp' : 'ip';
    this.expire(now, flushed, kind);
    if (!this.track[kindIndex(kind)]) return this.none();
    // Snort 2.9.20 spp_session.c isPacketEligible: fragments belong to no session (their datagram, once rebuilt, does)
    if (ip.isFragment) return this.none();
    const [sp, dp] = flowPorts(p);
    const vlan = vlanOf(p);
    const hash = tupleHash(ip.proto, vlan, ip.src, sp, ip.dst, dp);
    let flow = this.flows.find(hash, ip.proto, vlan, ip.src, sp, ip.dst, dp);
    let isNew = false;
    const t = p.tcp;
    if (
      flow !== undefined &&
      t !== undefined &&
      (flow.terminated || (flow.state === 'closed' && (t.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN))
    ) {
      // a session that ended (its last ACK was its last packet, Snort TcpSessionCleanup), or a new SYN on a closed one:
      // this packet starts anew
      this.remove(flow, 'end', flushed);
      flow = undefined;
    }
    if (flow === undefined) {
      flow = this.create(kind, vlan, hash, p, sp, dp, now, flushed);
      if (flow === undefined) {
        this.stats.noSession++;
        return this.none();
      }
      flow.createdIndex = index;
      isNew = true;
    } else {
      this.lists[kindIndex(kind)]!.touch(flow);
      flow.lastSec = now;
    }
    flow.lastIndex = index;
    const fromClient = compareEndpoints(ip.src, sp, flow.client.ip, flow.client.port) === 0;
    const sender = fromClient ? flow.client : flow.server;
    const receiver = fromClient ? flow.server : flow.client;
    sender.packets++;
    sender.bytes += p.payloadLength;
    let inserted = false;
    if (t !== undefined) inserted = this.tcpUpdate(flow, p, fromClient, sender, receiver, flushed);
    else if (flow.seenBoth) flow.established = true;
    // the packet that ends a session is inspected after Snort's TcpSessionClear (session flags, flowbits and the TCP
    // state gone): not established, no stream_size (its rebuilt packets came before, with the session whole)
    return {
      flow,
      fromClient,
      isNew,
      established: flow.established && !flow.terminated,
      streamInserted: inserted,
      flushed: this.takeFlushed(),
    };
  }

  private readonly scratch: StreamSegment[] = [];

  private takeFlushed(): StreamSegment[] {
    return this.scratch.length === 0 ? NO_SEGMENTS : this.scratch.splice(0);
  }

  private none(): FlowUpdate {
    return { flow: undefined, fromClient: true, isNew: false, established: false, streamInserted: false, flushed: this.takeFlushed() };
  }

  private create(kind: FlowKind, vlan: number, hash: number, p: Packet, sp: number, dp: number, now: number, out: StreamSegment[]): Flow | undefined {
    const ip = p.ip!;
    // both addresses in one buffer (one backing store a flow, not two)
    const n = ip.src.length;
    const both = new Uint8Array(2 * n);
    both.set(ip.src, 0);
    both.set(ip.dst, n);
    const src = new Endpoint(both.subarray(0, n), sp, true);
    const dst = new Endpoint(both.subarray(n), dp, true);
    let flow: Flow;
    const t = p.tcp;
    if (t !== undefined) {
      const syn = (t.flags & TcpFlag.SYN) !== 0;
      const ack = (t.flags & TcpFlag.ACK) !== 0;
      if (t.flags & TcpFlag.RST) return undefined;
      // require_3whs: past its startup window only a SYN opens a session
      if (this.requireHandshake && !(syn && !ack) && p.tsSec - this.firstSec >= this.handshakeGrace) return undefined;
      if (syn && !ack) flow = new Flow(kind, ip.proto, vlan, hash, src, dst, now, 'syn-sent', false);
      else if (syn && ack) flow = new Flow(kind, ip.proto, vlan, hash, dst, src, now, 'syn-received', false);
      else {
        // Snort ProcessTcp: a packet without SYN and without data opens no session ("no data, no need to create
        // lightweight session"); the first data packet does, midstream
        if (p.payloadLength === 0) return undefined;
        // midstream pickup: stream5 takes the higher port for the client
        flow =
          sp >= dp
            ? new Flow(kind, ip.proto, vlan, hash, src, dst, now, 'established', true)
            : new Flow(kind, ip.proto, vlan, hash, dst, src, now, 'established', true);
      }
    } else flow = new Flow(kind, ip.proto, vlan, hash, src, dst, now, 'none', true);
    const ki = kindIndex(kind);
    const list = this.lists[ki]!;
    const max = this.max[ki]!;
    while (list.size >= max && list.tail !== undefined) {
      this.stats.evicted++;
      this.remove(list.tail, 'evicted', out);
    }
    this.flows.add(flow);
    list.pushHead(flow);
    this.stats.created[kind]++;
    return flow;
  }

  private reassembles(flow: Flow, fromClient: boolean): boolean {
    const set = fromClient ? this.clientPorts : this.serverPorts;
    return set === 'all' || set[flow.server.port] === 1 || this.pafAuto?.(flow) === true;
  }

  private tcpUpdate(flow: Flow, p: Packet, fromClient: boolean, sender: Endpoint, receiver: Endpoint, out: StreamSegment[]): boolean {
    const t = p.tcp!;
    const f = t.flags;
    const syn = (f & TcpFlag.SYN) !== 0;
    const ack = (f & TcpFlag.ACK) !== 0;
    const fin = (f & TcpFlag.FIN) !== 0;
    const rst = (f & TcpFlag.RST) !== 0;
    const len = p.payloadLength;
    const meta = f | ((p.ip?.ttl ?? 64) << 8);
    // sequence tracking
    if (syn || sender.isn < 0) sender.isn = t.seq;
    const endSeq = (t.seq + len + (syn ? 1 : 0) + (fin ? 1 : 0)) >>> 0;
    if (sender.nextSeq < 0 || seqDiff(endSeq, sender.nextSeq) > 0) sender.nextSeq = endSeq;
    if (rst) {
      // Snort 2.9.20 snort_stream_tcp.c ProcessTcp, a valid RST: when the listener is closing (a FIN went either way)
      // the acked data of both sides is flushed (StreamFlushTalker: the receiver's, then StreamFlushListener: the
      // sender's); otherwise it stays queued ("leave listener open, data may be in transit"). Nothing else of the packet
      // is processed (no ACK, no data).
      sender.rstSeen = true;
      if (sender.finSeen || receiver.finSeen) {
        this.flushAcked(flow, receiver, !fromClient, meta, true, 'rst', out);
        this.flushAcked(flow, sender, fromClient, meta, true, 'rst', out);
      }
      flow.state = 'closed';
      return false;
    }
    // state machine. Snort ProcessTcp (SYN_RCVD): the ACK completes the handshake only when it acknowledges the SYN-ACK
    // and nothing more (IsBetween(l_unackd, l_nxt_seq, ack); the server's data before it does not move l_nxt_seq):
    // otherwise the session is never established, and nothing of it is acknowledged
    if (syn && ack && !fromClient && (flow.state === 'syn-sent' || flow.state === 'syn-received')) flow.state = 'syn-received';
    else if (ack && !syn && fromClient && flow.state === 'syn-received' && receiver.isn >= 0 && t.ack === (receiver.isn + 1) >>> 0) {
      flow.state = 'established';
      flow.established = true;
      flow.synced = true;
    }
    if (syn) {
      sender.lUnackd = (t.seq + 1) >>> 0;
      sender.window = t.window;
    }
    // Snort UpdateSsn, called for an ACK once the handshake is done: the peer's l_unackd, this side's window, the
    // peer's acked data (r_win_base)
    if (ack && !syn && (flow.synced || flow.midstream)) {
      sender.lUnackd = t.seq;
      sender.window = t.window;
      if (receiver.lUnackd < 0 || seqDiff(t.ack, receiver.lUnackd) > 0) receiver.lUnackd = t.ack;
      if (receiver.ackedTo < 0 || seqDiff(t.ack, receiver.ackedTo) > 0) receiver.ackedTo = t.ack;
    }
    if (flow.midstream && flow.seenBoth) flow.established = true;
    // reassembly of what the sender sends (Snort ProcessTcpData: data on a SYN is not queued, "data on SYN, not MAC
    // policy"; base.conf's policy is windows)
    let inserted = false;
    if (this.reassembles(flow, fromClient)) {
      if (syn) sender.sawSyn((t.seq + 1) >>> 0);
      if (len > 0 && !syn && !(sender.finSeen && sender.finEnd >= 0 && seqDiff(t.seq, sender.finEnd) >= 0)) {
        const s = this.streamOf(flow, sender, fromClient);
        const refused = s.refused;
        inserted = s.insert(t.seq, p.payload, meta);
        if (!inserted && s.queuedBytes + len > this.maxQueuedBytes) {
          // queue full: hand out what is in order, then try again
          this.flushStream(flow, sender, fromClient, Infinity, 'size', out, meta);
          inserted = s.insert(t.seq, p.payload, meta);
        }
        if (!inserted && s.refused > refused) {
          this.stats.refusedSegments++;
          this.stats.refusedBytes += len;
        }
      }
    } else if (flow.midstream && len > 0 && !syn && !sender.unflushedEnded && sender.unflushedFirst < 0) {
      // (see Endpoint.unflushedFirst)
      sender.unflushedFirst = t.seq;
      sender.unflushedMeta = meta;
    }
    if (ack && receiver.unflushedFirst >= 0 && seqDiff(t.ack, receiver.unflushedFirst) > 0) {
      receiver.unflushedFirst = -1;
      receiver.unflushedEnded = true;
    }
    if (fin && !sender.finSeen) {
      sender.finSeen = true;
      sender.finEnd = endSeq;
    }
    if (fin) flow.state = receiver.finSeen ? 'closed' : 'closing';
    // the session ends when both FINs are acknowledged (Snort: TIME_WAIT and CLOSED): the peer's acked data as a
    // normal ACK would, then whatever is acked of both sides (flush_stream, client's data first), then the session's
    // cleanup (FlushQueuedSegs, forced: the server's data first)
    const terminated =
      ack &&
      sender.finSeen &&
      receiver.finSeen &&
      seqDiff(t.ack, receiver.finEnd) >= 0 &&
      sender.ackedTo >= 0 &&
      seqDiff(sender.ackedTo, sender.finEnd) >= 0;
    if (ack) this.flushOnAck(flow, receiver, !fromClient, meta, out);
    if (terminated) {
      this.flushAcked(flow, flow.client, true, meta, false, 'fin', out);
      this.flushAcked(flow, flow.server, false, meta, false, 'fin', out);
      this.cleanupFlush(flow, 'fin', out);
      flow.terminated = true;
    }
    const ss = sender.stream;
    if (ss !== undefined && ss.contiguous() >= this.flushSize) this.flushStream(flow, sender, fromClient, Infinity, 'size', out, meta, true);
    return inserted;
  }

  /** The stream of `ep`'s data, made with its flush policy (Snort InitFlushMgrByPort: PAF where a preprocessor registered it). */
  private streamOf(flow: Flow, ep: Endpoint, fromClient: boolean): StreamBuffer {
    if (ep.stream === undefined) {
      const paf = this.pafActive?.(flow, fromClient) === true;
      ep.flushPolicy = paf ? 'paf' : 'footprint';
      ep.flushPt = FOOTPRINT_FLUSH_POINT;
    }
    return ep.enableReassembly(this.policy, this.maxQueuedBytes, this.maxQueuedSegs);
  }

  /** Bytes of `ep`'s queued data the peer has acknowledged, in order from the start (Snort get_q_footprint). */
  private ackedBytes(ep: Endpoint): number {
    const s = ep.stream;
    if (s === undefined || s.base === undefined || ep.ackedTo < 0) return 0;
    const n = seqDiff(ep.ackedTo, s.base);
    return n > 0 ? Math.min(n, s.contiguous()) : 0;
  }

  /**
   * Snort 2.9.20 snort_stream_tcp.c CheckFlushPolicyOnAck (IDS mode): the peer's ACK flushes `ep`'s data. Footprint:
   * once the acked bytes reach the flush point, with at least two segments acked (DataToFlush), all of them. PAF: each
   * acked complete message (flush_pdu_ackd); when PAF gives up, footprint with paf_max added to the flush point.
   */
  private flushOnAck(flow: Flow, ep: Endpoint, fromClient: boolean, meta: number, out: StreamSegment[]): void {
    const s = ep.stream;
    if (s === undefined) return;
    if (ep.flushPolicy === 'paf') {
      const split = this.pafAuto?.(flow) === true;
      for (;;) {
        const acked = this.ackedBytes(ep);
        if (acked <= 0) return;
        let n = ep.pafLeft;
        const declined = this.pafDeclined?.(flow) === true;
        if (n === 0 && !declined && ep.pafPdu > 0 && ep.pafPduBase === s.base) n = ep.pafPdu;
        else if (n === 0) {
          const limit = Math.min(acked, PAF_PEEK);
          // Snort's PAF reads each byte once (s5_paf_check resumes where it stopped): while the head of the next PDU is
          // incomplete, only the bytes an ACK adds are searched for its end (a flood of one-byte segments would
          // otherwise copy and scan up to paf_max bytes per packet); n stays 0 then
          const headEnd = this.pduHeadEnd;
          const known = headEnd !== undefined && !declined && ep.pafBase === s.base ? ep.pafScanned : 0;
          let look = true;
          if (known > 0) {
            const from = Math.max(0, known - PAF_HEAD_OVERLAP);
            if (limit <= known) look = false;
            else if (!headEnd!(flow, s.peekRange(from, limit), from)) {
              ep.pafScanned = limit;
              look = false;
            }
          }
          if (look) {
            const data = s.peek(limit);
            n = this.pduLength!(flow, fromClient, data);
            if (n === 0 && headEnd !== undefined && !headEnd(flow, data, 0)) {
              ep.pafBase = s.base!;
              ep.pafScanned = limit;
            }
            if (n < 0) {
              ep.flushPolicy = 'footprint';
              ep.flushPt += PAF_MAX;
              break;
            }
            // a length told by a whole head: the ACKs until the PDU is all acked compare against it (with the head
            // search, as the shortcut it is: without pduHeadEnd every ACK searches all acked bytes, the reference)
            if (n > acked && headEnd !== undefined && data.length >= PAF_FINAL_BYTES) {
              ep.pafPdu = n;
              ep.pafPduBase = s.base!;
            }
          }
        }
        if (n === 0 || n > acked) {
          // s5_paf_check: paf_max bytes acked and no PDU end among them: they are flushed (FT_MAX, at most
          // MAXIMUM_PAF_MAX), the PDU's flush point moved back by as much
          if (!split || acked < PAF_MAX) return;
          const part = Math.min(acked, MAXIMUM_PAF_MAX);
          this.flushStream(flow, ep, fromClient, part, 'size', out, meta);
          ep.pafLeft = n === 0 ? 0 : n - part;
          continue;
        }
        this.flushStream(flow, ep, fromClient, n, 'pdu', out, meta);
      }
    }
    const acked = this.ackedBytes(ep);
    if (acked >= ep.flushPt && s.piecesBefore(acked) > 1) this.flushStream(flow, ep, fromClient, acked, 'ack', out, meta);
  }

  /**
   * flush_stream / StreamFlushTalker: `ep`'s acked data; unless `force`, only when there is data to flush by the
   * policy (DataToFlush: two segments for footprint, one for PAF).
   */
  private flushAcked(flow: Flow, ep: Endpoint, fromClient: boolean, meta: number, force: boolean, reason: FlushReason, out: StreamSegment[]): void {
    const s = ep.stream;
    if (s === undefined) return;
    const acked = this.ackedBytes(ep);
    if (acked <= 0) return;
    if (!force && s.piecesBefore(acked) < (ep.flushPolicy === 'paf' ? 1 : 2)) return;
    this.flushStream(flow, ep, fromClient, acked, reason, out, meta);
  }

  /**
   * Snort FlushQueuedSegs (a session's cleanup: its end, a timeout, an eviction, the end of the capture): the acked
   * data still queued, the server's first, each rebuilt from its first queued segment's own packet. Data never
   * acknowledged is never rebuilt. That packet is decoded again (the grinder runs on it) whatever is flushed: a
   * 'redecode' marker with no data says so first (the decode-time rules see it once more, engine.ts).
   */
  private cleanupFlush(flow: Flow, reason: FlushReason, out: StreamSegment[]): void {
    for (const [ep, fromClient] of [
      [flow.server, false],
      [flow.client, true],
    ] as const) {
      const peer = fromClient ? flow.server : flow.client;
      const meta = ep.stream?.firstMeta();
      if (meta === undefined) {
        if (ep.unflushedFirst >= 0) {
          const ack = peer.lUnackd >= 0 ? peer.lUnackd : 0;
          const m = ep.unflushedMeta;
          out.push({
            flow,
            fromClient,
            seq: ep.unflushedFirst,
            data: NO_DATA,
            reason: 'redecode',
            pduHead: false,
            flags: m & 0xff,
            ttl: m >>> 8,
            ack,
            window: peer.window,
          });
        }
        continue;
      }
      const base = ep.stream!.base ?? 0;
      const ack = peer.lUnackd >= 0 ? peer.lUnackd : 0;
      out.push({
        flow,
        fromClient,
        seq: base,
        data: NO_DATA,
        reason: 'redecode',
        pduHead: false,
        flags: meta & 0xff,
        ttl: meta >>> 8,
        ack,
        window: peer.window,
      });
      this.flushAcked(flow, ep, fromClient, meta, true, reason, out);
    }
  }

  /** Flush up to `limit` in-order bytes of `ep`'s stream, in chunks of at most flushSize. */
  private flushStream(
    flow: Flow,
    ep: Endpoint,
    fromClient: boolean,
    limit: number,
    reason: FlushReason,
    out: StreamSegment[],
    meta: number,
    wholeChunksOnly = false,
  ): void {
    const s = ep.stream;
    if (s === undefined) return;
    const peer = fromClient ? flow.server : flow.client;
    let left = limit;
    // only the first chunk of a flush from a PDU boundary starts the PDU
    let head = ep.flushPolicy === 'paf' && ep.pafLeft === 0;
    while (left > 0) {
      if (wholeChunksOnly && s.contiguous() < this.flushSize) return;
      const r = s.flush(Math.min(left, this.flushSize));
      if (r === undefined) return;
      left -= r.data.length;
      const pduHead = head;
      head = false;
      ep.pafLeft = ep.flushPolicy === 'paf' ? Math.max(0, ep.pafLeft - r.data.length) : 0;
      this.stats.flushedSegments++;
      this.stats.flushedBytes += r.data.length;
      out.push({
        flow,
        fromClient,
        seq: r.seq,
        data: r.data,
        reason,
        pduHead,
        flags: meta & 0xff,
        ttl: meta >>> 8,
        ack: peer.lUnackd >= 0 ? peer.lUnackd : 0,
        window: peer.window,
      });
    }
  }

  /** Remove a flow now (its owner knows it is over: the store's recorder when the pipeline's table took the tuple). */
  drop(flow: Flow): void {
    this.remove(flow, 'evicted', undefined);
  }

  private remove(flow: Flow, reason: FlushReason, out: StreamSegment[] | undefined): void {
    const sink = out ?? [];
    if (!flow.terminated) this.cleanupFlush(flow, reason, sink);
    this.lists[kindIndex(flow.kind)]!.unlink(flow);
    this.flows.delete(flow);
    this.onRemove?.(flow, sink, reason);
  }

  /**
   * Called when a flow leaves the table (timeout, eviction, restart on a new SYN: `reason` 'end') with the
   * segments its queued data was flushed into. Set it to inspect data of evicted flows, or to log the flow's end.
   */
  onRemove: ((flow: Flow, flushed: StreamSegment[], reason: FlushReason) => void) | undefined = undefined;

  /**
   * Drop flows idle for longer than their timeout at time `now`; their data is flushed into `out`. `only`: flows of
   * that kind (a packet expires the flows of its own kind, as stream5 does).
   */
  expire(now: number, out: StreamSegment[] = [], only?: FlowKind): StreamSegment[] {
    if (only !== undefined) this.expireKind(only, now, out);
    else for (const k of ALL_KINDS) this.expireKind(k, now, out);
    return out;
  }

  private expireKind(k: FlowKind, now: number, out: StreamSegment[]): void {
    const ki = kindIndex(k);
    const list = this.lists[ki]!;
    const limit = this.timeout[ki]!;
    while (list.tail !== undefined && now - list.tail.lastSec > limit) {
      this.stats.timedOut++;
      this.remove(list.tail, 'timeout', out);
    }
  }

  /**
   * End of capture: every flow's cleanup (Snort resets its sessions after each capture: the acked data still queued,
   * see cleanupFlush). Flows stay in the table.
   */
  flushAll(): StreamSegment[] {
    const out: StreamSegment[] = [];
    for (const f of this.flows.values()) if (!f.terminated) this.cleanupFlush(f, 'end', out);
    return out.length ? out : NO_SEGMENTS;
  }
}
