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

/** The innermost VLAN id of a packet (Snort keys sessions by VLAN too), 0 without one. */
export function vlanOf(p: Packet): number {
  return p.vlans !== undefined ? p.vlans[p.vlans.length - 1]!.vid : 0;
}

/** The text key of a 5-tuple and VLAN, the same both ways. */
export function tupleKey(proto: number, vlan: number, src: Uint8Array, sp: number, dst: Uint8Array, dp: number): string {
  const a = addrKey(src);
  const b = addrKey(dst);
  return compareEndpoints(src, sp, dst, dp) <= 0 ? `${proto}|${vlan}|${a}|${sp}|${b}|${dp}` : `${proto}|${vlan}|${b}|${dp}|${a}|${sp}`;
}

/**
 * Direction-independent key of the packet's 5-tuple (plus innermost VLAN id, as Snort keys
 * sessions by VLAN too). Undefined without an IP layer.
 */
export function flowKey(p: Packet): string | undefined {
  const ip = p.ip;
  if (ip === undefined) return undefined;
  const [sp, dp] = flowPorts(p);
  return tupleKey(ip.proto, vlanOf(p), ip.src, sp, ip.dst, dp);
}

/** A number for a 5-tuple and VLAN, the same both ways (FNV-1a of each side, combined in a fixed order). */
export function tupleHash(proto: number, vlan: number, src: Uint8Array, sp: number, dst: Uint8Array, dp: number): number {
  const a = endpointHash(src, sp);
  const b = endpointHash(dst, dp);
  let h = Math.imul(a < b ? a : b, 0x01000193) ^ (a < b ? b : a);
  h = Math.imul(h ^ proto, 0x01000193) ^ vlan;
  return h & 0x3fffffff; // a small integer: Map keys that need no boxing
}

function endpointHash(ip: Uint8Array, port: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip[i]!, 0x01000193);
  return (Math.imul(h ^ port, 0x01000193) ^ (port >>> 8)) >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The flows a FlowIndex holds need these. */
export interface IndexedFlow {
  readonly proto: number;
  readonly vlan: number;
  readonly hash: number;
  readonly client: { readonly ip: Uint8Array; readonly port: number };
  readonly server: { readonly ip: Uint8Array; readonly port: number };
}

/**
 * Flows by 5-tuple and VLAN, either way round, iterated in the order they were added. Keyed by tupleHash and
 * compared field by field (a text key made and hashed per packet cost more than the rest of the flow update).
 */
export class FlowIndex<F extends IndexedFlow> {
  private readonly buckets = new Map<number, F | F[]>();
  private readonly order = new Set<F>();

  get size(): number {
    return this.order.size;
  }

  find(hash: number, proto: number, vlan: number, src: Uint8Array, sp: number, dst: Uint8Array, dp: number): F | undefined {
    const b = this.buckets.get(hash);
    if (b === undefined) return undefined;
    if (!Array.isArray(b)) return matches(b, proto, vlan, src, sp, dst, dp) ? b : undefined;
    for (const f of b) if (matches(f, proto, vlan, src, sp, dst, dp)) return f;
    return undefined;
  }

  add(f: F): void {
    const b = this.buckets.get(f.hash);
    if (b === undefined) this.buckets.set(f.hash, f);
    else if (Array.isArray(b)) b.push(f);
    else this.buckets.set(f.hash, [b, f]);
    this.order.add(f);
  }

  delete(f: F): void {
    const b = this.buckets.get(f.hash);
    if (b === f) this.buckets.delete(f.hash);
    else if (Array.isArray(b)) {
      const i = b.indexOf(f);
      if (i >= 0) b.splice(i, 1);
      if (b.length === 1) this.buckets.set(f.hash, b[0]!);
    }
    this.order.delete(f);
  }

  values(): IterableIterator<F> {
    return this.order.values();
  }
}

function matches(f: IndexedFlow, proto: number, vlan: number, src: Uint8Array, sp: number, dst: Uint8Array, dp: number): boolean {
  if (f.proto !== proto || f.vlan !== vlan) return false;
  const c = f.client;
  const s = f.server;
  if (c.port === sp && s.port === dp && sameBytes(c.ip, src) && sameBytes(s.ip, dst)) return true;
  return c.port === dp && s.port === sp && sameBytes(c.ip, dst) && sameBytes(s.ip, src);
}
