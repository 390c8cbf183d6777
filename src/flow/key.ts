import type { Packet } from '../packet/packet.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function addrKey(a: Uint8Array): string {
  if (a.length === 4) return `${((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0}`;
  let s = '';
  for (let i = 0; i < 16; i++) s += HEX[a[i]];
  return s;
}

/** Compare two (address, port) endpoints byte-wise; negative if a < b. */
export function compareEndpoints(a: Uint8Array, ap: number, b: Uint8Array, bp: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  if (a.length !== b.length) return a.length - b.length;
  return ap - bp;
}

/** Ports used for flow keys: TCP/UDP ports; ICMP echo id (both sides) so requests and replies share a flow; else 0. */
export function flowPorts(p: Packet): [number, number] {
  if (p.tcp !== undefined) return [p.tcp.srcPort, p.tcp.dstPort];
  if (p.udp !== undefined) return [p.udp.srcPort, p.udp.dstPort];
  const ic = p.icmp ?? p.icmp6;
  if (ic !== undefined && ic.id >= 0) return [ic.id, ic.id];
  return [0, 0];
}

/**
 * Direction-independent key of the packet's 5-tuple (plus innermost VLAN id, as Snort keys
 * sessions by VLAN too). Undefined without an IP layer.
 */
export function flowKey(p: Packet): string | undefined {
  const ip = p.ip;
  if (ip === undefined) return undefined;
  const [sp, dp] = flowPorts(p);
  const vlan = p.vlans !== undefined ? p.vlans[p.vlans.length - 1].vid : 0;
  const proto = ip.proto;
  const a = addrKey(ip.src);
  const b = addrKey(ip.dst);
  return compareEndpoints(ip.src, sp, ip.dst, dp) <= 0
    ? `${proto}|${vlan}|${a}|${sp}|${b}|${dp}`
    : `${proto}|${vlan}|${b}|${dp}|${a}|${sp}`;
}
