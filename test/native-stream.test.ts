/**
 * The native front's stream buffer (native/src/honeywall_stream.c) against src/flow/reassembly.ts StreamBuffer (which
 * test/flow-reassembly.test.ts holds to the byte-by-byte definition): one script of inserts (any order, overlap,
 * duplication, retransmission of flushed data, sequence numbers across 2^32), flushes, peeks, initial sequence
 * numbers and looks at its state, run on both, gives the same answers, under the three policies and with queue limits
 * small enough to refuse segments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamBuffer, type StreamPolicy } from '../src/flow/reassembly.js';
import { loadEngine } from '../src/native/engine.js';

const engine = loadEngine();
const POLICIES: StreamPolicy[] = ['bsd', 'first', 'last'];

type Op =
  | { kind: 'insert'; off: number; len: number; fill: number; meta: number }
  | { kind: 'flush'; limit: number }
  | { kind: 'peek'; limit: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'init'; off: number }
  | { kind: 'state'; off: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      off: fc.integer({ min: -20, max: 160 }),
      len: fc.integer({ min: 0, max: 40 }),
      fill: fc.nat(255),
      meta: fc.nat(0xffff),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const), limit: fc.integer({ min: -1, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), limit: fc.integer({ min: -1, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('range' as const), from: fc.nat(100), to: fc.nat(140) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('init' as const), off: fc.integer({ min: -5, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('state' as const), off: fc.nat(160) }) },
);

/** The script as the addon reads it (streamRun), and StreamBuffer's answers to it in the same layout. */
function scriptOf(ops: Op[], isn: number): { code: Int32Array; bytes: Uint8Array } {
  const code: number[] = [];
  const bytes: number[] = [];
  for (const o of ops) {
    const seq = (isn + (o.kind === 'insert' || o.kind === 'init' ? o.off : 0)) >>> 0;
    if (o.kind === 'insert') {
      code.push(1, seq | 0, bytes.length, o.len, o.meta);
      for (let i = 0; i < o.len; i++) bytes.push((o.fill + i) & 0xff);
    } else if (o.kind === 'flush') code.push(2, o.limit);
    else if (o.kind === 'peek') code.push(3, o.limit);
    else if (o.kind === 'range') code.push(4, o.from, o.to);
    else if (o.kind === 'init') code.push(5, seq | 0);
    else code.push(6, o.off);
  }
  return { code: Int32Array.from(code), bytes: Uint8Array.from(bytes) };
}

function runJs(policy: StreamPolicy, maxBytes: number, maxSegs: number, code: Int32Array, bytes: Uint8Array): number[] {
  const s = new StreamBuffer(policy, maxBytes, maxSegs);
  const out: number[] = [];
  const limitOf = (l: number) => (l < 0 ? Infinity : l);
  for (let i = 0; i < code.length; ) {
    switch (code[i]) {
      case 1:
        out.push(+s.insert(code[i + 1]! >>> 0, bytes.subarray(code[i + 2]!, code[i + 2]! + code[i + 3]!), code[i + 4]!));
        i += 5;
        break;
      case 2: {
        const r = s.flush(limitOf(code[i + 1]!));
        if (r === undefined) out.push(0);
        else out.push(r.data.length, r.seq | 0, ...r.data);
        i += 2;
        break;
      }
      case 3: {
        const d = s.peek(limitOf(code[i + 1]!));
        out.push(d.length, ...d);
        i += 2;
        break;
      }
      case 4:
        out.push(...s.peekRange(code[i + 1]!, code[i + 2]!));
        i += 3;
        break;
      case 5:
        s.init(code[i + 1]! >>> 0);
        i += 2;
        break;
      default: {
        const meta = s.firstMeta();
        out.push(s.contiguous(), s.piecesBefore(code[i + 1]!), meta ?? 0, meta === undefined ? 0 : 1, s.queuedBytes, s.queuedSegments);
        out.push(s.overlaps, s.refused, s.base === undefined ? 0 : s.base | 0, s.base === undefined ? 0 : 1);
        i += 2;
      }
    }
  }
  return out;
}

describe('the native stream buffer (honeywall_stream.c)', () => {
  it('answers any script of inserts, flushes and peeks as StreamBuffer does, under the three policies', () => {
    let overlapping = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.array(op, { maxLength: 80, size: 'large' }),
        fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constant(0xffffffe0)),
        fc.constantFrom(1 << 20, 200, 60),
        fc.constantFrom(2621, 12, 4),
        (policy, ops, isn, maxBytes, maxSegs) => {
          const { code, bytes } = scriptOf(ops, isn);
          const want = runJs(POLICIES[policy]!, maxBytes, maxSegs, code, bytes);
          const got = Array.from(engine.streamRun(policy, maxBytes, maxSegs, code, bytes));
          expect(got).toEqual(want);
          const end = runJs(POLICIES[policy]!, maxBytes, maxSegs, Int32Array.from([...code, 6, 0]), bytes).slice(-4);
          overlapping += end[0]!;
          refused += end[1]!;
        },
      ),
      { numRuns: 4000 },
    );
    // the generator reaches overlaps and the queue limits
    expect(overlapping).toBeGreaterThan(6000);
    expect(refused).toBeGreaterThan(5000);
  });
});
