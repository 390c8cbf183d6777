/**
 * The native front's flow table (native/src/honeywall_flow.c) against src/flow/table.ts FlowTable without protocol
 * aware flushing (no `pduLength`: footprint flushing, which is all the C table has yet): the same flow for every
 * packet (named by the capture position that created it), the same direction, newness, `established` and queueing,
 * the same rebuilt segments (their bytes, flags, TTL, sequence and acknowledgement numbers, window and reason) and
 * cleanup records, the same flows removed (timeouts, evictions, restarts), in the same order, and the same figures at
 * the end. Over generated conversations among a few hosts and ports (TCP with any flags and sequence numbers near
 * each other, UDP, ICMP, other protocols, VLAN tags, fragments, times past the idle timeouts) and over whole TCP
 * sessions (handshake or midstream, data both ways, FINs and the last ACK) damaged and interleaved; with small
 * per-kind limits, kinds tracked or not, require_3whs with its grace period, the three overlap policies, reassembled
 * ports none, all or some, and queue and flush limits small enough to be hit.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DCE2_SMB_PORTS, Dce2SmbSession, newDce2Stats } from '../src/dce2/session.js';
import type { Flow } from '../src/flow/flow.js';
import { SNORT_HTTP_PORTS } from '../src/flow/pipeline.js';
import { portMap } from '../src/flow/port-map.js';
import type { StreamPolicy } from '../src/flow/reassembly.js';
import {
  type FlowConfig,
  type FlowUpdate,
  type FlushReason,
  FlowTable,
  STREAM5_DEFAULT_CLIENT_PORTS,
  type StreamSegment,
} from '../src/flow/table.js';
import { HttpSession } from '../src/http/session.js';
import type { Packet } from '../src/packet/packet.js';
import { smbPduHeadIn } from '../src/dce2/smb-paf.js';
import { hasHeaderEnd, httpPafLength } from '../src/http/paf.js';
import { loadEngine } from '../src/native/engine.js';
import { buildIp, type PacketSpec } from '../src/packet/build.js';
import { decode } from '../src/packet/decode.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { svDir } from './helpers/corpus.js';

const engine = loadEngine();
const REASONS: FlushReason[] = ['pdu', 'ack', 'size', 'fin', 'rst', 'timeout', 'evicted', 'end', 'redecode'];
const POLICIES: StreamPolicy[] = ['bsd', 'first', 'last'];

const HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const HOSTS6 = ['2001:db8::1', '2001:db8::2'];
const PORTS = [80, 1234, 5555];
/** Sequence numbers near each other (so that FINs, ACKs and handshakes line up), and a few far ones. */
const SEQS = [1000, 1001, 1002, 2000, 2001, 2002];
const seqNumber = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...SEQS) }, { weight: 1, arbitrary: fc.constantFrom(0xffffffff, 0, 1003, 5000) });
const FLAGS = [0x02, 0x12, 0x10, 0x18, 0x11, 0x01, 0x04, 0x14, 0x19, 0x00, 0x03, 0x06];

/** A conversation: the tuple its packets share (either way round). */
const conversation = fc.record({
  six: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  a: fc.integer({ min: 0, max: 2 }),
  b: fc.integer({ min: 0, max: 2 }),
  sp: fc.constantFrom(...PORTS),
  dp: fc.constantFrom(...PORTS),
  vlan: fc.constantFrom(0, 0, 0, 1, 2),
});

const packet = fc.record({
  conv: fc.nat(),
  reverse: fc.boolean(),
  kind: fc.constantFrom('tcp', 'tcp', 'tcp', 'tcp', 'udp', 'udp', 'icmp', 'ip'),
  flags: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FLAGS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  seq: seqNumber,
  ack: seqNumber,
  payload: fc.integer({ min: 0, max: 3 }),
  icmpType: fc.constantFrom(8, 0, 3, 13),
  icmpId: fc.integer({ min: 0, max: 2 }),
  frag: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
  ttl: fc.integer({ min: 1, max: 255 }),
  gap: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 40 }) }),
  // (often 0: times a whole timeout apart, the boundary of the idle check)
  usec: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 })),
});

type Gen = typeof packet extends fc.Arbitrary<infer T> ? T : never;
type Conv = typeof conversation extends fc.Arbitrary<infer T> ? T : never;
type Config = typeof config extends fc.Arbitrary<infer T> ? T : never;

