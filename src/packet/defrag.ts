import { formatIp, writeU16 } from './bytes.js';
import { fixIpv4HeaderChecksum } from './checksum.js';
import { decodeIpPacket, type DecodeOptions } from './decode.js';
import type { DecodeStats, Packet } from './packet.js';

/**
 * IPv4 and IPv6 fragment reassembly as Snort 2.9.20's frag3 does it (preprocessors/spp_frag3.c): Frag3Insert's
 * fragment list with its target-based overlap policies, Frag3IsComplete's completion test and Frag3Rebuild's copy,
 * followed step for step, quirks included (a datagram whose fragments were counted twice completes early; a
 * fragment cut into chunks around held ones may take the wrong bytes), since the rules must see the datagram Snort's
 * rules see. The defaults are those of the snort.conf shipped with Snort 2.9.20: `frag3_engine: policy windows
 * detect_anomalies overlap_limit 10 min_fragment_length 100 timeout 180`, `frag3_global: max_frags 65536`, memcap
 * 4 MiB (min_fragment_length only raises events, which honeywall does not log).
 */
export type OverlapPolicy = 'first' | 'last' | 'bsd' | 'bsd-right' | 'linux' | 'windows' | 'solaris';

export interface DefragOptions {
  /** Seconds a datagram may go without a fragment (frag3 `timeout`; the shipped snort.conf's 180). */
  timeoutSec?: number;
  /** Bytes held at most, all datagrams together (frag3 `memcap`, default 4 MiB); oldest datagrams are dropped first. */
  memcap?: number;
  /**
   * Bytes one datagram may hold at most (default 1 MiB): each held fragment's copy and PIECE_COST per fragment, and
   * the header. A 64 KiB datagram in 8-byte fragments holds about 590 KiB. A datagram that reaches it is dropped
   * (counted in `datagramMemcap`).
   */
  datagramMemcap?: number;
  /** Datagrams tracked at most (frag3 `max_frags`; the shipped snort.conf's 65536). */
  maxTrackers?: number;
  /** Overlap policy (frag3 `policy`; the shipped snort.conf's windows). */
  policy?: OverlapPolicy;
  /** Overlaps a datagram may have; fragments after that are not inserted (frag3 `overlap_limit`, 10; 0: no limit). */
  overlapLimit?: number;
  /** Whether full overlaps count towards overlapLimit (frag3 `detect_anomalies`, set in the shipped snort.conf). */
  detectAnomalies?: boolean;
  /** Fragments with a lower TTL are discarded (frag3 `min_ttl`, 1). */
  minTtl?: number;
  /**
   * The byte a rebuilt datagram holds where no held fragment put one (0). frag3 can count a datagram complete while it
   * has holes (fragments counted twice); its rebuild buffer then shows whatever an earlier datagram left there.
   */
  holeFill?: number;
  /** Options for decoding the reassembled datagram. */
  decode?: DecodeOptions;
}

export interface DefragStats {
  fragments: number;
  reassembled: number;
  /** Datagrams started again because their last fragment came more than the timeout ago. */
  timeouts: number;
  /** Datagrams dropped for the total memcap or the tracker limit (oldest first). */
  evicted: number;
  /** Datagrams dropped because they alone reached the per-datagram memcap. */
  datagramMemcap: number;
  /** Overlaps counted (frag3's overlap_count, summed over datagrams). */
  overlaps: number;
  /** Fragments not inserted: an anomaly or attack frag3 refuses, the overlap limit, a TTL below min_ttl. */
  bad: number;
}

/** The overlap policies in the native defragmenter's order (native/src/honeywall_defrag.h hw_overlap_policy). */
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['first', 'last', 'bsd', 'bsd-right', 'linux', 'windows', 'solaris'];

