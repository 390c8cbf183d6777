/** JSON forms of Sebek records and summaries (one object per line, EVE-like `event_type`). */
import type { CapturedSebekRecord } from './extract.js';
import { decodeSocketData, SebekType } from './format.js';
import type { ClientLoss } from './session.js';
import { escapeBytes } from './text.js';
import { clampTimestampSec, clampUsec } from '../packet/time.js';

export function isoTime(sec: number, usec: number): string {
  const d = new Date(clampTimestampSec(sec) * 1000);
  return `${d.toISOString().slice(0, 19)}.${String(clampUsec(usec)).padStart(6, '0')}Z`;
}

export { escapeBytes, jsonLine } from './text.js';

export interface SebekRecordJson {
  event_type: 'sebek_record';
  timestamp: string;
  captured: string;
  client: string;
  magic: number;
  version: number;
  type: number;
  type_name: string;
  counter: number;
  time_sec: number;
  time_usec: number;
  usec_swapped: boolean;
  ppid: number;
  pid: number;
  uid: number;
  fd: number;
  inode: number;
  com: string;
  length: number;
  /** The record data, base64. */
  data: string;
  /** The record data as escaped text (reads, writes, open paths). */
  text: string;
  socket?: { call: number; call_name: string; proto: number; sip: string; sport: number; dip: string; dport: number };
}

export function recordJson(r: CapturedSebekRecord): SebekRecordJson {
  const j: SebekRecordJson = {
    event_type: 'sebek_record',
    timestamp: isoTime(r.timeSec, r.timeUsec),
    captured: isoTime(r.capSec, r.capUsec),
    client: r.client,
    magic: r.magic,
    version: r.version,
    type: r.type,
    type_name: r.typeName,
    counter: r.counter,
    time_sec: r.timeSec,
    time_usec: r.timeUsec,
    usec_swapped: r.usecSwapped,
    ppid: r.ppid,
    pid: r.pid,
    uid: r.uid,
    fd: r.fd,
    inode: r.inode,
    com: r.com,
    length: r.data.length,
    data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString('base64'),
    text: escapeBytes(r.data),
  };
  if (r.type === SebekType.SOCKET) {
    const s = decodeSocketData(r.data);
    if (s !== undefined) j.socket = { call: s.call, call_name: s.callName, proto: s.proto, sip: s.sip, sport: s.sport, dip: s.dip, dport: s.dport };
  }
  return j;
}

export function lossJson(l: ClientLoss): Record<string, unknown> {
  return {
    event_type: 'sebek_loss',
    client: l.client,
    received: l.received,
    lost: l.lost,
    gaps: l.gaps,
    backwards: l.backwards,
    first_counter: l.firstCounter,
    last_counter: l.lastCounter,
  };
}
