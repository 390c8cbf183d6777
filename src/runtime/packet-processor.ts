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
import { alertOf, type AlertEvent } from '../output/alert.js';
import { fixChecksums } from '../packet/checksum.js';
import { decodeIpPacket } from '../packet/decode.js';
import { DecodeStats, type Packet } from '../packet/packet.js';
import { systemClock, type Clock } from './clock.js';
import type { GatewayMatcher } from './matcher-loader.js';

export type Verdict = 'accept' | 'drop';

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
  private readonly clock: Clock;
  private readonly holdMs: number | undefined;

  constructor(loaded: GatewayMatcher, opts: ProcessorOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.holdMs = opts.holdMs;
    this.loaded = loaded;
    this.inspector = this.inspectorFor(loaded);
  }

  private inspectorFor(loaded: GatewayMatcher): InlineInspector<H> {
    return new InlineInspector<H>(loaded.matcher, this.holdMs !== undefined ? { holdMs: this.holdMs } : {});
  }

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

  /** Decide on one queued IP datagram. `data` may be rewritten in place. Never throws. */
  process(data: Uint8Array, tsSec: number, tsUsec: number, handle: H): ProcessResult<H>[] {
    const c = this.counters;
    c.packets++;
    c.bytes += data.length;
    let p: Packet;
    let decisions: InlineDecision<H>[];
    try {
      p = decodeIpPacket(data, this.decodeStats, { verifyChecksums: false });
      p.tsSec = tsSec;
      p.tsUsec = tsUsec;
      if (p.ip !== undefined && p.error !== undefined) c.malformed++;
      decisions = this.inspector.push(p, handle, this.clock.now());
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
    for (const e of d.events) {
      if (e.action === 'sdrop' || e.action === 'pass') continue;
      events.push(alertOf(e, blocked, d.replaced));
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
