import { tcpDatagram } from '../packet/build.js';
import { writeU16 } from '../packet/bytes.js';
import { fixChecksums } from '../packet/checksum.js';
import { decode, decodeIpPacket, type DecodeOptions } from '../packet/decode.js';
import { Defragmenter, type DefragOptions, type FragAlerts } from '../packet/defrag.js';
import { DecodeStats, type Packet } from '../packet/packet.js';
import { TcpFlag } from '../packet/types.js';
import { objectList } from '../shapes.js';
import { hasHeaderEnd, httpPafLength } from '../http/paf.js';
import { InflaterPool } from '../http/inflate.js';
import { HttpSession, showsHttp, type HttpBuffers, type HttpConfig } from '../http/session.js';
import { AppParsers, type AppBuffers } from '../app/session.js';
import { DCE2_SMB_PORTS, Dce2SmbSession, newDce2Stats, type Dce2Stats } from '../dce2/session.js';
import { smbPduHeadIn } from '../dce2/smb-paf.js';
import { setAppProto, type Flow } from './flow.js';
import { FlowTable, type FlowConfig, type FlowStats, type StreamSegment } from './table.js';
import { portMap } from './port-map.js';

/** Ports http_inspect_server decodes in the snort.conf shipped with Snort 2.9.20 (`ports { ... }`). */
export const SNORT_HTTP_PORTS: readonly number[] = [
  80, 81, 311, 383, 591, 593, 901, 1220, 1414, 1741, 1830, 2301, 2381, 2809, 3037, 3128, 3702, 4343, 4848, 5250, 6988, 7000, 7001, 7144, 7145, 7510,
  7777, 7779, 8000, 8008, 8014, 8028, 8080, 8085, 8088, 8090, 8118, 8123, 8180, 8181, 8243, 8280, 8300, 8800, 8888, 8899, 9000, 9060, 9080, 9090,
  9091, 9443, 9999, 11371, 34443, 34444, 41080, 50002, 55555,
];

const NO_ITEMS: InspectionItem[] = Object.freeze([]) as unknown as InspectionItem[];
/**
 * The HTTP buffers of an item that has none: one array for all of them (nothing adds to an item's list; a new empty
 * array per packet was two allocations a packet). Not frozen: a frozen array has a map of its own, and the code
 * reading `http` would meet two.
 */
const NO_HTTP: HttpBuffers[] = [];

export interface PipelineOptions {
  decode?: DecodeOptions;
  defrag?: DefragOptions;
  flow?: FlowConfig;
  http?: HttpConfig;
  /** Server ports whose traffic is parsed as HTTP (default SNORT_HTTP_PORTS). */
  httpPorts?: readonly number[];
  /** Server ports whose traffic is parsed as DNS, over UDP and TCP (default 53, Suricata's; src/app/session.ts). */
  dnsPorts?: readonly number[];
  /** Server ports dcerpc2 treats as SMB (default DCE2_SMB_PORTS; [] leaves SMB to stream5 alone). */
  smbPorts?: readonly number[];
}

/** Closes the HTTP sessions of flows that ended (their zlib streams freed now, not when the flows are collected): an empty list for the next. */
export function closeSessions(ended: readonly Flow[]): Flow[] {
  for (const f of ended) httpOf(f)?.close();
  return objectList();
}

/** A flow's HTTP session, if it has one (without making its app map). */
export function httpOf(flow: Flow): HttpSession | undefined {
  return flow.hasApp ? (flow.app.get('http') as HttpSession | undefined) : undefined;
}

const DCE2 = 'dce2';

