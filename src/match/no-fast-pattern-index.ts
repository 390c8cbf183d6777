/**
 * Rules without a fast pattern, indexed so that a packet is not tried against all of them: the IP reputation rules
 * (`alert tcp [hundreds of networks] any -> $HOME_NET any`) would otherwise be. Each rule is filed under what is most
 * selective of its header: a side whose addresses are a list (8 keys or more: a reputation list; converted for a
 * honeynet, such a list is the destination, and the source is the honeypots, which every packet has); else a short
 * list of destination (else source) ports; else the side with more keys; else it is always tried. An address side
 * gives keys when it is made only of IPv4 hosts (the whole address), or of networks of /16 or longer (the first two
 * bytes), or of /8 or longer (the first byte). Built at compile time (it reads the rules' address sets, the largest
 * part of a rule set's headers) and stored in the artifact as plain tables, so that loading parses no set.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import { portRanges } from './header-sets.js';
import { appliesTo, PROTO_CLASSES } from './prefilter.js';
import { PROTO_NAMES, PROTO_TCP, PROTO_UDP, RULE_BIDIRECTIONAL, RULE_FAST_PATTERN, type RuleList, type RuleTable } from './rule-table.js';

/** One key -> rules map as typed arrays: rules of keys[i] are rules[start[i], start[i + 1]). */
export interface KeyedRules {
  keys: Int32Array;
  start: Int32Array;
  rules: Int32Array;
}

export const INDEX_MAPS = ['bySrc32', 'byDst32', 'bySrc16', 'byDst16', 'bySrc8', 'byDst8', 'byDstPort', 'bySrcPort'] as const;
export type IndexMap = (typeof INDEX_MAPS)[number];

/** A protocol class's index, plain data. */
export type NoFastPatternTables = Record<IndexMap, KeyedRules> & { generic: Int32Array };

/** The index of every protocol class (tcp, udp, icmp, other) over the table's rules without a fast pattern. */
/** An address side's keys and the granularity they are at (32: IPv4 hosts, 16 or 8 leading bits). */
interface SideKeys {
  bits: 32 | 16 | 8;
  keys: number[];
}

/** A list of 8 addresses or more is filed under, whatever the other side offers. */
const LIST_KEYS = 8;

export function buildNoFastPatternIndex(table: RuleTable): NoFastPatternTables[] {
  const c = table.columns;
  const sides = new Map<number, SideKeys | undefined>();
  const ports = new Map<number, number[] | undefined>();
  const portsOf = (set: number) => {
    if (!ports.has(set)) ports.set(set, portList(table.portSet(set)));
    return ports.get(set);
  };
  const sideOf = (set: number): SideKeys | undefined => {
    if (!sides.has(set)) {
      const a = table.addressSet(set);
      const k32 = keysOf(a, 32);
      const k16 = k32 ? undefined : keysOf(a, 16);
      const k8 = k32 || k16 ? undefined : keysOf(a, 8);
      sides.set(set, k32 ? { bits: 32, keys: k32 } : k16 ? { bits: 16, keys: k16 } : k8 ? { bits: 8, keys: k8 } : undefined);
    }
    return sides.get(set);
  };
  return PROTO_CLASSES.map((cls) => {
    const maps = Object.fromEntries(INDEX_MAPS.map((n) => [n, new Map<number, number[]>()])) as Record<IndexMap, Map<number, number[]>>;
    const generic: number[] = [];
    const file = (i: number, side: SideKeys, src: boolean) => {
      const m = maps[`${src ? 'bySrc' : 'byDst'}${side.bits}` as IndexMap];
      for (const k of side.keys) push(m, k, i);
    };
    for (let i = 0; i < table.count; i++) {
      if ((c.flags[i]! & RULE_FAST_PATTERN) !== 0 || !appliesTo(PROTO_NAMES[c.proto[i]!]!, cls)) continue;
      if ((c.flags[i]! & RULE_BIDIRECTIONAL) !== 0) {
        generic.push(i);
        continue;
      }
      const src = sideOf(c.src[i]!);
      const dst = sideOf(c.dst[i]!);
      const sn = src?.keys.length ?? 0;
      const dn = dst?.keys.length ?? 0;
      if (Math.max(sn, dn) >= LIST_KEYS) {
        if (sn > dn) file(i, src!, true);
        else file(i, dst!, false);
        continue;
      }
      const hasPorts = c.proto[i] === PROTO_TCP || c.proto[i] === PROTO_UDP;
      const dp = hasPorts ? portsOf(c.dstPorts[i]!) : undefined;
      const sp = hasPorts && !dp ? portsOf(c.srcPorts[i]!) : undefined;
      if (dp) for (const p of dp) push(maps.byDstPort, p, i);
      else if (sp) for (const p of sp) push(maps.bySrcPort, p, i);
      else if (sn > 0 && sn >= dn) file(i, src!, true);
      else if (dn > 0) file(i, dst!, false);
      else generic.push(i);
    }
    const out = { generic: Int32Array.from(generic) } as NoFastPatternTables;
    for (const name of INDEX_MAPS) out[name] = keyed(maps[name]);
    return out;
  });
}

