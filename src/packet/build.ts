import { concat } from './bytes.js';
import { formatIp, parseIp, writeU16, writeU32 } from './bytes.js';
import { finish, fixChecksums, sumWords } from './checksum.js';
import { decodeIpPacket } from './decode.js';
import type { Packet } from './packet.js';
import { TcpFlag } from './types.js';

/**
 * Packet builder: crafts IPv4/IPv6 datagrams with TCP, UDP, ICMP or ICMPv6 and valid checksums,
 * and wraps them in link-layer headers. Used by tests and by the inline runtime for the `reject`
 * verdict (buildTcpReset, buildIcmpUnreachable).
 */

export interface IpSpec {
  src: string;
  dst: string;
  ttl?: number;
  tos?: number;
  /** IPv4 identification (or IPv6 fragment id when `fragment` is set). */
  id?: number;
  df?: boolean;
  mf?: boolean;
  rb?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** IPv4 options bytes (padded to a multiple of 4 with EOL). */
  options?: Uint8Array;
  /** IPv6: extension headers before the upper layer, each given as its body after the next-header byte. */
  ext?: { type: number; body: Uint8Array }[];
  /** IPv6: add a fragment header with fragOffset / mf / id. */
  fragment?: boolean;
  flowLabel?: number;
}

export interface TcpSpec {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** Number, or letters of Snort's flags keyword: F S R P A U 1(CWR... as ECE) 2 ... e.g. "SA", "PA". */
  flags?: number | string;
  window?: number;
  urgentPointer?: number;
  /** Option bytes (padded to a multiple of 4 with EOL). */
  options?: Uint8Array;
}

export interface UdpSpec {
  sport: number;
  dport: number;
}
export interface IcmpSpec {
  type: number;
  code?: number;
  id?: number;
  seq?: number /** bytes 4..7 when no id/seq */;
  rest?: number;
}

export interface PacketSpec {
  ip: IpSpec;
  tcp?: TcpSpec;
  udp?: UdpSpec;
  /** ICMP for IPv4 addresses, ICMPv6 for IPv6 addresses. */
  icmp?: IcmpSpec;
  /** Raw upper-layer protocol number when none of tcp/udp/icmp is given. */
  proto?: number;
  payload?: Uint8Array | string;
  /** Leave checksums as zero (to build packets with bad checksums). */
  noChecksums?: boolean;
}

const enc = new TextEncoder();

export function bytes(x: Uint8Array | string | undefined): Uint8Array {
  if (x === undefined) return new Uint8Array(0);
  return typeof x === 'string' ? enc.encode(x) : x;
}

export { concat } from './bytes.js';

function pad4(b: Uint8Array): Uint8Array {
  if (b.length % 4 === 0) return b;
  const out = new Uint8Array(b.length + (4 - (b.length % 4)));
  out.set(b);
  return out;
}

function addr(text: string): Uint8Array {
  const a = parseIp(text);
  if (a === undefined) throw new Error(`bad IP address: ${text}`);
  return a;
}

/** Parse Snort-style TCP flag letters (F S R P A U C E, and 1 / 2 for the CWR / ECE bits). */
export function tcpFlags(f: number | string | undefined): number {
  if (f === undefined) return TcpFlag.ACK;
  if (typeof f === 'number') return f;
  let v = 0;
  for (const ch of f.toUpperCase()) {
    switch (ch) {
      case 'F':
        v |= TcpFlag.FIN;
        break;
      case 'S':
        v |= TcpFlag.SYN;
        break;
      case 'R':
        v |= TcpFlag.RST;
        break;
      case 'P':
        v |= TcpFlag.PSH;
        break;
      case 'A':
        v |= TcpFlag.ACK;
        break;
      case 'U':
        v |= TcpFlag.URG;
        break;
      case 'E':
      case '2':
        v |= TcpFlag.ECE;
        break;
      case 'C':
      case '1':
        v |= TcpFlag.CWR;
        break;
      default:
        throw new Error(`bad TCP flag letter: ${ch}`);
    }
  }
  return v;
}

