/**
 * The stream buffer (src/flow/reassembly.ts) resolves overlaps when a segment arrives and keeps disjoint pieces; this
 * holds it to the plain definition, byte by byte: each byte of the stream is held once, a new segment's byte replaces
 * a held one under `last` always, under `bsd` when the new segment starts before the segment that wrote the held byte
 * (after trimming what was already flushed), under `first` never; a flush hands out the bytes from the base up to
 * the first hole. Any order, overlap, duplication and flush in between, for the three policies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamBuffer, type StreamPolicy } from '../src/flow/reassembly.js';

class ByteModel {
  base = 0;
  private held = new Map<number, { v: number; origin: number }>();
  constructor(private readonly policy: StreamPolicy) {}

  insert(off: number, bytes: Uint8Array): void {
    let start = off;
    let b = bytes;
    if (start + b.length <= this.base) return;
    if (start < this.base) {
      b = b.subarray(this.base - start);
      start = this.base;
    }
    for (let i = 0; i < b.length; i++) {
      const x = start + i;
      const h = this.held.get(x);
      if (h === undefined || this.policy === 'last' || (this.policy === 'bsd' && start < h.origin)) this.held.set(x, { v: b[i]!, origin: start });
    }
  }

  contiguous(): number[] {
    const out: number[] = [];
    for (let x = this.base; this.held.has(x); x++) out.push(this.held.get(x)!.v);
    return out;
  }

  flush(limit: number): number[] {
    const out = this.contiguous().slice(0, limit);
    for (let i = 0; i < out.length; i++) this.held.delete(this.base + i);
    this.base += out.length;
    return out;
  }
}

type Op = { kind: 'insert'; off: number; len: number; fill: number } | { kind: 'flush'; limit: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), off: fc.nat(160), len: fc.integer({ min: 1, max: 40 }), fill: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), limit: fc.integer({ min: 1, max: 200 }) }) },
);

describe('stream buffer', () => {
  for (const policy of ['bsd', 'first', 'last'] as const) {
    it(`${policy}: equals the byte-by-byte definition under any inserts and flushes`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 0xffffffff }), (ops, isn) => {
          const sb = new StreamBuffer(policy, 1 << 20, 100_000);
          sb.init(isn);
          const model = new ByteModel(policy);
          let flushed = 0;
          for (const o of ops) {
            if (o.kind === 'insert') {
              // distinct bytes per segment so that which segment won is visible
              const bytes = Uint8Array.from({ length: o.len }, (_, i) => (o.fill + i * 7) & 0xff);
              sb.insert((isn + o.off) >>> 0, bytes);
              model.insert(o.off, bytes);
            } else {
              const got = sb.flush(o.limit);
              const want = model.flush(o.limit);
              expect(got === undefined ? [] : [...got.data]).toEqual(want);
              if (got !== undefined) expect(got.seq).toBe((isn + flushed) >>> 0);
              flushed += want.length;
            }
            expect([...sb.peek()]).toEqual(model.contiguous());
          }
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('segments mostly overwritten keep only what is held alive, not their whole buffers', () => {
    for (const policy of ['bsd', 'first', 'last'] as const) {
      const sb = new StreamBuffer(policy, 1 << 20, 2621);
      sb.init(0);
      sb.insert(1, new Uint8Array(70_000).fill(1)); // a hole at 0 keeps everything held
      // each 64 KB segment brings one new byte at its end (first/bsd: the rest is old); under last it overwrites
      for (let i = 0; i < 500; i++) sb.insert(2 + i, new Uint8Array(69_999 + 1).fill(2));
      expect(sb.retainedBytes).toBeLessThanOrEqual(2 * sb.queuedBytes + 4096);
    }
  });

  it('thousands of small overlapping segments cost a copy per peek, not a walk over every held byte', () => {
    // the fuzzer's case: the work per segment no longer grows with what is held (counted in pieces, not timed)
    const sb = new StreamBuffer('bsd', 1 << 20, 4096);
    sb.init(0);
    for (let i = 0; i < 20_000; i++) sb.insert(1 + ((i * 37) % 3000), new Uint8Array(3).fill(i & 0xff));
    expect(sb.queuedSegments).toBeLessThanOrEqual(4096);
    expect(sb.peek().length).toBe(0); // byte 0 never came
    sb.insert(0, Uint8Array.of(1));
    expect(sb.peek().length).toBe(3003);
  });
});
