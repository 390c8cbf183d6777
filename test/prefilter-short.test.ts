/**
 * The law of the short-pattern table (src/match/short-patterns.ts, native scan_short): a block database compiled
 * without the patterns of one and two bytes, given them with hsShortPatterns, reports exactly the ids (in the same
 * order) of a database holding every pattern; with and without the port filter, compiled in block or in streaming
 * mode (a small database is compiled in streaming mode and scanned as blocks). Checked on generated patterns
 * (caseless or not, sharing bytes, one to four bytes) and payloads (runs of one byte, both cases, NUL).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HS_CASELESS, HS_SINGLEMATCH, loadEngine } from '../src/native/engine.js';
import { attachShort, blockInputs, splitShort, type PatternList } from '../src/match/short-patterns.js';

const engine = loadEngine();
const BYTES = [0x61, 0x62, 0x41, 0x42, 0x00, 0x7a];
const patternArb = fc.record({ bytes: fc.array(fc.constantFrom(...BYTES), { minLength: 1, maxLength: 4 }), nocase: fc.boolean() });
const payloadArb = fc.oneof(
  fc.array(fc.constantFrom(...BYTES), { maxLength: 64 }),
  fc.tuple(fc.constantFrom(...BYTES), fc.integer({ min: 0, max: 300 })).map(([b, n]) => new Array<number>(n).fill(b)),
);
const PORT_MAPS = 3;

function groupOf(patterns: { bytes: number[]; nocase: boolean }[]): PatternList {
  const patternStart = new Int32Array(patterns.length + 1);
  patterns.forEach((p, i) => (patternStart[i + 1] = patternStart[i]! + p.bytes.length));
  return {
    patternBytes: Uint8Array.from(patterns.flatMap((p) => p.bytes)),
    patternStart,
    nocase: Uint8Array.from(patterns.map((p) => (p.nocase ? 1 : 0))),
  };
}

/** Three port maps: port 80 only, ports 0-1023, every port but 80. */
function portMaps(): Uint8Array {
  const maps = new Uint8Array(PORT_MAPS * 8192);
  const set = (m: number, p: number) => (maps[m * 8192 + (p >> 3)]! |= 1 << (p & 7));
  set(0, 80);
  for (let p = 0; p < 1024; p++) set(1, p);
  for (let p = 0; p < 65536; p++) if (p !== 80) set(2, p);
  return maps;
}

describe('short patterns: the table and Hyperscan give the same ids', () => {
  it('on generated patterns and payloads, with and without the port filter', () => {
    let split = 0;
    let found = 0;
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 12 }),
        fc.array(payloadArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.integer({ min: -1, max: PORT_MAPS - 1 }), fc.integer({ min: -1, max: PORT_MAPS - 1 }), fc.boolean()), {
          minLength: 12,
          maxLength: 12,
        }),
        fc.constantFrom(-1, 80, 443, 5000),
        // (a small database is compiled in streaming mode and scanned as blocks: prefilter.ts STREAM_COMPILED_MAX_PATTERNS)
        fc.boolean(),
        (patterns, payloads, filters, port, streamMode) => {
          const g = groupOf(patterns);
          const n = patterns.length;
          const ids = Array.from({ length: n }, (_, i) => i);
          const maxId = n - 1;
          const whole = engine.hsLoad(
            engine.hsCompile(
              patterns.map((_, i) => g.patternBytes.subarray(g.patternStart[i]!, g.patternStart[i + 1]!)),
              Uint32Array.from(patterns.map((p) => (p.nocase ? HS_CASELESS : 0) | HS_SINGLEMATCH)),
              Uint32Array.from(ids),
              false,
            ),
            maxId,
          );
          const { long, short } = splitShort(g, ids);
          if (short.length > 0) split++;
          const parted = engine.hsLoad(engine.hsCompile(...blockInputs(g, long), streamMode), maxId);
          attachShort(engine, parted, g, short);
          if (port >= 0) {
            const src = Int32Array.from(filters.slice(0, n).map((f) => f[0]));
            const dst = Int32Array.from(filters.slice(0, n).map((f) => f[1]));
            const bidir = Uint8Array.from(filters.slice(0, n).map((f) => (f[2] ? 1 : 0)));
            for (const db of [whole, parted]) engine.hsPortFilter(db, src, dst, bidir, portMaps());
          }
          for (const bytes of payloads) {
            const buf = Uint8Array.from(bytes);
            const a = new Int32Array(n);
            const b = new Int32Array(n);
            const na = port >= 0 ? engine.hsScan(whole, buf, 0, buf.length, a, port, 80) : engine.hsScan(whole, buf, 0, buf.length, a);
            const nb = port >= 0 ? engine.hsScan(parted, buf, 0, buf.length, b, port, 80) : engine.hsScan(parted, buf, 0, buf.length, b);
            expect([...b.subarray(0, nb)]).toEqual([...a.subarray(0, na)]);
            found += na;
          }
        },
      ),
      { numRuns: 400, seed: 20261203 },
    );
    // the property met the split and matches, not only empty results
    expect(split).toBeGreaterThan(100);
    expect(found).toBeGreaterThan(500);
  });

  it('a scan of a subrange sees only that range', () => {
    const g = groupOf([
      { bytes: [0x61], nocase: false },
      { bytes: [0x62, 0x63], nocase: true },
      { bytes: [0x64, 0x64, 0x64], nocase: false },
    ]);
    const { long, short } = splitShort(g, [0, 1, 2]);
    expect({ long, short }).toEqual({ long: [2], short: [0, 1] });
    const db = engine.hsLoad(engine.hsCompile(...blockInputs(g, long), false), 2);
    attachShort(engine, db, g, short);
    const buf = Buffer.from('aBCxddd');
    const out = new Int32Array(3);
    expect([...out.subarray(0, engine.hsScan(db, buf, 0, buf.length, out))]).toEqual([0, 1, 2]);
    expect([...out.subarray(0, engine.hsScan(db, buf, 1, 3, out))]).toEqual([1]);
    expect([...out.subarray(0, engine.hsScan(db, buf, 2, 7, out))]).toEqual([2]);
  });

  it('refuses a table entry that is not a short pattern or names an unknown id', () => {
    const db = engine.hsLoad(engine.hsCompile([Buffer.from('abc')], Uint32Array.of(HS_SINGLEMATCH), Uint32Array.of(0), false), 1);
    expect(() => engine.hsShortPatterns(db, Buffer.from('abc'), Int32Array.of(0, 3), Uint8Array.of(0), Int32Array.of(1))).toThrow(/one or two bytes/);
    expect(() => engine.hsShortPatterns(db, Buffer.from('a'), Int32Array.of(0, 1), Uint8Array.of(0), Int32Array.of(2))).toThrow(/out of range/);
  });
});
