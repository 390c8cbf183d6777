/**
 * The verdict path of one queue: decode the queued IP datagram once, give it to the inline inspector
 * (src/inline: fragments, flows, TCP streams, the matcher), and turn its decisions into verdicts with Snort 2.9
 * inline semantics:
 *   accept; drop (logged, and the rest of that session is dropped too); sdrop (not logged);
 *   reject (dropped, logged, and a TCP reset or ICMP port unreachable goes back to the sender);
 *   replace (the bytes were rewritten in place: checksums are fixed and the new bytes are the verdict's).
 * A decision may be for an earlier packet (one held until a gap in its stream filled), so each carries the queued
 * packet's handle. Malformed packets are counted and passed on as Snort passes what it cannot decode.
 */
import { InlineInspector, type InlineDecision, type InlineReason } from '../inline/inspector.js';
import { alertOf, flowContext, type AlertEvent } from '../output/alert.js';
import { fixChecksums } from '../packet/checksum.js';
import { decodeIpPacket } from '../packet/decode.js';
import { DecodeStats, type Packet } from '../packet/packet.js';
import { systemClock, type Clock } from './clock.js';
import type { GatewayMatcher } from './matcher-loader.js';

export type Verdict = 'accept' | 'drop';

const NO_CHECKSUMS = { verifyChecksums: false } as const;
const LENGTH_FROM_DATA = { verifyChecksums: false, lengthFromData: true } as const;

export interface ProcessResult<H> {
  handle: H;
  verdict: Verdict;
  /** Rewritten datagram (replace), to be sent with the accept verdict. */
  modified: Uint8Array | undefined;
  /** Events to log (sdrop and pass hits are not logged). */
  events: AlertEvent[];
  /** For reject: the decoded packet the answer is built from. */
  reject: Packet | undefined;
  /** Why the verdict was given (for counters). */
  reason: InlineReason | 'inspector-error' | 'reload';
}

export class VerdictCounters {
  packets = 0;
  bytes = 0;
  accepted = 0;
  dropped = 0;
  rejected = 0;
  replaced = 0;
  alerts = 0;
  sdropped = 0;
  blockedSession = 0;
  malformed = 0;
  inspectorErrors = 0;
  /** Packets dropped by the gateway's stream rules (overlaps, holds, fragments), not by a rule. */
  streamDropped = 0;
  /** GSO/GRO super-packets (several segments in one). */
  gso = 0;
  /** Dropped because the queue copied only part of them (a super-packet over 65,531 bytes): never inspected whole. */
  truncated = 0;
  /** Dropped because they were super-packets of UDP or another protocol: several datagrams in one, not inspected as sent. */
  gsoNotTcp = 0;
}

/** What the queue says about a packet beyond its bytes (NFQUEUE with NFQA_CFG_F_GSO). */
export interface PacketShape {
  /** A GSO/GRO super-packet: what leaves is segmented after the verdict. */
  gso: boolean;
  /** The whole length when only a part was copied, else 0. */
  truncatedFrom: number;
}

export interface ProcessorOptions {
  clock?: Clock;
  /** How long a held segment or fragment may wait (ms). */
  holdMs?: number;
}

export class PacketProcessor<H> {
  readonly counters = new VerdictCounters();
  readonly decodeStats = new DecodeStats();
  private inspector: InlineInspector<H>;
  private loaded: GatewayMatcher;
  /** The time holds are measured with (ms; the gateway's real clock, a test's own). */
  readonly clock: Clock;
  private readonly holdMs: number | undefined;

  constructor(loaded: GatewayMatcher, opts: ProcessorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.holdMs = opts.holdMs;
    this.loaded = loaded;
    this.inspector = this.inspectorFor(loaded);
  }

  private inspectorFor(loaded: GatewayMatcher): InlineInspector<H> {
    return new InlineInspector<H>(loaded.matcher, { ...(this.holdMs !== undefined ? { holdMs: this.holdMs } : {}), keep: this.keep });
  }

  /** How the packet being processed was decoded: a packet the inspector keeps is decoded again from its copy so. */
  private decodeOptions: typeof NO_CHECKSUMS | typeof LENGTH_FROM_DATA = NO_CHECKSUMS;

  /** A held packet's own copy (the caller's bytes may be a view of a buffer it reuses: the queue's are). */
  private readonly keep = (p: Packet): Packet => {
    const copy = decodeIpPacket(p.data.slice(), undefined, this.decodeOptions);
    copy.tsSec = p.tsSec;
    copy.tsUsec = p.tsUsec;
    return copy;
  };

  get description(): string {
    return this.loaded.description;
  }

