/** Suricata EVE JSON alert records, one object per line. */
import { formatIp } from '../packet/bytes.js';
import type { AlertRecord } from './fast.js';
import { protoName } from './fast.js';

function isoTimestamp(sec: number, usec: number): string {
  const d = new Date(sec * 1000);
  const base = d.toISOString().slice(0, 19);
  return `${base}.${String(usec).padStart(6, '0')}+0000`;
}

export function formatEve(a: AlertRecord, inline = false): string {
  const p = a.packet;
  const ip = p.ip;
  const rec: Record<string, unknown> = {
    timestamp: isoTimestamp(p.tsSec, p.tsUsec),
    event_type: 'alert',
    src_ip: ip ? formatIp(ip.src) : undefined,
    src_port: p.srcPort >= 0 ? p.srcPort : undefined,
    dest_ip: ip ? formatIp(ip.dst) : undefined,
    dest_port: p.dstPort >= 0 ? p.dstPort : undefined,
    proto: protoName(ip?.proto ?? 0),
    alert: {
      action: inline && (a.action === 'drop' || a.action === 'reject') ? 'blocked' : 'allowed',
      gid: a.gid,
      signature_id: a.sid,
      rev: a.rev,
      signature: a.msg,
      category: a.classification ?? '',
      severity: a.priority,
    },
  };
  const ic = p.icmp ?? p.icmp6;
  if (ic !== undefined) {
    rec.icmp_type = ic.type;
    rec.icmp_code = ic.code;
  }
  return JSON.stringify(rec);
}