/** What the matcher inspects: a packet (from the wire or defragmented) or a rebuilt stream segment. */
export interface InspectionItem {
  /** 'packet': a decoded packet; 'stream': a rebuilt TCP segment wrapped in a synthetic packet (origin 'stream'). */
  kind: 'packet' | 'stream';
  packet: Packet;
  flow: Flow | undefined;
  /** to_server when true, to_client when false. */
  fromClient: boolean;
  established: boolean;
  /**
   * For 'packet' items: rules with a fast pattern leave the packet alone. The inline gateway's stream window (the
   * packet is left to the stream), or frag3 turned content detection off for this fragment (spp_frag3.c
   * DisableDetect: only rules without a fast pattern run). Offline it is otherwise false: Snort 2.9.20 evaluates every
   * rule on a packet queued for reassembly too (fpdetect.c, inspect_stream_insert is 1 unless `config detection:
   * no_stream_inserts`), and its session alert list keeps the rebuilt packet from alerting again for the same rule
   * (see decide.ts sessionAlerts).
   */
  streamInserted: boolean;
  /**
   * Which rules see this packet. 'all': every rule. 'decode-only': Snort runs no detection on it (spp_frag3.c: a
   * fragment that completed its datagram), only the rules it evaluates as it decodes the IP header (ip_proto-only
   * rules, decode.c fpEvalIpProtoOnlyRules). 'relative-first': the first fragment of a UDP datagram that it
   * completed: inspected after the datagram with the same timestamp and packet count, every rule option gives the
   * datagram's cached answer (detection_options.c, last_check) but a relative one, which is never cached: only a
   * rule whose first option is relative is evaluated afresh (a cached root returns without reaching the rule's leaf),
   * and one that matched the datagram reaches its cached leaf and alerts no more.
   */
  detection: 'all' | 'decode-only' | 'relative-first';
  /**
   * A fragment, or a datagram rebuilt from fragments: the record of the rules that alerted on the datagram's
   * fragments, which the rebuilt datagram does not alert for again (spp_frag3.c fpAddFragAlert, fpFragAlerted), and
   * of those the datagram matched (for the 'relative-first' fragment that completed it).
   */
  fragAlerts: FragAlerts | undefined;
  /** For 'stream' items: the segment. */
  segment: StreamSegment | undefined;
  /** HTTP buffers parsed from this item's payload (see HttpSession); empty when not HTTP. */
  http: HttpBuffers[];
  /** The DNS question names and TLS server name this item's payload ends (src/app/session.ts); undefined: none. */
  app?: AppBuffers | undefined;
  /** The bytes rules see as the payload when they are not the packet's own (the inline gateway's stream window). */
  payload: Uint8Array | undefined;
  /**
   * Snort runs detection on this packet twice: a TCP data packet queued for reassembly (PKT_STREAM_INSERT) on an
   * http_inspect port, with PAF on (base.conf's paf_max) and no flow depth limit, is inspected by SnortHttpInspect
   * (snort_httpinspect.c, the `ScPafEnabled() && PKT_STREAM_INSERT && !PKT_PDU_TAIL` branch calls Detect(p)) and then
   * by Preprocess (detect.c, `if (do_detect) Detect(p)`), both into the one event queue logged once. The second
   * Detect re-queues only what detection_options.c evaluates again (see rule-tree.ts runTurns `failedAfter`).
   * Undefined: false.
   */
  detectTwice?: boolean;
  /**
   * dcerpc2 runs this rebuilt packet's detection itself, once with file_data set to the data of each SMB2 READ
   * response or WRITE request in it (snort_dce2.c DCE2_FileDetect, src/dce2): `file_data` rules read it, and the fast
   * pattern search looks in it before the payload (fpdetect.c fpEvalHeaderSW); the detections' events share one event
   * queue (decide.ts matchPhase). Undefined: one detection without it.
   */
  fileData?: readonly Uint8Array[];
}

/**
 * The application parsers an item's payload goes through (HTTP, DNS, TLS, dcerpc2), in the order the pipeline makes
 * its items: one set for PacketPipeline and the native front's pipeline (native-pipeline.ts) alike.
 */
