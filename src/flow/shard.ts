/**
 * Which shard of a sharded replay owns a frame. A flow, its replies and its fragments share an address pair, so the
 * pair decides. `frameShard` reads the few header bytes that decide it without decoding the frame (a shard skips
 * the frames of the others at a fraction of a decode's cost); where only a full decode can tell (tunnels, IPv6
 * extension headers, MPLS, link types other than Ethernet, Linux cooked and raw IP) it says so and the shard
 * decodes. A property test holds it to `decode` (test/flow-shard.test.ts).
 */
import { LinkType } from '../packet/types.js';

/** The shard of an address pair, the same both ways. */
export function shardOf(src: Uint8Array, dst: Uint8Array, shards: number): number {
  if (shards <= 1) return 0;
  return mix(fnv(src, 0, src.length), fnv(dst, 0, dst.length), shards);
}

/**
 * FNV-1a of each address, the two in a fixed order, through murmur3's finalizer (the low bits of a plain
 * combination follow the addresses' low bits, and neighbours like 192.168.56.102 and .104 would always share a shard).
 */
function mix(a: number, b: number, shards: number): number {
  let h = Math.imul(a < b ? a : b, 0x9e3779b1) ^ (a < b ? b : a);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % shards;
}

function fnv(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** The flow kinds a packet of another shard times out in this one (FlowTable.expire), by `frameShard`'s low bits. */
export const SHARD_KINDS = ['tcp', 'udp', 'icmp', 'ip'] as const;
const TCP = 0;
const UDP = 1;
const ICMP = 2;
const IP = 3;
/** frameShard: only a decode can tell. */
export const SHARD_UNKNOWN = -1;
/** frameShard: the frame has no IP layer (decode finds none; shard 0 inspects it, the others ignore it). */
export const SHARD_NO_IP = -2;

/**
 * The frame's shard times 4 plus its kind (an index of SHARD_KINDS: what `decode` makes of its transport header),
 * or SHARD_UNKNOWN, or SHARD_NO_IP. `linktype` -1 is a bare IP datagram. Valid for decoding with at most 8 VLAN tags
 * and at least one IP layer allowed (the defaults); lengths are taken from the headers (not `lengthFromData`).
 */
export function frameShard(linktype: number, b: Uint8Array, shards: number): number {
  const end = b.length;
  let off: number;
  switch (linktype) {
    case LinkType.ETHERNET: {
      if (end < 14) return SHARD_NO_IP;
      off = 12;
      // at most two VLAN tags read here; more are left to the decoder
      for (let tags = 0; ; tags++) {
        const t = (b[off]! << 8) | b[off + 1]!;
        off += 2;
        if (t === 0x0800) return ip4(b, off, end, shards);
        if (t === 0x86dd) return ip6(b, off, end, shards);
        if (t !== 0x8100 && t !== 0x88a8 && t !== 0x9100) return t === 0x8847 || t === 0x8848 || t === 0x8864 ? SHARD_UNKNOWN : SHARD_NO_IP;
        if (tags === 2) return SHARD_UNKNOWN;
        if (end - off < 4) return SHARD_NO_IP;
        off += 2;
      }
    }
    case -1:
    case LinkType.RAW:
    case LinkType.RAW_BSD12:
    case LinkType.RAW_BSD14: {
      if (end < 1) return SHARD_NO_IP;
      const v = b[0]! >> 4;
      return v === 4 ? ip4(b, 0, end, shards) : v === 6 ? ip6(b, 0, end, shards) : SHARD_NO_IP;
    }
    default:
      return SHARD_UNKNOWN;
  }
}

function ip4(b: Uint8Array, off: number, end: number, shards: number): number {
  const avail = end - off;
  if (avail < 20 || b[off]! >> 4 !== 4) return SHARD_NO_IP;
  const hlen = (b[off]! & 0x0f) << 2;
  const tot = (b[off + 2]! << 8) | b[off + 3]!;
  if (hlen < 20 || tot < hlen || tot > avail) return SHARD_NO_IP;
  const proto = b[off + 9]!;
  if (proto === 4 || proto === 41 || proto === 47) return SHARD_UNKNOWN;
  const shard = shards <= 1 ? 0 : mix(fnv(b, off + 12, off + 16), fnv(b, off + 16, off + 20), shards);
  const frag = ((b[off + 6]! << 8) | b[off + 7]!) & 0x3fff;
  if (frag === 0) return shard * 4 + transport(b, proto, off + hlen, off + tot);
  // a fragment is IP, but for the first fragment of a UDP datagram with room for the header (decode.c DecodeIP)
  return shard * 4 + ((frag & 0x1fff) === 0 && proto === 17 && tot - hlen >= 8 ? UDP : IP);
}

function ip6(b: Uint8Array, off: number, end: number, shards: number): number {
  const avail = end - off;
  if (avail < 40 || b[off]! >> 4 !== 6) return SHARD_NO_IP;
  const plen = (b[off + 4]! << 8) | b[off + 5]!;
  if (40 + plen > avail) return SHARD_NO_IP;
  const nh = b[off + 6]!;
  if (nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 51 || nh === 135 || nh === 4 || nh === 41 || nh === 47) return SHARD_UNKNOWN;
  const shard = shards <= 1 ? 0 : mix(fnv(b, off + 8, off + 24), fnv(b, off + 24, off + 40), shards);
  return shard * 4 + (nh === 59 || nh === 50 ? IP : transport(b, nh, off + 40, off + 40 + plen));
}

/** The kind `decode` gives a transport header in b[off, end) (a header it rejects leaves the packet kind IP). */
function transport(b: Uint8Array, proto: number, off: number, end: number): number {
  const avail = end - off;
  switch (proto) {
    case 6: {
      if (avail < 20) return IP;
      const hlen = (b[off + 12]! >> 4) << 2;
      return hlen < 20 || hlen > avail ? IP : TCP;
    }
    case 17: {
      if (avail < 8) return IP;
      const ulen = (b[off + 4]! << 8) | b[off + 5]!;
      return ulen < 8 || ulen > avail ? IP : UDP;
    }
    case 1:
      if (avail < 4) return IP;
      return avail < 8 && ICMP4_LONG.has(b[off]!) ? IP : ICMP;
    case 58:
      if (avail < 4) return IP;
      return avail < 8 && ICMP6_LONG.has(b[off]!) ? IP : ICMP;
    default:
      return IP;
  }
}

/** ICMP types whose header `decode` requires 8 bytes of (echo, timestamp, ..., and errors carrying a datagram). */
const ICMP4_LONG = new Set([0, 8, 13, 14, 15, 16, 17, 18, 3, 4, 5, 11, 12]);
const ICMP6_LONG = new Set([128, 129, 1, 2, 3, 4]);