  get ruleCount(): number {
    return this.loaded.matcher.rules.count;
  }

  /** The inline inspector's own figures (streams, holds, limits). */
  get inline(): InlineInspector<H> {
    return this.inspector;
  }

  /**
   * New rules (SIGHUP). Flows start over with them (stream state belongs to the old prefilter); sessions that were
   * blocked stay blocked, and packets still held are dropped (their streams are gone).
   */
  setMatcher(loaded: GatewayMatcher): ProcessResult<H>[] {
    const old = this.inspector;
    const blocked: Set<string> = new Set();
    for (const f of old.flows.values()) if (f.blocked) blocked.add(f.key);
    this.loaded = loaded;
    this.inspector = this.inspectorFor(loaded);
    this.inspector.carryBlocked(blocked);
    return old.releaseAll().map((d) => this.result({ ...d, reason: 'reload' as InlineReason }));
  }

  /**
   * Decide on one queued IP datagram. `data` may be rewritten in place, and need stay valid during the call only (what
   * is held is copied, see `keep`). Never throws. Checksums are never verified:
   * a queued super-packet's transport checksum is often not computed yet (the kernel or the NIC does it when it
   * segments), and a rewrite gets full checksums, which segmentation then carries over to each segment. `now` (ms, the
   * clock's by default; a queue reads it once a batch) times how long a held packet may wait.
   */
  process(data: Uint8Array, tsSec: number, tsUsec: number, handle: H, shape?: PacketShape, now = this.clock.now()): ProcessResult<H>[] {
    const c = this.counters;
    c.packets++;
    c.bytes += data.length;
    let p: Packet;
    let decisions: InlineDecision<H>[];
    try {
      const gso = shape?.gso;
      const truncated = shape !== undefined && shape.truncatedFrom > 0;
      this.decodeOptions = gso || truncated ? LENGTH_FROM_DATA : NO_CHECKSUMS;
      p = decodeIpPacket(data, this.decodeStats, this.decodeOptions);
      p.tsSec = tsSec;
      p.tsUsec = tsUsec;
      if (p.ip !== undefined && p.error !== undefined) c.malformed++;
      if (gso) c.gso++;
      if (truncated) {
        // what was not copied cannot be inspected, and an accept would let all of it out: dropped (the sender
        // retransmits, and a retransmission is rarely merged that large again)
        c.truncated++;
        decisions = [this.inspector.refuse(p, handle, 'truncated')];
      } else if (gso && p.ip !== undefined && p.tcp === undefined) {
        // UDP GSO (UDP_SEGMENT) packs several datagrams, each with its own header on the wire, into one: inspected as
        // one, a rule anchored at a datagram's start would miss all but the first
        c.gsoNotTcp++;
        decisions = [this.inspector.refuse(p, handle, 'gso-not-tcp')];
      } else {
        decisions = this.inspector.push(p, handle, now);
      }
    } catch {
      c.inspectorErrors++;
      c.accepted++;
      return [{ handle, verdict: 'accept', modified: undefined, events: [], reject: undefined, reason: 'inspector-error' }];
    }
    return decisions.map((d) => this.result(d));
  }

  /** Held packets whose wait is over: dropped. Call it now and then. */
  expire(): ProcessResult<H>[] {
    return this.inspector.expire(this.clock.now()).map((d) => this.result(d));
  }

  private result(d: InlineDecision<H>): ProcessResult<H> {
    const c = this.counters;
    const p = d.packet;
    if (d.reason === 'malformed') c.malformed++;
    if (d.verdict === 'drop') {
      c.dropped++;
      if (d.reason === 'blocked-session') c.blockedSession++;
      else if (d.action === 'sdrop') c.sdropped++;
      else if (d.action === 'reject') c.rejected++;
      if (d.reason !== 'drop' && d.reason !== 'sdrop' && d.reason !== 'reject' && d.reason !== 'blocked-session') c.streamDropped++;
    } else c.accepted++;
    const blocked = d.verdict === 'drop';
    const events: AlertEvent[] = [];
    let ctx: ReturnType<typeof flowContext> | undefined;
    for (const e of d.events) {
      if (e.action === 'sdrop' || e.action === 'pass') continue;
      events.push(alertOf(e, blocked, d.replaced, (ctx ??= flowContext(d.flow))));
    }
    c.alerts += events.length;
    let modified: Uint8Array | undefined;
    if (d.verdict === 'accept' && d.replaced) {
      fixChecksums(p.data, p);
      c.replaced++;
      modified = p.data;
    }
    return { handle: d.handle, verdict: d.verdict, modified, events, reject: d.action === 'reject' ? p : undefined, reason: d.reason };
  }
}