export class ItemParsers {
  /** The zlib streams of the flows' compressed HTTP bodies: capped, see InflaterPool. */
  readonly inflaters: InflaterPool;
  /** The DNS and TLS ClientHello readers, and their counts of malformed input. */
  readonly app: AppParsers;
  readonly httpCfg: HttpConfig;
  /** portMap()s: asked about on every TCP packet. */
  readonly httpPorts: Uint8Array;
  readonly smbPorts: Uint8Array;
  /** dcerpc2's counts over the flows (limits hit on hostile SMB). */
  readonly dce2Stats: Dce2Stats = newDce2Stats();

  constructor(opts: PipelineOptions) {
    this.inflaters = opts.http?.inflaters ?? new InflaterPool();
    this.httpCfg = { ...opts.http, inflaters: this.inflaters };
    this.httpPorts = portMap(opts.httpPorts ?? SNORT_HTTP_PORTS);
    this.smbPorts = portMap(opts.smbPorts ?? DCE2_SMB_PORTS);
    this.app = new AppParsers(opts.dnsPorts);
  }

  /** A packet item's application buffers (PacketPipeline.track): `streamInserted` is the table's answer for the packet. */
  packet(item: InspectionItem, p: Packet, flow: Flow | undefined, fromClient: boolean, streamInserted: boolean): void {
    if (flow !== undefined && p.tcp !== undefined && p.payloadLength > 0) {
      // http_inspect leaves a packet queued for reassembly to the rebuilt packet (PAF is active on its ports)
      if (!streamInserted) {
        item.http = this.parseHttp(flow, fromClient, p.payload);
        // (a SYN's data starts one after its sequence number: TCP Fast Open)
        item.app = this.app.tcp(flow, fromClient, p.payload, (p.tcp.flags & TcpFlag.SYN) !== 0 ? (p.tcp.seq + 1) >>> 0 : p.tcp.seq);
      } else item.detectTwice = this.httpPorts[flow.server.port] === 1;
    } else if (p.udp !== undefined && p.payloadLength > 0 && item.detection === 'all' && p.ip?.isFragment !== true) {
      item.app = this.app.udp(p.payload, p.dstPort);
    }
  }

  /** The flow's dcerpc2 session (made on first use). */
  dce2Of(flow: Flow): Dce2SmbSession {
    let d = flow.app.get(DCE2) as Dce2SmbSession | undefined;
    if (d === undefined) {
      d = new Dce2SmbSession(this.dce2Stats);
      flow.app.set(DCE2, d);
    }
    return d;
  }

  private parseHttp(flow: Flow, fromClient: boolean, data: Uint8Array): HttpBuffers[] {
    if (this.httpPorts[flow.server.port] !== 1) return NO_HTTP;
    let h = flow.app.get('http') as HttpSession | undefined;
    if (h === undefined) {
      h = new HttpSession(this.httpCfg);
      flow.app.set('http', h);
    }
    const buffers = fromClient ? h.request(data) : h.response(data);
    if (buffers.length > 0 && showsHttp(buffers)) setAppProto(flow, 'http');
    return buffers;
  }

  /**
   * A flushed segment's item over its rebuilt packet `p`; a 'redecode' marker's is a 'decode-only' packet with the
   * side's addresses (no segment, no application buffers). Made in one object literal either way: a copy of the item
   * by spread had a shape of its own, and the code reading items deoptimized on it.
   */
  streamItem(s: StreamSegment, p: Packet): InspectionItem {
    const redecode = s.reason === 'redecode';
    const http = !redecode;
    const f = s.flow;
    return {
      kind: redecode ? 'packet' : 'stream',
      packet: p,
      flow: f,
      fromClient: s.fromClient,
      established: f.established,
      streamInserted: false,
      detection: redecode ? 'decode-only' : 'all',
      fragAlerts: undefined,
      segment: redecode ? undefined : s,
      http: http ? this.parseHttp(f, s.fromClient, s.data) : NO_HTTP,
      app: http ? this.app.tcp(f, s.fromClient, s.data, s.seq) : undefined,
      payload: undefined,
      detectTwice: false,
      fileData: http && this.smbPorts[f.server.port] === 1 ? this.dce2Of(f).rebuilt(s) : undefined,
    };
  }
}

