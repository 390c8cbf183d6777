import { u16, u32 } from './bytes.js';
import { ipv4HeaderChecksumOk, transportChecksumOk } from './checksum.js';
import { type DecodeStats, Packet } from './packet.js';
import { anyObjectFields, settleShape } from '../shapes.js';
import type { DecodeError, IcmpHeader, Ip4Header, Ip6Ext, Ip6Header, IpHeader, IpOption, TcpHeader, TcpOption, UdpHeader } from './types.js';
import { DECODE_ERRORS, LinkType } from './types.js';

export { DecodeStats, Packet } from './packet.js';

export interface DecodeOptions {
  /** Verify IPv4/TCP/UDP/ICMP/ICMPv6 checksums (sets checksumOk fields and Packet.badChecksum). Default true. */
  verifyChecksums?: boolean;
  /** Maximum number of nested IP layers (tunnels) decoded. Default 8. */
  maxIpLayers?: number;
  /**
   * The outer IP datagram is as long as the data, whatever its length field says: a GSO/GRO super-packet over 64 KB
   * carries a total length of 0 (the kernel's BIG TCP, read by its iph_totlen()), and a queued packet copied only in
   * part (NFQUEUE copies at most 65,531 bytes) is shorter than its total length. Default false.
   */
  lengthFromData?: boolean;
}

const EMPTY_OPTIONS: IpOption[] = [];
const EMPTY_EXT: Ip6Ext[] = [];
const EMPTY_TCP_OPTIONS: TcpOption[] = [];

/** Decoding context passed down the layers (one per call, no per-byte allocation). */
interface Ctx {
  verify: boolean;
  maxLayers: number;
  layers: number;
  /** lengthFromData, for the outermost IP layer only (layers === 0). */
  lengthFromData: boolean;
}

function fail(p: Packet, kind: DecodeError, offset: number): void {
  if (p.error === undefined) {
    p.error = kind;
    p.errorOffset = offset;
  }
}

/**
 * An IPv4 or an IPv6 header: one class for both, its fields in one order whatever the version (those of the other
 * version left empty), so that the code reading packets meets one map. With a class per version, the first IPv6
 * header to reach code optimized while only IPv4 ones had threw that code away ("wrong map"), detection's hottest
 * functions among it, to be compiled again in each replay thread. ip4Header and ip6Header make them, typed as their
 * version's interface.
 */
class IpLayer {
  version: 4 | 6;
  offset: number;
  headerLength: number;
  totalLength: number;
  src32 = 0;
  dst32 = 0;
  ttl = 0;
  tos = 0;
  proto = 0;
  id = 0;
  rb = false;
  df = false;
  mf = false;
  fragOffset = 0;
  isFragment = false;
  checksum = 0;
  checksumOk: boolean | undefined = undefined;
  options: IpOption[] = EMPTY_OPTIONS;
  flowLabel = 0;
  nextHeader = 0;
  ext: Ip6Ext[] = EMPTY_EXT;
  fragHeaderOffset = -1;
  /** The datagram's bytes, and the address views made of them when first asked for (most packets need only src32/dst32). */
  private readonly bytes: Uint8Array;
  private srcView: Uint8Array | undefined = undefined;
  private dstView: Uint8Array | undefined = undefined;

  constructor(version: 4 | 6, b: Uint8Array, off: number, hlen: number, tot: number) {
    this.version = version;
    this.bytes = b;
    this.offset = off;
    this.headerLength = hlen;
    this.totalLength = tot;
  }

  get src(): Uint8Array {
    return (this.srcView ??=
      this.version === 4 ? this.bytes.subarray(this.offset + 12, this.offset + 16) : this.bytes.subarray(this.offset + 8, this.offset + 24));
  }

  get dst(): Uint8Array {
    return (this.dstView ??=
      this.version === 4 ? this.bytes.subarray(this.offset + 16, this.offset + 20) : this.bytes.subarray(this.offset + 24, this.offset + 40));
  }
}

