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
  return address32In(f, ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0);
}

/** An IPv4 address as its unsigned 32-bit value (Ip4Header.src32): addressIn without a view of its bytes. */
export function address32In(f: FastAddress, x: number): boolean {
  if (f.any) return true;
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
 * of their `portBits` maps, in runs (ports beyond 0..65535 left out as there).
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

/**
 * Sets the bits of ports lo..hi (within 0..65535) in the 65536-bit map at byte `base` of `bits`: bit by bit to a byte
 * boundary, then whole bytes. (A range like 1024:65535 is 8 KiB of 0xff: 8,064 byte stores, not 64,512 single bits
 * in a loop that runs before V8 has optimized it.)
 */
export function setPortBits(bits: Uint8Array, base: number, lo: number, hi: number): void {
  let p = Math.max(0, lo);
  const last = Math.min(65535, hi);
  for (; p <= last && (p & 7) !== 0; p++) bits[base + (p >> 3)]! |= 1 << (p & 7);
  if (last - p >= 7) {
    const end = (last + 1) & ~7;
    bits.fill(0xff, base + (p >> 3), base + (end >> 3));
    p = end;
  }
  for (; p <= last; p++) bits[base + (p >> 3)]! |= 1 << (p & 7);
}

/** The 65536-bit map of a set's ports from its flat [lo, hi] runs (`portRanges`; the artifact stores them). */
export function portBits(ranges: ArrayLike<number>): Uint8Array {
  const bits = new Uint8Array(8192);
  for (let j = 0; j + 1 < ranges.length; j += 2) setPortBits(bits, 0, ranges[j]!, ranges[j + 1]!);
  return bits;
}

/**
 * Per set number, the ports of the port sets as `portRanges` gives them: set i's runs are
 * `ranges[2 * start[i] .. 2 * start[i + 1])` (none for an address set). The artifact stores it: made from the nested
 * set objects it cost each replay thread some 40 ms of its first packets, in code not yet optimized.
 */
export interface PortRangeTable {
  start: Int32Array;
  ranges: Int32Array;
}

export function portRangeTable(setCount: number, portSet: (i: number) => PortSet | undefined): PortRangeTable {
  const start = new Int32Array(setCount + 1);
  const ranges: number[] = [];
  for (let i = 0; i < setCount; i++) {
    const set = portSet(i);
    if (set !== undefined) for (const x of portRanges([set])) ranges.push(x);
    start[i + 1] = ranges.length / 2;
  }
  return { start, ranges: Int32Array.from(ranges) };
}

/** Starts from 0 ascending to the runs' count, each run lo <= hi within 0..65535 (else the artifact is damaged). */
export function portRangeTableSound(t: PortRangeTable, setCount: number): boolean {
  if (t.start.length !== setCount + 1 || t.start[0] !== 0 || t.start[setCount]! * 2 !== t.ranges.length) return false;
  for (let i = 0; i < setCount; i++) if (t.start[i]! > t.start[i + 1]!) return false;
  for (let j = 0; j < t.ranges.length; j += 2) {
    const lo = t.ranges[j]!;
    const hi = t.ranges[j + 1]!;
    if (lo < 0 || lo > hi || hi > 65535) return false;
  }
  return true;
}

export function portIn(bits: Uint8Array, port: number): boolean {
  return port >= 0 && (bits[port >> 3]! & (1 << (port & 7))) !== 0;
}