/** A packet item before its application buffers (ItemParsers.packet fills them). */
export function packetItem(
  p: Packet,
  flow: Flow | undefined,
  fromClient: boolean,
  established: boolean,
  noContent: boolean,
  detection: InspectionItem['detection'],
  fragAlerts: FragAlerts | undefined,
): InspectionItem {
  return {
    kind: 'packet',
    packet: p,
    flow,
    fromClient,
    established,
    streamInserted: noContent,
    detection,
    fragAlerts,
    segment: undefined,
    http: NO_HTTP,
    app: undefined,
    payload: undefined,
    detectTwice: false,
    fileData: undefined,
  };
}

/**
 * decode -> defrag -> flow tracking / reassembly -> HTTP, one captured frame at a time. Each
 * call returns the items to inspect in order: rebuilt segments flushed by the frame first (Snort
 * inspects them before the packet that triggered the flush), then the packet itself. Fragments are
 * returned as packets too (Snort inspects them), and the reassembled datagram follows them.
 * HTTP is parsed from rebuilt segments in directions that are reassembled, else from packets.
 */
export class PacketPipeline {
  readonly decodeStats = new DecodeStats();
  readonly defrag: Defragmenter;
  readonly flows: FlowTable;
  /** The flow table's counts (as NativePipeline.flowStats reads the native front's). */
  get flowStats(): FlowStats {
    return this.flows.stats;
  }
  readonly parsers: ItemParsers;
  readonly inflaters: InflaterPool;
  readonly app: AppParsers;
  readonly dce2Stats: Dce2Stats;
  private readonly decodeOpts: DecodeOptions | undefined;
  /** Flows that left the table during this call, whose HTTP sessions close once their last data is parsed. */
  private ended: Flow[] = [];
  /** advance's list of the segments its expiry flushed (emptied at each call). */
  private readonly expired: StreamSegment[] = [];

  constructor(opts: PipelineOptions = {}) {
    this.decodeOpts = opts.decode;
    this.defrag = new Defragmenter({ ...opts.defrag, decode: opts.defrag?.decode ?? opts.decode });
    const parsers = (this.parsers = new ItemParsers(opts));
    this.inflaters = parsers.inflaters;
    this.app = parsers.app;
    this.dce2Stats = parsers.dce2Stats;
    const httpPorts = parsers.httpPorts;
    const smbPorts = parsers.smbPorts;
    this.flows = new FlowTable({
      // http_inspect's protocol aware flushing (hi_paf.c), on its ports in both directions: an ACK covering an HTTP
      // message flushes it; dcerpc2's on its SMB ports (dce2_paf.c DCE2_SmbPaf), registered with auto_on: each
      // NetBIOS message is flushed, both directions are reassembled
      pafActive: (flow) => httpPorts[flow.server.port] === 1 || smbPorts[flow.server.port] === 1,
      pafAuto: (flow) => smbPorts[flow.server.port] === 1,
      pduLength: (flow, fromClient, data) =>
        smbPorts[flow.server.port] === 1
          ? parsers.dce2Of(flow).pafLength(data)
          : httpPafLength(data, fromClient, !fromClient && (flow.app.get('http') as HttpSession | undefined)?.lastRequestWasHead === true),
      // where a PDU's head can end: SMB's header (at the start, or in junk after a session message header and an SMB
      // identifier), HTTP's blank line
      pduHeadEnd: (flow, data, offset) => (smbPorts[flow.server.port] === 1 ? smbPduHeadIn(data, offset === 0) : hasHeaderEnd(data)),
      pafDeclined: (flow) => smbPorts[flow.server.port] === 1 && (flow.app.get(DCE2) as Dce2SmbSession | undefined)?.noInspect === true,
      ...opts.flow,
    });
    this.flows.onRemove = (flow) => this.ended.push(flow);
  }

