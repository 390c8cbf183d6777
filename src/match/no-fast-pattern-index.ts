/**
 * Rules without a fast pattern, indexed so that a packet is not tried against all of them: the IP reputation rules
 * (`alert tcp [hundreds of networks] any -> $HOME_NET any`) would otherwise be. A rule whose source (else
 * destination) is a plain list of networks of /16 or longer is filed under each network's first two bytes; else by a
 * short list of destination (else source) ports; else, networks of /8 or longer, under the first byte; the rest is
 * always tried. Built at compile time (it reads the rules' address sets, the largest part of a rule set's headers)
 * and stored in the artifact as plain tables, so that loading parses no set.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import { fastPorts } from './header-sets.js';
import { appliesTo, PROTO_CLASSES } from './prefilter.js';
import { PROTO_TCP, PROTO_UDP, RULE_BIDIRECTIONAL, RULE_FAST_PATTERN, type RuleTable } from './rule-table.js';

/** One key -> rules map as typed arrays: rules of keys[i] are rules[start[i], start[i + 1]). */
export interface KeyedRules {
  keys: Int32Array;
  start: Int32Array;
  rules: Int32Array;
}

export const INDEX_MAPS = ['bySrc16', 'byDst16', 'bySrc8', 'byDst8', 'byDstPort', 'bySrcPort'] as const;
export type IndexMap = (typeof INDEX_MAPS)[number];

/** A protocol class's index, plain data. */
export type NoFastPatternTables = Record<IndexMap, KeyedRules> & { generic: Int32Array };

const CODE_NAME = ['tcp', 'udp', 'icmp', 'ip'] as const;

/** The index of every protocol class (tcp, udp, icmp, other) over the table's rules without a fast pattern. */
export function buildNoFastPatternIndex(table: RuleTable): NoFastPatternTables[] {
  const c = table.columns;
  const keys16 = new Map<number, number[] | undefined>();
  const keys8 = new Map<number, number[] | undefined>();
  const ports = new Map<number, number[] | undefined>();
  const portsOf = (set: number) => {
    if (!ports.has(set)) ports.set(set, portList(table.portSet(set)));
    return ports.get(set);
  };
  const keysAt = (set: number, bits: 8 | 16) => {
    const cache = bits === 16 ? keys16 : keys8;
    if (!cache.has(set)) cache.set(set, keysOf(table.addressSet(set), bits));
    return cache.get(set);
  };
  return PROTO_CLASSES.map((cls) => {
    const maps: Record<IndexMap, Map<number, number[]>> = {
      bySrc16: new Map(), byDst16: new Map(), bySrc8: new Map(), byDst8: new Map(), byDstPort: new Map(), bySrcPort: new Map(),
    };
    const generic: number[] = [];
    const file = (i: number, set: number, by: Map<number, number[]>, bits: 8 | 16): boolean => {
      const keys = keysAt(set, bits);
      if (keys === undefined) return false;
      for (const k of keys) push(by, k, i);
      return true;
    };
    for (let i = 0; i < table.count; i++) {
      if ((c.flags[i]! & RULE_FAST_PATTERN) !== 0 || !appliesTo(CODE_NAME[c.proto[i]!]!, cls)) continue;
      const bidi = (c.flags[i]! & RULE_BIDIRECTIONAL) !== 0;
      if (!bidi && file(i, c.src[i]!, maps.bySrc16, 16)) continue;
      if (!bidi && file(i, c.dst[i]!, maps.byDst16, 16)) continue;
      // ports before /8 networks: $HOME_NET is often made of /8s, and so is the traffic it receives
      const hasPorts = c.proto[i] === PROTO_TCP || c.proto[i] === PROTO_UDP;
      const dp = hasPorts && !bidi ? portsOf(c.dstPorts[i]!) : undefined;
      const sp = hasPorts && !bidi && !dp ? portsOf(c.srcPorts[i]!) : undefined;
      if (dp) for (const p of dp) push(maps.byDstPort, p, i);
      else if (sp) for (const p of sp) push(maps.bySrcPort, p, i);
      else if (!bidi && file(i, c.src[i]!, maps.bySrc8, 8)) continue;
      else if (!bidi && file(i, c.dst[i]!, maps.byDst8, 8)) continue;
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

/** The ports of a set when there are at most 1024 of them (else undefined). */
function portList(set: PortSet): number[] | undefined {
  if (set.any && set.exclude.length === 0) return undefined;
  const bits = fastPorts(set);
  const out: number[] = [];
  for (let p = 0; p < 65536; p++) {
    if (bits[p >> 3]! & (1 << (p & 7))) {
      out.push(p);
      if (out.length > 1024) return undefined;
    }
  }
  return out;
}

/**
 * The keys (first `bits` bits of the address, IPv6 flagged) of a set made only of networks at least that long, else
 * undefined.
 */
function keysOf(set: AddressSet, bits: 8 | 16): number[] | undefined {
  if (set.any || set.exclude.length > 0 || set.include.length === 0) return undefined;
  const out = new Set<number>();
  for (const e of set.include) {
    if ('kind' in e) {
      if (e.prefix < bits) return undefined;
      const v6 = e.family === 6 ? 0x10000 : 0;
      out.add(bits === 16 ? v6 | (e.addr[0]! << 8) | e.addr[1]! : v6 | e.addr[0]!);
    } else {
      const inner = keysOf(e, bits);
      if (!inner) return undefined;
      for (const k of inner) out.add(k);
    }
  }
  return [...out];
}

/** The index of one protocol class, ready for lookups. */
export class NoFastPatternIndex {
  private readonly generic: Int32Array;
  private readonly maps: Record<IndexMap, Map<number, Int32Array>>;

  constructor(t: NoFastPatternTables) {
    this.generic = t.generic;
    const maps = {} as Record<IndexMap, Map<number, Int32Array>>;
    for (const name of INDEX_MAPS) {
      const k = t[name];
      const m = new Map<number, Int32Array>();
      for (let i = 0; i < k.keys.length; i++) m.set(k.keys[i]!, k.rules.subarray(k.start[i]!, k.start[i + 1]!));
      maps[name] = m;
    }
    this.maps = maps;
  }

  /** Candidates for a packet with these addresses and ports (-1 without ports), appended to `out` (maybe twice). */
  candidates(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, out: number[]): void {
    const m = this.maps;
    append(out, this.generic);
    if (dport >= 0) {
      append(out, m.byDstPort.get(dport));
      append(out, m.bySrcPort.get(sport));
    }
    const v6 = src.length === 16 ? 0x10000 : 0;
    append(out, m.bySrc16.get(v6 | (src[0]! << 8) | src[1]!));
    append(out, m.byDst16.get(v6 | (dst[0]! << 8) | dst[1]!));
    append(out, m.bySrc8.get(v6 | src[0]!));
    append(out, m.byDst8.get(v6 | dst[0]!));
  }
}

function append(out: number[], rules: Int32Array | undefined): void {
  if (rules === undefined) return;
  for (let i = 0; i < rules.length; i++) out.push(rules[i]!);
}
