/**
 * One direction of a TCP stream: out-of-order segments are queued by sequence number and handed
 * out in order ("flushed") as Snort's stream5 builds its rebuilt packets. Overlaps are resolved
 * when flushing, by arrival order and policy: `bsd` (default) keeps the data already held unless
 * the new segment starts before the segment holding it; `first` always keeps old data; `last`
 * always takes new data.
 */
export type StreamPolicy = 'bsd' | 'first' | 'last';

interface Segment {
  /** Offset relative to `base` (sequence numbers are mod 2^32; offsets are not). */
  start: number;
  data: Uint8Array;
  /** Arrival order (overlaps are resolved by it). */
  order: number;
}

/** Signed distance a - b between two 32-bit sequence numbers. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class StreamBuffer {
  /** Sequence number of the first byte not flushed yet (undefined until the first data or SYN). */
  base: number | undefined = undefined;
  /** Queued segments sorted by start. */
  private segs: Segment[] = [];
  private arrivals = 0;
  /** Some queued segments overlap (flush then resolves byte by byte). */
  private overlapping = false;
  /** Cached result of contiguous(), -1 when stale. */
  private reach = -1;
  /** Bytes queued (sum of segment lengths, overlaps counted twice). */
  queuedBytes = 0;
  /** Overlapping segments seen. */
  overlaps = 0;
  /** Segments refused because the queue limits were reached. */
  refused = 0;

  constructor(
    private readonly policy: StreamPolicy = 'bsd',
    private readonly maxBytes = 1048576,
    private readonly maxSegs = 2621,
  ) {}

  get queuedSegments(): number {
    return this.segs.length;
  }

  /** Set the first expected sequence number (SYN seq + 1) if not known yet. */
  init(seq: number): void {
    if (this.base === undefined) this.base = seq >>> 0;
  }

  /** Queue a segment. Returns false if it was refused (queue limits) or held nothing new. */
  insert(seq: number, data: Uint8Array): boolean {
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
    // keep segs sorted by start: find the insertion point from the end (in-order arrival is the common case)
    let at = segs.length;
    while (at > 0 && segs[at - 1].start > start) at--;
    const end = start + d.length;
    const before = at > 0 ? segs[at - 1] : undefined;
    const after = at < segs.length ? segs[at] : undefined;
    let overlap = (before !== undefined && before.start + before.data.length > start) || (after !== undefined && after.start < end);
    if (!overlap && this.overlapping) {
      for (const s of segs)
        if (start < s.start + s.data.length && s.start < end) {
          overlap = true;
          break;
        }
    }
    if (overlap) {
      this.overlaps++;
      this.overlapping = true;
    }
    const seg: Segment = { start, data: d.slice(), order: this.arrivals++ };
    if (at === segs.length) {
      segs.push(seg);
      this.reach = this.reach >= 0 && start === this.reach ? end : -1;
    } else {
      segs.splice(at, 0, seg);
      this.reach = -1;
    }
    this.queuedBytes += d.length;
    return true;
  }

  /** Bytes available in order from `base` without a hole. */
  contiguous(): number {
    if (this.reach >= 0) return this.reach;
    let reach = 0;
    for (const s of this.segs) {
      if (s.start > reach) break;
      const e = s.start + s.data.length;
      if (e > reach) reach = e;
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
    // rebase the remaining segments
    const keep: Segment[] = [];
    let q = 0;
    for (const s of this.segs) {
      const end = s.start + s.data.length - n;
      if (end <= 0) continue;
      const start = s.start - n;
      const data = start < 0 ? s.data.subarray(-start) : s.data;
      keep.push({ start: Math.max(0, start), data, order: s.order });
      q += data.length;
    }
    this.segs = keep;
    this.queuedBytes = q;
    if (keep.length <= 1) this.overlapping = false;
    this.reach = -1;
    return { seq, data: out };
  }

  /** The in-order bytes `flush(limit)` would hand out, without taking them. */
  peek(limit = Infinity): Uint8Array {
    if (this.base === undefined) return new Uint8Array(0);
    const n = Math.min(this.contiguous(), limit);
    return n > 0 ? this.assemble(n) : new Uint8Array(0);
  }

  /** The first `n` in-order bytes from `base` (n <= contiguous()), overlaps resolved by policy. */
  private assemble(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const segs = this.segs;
    if (!this.overlapping) {
      for (const s of segs) {
        if (s.start >= n) break;
        out.set(s.data.subarray(0, Math.min(s.data.length, n - s.start)), s.start);
      }
    } else {
      // resolve overlaps byte by byte in arrival order
      const byArrival = segs.slice().sort((a, b) => a.order - b.order);
      const owner = new Int32Array(n).fill(-1);
      for (let i = 0; i < byArrival.length; i++) {
        const s = byArrival[i];
        const from = Math.max(0, s.start);
        const to = Math.min(n, s.start + s.data.length);
        for (let x = from; x < to; x++) {
          const o = owner[x];
          if (o < 0 || this.policy === 'last' || (this.policy === 'bsd' && s.start < byArrival[o].start)) {
            owner[x] = i;
            out[x] = s.data[x - s.start];
          }
        }
      }
    }
    return out;
  }

  /** Sequence number up to which data is available in order (base + contiguous). */
  contiguousEndSeq(): number | undefined {
    return this.base === undefined ? undefined : (this.base + this.contiguous()) >>> 0;
  }

  clear(): void {
    this.segs = [];
    this.overlapping = false;
    this.reach = -1;
    this.queuedBytes = 0;
    this.base = undefined;
  }
}
