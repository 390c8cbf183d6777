/**
 * The answer of a `reject`: a TCP RST|ACK (TCP) or an ICMP port unreachable (anything else but
 * ICMP itself), sent back to the offending packet's sender as a whole Ethernet frame out of the
 * bridge port the packet came in on (AF_PACKET). The gateway's bridge has no IP address, so a raw
 * IP socket would have no route to the honeypot; the frame goes to the sender's MAC address, which
 * NFQUEUE reports with each packet.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildIcmpUnreachable, buildTcpReset } from '../packet/build.js';
import type { Packet } from '../packet/packet.js';

export interface RejectMeta {
  indev: number;
  physindev: number;
  hwaddr?: Uint8Array;
}

export interface FrameSender {
  sendFrame(ifindex: number, frame: Uint8Array): number;
}

/** The IP datagram answering `p` for a reject, or undefined (ICMP is never answered). */
export function rejectDatagram(p: Packet): Uint8Array | undefined {
  if (p.ip === undefined || p.icmp !== undefined || p.icmp6 !== undefined) return undefined;
  if (p.tcp !== undefined) return (p.tcp.flags & 0x04) !== 0 ? undefined : buildTcpReset(p, 'source');
  return buildIcmpUnreachable(p);
}

export function ethernetFrame(dst: Uint8Array, src: Uint8Array, datagram: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + datagram.length);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  const v6 = datagram[0]! >> 4 === 6;
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  f.set(datagram, 14);
  return f;
}

export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text.trim());
  return m ? Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16))) : undefined;
}

export class RejectSender {
  sent = 0;
  failed = 0;
  lastError: string | undefined;
  private readonly macs = new Map<number, Uint8Array | undefined>();

  constructor(
    private readonly sender: FrameSender,
    private readonly sysNet = '/sys/class/net',
  ) {}

  /** MAC address of an interface by index (from sysfs), cached. */
  macOf(ifindex: number): Uint8Array | undefined {
    if (this.macs.has(ifindex)) return this.macs.get(ifindex);
    let mac: Uint8Array | undefined;
    try {
      for (const name of readdirSync(this.sysNet)) {
        const idx = Number(readFileSync(path.join(this.sysNet, name, 'ifindex'), 'utf8').trim());
        if (idx === ifindex) {
          mac = parseMac(readFileSync(path.join(this.sysNet, name, 'address'), 'utf8'));
          break;
        }
      }
    } catch {
      mac = undefined;
    }
    this.macs.set(ifindex, mac);
    return mac;
  }

  /** Send the reject answer for `p`. Returns whether a frame went out. Never throws. */
  send(p: Packet, meta: RejectMeta): boolean {
    const datagram = rejectDatagram(p);
    const ifindex = meta.physindev || meta.indev;
    if (datagram === undefined || !ifindex || meta.hwaddr === undefined || meta.hwaddr.length < 6) return false;
    const src = this.macOf(ifindex) ?? new Uint8Array([0x02, 0, 0, 0, 0, 1]);
    try {
      this.sender.sendFrame(ifindex, ethernetFrame(meta.hwaddr, src, datagram));
      this.sent++;
      return true;
    } catch (err) {
      this.failed++;
      this.lastError = (err as Error).message;
      return false;
    }
  }
}
