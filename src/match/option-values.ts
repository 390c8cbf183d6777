/**
 * Compile-time readers of the values of the keywords the matcher needs beyond content and pcre (flow, flowbits,
 * byte_*, dsize, flags, threshold, ...), with the checks Snort 2.9 makes when it loads them. Each returns the plan
 * piece or throws `OptionError` with Snort's reason. Used only by `compile.ts` (never at run time).
 */
import type {
  ByteExtractOp, ByteJumpOp, ByteTestOp, DetectionFilterSpec, Endian, FlowTest, FlowbitsOp, HeaderTest, IsDataAtOp, NumTest,
  ThresholdSpec, Value,
} from './plan.js';

export class OptionError extends Error {}

function fail(msg: string): never {
  throw new OptionError(msg);
}

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim());
}

function int(text: string, what: string, min = -Infinity, max = Infinity): number {
  const t = text.trim();
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^[+-]?\d+$/.test(t)) n = Number(t);
  else fail(`${what} must be an integer, got '${t}'`);
  if (n < min || n > max) fail(`${what} ${n} is out of range ${min}..${max}`);
  return n;
}

/** A number or a byte_extract variable known so far. */
function valueOf(text: string, what: string, vars: string[], min: number, max: number): Value {
  const t = text.trim();
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(t) && !/^0x[0-9a-f]+$/i.test(t)) {
    const slot = vars.indexOf(t);
    if (slot < 0) fail(`${what}: '${t}' is not a byte_extract variable defined earlier in the rule`);
    return { var: slot };
  }
  return int(t, what, min, max);
}

/** dsize, ttl, itype, ... : `N`, `<N`, `>N`, `N<>M`, and the extra operators some keywords take. */
export function numTest(value: string | undefined, what: string, ops: readonly NumTest['op'][], max = 0xffffffff): NumTest {
  const t = (value ?? '').trim().replace(/\s+/g, '');
  let m = /^(\d+)(<=>|<>)(\d+)$/.exec(t);
  if (m) {
    const op = m[2] as '<>' | '<=>';
    if (!ops.includes(op)) fail(`Invalid '${what}' argument`);
    const a = Number(m[1]);
    const b = Number(m[3]);
    if (a > max || b > max) fail(`${what} ${t} out of range`);
    return { op, a, b };
  }
  m = /^(<=|>=|<|>|!=|!|=)?(\d+)$/.exec(t);
  if (!m) fail(`Invalid '${what}' argument '${(value ?? '').trim()}'`);
  let op = (m[1] ?? '=') as NumTest['op'] | '!=';
  if (op === '!=') op = '!';
  if (!ops.includes(op)) fail(`Invalid '${what}' argument '${(value ?? '').trim()}' (operator '${op}' not accepted)`);
  const a = Number(m[2]);
  if (a > max) fail(`${what} ${a} out of range 0..${max}`);
  return { op, a };
}

export function flowValue(value: string | undefined): FlowTest {
  const f: FlowTest = {};
  for (const w of list(value)) {
    switch (w.toLowerCase()) {
      case 'established': f.established = true; break;
      case 'not_established': f.notEstablished = true; break;
      case 'stateless': f.stateless = true; break;
      case 'to_server': case 'from_client': f.toServer = true; break;
      case 'to_client': case 'from_server': f.toClient = true; break;
      case 'only_stream': f.onlyStream = true; break;
      case 'no_stream': f.noStream = true; break;
      case 'no_frag': case 'only_frag': break;
      case '': break;
      default: fail(`unknown flow option '${w}'`);
    }
  }
  if (f.toServer && f.toClient) fail('flow: to_server and to_client cannot both be given');
  if (f.established && f.notEstablished) fail('flow: established and not_established cannot both be given');
  if (f.onlyStream && f.noStream) fail('flow: only_stream and no_stream cannot both be given');
  return f;
}

