/**
 * The inline gateway's packet path (snort_inline successor), one queue's worth: each queued packet, already decoded
 * once by the caller, goes through fragment reassembly, the flow table and, for TCP, the stream of its direction,
 * then the matcher; decisions (accept, drop, accept rewritten) come back for that packet and for any packet held
 * earlier that it released.
 *
 * TCP is inspected as a stream, in order, with each packet: its new bytes are appended to its direction's stream,
 * the streaming prefilter scans just those bytes (a fast pattern that spans segments is found when the segment
 * completing it arrives), and the rules run over the stream window that ends with them (the current HTTP message,
 * else the last 16,000 bytes). A rule fires when the window matches it and did not without the packet's bytes, so
 * the packet that completes an attack is the one dropped, and nothing of it has left before. Out-of-order segments
 * are held (no verdict yet) until the gap fills; segments overlapping earlier data with different bytes are
 * dropped and logged; IP fragments are held until their datagram is whole, inspected as one, and all get its
 * verdict. Rules without a fast pattern (header rules: flags, dsize, ...) run on each packet itself.
 *
 * One direction only: the firewall queues what the honeypots send, never what comes in, so a server's SYN-ACK is
 * never seen; before the first non-SYN packet of a session the flow tracker is fed the reply it could not see (a
 * SYN-ACK if it saw the SYN, else an ACK: a midstream pickup), uninspected, so `flow:established` works.
 */
import { FlowTable, type FlowConfig } from '../flow/table.js';
import { setAppProto, type Flow } from '../flow/flow.js';
import { flowKey } from '../flow/key.js';
import { SNORT_HTTP_PORTS, type InspectionItem } from '../flow/pipeline.js';
import { httpMessageLength } from '../http/paf.js';
import { HttpSession, showsHttp, type HttpBuffers } from '../http/session.js';
import { AppParsers, type AppBuffers } from '../app/session.js';
import type { MatchEvent } from '../match/decide.js';
import type { Matcher } from '../match/engine.js';
import type { RulePlan } from '../match/plan.js';
import type { LoadedGroup } from '../match/prefilter.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import { buildIp } from '../packet/build.js';
import { formatIp } from '../packet/bytes.js';
import { decodeIpPacket } from '../packet/decode.js';
import { Defragmenter, fragmentKey } from '../packet/defrag.js';
import type { Packet } from '../packet/packet.js';
import { TcpFlag } from '../packet/types.js';
import { STREAM_EVENTS, streamEvent, type StreamEventName } from './events.js';
import { InlineStream, WINDOW_MAX } from './stream.js';

export type InlineReason =
  | 'clean'
  | 'alert'
  | 'drop'
  | 'sdrop'
  | 'reject'
  | 'replace'
  | 'blocked-session'
  | 'malformed'
  | 'duplicate'
  | StreamEventName;

export interface InlineDecision<H> {
  handle: H;
  /** The packet the verdict is for (a fragment's verdict names the whole datagram's packet). */
  packet: Packet;
  verdict: 'accept' | 'drop';
  /** The packet's bytes were rewritten (`replace`): send `packet.data` with the verdict (checksums to fix). */
  replaced: boolean;
  /** The strongest blocking action that decided a drop. */
  action: 'drop' | 'sdrop' | 'reject' | undefined;
  /** Rule events (sdrop ones included: the caller does not log them) and the gateway's own stream events. */
  events: MatchEvent[];
  reason: InlineReason;
  /** The session the packet belongs to, when its events came from the rules (their EVE `flow_id` and `app_proto`). */
  flow?: Flow;
}

export interface InlineOptions {
  /** How long a held segment or fragment may wait for what it needs (ms; default 2 s). */
  holdMs?: number;
  /** Packets held at once, all flows together (default 1024, well under the kernel queue's length). */
  maxHeld?: number;
  /** Server ports whose streams are cut at HTTP message boundaries (default Snort's HTTP ports). */
  httpPorts?: readonly number[];
  /** Server ports whose traffic is read as DNS, UDP and TCP (default 53; src/app/session.ts). */
  dnsPorts?: readonly number[];
  /**
   * Gives a packet the inspector keeps past the `push` that brought it (a segment held for a gap, a fragment held for
   * its datagram) its own bytes: the gateway's queue hands over views of a buffer that its next batch overwrites
   * (nf-binding.ts), so the processor returns a copy decoded as the original was. Default: the packet itself.
   */
  keep?: (p: Packet) => Packet;
  flow?: FlowConfig;
}