/** The IPv4 header at b[off] (header length `hlen`, total length `tot`): its fixed fields read from the bytes. */
function ip4Header(b: Uint8Array, off: number, hlen: number, tot: number): Ip4Header {
  const ip = new IpLayer(4, b, off, hlen, tot);
  ip.tos = b[off + 1];
  ip.id = u16(b, off + 4);
  const fo = u16(b, off + 6);
  ip.rb = (fo & 0x8000) !== 0;
  ip.df = (fo & 0x4000) !== 0;
  ip.mf = (fo & 0x2000) !== 0;
  ip.fragOffset = fo & 0x1fff;
  ip.isFragment = ip.mf || ip.fragOffset !== 0;
  ip.ttl = b[off + 8];
  ip.proto = b[off + 9];
  ip.checksum = u16(b, off + 10);
  ip.src32 = u32(b, off + 12);
  ip.dst32 = u32(b, off + 16);
  return ip as Ip4Header;
}

/** The IPv6 fixed header at b[off] (`tot`: 40 + payload length): its fields read from the bytes. */
function ip6Header(b: Uint8Array, off: number, tot: number): Ip6Header {
  const ip = new IpLayer(6, b, off, 40, tot);
  ip.tos = ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4);
  ip.flowLabel = ((b[off + 1] & 0x0f) << 16) | u16(b, off + 2);
  ip.nextHeader = b[off + 6];
  ip.proto = ip.nextHeader;
  ip.ttl = b[off + 7];
  return ip as Ip6Header;
}

class Tcp implements TcpHeader {
  offset: number;
  headerLength: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  reserved: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  checksumOk: boolean | undefined = undefined;
  private readonly bytes: Uint8Array;
  private opts: TcpOption[] | undefined = undefined;

  constructor(b: Uint8Array, off: number, hlen: number) {
    this.bytes = b;
    this.offset = off;
    this.headerLength = hlen;
    this.srcPort = u16(b, off);
    this.dstPort = u16(b, off + 2);
    this.seq = u32(b, off + 4);
    this.ack = u32(b, off + 8);
    this.reserved = b[off + 12] & 0x0f;
    this.flags = b[off + 13];
    this.window = u16(b, off + 14);
    this.checksum = u16(b, off + 16);
    this.urgentPointer = u16(b, off + 18);
  }

  get options(): TcpOption[] {
    let o = this.opts;
    if (o === undefined) {
      o = this.headerLength > 20 ? parseTcpOptions(this.bytes, this.offset + 20, this.offset + this.headerLength) : EMPTY_TCP_OPTIONS;
      this.opts = o;
    }
    return o;
  }
}

// The header classes' maps settled at load (settleShape, src/shapes.ts): an address above 2^30, an IP option, an IPv6
// extension header or fragment id, or a TCP sequence number met first after detection's code is optimized would
// change them.
settleShape(new IpLayer(6, new Uint8Array(40), 0, 40, 40), (ip) => {
  ip.src32 = 2 ** 31;
  ip.dst32 = 2 ** 31;
  ip.id = 2 ** 31;
  ip.rb = true;
  ip.mf = true;
  ip.fragOffset = 1;
  ip.isFragment = true;
  ip.proto = 44;
  ip.headerLength = 48;
  ip.fragHeaderOffset = 40;
  anyObjectFields(ip, ['options', 'ext']);
  ip.checksumOk = true;
  ip.checksumOk = undefined;
  void ip.src;
  void ip.dst;
});
settleShape(new Tcp(new Uint8Array(60), 0, 24), (t) => {
  t.seq = 2 ** 31;
  t.ack = 2 ** 31;
  t.checksumOk = true;
  t.checksumOk = undefined;
  void t.options;
});

/** Parse TCP options in b[start, end); stops at EOL or at the first malformed option. */
export function parseTcpOptions(b: Uint8Array, start: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === 0) {
      out.push({ kind, length: 1, offset: i });
      break;
    }
    if (kind === 1) {
      out.push({ kind, length: 1, offset: i });
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const len = b[i + 1];
    if (len < 2 || i + len > end) break;
    out.push({ kind, length: len, offset: i });
    i += len;
  }
  return out;
}

/** True if TCP options in b[start, end) are well formed (no allocation). */
function tcpOptionsValid(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === 0) return true;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return false;
    i += len;
  }
  return true;
}

/** Parse IPv4 options; returns undefined when malformed. */
function parseIp4Options(b: Uint8Array, start: number, end: number): IpOption[] | undefined {
  const out: IpOption[] = [];
  let i = start;
  while (i < end) {
    const type = b[i];
    if (type === 0) {
      out.push({ type, length: 1, offset: i });
      break;
    }
    if (type === 1) {
      out.push({ type, length: 1, offset: i });
      i++;
      continue;
    }
    if (i + 1 >= end) return undefined;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return undefined;
    out.push({ type, length: len, offset: i });
    i += len;
  }
  return out;
}