  /**
   * Process one captured frame of link type `linktype` (-1: a bare IP datagram). `index`: its place in the capture
   * (kept by the flows it touches; see Flow.lastIndex).
   */
  push(linktype: number, data: Uint8Array, tsSec = 0, tsUsec = 0, index = 0): InspectionItem[] {
    return this.closeEnded(this.packet(this.decodeFrame(linktype, data, tsSec, tsUsec), index));
  }

  private decodeFrame(linktype: number, data: Uint8Array, tsSec: number, tsUsec: number): Packet {
    const p = linktype < 0 ? decodeIpPacket(data, this.decodeStats, this.decodeOpts) : decode(linktype, data, this.decodeStats, this.decodeOpts);
    p.tsSec = tsSec;
    p.tsUsec = tsUsec;
    return p;
  }

  /**
   * A fragment is inspected as Snort 2.9.20 inspects it (spp_frag3.c Frag3Defrag): the datagram it completes first
   * (Frag3Rebuild runs it through detection from inside frag3), then the fragment itself, which a completed datagram
   * leaves uninspected. frag3 turns detection off for it then (do_detect = 0) unless it is the first fragment of a UDP
   * datagram; and that one, inspected after its datagram with the same timestamp and packet count, gets every rule
   * option's answer from the datagram's evaluation (detection_options.c, last_check), so no rule fires on it again.
   * A fragment that completes nothing is inspected with content detection off (DisableDetect: only rules without a
   * fast pattern run), but for the first fragment of a UDP datagram, which Snort decodes as a UDP packet.
   */
  private packet(p: Packet, index: number): InspectionItem[] {
    const out: InspectionItem[] = [];
    const ip = p.ip;
    if (ip === undefined || !ip.isFragment) {
      this.track(p, out, index);
      return out;
    }
    const whole = this.defrag.add(p, this.decodeStats);
    const alerts = this.defrag.lastAlerts;
    if (whole !== undefined) {
      const udpFirst = p.udp !== undefined;
      this.track(udpFirst && ip.version === 4 ? udpFirstRebuilt(p, whole) : whole, out, index, false, 'all', alerts);
      this.track(p, out, index, !udpFirst, udpFirst ? 'relative-first' : 'decode-only', alerts);
      return out;
    }
    this.track(p, out, index, ip.fragOffset !== 0 || (ip.proto !== 17 && ip.mf), 'all', alerts);
    return out;
  }

  /**
   * Time passes without a packet for this pipeline (a sharded replay: another thread's packet of `kind` at `tsSec`):
   * flows of that kind idle for too long time out, as they would on that packet in one flow table.
   */
  advance(kind: 'tcp' | 'udp' | 'icmp' | 'ip', tsSec: number, tsUsec: number): InspectionItem[] {
    // (a sharded replay calls this for every frame of the other shards: one list for all of them)
    const flushed = this.expired;
    // (nearly always empty: a length set calls into V8's runtime even then)
    if (flushed.length !== 0) flushed.length = 0;
    this.flows.expire(tsSec + tsUsec / 1e6, flushed, kind);
    if (flushed.length === 0) return this.closeEnded(NO_ITEMS);
    const out: InspectionItem[] = [];
    this.streamItems(flushed, undefined, out, tsSec, tsUsec);
    return this.closeEnded(out);
  }

  /** End of input: every segment still queued, as items. The flows' HTTP sessions are closed after them. */
  finish(): InspectionItem[] {
    const out: InspectionItem[] = [];
    this.streamItems(this.flows.flushAll(), undefined, out);
    for (const f of this.flows.values()) httpOf(f)?.close();
    return out;
  }

  /**
   * Closes the HTTP sessions of the flows that left the table during this call (timeout, eviction, a new SYN), after
   * their flushed data was parsed: their zlib streams are freed now rather than when the flows are collected.
   */
  private closeEnded(items: InspectionItem[]): InspectionItem[] {
    if (this.ended.length > 0) this.ended = closeSessions(this.ended);
    return items;
  }