export class InlineStats {
  packets = 0;
  streamBytes = 0;
  held = 0;
  released = 0;
  duplicates = 0;
  rewrittenDuplicates = 0;
  fragmentsHeld = 0;
  streamRestarts = 0;
  /** Segments with more new bytes than one window piece (GSO/GRO super-packets), inspected piece by piece. */
  largeSegments = 0;
  readonly events: Record<StreamEventName, number> = {
    'overlap-conflict': 0,
    'stale-retransmission': 0,
    'hold-limit': 0,
    'hold-expired': 0,
    'fragment-incomplete': 0,
    truncated: 0,
    'gso-not-tcp': 0,
  };
}

interface FragmentEntry<H> {
  held: { handle: H; packet: Packet; since: number }[];
}

const SENTINEL = Symbol('reassembled datagram');
type Handle<H> = H | typeof SENTINEL;

export class InlineInspector<H> {
  readonly flows: FlowTable;
  readonly defrag = new Defragmenter({ decode: { verifyChecksums: false } });
  readonly stats = new InlineStats();
  private readonly engine: NativeEngine;
  private readonly holdMs: number;
  private readonly maxHeld: number;
  private readonly httpPorts: Set<number>;
  /** The DNS and TLS ClientHello readers (src/app), fed a stream's bytes in order as they pass, and their counts. */
  readonly app: AppParsers;
  private readonly keep: (p: Packet) => Packet;
  private readonly fragments = new Map<string, FragmentEntry<H>>();
  /** Streams holding segments (checked by expire). */
  private readonly holding = new Set<InlineStream<Handle<H>>>();
  private heldTotal = 0;
  /** Sessions blocked under the previous rules (a reload), blocked again when they show up. */
  private carried = new Set<string>();
  private readonly payloadGroup: LoadedGroup | undefined;
  private readonly hitsOut: Int32Array;
  private readonly patternLength: Int32Array;

  constructor(
    readonly matcher: Matcher,
    opts: InlineOptions = {},
  ) {
    this.engine = loadEngine();
    this.holdMs = opts.holdMs ?? 2000;
    this.maxHeld = opts.maxHeld ?? 1024;
    this.httpPorts = new Set(opts.httpPorts ?? SNORT_HTTP_PORTS);
    this.app = new AppParsers(opts.dnsPorts);
    this.keep = opts.keep ?? ((p) => p);
    // the gateway tracks streams itself (InlineStream); the flow table only keeps sessions and their state
    this.flows = new FlowTable({ ...opts.flow, reassembleClientPorts: 'none', reassembleServerPorts: 'none' });
    this.flows.onRemove = (flow) => this.forget(flow);
    this.payloadGroup = matcher.tcpPayloadGroup();
    const g = this.payloadGroup?.group;
    const patterns = g ? g.nocase.length : 0;
    // a pair (id, end) per pattern, each id at most once a scan, and one pair more: a scan fills the array only when
    // it was cut short (the addon stops at the last pair)
    this.hitsOut = new Int32Array(2 * patterns + 2);
    this.patternLength = new Int32Array(patterns);
    for (let i = 0; i < patterns; i++) this.patternLength[i] = g!.patternStart[i + 1]! - g!.patternStart[i]!;
  }

  /** Packets held now (segments and fragments). */
  get heldNow(): number {
    return this.heldTotal;
  }

  /** One queued packet, decoded (`p.data` is the IP datagram, which a rewrite changes in place). */
  push(p: Packet, handle: H, now: number): InlineDecision<H>[] {
    this.stats.packets++;
    const out: InlineDecision<Handle<H>>[] = [];
    if (p.ip === undefined) {
      out.push(decision(handle, p, 'accept', 'malformed'));
    } else if (p.ip.isFragment) {
      this.fragment(p, handle, now, out);
    } else {
      this.packet(p, handle, now, out);
    }
    return out as InlineDecision<H>[];
  }