function setIp(p: Packet, ip: IpHeader): void {
  if (p.ip !== undefined) {
    if (p.outer === undefined) p.outer = [p.ip];
    else p.outer.push(p.ip);
    // the transport of the outer layer is replaced by whatever the inner layer holds
    p.tcp = undefined;
    p.udp = undefined;
    p.srcPort = -1;
    p.dstPort = -1;
    p.icmp = undefined;
    p.icmp6 = undefined;
  }
  p.ip = ip;
}

function setPayload(p: Packet, start: number, end: number): void {
  p.payloadOffset = start;
  p.payloadLength = end > start ? end - start : 0;
}

function decodeIp4(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  const avail = end - off;
  if (avail < 20) return fail(p, 'ip-truncated', off);
  if (b[off] >> 4 !== 4) return fail(p, 'ip-bad-version', off);
  const hlen = (b[off] & 0x0f) << 2;
  if (hlen < 20) return fail(p, 'ip4-bad-header-length', off);
  let tot = u16(b, off + 2);
  if (c.lengthFromData && c.layers === 0 && (tot === 0 || tot > avail)) tot = avail;
  if (tot < hlen) return fail(p, 'ip4-bad-total-length', off);
  if (tot > avail) return fail(p, 'ip-truncated', off);
  if (++c.layers > c.maxLayers) return fail(p, 'tunnel-too-deep', off);
  const ip = ip4Header(b, off, hlen, tot);
  if (c.verify) {
    ip.checksumOk = ipv4HeaderChecksumOk(b, off, hlen);
    if (!ip.checksumOk) p.badChecksum = true;
  }
  if (hlen > 20) {
    const opts = parseIp4Options(b, off + 20, off + hlen);
    if (opts === undefined) fail(p, 'ip4-bad-options', off + 20);
    else ip.options = opts;
  }
  setIp(p, ip);
  const dEnd = off + tot;
  setPayload(p, off + hlen, dEnd);
  if (ip.isFragment) {
    // Snort 2.9.20 decode.c DecodeIP: of a fragment, only the first one of a UDP datagram has its transport decoded
    // ("Ugly HACK to detect DNS attack on 0 offset UDP", spp_frag3.c), the others are IP payload
    if (ip.fragOffset === 0 && ip.proto === 17) decodeUdpFragment(p, b, off + hlen, dEnd);
    return;
  }
  decodeTransport(p, b, off + hlen, dEnd, ip, c);
}

function decodeIp6(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  const avail = end - off;
  if (avail < 40) return fail(p, 'ip-truncated', off);
  if (b[off] >> 4 !== 6) return fail(p, 'ip-bad-version', off);
  let plen = u16(b, off + 4);
  if (c.lengthFromData && c.layers === 0 && (plen === 0 || 40 + plen > avail)) plen = avail - 40;
  if (40 + plen > avail) return fail(p, 'ip6-bad-payload-length', off);
  if (++c.layers > c.maxLayers) return fail(p, 'tunnel-too-deep', off);
  const dEnd = off + 40 + plen;
  const ip = ip6Header(b, off, 40 + plen);
  setIp(p, ip);
  let nh = ip.nextHeader;
  let cur = off + 40;
  let n = 0;
  let hasFrag = false;
  while (nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 51 || nh === 135) {
    if (cur + 8 > dEnd) {
      ip.proto = nh;
      ip.headerLength = cur - off;
      setPayload(p, cur, dEnd);
      return fail(p, 'ip6-ext-truncated', cur);
    }
    const len = nh === 44 ? 8 : nh === 51 ? (b[cur + 1] + 2) << 2 : (b[cur + 1] + 1) << 3;
    if (cur + len > dEnd) {
      ip.proto = nh;
      ip.headerLength = cur - off;
      setPayload(p, cur, dEnd);
      return fail(p, 'ip6-ext-truncated', cur);
    }
    if (++n > 16) {
      ip.proto = nh;
      ip.headerLength = cur - off;
      setPayload(p, cur, dEnd);
      return fail(p, 'ip6-too-many-ext', cur);
    }
    if (ip.ext === EMPTY_EXT) ip.ext = [];
    ip.ext.push({ type: nh, offset: cur, length: len });
    if (nh === 44 && !hasFrag) {
      hasFrag = true;
      const fo = u16(b, cur + 2);
      ip.fragOffset = fo >> 3;
      ip.mf = (fo & 1) !== 0;
      ip.rb = (fo & 6) !== 0;
      ip.id = u32(b, cur + 4);
      ip.fragHeaderOffset = cur;
      ip.isFragment = ip.mf || ip.fragOffset !== 0;
      // decode.c: past the fragment header of a fragment, only a first fragment's UDP header is decoded; what follows
      // it in any other fragment is fragment data, not headers
      if (ip.isFragment && (ip.fragOffset !== 0 || b[cur] !== 17)) {
        ip.proto = b[cur];
        ip.headerLength = cur + len - off;
        setPayload(p, cur + len, dEnd);
        return;
      }
    }
    nh = b[cur];
    cur += len;
  }
  ip.proto = nh;
  ip.headerLength = cur - off;
  setPayload(p, cur, dEnd);
  if (ip.isFragment) {
    // decode.c DecodeIPV6Extensions: decoding goes on past a fragment header only in a first fragment whose next
    // header is UDP (as for IPv4)
    if (nh === 17 && ip.fragOffset === 0) decodeUdpFragment(p, b, cur, dEnd);
    return;
  }
  if (nh === 59 || nh === 50) return;
  decodeTransport(p, b, cur, dEnd, ip, c);
}

