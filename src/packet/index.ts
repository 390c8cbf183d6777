export { decode, decodeIpPacket, parseTcpOptions, type DecodeOptions } from './decode.js';
export { DecodeStats, Packet, type PacketOrigin } from './packet.js';
export * from './types.js';
export { fixChecksums, ipv4HeaderChecksumOk, transportChecksumOk, sumWords, fold, finish, pseudoHeaderSum } from './checksum.js';
export { formatIp, parseIp, u16, u32 } from './bytes.js';
export { Defragmenter, type DefragOptions, type DefragStats, type OverlapPolicy } from './defrag.js';
export {
  buildIp,
  buildIcmpUnreachable,
  buildTcpReset,
  ethernet,
  fragmentDatagram,
  ipv4,
  ipv6,
  linuxSll,
  linuxSll2,
  nullLoopback,
  tcpDatagram,
  tcpFlags,
  type EthSpec,
  type IcmpSpec,
  type IpSpec,
  type PacketSpec,
  type TcpSpec,
  type UdpSpec,
} from './build.js';
