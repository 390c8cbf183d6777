/**
 * An IDS/IPS event as `replay` prints it and the gateway logs it (plain data: it crosses worker threads), made from a
 * matcher event in one place, and its two line formats: Snort 2.9's fast alert and Suricata's EVE JSON
 * (HONEYWALL.md section 5), with EVE's fields that join it to other tools' records (flow_id, community_id, pcap_cnt,
 * app_proto), and EVE flow events. Both commands write through here.
 */
import { noControls } from './visible.js';
import { communityId } from '../flow/community-id.js';
import { appProtoOf, flowId, type Flow } from '../flow/flow.js';
import type { FlowRecord } from '../flow/recorder.js';
import type { EventPacket, MatchEvent } from '../match/decide.js';
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
  /** EVE flow_id of the packet's flow (flowId), when it has one. */
  flowId?: number;
  /** Community ID v1 of the packet's addresses, ports (ICMP type/code) and protocol, when honeywall decodes them. */
  communityId?: string;
  /** 1-based number of the packet in its capture file that produced the event (replay); absent at the end of a capture and in the gateway. */
  pcapCnt?: number;
  /** `http` once the HTTP inspector recognised the flow; absent otherwise. */
  appProto?: string;
}

/** Where an event stands beyond its packet (plain data, except `record`): its flow, its place in the capture. */
export interface EventContext {
  /** 1-based packet number in the capture of the frame whose processing produced the event; 0 for none. */
  pcapCnt: number;
  flowId: number | undefined;
  appProto: string | undefined;
  /** The flow's open record, when a single-threaded replay keeps a FlowRecorder (the store links alerts to flows by it). */
  record?: FlowRecord;
}

/** The context of an event of `flow` produced at capture position `index` (0-based; -1 for none). */
export function eventContext(flow: Flow | undefined, index: number, record?: FlowRecord): EventContext {
  return {
    pcapCnt: index + 1,
    // a packet only the store's recorder gives a flow (ICMP, IP-only: FlowRecorderOptions.untracked): that flow's id
    flowId: flow === undefined ? record?.id : flowId(flow),
    appProto: flow === undefined ? undefined : appProtoOf(flow),
    record,
  };
}

/** The gateway's context: the session, no capture position. */
export function flowContext(flow: Flow | undefined): EventContext {
  return eventContext(flow, -1);
}

const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'IPV6-ICMP' };

/** The protocol as Snort prints it. */
export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? `PROTO:${String(proto).padStart(3, '0')}`;
}

/**
 * The Community ID of an event's packet, or undefined when the packet lacks what the spec hashes (the ports of a
 * TCP/UDP fragment, an ICMP header; SCTP, whose ports honeywall does not decode).
 */
export function packetCommunityId(p: EventPacket): string | undefined {
  const ip = p.ip;
  if (ip === undefined) return undefined;
  const proto = ip.proto;
  if (proto === 1 || proto === 58) {
    const ic = p.icmp ?? p.icmp6;
    return ic === undefined ? undefined : communityId(proto, ip.src, ip.dst, ic.type, ic.code);
  }
  if (proto === 6 || proto === 17) return p.srcPort < 0 ? undefined : communityId(proto, ip.src, ip.dst, p.srcPort, p.dstPort);
  if (proto === 132) return undefined;
  return communityId(proto, ip.src, ip.dst, 0, 0);
}

/**
 * The record of a matcher event: `blocked` when the packet was dropped, `replaced` when it was rewritten; `ctx` adds
 * its flow and capture position. `communityId` false leaves the Community ID out (a SHA-1 per alert) for a writer that
 * does not print it (the fast format).
 */
