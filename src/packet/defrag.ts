import { formatIp, u16, writeU16 } from './bytes.js';
import { fixIpv4HeaderChecksum } from './checksum.js';
import { decodeIpPacket, type DecodeOptions } from './decode.js';
import type { DecodeStats, Packet } from './packet.js';

/**
 * IPv4 and IPv6 fragment reassembly, after Snort's frag3 with its defaults: 60 s timeout,
 * 4 MiB memcap, 8192 trackers, overlap policy "bsd" (on overlap the data already held wins,
 * unless the new fragment starts before the fragment holding it: then the new data wins).
 */
export type OverlapPolicy = 'bsd' | 'first' | 'last';

export interface DefragOptions {
  /** Seconds a datagram may take to complete (frag3 `timeout`, default 60). */
  timeoutSec?: number;
  /** Bytes held at most, all datagrams together (frag3 `memcap`, default 4 MiB); oldest datagrams are dropped first. */
  memcap?: number;
  /**
   * Bytes one datagram may hold at most (default 1 MiB): its data buffer, its header and PIECE_COST per held piece.
   * A whole 64 KiB datagram sent in 8-byte fragments holds about 590 KiB; only overlapping fragments cut at odd
   * places get beyond. A datagram that reaches it is dropped (counted in `datagramMemcap`).
   */
  datagramMemcap?: number;
  /** Datagrams tracked at most (frag3 `max_frags`, default 8192). */
  maxTrackers?: number;
  /** Overlap policy (default bsd). */
  policy?: OverlapPolicy;
  /** Options for decoding the reassembled datagram. */
  decode?: DecodeOptions;
}

export interface DefragStats {
  fragments: number;
  reassembled: number;
  timeouts: number;
  /** Datagrams dropped for the total memcap or the tracker limit (oldest first). */
  evicted: number;
  /** Datagrams dropped because they alone reached the per-datagram memcap. */
  datagramMemcap: number;
  /** Fragments overlapping data already held. */
  overlaps: number;
  /** Fragments rejected: beyond 65535 bytes, inconsistent last fragment, empty non-last fragment. */
  bad: number;
}

/**
 * Bytes [start, end) of the datagram, held in the tracker's buffer, came from a fragment that started at `fstart`.
 * Pieces with the same `fstart` are interchangeable for every policy (bsd compares starts, first and last compare
 * nothing), so neighbours with the same one are merged: overlapping copies of one fragment add no piece.
 */
interface Piece {
  start: number;
  end: number;
  fstart: number;
}

/** What a held piece costs against the memcaps (a small object and its slot in the array). */
export const PIECE_COST = 64;

interface Tracker {
  key: string;
  firstSeen: number;
  /** Disjoint pieces in order of offset: which bytes of `data` are held and whose they are. */
  pieces: Piece[];
  /** The datagram's bytes as the overlap policy decided them so far (grown by doubling up to MAX_END). */
  data: Uint8Array;
  /** Bytes held by pieces (reaches `total` exactly when the datagram is complete: pieces never pass `total`). */
  covered: number;
  /** What this tracker counts against the memcaps: data.length + header + PIECE_COST per piece. */
  bytes: number;
  /** Total payload length once the last fragment arrived, else -1. */
  total: number;
  /** Unfragmentable header bytes taken from the offset-0 fragment (IPv4 header, or IPv6 header + ext before the fragment header). */
  header: Uint8Array | undefined;
  /** IPv6: offset in `header` of the next-header byte that named the fragment header; next header of the fragment header. */
  nhIndex: number;
  nextHeader: number;
}

const MAX_DATAGRAM = 65535;
/** Largest fragment end accepted (a datagram of 65535 bytes with the smallest header). */
const MAX_END = MAX_DATAGRAM - 40;

/** Which datagram a fragment belongs to (frag3's key: addresses, id, and for IPv4 the protocol). */
export function fragmentKey(ip: NonNullable<Packet['ip']>): string {
  return ip.version === 4 ? `4|${ip.src32}|${ip.dst32}|${ip.id}|${ip.proto}` : `6|${formatIp(ip.src)}|${formatIp(ip.dst)}|${ip.id}`;
}

const EMPTY = new Uint8Array(0);

/**
 * The held bytes of each datagram are one buffer and an ordered list of disjoint pieces saying which fragment each
 * byte came from. A new fragment finds its place by binary search and visits only the pieces it overlaps (each at
 * least one byte of it), so the work per fragment grows with its length, not with what is held: overlapping copies
 * no longer re-sort every held fragment. Which bytes win is decided per piece as frag3's policies decide per byte.
 */