function frameOf(g: Gen & { bytes?: Uint8Array }, c: Conv): Uint8Array {
  const hosts = c.six ? HOSTS6 : HOSTS;
  const [a, b] = g.reverse ? [hosts[c.b % hosts.length]!, hosts[c.a % hosts.length]!] : [hosts[c.a % hosts.length]!, hosts[c.b % hosts.length]!];
  const [sp, dp] = g.reverse ? [c.dp, c.sp] : [c.sp, c.dp];
  const ip = { src: a, dst: b, ttl: g.ttl, mf: g.frag, fragment: g.frag && c.six, id: 7 };
  const payload = g.bytes ?? Uint8Array.from({ length: g.payload }, (_, i) => (g.seq + g.ttl + i) & 0xff);
  let spec: PacketSpec;
  if (g.kind === 'tcp') spec = { ip, tcp: { sport: sp, dport: dp, flags: g.flags, seq: g.seq, ack: g.ack, window: 100 + g.ttl }, payload };
  else if (g.kind === 'udp') spec = { ip, udp: { sport: sp, dport: dp }, payload };
  else if (g.kind === 'icmp') spec = { ip, icmp: { type: c.six ? 128 : g.icmpType, code: 0, id: g.icmpId, seq: 1 }, payload };
  else spec = { ip, proto: 99, payload };
  const datagram = buildIp(spec);
  const type = c.six ? [0x86, 0xdd] : [0x08, 0x00];
  const vlan = c.vlan > 0 ? [0x81, 0x00, 0x00, c.vlan] : [];
  return Uint8Array.from([...new Array<number>(12).fill(2), ...vlan, ...type, ...datagram]);
}

/** Which server ports' data is reassembled (FlowConfig.reassembleClientPorts / reassembleServerPorts). */
const ports = fc.oneof(
  { weight: 1, arbitrary: fc.constant('none' as const) },
  { weight: 2, arbitrary: fc.constant('all' as const) },
  { weight: 2, arbitrary: fc.subarray(PORTS, { minLength: 1 }) },
);
/** Mostly the default, sometimes a value small enough to be hit. */
const mostly = (usual: number, ...small: number[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 2, arbitrary: fc.constantFrom(...small) });

const config = fc.record({
  track: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()).map(([t, u, i, p]) => [t || u, u, i, p]),
  max: fc.tuple(...[0, 1, 2, 3].map(() => fc.integer({ min: 1, max: 4 }))),
  timeout: fc.tuple(...[0, 1, 2, 3].map(() => fc.constantFrom(5, 10, 30))),
  requireHandshake: fc.boolean(),
  grace: fc.constantFrom(0, 5, 60),
  policy: fc.constantFrom(0, 1, 2),
  clientPorts: ports,
  serverPorts: ports,
  maxQueuedBytes: mostly(1048576, 40, 8),
  maxQueuedSegs: mostly(2621, 6, 2),
  flushSize: mostly(65495, 16, 4),
  paf: fc.boolean(),
  httpPorts: fc.subarray(PORTS),
  smbPorts: fc.subarray(PORTS),
});

function segmentsOf(segs: readonly StreamSegment[]): number[] {
  const r: number[] = [];
  for (const s of segs) {
    r.push(s.flow.createdIndex, +s.fromClient, REASONS.indexOf(s.reason), s.flags, s.ttl, s.seq | 0, s.ack | 0, s.window | 0);
    r.push(+s.pduHead, s.data.length, ...s.data);
  }
  return r;
}

/**
 * The pipeline's protocol aware flushing (src/flow/pipeline.ts): its pduLength, pduHeadEnd, pafDeclined, pafActive
 * and pafAuto, reading the flow's HTTP and dcerpc2 sessions as it does (the last request a HEAD, dcerpc2 giving the
 * session up), which `parsersAfter` feeds.
 */