/** DefragOptions with their defaults (frag3's and the shipped snort.conf's): what the Defragmenter and the native front run with. */
export function resolveDefragOptions(opts: DefragOptions): Required<Omit<DefragOptions, 'decode'>> {
  return {
    timeoutSec: opts.timeoutSec ?? 180,
    memcap: opts.memcap ?? 4 * 1024 * 1024,
    datagramMemcap: opts.datagramMemcap ?? 1024 * 1024,
    maxTrackers: Math.max(1, opts.maxTrackers ?? 65536),
    policy: opts.policy ?? 'windows',
    overlapLimit: opts.overlapLimit ?? 10,
    detectAnomalies: opts.detectAnomalies ?? true,
    minTtl: opts.minTtl ?? 1,
    holeFill: opts.holeFill ?? 0,
  };
}

/**
 * The rules that alerted on a datagram's fragments (spp_frag3.c fpAddFragAlert, at most MAX_FRAG_ALERTS): the
 * rebuilt datagram does not alert for them again (fpFragAlerted). Kept by the Defragmenter per datagram, filled and
 * read by the matcher.
 */
export class FragAlerts {
  static readonly MAX = 8;
  private readonly ids: number[] = [];
  /** The rules the rebuilt datagram matched (before fpFragAlerted): see InspectionItem.detection 'relative-first'. */
  readonly rebuiltMatched = new Set<object>();

  add(gid: number, sid: number): void {
    if (this.ids.length < 2 * FragAlerts.MAX) this.ids.push(gid, sid);
  }

  has(gid: number, sid: number): boolean {
    for (let i = 0; i < this.ids.length; i += 2) if (this.ids[i] === gid && this.ids[i + 1] === sid) return true;
    return false;
  }
}

/** A held fragment (frag3's Frag3Frag): a copy of the fragment's data, and the part of it that counts. */
interface Frag {
  /** The fragment's data as it came (Snort fptr, flen bytes). */
  buf: Uint8Array;
  /** Where in buf the bytes that count start (Snort data - fptr). */
  start: number;
  size: number;
  offset: number;
  last: boolean;
}

/** What a held fragment costs against the memcaps beyond its bytes (a small object and its slot in the list). */
export const PIECE_COST = 64;

const GOT_FIRST = 1;
const GOT_LAST = 2;
const BAD = 8;

const IP_MAXPACKET = 65535;

/** Frag3Insert's results (spp_frag3.c FRAG_INSERT_*): only OK lets the datagram complete. */
const INSERT_OK = 0;
const INSERT_REFUSED = 1;

/** Frag3CheckFirstLast's results. */
const FIRSTLAST_OK = 0;
const LAST_OFFSET_ADJUST = 2;

interface Tracker {
  key: string;
  /** Seconds of the last fragment (frag3's frag_time: the timeout counts from it). */
  lastSeen: number;
  /** The fragment list in list order (frag3's fraglist). */
  frags: Frag[];
  /** Whether the list is in offset order (then its first fragment at or past an offset is found by bisection). */
  sorted: boolean;
  flags: number;
  calculatedSize: number;
  /** frag3's frag_bytes: the sizes of the fragments inserted, less what overlaps took off them. */
  fragBytes: number;
  overlapCount: number;
  /** IPv4 options of the first offset-0 fragment that had any (frag3 copies them into the rebuilt header). */
  ipOptions: Uint8Array | undefined;
  /** IPv6: what the datagram carries (the next header an offset-0 fragment's fragment header names). */
  protocol: number;
  /** What this tracker counts against the memcaps: each held fragment's copy and PIECE_COST, the options. */
  bytes: number;
  alerts: FragAlerts;
}

/** Which datagram a fragment belongs to (frag3's key: addresses, id, and for IPv4 the protocol). */
export function fragmentKey(ip: NonNullable<Packet['ip']>): string {
  return ip.version === 4 ? `4|${ip.src32}|${ip.dst32}|${ip.id}|${ip.proto}` : `6|${formatIp(ip.src)}|${formatIp(ip.dst)}|${ip.id}`;
}

/**
 * Held datagrams, each a frag3 fragment list. The list is an array in list order; while it stays in offset order
 * (always, but for the bsd-right, last and linux policies' shuffles), the place of a new fragment is found by
 * bisection instead of frag3's walk from the head, with the same answer.
 */
