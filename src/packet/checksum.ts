import type { IpHeader } from './types.js';
import type { Packet } from './packet.js';

/**
 * Internet checksum (RFC 1071) helpers. Sums are kept unfolded in a JS number (no overflow below 2^53)
 * and folded once at the end.
 */

/** True where typed arrays are little-endian (every platform Node runs on today, but the sum does not assume it). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the word loop is as fast as making a 32-bit view. */
const WIDE_MIN = 64;

/**
 * Add the 16-bit big-endian words of b[start, end) to acc (an odd last byte is padded with zero). The result is
 * congruent modulo 0xffff (ones' complement) to the plain sum of the words, not equal to it: callers fold it.
 *
 * Why two loops: this is the decoder's hot spot (every TCP and UDP packet is checksummed, as Snort's checksum_mode
 * all does), and reading the segment as 32-bit words through a Uint32Array costs half of reading it byte by byte.
 * Words read in the machine's byte order sum to the byte-swapped sum (RFC 1071 section 2(B)), so the wide sum is
 * folded and swapped back. test/packet-checksum.test.ts holds it to the byte-by-byte definition.
 */
export function sumWords(b: Uint8Array, start: number, end: number, acc: number): number {
  if (end - start >= WIDE_MIN && ((b.byteOffset + start) & 1) === 0) return acc + sumWide(b, start, end);
  return sumBytePairs(b, start, end, acc);
}

/** The plain definition: big-endian byte pairs, unrolled by 4 words. */
function sumBytePairs(b: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  let i = start;
  const even = end - ((end - start) & 1);
  const end8 = even - ((even - i) & 7);
  for (; i < end8; i += 8) {
    s += ((b[i]! << 8) | b[i + 1]!) + ((b[i + 2]! << 8) | b[i + 3]!) + ((b[i + 4]! << 8) | b[i + 5]!) + ((b[i + 6]! << 8) | b[i + 7]!);
  }
  for (; i < even; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (even < end) s += b[even]! << 8;
  return s;
}

/** b[start, end) summed 32 bits at a time from a 4-byte aligned address; b.byteOffset + start is even. */
function sumWide(b: Uint8Array, start: number, end: number): number {
  let i = start;
  let head = 0;
  // up to one 16-bit word to reach 4-byte alignment
  if (((b.byteOffset + i) & 3) !== 0) {
    head = (b[i]! << 8) | b[i + 1]!;
    i += 2;
  }
  const words = (end - i) >>> 2;
  const view = new Uint32Array(b.buffer, b.byteOffset + i, words);
  let lo = 0;
  let hi = 0;
  // each half below 2^16, so 2^36 words before either passes 2^53: far beyond any packet
  for (let k = 0; k < words; k++) {
    const w = view[k]!;
    lo += w & 0xffff;
    hi += w >>> 16;
  }
  i += words * 4;
  let wide = fold(lo + hi);
  if (LITTLE_ENDIAN) wide = ((wide & 0xff) << 8) | (wide >>> 8);
  return head + wide + sumBytePairs(b, i, end, 0);
}

/** Fold a sum to 16 bits (ones' complement addition). */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum value to store for a sum computed with the checksum field zeroed. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/**
 * Pseudo-header sum for TCP/UDP/ICMPv6 over the given IP header. The addresses are read from the header's own views
 * (a packet's rewritten copy has the same addresses).
 */
export function pseudoHeaderSum(ip: IpHeader, proto: number, length: number): number {
  const src = ip.src;
  const dst = ip.dst;
  if (ip.version === 4) {
    return ((src[0]! << 8) | src[1]!) + ((src[2]! << 8) | src[3]!) + ((dst[0]! << 8) | dst[1]!) + ((dst[2]! << 8) | dst[3]!) + proto + length;
  }
  const s = sumBytePairs(src, 0, 16, sumBytePairs(dst, 0, 16, 0));
  return s + Math.floor(length / 0x10000) + (length & 0xffff) + proto;
}

/** True if the IPv4 header at [offset, offset+len) has a correct checksum. */
export function ipv4HeaderChecksumOk(b: Uint8Array, offset: number, len: number): boolean {
  return fold(sumWords(b, offset, offset + len, 0)) === 0xffff;
}

/**
 * True if the transport segment b[offset, offset+length) (TCP, UDP or ICMPv6 over `ip`, or ICMPv4
 * when proto is 1) carries a correct checksum.
 */
export function transportChecksumOk(b: Uint8Array, ip: IpHeader, proto: number, offset: number, length: number): boolean {
  const base = proto === 1 ? 0 : pseudoHeaderSum(ip, proto, length);
  return fold(sumWords(b, offset, offset + length, base)) === 0xffff;
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
}

/** Recompute and store the IPv4 header checksum of the header at `offset`. */
export function fixIpv4HeaderChecksum(b: Uint8Array, offset: number, len: number): void {
  writeU16(b, offset + 10, 0);
  writeU16(b, offset + 10, finish(sumWords(b, offset, offset + len, 0)));
}

/**
 * Recompute, in place in `buf`, every checksum of `packet` (IPv4 headers of all layers including
 * tunnel outer headers; TCP, UDP, ICMP or ICMPv6 of the innermost layer). `buf` must have the same
 * layout as `packet.data` (usually it is `packet.data` after bytes were rewritten, e.g. by `replace`).
 * Lengths are never changed. A UDP-over-IPv4 checksum of 0 (none) stays 0. Fragments get only
 * their IP header checksum (the transport checksum covers the whole reassembled datagram).
 */
export function fixChecksums(buf: Uint8Array, packet: Packet): void {
  const ip = packet.ip;
  if (ip === undefined) return;
  // Inner first: the outer headers do not cover inner bytes with their own checksum,
  // but GRE/IP-in-IP outer IPv4 headers are refreshed too for simplicity.
  const segLen = ip.totalLength - ip.headerLength;
  if (!ip.isFragment) {
    if (packet.tcp !== undefined) {
      const o = packet.tcp.offset;
      writeU16(buf, o + 16, 0);
      writeU16(buf, o + 16, finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(ip, 6, segLen))));
    } else if (packet.udp !== undefined) {
      const o = packet.udp.offset;
      const hadSum = (buf[o + 6] | buf[o + 7]) !== 0;
      if (ip.version === 6 || hadSum) {
        writeU16(buf, o + 6, 0);
        let c = finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(ip, 17, segLen)));
        if (c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones
        writeU16(buf, o + 6, c);
      }
    } else if (packet.icmp !== undefined) {
      const o = packet.icmp.offset;
      writeU16(buf, o + 2, 0);
      writeU16(buf, o + 2, finish(sumWords(buf, o, o + segLen, 0)));
    } else if (packet.icmp6 !== undefined) {
      const o = packet.icmp6.offset;
      writeU16(buf, o + 2, 0);
      writeU16(buf, o + 2, finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(ip, 58, segLen))));
    }
  }
  if (ip.version === 4) fixIpv4HeaderChecksum(buf, ip.offset, ip.headerLength);
  if (packet.outer !== undefined) {
    for (const o of packet.outer) if (o.version === 4) fixIpv4HeaderChecksum(buf, o.offset, o.headerLength);
  }
}
