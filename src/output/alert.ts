/**
 * An IDS/IPS event as `replay` prints it and the gateway logs it (plain data: it crosses worker threads), made from a
 * matcher event in one place, and its two line formats: Snort 2.9's fast alert and Suricata's EVE JSON
 * (HONEYWALL.md section 5). Both commands write through here.
 */
import type { MatchEvent } from '../match/decide.js';
import { formatIp } from '../packet/bytes.js';
import { clampTimestampSec, clampUsec } from '../packet/time.js';

/** What the rule said to do (Snort 2.9 actions that reach the packet path). */
export type RuleAction = 'alert' | 'log' | 'pass' | 'drop' | 'sdrop' | 'reject';

export interface AlertEvent {
  tsSec: number;
  tsUsec: number;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype?: string;
  /** The classification's description (`[Classification: ...]`). */
  classification?: string;
  priority: number;
  action: RuleAction;
  /** The packet was blocked (drop, reject; or the session was already blocked). */
  blocked: boolean;
  /** The packet was rewritten by `replace`. */
  replaced: boolean;
  /** Protocol name as Snort prints it: TCP, UDP, ICMP, IPV6-ICMP or PROTO:NNN. */
  proto: string;
  src: string;
  dst: string;
  /** -1 when the protocol has no ports. */
  sport: number;
  dport: number;
  /** ICMP type and code, when the packet is ICMP. */
  icmpType?: number;
  icmpCode?: number;
}

const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'IPV6-ICMP' };

/** The protocol as Snort prints it. */
export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? `PROTO:${String(proto).padStart(3, '0')}`;
}

/** The record of a matcher event: `blocked` when the packet was dropped, `replaced` when it was rewritten. */
export function alertOf(e: MatchEvent, blocked = false, replaced = false): AlertEvent {
  const r = e.rule;
  const p = e.packet;
  const ip = p.ip!;
  const ports = p.tcp !== undefined || p.udp !== undefined;
  const ic = p.icmp ?? p.icmp6;
  const a: AlertEvent = {
    tsSec: p.tsSec,
    tsUsec: p.tsUsec,
    gid: r.gid,
    sid: r.sid,
    rev: r.rev,
    msg: r.msg,
    classtype: r.classtype,
    classification: r.classDescription,
    priority: r.priority,
    action: e.action as RuleAction,
    blocked,
    replaced,
    proto: protoName(ip.proto),
    src: formatIp(ip.src),
    dst: formatIp(ip.dst),
    sport: ports ? p.srcPort : -1,
    dport: ports ? p.dstPort : -1,
  };
  if (ic !== undefined) {
    a.icmpType = ic.type;
    a.icmpCode = ic.code;
  }
  return a;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `MM/DD-HH:MM:SS.uuuuuu` in local time (Snort's default; `utc` as with snort -U). */
export function snortTimestamp(sec: number, usec: number, utc = false): string {
  const d = new Date(clampTimestampSec(sec) * 1000);
  usec = clampUsec(usec);
  const [mo, da, h, mi, s] = utc
    ? [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${pad(mo)}/${pad(da)}-${pad(h)}:${pad(mi)}:${pad(s)}.${pad(usec, 6)}`;
}

function endpoint(addr: string, port: number): string {
  if (port < 0) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** A Snort 2.9 fast-alert line (without the newline). */
export function formatFastAlert(e: AlertEvent, utc = false): string {
  let line = `${snortTimestamp(e.tsSec, e.tsUsec, utc)} `;
  if (e.blocked) line += ' [Drop]';
  line += ` [**] [${e.gid}:${e.sid}:${e.rev}] ${e.msg} [**] `;
  if (e.classification !== undefined) line += `[Classification: ${e.classification}] `;
  line += `[Priority: ${e.priority}] {${e.proto}} `;
  if (e.sport >= 0 && e.dport >= 0) line += `${endpoint(e.src, e.sport)} -> ${endpoint(e.dst, e.dport)}`;
  else line += `${e.src} -> ${e.dst}`;
  return line;
}

/** ISO 8601 with microseconds and the local offset, as Suricata writes it. */
export function eveTimestamp(sec: number, usec: number): string {
  const d = new Date(clampTimestampSec(sec) * 1000);
  usec = clampUsec(usec);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${pad(usec, 6)}${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`
  );
}

/** An EVE JSON `alert` (or `drop`-marked alert) object. */
export function eveAlert(e: AlertEvent, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {
    timestamp: eveTimestamp(e.tsSec, e.tsUsec),
    event_type: 'alert',
    src_ip: e.src,
    dest_ip: e.dst,
    proto: e.proto,
  };
  if (e.sport >= 0) o.src_port = e.sport;
  if (e.dport >= 0) o.dest_port = e.dport;
  o.alert = {
    action: e.blocked ? 'blocked' : 'allowed',
    rule_action: e.action,
    gid: e.gid,
    signature_id: e.sid,
    rev: e.rev,
    signature: e.msg,
    category: e.classification ?? '',
    severity: e.priority,
    ...(e.replaced ? { replaced: true } : {}),
  };
  if (e.icmpType !== undefined) {
    o.icmp_type = e.icmpType;
    o.icmp_code = e.icmpCode;
  }
  return { ...o, ...extra };
}

export function formatEveAlert(e: AlertEvent, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(eveAlert(e, extra));
}