export function flowbitsValue(value: string | undefined): FlowbitsOp {
  const parts = list(value);
  const cmd = parts[0]?.toLowerCase() ?? '';
  const valid = ['set', 'unset', 'toggle', 'isset', 'isnotset', 'noalert', 'reset'];
  if (!valid.includes(cmd)) fail(`flowbits: unknown command '${parts[0] ?? ''}'`);
  if (cmd === 'noalert' || cmd === 'reset') {
    if (parts.length > 1 && parts[1] !== '') fail(`flowbits:${cmd} takes no bit name`);
    return { cmd: cmd as FlowbitsOp['cmd'], bits: [], any: false };
  }
  const names = parts[1] ?? '';
  if (names === '') fail(`flowbits:${cmd} needs a bit name`);
  const any = names.includes('|');
  const bits = names.split(/[|&]/).map((s) => s.trim());
  if (bits.some((b) => !/^[A-Za-z0-9_.\-]+$/.test(b))) fail(`flowbits: bad bit name in '${names}'`);
  if (names.includes('|') && names.includes('&')) fail(`flowbits: '|' and '&' cannot be mixed`);
  if ((cmd === 'set' || cmd === 'unset' || cmd === 'toggle') && any) fail(`flowbits:${cmd} cannot use '|'`);
  return { cmd: cmd as FlowbitsOp['cmd'], bits, any };
}

const TCP_FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80, '2': 0x40, '1': 0x80 };

export function flagsValue(value: string | undefined): HeaderTest {
  const [main, maskText] = (value ?? '').split(',').map((s) => s.trim());
  let mode: 'exact' | 'any' | 'all' | 'not' = 'exact';
  let bits = 0;
  let zero = false;
  for (const ch of main ?? '') {
    if (ch === '+') mode = 'all';
    else if (ch === '*') mode = 'any';
    else if (ch === '!') mode = 'not';
    else if (ch === '0') zero = true;
    else if (TCP_FLAG_BITS[ch.toUpperCase()] !== undefined) bits |= TCP_FLAG_BITS[ch.toUpperCase()]!;
    else if (ch === ' ') continue;
    else fail(`flags: unknown flag '${ch}'`);
  }
  if (!zero && bits === 0 && mode === 'exact') fail('flags: no flags given');
  let mask = 0xff;
  if (maskText) {
    let ignore = 0;
    for (const ch of maskText) {
      const b = TCP_FLAG_BITS[ch.toUpperCase()];
      if (b === undefined) fail(`flags: unknown mask flag '${ch}'`);
      ignore |= b;
    }
    mask = 0xff & ~ignore;
  }
  return { t: 'flags', bits, mode, mask };
}

export function fragbitsValue(value: string | undefined): HeaderTest {
  let mode: 'exact' | 'any' | 'all' | 'not' = 'exact';
  let bits = 0;
  for (const ch of (value ?? '').trim()) {
    if (ch === '+') mode = 'all';
    else if (ch === '*') mode = 'any';
    else if (ch === '!') mode = 'not';
    else if (ch === 'M' || ch === 'm') bits |= 1;
    else if (ch === 'D' || ch === 'd') bits |= 2;
    else if (ch === 'R' || ch === 'r') bits |= 4;
    else if (ch === ' ') continue;
    else fail(`fragbits: unknown bit '${ch}'`);
  }
  return { t: 'fragbits', bits, mode };
}

const IPOPTS: Record<string, number> = { rr: 7, eol: 0, nop: 1, ts: 68, sec: 130, esec: 133, lsrr: 131, lsrre: 131, ssrr: 137, satid: 136, any: -1 };

export function ipoptsValue(value: string | undefined): HeaderTest {
  const v = (value ?? '').trim().toLowerCase();
  const o = IPOPTS[v];
  if (o === undefined) fail(`ipopts: unknown option '${v}'`);
  return { t: 'ipopts', option: o };
}