export function alertOf(e: MatchEvent, blocked = false, replaced = false, ctx?: EventContext, communityId = true): AlertEvent {
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
  const cid = communityId ? packetCommunityId(p) : undefined;
  if (cid !== undefined) a.communityId = cid;
  if (ctx !== undefined) {
    if (ctx.flowId !== undefined) a.flowId = ctx.flowId;
    if (ctx.pcapCnt > 0) a.pcapCnt = ctx.pcapCnt;
    if (ctx.appProto !== undefined) a.appProto = ctx.appProto;
  }
  return a;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `MM/DD-HH:MM:SS.uuuuuu` in local time (Snort's default; `utc` as with snort -U). */
export function snortTimestamp(sec: number, usec: number, utc = false): string {
  sec = clampTimestampSec(sec);
  // the date and time of the last second asked for: a capture's events come many to a second, and the Date's fields
  // were most of a fast line's cost (15 of the 24 ms of the bench capture's 14,103 lines, in a profile)
  if (sec !== lastSecond.sec || utc !== lastSecond.utc) {
    const d = new Date(sec * 1000);
    const [mo, da, h, mi, s] = utc
      ? [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
      : [d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
    lastSecond.sec = sec;
    lastSecond.utc = utc;
    lastSecond.text = `${pad(mo)}/${pad(da)}-${pad(h)}:${pad(mi)}:${pad(s)}.`;
  }
  return lastSecond.text + pad(clampUsec(usec), 6);
}
const lastSecond = { sec: Number.NaN, utc: false, text: '' };

function endpoint(addr: string, port: number): string {
  if (port < 0) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** A Snort 2.9 fast-alert line (without the newline). */
export function formatFastAlert(e: AlertEvent, utc = false): string {
  let line = `${snortTimestamp(e.tsSec, e.tsUsec, utc)} `;
  if (e.blocked) line += ' [Drop]';
  // (the rule's own text: a control character in it would reach the terminal that tails the file)
  line += ` [**] [${e.gid}:${e.sid}:${e.rev}] ${noControls(e.msg)} [**] `;
  if (e.classification !== undefined) line += `[Classification: ${noControls(e.classification)}] `;
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

/**
 * An EVE JSON `alert` (or `drop`-marked alert) object, its fields in Suricata's order. Every string in it (the rule's
 * msg, classification) is escaped by JSON.stringify, control characters and all: a line is always one JSON object.
 */
export function eveAlert(e: AlertEvent, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { timestamp: eveTimestamp(e.tsSec, e.tsUsec) };
  if (e.flowId !== undefined) o.flow_id = e.flowId;
  if (e.pcapCnt !== undefined) o.pcap_cnt = e.pcapCnt;
  o.event_type = 'alert';
  o.src_ip = e.src;
  if (e.sport >= 0) o.src_port = e.sport;
  o.dest_ip = e.dst;
  if (e.dport >= 0) o.dest_port = e.dport;
  o.proto = e.proto;
  if (e.communityId !== undefined) o.community_id = e.communityId;
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
  if (e.appProto !== undefined) o.app_proto = e.appProto;
  return { ...o, ...extra };
}

const TCP_FLAG_NAMES: [number, string][] = [
  [0x01, 'fin'],
  [0x02, 'syn'],
  [0x04, 'rst'],
  [0x08, 'psh'],
  [0x10, 'ack'],
  [0x20, 'urg'],
  [0x40, 'ecn'],
  [0x80, 'cwr'],
];

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/**
 * A flow's `app_proto` in a flow event: `http` when recognised; `failed` when the flow carried payload and no
 * inspector recognised it (Suricata's word for a flow whose detection gave up: honeywall recognises HTTP only, so
 * TLS, SSH, ... are `failed` here); absent when the flow carried no payload.
 */
export function flowAppProto(r: FlowRecord): string | undefined {
  if (r.appProto !== undefined) return r.appProto;
  return r.payloadBytes > 0 && (r.proto === 6 || r.proto === 17) ? 'failed' : undefined;
}

/**
 * An EVE `flow` event (Suricata's layout): the flow's start as the timestamp, its client as the source, counts each
 * way, start/end/age, state and why it ended, whether it raised an alert, and for TCP the flags seen each way.
 */
export function eveFlow(r: FlowRecord, alerted: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = { timestamp: eveTimestamp(r.startSec, r.startUsec), flow_id: r.id, event_type: 'flow', src_ip: r.clientIp };
  if (r.clientPort >= 0) o.src_port = r.clientPort;
  o.dest_ip = r.serverIp;
  if (r.serverPort >= 0) o.dest_port = r.serverPort;
  o.proto = protoName(r.proto);
  if (r.icmpType >= 0) {
    o.icmp_type = r.icmpType;
    o.icmp_code = r.icmpCode;
  }
  if (r.communityId !== '') o.community_id = r.communityId;
  const app = flowAppProto(r);
  if (app !== undefined) o.app_proto = app;
  o.flow = {
    pkts_toserver: r.pktsToServer,
    pkts_toclient: r.pktsToClient,
    bytes_toserver: r.bytesToServer,
    bytes_toclient: r.bytesToClient,
    start: eveTimestamp(r.startSec, r.startUsec),
    end: eveTimestamp(r.endSec, r.endUsec),
    age: Math.max(0, r.endSec - r.startSec),
    state: r.state,
    reason: r.reason ?? 'shutdown',
    alerted,
  };
  if (r.proto === 6) {
    const all = r.tcpFlagsTs | r.tcpFlagsTc;
    const tcp: Record<string, unknown> = { tcp_flags: hex2(all), tcp_flags_ts: hex2(r.tcpFlagsTs), tcp_flags_tc: hex2(r.tcpFlagsTc) };
    for (const [bit, name] of TCP_FLAG_NAMES) if (all & bit) tcp[name] = true;
    if (r.tcpState !== undefined) tcp.state = r.tcpState.replace('-', '_');
    o.tcp = tcp;
  }
  return { ...o, ...extra };
}

export function formatEveAlert(e: AlertEvent, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(eveAlert(e, extra));
}
