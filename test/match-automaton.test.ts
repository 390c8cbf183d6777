/** The prefilter automaton finds exactly the patterns a naive case-insensitive search finds (both table layouts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAutomaton, scanAutomaton } from '../src/match/aho-corasick.js';

const fold = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
function naive(patterns: Uint8Array[], b: Uint8Array): number[] {
  const out: number[] = [];
  patterns.forEach((p, id) => {
    for (let i = 0; i + p.length <= b.length; i++) {
      let ok = true;
      for (let k = 0; k < p.length && ok; k++) ok = fold(b[i + k]!) === fold(p[k]!);
      if (ok) return void out.push(id);
    }
  });
  return out;
}

const bytes = (max: number) => fc.array(fc.constantFrom(0x61, 0x62, 0x41, 0x42, 0x00, 0xff, 0x7a), { minLength: 1, maxLength: max }).map((a) => Uint8Array.from(a));

describe('Aho-Corasick prefilter', () => {
  for (const wide of [false, true]) {
    it(`finds every pattern present, and only those (${wide ? '32-bit' : '16-bit'} tables)`, () => {
      fc.assert(
        fc.property(fc.array(bytes(5), { minLength: 1, maxLength: 12 }), bytes(40), (patterns, text) => {
          const a = buildAutomaton(patterns, wide);
          expect(a.delta instanceof Uint16Array).toBe(!wide);
          const got: number[] = [];
          scanAutomaton(a, text, new Int32Array(patterns.length), 1, (id) => got.push(id));
          expect(got.sort((x, y) => x - y)).toEqual(naive(patterns, text));
        }),
        { numRuns: 300 },
      );
    });
  }
});
