/**
 * Plain data types produced by the packet decoder (src/packet/decode.ts).
 *
 * Every header records `offset` (first byte in `Packet.data`) and `length` so the inline runtime can
 * rewrite bytes in place and call `fixChecksums`. Numbers are host-order values read from the wire.
 */

/** pcap LINKTYPE_* values the decoder understands. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** IP protocol numbers used by the decoder. */
export const IpProto = {
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
} as const;

/** TCP flag bits (byte 13 of the header; CWR/ECE are Snort's "2"/"1" reserved bits). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * Why a frame could not be decoded completely. The packet keeps every layer decoded before the
 * problem (as Snort does: a bad TCP header leaves an IP-only packet). Non-IP frames (ARP, LLDP...)
 * are not errors.
 */
export type DecodeError =
  | 'link-truncated'
  | 'link-unsupported'
  | 'vlan-truncated'
  | 'mpls-truncated'
  | 'pppoe-truncated'
  | 'ip-truncated'
  | 'ip-bad-version'
  | 'ip4-bad-header-length'
  | 'ip4-bad-total-length'
  | 'ip4-bad-options'
  | 'ip6-bad-payload-length'
  | 'ip6-ext-truncated'
  | 'ip6-too-many-ext'
  | 'tcp-truncated'
  | 'tcp-bad-offset'
  | 'tcp-bad-options'
  | 'udp-truncated'
  | 'udp-bad-length'
  | 'icmp-truncated'
  | 'icmp6-truncated'
  | 'gre-truncated'
  | 'gre-bad-version'
  | 'tunnel-too-deep';

export const DECODE_ERRORS: readonly DecodeError[] = [
  'link-truncated',
  'link-unsupported',
  'vlan-truncated',
  'mpls-truncated',
  'pppoe-truncated',
  'ip-truncated',
  'ip-bad-version',
  'ip4-bad-header-length',
  'ip4-bad-total-length',
  'ip4-bad-options',
  'ip6-bad-payload-length',
  'ip6-ext-truncated',
  'ip6-too-many-ext',
  'tcp-truncated',
  'tcp-bad-offset',
  'tcp-bad-options',
  'udp-truncated',
  'udp-bad-length',
  'icmp-truncated',
  'icmp6-truncated',
  'gre-truncated',
  'gre-bad-version',
  'tunnel-too-deep',
];

export interface EthHeader {
  offset: number;
  /** Offset of the 6-byte destination MAC; source MAC follows at offset + 6. */
  etherType: number;
}

export interface VlanTag {
  offset: number;
  tpid: number;
  pcp: number;
  dei: boolean;
  vid: number;
}

/** An IPv4 or IPv6 option / IPv6 extension-header option: type, total length, offset of its first byte. */
export interface IpOption {
  type: number;
  length: number;
  offset: number;
}

/** IPv6 extension header as found on the wire. */
export interface Ip6Ext {
  /** Header type: 0 hop-by-hop, 43 routing, 44 fragment, 60 dest opts, 51 AH, 135 mobility, 50 ESP. */
  type: number;
  offset: number;
  length: number;
}

export interface TcpOption {
  kind: number;
  /** Total option length including kind and length bytes (1 for EOL/NOP). */
  length: number;
  offset: number;
}

export type IpHeader = Ip4Header | Ip6Header;

/** Fields common to IPv4 and IPv6, so rules on ttl/tos/id/fragbits work for both. */
interface IpCommon {
  offset: number;
  /** Header length; for IPv6 the fixed 40 bytes plus every extension header. */
  headerLength: number;
  /** Bytes of this datagram that are in the frame (IPv4 total length, IPv6 40 + payload length). */
  totalLength: number;
  /** Source and destination address bytes (4 or 16), views into the frame. */
  src: Uint8Array;
  dst: Uint8Array;
  /** TTL (IPv4) or hop limit (IPv6). */
  ttl: number;
  /** TOS byte (IPv4) or traffic class (IPv6). */
  tos: number;
  /** Upper-layer protocol after options / extension headers. */
  proto: number;
  /** Identification (IPv4 header, or IPv6 fragment header; 0 when absent). */
  id: number;
  /** Fragment bits: reserved (Snort R), don't fragment (D), more fragments (M). */
  rb: boolean;
  df: boolean;
  mf: boolean;
  /** Fragment offset field in 8-byte units, as Snort's fragoffset compares it. */
  fragOffset: number;
  /** True if this datagram is a fragment (MF set or offset > 0): no transport header is decoded. */
  isFragment: boolean;
}

export interface Ip4Header extends IpCommon {
  version: 4;
  /** Source/destination as unsigned 32-bit numbers. */
  src32: number;
  dst32: number;
  checksum: number;
  /** undefined when checksums were not verified. */
  checksumOk: boolean | undefined;
  /** IPv4 options (empty when header length is 20). Snort's ipopts keyword reads these. */
  options: IpOption[];
}

export interface Ip6Header extends IpCommon {
  version: 6;
  flowLabel: number;
  /** Next-header value of the fixed header. */
  nextHeader: number;
  /** Extension headers in wire order. */
  ext: Ip6Ext[];
  /** Offset of the fragment header when present, else -1. */
  fragHeaderOffset: number;
}

export interface TcpHeader {
  offset: number;
  headerLength: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Byte 13: CWR ECE URG ACK PSH RST SYN FIN. */
  flags: number;
  /** The 3 reserved bits plus NS (low nibble of byte 12). */
  reserved: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  checksumOk: boolean | undefined;
  /** TCP options, parsed on first access. */
  readonly options: TcpOption[];
}

export interface UdpHeader {
  offset: number;
  srcPort: number;
  dstPort: number;
  /** Length field of the UDP header. */
  length: number;
  checksum: number;
  checksumOk: boolean | undefined;
}

/** ICMP (v4) and ICMPv6 header. */
export interface IcmpHeader {
  offset: number;
  type: number;
  code: number;
  checksum: number;
  checksumOk: boolean | undefined;
  /** Identifier and sequence (bytes 4..7) for echo / timestamp / info / mask messages, else -1. */
  id: number;
  seq: number;
  /** Offset of the embedded original IP header for error messages (unreachable, time exceeded...), else -1. */
  embeddedOffset: number;
}

export interface GreHeader {
  offset: number;
  headerLength: number;
  flags: number;
  version: number;
  protocol: number;
}