  /** Held packets whose wait is over are dropped (a gap or a datagram that never completed). */
  expire(now: number): InlineDecision<H>[] {
    // held entries are real packets (the sentinel of a reassembled datagram is never held)
    const out: InlineDecision<Handle<H>>[] = [];
    const before = now - this.holdMs;
    for (const st of this.holding) {
      for (const h of st.takeExpired(before)) {
        this.heldTotal--;
        out.push(this.streamDrop(h.handle, h.packet, 'hold-expired'));
      }
      if (st.held.length === 0) this.holding.delete(st);
    }
    for (const [key, f] of this.fragments) {
      if (f.held.length === 0 || f.held[0]!.since >= before) continue;
      this.fragments.delete(key);
      for (const h of f.held) {
        this.heldTotal--;
        out.push(this.streamDrop(h.handle, h.packet, 'fragment-incomplete'));
      }
    }
    return out as InlineDecision<H>[];
  }

  /**
   * A packet the gateway cannot inspect as it will leave (see StreamEventName): dropped and logged, its session left
   * as it was.
   */
  refuse(p: Packet, handle: H, name: StreamEventName): InlineDecision<H> {
    this.stats.packets++;
    return this.streamDrop(handle, p, name) as InlineDecision<H>;
  }

  /** Sessions blocked before a reload stay blocked (keys of the old flow table). */
  carryBlocked(keys: Set<string>): void {
    this.carried = keys;
  }

  /** Every held packet, dropped (the rules are being replaced). */
  releaseAll(): InlineDecision<H>[] {
    const out: InlineDecision<Handle<H>>[] = [];
    for (const st of this.holding) for (const h of st.takeAll()) out.push(decision(h.handle, h.packet, 'drop', 'hold-expired'));
    for (const f of this.fragments.values()) for (const h of f.held) out.push(decision(h.handle, h.packet, 'drop', 'fragment-incomplete'));
    this.holding.clear();
    this.fragments.clear();
    this.heldTotal = 0;
    return out as InlineDecision<H>[];
  }

  // ------------------------------------------------------------------------------------------------ fragments

  private fragment(p: Packet, handle: H, now: number, out: InlineDecision<Handle<H>>[]): void {
    const key = fragmentKey(p.ip!);
    let f = this.fragments.get(key);
    if (this.heldTotal >= this.maxHeld) {
      out.push(this.streamDrop(handle, p, 'hold-limit'));
      return;
    }
    if (f === undefined) {
      f = { held: [] };
      this.fragments.set(key, f);
    }
    f.held.push({ handle, packet: this.keep(p), since: now });
    this.heldTotal++;
    this.stats.fragmentsHeld++;
    const whole = this.defrag.add(p);
    if (whole === undefined) return;
    this.fragments.delete(key);
    this.heldTotal -= f.held.length;
    const inner: InlineDecision<Handle<H>>[] = [];
    this.packet(whole, SENTINEL, now, inner);
    const d = inner.find((x) => x.handle === SENTINEL) ?? decision(SENTINEL, whole, 'accept', 'clean');
    // A rewrite of the whole datagram cannot be carried by its fragments: they are dropped instead.
    const verdict = d.verdict === 'accept' && !d.replaced ? 'accept' : 'drop';
    f.held.forEach((h, i) => {
      out.push({
        handle: h.handle,
        packet: whole,
        verdict,
        replaced: false,
        action: d.action,
        events: i === 0 ? d.events : [],
        reason: d.replaced ? 'drop' : d.reason,
        flow: d.flow,
      });
    });
  }

  // ------------------------------------------------------------------------------------------------- packets

