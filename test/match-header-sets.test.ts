/** The matcher's fast address intervals and port bitmaps answer exactly as the resolver's addressMatches/portMatches. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressMatches, portMatches, resolveAddress, resolvePorts, VariableTable } from '../src/config/variables.js';
import { parseAddress, parsePort } from '../src/parser/address.js';
import {
  addressIn,
  fastAddress,
  portBits,
  portIn,
  portRanges,
  portRangeTable,
  portRangeTableSound,
  setPortBits,
  type PortRangeTable,
} from '../src/match/header-sets.js';

const vars = VariableTable.withDefaults();
const cidr = fc
  .tuple(fc.constantFrom(10, 192, 172), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom(8, 16, 24, 30, 32))
  .map(([a, b, c, p]) => `${a}.${b}.${c}.1/${p}`);
const addrItem = fc.tuple(fc.boolean(), cidr).map(([neg, c]) => (neg ? '!' : '') + c);
const addrText = fc.oneof(
  cidr,
  fc.array(addrItem, { minLength: 1, maxLength: 4 }).map((l) => `[${l.join(',')}]`),
  fc.array(addrItem, { minLength: 1, maxLength: 3 }).map((l) => `![${l.join(',')}]`),
  fc.tuple(cidr, fc.array(addrItem, { minLength: 1, maxLength: 3 })).map(([c, l]) => `[${c},[${l.join(',')}]]`),
);
const ip = fc
  .tuple(fc.constantFrom(10, 192, 172), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map((a) => Uint8Array.from(a));

const portItem = fc
  .tuple(fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }))
  .map(([neg, a, n]) => `${neg ? '!' : ''}${a}:${a + n}`);
const portText = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map(String),
  fc.constantFrom('any', '!80', '1024:', ':1023', '65535', '[0,65535]', '![1:65534]'),
  fc.array(portItem, { minLength: 1, maxLength: 4 }).map((l) => `[${l.join(',')}]`),
  portItem,
);

describe('fast header sets', () => {
  it('addresses: intervals == addressMatches', () => {
    fc.assert(
      fc.property(addrText, fc.array(ip, { minLength: 1, maxLength: 20 }), (text, ips) => {
        const parsed = parseAddress(text);
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const set = resolveAddress(parsed.value, vars);
        const fast = fastAddress(set);
        for (const a of ips) expect(addressIn(fast, a)).toBe(addressMatches(set, a));
      }),
      { numRuns: 500 },
    );
  });
  it('ports: bitmap == portMatches', () => {
    fc.assert(
      fc.property(portText, (text) => {
        const parsed = parsePort(text);
        fc.pre(parsed.ok);
        if (!parsed.ok) return;
        const set = resolvePorts(parsed.value, vars);
        const bits = portBits(portRanges([set]));
        for (let p = 0; p < 400; p++) expect(portIn(bits, p)).toBe(portMatches(set, p));
      }),
      { numRuns: 300 },
    );
  });
  it('ports: setPortBits sets exactly lo..hi of the map at its offset, whatever the bytes around it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 2 }), (a, b, k) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const maps = new Uint8Array(3 * 8192);
        setPortBits(maps, k * 8192, lo, hi);
        for (let m = 0; m < 3; m++) {
          const bits = maps.subarray(m * 8192, (m + 1) * 8192);
          for (const p of [0, lo - 1, lo, lo + 1, (lo + hi) >> 1, hi - 1, hi, hi + 1, 65535, (lo & ~7) - 1, (hi | 7) + 1]) {
            if (p >= 0 && p <= 65535) expect(portIn(bits, p), `map ${m} port ${p}`).toBe(m === k && p >= lo && p <= hi);
          }
        }
        let count = 0;
        for (const byte of maps) for (let x = byte; x !== 0; x &= x - 1) count++;
        expect(count).toBe(hi - lo + 1);
      }),
      { numRuns: 500 },
    );
  });
  it("ports: a stored table of the sets' runs gives each set's map; a damaged table is told from a sound one", () => {
    const texts = ['80', '[80,8080,1024:2048]', 'any', '!80', '[1:65534]', '![6000:6063,7000]'];
    const sets = texts.map((t) => {
      const p = parsePort(t);
      if (!p.ok) throw new Error(t);
      return resolvePorts(p.value, vars);
    });
    // set 1 is an address set in the artifact (no runs); the others ports
    const t = portRangeTable(sets.length + 1, (i) => (i === 1 ? undefined : sets[i === 0 ? 0 : i - 1]));
    expect(portRangeTableSound(t, sets.length + 1)).toBe(true);
    expect(t.start[2]! - t.start[1]!).toBe(0);
    for (let i = 0; i <= sets.length; i++) {
      if (i === 1) continue;
      const set = sets[i === 0 ? 0 : i - 1]!;
      const bits = portBits(t.ranges.subarray(2 * t.start[i]!, 2 * t.start[i + 1]!));
      for (const p of [0, 1, 79, 80, 81, 1023, 1024, 2048, 2049, 6000, 6063, 6064, 7000, 8080, 65534, 65535])
        expect(portIn(bits, p)).toBe(portMatches(set, p));
    }
    const n = sets.length + 1;
    const damaged: [string, (d: PortRangeTable) => PortRangeTable][] = [
      ['start too short', (d) => ({ ...d, start: d.start.subarray(0, n) })],
      ['start not from 0', (d) => ({ ...d, start: d.start.map((x, i) => (i === 0 ? 1 : x)) })],
      ['start descending', (d) => ({ ...d, start: d.start.map((x, i) => (i === 3 ? d.start[4]! + 1 : x)) })],
      ['runs beyond the last start', (d) => ({ ...d, ranges: Int32Array.from([...d.ranges, 1, 2]) })],
      ['a run lo > hi', (d) => ({ ...d, ranges: d.ranges.map((x, j) => (j === 0 ? d.ranges[1]! + 1 : x)) })],
      ['a port above 65535', (d) => ({ ...d, ranges: d.ranges.map((x, j) => (j === 1 ? 65536 : x)) })],
      ['a negative port', (d) => ({ ...d, ranges: d.ranges.map((x, j) => (j === 0 ? -1 : x)) })],
    ];
    for (const [what, damage] of damaged) expect(portRangeTableSound(damage(t), n), what).toBe(false);
  });
  it("ports: portRanges of some sets == the runs of their bitmaps' union", () => {
    fc.assert(
      fc.property(fc.array(portText, { minLength: 1, maxLength: 4 }), (texts) => {
        const sets = texts.flatMap((t) => {
          const p = parsePort(t);
          return p.ok ? [resolvePorts(p.value, vars)] : [];
        });
        fc.pre(sets.length > 0);
        const union = new Uint8Array(8192);
        for (const s of sets) portBits(portRanges([s])).forEach((b, i) => (union[i]! |= b));
        const runs: number[] = [];
        let start = -1;
        for (let p = 0; p <= 65536; p++) {
          const on = p < 65536 && portIn(union, p);
          if (on && start < 0) start = p;
          else if (!on && start >= 0) {
            runs.push(start, p - 1);
            start = -1;
          }
        }
        expect(portRanges(sets)).toEqual(runs);
      }),
      { numRuns: 300 },
    );
  });
});