function byteCommon(parts: string[], from: number, what: string): {
  relative: boolean; endian: Endian; string?: 'hex' | 'dec' | 'oct'; bitmask?: number; dce: boolean; rest: string[];
} {
  let relative = false;
  let endian: Endian = 'big';
  let str: 'hex' | 'dec' | 'oct' | undefined;
  let isString = false;
  let bitmask: number | undefined;
  let dce = false;
  const rest: string[] = [];
  for (let i = from; i < parts.length; i++) {
    const p = parts[i]!;
    const lower = p.toLowerCase();
    if (lower === 'relative') relative = true;
    else if (lower === 'big') endian = 'big';
    else if (lower === 'little') endian = 'little';
    else if (lower === 'string') isString = true;
    else if (lower === 'hex' || lower === 'dec' || lower === 'oct') str = lower;
    else if (lower === 'dce') dce = true;
    else if (lower.startsWith('bitmask')) {
      const m = /^bitmask\s+(0x[0-9a-f]+|\d+)$/i.exec(p);
      if (!m) fail(`${what}: bad bitmask '${p}'`);
      bitmask = Number(m[1]);
    } else if (p === '') fail(`${what}: empty argument`);
    else rest.push(p);
  }
  if (isString && str === undefined) str = 'dec';
  if (!isString && str !== undefined) fail(`${what}: '${str}' needs 'string'`);
  const out: { relative: boolean; endian: Endian; string?: 'hex' | 'dec' | 'oct'; bitmask?: number; dce: boolean; rest: string[] } = { relative, endian, dce, rest };
  if (isString) out.string = str;
  if (bitmask !== undefined) out.bitmask = bitmask;
  return out;
}

function byteCount(text: string | undefined, what: string, isString: boolean, min = 1): number {
  const t = (text ?? '').trim();
  if (!/^\d+$/.test(t)) fail(`Unable to parse as byte value ${t}`);
  const n = Number(t);
  const max = isString ? 10 : 4;
  if (n < min || n > max) fail(`${what}: bytes to convert must be ${min}..${max} (got ${n})`);
  return n;
}

export function byteTestValue(value: string | undefined, vars: string[]): ByteTestOp {
  const parts = list(value);
  if (parts.length < 4) fail('byte_test needs bytes, operator, value, offset');
  const c = byteCommon(parts, 4, 'byte_test');
  if (c.rest.length) fail(`byte_test: unknown argument '${c.rest[0]}'`);
  const bytes = byteCount(parts[0], 'byte_test', c.string !== undefined);
  let opText = parts[1]!.replace(/\s+/g, '');
  let not = false;
  if (opText.startsWith('!') && opText.length > 1) {
    not = true;
    opText = opText.slice(1);
  }
  const ops = ['<', '>', '=', '!', '&', '^', '<=', '>='];
  if (!ops.includes(opText)) fail(`byte_test: invalid operator '${parts[1]}'`);
  const op: ByteTestOp = {
    op: 'byte_test', bytes, operator: opText as ByteTestOp['operator'], not,
    value: valueOf(parts[2]!, 'byte_test value', vars, 0, 0xffffffff),
    offset: valueOf(parts[3]!, 'byte_test rule option has invalid offset. Valid offsets are between -65535 and 65535', vars, -65535, 65535),
    relative: c.relative, endian: c.endian, dce: c.dce,
  };
  if (c.string) op.string = c.string;
  if (c.bitmask !== undefined) op.bitmask = c.bitmask;
  return op;
}