  private packet(p: Packet, handle: Handle<H>, now: number, out: InlineDecision<Handle<H>>[]): void {
    const existing = this.flows.lookup(p);
    if (existing?.blocked) {
      out.push(decision(handle, p, 'drop', 'blocked-session'));
      return;
    }
    if (existing === undefined && this.carried.size > 0) {
      const key = flowKey(p);
      if (key !== undefined && this.carried.delete(key)) {
        const u0 = this.flows.process(p);
        if (u0.flow !== undefined) u0.flow.blocked = true;
        out.push(decision(handle, p, 'drop', 'blocked-session'));
        return;
      }
    }
    // A session picked up midstream is opened by its first data packet (Snort ProcessTcp: a packet without SYN or
    // data opens none), so the reply half is fed after that packet, and the packet sees the session it made whole.
    const pickup = p.tcp !== undefined && this.flows.lookup(p) === undefined;
    if (p.tcp !== undefined && !pickup) this.feedUnseenReply(p);
    let u = this.flows.process(p);
    if (pickup && u.isNew && u.flow !== undefined && u.flow.midstream) {
      this.feedPickupReply(p);
      u = { ...u, established: u.flow.established && !u.flow.terminated };
    }
    const flow = u.flow;
    const t = p.tcp;
    if (t === undefined || flow === undefined) {
      const app = p.udp !== undefined && p.payloadLength > 0 && p.ip?.isFragment !== true ? this.app.udp(p.payload, p.dstPort) : undefined;
      this.finish(handle, p, this.matcher.inspect(itemOf(p, u, false, app)), out, flow);
      return;
    }
    const st = this.streamOf(flow, u.fromClient);
    const syn = (t.flags & TcpFlag.SYN) !== 0;
    if (syn && st.next === undefined) st.next = (t.seq + 1) >>> 0;
    if ((t.flags & TcpFlag.RST) !== 0) {
      // the session ends: what was held for it goes (its gap will not fill)
      for (const h of st.takeAll()) {
        this.heldTotal--;
        out.push(this.streamDrop(h.handle, h.packet, 'hold-expired'));
      }
    }
    if (p.payloadLength === 0) {
      this.finish(handle, p, this.matcher.inspect(itemOf(p, u, false)), out, flow);
      if ((t.flags & TcpFlag.FIN) !== 0 && st.next === t.seq) st.consumeSeq();
      return;
    }
    const seq = syn ? (t.seq + 1) >>> 0 : t.seq;
    const first = out.length;
    this.segment(p, handle, seq, now, flow, u.fromClient, st, out);
    // what the segment let through may release held ones, in order
    for (let h = st.takeReady(); h !== undefined; h = st.takeReady()) {
      this.heldTotal--;
      this.stats.released++;
      if (flow.blocked) {
        out.push(decision(h.handle, h.packet, 'drop', 'blocked-session'));
        continue;
      }
      const hp = h.packet;
      this.segment(hp, h.handle, h.seq, now, flow, u.fromClient, st, out);
    }
    if (st.held.length === 0) this.holding.delete(st);
    // A segment and the held ones it released are judged together: none has left yet, so when one of them completes
    // an attack and blocks the session, none of them leaves (the gap filler included).
    if (flow.blocked && out.length - first > 1) {
      for (let i = first; i < out.length; i++) {
        const d = out[i]!;
        if (d.verdict === 'accept') out[i] = { ...d, verdict: 'drop', replaced: false, events: d.events, reason: 'blocked-session' };
      }
    }
  }