function keyed(m: Map<number, number[]>): KeyedRules {
  const keys = [...m.keys()].sort((a, b) => a - b);
  const start = new Int32Array(keys.length + 1);
  let n = 0;
  keys.forEach((k, i) => {
    start[i] = n;
    n += m.get(k)!.length;
  });
  start[keys.length] = n;
  const rules = new Int32Array(n);
  keys.forEach((k, i) => rules.set(m.get(k)!, start[i]!));
  return { keys: Int32Array.from(keys), start, rules };
}

function push(m: Map<number, number[]>, k: number, r: number): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [r]);
  else if (l[l.length - 1] !== r) l.push(r);
}

/**
 * The ports of a set when there are at most 1024 of them (else undefined), ascending: the ports of its `fastPorts`
 * map, from its ranges (a walk of the map's 65,536 bits per set was a tenth of a compile's index time).
 */
function portList(set: PortSet): number[] | undefined {
  if (set.any && set.exclude.length === 0) return undefined;
  const ranges = portRanges([set]);
  const out: number[] = [];
  for (let j = 0; j < ranges.length; j += 2) {
    if (out.length + ranges[j + 1]! - ranges[j]! + 1 > 1024) return undefined;
    for (let p = ranges[j]!; p <= ranges[j + 1]!; p++) out.push(p);
  }
  return out;
}

/**
 * The keys of a set made only of networks at least `bits` long, else undefined: 32, IPv4 hosts only (the address,
 * as a signed 32-bit number); 16 or 8, the first bits of the address, IPv6 flagged.
 */
function keysOf(set: AddressSet, bits: 32 | 16 | 8): number[] | undefined {
  if (set.any || set.exclude.length > 0 || set.include.length === 0) return undefined;
  const out = new Set<number>();
  for (const e of set.include) {
    if ('kind' in e) {
      if (e.prefix < bits || (bits === 32 && e.family !== 4)) return undefined;
      const v6 = e.family === 6 ? 0x10000 : 0;
      const a = e.addr;
      out.add(bits === 32 ? (a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]! : bits === 16 ? v6 | (a[0]! << 8) | a[1]! : v6 | a[0]!);
    } else {
      const inner = keysOf(e, bits);
      if (!inner) return undefined;
      for (const k of inner) out.add(k);
    }
  }
  return [...out];
}

/**
 * The index of one protocol class, ready for lookups: each map's sorted keys searched by bisection in the tables as
 * stored (no Map to build at load: ET Open's address lists give tens of thousands of keys).
 */
export class NoFastPatternIndex {
  private readonly generic: Int32Array;
  private readonly maps: Record<IndexMap, KeyedRules>;

  constructor(t: NoFastPatternTables) {
    this.generic = t.generic;
    this.maps = t;
  }

  /** Candidates for a packet with these addresses and ports (-1 without ports), appended to `out` (maybe twice). */
  candidates(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, out: RuleList): void {
    const m = this.maps;
    out.pushRange(this.generic, 0, this.generic.length);
    if (dport >= 0) {
      lookup(out, m.byDstPort, dport);
      lookup(out, m.bySrcPort, sport);
    }
    const v6 = src.length === 16 ? 0x10000 : 0;
    if (v6 === 0) {
      lookup(out, m.bySrc32, (src[0]! << 24) | (src[1]! << 16) | (src[2]! << 8) | src[3]!);
      lookup(out, m.byDst32, (dst[0]! << 24) | (dst[1]! << 16) | (dst[2]! << 8) | dst[3]!);
    }
    lookup(out, m.bySrc16, v6 | (src[0]! << 8) | src[1]!);
    lookup(out, m.byDst16, v6 | (dst[0]! << 8) | dst[1]!);
    lookup(out, m.bySrc8, v6 | src[0]!);
    lookup(out, m.byDst8, v6 | dst[0]!);
  }
}

/** Appends the rules filed under `key`, if any. */
function lookup(out: RuleList, t: KeyedRules, key: number): void {
  const keys = t.keys;
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = keys[mid]!;
    if (k < key) lo = mid + 1;
    else if (k > key) hi = mid - 1;
    else return out.pushRange(t.rules, t.start[mid]!, t.start[mid + 1]!);
  }
}
