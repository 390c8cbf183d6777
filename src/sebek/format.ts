/**
 * Sebek v2 / v3 record wire format (HONEYWALL.md section 4): decoding and encoding of the UDP
 * payload a Sebek client sends. Headers are big-endian; `com` is 12 bytes, NUL padded, not always
 * terminated; `length` bytes of data follow. A payload may hold several records back to back.
 *
 *   v3 (56 bytes): magic u32, version u16, type u16, counter u32, time_sec u32, time_usec u32,
 *                  parent_pid u32, pid u32, uid u32, fd u32, inode u32, com[12], length u32
 *   v2 (48 bytes): magic u32, version u16, type u16, counter u32, time_sec u32, time_usec u32,
 *                  pid u32, uid u32, fd u32, com[12], length u32
 *
 * Socket records (type 2) carry 15 bytes: dip u32, dport u16, sip u32, sport u16, call u16, proto u8.
 * Open records (type 3) carry the path. A fork is a zero-length read. The Windows client writes
 * time_usec in host (little-endian) order: a big-endian value of a million or more whose byte swap
 * is a valid microsecond count is taken as such (`usecSwapped`).
 */
import { u16, u32, writeU16, writeU32 } from '../packet/bytes.js';
import { cString, escapeBytes } from './text.js';

export const SEBEK_DEFAULT_PORT = 1101;
export const SEBEK_V3_HEADER = 56;
export const SEBEK_V2_HEADER = 48;
/** Largest record data accepted (a UDP datagram can carry no more). */
export const SEBEK_MAX_DATA = 65507;

export const SebekType = { READ: 0, WRITE: 1, SOCKET: 2, OPEN: 3 } as const;
export type SebekTypeName = 'read' | 'write' | 'socket' | 'open' | 'unknown';

export function sebekTypeName(t: number): SebekTypeName {
  switch (t) {
    case 0:
      return 'read';
    case 1:
      return 'write';
    case 2:
      return 'socket';
    case 3:
      return 'open';
    default:
      return 'unknown';
  }
}

/** Linux socketcall numbers as Sebek reports them. */
export const SOCKET_CALLS: Readonly<Record<number, string>> = {
  1: 'socket',
  2: 'bind',
  3: 'connect',
  4: 'listen',
  5: 'accept',
  6: 'getsockname',
  7: 'getpeername',
  8: 'socketpair',
  9: 'send',
  10: 'recv',
  11: 'sendto',
  12: 'recvfrom',
  13: 'shutdown',
  14: 'setsockopt',
  15: 'getsockopt',
  16: 'sendmsg',
  17: 'recvmsg',
  18: 'accept4',
};

export function socketCallName(call: number): string {
  return SOCKET_CALLS[call] ?? `call${call}`;
}

export interface SebekSocket {
  dip: string;
  dport: number;
  sip: string;
  sport: number;
  call: number;
  callName: string;
  /** IP protocol number (6 tcp, 17 udp). */
  proto: number;
}

/** One decoded record, as the client sent it. */
export interface SebekRecord {
  version: 2 | 3;
  magic: number;
  type: number;
  typeName: SebekTypeName;
  counter: number;
  timeSec: number;
  timeUsec: number;
  /** time_usec arrived in little-endian order (Windows client). */
  usecSwapped: boolean;
  /** v3 only (0 for v2). */
  ppid: number;
  pid: number;
  uid: number;
  fd: number;
  /** v3 only (0 for v2). */
  inode: number;
  /** Command name: its bytes up to the first NUL, escaped (text.ts: never a terminal control). */
  com: string;
  /** The command name's bytes as sent, up to the first NUL. */
  comBytes: Uint8Array;
  data: Uint8Array;
  /** Decoded socket data for type 2 records with 15 bytes or more. */
  socket?: SebekSocket;
}

/** The fields needed to encode a record. */
export interface SebekRecordInput {
  version?: 2 | 3;
  type: number;
  counter: number;
  timeSec: number;
  timeUsec: number;
  ppid?: number;
  pid: number;
  uid: number;
  fd: number;
  inode?: number;
  com: string;
  data: Uint8Array;
}

export type SebekDecodeResult = { ok: true; records: SebekRecord[] } | { ok: false; reason: string; records: SebekRecord[] };