  /** One TCP segment with data, in its stream. */
  private segment(
    p: Packet,
    handle: Handle<H>,
    seq: number,
    now: number,
    flow: Flow,
    fromClient: boolean,
    st: InlineStream<Handle<H>>,
    out: InlineDecision<Handle<H>>[],
  ): void {
    const payload = p.payload;
    const c = st.classify(seq, payload);
    const u = { flow, fromClient, established: flow.established };
    switch (c.kind) {
      case 'gap': {
        if (this.heldTotal >= this.maxHeld) {
          out.push(this.streamDrop(handle, p, 'hold-limit'));
          return;
        }
        const kept = this.keep(p);
        if (!st.hold({ seq, payload: kept.payload, handle, since: now, packet: kept })) {
          out.push(this.streamDrop(handle, p, 'hold-limit'));
          return;
        }
        this.heldTotal++;
        this.stats.held++;
        this.holding.add(st);
        return;
      }
      case 'conflict':
        out.push(this.streamDrop(handle, p, 'overlap-conflict'));
        return;
      case 'stale':
        out.push(this.streamDrop(handle, p, 'stale-retransmission'));
        return;
      case 'duplicate': {
        this.stats.duplicates++;
        // known bytes, already inspected: only the rules on the packet itself
        const events = this.matcher.inspect(itemOf(p, u, true));
        if (c.rewrite) {
          st.rewriteDuplicate(seq, payload);
          p.data.set(payload, p.payloadOffset);
          p.resetPayloadView();
          this.stats.rewrittenDuplicates++;
        }
        const d = this.finish(handle, p, events, out, flow);
        if (d.verdict === 'accept') {
          if (c.rewrite) d.replaced = true;
          if (events.length === 0) d.reason = 'duplicate';
        }
        return;
      }
      case 'in-order':
        break;
    }
    const fresh = payload.subarray(c.skip);
    const before = st.offset;
    this.stats.streamBytes += fresh.length;
    // the DNS requests and the ClientHello the new bytes complete: on the packet (for the rules without a fast pattern,
    // which the window leaves to it) and on its first window (for those with one)
    let app = this.app.tcp(flow, fromClient, fresh);
    const packetEvents = this.matcher.inspect(itemOf(p, u, true, app));
    // A GSO/GRO super-packet brings up to 64 KB at once: its new bytes are inspected in pieces of at most
    // SEGMENT_PIECE, each as if it had been a segment of its own, so that every byte is in some window (the window
    // is at most WINDOW_MAX long) and a match that straddles two pieces is found as one straddling two segments is.
    let windowEvents: MatchEvent[] = NO_MATCH;
    for (let at = 0; at < fresh.length; at += SEGMENT_PIECE) {
      const piece = at === 0 && fresh.length <= SEGMENT_PIECE ? fresh : fresh.subarray(at, Math.min(fresh.length, at + SEGMENT_PIECE));
      const from = st.offset;
      st.append(piece);
      const found = this.inspectWindow(p, u, st, from, this.prefilter(st, piece, from, p.srcPort, p.dstPort), app);
      app = undefined;
      if (found.length > 0) windowEvents = windowEvents.length === 0 ? found : [...windowEvents, ...found];
    }
    if (fresh.length > SEGMENT_PIECE) this.stats.largeSegments++;
    const events = windowEvents.length === 0 ? packetEvents : packetEvents.length === 0 ? windowEvents : [...packetEvents, ...windowEvents];
    const d = this.finish(handle, p, events, out, flow);
    if (d.verdict === 'accept' && d.replaced) {
      // the stream keeps what left the gateway, so that a retransmission gets the same rewrite
      st.markReplaced(before, p.payload.subarray(c.skip));
    }
  }

  /**
   * Scans the new bytes with the streaming prefilter (leaving out the patterns whose rules cannot match the segment's
   * ports); the fast patterns whose last occurrence is in the window.
   */
  private prefilter(st: InlineStream<Handle<H>>, fresh: Uint8Array, before: number, sport: number, dport: number): number[] {
    const g = this.payloadGroup;
    if (g === undefined) return [];
    if (st.hs === undefined) {
      st.hs = this.engine.hsStreamOpen(this.matcher.streamDatabase(g));
      st.hsStart = before;
    }
    // Hyperscan counts offsets from where its stream was opened (a restarted one from the restart): the addon gives
    // each end relative to `before` when told where this scan starts in its count
    const n = this.engine.hsStreamScan(st.hs, fresh, 0, fresh.length, this.hitsOut, before - st.hsStart, sport, dport);
    const out = this.hitsOut;
    for (let k = 0; k + 1 < n; k += 2) st.hits.set(out[k]!, before + out[k + 1]!);
    if (n >= out.length) {
      // a full array means the scan was cut short (the addon closed the stream): it restarts with the next bytes
      // (a pattern straddling the restart is missed), which is counted
      this.stats.streamRestarts++;
      st.hs = undefined;
    }
    const patterns: number[] = [];
    const from = st.windowStart;
    for (const [id, end] of st.hits) if (end - this.patternLength[id]! >= from) patterns.push(id);
    return patterns;
  }

