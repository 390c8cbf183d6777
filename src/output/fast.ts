/**
 * Snort 2.9 alert_fast lines (HONEYWALL.md section 5):
 * `MM/DD-HH:MM:SS.uuuuuu  [**] [gid:sid:rev] MSG [**] [Classification: C] [Priority: N] {PROTO} SRC:SPORT -> DST:DPORT`.
 * Times are local time, as Snort prints them without -U (pass `utc` for -U).
 */
import { formatIp } from '../packet/bytes.js';
import type { Packet } from '../packet/packet.js';

export interface AlertRecord {
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classification: string | undefined;
  priority: number;
  action: string;
  packet: Packet;
  /** Inline mode: the packet was dropped (prints ` [Drop]`). */
  dropped?: boolean;
}

const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'IPV6-ICMP' };

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? `PROTO:${pad(proto, 3)}`;
}

export function fastTimestamp(sec: number, usec: number, utc = false): string {
  const d = new Date(sec * 1000);
  const [mo, da, h, mi, s] = utc
    ? [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${pad(mo)}/${pad(da)}-${pad(h)}:${pad(mi)}:${pad(s)}.${pad(usec, 6)}`;
}

/** Source and destination as Snort prints them: with ports for TCP/UDP. */
export function endpoints(p: Packet): string {
  const ip = p.ip;
  if (ip === undefined) return '';
  const src = formatIp(ip.src);
  const dst = formatIp(ip.dst);
  if (p.tcp !== undefined || p.udp !== undefined) return `${src}:${p.srcPort} -> ${dst}:${p.dstPort}`;
  return `${src} -> ${dst}`;
}

export function formatFast(a: AlertRecord, utc = false): string {
  const p = a.packet;
  let line = fastTimestamp(p.tsSec, p.tsUsec, utc) + ' ';
  if (a.dropped) line += ' [Drop]';
  line += ` [**] [${a.gid}:${a.sid}:${a.rev}] ${a.msg} [**] `;
  if (a.classification !== undefined) line += `[Classification: ${a.classification}] `;
  line += `[Priority: ${a.priority}] {${protoName(p.ip?.proto ?? 0)}} ${endpoints(p)}`;
  return line;
}
