/**
 * One direction of a TCP session as the inline gateway sees it: the bytes already let through, in order, and the
 * segments held back because they arrived before a gap. A new segment is classified against what is known:
 *
 *   in order      it continues the stream (possibly after a part that repeats known bytes): inspect the new bytes;
 *   gap           it starts beyond the next expected byte: hold it (no verdict) until the gap fills;
 *   duplicate     every byte of it is already known, with the same value (a retransmission): let it through;
 *   conflict      it overlaps known or held bytes with different values: drop it (a honeypot's own stack never
 *                 sends different bytes for the same sequence numbers; an intruder's crafted packets might, to show
 *                 the IPS one stream and the receiver another);
 *   stale         it overlaps bytes older than the history kept, which cannot be compared: drop it.
 *
 * Bytes the gateway rewrote (`replace`) are kept as rewritten; a retransmission differing only there is given the
 * same rewrite instead of being refused.
 */
import { seqDiff } from '../flow/reassembly.js';
import type { NativeHandle } from '../native/engine.js';
import type { HttpBuffers } from '../http/session.js';
import type { Packet } from '../packet/packet.js';

/** Bytes of history kept per direction (for overlap comparison and the inspection window). */
export const HISTORY_MAX = 32 * 1024;
/** The inspection window of a stream without message boundaries (Snort's paf_max). */
export const WINDOW_MAX = 16_000;
/** Segments and bytes held per direction before the next out-of-order one is dropped instead. */
export const HOLD_MAX_SEGMENTS = 64;
export const HOLD_MAX_BYTES = 256 * 1024;
/** Rewritten ranges remembered per direction. */
const REPLACED_MAX = 64;

export interface Held<H> {
  seq: number;
  payload: Uint8Array;
  /** The packet itself (its verdict comes when the gap fills). */
  packet: Packet;
  handle: H;
  /** When it was held (ms, the gateway's clock): a hold that never ends is dropped after a while. */
  since: number;
}

export type Classification =
  | { kind: 'in-order'; skip: number }
  | { kind: 'gap' }
  | { kind: 'duplicate'; rewrite: boolean }
  | { kind: 'conflict' }
  | { kind: 'stale' };

export class InlineStream<H> {
  /** Next sequence number expected; undefined until the SYN or the first data seen. */
  next: number | undefined = undefined;
  /** In-order bytes accepted since the stream began. */
  offset = 0;
  /** History: the last bytes accepted, history[0] is at stream offset `historyStart`. */
  private history = new Uint8Array(0);
  private historyLen = 0;
  private historyStart = 0;
  /** Start (stream offset) of the inspection window: the current message, or the last WINDOW_MAX bytes. */
  windowStart = 0;
  /** Segments waiting for a gap to fill, sorted by sequence number. */
  readonly held: Held<H>[] = [];
  heldBytes = 0;
  /** Rewritten ranges [start, end) in stream offsets. */
  private readonly replaced: [number, number][] = [];
  /** The prefilter's streaming state and its findings: pattern id -> stream offset where its last occurrence ends. */
  hs: NativeHandle | undefined = undefined;
  /** Stream offset at which `hs` was opened (Hyperscan's offset 0). */
  hsStart = 0;
  readonly hits = new Map<number, number>();
  /** HTTP buffers found at the last inspection of this window (the window without the next segment). */
  lastHttp: HttpBuffers[] = [];

  /** Stream offset of a sequence number (relative to `next`). */
  private offsetOf(seq: number): number {
    return this.offset + seqDiff(seq, this.next!);
  }

  classify(seq: number, payload: Uint8Array): Classification {
    if (this.next === undefined) this.next = seq >>> 0;
    const rel = seqDiff(seq, this.next);
    if (rel > 0) return this.overlapsHeld(seq, payload) ? { kind: 'conflict' } : { kind: 'gap' };
    const back = -rel;
    const known = Math.min(back, payload.length);
    const from = this.offset - back;
    if (known > 0) {
      if (from < this.historyStart) return { kind: 'stale' };
      let rewrite = false;
      for (let i = 0; i < known; i++) {
        const h = this.history[from - this.historyStart + i]!;
        if (payload[i] === h) continue;
        if (!this.isReplaced(from + i)) return { kind: 'conflict' };
        rewrite = true;
      }
      if (payload.length <= back) return { kind: 'duplicate', rewrite };
      if (rewrite) return { kind: 'conflict' };
    }
    return { kind: 'in-order', skip: known };
  }

