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
  /** Bytes of fragment data held at most (frag3 `memcap`, default 4 MiB); oldest datagrams are dropped first. */
  memcap?: number;
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
  /** Datagrams dropped for memory or tracker limits. */
  evicted: number;
  /** Fragments overlapping data already held. */
  overlaps: number;
  /** Fragments rejected: beyond 65535 bytes, inconsistent last fragment, empty non-last fragment. */
  bad: number;
}

interface Frag {
  start: number;
  end: number;
  data: Uint8Array;
}

interface Tracker {
  key: string;
  firstSeen: number;
  frags: Frag[];
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

/** Which datagram a fragment belongs to (frag3's key: addresses, id, and for IPv4 the protocol). */
export function fragmentKey(ip: NonNullable<Packet['ip']>): string {
  return ip.version === 4 ? `4|${ip.src32}|${ip.dst32}|${ip.id}|${ip.proto}` : `6|${formatIp(ip.src)}|${formatIp(ip.dst)}|${ip.id}`;
}

export class Defragmenter {
  readonly stats: DefragStats = { fragments: 0, reassembled: 0, timeouts: 0, evicted: 0, overlaps: 0, bad: 0 };
  private readonly trackers = new Map<string, Tracker>();
  private heldBytes = 0;
  private readonly timeout: number;
  private readonly memcap: number;
  private readonly maxTrackers: number;
  private readonly policy: OverlapPolicy;
  private readonly decodeOpts: DecodeOptions | undefined;

  constructor(opts: DefragOptions = {}) {
    this.timeout = opts.timeoutSec ?? 60;
    this.memcap = opts.memcap ?? 4 * 1024 * 1024;
    this.maxTrackers = opts.maxTrackers ?? 8192;
    this.policy = opts.policy ?? 'bsd';
    this.decodeOpts = opts.decode;
  }

  /** Datagrams being reassembled. */
  get pending(): number {
    return this.trackers.size;
  }

  /** Bytes of fragment data held. */
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
    if (end > MAX_DATAGRAM - 40 || (ip.mf && len === 0)) {
      this.stats.bad++;
      return undefined;
    }
    const key = fragmentKey(ip);
    let t = this.trackers.get(key);
    if (t === undefined) {
      while (this.trackers.size >= this.maxTrackers) this.evictOldest();
      t = { key, firstSeen: now, frags: [], bytes: 0, total: -1, header: undefined, nhIndex: -1, nextHeader: -1 };
      this.trackers.set(key, t);
    }
    if (!ip.mf) {
      if (t.total >= 0 && t.total !== end) {
        this.stats.bad++;
        return undefined;
      }
      t.total = end;
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
    }
    for (const f of t.frags) if (start < f.end && f.start < end) { this.stats.overlaps++; break; }
    t.frags.push({ start, end, data: b.slice(payloadStart, payloadEnd) });
    t.bytes += len;
    this.heldBytes += len;
    while (this.heldBytes > this.memcap && this.trackers.size > 1) this.evictOldest(t);
    if (t.total < 0 || t.header === undefined || !covered(t.frags, t.total)) return undefined;
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

  private evictOldest(keep?: Tracker): void {
    for (const t of this.trackers.values()) {
      if (t === keep) continue;
      this.drop(t);
      this.stats.evicted++;
      return;
    }
  }

  private drop(t: Tracker): void {
    if (this.trackers.delete(t.key)) this.heldBytes -= t.bytes;
  }

  private assemble(t: Tracker): Uint8Array {
    const header = t.header as Uint8Array;
    const total = t.total;
    const data = new Uint8Array(total);
    const owner = new Int32Array(total).fill(-1); // index of the fragment holding each byte
    const frags = t.frags;
    for (let i = 0; i < frags.length; i++) {
      const f = frags[i];
      // (Clamped: an overlapping fragment may reach past the end the last fragment set; owner[] has no slot there
      // and reading one gave undefined, then a TypeError. Found by fuzzing.)
      const end = Math.min(f.end, total);
      for (let x = f.start; x < end; x++) {
        const o = owner[x];
        let take: boolean;
        if (o < 0) take = true;
        else if (this.policy === 'last') take = true;
        else if (this.policy === 'first') take = false;
        else take = f.start < frags[o].start; // bsd
        if (take) {
          owner[x] = i;
          data[x] = f.data[x - f.start];
        }
      }
    }
    const out = new Uint8Array(header.length + total);
    out.set(header, 0);
    out.set(data, header.length);
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

/** True if fragments cover [0, total) without holes. */
function covered(frags: Frag[], total: number): boolean {
  const sorted = frags.slice().sort((a, b) => a.start - b.start);
  let reach = 0;
  for (const f of sorted) {
    if (f.start > reach) return false;
    if (f.end > reach) reach = f.end;
  }
  return reach >= total;
}
