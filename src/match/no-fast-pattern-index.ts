/**
 * Rules without a fast pattern, indexed so that a packet is not tried against all of them: the IP reputation rules
 * (`alert tcp [hundreds of networks] any -> $HOME_NET any`) would otherwise be. Each rule is filed under what is most
 * selective of its header: a side whose addresses are a list (8 keys or more: a reputation list; converted for a
 * honeynet, such a list is the destination, and the source is the honeypots, which every packet has); else a short
 * list of destination (else source) ports; else an address side; else it is always tried. Of two address sides, the
 * one whose keys cover less of the address space: ET's Tor rules, ten IPv6 relays of one /16 each, went under
 * $HOME_NET's three keys when the side with more keys was taken, and every flow to an RFC 1918 host tried 600 of
 * them (six million header checks on the bench capture, all but 7% failing, instead of 0.9 million). An address
 * side gives keys when it is made only of networks of /8 or longer, each filed at the finest key it allows: an IPv4
 * host under its whole address, a network of /16 or longer (an IPv6 one included) under its first two bytes, else
 * under its first byte. Built at compile time (it reads the rules' address sets, the largest part of a rule set's
 * headers) and stored in the artifact as plain tables, so that loading parses no set.
 */
import type { IpHeader } from '../packet/types.js';
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

/** An address side's keys at each granularity (32: IPv4 hosts; 16 or 8 leading bits, IPv6 flagged). */
interface KeyLists {
  k32: number[];
  k16: number[];
  k8: number[];
}

/** A side's keys, each once, and what they cover. */
interface SideKeys extends KeyLists {
  /** All of them. */
  count: number;
  /**
   * The share of the address space the keys cover (a key of b bits, 2^-b; IPv6 keys as if IPv4): ET's Tor lists of
   * a few IPv6 hosts under one two-byte key cover less than $HOME_NET's three RFC 1918 keys, though they are fewer.
   */
  cover: number;
}

/** A list of 8 addresses or more is filed under, whatever the other side offers. */
const LIST_KEYS = 8;

/** The index of every protocol class (tcp, udp, icmp, other) over the table's rules without a fast pattern. */
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
      const keys: KeyLists = { k32: [], k16: [], k8: [] };
      sides.set(set, fileKeys(table.addressSet(set), keys) ? sideKeys(keys) : undefined);
    }
    return sides.get(set);
  };
  return PROTO_CLASSES.map((cls) => {
    const maps = Object.fromEntries(INDEX_MAPS.map((n) => [n, new Map<number, number[]>()])) as Record<IndexMap, Map<number, number[]>>;
    const generic: number[] = [];
    const file = (i: number, side: SideKeys, src: boolean) => {
      for (const k of side.k32) push(maps[src ? 'bySrc32' : 'byDst32'], k, i);
      for (const k of side.k16) push(maps[src ? 'bySrc16' : 'byDst16'], k, i);
      for (const k of side.k8) push(maps[src ? 'bySrc8' : 'byDst8'], k, i);
    };
    for (let i = 0; i < table.count; i++) {
      if ((c.flags[i]! & RULE_FAST_PATTERN) !== 0 || !appliesTo(PROTO_NAMES[c.proto[i]!]!, cls)) continue;
      if ((c.flags[i]! & RULE_BIDIRECTIONAL) !== 0) {
        generic.push(i);
        continue;
      }
      const src = sideOf(c.src[i]!);
      const dst = sideOf(c.dst[i]!);
      // of two sides with keys, the one that covers less of the address space
      const bySrc = src !== undefined && (dst === undefined || src.cover <= dst.cover);
      const narrow = bySrc ? src : dst;
      if (Math.max(src?.count ?? 0, dst?.count ?? 0) >= LIST_KEYS) {
        file(i, narrow!, bySrc);
        continue;
      }
      const hasPorts = c.proto[i] === PROTO_TCP || c.proto[i] === PROTO_UDP;
      const dp = hasPorts ? portsOf(c.dstPorts[i]!) : undefined;
      const sp = hasPorts && !dp ? portsOf(c.srcPorts[i]!) : undefined;
      if (dp) for (const p of dp) push(maps.byDstPort, p, i);
      else if (sp) for (const p of sp) push(maps.bySrcPort, p, i);
      else if (narrow !== undefined) file(i, narrow, bySrc);
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
 * The ports of a set when there are at most 1024 of them (else undefined), ascending: the ports of its `portBits`
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
 * Adds the keys of a set made only of networks of /8 or longer to `out`, each entry at the finest key it allows (an
 * IPv4 host: the address as a signed 32-bit number; a network of /16 or longer: its first two bytes; else its first
 * byte; IPv6 flagged), and says whether the set is one; a set with an exclusion, `any` or a shorter network is not
 * (its rules are filed otherwise).
 */
function fileKeys(set: AddressSet, out: KeyLists): boolean {
  if (set.any || set.exclude.length > 0 || set.include.length === 0) return false;
  for (const e of set.include) {
    if (!('kind' in e)) {
      if (!fileKeys(e, out)) return false;
      continue;
    }
    if (e.prefix < 8) return false;
    const a = e.addr;
    const v6 = e.family === 6 ? 0x10000 : 0;
    if (e.family === 4 && e.prefix === 32) out.k32.push((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!);
    else if (e.prefix >= 16) out.k16.push(v6 | (a[0]! << 8) | a[1]!);
    else out.k8.push(v6 | a[0]!);
  }
  return true;
}

/** The keys once each (a list names a network more than once, or two hosts of one /16), counted and weighed. */
function sideKeys(k: KeyLists): SideKeys {
  const k32 = [...new Set(k.k32)];
  const k16 = [...new Set(k.k16)];
  const k8 = [...new Set(k.k8)];
  return { k32, k16, k8, count: k32.length + k16.length + k8.length, cover: k32.length * 2 ** -32 + k16.length * 2 ** -16 + k8.length * 2 ** -8 };
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

  /**
   * Candidates for a packet with this IP header's addresses and these ports (-1 without ports), appended to `out`
   * (maybe twice). An IPv4 header's addresses are read as their 32-bit values (keys by 32, 16 and 8 leading bits).
   */
  candidates(ip: IpHeader, sport: number, dport: number, out: RuleList): void {
    const m = this.maps;
    out.pushRange(this.generic, 0, this.generic.length);
    if (dport >= 0) {
      lookup(out, m.byDstPort, dport);
      lookup(out, m.bySrcPort, sport);
    }
    if (ip.version === 4) {
      const src = ip.src32;
      const dst = ip.dst32;
      lookup(out, m.bySrc32, src | 0);
      lookup(out, m.byDst32, dst | 0);
      lookup(out, m.bySrc16, src >>> 16);
      lookup(out, m.byDst16, dst >>> 16);
      lookup(out, m.bySrc8, src >>> 24);
      lookup(out, m.byDst8, dst >>> 24);
      return;
    }
    const src = ip.src;
    const dst = ip.dst;
    lookup(out, m.bySrc16, 0x10000 | (src[0]! << 8) | src[1]!);
    lookup(out, m.byDst16, 0x10000 | (dst[0]! << 8) | dst[1]!);
    lookup(out, m.bySrc8, 0x10000 | src[0]!);
    lookup(out, m.byDst8, 0x10000 | dst[0]!);
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
