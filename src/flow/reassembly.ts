/**
 * One direction of a TCP stream: out-of-order segments are queued by sequence number and handed
 * out in order ("flushed") as Snort's stream5 builds its rebuilt packets. Overlaps are resolved
 * when a segment arrives, by policy: `bsd` (default) keeps the data already held unless the new
 * segment starts before the segment holding it; `first` always keeps old data; `last` always takes
 * new data. (stream5 likewise trims overlapping segments as it inserts them, snort_stream5_tcp.c
 * StreamQueue.)
 *
 * Why at arrival: resolving byte by byte at every peek and flush (sorting every held segment by
 * arrival and walking every byte) cost O(held bytes) per packet, seconds for a flow of thousands of
 * small overlapping segments (found by the fuzzer). Held data is now a sorted list of disjoint
 * pieces, each remembering where the segment that wrote it started (the bsd test), so a peek copies
 * and a flush cuts. test/flow-reassembly.test.ts holds it to a byte-by-byte model.
 */
export type StreamPolicy = 'bsd' | 'first' | 'last';

interface Piece {
  /** Offset relative to `base` (sequence numbers are mod 2^32; offsets are not). */
  start: number;
  data: Uint8Array;
  /** Where the segment that wrote these bytes started, relative to `base` (may be negative after a flush). */
  origin: number;
  /** What the caller said of the packet that brought these bytes (the flow table: its TCP flags and TTL). */
  meta: number;
}

/**
 * The bytes a piece keeps: the view itself while it is at least half of its buffer, else a copy. Without the copy a
 * segment whose bytes were mostly overwritten (or trimmed by a flush) kept all of them alive: 2,621 segments of 64 KB
 * holding one new byte each would pin 167 MB while the stream counts 2,621 bytes held.
 */
function kept(view: Uint8Array): Uint8Array {
  return view.length * 2 >= view.buffer.byteLength ? view : view.slice();
}