function decodeTransport(p: Packet, b: Uint8Array, off: number, end: number, ip: IpHeader, c: Ctx): void {
  switch (ip.proto) {
    case 6:
      return decodeTcp(p, b, off, end, ip, c);
    case 17:
      return decodeUdp(p, b, off, end, ip, c);
    case 1:
      return decodeIcmp(p, b, off, end, ip, c);
    case 58:
      return decodeIcmp6(p, b, off, end, ip, c);
    case 4:
      return decodeIp4(p, b, off, end, c);
    case 41:
      return decodeIp6(p, b, off, end, c);
    case 47:
      return decodeGre(p, b, off, end, c);
    default:
      return;
  }
}

function decodeTcp(p: Packet, b: Uint8Array, off: number, end: number, ip: IpHeader, c: Ctx): void {
  const avail = end - off;
  if (avail < 20) return fail(p, 'tcp-truncated', off);
  const hlen = (b[off + 12] >> 4) << 2;
  if (hlen < 20 || hlen > avail) return fail(p, 'tcp-bad-offset', off);
  const t = new Tcp(b, off, hlen);
  if (hlen > 20 && !tcpOptionsValid(b, off + 20, off + hlen)) fail(p, 'tcp-bad-options', off + 20);
  if (c.verify) {
    t.checksumOk = transportChecksumOk(b, ip, 6, off, avail);
    if (!t.checksumOk) p.badChecksum = true;
  }
  p.tcp = t;
  p.srcPort = t.srcPort;
  p.dstPort = t.dstPort;
  setPayload(p, off + hlen, end);
}

function decodeUdp(p: Packet, b: Uint8Array, off: number, end: number, ip: IpHeader, c: Ctx): void {
  const avail = end - off;
  if (avail < 8) return fail(p, 'udp-truncated', off);
  const ulen = u16(b, off + 4);
  if (ulen < 8 || ulen > avail) return fail(p, 'udp-bad-length', off);
  const cs = u16(b, off + 6);
  const u: UdpHeader = { offset: off, srcPort: u16(b, off), dstPort: u16(b, off + 2), length: ulen, checksum: cs, checksumOk: undefined };
  if (c.verify) {
    u.checksumOk = cs === 0 && ip.version === 4 ? true : cs !== 0 && transportChecksumOk(b, ip, 17, off, ulen);
    if (!u.checksumOk) p.badChecksum = true;
  }
  p.udp = u;
  p.srcPort = u.srcPort;
  p.dstPort = u.dstPort;
  setPayload(p, off + 8, off + ulen);
}

/**
 * The UDP header of a first fragment (decode.c DecodeUDP with fragmented_udp_flag): its length is the rest of the
 * fragment, not uh_len (which counts the whole datagram), and its checksum is not checked (it covers the datagram).
 * A fragment too short for the header stays an IP packet, as Snort pops the UDP layer.
 */
