/**
 * Suricata's xbits (detect-xbits.c, host-bit.c, ippair-bit.c): named bits kept on a host (`track ip_src`, `ip_dst`:
 * the packet's source or destination address) or on an address pair (`track ip_pair`, either direction), across
 * flows, each until its expiry (`expire N` seconds after the packet that set it; 30 by default). Time is the packets'
 * own (never the wall clock), so a replay gives the same answer every time. The table is bounded: past XBITS_MAX bits
 * the least recently set goes first, and each one is counted.
 *
 * The bits ride on the rule's flowbits operations (FlowbitsOp with `track`), so Snort's evaluation order, the rule
 * trees and the order-interaction shortcut treat them as they treat flowbits; the names they touch are
 * `xbits:host:NAME` (ip_src and ip_dst name the same host bits, as in Suricata) and `xbits:pair:NAME`.
 */
import type { FlowbitsOp, RulePlan } from './plan.js';
import type { Subject } from './subject.js';

/** Bits held at once, all hosts and pairs together. */
export const XBITS_MAX = 65536;
/** detect-xbits.h DETECT_XBITS_EXPIRE_DEFAULT. */
export const XBITS_EXPIRE_DEFAULT = 30;

export type XbitsTrack = 'ip_src' | 'ip_dst' | 'ip_pair';

/** The name a rule's xbits operation touches (what its footprint and its tree node name). */
export function xbitName(track: XbitsTrack, name: string): string {
  return `xbits:${track === 'ip_pair' ? 'pair' : 'host'}:${name}`;
}

function hex(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += (a[i]! < 16 ? '0' : '') + a[i]!.toString(16);
  return s;
}

export class XbitStore {
  /** Bit key -> expiry (packet seconds); Map order is the order bits were last set (the eviction order). */
  private readonly bits = new Map<string, number>();
  constructor(
    private readonly max = XBITS_MAX,
    /** Where the bits dropped for newer ones at `max` are counted (the matcher's stats). */
    private readonly counts: { xbitsEvicted: number } = { xbitsEvicted: 0 },
  ) {}

  /** Bits dropped for newer ones at `max`. */
  get evicted(): number {
    return this.counts.xbitsEvicted;
  }

  /** Forgets every bit (a capture replayed afresh: Matcher.resetState). */
  clear(): void {
    this.bits.clear();
  }

  get size(): number {
    return this.bits.size;
  }

  /** The key of an operation's bit for this packet: the host or the (unordered) address pair, and the bit's name. */
  private keyOf(fb: FlowbitsOp, s: Subject): string | undefined {
    const ip = s.packet.ip;
    if (ip === undefined) return undefined;
    const name = fb.bits[0]!;
    if (fb.track === 'ip_src') return `${name}|${hex(ip.src)}`;
    if (fb.track === 'ip_dst') return `${name}|${hex(ip.dst)}`;
    const a = hex(ip.src);
    const b = hex(ip.dst);
    return a < b ? `${name}|${a}|${b}` : `${name}|${b}|${a}`;
  }

  private isset(key: string, now: number): boolean {
    const e = this.bits.get(key);
    if (e === undefined) return false;
    // (host-bit.c HostBitIsset: a bit whose expiry has come is not set; it goes now)
    if (e <= now) {
      this.bits.delete(key);
      return false;
    }
    return true;
  }

  private set(key: string, expiry: number): void {
    this.bits.delete(key);
    this.bits.set(key, expiry);
    if (this.bits.size > this.max) {
      const oldest = this.bits.keys().next().value as string;
      this.bits.delete(oldest);
      this.counts.xbitsEvicted++;
    }
  }

  /** An isset / isnotset check (DetectXbitMatch). */
  check(fb: FlowbitsOp, s: Subject): boolean {
    const key = this.keyOf(fb, s);
    const set = key !== undefined && this.isset(key, now(s));
    return set === (fb.cmd === 'isset');
  }

  /** A set / unset / toggle of a rule that matched. */
  apply(fb: FlowbitsOp, s: Subject): void {
    const key = this.keyOf(fb, s);
    if (key === undefined) return;
    const t = now(s);
    const expiry = t + (fb.expire ?? XBITS_EXPIRE_DEFAULT);
    switch (fb.cmd) {
      case 'set':
        this.set(key, expiry);
        break;
      case 'unset':
        this.bits.delete(key);
        break;
      case 'toggle':
        if (this.isset(key, t)) this.bits.delete(key);
        else this.set(key, expiry);
        break;
      default:
        break;
    }
  }
}

function now(s: Subject): number {
  return s.packet.tsSec + s.packet.tsUsec / 1e6;
}

/**
 * A rule with xbits kept on a host (track ip_src, ip_dst). A sharded replay keeps each address pair's flows in one
 * thread (flow/shard.ts), so address-pair bits stay in the thread that sets them; a host's bits would not (its pairs
 * are spread over the threads), and a rule set with such rules is replayed in one thread. Counted when the rules are
 * packed (packed-rules.ts), so that deciding reads no plan.
 */
export function keepsHostXbits(r: RulePlan): boolean {
  return r.flowbits.some((fb) => fb.track === 'ip_src' || fb.track === 'ip_dst');
}