export class Defragmenter {
  readonly stats: DefragStats = { fragments: 0, reassembled: 0, timeouts: 0, evicted: 0, datagramMemcap: 0, overlaps: 0, bad: 0 };
  /** In order of their last fragment (oldest first): what the timeouts and evictions look at. */
  private readonly trackers = new Map<string, Tracker>();
  private heldBytes = 0;
  private readonly timeout: number;
  private readonly memcap: number;
  private readonly datagramMemcap: number;
  private readonly maxTrackers: number;
  private readonly policy: OverlapPolicy;
  private readonly overlapLimit: number;
  private readonly detectAnomalies: boolean;
  private readonly minTtl: number;
  private readonly holeFill: number;
  private readonly decodeOpts: DecodeOptions | undefined;
  /**
   * After add(): the alert record of the datagram the fragment went into (frag3's p->fragtracker: set when the
   * fragment was inserted, or started a datagram), also when it completed it; undefined when it was not taken.
   */
  lastAlerts: FragAlerts | undefined;

  constructor(opts: DefragOptions = {}) {
    const r = resolveDefragOptions(opts);
    this.timeout = r.timeoutSec;
    this.memcap = r.memcap;
    this.datagramMemcap = r.datagramMemcap;
    this.maxTrackers = r.maxTrackers;
    this.policy = r.policy;
    this.overlapLimit = r.overlapLimit;
    this.detectAnomalies = r.detectAnomalies;
    this.minTtl = r.minTtl;
    this.holeFill = r.holeFill;
    this.decodeOpts = opts.decode;
  }

  /** Datagrams being reassembled. */
  get pending(): number {
    return this.trackers.size;
  }

  /** Bytes held against the memcap (fragments and headers). */
  get memory(): number {
    return this.heldBytes;
  }

  /**
   * Feed a packet whose innermost IP header is a fragment (`packet.ip.isFragment`), as frag3's Frag3Defrag does.
   * Returns the rebuilt datagram (origin 'defrag', a new buffer, linktype -1, the completing fragment's timestamps)
   * when this fragment completes one, else undefined. `now` (seconds) drives timeouts and defaults to the packet's
   * timestamp.
   */
  add(packet: Packet, stats?: DecodeStats, now: number = packet.tsSec + packet.tsUsec / 1e6): Packet | undefined {
    const ip = packet.ip;
    this.lastAlerts = undefined;
    if (ip === undefined || !ip.isFragment) return undefined;
    this.stats.fragments++;
    this.expire(now);
    // spp_frag3.c: a fragment that will not reach its target (TTL below min_ttl) is not tracked
    if (ip.ttl < this.minTtl) {
      this.stats.bad++;
      return undefined;
    }
    const b = packet.data;
    const dataStart = ip.offset + ip.headerLength;
    const data = b.subarray(dataStart, Math.max(dataStart, ip.offset + ip.totalLength));
    const key = fragmentKey(ip);
    const t = this.trackers.get(key);
    if (t === undefined) {
      while (this.trackers.size >= this.maxTrackers) this.evictOldest();
      this.newTracker(key, packet, data, now);
      return undefined;
    }
    // (a datagram idle for the timeout was dropped by expire above: frag3 empties it and goes on, which comes to the same)
    t.lastSeen = now;
    this.trackers.delete(key);
    this.trackers.set(key, t);
    const before = t.bytes;
    const r = this.insert(t, packet, data);
    this.heldBytes += t.bytes - before;
    if (this.overMemcap(t)) return undefined;
    if (r !== INSERT_OK) {
      this.stats.bad++;
      return undefined;
    }
    this.lastAlerts = t.alerts;
    // Frag3IsComplete: first and last seen, and the bytes counted reach the size
    if ((t.flags & (GOT_FIRST | GOT_LAST)) !== (GOT_FIRST | GOT_LAST) || t.fragBytes < t.calculatedSize) return undefined;
    this.drop(t);
    if (t.flags & BAD) return undefined;
    this.stats.reassembled++;
    const p = decodeIpPacket(this.rebuild(t, packet), stats, this.decodeOpts);
    p.origin = 'defrag';
    p.tsSec = packet.tsSec;
    p.tsUsec = packet.tsUsec;
    return p;
  }