function decodeUdpFragment(p: Packet, b: Uint8Array, off: number, end: number): void {
  if (end - off < 8) return;
  p.udp = { offset: off, srcPort: u16(b, off), dstPort: u16(b, off + 2), length: end - off, checksum: u16(b, off + 6), checksumOk: undefined };
  p.srcPort = p.udp.srcPort;
  p.dstPort = p.udp.dstPort;
  setPayload(p, off + 8, end);
}

function icmpHeader(b: Uint8Array, off: number): IcmpHeader {
  return { offset: off, type: b[off], code: b[off + 1], checksum: u16(b, off + 2), checksumOk: undefined, id: -1, seq: -1, embeddedOffset: -1 };
}

function decodeIcmp(p: Packet, b: Uint8Array, off: number, end: number, ip: IpHeader, c: Ctx): void {
  const avail = end - off;
  if (avail < 4) return fail(p, 'icmp-truncated', off);
  const h = icmpHeader(b, off);
  let dataOff = off + 4;
  switch (h.type) {
    case 0:
    case 8:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
    case 18:
      if (avail < 8) return fail(p, 'icmp-truncated', off);
      h.id = u16(b, off + 4);
      h.seq = u16(b, off + 6);
      dataOff = off + 8;
      break;
    case 3:
    case 4:
    case 5:
    case 11:
    case 12:
      if (avail < 8) return fail(p, 'icmp-truncated', off);
      h.embeddedOffset = off + 8;
      dataOff = off + 8;
      break;
    default:
      break;
  }
  if (c.verify) {
    h.checksumOk = transportChecksumOk(b, ip, 1, off, avail);
    if (!h.checksumOk) p.badChecksum = true;
  }
  p.icmp = h;
  setPayload(p, dataOff, end);
}

function decodeIcmp6(p: Packet, b: Uint8Array, off: number, end: number, ip: IpHeader, c: Ctx): void {
  const avail = end - off;
  if (avail < 4) return fail(p, 'icmp6-truncated', off);
  const h = icmpHeader(b, off);
  let dataOff = off + 4;
  switch (h.type) {
    case 128:
    case 129:
      if (avail < 8) return fail(p, 'icmp6-truncated', off);
      h.id = u16(b, off + 4);
      h.seq = u16(b, off + 6);
      dataOff = off + 8;
      break;
    case 1:
    case 2:
    case 3:
    case 4:
      if (avail < 8) return fail(p, 'icmp6-truncated', off);
      h.embeddedOffset = off + 8;
      dataOff = off + 8;
      break;
    default:
      break;
  }
  if (c.verify) {
    h.checksumOk = ip.version === 6 && transportChecksumOk(b, ip, 58, off, avail);
    if (!h.checksumOk) p.badChecksum = true;
  }
  p.icmp6 = h;
  setPayload(p, dataOff, end);
}

/**
 * GRE as Snort 2.9.20 decode.c DecodeGRE reads it. A header it finds invalid (DecoderAlertEncapsulated) leaves the
 * packet an IP packet whose payload is the GRE bytes, header included (the caller set that payload): version 0 with
 * recursion or reserved flag bits, version 1 (PPTP) with checksum, routing, strict route, recursion or its reserved
 * bits, without the key or not carrying PPP, any other version, or a header longer than the datagram.
 */