  private inspectWindow(
    p: Packet,
    u: { flow: Flow; fromClient: boolean; established: boolean },
    st: InlineStream<Handle<H>>,
    before: number,
    patterns: number[],
    app: AppBuffers | undefined,
  ): MatchEvent[] {
    const end = st.offset;
    const http = this.httpPorts.has(u.flow.server.port);
    st.slideWindow(end);
    const window = st.bytes(st.windowStart, end);
    const prior = before > st.windowStart ? st.bytes(st.windowStart, before) : EMPTY;
    let buffers: HttpBuffers[] = [];
    if (http) {
      const s = new HttpSession();
      buffers = u.fromClient ? s.request(window) : s.response(window);
      if (buffers.length > 0 && showsHttp(buffers)) setAppProto(u.flow, 'http');
      // parsed once: the zlib stream of a compressed body in the window is freed now, not when collected
      s.close();
    }
    const item: InspectionItem = {
      kind: 'stream',
      packet: p,
      flow: u.flow,
      fromClient: u.fromClient,
      established: u.established,
      streamInserted: false,
      detection: 'all',
      fragAlerts: undefined,
      segment: undefined,
      http: buffers,
      app,
      payload: window,
    };
    const events = this.matcher.inspectWindow(item, patterns, { payload: prior, http: st.lastHttp });
    st.lastHttp = buffers;
    if (http) {
      // a complete message ends the window: the next one starts after it (the rest of this data begins it)
      const n = httpMessageLength(window, u.fromClient);
      if (n > 0 && n <= window.length) {
        st.windowStart += n;
        st.lastHttp = [];
      }
    }
    return events;
  }

  /** Turns a packet's events into its decision (drop blocks the session), applying `replace` when it passes. */
  private finish(
    handle: Handle<H>,
    p: Packet,
    events: MatchEvent[],
    out: InlineDecision<Handle<H>>[],
    flow: Flow | undefined,
  ): InlineDecision<Handle<H>> {
    let action: 'drop' | 'sdrop' | 'reject' | undefined;
    for (const e of events) {
      if (e.action === 'reject') action = 'reject';
      else if (e.action === 'drop' && action !== 'reject') action = 'drop';
      else if (e.action === 'sdrop' && action === undefined) action = 'sdrop';
    }
    let d: InlineDecision<Handle<H>>;
    if (action !== undefined) {
      if (flow !== undefined) this.block(flow);
      d = { handle, packet: p, verdict: 'drop', replaced: false, action, events, reason: action, flow };
    } else {
      let replaced = false;
      for (const e of events) if (e.action !== 'pass' && applyReplace(e.rule, p)) replaced = true;
      d = {
        handle,
        packet: p,
        verdict: 'accept',
        replaced,
        action: undefined,
        events,
        reason: replaced ? 'replace' : events.length > 0 ? 'alert' : 'clean',
        flow,
      };
    }
    out.push(d);
    return d;
  }

  /** Snort inline drops the rest of a session after a drop: so does the gateway, held segments included. */
  private block(flow: Flow): void {
    flow.blocked = true;
  }

  private streamDrop(handle: Handle<H>, p: Packet, name: StreamEventName): InlineDecision<Handle<H>> {
    this.stats.events[name]++;
    return { handle, packet: p, verdict: 'drop', replaced: false, action: 'drop', events: [streamEvent(name, p)], reason: name };
  }

  private streamOf(flow: Flow, fromClient: boolean): InlineStream<Handle<H>> {
    const key = fromClient ? 'inline.c' : 'inline.s';
    let st = flow.app.get(key) as InlineStream<Handle<H>> | undefined;
    if (st === undefined) {
      st = new InlineStream<Handle<H>>();
      flow.app.set(key, st);
    }
    return st;
  }

  /** A flow leaves the table: its held segments can no longer be released (expire drops them). */
  private forget(flow: Flow): void {
    for (const key of ['inline.c', 'inline.s']) {
      const st = flow.app.get(key) as InlineStream<Handle<H>> | undefined;
      if (st?.hs !== undefined) this.engine.hsStreamClose(st.hs);
    }
  }

