/**
 * TCP sessions as scripts: each side's bytes cut into segments, each segment sent once, twice (retransmitted), with
 * other bytes over it (an overlap that disagrees), or after the next one (out of order); the peer's ACKs; a handshake
 * or none (picked up midstream); FINs, a RST or nothing at the end. The script is what fast-check generates and
 * shrinks; `sessionFrames` turns it into frames with the sequence numbers a real stack would send.
 */
import fc from 'fast-check';
import type { Dir, Frame } from '../case.js';

export type SegMode = 'once' | 'retransmit' | 'overlap' | 'late';

export interface Exchange {
  dir: Dir;
  /** The bytes this side sends in this exchange, and where they are cut. */
  bytes: number[];
  cuts: number[];
  modes: SegMode[];
  /** Whether the peer acknowledges the bytes afterwards. */
  acked: boolean;
}

export interface SessionScript {
  handshake: 'full' | 'none' | 'syn-only';
  exchanges: Exchange[];
  close: 'fin' | 'rst-client' | 'rst-server' | 'none';
  /** Milliseconds between frames. */
  gap: number;
}

const ISN_C = 1000;
const ISN_S = 50000;

export function exchangeArb(bytes: fc.Arbitrary<number[]>, dir?: Dir): fc.Arbitrary<Exchange> {
  return fc.record({
    dir: dir ? fc.constant(dir) : fc.constantFrom<Dir>('c2s', 's2c'),
    bytes,
    cuts: fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 3 }),
    modes: fc.array(fc.constantFrom<SegMode>('once', 'once', 'once', 'retransmit', 'overlap', 'late'), { maxLength: 4 }),
    acked: fc.constantFrom(true, true, true, false),
  });
}

export function sessionArb(exchanges: fc.Arbitrary<Exchange[]>): fc.Arbitrary<SessionScript> {
  return fc.record({
    handshake: fc.constantFrom<SessionScript['handshake']>('full', 'full', 'full', 'none', 'syn-only'),
    exchanges,
    close: fc.constantFrom<SessionScript['close']>('fin', 'fin', 'rst-client', 'rst-server', 'none'),
    gap: fc.integer({ min: 0, max: 30 }),
  });
}

function segmentsOf(e: Exchange): number[][] {
  const cuts = [...new Set(e.cuts.map((c) => c % Math.max(1, e.bytes.length)).filter((c) => c > 0))].sort((a, b) => a - b);
  const out: number[][] = [];
  let at = 0;
  for (const c of cuts) {
    out.push(e.bytes.slice(at, c));
    at = c;
  }
  out.push(e.bytes.slice(at));
  return out.filter((s) => s.length > 0);
}

export function sessionFrames(s: SessionScript): Frame[] {
  const frames: Frame[] = [];
  const next = { c2s: ISN_C + 1, s2c: ISN_S + 1 };
  const other = (d: Dir): Dir => (d === 'c2s' ? 's2c' : 'c2s');
  const tcp = (dir: Dir, seq: number, flags: string, payload: number[] = []) =>
    frames.push({ kind: 'tcp', dir, seq, ack: flags.includes('A') ? next[other(dir)] : 0, flags, payload, dt: s.gap });
  if (s.handshake !== 'none') {
    frames.push({ kind: 'tcp', dir: 'c2s', seq: ISN_C, ack: 0, flags: 'S', payload: [], dt: 0 });
    frames.push({ kind: 'tcp', dir: 's2c', seq: ISN_S, ack: ISN_C + 1, flags: 'SA', payload: [], dt: s.gap });
    if (s.handshake === 'full') tcp('c2s', next.c2s, 'A');
  }
  for (const e of s.exchanges) {
    const segs = segmentsOf(e);
    let late: { seq: number; bytes: number[] } | undefined;
    segs.forEach((seg, i) => {
      const mode = e.modes[i] ?? 'once';
      const seq = next[e.dir];
      next[e.dir] += seg.length;
      if (mode === 'late' && i + 1 < segs.length) {
        late = { seq, bytes: seg };
        return;
      }
      tcp(e.dir, seq, 'PA', seg);
      if (late) {
        tcp(e.dir, late.seq, 'PA', late.bytes);
        late = undefined;
      }
      if (mode === 'retransmit') tcp(e.dir, seq, 'PA', seg);
      // the same sequence numbers again, other bytes: which copy counts is the reassembly policy's choice
      if (mode === 'overlap')
        tcp(
          e.dir,
          seq,
          'PA',
          seg.map((x) => x ^ 0x20),
        );
    });
    if (late) tcp(e.dir, late.seq, 'PA', late.bytes);
    if (e.acked) tcp(other(e.dir), next[other(e.dir)], 'A');
  }
  if (s.close === 'fin') {
    tcp('c2s', next.c2s, 'FA');
    next.c2s += 1;
    tcp('s2c', next.s2c, 'FA');
    next.s2c += 1;
    tcp('c2s', next.c2s, 'A');
  } else if (s.close === 'rst-client') tcp('c2s', next.c2s, 'RA');
  else if (s.close === 'rst-server') tcp('s2c', next.s2c, 'RA');
  return frames;
}