function decodeGre(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  const avail = end - off;
  if (avail < 4) return fail(p, 'gre-truncated', off);
  const flags = u16(b, off);
  const version = flags & 7;
  const proto = u16(b, off + 2);
  let hl = 4;
  if (version === 0) {
    if (flags & 0x07f8) return fail(p, 'gre-bad-version', off);
    if (flags & 0xc000) hl += 4; // checksum and offset, present if C or R
    if (flags & 0x2000) hl += 4;
    if (flags & 0x1000) hl += 4;
    if (flags & 0x4000) {
      // the source route entries, up to the empty one (address family 0, length 0)
      for (;;) {
        hl += 4;
        if (hl > avail) break;
        const sre = off + hl - 4;
        const family = u16(b, sre);
        const length = b[sre + 3];
        if (family === 0 && length === 0) break;
        hl += length;
      }
    }
  } else if (version === 1) {
    if (flags & 0xcf78 || proto !== 0x880b || (flags & 0x2000) === 0) return fail(p, 'gre-bad-version', off);
    hl += 4; // key (payload length + call id)
    if (flags & 0x1000) hl += 4;
    if (flags & 0x0080) hl += 4;
  } else return fail(p, 'gre-bad-version', off);
  if (hl > avail) return fail(p, 'gre-truncated', off);
  p.gre = { offset: off, headerLength: hl, flags, version, protocol: proto };
  const inner = off + hl;
  setPayload(p, inner, end);
  switch (proto) {
    case 0x0800:
      return decodeIp4(p, b, inner, end, c);
    case 0x86dd:
      return decodeIp6(p, b, inner, end, c);
    case 0x6558:
      return decodeEthernet(p, b, inner, end, c);
    case 0x880b:
      return decodePpp(p, b, inner, end, c);
    case 0x88be: // ERSPAN type II: 8-byte header when the sequence bit is set (type I has none)
      return decodeEthernet(p, b, flags & 0x1000 ? inner + 8 : inner, end, c);
    case 0x22eb: {
      // ERSPAN type III: 12 bytes, +8 with the optional platform sub-header
      if (inner + 12 > end) return fail(p, 'gre-truncated', inner);
      const o = (b[inner + 11] & 1) !== 0 ? 8 : 0;
      return decodeEthernet(p, b, inner + 12 + o, end, c);
    }
    default:
      return;
  }
}

function decodeEthernet(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  if (end - off < 14) return fail(p, 'link-truncated', off);
  const etherType = u16(b, off + 12);
  if (p.eth === undefined) p.eth = { offset: off, etherType };
  decodeEtherType(p, b, off + 14, end, etherType, c);
}