function ipText(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

export function decodeSocketData(d: Uint8Array): SebekSocket | undefined {
  if (d.length < 15) return undefined;
  const call = u16(d, 12);
  return { dip: ipText(d, 0), dport: u16(d, 4), sip: ipText(d, 6), sport: u16(d, 10), call, callName: socketCallName(call), proto: d[14] };
}

/**
 * Decode the records in one UDP payload. `magic` undefined accepts any magic (the first record's
 * magic must then be shared by the rest). Never throws: a bad payload gives `ok: false` with the
 * reason, plus the records decoded before the problem.
 */
export function decodeSebekPayload(payload: Uint8Array, magic?: number): SebekDecodeResult {
  const records: SebekRecord[] = [];
  let o = 0;
  let want = magic;
  while (o < payload.length) {
    const left = payload.length - o;
    if (left < 8) return { ok: false, reason: `${left} trailing bytes, too short for a Sebek header`, records };
    const m = u32(payload, o);
    if (want !== undefined && m !== want) {
      return {
        ok: false,
        reason: `magic 0x${m.toString(16).padStart(8, '0')} is not the site magic 0x${want.toString(16).padStart(8, '0')}`,
        records,
      };
    }
    want = m;
    const version = u16(payload, o + 4);
    if (version !== 2 && version !== 3) return { ok: false, reason: `version ${version} is not 2 or 3`, records };
    const hlen = version === 3 ? SEBEK_V3_HEADER : SEBEK_V2_HEADER;
    if (left < hlen) return { ok: false, reason: `header cut short: ${left} of ${hlen} bytes`, records };
    const type = u16(payload, o + 6);
    const counter = u32(payload, o + 8);
    const timeSec = u32(payload, o + 12);
    let timeUsec = u32(payload, o + 16);
    let usecSwapped = false;
    if (timeUsec >= 1_000_000) {
      const s = swap32(timeUsec);
      if (s < 1_000_000) {
        timeUsec = s;
        usecSwapped = true;
      }
    }
    let ppid = 0;
    let inode = 0;
    let p = o + 20;
    if (version === 3) {
      ppid = u32(payload, p);
      p += 4;
    }
    const pid = u32(payload, p);
    const uid = u32(payload, p + 4);
    const fd = u32(payload, p + 8);
    p += 12;
    if (version === 3) {
      inode = u32(payload, p);
      p += 4;
    }
    const comBytes = cString(payload.slice(p, p + 12));
    const com = escapeBytes(comBytes);
    p += 12;
    const length = u32(payload, p);
    p += 4;
    if (length > left - hlen) {
      return { ok: false, reason: `record length ${length} runs past the packet (${left - hlen} bytes left)`, records };
    }
    const data = payload.slice(p, p + length);
    records.push({
      version,
      magic: m,
      type,
      typeName: sebekTypeName(type),
      counter,
      timeSec,
      timeUsec,
      usecSwapped,
      ppid,
      pid,
      uid,
      fd,
      inode,
      com,
      comBytes,
      data,
      socket: type === SebekType.SOCKET ? decodeSocketData(data) : undefined,
    });
    o = p + length;
  }
  if (records.length === 0) return { ok: false, reason: 'empty payload', records };
  return { ok: true, records };
}

/** Encode one record (v3 unless `version: 2`), big-endian as the Linux client sends it. */
export function encodeSebekRecord(r: SebekRecordInput, magic: number, opts: { windowsUsec?: boolean } = {}): Uint8Array {
  const version = r.version ?? 3;
  const hlen = version === 3 ? SEBEK_V3_HEADER : SEBEK_V2_HEADER;
  const b = new Uint8Array(hlen + r.data.length);
  writeU32(b, 0, magic);
  writeU16(b, 4, version);
  writeU16(b, 6, r.type);
  writeU32(b, 8, r.counter);
  writeU32(b, 12, r.timeSec);
  writeU32(b, 16, opts.windowsUsec ? swap32(r.timeUsec) : r.timeUsec);
  let p = 20;
  if (version === 3) {
    writeU32(b, p, r.ppid ?? 0);
    p += 4;
  }
  writeU32(b, p, r.pid);
  writeU32(b, p + 4, r.uid);
  writeU32(b, p + 8, r.fd);
  p += 12;
  if (version === 3) {
    writeU32(b, p, r.inode ?? 0);
    p += 4;
  }
  for (let i = 0; i < 12 && i < r.com.length; i++) b[p + i] = r.com.charCodeAt(i) & 0xff;
  p += 12;
  writeU32(b, p, r.data.length);
  b.set(r.data, p + 4);
  return b;
}

/** The 15 bytes of a socket record. */
export function encodeSocketData(s: { dip: string; dport: number; sip: string; sport: number; call: number; proto: number }): Uint8Array {
  const b = new Uint8Array(15);
  const ip = (t: string, o: number): void => {
    const parts = t.split('.').map(Number);
    if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address: ${t}`);
    b.set(parts, o);
  };
  ip(s.dip, 0);
  writeU16(b, 4, s.dport);
  ip(s.sip, 6);
  writeU16(b, 10, s.sport);
  writeU16(b, 12, s.call);
  b[14] = s.proto;
  return b;
}