  private track(
    p: Packet,
    out: InspectionItem[],
    index: number,
    noContent = false,
    detection: InspectionItem['detection'] = 'all',
    fragAlerts?: FragAlerts,
  ): void {
    const u = this.flows.process(p, undefined, index);
    this.streamItems(u.flushed, p, out);
    const item = packetItem(p, u.flow, u.fromClient, u.established, noContent, detection, fragAlerts);
    this.parsers.packet(item, p, u.flow, u.fromClient, u.streamInserted);
    out.push(item);
  }

  /**
   * Items of flushed segments. A session's cleanup decodes the first queued packet of each side again
   * (snort_stream_tcp.c FlushQueuedSegs runs the grinder on it; the flow table's 'redecode' marker): a 'decode-only'
   * packet with that side's addresses, for the decode-time rules.
   */
  private streamItems(flushed: readonly StreamSegment[], trigger: Packet | undefined, out: InspectionItem[], tsSec?: number, tsUsec?: number): void {
    for (const s of flushed) out.push(this.streamItem(s, trigger, tsSec ?? trigger?.tsSec, tsUsec ?? trigger?.tsUsec));
  }

  /** A flushed segment's item (ItemParsers.streamItem) over the rebuilt packet's datagram. */
  private streamItem(s: StreamSegment, trigger: Packet | undefined, tsSec = trigger?.tsSec, tsUsec = trigger?.tsUsec): InspectionItem {
    const f = s.flow;
    const from = s.fromClient ? f.client : f.server;
    const to = s.fromClient ? f.server : f.client;
    // the header as Snort's _flush_to_seq encodes it: the flags and TTL of the packet that flushed, seq of the data,
    // ack and window of the receiving side
    const data = tcpDatagram(from.ip, to.ip, from.port, to.port, s.seq, s.ack, s.flags, s.data, s.ttl, s.window);
    const p = decodeIpPacket(data, undefined, { verifyChecksums: false });
    p.origin = 'stream';
    // whole seconds (as the alerts print them): a fraction would turn the field into a double for every packet
    p.tsSec = tsSec ?? Math.floor(f.lastSec);
    p.tsUsec = tsUsec ?? 0;
    return this.parsers.streamItem(s, p);
  }
}

/**
 * The datagram Snort 2.9.20 inspects when the first fragment of a UDP datagram completes it: Frag3Rebuild encodes the
 * rebuilt packet from the completing fragment (encode.c Encode_Format), which was decoded down to its UDP header, so
 * that header is kept in front of the reassembled data (UDP_Update sets its length, the IP length and both
 * checksums): the datagram's UDP header and payload become the payload of a UDP packet with the same ports, 8 bytes
 * longer. A Snort bug, copied for the offline replay (whose alerts must be Snort's); the inline gateway inspects the
 * datagram itself.
 */
function udpFirstRebuilt(first: Packet, whole: Packet): Packet {
  const ip = first.ip!;
  const wip = whole.ip!;
  const b = first.data;
  const hlen = ip.headerLength;
  const data = whole.data.subarray(wip.offset + wip.headerLength, wip.offset + wip.totalLength);
  const out = new Uint8Array(hlen + 8 + data.length);
  out.set(b.subarray(ip.offset, ip.offset + hlen), 0);
  out.set(b.subarray(first.udp!.offset, first.udp!.offset + 8), hlen);
  out.set(data, hlen + 8);
  writeU16(out, 2, out.length);
  writeU16(out, 6, 0);
  writeU16(out, hlen + 4, 8 + data.length);
  const p = decodeIpPacket(out, undefined, { verifyChecksums: false });
  fixChecksums(out, p);
  const q = decodeIpPacket(out);
  q.origin = 'defrag';
  q.tsSec = whole.tsSec;
  q.tsUsec = whole.tsUsec;
  return q;
}