function decodeEtherType(p: Packet, b: Uint8Array, off: number, end: number, type: number, c: Ctx): void {
  let t = type;
  let o = off;
  for (;;) {
    switch (t) {
      case 0x0800:
        return decodeIp4(p, b, o, end, c);
      case 0x86dd:
        return decodeIp6(p, b, o, end, c);
      case 0x8100:
      case 0x88a8:
      case 0x9100: {
        if (end - o < 4) return fail(p, 'vlan-truncated', o);
        const tci = u16(b, o);
        if (p.vlans === undefined) p.vlans = [];
        p.vlans.push({ offset: o, tpid: t, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
        t = u16(b, o + 2);
        o += 4;
        if (p.vlans.length > 8) return fail(p, 'vlan-truncated', o);
        continue;
      }
      case 0x8847:
      case 0x8848: {
        for (;;) {
          if (end - o < 4) return fail(p, 'mpls-truncated', o);
          const word = u32(b, o);
          if (p.mplsLabels === undefined) p.mplsLabels = [];
          p.mplsLabels.push(Math.floor(word / 4096));
          o += 4;
          if (word & 0x100) break;
          if (p.mplsLabels.length > 16) return fail(p, 'mpls-truncated', o);
        }
        if (o >= end) return fail(p, 'mpls-truncated', o);
        const v = b[o] >> 4;
        if (v === 4) return decodeIp4(p, b, o, end, c);
        if (v === 6) return decodeIp6(p, b, o, end, c);
        if (v === 0) return decodeEthernet(p, b, o + 4, end, c); // pseudowire control word
        return;
      }
      case 0x8864: {
        // PPPoE session
        if (end - o < 8) return fail(p, 'pppoe-truncated', o);
        return decodePpp(p, b, o + 6, end, c);
      }
      default:
        return; // ARP, LLDP, ...: not IP, not an error
    }
  }
}

function decodePpp(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  let o = off;
  if (end - o >= 2 && b[o] === 0xff && b[o + 1] === 0x03) o += 2;
  if (end - o < 1) return fail(p, 'link-truncated', o);
  let proto: number;
  if (b[o] & 1) {
    proto = b[o];
    o += 1;
  } else {
    if (end - o < 2) return fail(p, 'link-truncated', o);
    proto = u16(b, o);
    o += 2;
  }
  if (proto === 0x21) return decodeIp4(p, b, o, end, c);
  if (proto === 0x57) return decodeIp6(p, b, o, end, c);
}

function decodeIpByVersion(p: Packet, b: Uint8Array, off: number, end: number, c: Ctx): void {
  if (end - off < 1) return fail(p, 'ip-truncated', off);
  const v = b[off] >> 4;
  if (v === 4) return decodeIp4(p, b, off, end, c);
  if (v === 6) return decodeIp6(p, b, off, end, c);
  return fail(p, 'ip-bad-version', off);
}

function decodeLink(p: Packet, b: Uint8Array, lt: number, c: Ctx): void {
  const end = b.length;
  switch (lt) {
    case LinkType.ETHERNET:
      return decodeEthernet(p, b, 0, end, c);
    case LinkType.LINUX_SLL:
      if (end < 16) return fail(p, 'link-truncated', 0);
      return decodeEtherType(p, b, 16, end, u16(b, 14), c);
    case LinkType.LINUX_SLL2:
      if (end < 20) return fail(p, 'link-truncated', 0);
      return decodeEtherType(p, b, 20, end, u16(b, 0), c);
    case LinkType.RAW:
    case LinkType.RAW_BSD12:
    case LinkType.RAW_BSD14:
      return decodeIpByVersion(p, b, 0, end, c);
    case LinkType.IPV4:
      return decodeIp4(p, b, 0, end, c);
    case LinkType.IPV6:
      return decodeIp6(p, b, 0, end, c);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (end < 4) return fail(p, 'link-truncated', 0);
      // NULL uses host byte order, LOOP network order; family values are small, so pick the non-zero end
      const fam = lt === LinkType.LOOP || (b[0] === 0 && b[1] === 0) ? u32(b, 0) : b[0] | (b[1] << 8);
      if (fam === 2) return decodeIp4(p, b, 4, end, c);
      if (fam === 24 || fam === 28 || fam === 30 || fam === 10) return decodeIp6(p, b, 4, end, c);
      return;
    }
    case LinkType.PPP:
      return decodePpp(p, b, 0, end, c);
    default:
      return fail(p, 'link-unsupported', 0);
  }
}

/**
 * Decode one captured frame of the given pcap link type. Never throws: problems are reported in
 * `Packet.error` (and counted in `stats` when given).
 */
export function decode(linktype: number, data: Uint8Array, stats?: DecodeStats, opts?: DecodeOptions): Packet {
  const p = new Packet(linktype, data);
  const c: Ctx = { verify: opts?.verifyChecksums ?? true, maxLayers: opts?.maxIpLayers ?? 8, layers: 0, lengthFromData: false };
  decodeLink(p, data, linktype, c);
  if (stats !== undefined) stats.count(p);
  return p;
}

/** Decode a bare IPv4 or IPv6 datagram (NFQUEUE payloads, reassembled fragments). linktype is -1. */
export function decodeIpPacket(data: Uint8Array, stats?: DecodeStats, opts?: DecodeOptions): Packet {
  const p = new Packet(-1, data);
  const c: Ctx = {
    verify: opts?.verifyChecksums ?? true,
    maxLayers: opts?.maxIpLayers ?? 8,
    layers: 0,
    lengthFromData: opts?.lengthFromData ?? false,
  };
  decodeIpByVersion(p, data, 0, data.length, c);
  if (stats !== undefined) stats.count(p);
  return p;
}

const tri = (v: number): boolean | undefined => (v < 0 ? undefined : v === 1);

/**
 * The packet the native front decoded (native/src/honeywall_decode.c hw_packet_record, its values from `r[at]` on)
 * over `data`: the same objects decode() makes, built from the record's offsets and answers instead of parsing
 * (test/native-decode.test.ts holds the two equal). The header classes read their fixed fields from the bytes, as
 * decode() does; what parsing decided (lengths, the layers found, the IPv6 fragment header's fields, errors) comes
 * from the record. The record's integers are stored as `| 0`: a Float64Array's element is a double, and a double stored
 * into a field V8 holds as a small integer makes it a boxed double (a heap number per object) and changes the class's
 * map, under code already optimized for the old one (see settleShape, src/shapes.ts).
 */
export function packetFromRecord(linktype: number, data: Uint8Array, r: Float64Array, at: number): Packet {
  const p = new Packet(linktype, data);
  const err = r[at]!;
  if (err >= 0) {
    p.error = DECODE_ERRORS[err];
    p.errorOffset = r[at + 1]! | 0;
  }
  p.badChecksum = r[at + 2] === 1;
  p.payloadOffset = r[at + 3]! | 0;
  p.payloadLength = r[at + 4]! | 0;
  if (r[at + 5]! >= 0) p.eth = { offset: r[at + 5]! | 0, etherType: r[at + 6]! | 0 };
  const nVlans = r[at + 7]!;
  const nMpls = r[at + 8]!;
  const nIp = r[at + 9]!;
  let i = at + 16;
  if (nVlans > 0) {
    p.vlans = [];
    for (let k = 0; k < nVlans; k++, i += 3) {
      const tci = r[i + 2]! | 0;
      p.vlans.push({ offset: r[i]! | 0, tpid: r[i + 1]! | 0, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    }
  }
  if (nMpls > 0) {
    p.mplsLabels = [];
    for (let k = 0; k < nMpls; k++) p.mplsLabels.push(r[i++]!);
  }
  for (let k = 0; k < nIp; k++) {
    const version = r[i]!;
    const off = r[i + 1]! | 0;
    const nExt = r[i + 18]!;
    const nOpts = r[i + 19]!;
    let ip: IpHeader;
    if (version === 4) {
      const ip4 = ip4Header(data, off, r[i + 2]! | 0, r[i + 3]! | 0);
      ip4.checksumOk = tri(r[i + 14]!);
      if (nOpts > 0) {
        const opts: IpOption[] = [];
        for (let o = 0, j = i + 20; o < nOpts; o++, j += 3) opts.push({ type: r[j]! | 0, length: r[j + 1]! | 0, offset: r[j + 2]! | 0 });
        ip4.options = opts;
      }
      ip = ip4;
    } else {
      const ip6 = ip6Header(data, off, r[i + 3]! | 0);
      ip6.headerLength = r[i + 2]! | 0;
      ip6.proto = r[i + 6]! | 0;
      ip6.id = r[i + 7]! >>> 0;
      ip6.rb = r[i + 8] === 1;
      ip6.mf = r[i + 10] === 1;
      ip6.fragOffset = r[i + 11]! | 0;
      ip6.isFragment = r[i + 12] === 1;
      ip6.fragHeaderOffset = r[i + 17]! | 0;
      if (nExt > 0) {
        const ext: Ip6Ext[] = [];
        for (let o = 0, j = i + 20; o < nExt; o++, j += 3) ext.push({ type: r[j]! | 0, offset: r[j + 1]! | 0, length: r[j + 2]! | 0 });
        ip6.ext = ext;
      }
      ip = ip6;
    }
    i += 20 + 3 * (nExt + Math.max(0, nOpts));
    if (p.ip !== undefined) {
      if (p.outer === undefined) p.outer = [p.ip];
      else p.outer.push(p.ip);
    }
    p.ip = ip;
  }
  if (r[at + 10] === 1) {
    p.gre = { offset: r[i]! | 0, headerLength: r[i + 1]! | 0, flags: r[i + 2]! | 0, version: r[i + 3]! | 0, protocol: r[i + 4]! | 0 };
    i += 5;
  }
  if (r[at + 11] === 1) {
    const t = new Tcp(data, r[i]! | 0, r[i + 1]! | 0);
    t.checksumOk = tri(r[i + 11]!);
    p.tcp = t;
    p.srcPort = t.srcPort;
    p.dstPort = t.dstPort;
    i += 12;
  }
  if (r[at + 12] === 1) {
    p.udp = {
      offset: r[i]! | 0,
      srcPort: r[i + 1]! | 0,
      dstPort: r[i + 2]! | 0,
      length: r[i + 3]! | 0,
      checksum: r[i + 4]! | 0,
      checksumOk: tri(r[i + 5]!),
    };
    p.srcPort = r[i + 1]! | 0;
    p.dstPort = r[i + 2]! | 0;
    i += 6;
  }
  for (let w = 0; w < 2; w++) {
    if (r[at + 13 + w] !== 1) continue;
    const h = icmpHeader(data, r[i]! | 0);
    h.checksumOk = tri(r[i + 4]!);
    h.id = r[i + 5]! | 0;
    h.seq = r[i + 6]! | 0;
    h.embeddedOffset = r[i + 7]! | 0;
    if (w === 0) p.icmp = h;
    else p.icmp6 = h;
    i += 8;
  }
  return p;
}