function pafOf(http: Uint8Array, smb: Uint8Array): Partial<FlowConfig> {
  return {
    pafActive: (flow) => http[flow.server.port] === 1 || smb[flow.server.port] === 1,
    pafAuto: (flow) => smb[flow.server.port] === 1,
    pduLength: (flow, fromClient, data) =>
      smb[flow.server.port] === 1
        ? dce2Of(flow).pafLength(data)
        : httpPafLength(data, fromClient, !fromClient && (flow.app.get('http') as HttpSession | undefined)?.lastRequestWasHead === true),
    pduHeadEnd: (flow, data, offset) => (smb[flow.server.port] === 1 ? smbPduHeadIn(data, offset === 0) : hasHeaderEnd(data)),
    pafDeclined: (flow) => smb[flow.server.port] === 1 && (flow.app.get('dce2') as Dce2SmbSession | undefined)?.noInspect === true,
  };
}

function dce2Of(flow: Flow): Dce2SmbSession {
  let d = flow.app.get('dce2') as Dce2SmbSession | undefined;
  if (d === undefined) flow.app.set('dce2', (d = new Dce2SmbSession(newDce2Stats())));
  return d;
}

/**
 * What the pipeline gives the HTTP and dcerpc2 parsers after the table's answer to a packet (pipeline.ts track and
 * streamItem, in that order): each flushed segment's data, then the packet's payload when it was not queued.
 */
function parsersAfter(http: Uint8Array, smb: Uint8Array, p: Packet, u: FlowUpdate): void {
  const parse = (flow: Flow, fromClient: boolean, data: Uint8Array) => {
    if (http[flow.server.port] !== 1) return;
    let h = flow.app.get('http') as HttpSession | undefined;
    if (h === undefined) flow.app.set('http', (h = new HttpSession()));
    if (fromClient) h.request(data);
    else h.response(data);
  };
  for (const s of u.flushed) {
    if (s.reason === 'redecode') continue;
    parse(s.flow, s.fromClient, s.data);
    if (smb[s.flow.server.port] === 1) dce2Of(s.flow).rebuilt(s);
  }
  if (u.flow !== undefined && p.tcp !== undefined && p.payloadLength > 0 && !u.streamInserted) parse(u.flow, u.fromClient, p.payload);
}

interface Counts {
  flows: number;
  terminated: number;
  redecoded: number;
  /** timeouts, evictions, restarts */
  removed: number[];
  /** segments with data, by FlushReason */
  data: Record<string, number>;
}

/** Both tables over one sequence of packets: the same answer to every packet, the same cleanup at the end. */
function compare(c: Config, convs: Conv[], packets: Gen[], counts: Counts): void {
  const httpMap = portMap(c.httpPorts);
  const smbMap = portMap(c.smbPorts);
  const js = new FlowTable({
    trackTcp: c.track[0],
    trackUdp: c.track[1],
    trackIcmp: c.track[2],
    trackIp: c.track[3],
    maxTcp: c.max[0],
    maxUdp: c.max[1],
    maxIcmp: c.max[2],
    maxIp: c.max[3],
    tcpTimeout: c.timeout[0],
    udpTimeout: c.timeout[1],
    icmpTimeout: c.timeout[2],
    ipTimeout: c.timeout[3],
    requireHandshake: c.requireHandshake,
    handshakeGrace: c.grace,
    policy: POLICIES[c.policy],
    reassembleClientPorts: c.clientPorts,
    reassembleServerPorts: c.serverPorts,
    maxQueuedBytes: c.maxQueuedBytes,
    maxQueuedSegs: c.maxQueuedSegs,
    flushSize: c.flushSize,
    ...(c.paf ? pafOf(httpMap, smbMap) : {}),
  });
  let gone: number[] = [];
  js.onRemove = (f, _segs, reason) => gone.push(f.createdIndex, REASONS.indexOf(reason));
  const native = engine.flowTableOpen(
    Float64Array.from([
      ...c.track.map(Number),
      ...c.max,
      ...c.timeout,
      c.requireHandshake ? 1 : 0,
      c.grace,
      c.policy,
      c.maxQueuedBytes,
      c.maxQueuedSegs,
      c.flushSize,
      c.clientPorts === 'all' ? 1 : 0,
      c.serverPorts === 'all' ? 1 : 0,
      c.paf ? 1 : 0,
    ]),
    Array.isArray(c.clientPorts) ? portMap(c.clientPorts) : undefined,
    Array.isArray(c.serverPorts) ? portMap(c.serverPorts) : undefined,
    httpMap,
    smbMap,
  );
  const kinds = [REASONS.indexOf('timeout'), REASONS.indexOf('evicted'), REASONS.indexOf('end')];
  let sec = 1_600_000_000;
  packets.forEach((g, index) => {
    sec += g.gap;
    const frame = frameOf(g, convs[g.conv % convs.length]!);
    const p = decode(1, frame, undefined, { verifyChecksums: false });
    p.tsSec = sec;
    p.tsUsec = g.usec;
    gone = [];
    const u = js.process(p, p.tsSec + p.tsUsec / 1e6, index);
    if (c.paf) parsersAfter(httpMap, smbMap, p, u);
    const want = [
      u.flow === undefined ? -1 : u.flow.createdIndex,
      +u.fromClient,
      +u.isNew,
      +u.established,
      +u.streamInserted,
      u.flushed.length,
      gone.length / 2,
      ...segmentsOf(u.flushed),
      ...gone,
    ];
    const got = Array.from(engine.flowTableProcess(native, 1, frame, sec, g.usec, index));
    expect({ index, got }).toEqual({ index, got: want });
    if (u.isNew) counts.flows++;
    if (u.flow?.terminated === true) counts.terminated++;
    for (const x of u.flushed) {
      if (x.reason === 'redecode') counts.redecoded++;
      else counts.data[x.reason] = (counts.data[x.reason] ?? 0) + 1;
    }
    for (let k = 1; k < gone.length; k += 2) counts.removed[kinds.indexOf(gone[k]!)]!++;
  });
  const end = js.flushAll();
  for (const x of end) if (x.reason !== 'redecode') counts.data.end = (counts.data.end ?? 0) + 1;
  const s = js.stats;
  const want = [s.created.tcp, s.created.udp, s.created.icmp, s.created.ip, s.timedOut, s.evicted, s.noSession, s.flushedSegments, s.flushedBytes];
  want.push(end.length, ...segmentsOf(end));
  expect(Array.from(engine.flowTableFinish(native))).toEqual(want);
}

