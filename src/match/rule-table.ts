/**
 * The rules of a matcher as the hot path reads them: what candidate selection and header checks need, in typed-array
 * columns indexed by rule number, and each rule's full plan made on first use. A loaded artifact (artifact.ts) fills
 * the columns from its tables and parses a rule's plan from its JSON only when the rule is first evaluated: a capture
 * reaches a few hundred of ET Open's 20,000 rules, so the load does not pay for the others.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import { address32In, addressIn, fastAddress, portBits, portIn, portRanges, type FastAddress } from './header-sets.js';
import type { IpHeader } from '../packet/types.js';
import type { RulePlan } from './plan.js';
import { flowClasses } from '../keywords/non-payload.js';

export const PROTO_TCP = 0;
export const PROTO_UDP = 1;
export const PROTO_ICMP = 2;
export const PROTO_IP = 3;
export const PROTO_CODES: Record<RulePlan['proto'], number> = { tcp: PROTO_TCP, udp: PROTO_UDP, icmp: PROTO_ICMP, ip: PROTO_IP };
/** The protocol of each code (the inverse of PROTO_CODES). */
export const PROTO_NAMES: readonly RulePlan['proto'][] = ['tcp', 'udp', 'icmp', 'ip'];

/** Bits of the `flags` column. */
export const RULE_BIDIRECTIONAL = 1;
export const RULE_FAST_PATTERN = 2;
/** The rule's outcome depends on what Snort evaluated before it on the packet (orderSensitive). */
export const RULE_ORDER_SENSITIVE = 4;
/**
 * Bits 3 to 7: the flow classes whose subjects pass the rule's `flow` (flowClasses, keywords/non-payload.ts), bit
 * 1 << (class + RULE_FLOW_CLASS_SHIFT): what the prefilter's class databases and the matcher's candidates read.
 */
export const RULE_FLOW_CLASS_SHIFT = 3;

/** The columns, plain typed arrays (the artifact stores them as they are). */
export interface RuleColumns {
  proto: Uint8Array;
  flags: Uint8Array;
  src: Uint32Array;
  dst: Uint32Array;
  srcPorts: Uint32Array;
  dstPorts: Uint32Array;
}

/**
 * Rule numbers gathered by one call, in storage kept from call to call (an array set back to length 0 gives its
 * storage up and grows it again, allocating, on every packet). Grows by doubling; its callers add each rule a bounded
 * number of times (at most once per index map), so it never holds more than a few times the rule count.
 */
export class RuleList {
  ids: Int32Array;
  n = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(16, capacity));
  }

  push(i: number): void {
    if (this.n === this.ids.length) this.grow(this.n + 1);
    this.ids[this.n++] = i;
  }

  /** Appends from[start, end). */
  pushRange(from: Int32Array, start: number, end: number): void {
    const k = end - start;
    if (k <= 0) return;
    if (this.n + k > this.ids.length) this.grow(this.n + k);
    this.ids.set(from.subarray(start, end), this.n);
    this.n += k;
  }

  private grow(need: number): void {
    let size = this.ids.length * 2;
    while (size < need) size *= 2;
    const a = new Int32Array(size);
    a.set(this.ids.subarray(0, this.n));
    this.ids = a;
  }
}

/** The flowbits operations a rule applies when it matches (set, unset, toggle, reset). */
export function setsFlowbits(r: RulePlan): boolean {
  return r.flowbits.some((f) => f.cmd === 'set' || f.cmd === 'unset' || f.cmd === 'toggle' || f.cmd === 'reset');
}

/** A rule whose outcome depends on what was evaluated before it on the packet: flowbits, detection_filter. */
export function orderSensitive(r: RulePlan): boolean {
  return r.flowbits.length > 0 || r.detectionFilter !== undefined;
}

/** A rule's `flags` column. */
export function ruleFlags(r: RulePlan): number {
  return (
    (r.bidirectional ? RULE_BIDIRECTIONAL : 0) |
    (r.fastPattern ? RULE_FAST_PATTERN : 0) |
    (orderSensitive(r) ? RULE_ORDER_SENSITIVE : 0) |
    (flowClasses(r.flow) << RULE_FLOW_CLASS_SHIFT)
  );
}

export class RuleTable {
  readonly count: number;
  private readonly plans: (RulePlan | undefined)[];
  private readonly sets: (AddressSet | PortSet | undefined)[];
  private readonly fastAddr: (FastAddress | undefined)[];
  private readonly portBits: (Uint8Array | undefined)[];

  constructor(
    readonly columns: RuleColumns,
    /** Number of address and port sets, shared by the rules that name the same text (columns hold their numbers). */
    readonly setCount: number,
    /** Set number i, made on first use. */
    private readonly loadSet: (index: number) => AddressSet | PortSet,
    private readonly load: (index: number) => RulePlan,
    /** Port set i's ports as flat [lo, hi] runs: the artifact's stored ones, else made from the set. */
    private readonly loadPortRanges: (index: number) => ArrayLike<number> = (i) => portRanges([this.portSet(i)]),
  ) {
    this.count = columns.proto.length;
    this.plans = new Array<RulePlan | undefined>(this.count);
    this.sets = new Array<AddressSet | PortSet | undefined>(setCount);
    this.fastAddr = new Array<FastAddress | undefined>(setCount);
    this.portBits = new Array<Uint8Array | undefined>(setCount);
  }