export class Defragmenter {
  readonly stats: DefragStats = { fragments: 0, reassembled: 0, timeouts: 0, evicted: 0, datagramMemcap: 0, overlaps: 0, bad: 0 };
  private readonly trackers = new Map<string, Tracker>();
  private heldBytes = 0;
  private readonly timeout: number;
  private readonly memcap: number;
  private readonly datagramMemcap: number;
  private readonly maxTrackers: number;
  private readonly policy: OverlapPolicy;
  private readonly decodeOpts: DecodeOptions | undefined;

  constructor(opts: DefragOptions = {}) {
    this.timeout = opts.timeoutSec ?? 60;
    this.memcap = opts.memcap ?? 4 * 1024 * 1024;
    this.datagramMemcap = opts.datagramMemcap ?? 1024 * 1024;
    this.maxTrackers = Math.max(1, opts.maxTrackers ?? 8192);
    this.policy = opts.policy ?? 'bsd';
    this.decodeOpts = opts.decode;
  }

  /** Datagrams being reassembled. */
  get pending(): number {
    return this.trackers.size;
  }

  /** Bytes held against the memcap (buffers, headers, pieces). */
  get memory(): number {
    return this.heldBytes;
  }

  /**
   * Feed a packet whose innermost IP header is a fragment (`packet.ip.isFragment`). Returns the
   * reassembled packet (origin 'defrag', a new buffer holding the whole datagram, linktype -1,
   * timestamps of the completing fragment) when this fragment completes a datagram, else undefined.
   * `now` (seconds) drives timeouts and defaults to the packet timestamp.
   */
  add(packet: Packet, stats?: DecodeStats, now: number = packet.tsSec): Packet | undefined {
    const ip = packet.ip;
    if (ip === undefined || !ip.isFragment) return undefined;
    this.stats.fragments++;
    this.expire(now);
    const b = packet.data;
    const start = ip.fragOffset * 8;
    const payloadStart = ip.offset + ip.headerLength;
    const payloadEnd = ip.offset + ip.totalLength;
    const len = payloadEnd - payloadStart;
    const end = start + len;
    if (end > MAX_END || (ip.mf && len === 0)) {
      this.stats.bad++;
      return undefined;
    }
    const key = fragmentKey(ip);
    let t = this.trackers.get(key);
    if (t === undefined) {
      while (this.trackers.size >= this.maxTrackers) this.evictOldest();
      t = { key, firstSeen: now, pieces: [], data: EMPTY, covered: 0, bytes: 0, total: -1, header: undefined, nhIndex: -1, nextHeader: -1 };
      this.trackers.set(key, t);
    }
    if (!ip.mf) {
      if (t.total >= 0 && t.total !== end) {
        this.stats.bad++;
        return undefined;
      }
      if (t.total < 0) {
        t.total = end;
        this.trim(t);
      }
    } else if (t.total >= 0 && end > t.total) {
      this.stats.bad++;
      return undefined;
    }
    if (start === 0 && t.header === undefined) {
      if (ip.version === 4) {
        t.header = b.slice(ip.offset, ip.offset + ip.headerLength);
      } else {
        // unfragmentable part: everything before the fragment header
        const fh = ip.fragHeaderOffset;
        t.header = b.slice(ip.offset, fh);
        let nhIndex = 6;
        for (const e of ip.ext) {
          if (e.offset >= fh) break;
          nhIndex = e.offset - ip.offset;
        }
        t.nhIndex = nhIndex;
        t.nextHeader = b[fh];
      }
      this.charge(t, t.header.length);
    }
    if (len > 0) this.insert(t, start, end, b.subarray(payloadStart, payloadEnd));
    if (t.bytes > this.datagramMemcap) {
      this.drop(t);
      this.stats.datagramMemcap++;
      return undefined;
    }
    // the total memcap: older datagrams go first, and this one too when it alone is over
    while (this.heldBytes > this.memcap) {
      const old = this.oldestOther(t);
      this.drop(old ?? t);
      this.stats.evicted++;
      if (old === undefined) return undefined;
    }
    if (t.total < 0 || t.header === undefined || t.covered < t.total) return undefined;
    this.drop(t);
    this.stats.reassembled++;
    const out = this.assemble(t);
    const p = decodeIpPacket(out, stats, this.decodeOpts);
    p.origin = 'defrag';
    p.tsSec = packet.tsSec;
    p.tsUsec = packet.tsUsec;
    return p;
  }

  /** Drop datagrams older than the timeout. */
  expire(now: number): void {
    for (const t of this.trackers.values()) {
      if (now - t.firstSeen <= this.timeout) break; // Map keeps insertion (= age) order
      this.drop(t);
      this.stats.timeouts++;
    }
  }

  private evictOldest(): void {
    const t = this.oldestOther(undefined);
    if (t === undefined) return;
    this.drop(t);
    this.stats.evicted++;
  }

  private oldestOther(keep: Tracker | undefined): Tracker | undefined {
    for (const t of this.trackers.values()) if (t !== keep) return t;
    return undefined;
  }