const enc = (t: string) => Uint8Array.from(t, (ch) => ch.charCodeAt(0) & 0xff);
const nbss = (type: number, id: string, body: number) => [
  type,
  0,
  (body + 4) >> 8,
  (body + 4) & 0xff,
  ...enc(id),
  ...new Array<number>(body).fill(0x41),
];

/** What a client sends: HTTP requests of every shape PAF tells apart, SMB messages, and bytes that are neither. */
const CLIENT_MESSAGES = [
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
  'POST /p HTTP/1.0\r\ncontent-length :\xa0 12 \r\n\r\nhello world!',
  'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'POST /c HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n \xa0a;x\r\n0123456789\r\n0\r\nTrailer: y\r\n\r\n',
  'HEAD / HTTP/1.0\r\n\r\n',
  'GET /x\r\n\r\n',
  'GET /y HTTP/1.1\nContent-Length: 3x\n\nabc',
  'PUT\v/z HTTP/1.1\r\n\r\n',
  '\x16\x03\x01\x00\x05hello',
].map(enc);
/** What a server sends. */
const SERVER_MESSAGES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 200 OK\r\n\r\nto the close',
  'HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\nzz',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 200\r\n\r\n',
  'HTTP/1.x 200 OK\r\n\r\n',
  'XTTP/1.1 200 OK\r\n\r\n',
  'HTTP/1.1 301 Moved\r\nContent-Length: 99999999999999999999\r\n\r\n',
].map(enc);
const SMB_MESSAGES = [
  Uint8Array.from(nbss(0x00, '\xffSMB', 20)),
  Uint8Array.from(nbss(0x00, '\xfeSMB', 40)),
  Uint8Array.from([0x85, 0, 0, 0]),
  Uint8Array.from([1, 2, 3, ...nbss(0x00, '\xffSMB', 10)]),
  Uint8Array.from(nbss(0x00, '\xffSMB', 300)),
  Uint8Array.from([0x00, 0x02, 0x00, 0x10, ...enc('\xffSMB'), 0, 0, 0, 0]),
  // an SMB2 message of 131,000 bytes announced: its data past paf_max is flushed before it ends
  Uint8Array.from([0x00, 0x01, 0xff, 0xb8, ...enc('\xfeSMB')]),
  Uint8Array.from([0x83, 0, 0, 1, 0x8f]),
];