  /**
   * See the header: the reply half of a TCP session, which the firewall never queues. What to feed follows from the
   * flow table itself: no flow yet (a session picked up midstream) gets an ACK, a flow that has seen only its SYN a
   * SYN-ACK; any other flow has been fed already.
   */
  /** The reply half of a session the honeypot's data packet `p` just opened midstream: an ACK of nothing new. */
  private feedPickupReply(p: Packet): void {
    const t = p.tcp!;
    const ip = p.ip!;
    const reply = buildIp({
      ip: { src: formatIp(ip.dst), dst: formatIp(ip.src) },
      tcp: { sport: p.dstPort, dport: p.srcPort, seq: t.ack, ack: t.seq, flags: 'A' },
    });
    const rp = decodeIpPacket(reply, undefined, { verifyChecksums: false });
    rp.tsSec = p.tsSec;
    rp.tsUsec = p.tsUsec;
    this.flows.process(rp);
  }

  private feedUnseenReply(p: Packet): void {
    const t = p.tcp!;
    if (t.flags & (TcpFlag.RST | TcpFlag.SYN)) return;
    const flow = this.flows.lookup(p);
    if (flow !== undefined && flow.state !== 'syn-sent') return;
    const ip = p.ip!;
    const reply = buildIp({
      ip: { src: formatIp(ip.dst), dst: formatIp(ip.src) },
      tcp:
        flow !== undefined
          ? { sport: p.dstPort, dport: p.srcPort, seq: (t.ack - 1) >>> 0, ack: t.seq, flags: 'SA' }
          : { sport: p.dstPort, dport: p.srcPort, seq: t.ack, ack: t.seq, flags: 'A' },
    });
    const rp = decodeIpPacket(reply, undefined, { verifyChecksums: false });
    rp.tsSec = p.tsSec;
    rp.tsUsec = p.tsUsec;
    this.flows.process(rp);
  }
}

const EMPTY = new Uint8Array(0);
const NO_MATCH: MatchEvent[] = [];
/**
 * The most new bytes inspected in one window (a segment's worth): half the window, so that a match up to WINDOW_MAX / 2
 * long that straddles two pieces of a super-packet is still seen whole, and an MSS-sized segment is one piece.
 */
export const SEGMENT_PIECE = WINDOW_MAX / 2;

function decision<H>(handle: H, p: Packet, verdict: 'accept' | 'drop', reason: InlineReason): InlineDecision<H> {
  return { handle, packet: p, verdict, replaced: false, action: undefined, events: [], reason };
}

function itemOf(
  p: Packet,
  u: { flow: Flow | undefined; fromClient: boolean; established: boolean },
  streamInserted: boolean,
  app?: AppBuffers,
): InspectionItem {
  return {
    kind: 'packet',
    packet: p,
    flow: u.flow,
    fromClient: u.fromClient,
    established: u.established,
    streamInserted,
    detection: 'all',
    fragAlerts: undefined,
    segment: undefined,
    http: [],
    app,
    payload: undefined,
  };
}

/** Writes the rule's `replace` contents into the packet at hand (same length, payload only; snort_inline's rule). */
function applyReplace(rule: RulePlan, p: Packet): boolean {
  if (p.payloadLength === 0) return false;
  let done = false;
  for (const op of rule.ops) {
    if (op.op !== 'content' || op.negated || op.replace === undefined) continue;
    const payload = p.payload;
    const offset = typeof op.offset === 'number' ? op.offset : 0;
    const depth = typeof op.depth === 'number' ? op.depth : undefined;
    const at = find(payload, op.bytes, op.nocase, offset, depth);
    if (at < 0) continue;
    const n = Math.min(op.replace.length, op.bytes.length, payload.length - at);
    p.data.set(op.replace.subarray(0, n), p.payloadOffset + at);
    done = true;
  }
  if (done) p.resetPayloadView();
  return done;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function find(hay: Uint8Array, bytes: Uint8Array, nocase: boolean, offset: number, depth: number | undefined): number {
  const end = Math.min(hay.length, depth !== undefined ? offset + depth : hay.length) - bytes.length;
  outer: for (let i = Math.max(0, offset); i <= end; i++) {
    for (let j = 0; j < bytes.length; j++) {
      const a = hay[i + j]!;
      const b = bytes[j]!;
      if (a !== b && !(nocase && lower(a) === lower(b))) continue outer;
    }
    return i;
  }
  return -1;
}

export { STREAM_EVENTS };