export function byteJumpValue(value: string | undefined, vars: string[]): ByteJumpOp {
  const parts = list(value);
  if (parts.length < 2) fail('byte_jump needs bytes and offset');
  const c = byteCommon(parts, 2, 'byte_jump');
  const op: ByteJumpOp = {
    op: 'byte_jump', bytes: 0, offset: valueOf(parts[1]!, 'byte_jump offset', vars, -65535, 65535), relative: c.relative,
    multiplier: 1, align: false, fromBeginning: false, fromEnd: false, postOffset: 0, endian: c.endian, dce: c.dce,
  };
  for (const r of c.rest) {
    const lower = r.toLowerCase();
    if (lower === 'align') op.align = true;
    else if (lower === 'from_beginning') op.fromBeginning = true;
    else if (lower === 'from_end') op.fromEnd = true;
    else if (/^multiplier\s+\d+$/i.test(r)) op.multiplier = int(r.split(/\s+/)[1]!, 'byte_jump multiplier', 1, 65535);
    else if (/^post_offset\s+[+-]?\d+$/i.test(r)) op.postOffset = int(r.split(/\s+/)[1]!, 'byte_jump post_offset', -65535, 65535);
    else fail(`byte_jump: unknown argument '${r}'`);
  }
  op.bytes = byteCount(parts[0], 'byte_jump', c.string !== undefined, 0);
  if (c.string) op.string = c.string;
  if (c.bitmask !== undefined) op.bitmask = c.bitmask;
  return op;
}

export function byteExtractValue(value: string | undefined, vars: string[]): { op: ByteExtractOp; name: string } {
  const parts = list(value);
  if (parts.length < 3) fail('byte_extract needs bytes, offset and a name');
  const name = parts[2]!;
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) fail(`byte_extract: bad variable name '${name}'`);
  const c = byteCommon(parts, 3, 'byte_extract');
  const op: ByteExtractOp = {
    op: 'byte_extract', bytes: byteCount(parts[0], 'byte_extract', c.string !== undefined),
    offset: int(parts[1]!, 'byte_extract offset', -65535, 65535), slot: -1, relative: c.relative, multiplier: 1, align: 0,
    endian: c.endian, dce: c.dce,
  };
  for (const r of c.rest) {
    if (/^multiplier\s+\d+$/i.test(r)) op.multiplier = int(r.split(/\s+/)[1]!, 'byte_extract multiplier', 1, 65535);
    else if (/^align\s+\d+$/i.test(r)) {
      op.align = int(r.split(/\s+/)[1]!, 'byte_extract align', 0, 4);
      if (op.align !== 2 && op.align !== 4) fail('byte_extract: align must be 2 or 4');
    } else fail(`byte_extract: unknown argument '${r}'`);
  }
  if (c.string) op.string = c.string;
  if (c.bitmask !== undefined) op.bitmask = c.bitmask;
  if (vars.includes(name)) fail(`byte_extract variable '${name}' is defined twice`);
  if (vars.length >= 2) fail('at most 2 byte_extract variables per rule');
  op.slot = vars.length;
  vars.push(name);
  return { op, name };
}

export function isdataatValue(value: string | undefined, vars: string[]): IsDataAtOp {
  const parts = list(value);
  let first = parts[0] ?? '';
  let negated = false;
  if (first.startsWith('!')) {
    negated = true;
    first = first.slice(1).trim();
  }
  const op: IsDataAtOp = { op: 'isdataat', offset: valueOf(first, 'isdataat offset', vars, -65535, 65535), relative: false, negated, rawbytes: false };
  for (const p of parts.slice(1)) {
    if (p === 'relative') op.relative = true;
    else if (p === 'rawbytes') op.rawbytes = true;
    else fail(`isdataat: unknown argument '${p}'`);
  }
  return op;
}

function keyValues(value: string | undefined, what: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of list(value)) {
    if (part === '') continue;
    const sp = part.split(/\s+/);
    if (sp.length !== 2) fail(`${what} has incorrect argument '${part}'`);
    m.set(sp[0]!.toLowerCase(), sp[1]!);
  }
  return m;
}

export function thresholdValue(value: string | undefined): ThresholdSpec {
  const kv = keyValues(value, 'threshold');
  const type = kv.get('type');
  const track = kv.get('track');
  if (type !== 'limit' && type !== 'threshold' && type !== 'both') fail(`rule threshold has unknown type: ${type ?? ''}`);
  if (track !== 'by_src' && track !== 'by_dst') fail(`rule threshold has unknown track: ${track ?? ''}.`);
  for (const k of kv.keys()) if (!['type', 'track', 'count', 'seconds'].includes(k)) fail(`rule threshold has unknown argument ${k}`);
  if (!kv.has('count') || !kv.has('seconds')) fail('rule threshold needs type, track, count and seconds');
  return { type, track, count: int(kv.get('count')!, 'threshold count', 0), seconds: int(kv.get('seconds')!, 'threshold seconds', 0) };
}

