import type { IpHeader } from './types.js';
import type { Packet } from './packet.js';

/**
 * Internet checksum (RFC 1071) helpers. Sums are kept unfolded in a JS number (no overflow below 2^53)
 * and folded once at the end.
 */

/** Add the 16-bit big-endian words of b[start, end) to acc (an odd last byte is padded with zero). */
export function sumWords(b: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  let i = start;
  const even = end - ((end - start) & 1);
  // Unrolled by 4 words: this loop is the decoder's hot spot.
  const end8 = even - ((even - i) & 7);
  for (; i < end8; i += 8) {
    s += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) + ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
  }
  for (; i < even; i += 2) s += (b[i] << 8) | b[i + 1];
  if (even < end) s += b[even] << 8;
  return s;
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

/** Pseudo-header sum for TCP/UDP/ICMPv6 over the given IP header. */
export function pseudoHeaderSum(b: Uint8Array, ip: IpHeader, proto: number, length: number): number {
  const n = ip.version === 4 ? 4 : 16;
  const so = ip.src.byteOffset - b.byteOffset;
  const dOff = ip.dst.byteOffset - b.byteOffset;
  let s = 0;
  if (so >= 0 && so + n <= b.length && b.buffer === ip.src.buffer) s = sumWords(b, so, so + n, 0);
  else s = sumWords(ip.src, 0, n, 0);
  if (dOff >= 0 && dOff + n <= b.length && b.buffer === ip.dst.buffer) s = sumWords(b, dOff, dOff + n, s);
  else s = sumWords(ip.dst, 0, n, s);
  if (ip.version === 4) return s + proto + length;
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
  const base = proto === 1 ? 0 : pseudoHeaderSum(b, ip, proto, length);
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
      writeU16(buf, o + 16, finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(buf, ip, 6, segLen))));
    } else if (packet.udp !== undefined) {
      const o = packet.udp.offset;
      const hadSum = (buf[o + 6] | buf[o + 7]) !== 0;
      if (ip.version === 6 || hadSum) {
        writeU16(buf, o + 6, 0);
        let c = finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(buf, ip, 17, segLen)));
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
      writeU16(buf, o + 2, finish(sumWords(buf, o, o + segLen, pseudoHeaderSum(buf, ip, 58, segLen))));
    }
  }
  if (ip.version === 4) fixIpv4HeaderChecksum(buf, ip.offset, ip.headerLength);
  if (packet.outer !== undefined) {
    for (const o of packet.outer) if (o.version === 4) fixIpv4HeaderChecksum(buf, o.offset, o.headerLength);
  }
}
