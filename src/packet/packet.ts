import { anyObjectFields, settleShape } from '../shapes.js';
import type { DecodeError, EthHeader, GreHeader, IcmpHeader, IpHeader, Ip4Header, Ip6Header, TcpHeader, UdpHeader, VlanTag } from './types.js';

/** How a packet came to be: off the wire, rebuilt by IP defragmentation, or a rebuilt TCP stream segment. */
export type PacketOrigin = 'wire' | 'defrag' | 'stream';

/**
 * A decoded frame. Fields hold the layers found; `ip` is the innermost IP header (Snort inspects
 * the inner packet of a tunnel), `outer` the enclosing IP headers of tunnels, outermost first.
 * One class with every field initialised keeps V8's object shape stable (fast property access).
 */
export class Packet {
  /** pcap link type the frame was decoded with (-1 for the plain IP entry point). */
  linktype: number;
  /** The whole captured frame (or the rebuilt datagram for defragmented packets). */
  data: Uint8Array;
  tsSec = 0;
  tsUsec = 0;
  origin: PacketOrigin = 'wire';

  eth: EthHeader | undefined = undefined;
  vlans: VlanTag[] | undefined = undefined;
  mplsLabels: number[] | undefined = undefined;
  /** Innermost IP header (the one rules inspect). */
  ip: IpHeader | undefined = undefined;
  /** Tunnel outer IP headers, outermost first. */
  outer: IpHeader[] | undefined = undefined;
  gre: GreHeader | undefined = undefined;
  tcp: TcpHeader | undefined = undefined;
  udp: UdpHeader | undefined = undefined;
  /** ICMPv4 header. */
  icmp: IcmpHeader | undefined = undefined;
  /** ICMPv6 header. */
  icmp6: IcmpHeader | undefined = undefined;
  /**
   * Source / destination port of TCP or UDP, else -1: set with `tcp` and `udp` (the decoders, decode.ts). Fields, not
   * getters choosing between the two layers: optimized code that had only met TCP packets was thrown away at the
   * first UDP one, for the load of its port it had never run.
   */
  srcPort = -1;
  dstPort = -1;

  /** Application payload (Snort's p->data / dsize): after TCP/UDP/ICMP headers, or the IP payload of fragments and unknown protocols. */
  payloadOffset = 0;
  payloadLength = 0;
  private payloadView: Uint8Array | undefined = undefined;

  /** First decoding problem met, if any; layers decoded before it are kept. */
  error: DecodeError | undefined = undefined;
  /** Offset where the problem was found. */
  errorOffset = -1;
  /** True if any verified checksum (IPv4 header, TCP, UDP, ICMP, ICMPv6) is wrong. */
  badChecksum = false;

  constructor(linktype: number, data: Uint8Array) {
    this.linktype = linktype;
    this.data = data;
  }

  /** Payload bytes as a view into `data` (no copy). */
  get payload(): Uint8Array {
    let v = this.payloadView;
    if (v === undefined) {
      v = this.data.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
      this.payloadView = v;
    }
    return v;
  }

  /** Drop the cached payload view (after payloadOffset/payloadLength were changed). */
  resetPayloadView(): void {
    this.payloadView = undefined;
  }

  get ip4(): Ip4Header | undefined {
    const ip = this.ip;
    return ip !== undefined && ip.version === 4 ? ip : undefined;
  }

  get ip6(): Ip6Header | undefined {
    const ip = this.ip;
    return ip !== undefined && ip.version === 6 ? ip : undefined;
  }

  /** Transport protocol number of the innermost IP layer, or -1 without IP. */
  get proto(): number {
    return this.ip !== undefined ? this.ip.proto : -1;
  }
}

settleShape(new Packet(0, new Uint8Array(1)), (p) => {
  p.linktype = 1;
  p.data = Buffer.alloc(1);
  p.tsSec = 2 ** 31;
  p.tsUsec = 1;
  p.origin = 'stream';
  anyObjectFields(p, ['eth', 'vlans', 'mplsLabels', 'ip', 'outer', 'gre', 'tcp', 'udp', 'icmp', 'icmp6']);
  p.srcPort = 1;
  p.dstPort = 1;
  p.payloadOffset = 1;
  p.payloadLength = 0;
  void p.payload;
  p.resetPayloadView();
  p.error = 'ip-truncated';
  p.errorOffset = 1;
  p.badChecksum = true;
});

/** Per-kind counters kept across a run; decode() updates them when given one. */
export class DecodeStats {
  packets = 0;
  bytes = 0;
  ipv4 = 0;
  ipv6 = 0;
  tcp = 0;
  udp = 0;
  icmp = 0;
  icmp6 = 0;
  fragments = 0;
  tunnels = 0;
  /** Frames without an IP layer and without error (ARP, LLDP, ...). */
  nonIp = 0;
  /** Frames with a decode error. */
  malformed = 0;
  /** Frames with at least one bad checksum (when verification is on). */
  badChecksum = 0;
  /** Error counts by kind. */
  errors: Partial<Record<DecodeError, number>> = {};

  count(p: Packet): void {
    this.packets++;
    this.bytes += p.data.length;
    const ip = p.ip;
    if (ip === undefined) {
      if (p.error === undefined) this.nonIp++;
    } else {
      if (ip.version === 4) this.ipv4++;
      else this.ipv6++;
      if (ip.isFragment) this.fragments++;
      if (p.outer !== undefined) this.tunnels++;
      if (p.tcp !== undefined) this.tcp++;
      else if (p.udp !== undefined) this.udp++;
      else if (p.icmp !== undefined) this.icmp++;
      else if (p.icmp6 !== undefined) this.icmp6++;
    }
    if (p.error !== undefined) {
      this.malformed++;
      this.errors[p.error] = (this.errors[p.error] ?? 0) + 1;
    }
    if (p.badChecksum) this.badChecksum++;
  }
}