  /** The known bytes a duplicate should carry (its rewritten bytes made equal to the history's). */
  rewriteDuplicate(seq: number, payload: Uint8Array): void {
    const from = this.offsetOf(seq);
    for (let i = 0; i < payload.length; i++) payload[i] = this.history[from - this.historyStart + i]!;
  }

  private isReplaced(off: number): boolean {
    for (const [a, b] of this.replaced) if (off >= a && off < b) return true;
    return false;
  }

  private overlapsHeld(seq: number, payload: Uint8Array): boolean {
    for (const h of this.held) {
      const d = seqDiff(seq, h.seq);
      const lo = Math.max(0, d);
      const hi = Math.min(h.payload.length, d + payload.length);
      for (let i = lo; i < hi; i++) if (h.payload[i] !== payload[i - d]) return true;
    }
    return false;
  }

  /** Appends in-order bytes; returns their stream offset. */
  append(bytes: Uint8Array): number {
    const at = this.offset;
    if (this.historyLen + bytes.length > this.history.length) {
      // keep the last HISTORY_MAX bytes in a new buffer when this one is full (amortized: at most one copy of
      // HISTORY_MAX per HISTORY_MAX appended), grow while small. Never compacted in place: views handed out by bytes()
      // (the last window's HTTP buffers, compared with at the next segment) must keep showing what they showed.
      const keep = Math.min(this.historyLen, HISTORY_MAX);
      const need = keep + bytes.length;
      const target = new Uint8Array(Math.max(need, Math.min(2 * HISTORY_MAX, Math.max(1024, 2 * need))));
      target.set(this.history.subarray(this.historyLen - keep, this.historyLen), 0);
      this.historyStart += this.historyLen - keep;
      this.history = target;
      this.historyLen = keep;
    }
    this.history.set(bytes, this.historyLen);
    this.historyLen += bytes.length;
    this.offset += bytes.length;
    this.next = (this.next! + bytes.length) >>> 0;
    return at;
  }

  /** Marks [start, end) (stream offsets) as rewritten, and writes the new bytes into the history. */
  markReplaced(start: number, bytes: Uint8Array): void {
    if (start < this.historyStart) return;
    this.history.set(bytes, start - this.historyStart);
    if (this.replaced.length >= REPLACED_MAX) this.replaced.shift();
    this.replaced.push([start, start + bytes.length]);
  }

  /**
   * The bytes [from, to) (stream offsets) of the history; `from` must be at least historyStart. A view: it keeps its
   * bytes when more are appended (only markReplaced writes into it, with the bytes that left the gateway).
   */
  bytes(from: number, to: number): Uint8Array {
    return this.history.subarray(from - this.historyStart, to - this.historyStart);
  }

  /** The window ends at `end` (stream offset): slide its start so that it stays within WINDOW_MAX and the history. */
  slideWindow(end: number): void {
    this.windowStart = Math.max(this.windowStart, end - WINDOW_MAX, this.historyStart);
    // occurrences that ended before the window are of no use any more
    if (this.hits.size > 256) for (const [id, e] of this.hits) if (e <= this.windowStart) this.hits.delete(id);
  }

  /** A FIN or the SYN: one sequence number, no data. */
  consumeSeq(): void {
    if (this.next !== undefined) this.next = (this.next + 1) >>> 0;
  }

  hold(h: Held<H>): boolean {
    if (this.held.length >= HOLD_MAX_SEGMENTS || this.heldBytes + h.payload.length > HOLD_MAX_BYTES) return false;
    let at = this.held.length;
    while (at > 0 && seqDiff(this.held[at - 1]!.seq, h.seq) > 0) at--;
    this.held.splice(at, 0, { ...h, payload: h.payload.slice() });
    this.heldBytes += h.payload.length;
    return true;
  }

  /** The first held segment once it no longer starts after the next expected byte. */
  takeReady(): Held<H> | undefined {
    const h = this.held[0];
    if (h === undefined || this.next === undefined || seqDiff(h.seq, this.next) > 0) return undefined;
    this.held.shift();
    this.heldBytes -= h.payload.length;
    return h;
  }

  /** Every held segment (the session ends, or a hold expires). */
  takeAll(): Held<H>[] {
    const all = this.held.splice(0);
    this.heldBytes = 0;
    return all;
  }

  /** Held segments held since before `before` (ms). */
  takeExpired(before: number): Held<H>[] {
    const out: Held<H>[] = [];
    for (let i = 0; i < this.held.length; ) {
      const h = this.held[i]!;
      if (h.since < before) {
        out.push(h);
        this.held.splice(i, 1);
        this.heldBytes -= h.payload.length;
      } else i++;
    }
    return out;
  }
}