/** Signed distance a - b between two 32-bit sequence numbers. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class StreamBuffer {
  /** Sequence number of the first byte not flushed yet (undefined until the first data or SYN). */
  base: number | undefined = undefined;
  /** Held bytes: disjoint pieces sorted by start. */
  private segs: Piece[] = [];
  /** Cached result of contiguous(), -1 when stale. */
  private reach = -1;
  /** Bytes held (each once). */
  queuedBytes = 0;
  /** Segments that overlapped held data. */
  overlaps = 0;
  /** Segments refused because the queue limits were reached. */
  refused = 0;

  constructor(
    private readonly policy: StreamPolicy = 'bsd',
    private readonly maxBytes = 1048576,
    /** Pieces held at most (a segment that overlaps may split a piece in up to three). */
    private readonly maxSegs = 2621,
  ) {}

  get queuedSegments(): number {
    return this.segs.length;
  }

  /** Bytes of memory the held pieces keep alive (each buffer once): at most about twice `queuedBytes` (see kept). */
  get retainedBytes(): number {
    const seen = new Set<ArrayBufferLike>();
    let n = 0;
    for (const p of this.segs) {
      if (seen.has(p.data.buffer)) continue;
      seen.add(p.data.buffer);
      n += p.data.buffer.byteLength;
    }
    return n;
  }

  /** Set the first expected sequence number (SYN seq + 1) if not known yet. */
  init(seq: number): void {
    if (this.base === undefined) this.base = seq >>> 0;
  }

  /** Index of the first piece that ends after `at`. */
  private firstEndingAfter(at: number): number {
    const segs = this.segs;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = segs[mid]!;
      if (p.start + p.data.length <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Queue a segment (`meta`: kept with its bytes, see Piece). Returns false if it was refused (queue limits) or held nothing new. */
  insert(seq: number, data: Uint8Array, meta = 0): boolean {
    if (data.length === 0) return false;
    if (this.base === undefined) this.base = seq >>> 0;
    let start = seqDiff(seq, this.base);
    let d = data;
    if (start < 0) {
      if (start + d.length <= 0) return false; // all already flushed (retransmission)
      d = d.subarray(-start);
      start = 0;
    }
    if (start > 0x3fffffff) return false; // absurdly far ahead: ignore
    if (this.queuedBytes + d.length > this.maxBytes || this.segs.length >= this.maxSegs) {
      this.refused++;
      return false;
    }
    const segs = this.segs;
    const end = start + d.length;
    const own = new Uint8Array(d); // a copy of its own (a Buffer's slice() would be a view)
    const from = this.firstEndingAfter(start);
    // in-order arrival, the common case: nothing held at or after `start`
    if (from === segs.length) {
      segs.push({ start, data: own, origin: start, meta });
      this.queuedBytes += own.length;
      this.reach = this.reach >= 0 && start === this.reach ? end : -1;
      return true;
    }
    const replaced: Piece[] = [];
    let to = from;
    let cur = start;
    let added = 0;
    for (; to < segs.length && segs[to]!.start < end; to++) {
      const p = segs[to]!;
      const pEnd = p.start + p.data.length;
      if (p.start > cur) {
        replaced.push({ start: cur, data: kept(own.subarray(cur - start, p.start - start)), origin: start, meta });
        added += p.start - cur;
      }
      const lo = Math.max(p.start, start);
      const hi = Math.min(pEnd, end);
      const newWins = this.policy === 'last' || (this.policy === 'bsd' && start < p.origin);
      if (newWins) {
        if (p.start < lo) replaced.push({ start: p.start, data: kept(p.data.subarray(0, lo - p.start)), origin: p.origin, meta: p.meta });
        replaced.push({ start: lo, data: kept(own.subarray(lo - start, hi - start)), origin: start, meta });
        if (pEnd > hi) replaced.push({ start: hi, data: kept(p.data.subarray(hi - p.start)), origin: p.origin, meta: p.meta });
      } else replaced.push(p);
      cur = Math.max(cur, pEnd);
    }
    if (cur < end) {
      replaced.push({ start: cur, data: kept(own.subarray(cur - start)), origin: start, meta });
      added += end - cur;
    }
    // the pieces bound the work of a flush: a segment that would split the held data past the limit is refused
    if (segs.length - (to - from) + replaced.length > this.maxSegs) {
      this.refused++;
      return false;
    }
    if (to > from) this.overlaps++;
    // splice without a spread of arguments (the pieces replaced may be many)
    const tail = segs.splice(to);
    segs.length = from;
    for (const p of replaced) segs.push(p);
    for (const p of tail) segs.push(p);
    this.queuedBytes += added;
    this.reach = -1;
    return true;
  }

  /** Pieces held that start before offset `off` from `base` (Snort's SegsToFlush counts segments before r_win_base). */
  piecesBefore(off: number): number {
    let n = 0;
    for (const p of this.segs) {
      if (p.start >= off) break;
      n++;
    }
    return n;
  }

  /** The meta of the first piece held (the packet Snort's FlushQueuedSegs rebuilds from), undefined when empty. */
  firstMeta(): number | undefined {
    return this.segs[0]?.meta;
  }

  /** Bytes available in order from `base` without a hole. */
  contiguous(): number {
    if (this.reach >= 0) return this.reach;
    let reach = 0;
    for (const s of this.segs) {
      if (s.start > reach) break;
      reach = s.start + s.data.length;
    }
    this.reach = reach;
    return reach;
  }

  /**
   * Take up to `limit` in-order bytes from `base` (stops at the first hole) and advance `base`.
   * Returns undefined when nothing is available.
   */
  flush(limit = Infinity): { seq: number; data: Uint8Array } | undefined {
    if (this.base === undefined) return undefined;
    const n = Math.min(this.contiguous(), limit);
    if (n <= 0) return undefined;
    const out = this.assemble(n);
    const seq = this.base;
    this.base = (this.base + n) >>> 0;
    // drop what was handed out, rebase the rest
    const segs = this.segs;
    const k = this.firstEndingAfter(n);
    let dropped = 0;
    for (let i = 0; i < k; i++) dropped += segs[i]!.data.length;
    const keep = k === 0 ? segs : segs.slice(k);
    for (const p of keep) {
      if (p.start < n) {
        dropped += n - p.start;
        p.data = kept(p.data.subarray(n - p.start));
        p.start = n;
      }
      p.start -= n;
      p.origin -= n;
    }
    this.segs = keep;
    this.queuedBytes -= dropped;
    this.reach = -1;
    return { seq, data: out };
  }

  /**
   * The in-order bytes `flush(limit)` would hand out, without taking them: a view of the first piece when it holds
   * them all (the HTTP flushing peeks every packet; the caller only reads), else a copy.
   */
  peek(limit = Infinity): Uint8Array {
    if (this.base === undefined) return new Uint8Array(0);
    const n = Math.min(this.contiguous(), limit);
    if (n <= 0) return new Uint8Array(0);
    const first = this.segs[0]!;
    return first.start === 0 && first.data.length >= n ? first.data.subarray(0, n) : this.assemble(n);
  }

  /** The in-order bytes [from, to) after `base` (to <= contiguous()), a copy. */
  peekRange(from: number, to: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, to - from));
    const segs = this.segs;
    for (let i = this.firstEndingAfter(from); i < segs.length; i++) {
      const s = segs[i]!;
      if (s.start >= to) break;
      const a = Math.max(from, s.start);
      const b = Math.min(to, s.start + s.data.length);
      const d = s.data;
      for (let o = a; o < b; o++) out[o - from] = d[o - s.start]!;
    }
    return out;
  }

  /** The first `n` in-order bytes from `base` (n <= contiguous()): the pieces are disjoint, so a copy. */
  private assemble(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (const s of this.segs) {
      if (s.start >= n) break;
      const d = s.data;
      const len = Math.min(d.length, n - s.start);
      // a short piece byte by byte: a subarray and a set() per piece cost more than the copy itself, and overlaps can
      // cut the first 16 KB (the HTTP flushing's peek, every packet) into thousands of pieces
      if (len <= 32) for (let k = 0, o = s.start; k < len; k++, o++) out[o] = d[k]!;
      else out.set(len === d.length ? d : d.subarray(0, len), s.start);
    }
    return out;
  }

  /** Sequence number up to which data is available in order (base + contiguous). */
  contiguousEndSeq(): number | undefined {
    return this.base === undefined ? undefined : (this.base + this.contiguous()) >>> 0;
  }

  clear(): void {
    this.segs = [];
    this.reach = -1;
    this.queuedBytes = 0;
    this.base = undefined;
  }
}