  /** The sets in number order (the artifact writes them). */
  allSets(): (AddressSet | PortSet)[] {
    return Array.from({ length: this.setCount }, (_, i) => this.set(i));
  }

  set(i: number): AddressSet | PortSet {
    let s = this.sets[i];
    if (s === undefined) {
      s = this.loadSet(i);
      this.sets[i] = s;
    }
    return s;
  }

  /** A table over rules already in memory (compile, then replay with --rules; tests). */
  static fromRules(rules: readonly RulePlan[]): RuleTable {
    const ids = new Map<object, number>();
    const sets: (AddressSet | PortSet)[] = [];
    const id = (s: AddressSet | PortSet): number => {
      let i = ids.get(s);
      if (i === undefined) {
        i = sets.length;
        ids.set(s, i);
        sets.push(s);
      }
      return i;
    };
    const n = rules.length;
    const c: RuleColumns = {
      proto: new Uint8Array(n),
      flags: new Uint8Array(n),
      src: new Uint32Array(n),
      dst: new Uint32Array(n),
      srcPorts: new Uint32Array(n),
      dstPorts: new Uint32Array(n),
    };
    rules.forEach((r, i) => {
      c.proto[i] = PROTO_CODES[r.proto];
      c.flags[i] = ruleFlags(r);
      c.src[i] = id(r.src);
      c.dst[i] = id(r.dst);
      c.srcPorts[i] = id(r.srcPorts);
      c.dstPorts[i] = id(r.dstPorts);
    });
    return new RuleTable(
      c,
      sets.length,
      (i) => sets[i]!,
      (i) => rules[i]!,
    );
  }

  /** The rule's whole plan (made on first use). */
  get(i: number): RulePlan {
    let r = this.plans[i];
    if (r === undefined) {
      r = this.load(i);
      this.plans[i] = r;
    }
    return r;
  }

  /** How many rules have had their plan made (for the load figures). */
  get materialized(): number {
    let n = 0;
    for (const p of this.plans) if (p !== undefined) n++;
    return n;
  }

  addressSet(i: number): AddressSet {
    return this.set(i) as AddressSet;
  }

  portSet(i: number): PortSet {
    return this.set(i) as PortSet;
  }

  private addr(set: number): FastAddress {
    let f = this.fastAddr[set];
    if (f === undefined) {
      f = fastAddress(this.addressSet(set));
      this.fastAddr[set] = f;
    }
    return f;
  }

  private ports(set: number): Uint8Array {
    let b = this.portBits[set];
    if (b === undefined) {
      b = portBits(this.loadPortRanges(set));
      this.portBits[set] = b;
    }
    return b;
  }

  /**
   * endpointsMatch on an IP header's addresses: an IPv4 header's as their 32-bit values (no view of the bytes made
   * for the check most packets get).
   */
  endpointsMatchIp(i: number, ip: IpHeader, sport: number, dport: number): boolean {
    return ip.version === 4
      ? this.endpoints(i, undefined, ip.src32, undefined, ip.dst32, sport, dport)
      : this.endpoints(i, ip.src, 0, ip.dst, 0, sport, dport);
  }

  /** Addresses (and, when `sport` >= 0, ports) of the rule's header, either way for `<>`. */
  endpointsMatch(i: number, src: Uint8Array, dst: Uint8Array, sport: number, dport: number): boolean {
    return this.endpoints(i, src, 0, dst, 0, sport, dport);
  }

  /** An address given as bytes, or (bytes undefined) as an IPv4 address's 32-bit value, in the address set `set`. */
  private side(set: number, bytes: Uint8Array | undefined, x: number): boolean {
    const f = this.addr(set);
    return bytes === undefined ? address32In(f, x) : addressIn(f, bytes);
  }

  private endpoints(
    i: number,
    sb: Uint8Array | undefined,
    s32: number,
    db: Uint8Array | undefined,
    d32: number,
    sport: number,
    dport: number,
  ): boolean {
    const c = this.columns;
    if (sport >= 0) {
      const sp = this.ports(c.srcPorts[i]!);
      const dp = this.ports(c.dstPorts[i]!);
      if (portIn(sp, sport) && portIn(dp, dport) && this.side(c.src[i]!, sb, s32) && this.side(c.dst[i]!, db, d32)) return true;
      if ((c.flags[i]! & RULE_BIDIRECTIONAL) === 0) return false;
      return portIn(sp, dport) && portIn(dp, sport) && this.side(c.src[i]!, db, d32) && this.side(c.dst[i]!, sb, s32);
    }
    if (this.side(c.src[i]!, sb, s32) && this.side(c.dst[i]!, db, d32)) return true;
    return (c.flags[i]! & RULE_BIDIRECTIONAL) !== 0 && this.side(c.src[i]!, db, d32) && this.side(c.dst[i]!, sb, s32);
  }
}