  /** Drop datagrams whose last fragment came more than the timeout ago (frag3 would start them again). */
  expire(now: number): void {
    for (const t of this.trackers.values()) {
      if (now - t.lastSeen < this.timeout) break; // the Map is in order of last fragment
      this.drop(t);
      this.stats.timeouts++;
    }
  }

  // ------------------------------------------------------------------------------------------------ trackers

  /** Frag3NewTracker: the first fragment goes in as it is (no overlap to handle), and no completion test. */
  private newTracker(key: string, packet: Packet, data: Uint8Array, now: number): void {
    const ip = packet.ip!;
    const t: Tracker = {
      key,
      lastSeen: now,
      frags: [],
      sorted: true,
      flags: 0,
      calculatedSize: 0,
      fragBytes: 0,
      overlapCount: 0,
      ipOptions: undefined,
      protocol: ip.version === 4 ? ip.proto : -1,
      bytes: PIECE_COST + data.length,
      alerts: new FragAlerts(),
    };
    this.trackers.set(key, t);
    this.lastAlerts = t.alerts;
    const offset = ip.fragOffset << 3;
    const f: Frag = { buf: data.slice(), start: 0, size: data.length, offset, last: !ip.mf };
    // all fragments but the last end on an 8-byte boundary: what is past it does not count (Frag3NewTracker)
    if (ip.mf) f.size = ((offset + data.length) & ~7) - offset;
    t.frags.push(f);
    this.checkFirstLast(t, packet);
    t.fragBytes += data.length; // (the whole length, not the size: as Frag3NewTracker counts)
    this.handleHeaders(t, packet);
    this.heldBytes += t.bytes;
    this.overMemcap(t);
  }

  /** Frag3CheckFirstLast: the first and last fragment flags, and the size a last fragment gives. */
  private checkFirstLast(t: Tracker, packet: Packet): number {
    const ip = packet.ip!;
    let ret = FIRSTLAST_OK;
    if (ip.mf && ip.fragOffset === 0) t.flags |= GOT_FIRST;
    else if (!ip.mf && ip.fragOffset > 0) {
      const end = (ip.fragOffset << 3) + Math.max(0, ip.totalLength - ip.headerLength);
      // solaris puts a second last fragment right after the first one's end, unless one already ends further
      if (t.flags & GOT_LAST && this.policy === 'solaris' && !(t.calculatedSize > end)) ret = LAST_OFFSET_ADJUST;
      t.flags |= GOT_LAST;
      if (t.calculatedSize < end && ret !== LAST_OFFSET_ADJUST) t.calculatedSize = end;
    }
    return ret;
  }

  /**
   * Frag3HandleIPOptions: the options of the first offset-0 fragment that has some; IPv6 (Frag3Insert): the datagram
   * carries what the last offset-0 fragment's fragment header names.
   */
  private handleHeaders(t: Tracker, packet: Packet): void {
    const ip = packet.ip!;
    if (ip.fragOffset !== 0) return;
    const b = packet.data;
    if (ip.version === 6) t.protocol = b[ip.fragHeaderOffset]!;
    else if (ip.headerLength > 20 && t.ipOptions === undefined) {
      t.ipOptions = b.slice(ip.offset + 20, ip.offset + ip.headerLength);
      t.bytes += t.ipOptions.length;
    }
  }

  // ------------------------------------------------------------------------------------------------ Frag3Insert

