/**
 * Leaf semantics shared by the compiled matcher and the reference evaluator: the header checks (dsize, ttl, flags,
 * flow, ...) and the byte_* / isdataat / base64_decode computations, each a small pure function of Snort 2.9's
 * definition. The parts where the two evaluators must be independent (content windows, searching, retries) are not
 * here.
 */
import type { Packet } from '../packet/packet.js';
import type {
  Base64DecodeOp, ByteExtractOp, ByteJumpOp, ByteTestOp, FlowTest, HeaderTest, IsDataAtOp, NumTest, RulePlan, Value,
} from './plan.js';
import type { Subject } from './subject.js';

export function valueOf(v: Value, vars: Int32Array | number[]): number {
  return typeof v === 'number' ? v : (vars[v.var] ?? 0);
}

export function numTestOk(t: NumTest, x: number): boolean {
  switch (t.op) {
    case '=':
      return x === t.a;
    case '<':
      return x < t.a;
    case '>':
      return x > t.a;
    case '<=':
      return x <= t.a;
    case '>=':
      return x >= t.a;
    case '!':
      return x !== t.a;
    case '<>':
      return x > t.a && x < (t.b ?? 0);
    case '<=>':
      return x >= t.a && x <= (t.b ?? 0);
  }
}

function bitsOk(have: number, want: number, mode: 'exact' | 'any' | 'all' | 'not'): boolean {
  switch (mode) {
    case 'exact':
      return have === want;
    case 'all':
      return (have & want) === want;
    case 'any':
      return (have & want) !== 0;
    case 'not':
      return (have & want) === 0;
  }
}

