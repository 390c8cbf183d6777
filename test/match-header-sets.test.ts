/** The matcher's fast address intervals and port bitmaps answer exactly as the resolver's addressMatches/portMatches. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressMatches, portMatches, resolveAddress, resolvePorts, VariableTable } from '../src/config/variables.js';
import { parseAddress, parsePort } from '../src/parser/address.js';
import { addressIn, fastAddress, fastPorts, portIn, portRanges } from '../src/match/header-sets.js';

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
        const bits = fastPorts(set);
        for (let p = 0; p < 400; p++) expect(portIn(bits, p)).toBe(portMatches(set, p));
      }),
      { numRuns: 300 },
    );
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
        for (const s of sets) fastPorts(s).forEach((b, i) => (union[i]! |= b));
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