  /** Index of the first fragment in list order whose offset is at least `offset` (frag3's walk), or -1. */
  private firstAtOrPast(t: Tracker, offset: number): number {
    const list = t.frags;
    if (t.sorted) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid]!.offset < offset) lo = mid + 1;
        else hi = mid;
      }
      return lo < list.length ? lo : -1;
    }
    for (let i = 0; i < list.length; i++) if (list[i]!.offset >= offset) return i;
    return -1;
  }

  /** A fragment's offset was set at index i: is the list still in offset order around it? */
  private placed(t: Tracker, i: number): void {
    if (!t.sorted) return;
    const list = t.frags;
    const o = list[i]!.offset;
    if ((i > 0 && list[i - 1]!.offset > o) || (i + 1 < list.length && list[i + 1]!.offset < o)) t.sorted = false;
  }

  /** Frag3FraglistAddNode after index `left` (-1: at the head); returns the new fragment's index. */
  private addAfter(t: Tracker, left: number, f: Frag): number {
    const at = left + 1;
    t.frags.splice(at, 0, f);
    this.placed(t, at);
    t.bytes += f.buf.length + PIECE_COST;
    return at;
  }

  private deleteAt(t: Tracker, i: number): void {
    const f = t.frags[i]!;
    t.frags.splice(i, 1);
    t.bytes -= f.buf.length + PIECE_COST;
  }

  /** AddFragNode: the fragment's bytes from `slide`, less `trunc` at the end, at `offset`, after index `left`. */
  private addFragNode(t: Tracker, data: Uint8Array, last: boolean, len: number, slide: number, trunc: number, offset: number, left: number): number {
    const size = len - slide - trunc;
    if (size <= 0) return -1;
    const at = this.addAfter(t, left, { buf: data.slice(), start: slide, size, offset, last });
    t.fragBytes += size;
    return at;
  }

  /**
   * Frag3Insert, line for line: the fragment's place in the list, the overlaps on its left and right handled by the
   * policy, the overlap limit; INSERT_OK when the fragment went in (or was wholly held already).
   */
  private insert(t: Tracker, packet: Packet, data: Uint8Array): number {
    const ip = packet.ip!;
    const policy = this.policy;
    const firstLast = this.checkFirstLast(t, packet);
    const fragLength = data.length;
    let len = fragLength;
    const origOffset = ip.fragOffset << 3;
    let fragOffset = origOffset;
    if (firstLast === LAST_OFFSET_ADJUST) fragOffset = t.calculatedSize;
    let fragEnd = fragOffset + fragLength;
    const sizeBefore = t.calculatedSize;
    let lastfrag = false;
    if (!ip.mf) {
      if (fragEnd > t.calculatedSize && firstLast === LAST_OFFSET_ADJUST) t.calculatedSize = fragEnd;
      lastfrag = true;
    } else {
      // non-last fragments end on 8-byte boundaries: the rest does not count
      const oldEnd = fragEnd;
      fragEnd &= ~7;
      len -= oldEnd - fragEnd;
      if (fragEnd > t.calculatedSize) {
        if (t.flags & GOT_LAST) return INSERT_REFUSED; // oversize fragment
        t.calculatedSize = fragEnd;
      }
    }
    if (fragEnd === fragOffset) return INSERT_REFUSED; // zero size
    if (fragEnd > IP_MAXPACKET) {
      t.flags |= BAD;
      t.calculatedSize = sizeBefore;
      return INSERT_REFUSED;
    }
    this.handleHeaders(t, packet);

    let slide = 0;
    let trunc = 0;
    let done = false;
    let addthis = true;
    let alertedOverlap = false;
    const list = t.frags;
    let right = this.firstAtOrPast(t, fragOffset);
    let left = right < 0 ? list.length - 1 : right - 1;

    // left-side overlaps
    if (left >= 0) {
      const lf = list[left]!;
      const overlap = lf.offset + lf.size - fragOffset;
      if (overlap > 0) {
        this.countOverlap(t);
        if ((fragEnd < t.calculatedSize || (t.flags & GOT_LAST && fragEnd !== t.calculatedSize)) && !ip.mf) {
          t.flags |= BAD; // teardrop
          return INSERT_REFUSED;
        }
        let leftLast = false;
        if (policy === 'bsd-right' && lf.offset + lf.size >= fragOffset + len) {
          // bsd-right favours the new fragment unless the held one reaches as far
          fragOffset += overlap;
          slide = overlap;
          leftLast = true;
        } else if (policy === 'bsd-right' || policy === 'last') {
          // the held fragment loses its end
          if (lf.offset < fragOffset && lf.offset + lf.size > fragOffset + len) {
            // it covers the new one on both sides: it is split around it (DupFragNode)
            const dup: Frag = { buf: lf.buf, start: lf.start, size: lf.size, offset: lf.offset, last: lf.last };
            right = this.addAfter(t, left, dup);
            t.fragBytes += dup.size;
            lf.size -= overlap;
            t.fragBytes -= overlap;
            const cut = fragOffset + len - lf.offset;
            dup.offset = fragOffset + len;
            dup.size -= cut;
            dup.start += cut;
            t.fragBytes -= cut;
            this.placed(t, right);
          } else {
            lf.size -= overlap;
            t.fragBytes -= overlap;
          }
          leftLast = true;
        } else {
          // first, linux, windows, solaris, bsd: the new fragment moves past the held one
          fragOffset += overlap;
          slide = overlap;
          if (fragEnd <= fragOffset) return INSERT_REFUSED;
        }
        if (leftLast && lf.size <= 0) {
          this.deleteAt(t, left);
          if (right > left) right--;
          left--;
        }
        if (fragEnd < fragOffset) return INSERT_REFUSED;
      }
    }

    // right-side overlaps: every held fragment that starts before the new one ends
    // (frag3 has no bound here; each turn drops a held fragment, steps past one or ends, but a hostile list is not
    // to be trusted with a loop: past the bound the datagram is taken as bad)
    let turns = 4 * list.length + 16;
    while (right >= 0 && right < list.length && list[right]!.offset < fragEnd && !done) {
      if (--turns < 0) {
        t.flags |= BAD;
        return INSERT_REFUSED;
      }
      const rf = list[right]!;
      trunc = 0;
      const overlap = fragEnd - rf.offset;
      if (overlap && (fragEnd < t.calculatedSize || (t.flags & GOT_LAST && fragEnd !== t.calculatedSize)) && !ip.mf) {
        t.flags |= BAD; // teardrop
        return INSERT_REFUSED;
      }
      if (overlap < rf.size) {
        // partial overlap: the last one to look at
        this.countOverlap(t);
        switch (policy) {
          case 'last':
          case 'linux':
          case 'bsd':
            if (policy === 'bsd' && rf.offset === fragOffset) {
              slide = rf.offset + rf.size - fragOffset;
              fragOffset += slide;
            } else {
              // the held fragment loses its front
              rf.offset += overlap;
              rf.start += overlap;
              rf.size -= overlap;
              t.fragBytes -= overlap;
              this.placed(t, right);
            }
            if (rf.size <= 0) {
              this.deleteAt(t, right);
              if (right >= list.length) right = -1;
            }
            break;
          case 'first':
          case 'windows':
          case 'solaris':
          case 'bsd-right':
            trunc = overlap; // the new fragment loses its end
            break;
        }
        done = true;
        continue;
      }
      // full overlap of the held fragment
      if (!alertedOverlap && this.detectAnomalies) {
        alertedOverlap = true;
        this.countOverlap(t);
      }
      let dumpRight = policy === 'bsd-right' || policy === 'last' || policy === 'linux';
      if (policy === 'windows' || policy === 'solaris' || policy === 'bsd') {
        if (fragEnd > rf.offset + rf.size && fragOffset < rf.offset) {
          // held fragment overlapped on both sides: dropped (policy last)
          t.fragBytes -= rf.size;
          this.deleteAt(t, right);
          if (right >= list.length) right = -1;
          continue;
        }
        if ((policy === 'solaris' || policy === 'bsd') && fragEnd === rf.offset + rf.size && fragOffset < rf.offset) dumpRight = true;
      }
      if (dumpRight) {
        t.fragBytes -= rf.size;
        this.deleteAt(t, right);
        if (right >= list.length) right = -1;
        continue;
      }
      // policy first (and windows, solaris, bsd otherwise): the held bytes stay, the new fragment goes around them
      if (rf.offset === fragOffset) {
        slide = rf.offset + rf.size - fragOffset;
        fragOffset += slide;
        left = right;
        right = right + 1 < list.length ? right + 1 : -1;
      } else {
        trunc = overlap;
      }
      if (fragEnd - trunc <= fragOffset) return INSERT_REFUSED; // nothing left of it
      const at = this.addFragNode(t, data, false, len, slide, trunc, fragOffset, left);
      if (at < 0) return INSERT_REFUSED;
      if (right >= at) right++;
      const nf = list[at]!;
      let currEnd = nf.offset + nf.size;
      // past the held fragments that follow it without a gap
      while (right >= 0 && currEnd === list[right]!.offset && list[right]!.offset < fragEnd) {
        currEnd = list[right]!.offset + list[right]!.size;
        left = right;
        right = right + 1 < list.length ? right + 1 : -1;
      }
      if (right >= 0 && list[right]!.offset < fragEnd) {
        // another gap to fill: the rest of the fragment from the end of `left` (the fragment, when it is the new one)
        fragOffset = left >= 0 ? list[left]!.offset + list[left]!.size : origOffset;
        slide = fragOffset - origOffset;
        trunc = 0;
        continue;
      }
      if (currEnd < fragEnd) {
        // (as frag3 computes it: from the start of the chunk just added, not from the fragment's own start)
        slide = list[left]!.offset + list[left]!.size - fragOffset;
        fragOffset = currEnd;
        trunc = 0;
      } else {
        addthis = false;
      }
      break;
    }

    if (this.overlapLimit > 0 && t.overlapCount >= this.overlapLimit) return INSERT_REFUSED;
    if (addthis && this.addFragNode(t, data, lastfrag, len, slide, trunc, fragOffset, left) < 0) return INSERT_REFUSED;
    return INSERT_OK;
  }

  private countOverlap(t: Tracker): void {
    t.overlapCount++;
    this.stats.overlaps++;
  }

  // ------------------------------------------------------------------------------------------------ Frag3Rebuild

  /**
   * The datagram as Frag3Rebuild makes it from the completing fragment (encode.c Encode_Format): its IP header
   * (IPv4: the fixed part with the first fragment's options, no fragment bits; IPv6: the header and the extensions
   * before the fragment header, naming what the datagram carries), then each held fragment's bytes at its offset,
   * in list order (a later one overwrites an earlier one), those reaching past the size left out.
   */
  private rebuild(t: Tracker, packet: Packet): Uint8Array {
    const size = t.calculatedSize;
    const ip = packet.ip!;
    const b = packet.data;
    let header: Uint8Array;
    if (ip.version === 4) {
      const opts = t.ipOptions ?? new Uint8Array(0);
      header = new Uint8Array(20 + opts.length);
      header.set(b.subarray(ip.offset, ip.offset + 20), 0);
      header.set(opts, 20);
      header[0] = 0x40 | (header.length >> 2);
    } else {
      header = b.slice(ip.offset, ip.fragHeaderOffset);
    }
    const out = new Uint8Array(header.length + size);
    if (this.holeFill !== 0) out.fill(this.holeFill, header.length);
    out.set(header, 0);
    for (const f of t.frags) {
      if (f.offset + f.size > (size & 0xffff)) continue;
      if (f.size > 0) out.set(f.buf.subarray(f.start, f.start + f.size), header.length + f.offset);
    }
    if (ip.version === 4) {
      writeU16(out, 2, out.length);
      writeU16(out, 6, 0);
      fixIpv4HeaderChecksum(out, 0, header.length);
    } else {
      // the next-header byte that named the fragment header now names what the datagram carries
      let nhIndex = 6;
      for (const e of ip.ext) {
        if (e.offset >= ip.fragHeaderOffset) break;
        nhIndex = e.offset - ip.offset;
      }
      out[nhIndex] = t.protocol;
      writeU16(out, 4, out.length - 40);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ memory

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

  /** The memcaps: this datagram alone, then all together (older ones first). True when this one was dropped. */
  private overMemcap(t: Tracker): boolean {
    if (t.bytes > this.datagramMemcap) {
      this.drop(t);
      this.stats.datagramMemcap++;
      return true;
    }
    while (this.heldBytes > this.memcap) {
      const old = this.oldestOther(t);
      this.drop(old ?? t);
      this.stats.evicted++;
      if (old === undefined) return true;
    }
    return false;
  }
}