export function headerOk(h: HeaderTest, s: Subject): boolean {
  const p = s.packet;
  const ip = p.ip;
  switch (h.t) {
    case 'dsize':
      // Snort skips rebuilt packets unless they are PDU heads; with PAF (the default) flushed segments are.
      return numTestOk(h.test, s.payload.length);
    case 'ttl':
      return ip !== undefined && numTestOk(h.test, ip.ttl);
    case 'tos':
      return ip !== undefined && numTestOk(h.test, ip.tos);
    case 'id':
      return ip !== undefined && numTestOk(h.test, ip.id);
    case 'ip_proto':
      // Snort also sees the protocol of tunnel outer headers (6in4: ip_proto:41)
      if (ip === undefined) return false;
      if (numTestOk(h.test, ip.proto)) return h.test.op !== '!' || (p.outer ?? []).every((o) => numTestOk(h.test, o.proto));
      return h.test.op !== '!' && (p.outer ?? []).some((o) => numTestOk(h.test, o.proto));
    case 'ssl_state':
    case 'ssl_version': {
      const b = s.payload;
      if (b.length < 6 || b[0]! < 0x14 || b[0]! > 0x17 || b[1] !== 3) return false;
      const have = h.t === 'ssl_state' ? (b[0] === 0x16 ? b[5]! : -1) : b[2]!;
      const list = h.t === 'ssl_state' ? h.states : h.versions;
      let any = false;
      for (let i = 0; i < list.length; i++) {
        if (h.negated[i]) {
          if (have === list[i]) return false;
          any = true;
        } else if (have === list[i]) any = true;
      }
      return any;
    }
    case 'ftpbounce': {
      const m = /PORT\s+(\d+),(\d+),(\d+),(\d+),\d+,\d+/i.exec(Buffer.from(s.payload.buffer, s.payload.byteOffset, s.payload.length).toString('latin1'));
      if (!m || ip === undefined || ip.version !== 4) return false;
      for (let i = 0; i < 4; i++) if (Number(m[i + 1]) !== ip.src[i]) return true;
      return false;
    }
    case 'never':
      return false;
    case 'sameip':
      return ip !== undefined && sameBytes(ip.src, ip.dst);
    case 'ipopts': {
      const ip4 = p.ip4;
      if (ip4 === undefined) return false;
      // Snort's decoder stops at EOL and does not record it: ipopts:eol never matches (Snort 2.9.20 on detect-ipopts-02)
      if (h.option === -1) return ip4.options.some((o) => o.type !== 0);
      for (const o of ip4.options) if (o.type === h.option && o.type !== 0) return true;
      return false;
    }
    case 'fragbits': {
      if (ip === undefined) return false;
      const have = (ip.mf ? 1 : 0) | (ip.df ? 2 : 0) | (ip.rb ? 4 : 0);
      return bitsOk(have, h.bits, h.mode);
    }
    case 'flags': {
      const t = p.tcp;
      if (t === undefined) return false;
      return bitsOk(t.flags & h.mask, h.bits & h.mask, h.mode);
    }
    case 'seq':
      return p.tcp !== undefined && p.tcp.seq >>> 0 === h.value >>> 0;
    case 'ack':
      return p.tcp !== undefined && p.tcp.ack >>> 0 === h.value >>> 0;
    case 'window':
      return p.tcp !== undefined && numTestOk(h.test, p.tcp.window);
    case 'itype': {
      const ic = p.icmp ?? p.icmp6;
      return ic !== undefined && numTestOk(h.test, ic.type);
    }
    case 'icode': {
      const ic = p.icmp ?? p.icmp6;
      return ic !== undefined && numTestOk(h.test, ic.code);
    }
    case 'icmp_id': {
      const ic = p.icmp ?? p.icmp6;
      return ic !== undefined && ic.id >= 0 && ic.id === h.value;
    }
    case 'icmp_seq': {
      const ic = p.icmp ?? p.icmp6;
      return ic !== undefined && ic.seq >= 0 && ic.seq === h.value;
    }
    case 'stream_size': {
      const f = s.flow;
      if (f === undefined || p.tcp === undefined) return false;
      const c = f.client.streamSize;
      const sv = f.server.streamSize;
      switch (h.side) {
        case 'client':
          return numTestOk(h.test, c);
        case 'server':
          return numTestOk(h.test, sv);
        case 'both':
          return numTestOk(h.test, c) && numTestOk(h.test, sv);
        case 'either':
          return numTestOk(h.test, c) || numTestOk(h.test, sv);
      }
      return false;
    }
    case 'urilen': {
      const u = h.raw ? s.http?.rawUri : s.http?.uri;
      return u !== undefined && numTestOk(h.test, u.length);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Snort sp_clientserver.c: direction and session state. */
export function flowOk(f: FlowTest, s: Subject): boolean {
  const hasFlow = s.flow !== undefined;
  if (f.established && !(hasFlow && s.established)) return false;
  if (f.notEstablished && hasFlow && s.established) return false;
  if (f.toServer && !(hasFlow && s.fromClient)) return false;
  if (f.toClient && !(hasFlow && !s.fromClient)) return false;
  if (f.onlyStream && !s.rebuilt) return false;
  if (f.noStream && s.rebuilt) return false;
  return true;
}

/** Protocol part of the rule header. */
export function protoOk(rule: RulePlan, p: Packet): boolean {
  switch (rule.proto) {
    case 'tcp':
      return p.tcp !== undefined;
    case 'udp':
      return p.udp !== undefined;
    case 'icmp':
      return p.icmp !== undefined || p.icmp6 !== undefined;
    case 'ip':
      return p.ip !== undefined;
  }
}

// ------------------------------------------------------------------ byte operations

/** Reads `n` bytes at `pos` as a number: binary (endianness) or text (hex/dec/oct). Returns [value, consumed] or undefined. */
export function readNumber(
  b: Uint8Array, pos: number, n: number, endian: 'big' | 'little', str: 'hex' | 'dec' | 'oct' | undefined,
): [number, number] | undefined {
  if (pos < 0 || pos + n > b.length) return undefined;
  if (n === 0) return [0, 0];
  if (str === undefined) {
    let v = 0;
    if (endian === 'big') for (let i = 0; i < n; i++) v = v * 256 + b[pos + i]!;
    else for (let i = n - 1; i >= 0; i--) v = v * 256 + b[pos + i]!;
    return [v, n];
  }
  // strtoul over the n bytes: leading blanks and a sign are accepted, digits until the first non-digit.
  const radix = str === 'hex' ? 16 : str === 'dec' ? 10 : 8;
  let i = pos;
  const end = pos + n;
  while (i < end && (b[i] === 0x20 || (b[i]! >= 9 && b[i]! <= 13))) i++;
  let neg = false;
  if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) {
    neg = b[i] === 0x2d;
    i++;
  }
  if (radix === 16 && i + 1 < end && b[i] === 0x30 && (b[i + 1] === 0x78 || b[i + 1] === 0x58)) i += 2;
  const digitsStart = i;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    let d = -1;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    if (d < 0 || d >= radix) break;
    v = v * radix + d;
  }
  if (i === digitsStart) return undefined;
  if (neg) v = (0x100000000 - (v % 0x100000000)) % 0x100000000;
  return [v >>> 0, i - pos];
}

function applyMask(v: number, mask: number | undefined): number {
  if (mask === undefined) return v;
  let m = mask >>> 0;
  let x = (v & m) >>> 0;
  if (m === 0) return 0;
  while ((m & 1) === 0) {
    m >>>= 1;
    x >>>= 1;
  }
  return x;
}

export function byteTestOk(op: ByteTestOp, b: Uint8Array, cursor: number, vars: Int32Array | number[]): boolean {
  const base = op.relative ? cursor : 0;
  const r = readNumber(b, base + valueOf(op.offset, vars), op.bytes, op.endian, op.string);
  if (r === undefined) return false;
  const data = applyMask(r[0], op.bitmask);
  const value = valueOf(op.value, vars) >>> 0;
  let ok: boolean;
  switch (op.operator) {
    case '<':
      ok = data < value;
      break;
    case '>':
      ok = data > value;
      break;
    case '=':
      ok = data === value;
      break;
    case '!':
      ok = data !== value;
      break;
    case '&':
      ok = (data & value) !== 0;
      break;
    case '^':
      ok = (data ^ value) !== 0;
      break;
    case '<=':
      ok = data <= value;
      break;
    case '>=':
      ok = data >= value;
      break;
  }
  return op.not ? !ok : ok;
}

/** New cursor after byte_jump, or -1 when the jump fails or leaves the buffer. */
export function byteJump(op: ByteJumpOp, b: Uint8Array, cursor: number, vars: Int32Array | number[]): number {
  const base = op.relative ? cursor : 0;
  const at = base + valueOf(op.offset, vars);
  const r = readNumber(b, at, op.bytes, op.endian, op.string);
  if (r === undefined) return -1;
  let jump = applyMask(r[0], op.bitmask) * op.multiplier;
  if (op.align && jump % 4 !== 0) jump += 4 - (jump % 4);
  let pos: number;
  if (op.fromBeginning) pos = jump;
  else if (op.fromEnd) pos = b.length + jump;
  else pos = at + r[1] + jump;
  pos += op.postOffset;
  if (pos < 0 || pos > b.length) return -1;
  return pos;
}

/** [value, new cursor] after byte_extract, or undefined. */
export function byteExtract(op: ByteExtractOp, b: Uint8Array, cursor: number): [number, number] | undefined {
  const base = op.relative ? cursor : 0;
  const at = base + op.offset;
  const r = readNumber(b, at, op.bytes, op.endian, op.string);
  if (r === undefined) return undefined;
  let v = applyMask(r[0], op.bitmask) * op.multiplier;
  if (op.align > 0 && v % op.align !== 0) v += op.align - (v % op.align);
  return [v | 0, at + r[1]];
}

export function isDataAtOk(op: IsDataAtOp, b: Uint8Array, cursor: number, vars: Int32Array | number[]): boolean {
  const pos = (op.relative ? cursor : 0) + valueOf(op.offset, vars);
  const ok = pos >= 0 && pos < b.length;
  return op.negated ? !ok : ok;
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Snort base64_decode: from (cursor|0)+offset, up to `bytes` input bytes (0: all), skipping CR/LF/blanks, stopping at the first other non-base64 byte. */
export function base64Decode(op: Base64DecodeOp, b: Uint8Array, cursor: number): Uint8Array | undefined {
  const start = (op.relative ? cursor : 0) + op.offset;
  if (start < 0 || start >= b.length) return undefined;
  const end = op.bytes > 0 ? Math.min(b.length, start + op.bytes) : b.length;
  const out: number[] = [];
  let acc = 0;
  let nbits = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 13 || c === 10 || c === 32 || c === 9) continue;
    if (c === 61) break; // '='
    const d = B64[c]!;
    if (d < 0) break;
    acc = ((acc << 6) | d) & 0xffffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push((acc >> nbits) & 0xff);
    }
  }
  return out.length > 0 ? Uint8Array.from(out) : undefined;
}