function transport(spec: PacketSpec, v6: boolean): { proto: number; bytes: Uint8Array } {
  const payload = bytes(spec.payload);
  if (spec.tcp !== undefined) {
    const t = spec.tcp;
    const opts = pad4(t.options ?? new Uint8Array(0));
    const h = new Uint8Array(20 + opts.length);
    writeU16(h, 0, t.sport);
    writeU16(h, 2, t.dport);
    writeU32(h, 4, (t.seq ?? 0) >>> 0);
    writeU32(h, 8, (t.ack ?? 0) >>> 0);
    h[12] = ((20 + opts.length) / 4) << 4;
    h[13] = tcpFlags(t.flags);
    writeU16(h, 14, t.window ?? 65535);
    writeU16(h, 18, t.urgentPointer ?? 0);
    h.set(opts, 20);
    return { proto: 6, bytes: concat([h, payload]) };
  }
  if (spec.udp !== undefined) {
    const h = new Uint8Array(8);
    writeU16(h, 0, spec.udp.sport);
    writeU16(h, 2, spec.udp.dport);
    writeU16(h, 4, 8 + payload.length);
    return { proto: 17, bytes: concat([h, payload]) };
  }
  if (spec.icmp !== undefined) {
    const i = spec.icmp;
    const h = new Uint8Array(8);
    h[0] = i.type;
    h[1] = i.code ?? 0;
    if (i.id !== undefined || i.seq !== undefined) {
      writeU16(h, 4, i.id ?? 0);
      writeU16(h, 6, i.seq ?? 0);
    } else writeU32(h, 4, (i.rest ?? 0) >>> 0);
    return { proto: v6 ? 58 : 1, bytes: concat([h, payload]) };
  }
  return { proto: spec.proto ?? 255, bytes: payload };
}

/** Build a raw IPv4 datagram around an upper-layer protocol and its bytes (valid header checksum). */
export function ipv4(ip: IpSpec, proto: number, upper: Uint8Array): Uint8Array {
  const opts = pad4(ip.options ?? new Uint8Array(0));
  const hlen = 20 + opts.length;
  const b = new Uint8Array(hlen + upper.length);
  b[0] = 0x40 | (hlen / 4);
  b[1] = ip.tos ?? 0;
  writeU16(b, 2, b.length);
  writeU16(b, 4, ip.id ?? 1);
  writeU16(b, 6, (ip.rb ? 0x8000 : 0) | (ip.df ? 0x4000 : 0) | (ip.mf ? 0x2000 : 0) | ((ip.fragOffset ?? 0) & 0x1fff));
  b[8] = ip.ttl ?? 64;
  b[9] = proto;
  const s = addr(ip.src);
  const d = addr(ip.dst);
  if (s.length !== 4 || d.length !== 4) throw new Error('ipv4() needs IPv4 addresses');
  b.set(s, 12);
  b.set(d, 16);
  b.set(opts, 20);
  b.set(upper, hlen);
  return b;
}

/** Build a raw IPv6 datagram (extension headers from ip.ext, fragment header if ip.fragment). */
export function ipv6(ip: IpSpec, proto: number, upper: Uint8Array): Uint8Array {
  const exts: { type: number; body: Uint8Array }[] = [...(ip.ext ?? [])];
  if (ip.fragment) {
    const body = new Uint8Array(7);
    writeU16(body, 1, (((ip.fragOffset ?? 0) & 0x1fff) << 3) | (ip.mf ? 1 : 0));
    writeU32(body, 3, (ip.id ?? 1) >>> 0);
    exts.push({ type: 44, body });
  }
  const parts: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i];
    const next = i + 1 < exts.length ? exts[i + 1].type : proto;
    const raw = new Uint8Array(1 + e.body.length);
    raw[0] = next;
    raw.set(e.body, 1);
    if (e.type !== 44 && e.type !== 51) raw[1] = Math.max(0, raw.length / 8 - 1);
    parts.push(raw);
  }
  parts.push(upper);
  const rest = concat(parts);
  const b = new Uint8Array(40 + rest.length);
  const tc = ip.tos ?? 0;
  const fl = ip.flowLabel ?? 0;
  writeU32(b, 0, ((6 << 28) | (tc << 20) | (fl & 0xfffff)) >>> 0);
  writeU16(b, 4, rest.length);
  b[6] = exts.length > 0 ? exts[0].type : proto;
  b[7] = ip.ttl ?? 64;
  const s = addr(ip.src);
  const d = addr(ip.dst);
  if (s.length !== 16 || d.length !== 16) throw new Error('ipv6() needs IPv6 addresses');
  b.set(s, 8);
  b.set(d, 24);
  b.set(rest, 40);
  return b;
}

/** Build a complete raw IP datagram (version chosen by the address form) with valid checksums. */
export function buildIp(spec: PacketSpec): Uint8Array {
  const v6 = spec.ip.src.includes(':');
  const t = transport(spec, v6);
  const b = v6 ? ipv6(spec.ip, t.proto, t.bytes) : ipv4(spec.ip, t.proto, t.bytes);
  if (!spec.noChecksums) {
    // fragments get only their IP header checksum (see fixChecksums)
    fixChecksums(b, decodeIpPacket(b, undefined, { verifyChecksums: false }));
  }
  return b;
}