/** One side's bytes: a few messages of its kind, one byte of them sometimes changed. */
function appStream(messages: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.array(fc.oneof(fc.constantFrom(...messages), fc.constantFrom(...SMB_MESSAGES)), { minLength: 1, maxLength: 4 }),
      fc.option(fc.tuple(fc.nat(), fc.nat(255))),
    )
    .map(([parts, flip]) => {
      const b = Uint8Array.from(parts.flatMap((p) => [...p]));
      if (flip !== null) b[flip[0] % b.length] = flip[1];
      return b;
    });
}

/** A generated packet with the bytes it carries (when it carries given ones). */
type Scripted = Omit<Gen, 'gap' | 'usec'> & { bytes?: Uint8Array };

/** A TCP conversation written packet by packet: each carries its sender's next sequence number and the peer's as its ack. */
class TcpScript {
  readonly out: Scripted[] = [];
  /** The client's and the server's next sequence numbers. */
  private readonly next: number[];

  constructor(
    isnC: number,
    isnS: number,
    private readonly conv = 0,
  ) {
    this.next = [isnC, isnS];
  }

  send(fromServer: boolean, flags: number, bytes?: Uint8Array): void {
    const n = bytes?.length ?? 0;
    const me = fromServer ? 1 : 0;
    const base = { kind: 'tcp', icmpType: 8, icmpId: 0, frag: false, ttl: 64, conv: this.conv } as const;
    this.out.push({ ...base, reverse: fromServer, flags, seq: this.next[me]!, ack: this.next[1 - me]!, payload: n, bytes });
    this.next[me] = (this.next[me]! + n + (flags & 0x03 ? 1 : 0)) >>> 0;
  }

  /** A side's sequence numbers moved on by n with nothing sent: a hole. */
  skip(fromServer: boolean, n: number): void {
    const me = fromServer ? 1 : 0;
    this.next[me] = (this.next[me]! + n) >>> 0;
  }
}

/**
 * A TCP session as a stack sends it: handshake (or none: picked up midstream), data both ways with their ACKs, FINs
 * and the last ACK; then damaged as a network and an attacker damage it: packets lost, sent twice, swapped, their
 * flags changed.
 */