  private drop(t: Tracker): void {
    if (this.trackers.delete(t.key)) this.heldBytes -= t.bytes;
  }

  private charge(t: Tracker, bytes: number): void {
    t.bytes += bytes;
    this.heldBytes += bytes;
  }

  /** Does a fragment starting at `start` take the bytes of `p` it overlaps? (frag3's policies, per piece.) */
  private wins(start: number, p: Piece): boolean {
    if (this.policy === 'last') return true;
    if (this.policy === 'first') return false;
    return start < p.fstart; // bsd: the held data stays unless the new fragment starts before the one holding it
  }

  /** Puts the bytes [start, end) of a fragment where the policy lets them go. */
  private insert(t: Tracker, start: number, end: number, bytes: Uint8Array): void {
    const pieces = t.pieces;
    // bytes past a known total are never part of the datagram (and pieces never pass it: see trim)
    const stop = t.total >= 0 ? Math.min(end, t.total) : end;
    if (stop <= start) return;
    this.reserve(t, stop);
    // first piece ending after `start` (pieces are disjoint and in order, so their ends are too)
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pieces[mid]!.end <= start) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    let last = first;
    while (last < pieces.length && pieces[last]!.start < stop) last++;
    if (last > first) this.stats.overlaps++;
    const made: Piece[] = [];
    const put = (s: number, e: number, fstart: number): void => {
      const prev = made[made.length - 1];
      if (prev !== undefined && prev.end === s && prev.fstart === fstart) prev.end = e;
      else made.push({ start: s, end: e, fstart });
    };
    const take = (s: number, e: number): void => {
      t.data.set(bytes.subarray(s - start, e - start), s);
      put(s, e, start);
    };
    let cursor = start;
    for (let i = first; i < last; i++) {
      const p = pieces[i]!;
      if (cursor < p.start) {
        take(cursor, p.start);
        t.covered += p.start - cursor;
      }
      if (this.wins(start, p)) {
        if (p.start < start) put(p.start, start, p.fstart);
        take(Math.max(p.start, start), Math.min(p.end, stop));
        if (p.end > stop) put(stop, p.end, p.fstart);
      } else {
        put(p.start, p.end, p.fstart);
      }
      cursor = p.end;
    }
    if (cursor < stop) {
      take(cursor, stop);
      t.covered += stop - cursor;
    }
    // join the neighbours on either side when they are the same fragment's
    let from = first;
    let to = last;
    const before = pieces[first - 1];
    if (before !== undefined && before.end === made[0]!.start && before.fstart === made[0]!.fstart) {
      made[0] = { start: before.start, end: made[0]!.end, fstart: before.fstart };
      from--;
    }
    const after = pieces[last];
    const tail = made[made.length - 1]!;
    if (after !== undefined && after.start === tail.end && after.fstart === tail.fstart) {
      tail.end = after.end;
      to++;
    }
    const removed = to - from;
    if (removed === made.length) for (let i = 0; i < removed; i++) pieces[from + i] = made[i]!;
    else t.pieces = pieces.slice(0, from).concat(made, pieces.slice(to)); // (a spread of `made` could pass V8's argument limit)
    this.charge(t, (made.length - removed) * PIECE_COST);
  }

  /** The buffer holds at least `end` bytes (doubling, so growing by small steps costs linear time). */
  private reserve(t: Tracker, end: number): void {
    if (t.data.length >= end) return;
    const size = Math.min(MAX_END, Math.max(end, 2 * t.data.length, 64));
    const data = new Uint8Array(size);
    data.set(t.data, 0);
    this.charge(t, size - t.data.length);
    t.data = data;
  }

  /** The last fragment set the total: bytes held beyond it are dropped (they are never part of the datagram). */
  private trim(t: Tracker): void {
    const pieces = t.pieces;
    let n = pieces.length;
    while (n > 0 && pieces[n - 1]!.end > t.total) {
      const p = pieces[n - 1]!;
      if (p.start < t.total) {
        t.covered -= p.end - t.total;
        p.end = t.total;
        break;
      }
      t.covered -= p.end - p.start;
      n--;
    }
    this.charge(t, (n - pieces.length) * PIECE_COST);
    pieces.length = n;
  }

  private assemble(t: Tracker): Uint8Array {
    const header = t.header as Uint8Array;
    const total = t.total;
    const out = new Uint8Array(header.length + total);
    out.set(header, 0);
    out.set(t.data.subarray(0, total), header.length);
    if (out[0] >> 4 === 4) {
      writeU16(out, 2, out.length);
      writeU16(out, 6, u16(out, 6) & 0x4000); // keep DF, clear RB/MF/offset
      fixIpv4HeaderChecksum(out, 0, header.length);
    } else {
      out[t.nhIndex] = t.nextHeader;
      writeU16(out, 4, out.length - 40);
    }
    return out;
  }
}