/**
 * Fast path for synthetic packets: an IPv4 or IPv6 TCP datagram from address bytes (no text
 * parsing), with valid checksums. Used for rebuilt stream segments.
 */
export function tcpDatagram(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
  ttl = 64,
  window = 65535,
): Uint8Array {
  const v6 = src.length === 16;
  const ipLen = v6 ? 40 : 20;
  const b = new Uint8Array(ipLen + 20 + payload.length);
  if (v6) {
    b[0] = 0x60;
    writeU16(b, 4, 20 + payload.length);
    b[6] = 6;
    b[7] = ttl;
    b.set(src, 8);
    b.set(dst, 24);
  } else {
    b[0] = 0x45;
    writeU16(b, 2, b.length > 0xffff ? 0xffff : b.length);
    b[8] = ttl;
    b[9] = 6;
    b.set(src, 12);
    b.set(dst, 16);
  }
  const t = ipLen;
  writeU16(b, t, sport);
  writeU16(b, t + 2, dport);
  writeU32(b, t + 4, seq >>> 0);
  writeU32(b, t + 8, ack >>> 0);
  b[t + 12] = 0x50;
  b[t + 13] = flags;
  writeU16(b, t + 14, window);
  b.set(payload, t + 20);
  const segLen = 20 + payload.length;
  if (segLen + ipLen > 0xffff) {
    // a length field cut short: the decoder says which bytes the checksums then cover
    fixChecksums(b, decodeIpPacket(b, undefined, { verifyChecksums: false }));
    return b;
  }
  // the checksums straight from the layout built above: decoding the datagram to find its headers cost about a
  // tenth of a flow of small pipelined HTTP requests (every rebuilt segment is made here)
  if (!v6) writeU16(b, 10, finish(sumWords(b, 0, 20, 0)));
  const addresses = sumWords(b, v6 ? 8 : 12, v6 ? 40 : 20, 0);
  writeU16(b, t + 16, finish(sumWords(b, t, t + segLen, addresses + 6 + segLen)));
  return b;
}

export interface EthSpec {
  src?: string;
  dst?: string;
  /** 802.1Q VLAN ids, outermost first. */
  vlans?: number[];
  etherType?: number;
}