export function detectionFilterValue(value: string | undefined): DetectionFilterSpec {
  const parts = list(value).filter((p) => p !== '');
  if (parts.length !== 3) fail('detection_filter has incorrect argument count; should be 3.');
  const kv = keyValues(value, 'detection_filter');
  const track = kv.get('track');
  if (track !== 'by_src' && track !== 'by_dst') fail(`detection_filter has unknown track: ${track ?? ''}.`);
  if (!kv.has('count') || !kv.has('seconds')) fail('detection_filter needs track, count and seconds');
  return { track, count: int(kv.get('count')!, 'detection_filter count', 1), seconds: int(kv.get('seconds')!, 'detection_filter seconds', 1) };
}

/** tag: checked as Snort checks it; tagging itself is not performed by the matcher. */
export function tagValue(value: string | undefined): void {
  const parts = list(value);
  const type = parts[0]?.toLowerCase();
  if (type !== 'session' && type !== 'host') fail(`Invalid 'tag' option: ${parts[0] ?? ''}.`);
  if (parts.length < 3) fail(`Invalid 'tag' option: ${value?.trim() ?? ''}.`);
  int(parts[1]!, 'tag count', 0);
  const metric = parts[2]!.toLowerCase();
  if (!['packets', 'seconds', 'bytes'].includes(metric)) fail(`Invalid 'tag' metric: ${parts[2]}`);
  if (type === 'host' && parts[3] !== undefined && !['src', 'dst'].includes(parts[3].toLowerCase())) fail(`Invalid 'tag' direction: ${parts[3]}`);
}

export function streamSizeValue(value: string | undefined): HeaderTest {
  const parts = list(value);
  const side = parts[0]?.toLowerCase();
  if (side !== 'client' && side !== 'server' && side !== 'both' && side !== 'either') fail(`stream_size: unknown direction '${parts[0] ?? ''}'`);
  if (parts.length !== 3) fail('stream_size needs direction, operator and size');
  const opText = parts[1]!.trim();
  const ops: Record<string, NumTest['op']> = { '<': '<', '>': '>', '=': '=', '!=': '!', '<=': '<=', '>=': '>=' };
  const op = ops[opText];
  if (op === undefined) fail(`stream_size: invalid operator '${opText}'`);
  return { t: 'stream_size', side, test: { op, a: int(parts[2]!, 'stream_size size', 0, 0xffffffff) } };
}

export function urilenValue(value: string | undefined): HeaderTest {
  const parts = list(value);
  const raw = parts[1]?.toLowerCase() === 'raw';
  if (parts[1] !== undefined && !raw && parts[1].toLowerCase() !== 'norm') fail(`urilen: unknown argument '${parts[1]}'`);
  const test = numTest(parts[0], 'urilen', ['=', '<', '>', '<>', '<=>'], 65535);
  if (test.op === '<>') test.op = '<=>';
  return { t: 'urilen', test, raw };
}

export function base64DecodeValue(value: string | undefined): { bytes: number; offset: number; relative: boolean } {
  const out = { bytes: 0, offset: 0, relative: false };
  for (const p of list(value)) {
    if (p === '') continue;
    if (p === 'relative') out.relative = true;
    else if (/^bytes\s+\d+$/.test(p)) out.bytes = int(p.split(/\s+/)[1]!, 'base64_decode bytes', 1);
    else if (/^offset\s+\d+$/.test(p)) out.offset = int(p.split(/\s+/)[1]!, 'base64_decode offset', 0);
    else fail(`base64_decode: unknown argument '${p}'`);
  }
  return out;
}
