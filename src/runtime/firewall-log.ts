/**
 * The firewall log: every NFLOG packet of the firewall's group as the line the kernel's LOG target
 * would have written to /var/log/iptables, so the operator's greps and Swatch-style watches keep
 * working: `Nov 27 03:41:00 honeywall honeywall: OUTBOUND TCP: IN=br0 OUT=br0 PHYSIN=eth1
 * PHYSOUT=eth0 MAC=... SRC=10.0.0.20 DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF
 * PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0`.
 */
import { formatIp } from '../packet/bytes.js';

export interface LoggedPacket {
  prefix: string;
  data: Uint8Array;
  indev: number;
  outdev: number;
  physindev: number;
  physoutdev: number;
  hwheader?: Uint8Array;
  tsSec: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** syslog's `Mmm dd hh:mm:ss` (local time). */
export function syslogTime(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** The kernel LOG target's packet description (nf_log_syslog) for an IP datagram. */
export function describePacket(b: Uint8Array): string {
  if (b.length < 1) return 'TRUNCATED';
  const v = b[0]! >> 4;
  if (v === 4) return describeIpv4(b);
  if (v === 6) return describeIpv6(b);
  return `PROTO=UNKNOWN`;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function describeIpv4(b: Uint8Array): string {
  if (b.length < 20) return 'TRUNCATED';
  const ihl = (b[0]! & 0x0f) * 4;
  const tos = b[1]!;
  const frag = u16(b, 6);
  let s = `SRC=${formatIp(b.subarray(12, 16))} DST=${formatIp(b.subarray(16, 20))} LEN=${u16(b, 2)} TOS=0x${(tos & 0x1e).toString(16).padStart(2, '0').toUpperCase()} PREC=0x${(tos & 0xe0).toString(16).padStart(2, '0').toUpperCase()} TTL=${b[8]} ID=${u16(b, 4)} `;
  if (frag & 0x8000) s += 'CE ';
  if (frag & 0x4000) s += 'DF ';
  if (frag & 0x2000) s += 'MF ';
  if (frag & 0x1fff) s += `FRAG:${frag & 0x1fff} `;
  return s + describeTransport(b, b[9]!, ihl, (frag & 0x1fff) !== 0);
}

function describeIpv6(b: Uint8Array): string {
  if (b.length < 40) return 'TRUNCATED';
  const flow = u32(b, 0);
  const addr = (o: number) => formatIp(b.subarray(o, o + 16));
  const s = `SRC=${addr(8)} DST=${addr(24)} LEN=${u16(b, 4) + 40} TC=${(flow >> 20) & 0xff} HOPLIMIT=${b[7]} FLOWLBL=${flow & 0xfffff} `;
  return s + describeTransport(b, b[6]!, 40, false);
}

function describeTransport(b: Uint8Array, proto: number, o: number, fragment: boolean): string {
  switch (proto) {
    case 6: {
      if (fragment) return 'PROTO=TCP ';
      if (b.length < o + 20) return `PROTO=TCP INCOMPLETE [${b.length - o} bytes] `;
      const f = b[o + 13]!;
      let s = `PROTO=TCP SPT=${u16(b, o)} DPT=${u16(b, o + 2)} WINDOW=${u16(b, o + 14)} RES=0x${(((b[o + 12]! & 0x0f) << 4) | 0).toString(16).padStart(2, '0')} `;
      const names: [number, string][] = [
        [0x80, 'CWR'],
        [0x40, 'ECE'],
        [0x20, 'URG'],
        [0x10, 'ACK'],
        [0x08, 'PSH'],
        [0x04, 'RST'],
        [0x02, 'SYN'],
        [0x01, 'FIN'],
      ];
      for (const [bit, name] of names) if (f & bit) s += `${name} `;
      return `${s}URGP=${u16(b, o + 18)} `;
    }
    case 17:
    case 136: {
      const name = proto === 17 ? 'UDP' : 'UDPLITE';
      if (fragment) return `PROTO=${name} `;
      if (b.length < o + 8) return `PROTO=${name} INCOMPLETE [${b.length - o} bytes] `;
      return `PROTO=${name} SPT=${u16(b, o)} DPT=${u16(b, o + 2)} LEN=${u16(b, o + 4)} `;
    }
    case 1:
    case 58: {
      const name = proto === 1 ? 'ICMP' : 'ICMPv6';
      if (fragment) return `PROTO=${name} `;
      if (b.length < o + 4) return `PROTO=${name} INCOMPLETE [${b.length - o} bytes] `;
      let s = `PROTO=${name} TYPE=${b[o]} CODE=${b[o + 1]} `;
      const t = b[o]!;
      if (b.length >= o + 8 && ((proto === 1 && (t === 0 || t === 8)) || (proto === 58 && (t === 128 || t === 129))))
        s += `ID=${u16(b, o + 4)} SEQ=${u16(b, o + 6)} `;
      return s;
    }
    default:
      return `PROTO=${proto} `;
  }
}

export interface FirewallLineOptions {
  host: string;
  /** Interface index -> name. */
  ifname: (index: number) => string;
}

/** One firewall log line (without the newline). */
export function formatFirewallLine(p: LoggedPacket, o: FirewallLineOptions): string {
  const prefix = p.prefix === '' || /\s$/.test(p.prefix) ? p.prefix : `${p.prefix} `;
  let s = `${syslogTime(p.tsSec)} ${o.host} honeywall: ${prefix}IN=${o.ifname(p.indev)} OUT=${o.ifname(p.outdev)} `;
  if (p.physindev) s += `PHYSIN=${o.ifname(p.physindev)} `;
  if (p.physoutdev) s += `PHYSOUT=${o.ifname(p.physoutdev)} `;
  if (p.hwheader && p.hwheader.length > 0) s += `MAC=${hex(p.hwheader)} `;
  return (s + describePacket(p.data)).trimEnd();
}
