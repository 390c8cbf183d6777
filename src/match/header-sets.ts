/**
 * Fast forms of the rule header's address and port sets, built once per set (rules share set objects): ports as a
 * 65536-bit map, IPv4 addresses as sorted disjoint intervals searched by bisection. IPv6 falls back to the
 * resolver's `addressMatches`. Same meaning as `addressMatches` / `portMatches` (tested against them).
 */
import { addressMatches, type AddressSet, type PortSet } from '../config/variables.js';

type Interval = [number, number]; // inclusive, unsigned 32-bit

function normalize(list: Interval[]): Interval[] {
  list.sort((a, b) => a[0] - b[0]);
  const out: Interval[] = [];
  for (const iv of list) {
    const last = out[out.length - 1];
    if (last && iv[0] <= last[1] + 1) last[1] = Math.max(last[1], iv[1]);
    else out.push([iv[0], iv[1]]);
  }
  return out;
}

function subtract(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const [s0, e0] of a) {
    let s = s0;
    while (j < b.length && b[j]![1] < s) j++;
    let k = j;
    while (s <= e0) {
      const cut = b[k];
      if (!cut || cut[0] > e0) {
        out.push([s, e0]);
        break;
      }
      if (cut[0] > s) out.push([s, cut[0] - 1]);
      s = cut[1] + 1;
      k++;
    }
  }
  return out;
}

const ALL: Interval[] = [[0, 0xffffffff]];

function append(to: Interval[], from: readonly Interval[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]!);
}

/** IPv4 intervals of a set (undefined parts for IPv6 entries are ignored: IPv4 addresses never match them). */
function v4Intervals(set: AddressSet): Interval[] {
  const exclude: Interval[] = [];
  // (Loops, not push(...spread): the intervals of a large set overflowed the stack as spread arguments.)
  for (const e of set.exclude) append(exclude, 'kind' in e ? cidr4(e) : v4Intervals(e));
  let base: Interval[];
  if (set.any || (set.include.length === 0 && set.exclude.length > 0)) base = ALL.map((x) => [x[0], x[1]] as Interval);
  else {
    base = [];
    for (const e of set.include) append(base, 'kind' in e ? cidr4(e) : v4Intervals(e));
  }
  return subtract(normalize(base), normalize(exclude));
}

function cidr4(c: { family: 4 | 6; addr: Uint8Array; prefix: number }): Interval[] {
  if (c.family !== 4) return [];
  const a = ((c.addr[0]! << 24) | (c.addr[1]! << 16) | (c.addr[2]! << 8) | c.addr[3]!) >>> 0;
  const size = 2 ** (32 - c.prefix);
  const start = a - (a % size);
  return [[start, start + size - 1]];
}

export interface FastAddress {
  starts: Float64Array;
  ends: Float64Array;
  set: AddressSet;
  any: boolean;
}

const addrCache = new WeakMap<AddressSet, FastAddress>();
const portCache = new WeakMap<PortSet, Uint8Array>();

export function fastAddress(set: AddressSet): FastAddress {
  let f = addrCache.get(set);
  if (f === undefined) {
    const iv = v4Intervals(set);
    f = {
      starts: Float64Array.from(iv.map((x) => x[0])),
      ends: Float64Array.from(iv.map((x) => x[1])),
      set,
      any: set.any && set.exclude.length === 0,
    };
    addrCache.set(set, f);
  }
  return f;
}

export function addressIn(f: FastAddress, ip: Uint8Array): boolean {
  if (f.any) return true;
  if (ip.length !== 4) return addressMatches(f.set, ip);
  const x = ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0;
  const s = f.starts;
  let lo = 0;
  let hi = s.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]! <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && x <= f.ends[hi]!;
}

function portIntervals(set: PortSet): Interval[] {
  const exclude: Interval[] = [];
  for (const e of set.exclude) append(exclude, Array.isArray(e) ? [[e[0], e[1]] as Interval] : portIntervals(e));
  let base: Interval[];
  if (set.any || (set.include.length === 0 && set.exclude.length > 0)) base = [[0, 65535]];
  else {
    base = [];
    for (const e of set.include) append(base, Array.isArray(e) ? [[e[0], e[1]] as Interval] : portIntervals(e));
  }
  return subtract(normalize(base), normalize(exclude));
}

/**
 * The ports of the union of some sets as [lo, hi] ranges, flat, sorted, neither overlapping nor touching: the bits
 * of their `fastPorts` maps, in runs (ports beyond 0..65535 left out as there).
 */
export function portRanges(sets: Iterable<PortSet>): number[] {
  const all: Interval[] = [];
  for (const set of sets) {
    for (const [a, b] of portIntervals(set)) {
      const lo = Math.max(0, a);
      const hi = Math.min(65535, b);
      if (lo <= hi) all.push([lo, hi]);
    }
  }
  const out: number[] = [];
  for (const [lo, hi] of normalize(all)) out.push(lo, hi);
  return out;
}

export function fastPorts(set: PortSet): Uint8Array {
  let bits = portCache.get(set);
  if (bits === undefined) {
    bits = new Uint8Array(8192);
    for (const [a, b] of portIntervals(set)) for (let p = a; p <= b && p < 65536; p++) bits[p >> 3]! |= 1 << (p & 7);
    portCache.set(set, bits);
  }
  return bits;
}

export function portIn(bits: Uint8Array, port: number): boolean {
  return port >= 0 && (bits[port >> 3]! & (1 << (port & 7))) !== 0;
}
