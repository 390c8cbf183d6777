/**
 * The verdict path of one queue: decode the queued IP datagram, run it through the inspector, and
 * turn the rules that fired into one verdict with Snort 2.9 inline semantics:
 *   accept; drop (logged, and the rest of that session is dropped too); sdrop (not logged);
 *   reject (dropped, logged, and a TCP reset or ICMP port unreachable goes back to the sender);
 *   replace (the inspector rewrote bytes in place: checksums are fixed and the new bytes are the verdict's).
 * Malformed packets are counted and passed on as Snort passes what it cannot decode.
 */
import { fixChecksums } from '../packet/checksum.js';
import { decodeIpPacket } from '../packet/decode.js';
import { DecodeStats, type Packet } from '../packet/packet.js';
import { formatIp } from '../packet/bytes.js';
import { flowKey } from '../flow/key.js';
import type { AlertEvent, RuleAction } from './alert-event.js';
import type { PacketInspector, RuleHit } from './inspector.js';
import { systemClock, type Clock } from './clock.js';

export type Verdict = 'accept' | 'drop';

export interface ProcessResult {
  verdict: Verdict;
  /** Rewritten datagram (replace), to be sent with the accept verdict. */
  modified: Uint8Array | undefined;
  /** Events to log (sdrop and pass hits are not logged). */
  events: AlertEvent[];
  /** For reject: the decoded packet the answer is built from. */
  reject: Packet | undefined;
  /** Why the verdict was given (for counters). */
  reason: 'clean' | 'alert' | 'drop' | 'sdrop' | 'reject' | 'replace' | 'blocked-session' | 'malformed' | 'inspector-error';
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
}

export interface ProcessorOptions {
  clock?: Clock;
  /** How long a blocked session stays blocked after its last packet (ms, default 10 minutes). */
  blockTtlMs?: number;
  /** Most sessions remembered as blocked (oldest forgotten first). */
  maxBlocked?: number;
}

const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'IPV6-ICMP' };

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? `PROTO:${String(proto).padStart(3, '0')}`;
}

export class PacketProcessor {
  readonly counters = new VerdictCounters();
  readonly decodeStats = new DecodeStats();
  private readonly blocked = new Map<string, number>();
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly maxBlocked: number;

  constructor(
    public inspector: PacketInspector,
    opts: ProcessorOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.ttl = opts.blockTtlMs ?? 600_000;
    this.maxBlocked = opts.maxBlocked ?? 65_536;
  }

  get blockedSessions(): number {
    return this.blocked.size;
  }

  /** Decide on one queued IP datagram. `data` may be rewritten in place. Never throws. */
  process(data: Uint8Array, tsSec: number, tsUsec: number): ProcessResult {
    const c = this.counters;
    c.packets++;
    c.bytes += data.length;
    const p = decodeIpPacket(data, this.decodeStats, { verifyChecksums: false });
    p.tsSec = tsSec;
    p.tsUsec = tsUsec;
    if (p.ip === undefined) {
      c.malformed++;
      c.accepted++;
      return { verdict: 'accept', modified: undefined, events: [], reject: undefined, reason: 'malformed' };
    }
    if (p.error !== undefined) c.malformed++;
    const key = flowKey(p);
    const now = this.clock.now();
    if (key !== undefined && this.blocked.size > 0) {
      const until = this.blocked.get(key);
      if (until !== undefined) {
        if (until > now) {
          this.blocked.delete(key);
          this.blocked.set(key, now + this.ttl);
          c.blockedSession++;
          c.dropped++;
          return { verdict: 'drop', modified: undefined, events: [], reject: undefined, reason: 'blocked-session' };
        }
        this.blocked.delete(key);
      }
    }
    let hits: RuleHit[];
    try {
      hits = this.inspector.inspect(p);
    } catch {
      c.inspectorErrors++;
      c.accepted++;
      return { verdict: 'accept', modified: undefined, events: [], reject: undefined, reason: 'inspector-error' };
    }
    if (hits.length === 0) {
      c.accepted++;
      return { verdict: 'accept', modified: undefined, events: [], reject: undefined, reason: 'clean' };
    }
    const block = strongest(hits);
    const replaced = hits.some((h) => h.replaced);
    const events: AlertEvent[] = [];
    for (const h of hits) {
      if (h.action === 'sdrop' || h.action === 'pass') continue;
      events.push(this.event(p, h, block !== undefined));
    }
    c.alerts += events.length;
    if (block !== undefined) {
      if (key !== undefined) this.blockSession(key, now);
      c.dropped++;
      if (block === 'sdrop') c.sdropped++;
      if (block === 'reject') c.rejected++;
      return { verdict: 'drop', modified: undefined, events, reject: block === 'reject' ? p : undefined, reason: block };
    }
    c.accepted++;
    if (replaced) {
      fixChecksums(p.data, p);
      c.replaced++;
      return { verdict: 'accept', modified: p.data, events, reject: undefined, reason: 'replace' };
    }
    return { verdict: 'accept', modified: undefined, events, reject: undefined, reason: 'alert' };
  }

  private blockSession(key: string, now: number): void {
    this.blocked.delete(key);
    if (this.blocked.size >= this.maxBlocked) {
      const oldest = this.blocked.keys().next().value;
      if (oldest !== undefined) this.blocked.delete(oldest);
    }
    this.blocked.set(key, now + this.ttl);
  }

  private event(p: Packet, h: RuleHit, blocked: boolean): AlertEvent {
    const ip = p.ip!;
    const ports = p.tcp !== undefined || p.udp !== undefined;
    return {
      tsSec: p.tsSec, tsUsec: p.tsUsec, gid: h.gid, sid: h.sid, rev: h.rev, msg: h.msg, classtype: h.classtype,
      classification: h.classification, priority: h.priority, action: h.action, blocked, replaced: h.replaced,
      proto: protoName(ip.proto), src: formatIp(ip.src), dst: formatIp(ip.dst),
      sport: ports ? p.srcPort : -1, dport: ports ? p.dstPort : -1,
    };
  }
}

/** The blocking action among the hits, if any: reject over drop over sdrop. */
function strongest(hits: readonly RuleHit[]): Extract<RuleAction, 'drop' | 'sdrop' | 'reject'> | undefined {
  let best: 'drop' | 'sdrop' | 'reject' | undefined;
  for (const h of hits) {
    if (h.action === 'reject') return 'reject';
    if (h.action === 'drop') best = 'drop';
    else if (h.action === 'sdrop' && best === undefined) best = 'sdrop';
  }
  return best;
}
