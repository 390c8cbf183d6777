/**
 * The inline stream's history hands out views of its bytes (the inspection window, and the HTTP buffers parsed from
 * it, which the next segment's inspection compares with as "what was seen before"). A view must keep showing the
 * bytes it showed when it was taken, whatever is appended later: if the history were compacted in place, the
 * previous window's HTTP buffers would show other bytes, and a rule could be judged against data that never was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_MAX, InlineStream } from '../src/inline/stream.js';

describe('InlineStream history views', () => {
  it('a view taken with bytes() keeps its content across later appends (compaction included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.integer({ min: 1, max: 9000 }), fill: fc.integer({ min: 0, max: 255 }), take: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        (steps) => {
          const st = new InlineStream<number>();
          st.classify(1000, new Uint8Array(0));
          const views: { view: Uint8Array; copy: Uint8Array }[] = [];
          for (const s of steps) {
            const at = st.append(new Uint8Array(s.len).fill(s.fill));
            if (s.take) {
              const view = st.bytes(at, at + s.len);
              views.push({ view, copy: view.slice() });
            }
          }
          for (const v of views) expect(Buffer.compare(v.view, v.copy)).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the bytes kept are the last HISTORY_MAX at least, as appended', () => {
    const st = new InlineStream<number>();
    st.classify(1, new Uint8Array(0));
    let total = 0;
    for (let i = 0; i < 100; i++) {
      st.append(new Uint8Array(1500).fill(i));
      total += 1500;
    }
    const tail = st.bytes(total - HISTORY_MAX, total);
    for (let k = 0; k < tail.length; k++) expect(tail[k]).toBe(Math.floor((total - HISTORY_MAX + k) / 1500));
  });
});