const session = fc
  .record({
    isnC: seqNumber,
    isnS: seqNumber,
    midstream: fc.boolean(),
    // (sizes of 8: the fewest bytes a PDU length is kept from; 2,000-9,000: messages past paf_max, 16,000 bytes)
    data: fc.array(
      fc.tuple(
        fc.boolean(),
        fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
          { weight: 1, arbitrary: fc.constant(8) },
          { weight: 3, arbitrary: fc.integer({ min: 8, max: 40 }) },
          { weight: 3, arbitrary: fc.integer({ min: 60, max: 260 }) },
          { weight: 1, arbitrary: fc.integer({ min: 2000, max: 9000 }) },
        ),
      ),
      { maxLength: 8 },
    ),
    clientApp: appStream(CLIENT_MESSAGES),
    serverApp: appStream(SERVER_MESSAGES),
    serverFinFirst: fc.boolean(),
    lastAck: fc.boolean(),
    damage: fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'twice', 'swap', 'flags'), fc.constantFrom(...FLAGS)), { maxLength: 3 }),
  })
  .map((x) => {
    const script = new TcpScript(x.isnC, x.isnS);
    const out = script.out;
    // where each side is in its application bytes (past their end: filler)
    const at = [0, 0];
    const next = (fromServer: boolean, n: number) => {
      const app = fromServer ? x.serverApp : x.clientApp;
      const k = fromServer ? 1 : 0;
      const b = Uint8Array.from({ length: n }, (_, i) => app[at[k]! + i] ?? 0x2e);
      at[k]! += n;
      return b;
    };
    const send = (fromServer: boolean, flags: number, payload: number) =>
      script.send(fromServer, flags, payload > 0 ? next(fromServer, payload) : undefined);
    if (!x.midstream) {
      send(false, 0x02, 0);
      send(true, 0x12, 0);
      send(false, 0x10, 0);
    }
    for (const [fromServer, n] of x.data) {
      send(fromServer, 0x18, n);
      send(!fromServer, 0x10, 0);
    }
    send(x.serverFinFirst, 0x11, 0);
    send(!x.serverFinFirst, 0x11, 0);
    if (x.lastAck) send(x.serverFinFirst, 0x10, 0);
    for (const [at, what, flags] of x.damage) {
      const i = at % out.length;
      if (what === 'drop') out.splice(i, 1);
      else if (what === 'twice') out.splice(i, 0, out[i]!);
      else if (what === 'swap' && i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      else if (what === 'flags') out[i] = { ...out[i]!, flags };
      if (out.length === 0) break;
    }
    return out;
  });

/** An SMB transfer larger than paf_max: what dcerpc2's PAF flushes before the message ends. */
const bigTransfer = fc
  .record({
    isnC: seqNumber,
    isnS: seqNumber,
    // (4,000 four times: exactly paf_max acked)
    sizes: fc.array(fc.oneof(fc.integer({ min: 2000, max: 9000 }), fc.constant(4000)), { minLength: 2, maxLength: 10 }),
    head: fc.constantFrom(
      [0x00, 0x01, 0xff, 0xb8, ...enc('\xfeSMB')],
      [0x00, 0x00, 0x4e, 0x20, ...enc('\xffSMB')],
      [0x00, 0x00, 0x75, 0x30, ...enc('\xfeSMB')],
      [0x00, 0x00, 0x10, 0x00, ...enc('\xffSMB')],
      [0x00, 0x00, 0x00, 0x10],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ),
    ackEvery: fc.integer({ min: 1, max: 3 }),
  })
  .map((x) => {
    const script = new TcpScript(x.isnC, x.isnS);
    const send = (fromServer: boolean, flags: number, bytes?: Uint8Array) => script.send(fromServer, flags, bytes);
    send(false, 0x02);
    send(true, 0x12);
    send(false, 0x10);
    x.sizes.forEach((n, k) => {
      const b = new Uint8Array(n).fill(0x41 + (k % 26));
      if (k === 0) b.set(x.head.slice(0, n));
      send(false, 0x18, b);
      if (k % x.ackEvery === 0 || k === x.sizes.length - 1) send(true, 0x10);
    });
    send(false, 0x11);
    send(true, 0x11);
    send(false, 0x10);
    return script.out;
  });

/**
 * Request and response exchanges on an HTTP or SMB port, each message in one to three segments acked by the peer: a
 * HEAD request's response with a Content-Length ends with its headers (the HTTP session's last request), and SMB
 * data that does not follow on from the side's last rebuilt packet (a sequence number moved on, a server speaking
 * first) makes dcerpc2 give the session up (its PAF aborts).
 */
const exchanges = fc
  .record({
    isnC: seqNumber,
    isnS: seqNumber,
    smb: fc.boolean(),
    serverFirst: fc.boolean(),
    rounds: fc.array(
      fc.record({
        request: fc.constantFrom(
          'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n',
          'GET / HTTP/1.1\r\n\r\n',
          'HEAD /x HTTP/1.0\r\n\r\nGET /y HTTP/1.0\r\n\r\n',
          'GET /y HTTP/1.0\r\n\r\nHEAD /x HTTP/1.0\r\n\r\n',
          'POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc',
        ),
        response: fc.constantFrom(
          'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n',
          'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody',
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
        ),
        smbSizes: fc.tuple(fc.integer({ min: 4, max: 60 }), fc.integer({ min: 4, max: 60 })),
        cuts: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        jump: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map((x) => {
    const script = new TcpScript(x.isnC, x.isnS, x.smb ? 1 : 0);
    const send = (fromServer: boolean, flags: number, bytes?: Uint8Array) => script.send(fromServer, flags, bytes);
    const message = (fromServer: boolean, m: Uint8Array, cuts: number) => {
      const step = Math.max(1, Math.ceil(m.length / cuts));
      for (let i = 0; i < m.length; i += step) {
        send(fromServer, 0x18, m.subarray(i, i + step));
        send(!fromServer, 0x10);
      }
    };
    send(false, 0x02);
    send(true, 0x12);
    send(false, 0x10);
    for (const r of x.rounds) {
      const smbMessage = (n: number) => Uint8Array.from(nbss(0x00, '\xfeSMB', n));
      const req = x.smb ? smbMessage(r.smbSizes[0]) : enc(r.request);
      const res = x.smb ? smbMessage(r.smbSizes[1]) : enc(r.response);
      if (x.serverFirst) message(true, res, r.cuts[1]);
      message(false, req, r.cuts[0]);
      if (!x.serverFirst) message(true, res, r.cuts[1]);
      // a hole in the client's sequence numbers: what follows does not follow on
      script.skip(false, r.jump);
    }
    send(false, 0x11);
    send(true, 0x11);
    send(false, 0x10);
    return script.out;
  });

/** The pipeline's flushing on port 80 (HTTP) and 5555 (SMB), limits out of the way; `ports`: what else is reassembled. */
function pipelineLike(ports: 'none' | 'all'): Config {
  return {
    track: [true, true, false, false],
    max: [100, 100, 100, 100],
    timeout: [30, 30, 30, 30],
    requireHandshake: false,
    grace: 0,
    policy: 0,
    clientPorts: ports,
    serverPorts: ports,
    maxQueuedBytes: 1048576,
    maxQueuedSegs: 2621,
    flushSize: 65495,
    paf: true,
    httpPorts: [80],
    smbPorts: [5555],
  };
}

describe('the native flow table (honeywall_flow.c)', () => {
  it('tracks generated conversations as FlowTable does', () => {
    const counts: Counts = { flows: 0, terminated: 0, redecoded: 0, removed: [0, 0, 0], data: {} };
    fc.assert(
      fc.property(
        config,
        fc.array(conversation, { minLength: 1, maxLength: 5 }),
        fc.array(packet, { minLength: 1, maxLength: 80 }),
        (c, convs, packets) => compare(c, convs, packets, counts),
      ),
      { numRuns: 3000 },
    );
    // the generator reaches what is compared: flows made, timed out, evicted, restarted (a new SYN on a closed session),
    // and cleanups that decode a packet again
    expect(counts.flows).toBeGreaterThan(3000);
    expect(counts.removed[0]).toBeGreaterThan(300);
    expect(counts.removed[1]).toBeGreaterThan(150);
    expect(counts.removed[2]).toBeGreaterThan(15);
    expect(counts.redecoded).toBeGreaterThan(250);
  });

  it('tracks whole TCP sessions, damaged, and packets between them, as FlowTable does', () => {
    const counts: Counts = { flows: 0, terminated: 0, redecoded: 0, removed: [0, 0, 0], data: {} };
    fc.assert(
      fc.property(
        config,
        fc.array(conversation, { minLength: 1, maxLength: 3 }),
        fc.array(session, { minLength: 1, maxLength: 3 }),
        fc.array(packet, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 }))), {
          minLength: 60,
          maxLength: 60,
        }),
        (c, convs, sessions, noise, order, times) => {
          // the sessions' packets interleaved in a random order (each session's own order kept), the noise among them
          const queues = sessions.map((s, k) => s.map((g) => ({ ...g, conv: k })));
          queues.push(noise.map((g) => ({ ...g })));
          const packets: Gen[] = [];
          for (let i = 0; queues.some((q) => q.length > 0); i++) {
            const live = queues.filter((q) => q.length > 0);
            const g = live[(order[i % Math.max(1, order.length)] ?? 0) % live.length]!.shift()!;
            const [gap, usec] = times[packets.length % times.length]!;
            packets.push({ ...g, gap, usec } as Gen);
          }
          compare({ ...c, track: [true, c.track[1]!, c.track[2]!, c.track[3]!] }, convs, packets, counts);
        },
      ),
      { numRuns: 1500 },
    );
    expect(counts.terminated).toBeGreaterThan(150);
    // rebuilt data of every kind of flush: whole messages (PAF), ACKs past the footprint flush point, the size limit,
    // FINs, RSTs, timeouts, evictions, the end of the capture
    for (const reason of ['pdu', 'ack', 'size', 'fin', 'rst', 'timeout', 'evicted', 'end'])
      expect(counts.data[reason] ?? 0, reason).toBeGreaterThan(25);
    expect(counts.removed[2]).toBeGreaterThan(15);
    expect(counts.redecoded).toBeGreaterThan(150);
  });

  it('flushes an SMB message larger than paf_max as FlowTable does', () => {
    const counts: Counts = { flows: 0, terminated: 0, redecoded: 0, removed: [0, 0, 0], data: {} };
    const c = pipelineLike('none');
    const smb: Conv = { six: false, a: 0, b: 1, sp: 1234, dp: 5555, vlan: 0 };
    fc.assert(
      fc.property(bigTransfer, (packets) =>
        compare(
          c,
          [smb],
          packets.map((g) => ({ ...g, gap: 0, usec: 0 }) as Gen),
          counts,
        ),
      ),
      { numRuns: 100 },
    );
    // parts of messages flushed at paf_max ('size'), whole ones ('pdu')
    expect(counts.data.size ?? 0).toBeGreaterThan(30);
    expect(counts.data.pdu ?? 0).toBeGreaterThan(5);
  });

  it.skipIf(!existsSync(join(svDir, 'tests')))('tracks every suricata-verify capture as FlowTable does, with the pipeline’s flushing', () => {
    const http = portMap(SNORT_HTTP_PORTS);
    const smb = portMap(DCE2_SMB_PORTS);
    let frames = 0;
    let segments = 0;
    for (const test of readdirSync(join(svDir, 'tests')).sort()) {
      const dir = join(svDir, 'tests', test);
      for (const f of readdirSync(dir).sort()) {
        if (!f.endsWith('.pcap') && !f.endsWith('.pcapng')) continue;
        const { records } = readCaptureAll(readFileSync(join(dir, f)), f);
        const js = new FlowTable(pafOf(http, smb));
        let gone: number[] = [];
        js.onRemove = (fl, _segs, reason) => gone.push(fl.createdIndex, REASONS.indexOf(reason));
        const config = [1, 1, 0, 0, 262144, 131072, 65536, 16384, 30, 30, 30, 30, 0, 0, 0, 1048576, 2621, 65495, 0, 0, 1];
        const native = engine.flowTableOpen(Float64Array.from(config), portMap(STREAM5_DEFAULT_CLIENT_PORTS), portMap([]), http, smb);
        records.forEach((r, index) => {
          const p = decode(r.linktype, r.data, undefined, { verifyChecksums: false });
          p.tsSec = r.tsSec;
          p.tsUsec = r.tsUsec;
          gone = [];
          const u = js.process(p, p.tsSec + p.tsUsec / 1e6, index);
          parsersAfter(http, smb, p, u);
          const want = [u.flow?.createdIndex ?? -1, +u.fromClient, +u.isNew, +u.established, +u.streamInserted, u.flushed.length, gone.length / 2];
          want.push(...segmentsOf(u.flushed), ...gone);
          const got = Array.from(engine.flowTableProcess(native, r.linktype, r.data, r.tsSec, r.tsUsec, index));
          if (got.join() !== want.join()) expect({ capture: `${test}/${f}`, index, got }).toEqual({ capture: `${test}/${f}`, index, got: want });
          frames++;
          segments += u.flushed.length;
        });
        const end = js.flushAll();
        const s = js.stats;
        const want = [
          s.created.tcp,
          s.created.udp,
          s.created.icmp,
          s.created.ip,
          s.timedOut,
          s.evicted,
          s.noSession,
          s.flushedSegments,
          s.flushedBytes,
        ];
        want.push(end.length, ...segmentsOf(end));
        expect({ capture: `${test}/${f}`, end: Array.from(engine.flowTableFinish(native)) }).toEqual({ capture: `${test}/${f}`, end: want });
      }
    }
    expect(frames).toBeGreaterThan(3000);
    expect(segments).toBeGreaterThan(50);
  });

  it('flushes by what the HTTP and dcerpc2 sessions saw as FlowTable with the pipeline does', () => {
    const counts: Counts = { flows: 0, terminated: 0, redecoded: 0, removed: [0, 0, 0], data: {} };
    const c = pipelineLike('all');
    const convs: Conv[] = [
      { six: false, a: 0, b: 1, sp: 1234, dp: 80, vlan: 0 },
      { six: false, a: 0, b: 1, sp: 1234, dp: 5555, vlan: 0 },
    ];
    fc.assert(
      fc.property(exchanges, (packets) =>
        compare(
          c,
          convs,
          packets.map((g) => ({ ...g, gap: 0, usec: 0 }) as Gen),
          counts,
        ),
      ),
      { numRuns: 1500 },
    );
    expect(counts.data.pdu ?? 0).toBeGreaterThan(1000);
  });
});