function mac(text: string | undefined, dflt: number[]): Uint8Array {
  if (text === undefined) return Uint8Array.from(dflt);
  const parts = text.split(':').map((x) => parseInt(x, 16));
  if (parts.length !== 6 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad MAC: ${text}`);
  return Uint8Array.from(parts);
}

/** Wrap an IP datagram (or any payload with `etherType`) in Ethernet II, with optional VLAN tags. */
export function ethernet(datagram: Uint8Array, spec: EthSpec = {}): Uint8Array {
  const vlans = spec.vlans ?? [];
  const h = new Uint8Array(14 + 4 * vlans.length);
  h.set(mac(spec.dst, [0, 0x11, 0x22, 0x33, 0x44, 0x55]), 0);
  h.set(mac(spec.src, [0, 0x66, 0x77, 0x88, 0x99, 0xaa]), 6);
  const et = spec.etherType ?? (datagram.length > 0 && datagram[0] >> 4 === 6 ? 0x86dd : 0x0800);
  let o = 12;
  for (const v of vlans) {
    writeU16(h, o, 0x8100);
    writeU16(h, o + 2, v & 0x0fff);
    o += 4;
  }
  writeU16(h, o, et);
  return concat([h, datagram]);
}

/** Wrap an IP datagram in a Linux cooked (SLL, link type 113) header. */
export function linuxSll(datagram: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  writeU16(h, 2, 1);
  writeU16(h, 4, 6);
  writeU16(h, 14, datagram[0] >> 4 === 6 ? 0x86dd : 0x0800);
  return concat([h, datagram]);
}

/** Wrap an IP datagram in a Linux cooked v2 (SLL2, link type 276) header. */
export function linuxSll2(datagram: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  writeU16(h, 0, datagram[0] >> 4 === 6 ? 0x86dd : 0x0800);
  writeU16(h, 8, 1);
  h[11] = 6;
  return concat([h, datagram]);
}

/** Wrap an IP datagram in a BSD loopback (NULL, link type 0) header, little-endian family. */
export function nullLoopback(datagram: Uint8Array): Uint8Array {
  const h = new Uint8Array(4);
  h[0] = datagram[0] >> 4 === 6 ? 30 : 2;
  return concat([h, datagram]);
}

/**
 * A TCP RST|ACK answering `packet` (a decoded TCP packet), as a raw IP datagram. Toward 'source'
 * (default) it goes back to the packet's sender, as snort_inline's `reject` does; toward
 * 'destination' it goes on to the receiver (to reset both ends). Returns undefined for non-TCP packets.
 */
export function buildTcpReset(packet: Packet, toward: 'source' | 'destination' = 'source'): Uint8Array | undefined {
  const ip = packet.ip;
  const t = packet.tcp;
  if (ip === undefined || t === undefined) return undefined;
  let segLen = packet.payloadLength;
  if (t.flags & TcpFlag.SYN) segLen++;
  if (t.flags & TcpFlag.FIN) segLen++;
  const back = toward === 'source';
  const spec: PacketSpec = {
    ip: { src: formatIp(back ? ip.dst : ip.src), dst: formatIp(back ? ip.src : ip.dst), ttl: 64, id: 0 },
    tcp: back
      ? {
          sport: t.dstPort,
          dport: t.srcPort,
          seq: t.flags & TcpFlag.ACK ? t.ack : 0,
          ack: (t.seq + segLen) >>> 0,
          flags: TcpFlag.RST | TcpFlag.ACK,
          window: 0,
        }
      : { sport: t.srcPort, dport: t.dstPort, seq: (t.seq + segLen) >>> 0, ack: t.ack, flags: TcpFlag.RST | TcpFlag.ACK, window: 0 },
  };
  return buildIp(spec);
}

/**
 * An ICMP destination unreachable (IPv4 type 3, default code 3 port unreachable) or ICMPv6
 * destination unreachable (type 1, code 4 port unreachable) sent back to the packet's source,
 * quoting the offending datagram (IPv4: up to 548 bytes so the answer fits 576; IPv6: up to 1232
 * so it fits 1280). Returns undefined without IP.
 */
export function buildIcmpUnreachable(packet: Packet, code?: number): Uint8Array | undefined {
  const ip = packet.ip;
  if (ip === undefined) return undefined;
  const v6 = ip.version === 6;
  const quoteMax = v6 ? 1232 : 548;
  const orig = packet.data.subarray(ip.offset, Math.min(ip.offset + ip.totalLength, ip.offset + quoteMax));
  return buildIp({
    ip: { src: formatIp(ip.dst), dst: formatIp(ip.src), ttl: 64, id: 0 },
    icmp: { type: v6 ? 1 : 3, code: code ?? (v6 ? 4 : 3), rest: 0 },
    payload: orig,
  });
}

/**
 * Split a raw IPv4 or IPv6 datagram into fragments carrying at most `size` payload bytes each
 * (rounded down to a multiple of 8). IPv6 fragments get a fragment header (id `id`) after the
 * unfragmentable part (the fixed header plus hop-by-hop / routing / leading destination options).
 */
export function fragmentDatagram(datagram: Uint8Array, size: number, id = 0x1234): Uint8Array[] {
  const step = Math.max(8, size - (size % 8));
  const out: Uint8Array[] = [];
  if (datagram[0] >> 4 === 4) {
    const hlen = (datagram[0] & 0x0f) * 4;
    const payload = datagram.subarray(hlen);
    for (let off = 0; off < payload.length || off === 0; off += step) {
      const part = payload.subarray(off, off + step);
      const f = new Uint8Array(hlen + part.length);
      f.set(datagram.subarray(0, hlen));
      f.set(part, hlen);
      writeU16(f, 2, f.length);
      const more = off + step < payload.length;
      writeU16(f, 6, (((datagram[6] << 8) | datagram[7]) & 0x4000) | (more ? 0x2000 : 0) | (off / 8));
      f[10] = 0;
      f[11] = 0;
      let s = 0;
      for (let i = 0; i < hlen; i += 2) s += (f[i] << 8) | f[i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      writeU16(f, 10, ~s & 0xffff);
      out.push(f);
      if (payload.length === 0) break;
    }
    return out;
  }
  // IPv6: find the end of the unfragmentable part
  let nh = datagram[6];
  let cur = 40;
  let nhIndex = 6;
  while (nh === 0 || nh === 43 || (nh === 60 && nhIndex === 6)) {
    nhIndex = cur;
    nh = datagram[cur];
    cur += (datagram[cur + 1] + 1) * 8;
  }
  const unfrag = datagram.subarray(0, cur);
  const payload = datagram.subarray(cur);
  for (let off = 0; off < payload.length; off += step) {
    const part = payload.subarray(off, off + step);
    const f = new Uint8Array(unfrag.length + 8 + part.length);
    f.set(unfrag);
    f[nhIndex] = 44;
    const fh = unfrag.length;
    f[fh] = nh;
    const more = off + step < payload.length;
    writeU16(f, fh + 2, ((off / 8) << 3) | (more ? 1 : 0));
    writeU32(f, fh + 4, id >>> 0);
    f.set(part, fh + 8);
    writeU16(f, 4, f.length - 40);
    out.push(f);
  }
  return out;
}
