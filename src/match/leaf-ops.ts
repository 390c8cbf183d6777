/**
 * Leaf semantics shared by the compiled matcher and the reference evaluator: the dispatch of header tests to their
 * keyword's evaluation (in src/keywords, beside the keyword's grammar and plan), the rule header's protocol, and the
 * byte_* / isdataat / base64_decode computations, each a small pure function of Snort 2.9's definition. The parts
 * where the two evaluators must be independent (content windows, searching, retries) are not here.
 */
import type { Packet } from '../packet/packet.js';
import type { Base64DecodeOp, ByteExtractOp, ByteJumpOp, ByteTestOp, HeaderTest, IsDataAtOp, RulePlan, Value } from './plan.js';
import type { Subject } from './subject.js';
import {
  ackMatches,
  dsizeMatches,
  flagsMatches,
  fragbitsMatches,
  fragoffsetMatches,
  icmpIdMatches,
  icmpSeqMatches,
  icodeMatches,
  idMatches,
  ipoptsMatches,
  ipProtoMatches,
  itypeMatches,
  sameipMatches,
  seqMatches,
  streamSizeMatches,
  tosMatches,
  ttlMatches,
  windowMatches,
} from '../keywords/non-payload.js';
import { ftpbounceMatches, neverMatches, urilenMatches } from '../keywords/payload-misc.js';
import { sslStateMatches, sslVersionMatches } from '../keywords/preprocessor.js';

export function valueOf(v: Value, vars: Int32Array | number[]): number {
  return typeof v === 'number' ? v : (vars[v.var] ?? 0);
}

/** One header test, by its tag: the keyword module's evaluation (a switch on the tag, nothing allocated). */
export function headerOk(h: HeaderTest, s: Subject): boolean {
  switch (h.t) {
    case 'dsize':
      return dsizeMatches(h, s);
    case 'ttl':
      return ttlMatches(h, s);
    case 'tos':
      return tosMatches(h, s);
    case 'id':
      return idMatches(h, s);
    case 'ip_proto':
      return ipProtoMatches(h, s);
    case 'ssl_state':
      return sslStateMatches(h, s);
    case 'ssl_version':
      return sslVersionMatches(h, s);
    case 'ftpbounce':
      return ftpbounceMatches(h, s);
    case 'never':
      return neverMatches(h, s);
    case 'sameip':
      return sameipMatches(h, s);
    case 'fragoffset':
      return fragoffsetMatches(h, s);
    case 'ipopts':
      return ipoptsMatches(h, s);
    case 'fragbits':
      return fragbitsMatches(h, s);
    case 'flags':
      return flagsMatches(h, s);
    case 'seq':
      return seqMatches(h, s);
    case 'ack':
      return ackMatches(h, s);
    case 'window':
      return windowMatches(h, s);
    case 'itype':
      return itypeMatches(h, s);
    case 'icode':
      return icodeMatches(h, s);
    case 'icmp_id':
      return icmpIdMatches(h, s);
    case 'icmp_seq':
      return icmpSeqMatches(h, s);
    case 'stream_size':
      return streamSizeMatches(h, s);
    case 'urilen':
      return urilenMatches(h, s);
  }
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
  b: Uint8Array,
  pos: number,
  n: number,
  endian: 'big' | 'little',
  str: 'hex' | 'dec' | 'oct' | undefined,
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
