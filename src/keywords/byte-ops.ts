/**
 * byte_test, byte_jump, byte_extract and byte_math (Snort 2.9: sp_byte_check.c, sp_byte_jump.c, sp_byte_extract.c,
 * sp_byte_math.c): read a number from the buffer (binary or a decimal/hex/octal string) and compare, jump, save or
 * compute with it. Fields that may be byte_extract variables are listed in `args.variables` for the binder. The
 * matcher's ops are made here (`plan`); their evaluation is the matcher's (leaf-ops.ts).
 */
import type { ByteExtractOp, ByteJumpOp, ByteTestOp as ByteTestPlan, Endian as PlanEndian } from '../match/plan.js';
import { OptionError, slotValue, type PlanContext } from '../match/plan-context.js';
import { defineKeyword, type AnyKeywordSpec, type ValueReporter } from './spec.js';
import { BYTE_EXTRACT_NAME, parseInteger, type NumOrVar } from './values.js';
import { keyValue, numberOrVariable, tokens, variablesOf, type Piece } from './snort-args.js';

export type Endian = 'big' | 'little' | 'dce';
export type NumberBase = 'hex' | 'dec' | 'oct';

/** What the byte_* keywords share: how many bytes, where, and how to read them. */
export interface ByteRead {
  bytes: number;
  offset: NumOrVar;
  relative: boolean;
  endian: Endian;
  /** Set when the bytes are a number written as text (`string`); base defaults to dec. */
  string?: NumberBase;
  bitmask?: number;
  /** byte_extract variables used by this option (checked by the binder). */
  variables: string[];
}

const MAX_OFFSET = 65535;
const BASES = new Set(['hex', 'dec', 'oct']);
const BITMASK = /^bitmask\s+(\S+)$/i;
const HEX_OR_DEC = /^(0[xX][0-9A-Fa-f]+|\d+)$/;

/** The common modifiers; returns true when `p` was one (and recorded it in `st`). */
interface ReadState {
  relative: boolean;
  endian: Endian | undefined;
  string: boolean;
  base: NumberBase | undefined;
  bitmask: number | undefined;
  failed: boolean;
}

function newState(): ReadState {
  return { relative: false, endian: undefined, string: false, base: undefined, bitmask: undefined, failed: false };
}

function commonModifier(p: Piece, st: ReadState, report: ValueReporter, what: string, bytes: number): boolean {
  const w = p.text.toLowerCase();
  if (w === 'relative') st.relative = true;
  else if (w === 'string') st.string = true;
  else if (w === 'big' || w === 'little' || w === 'dce') {
    // sp_byte_extract.c refuses a second byte order ("specifies the byte order twice", the same one too);
    // sp_byte_check.c and sp_byte_jump.c take the last of big and little, and dce (a byte order function) over both
    if (st.endian !== undefined && what === 'byte_extract') {
      report.error('conflicting-modifiers', `${what}: the byte order is given twice ('${st.endian}', then '${w}')`, p.at, p.text.length);
      st.failed = true;
    }
    if (st.endian !== 'dce') st.endian = w;
  } else if (BASES.has(w)) st.base = w as NumberBase;
  else {
    const m = BITMASK.exec(p.text);
    if (!m) return false;
    const t = m[1]!;
    if (!HEX_OR_DEC.test(t)) {
      report.error('bad-number', `${what} bitmask must be a number, got '${t}'`, p.at, p.text.length);
      st.failed = true;
      return true;
    }
    const v = t.startsWith('0x') || t.startsWith('0X') ? parseInt(t.slice(2), 16) : Number(t);
    const limit = bytes >= 4 ? 0xffffffff : 2 ** (8 * bytes) - 1;
    if (v === 0 || v > limit) {
      report.error('number-out-of-range', `${what} bitmask ${t} must be 1..0x${limit.toString(16)} for ${bytes} byte(s)`, p.at, p.text.length);
      st.failed = true;
    }
    st.bitmask = v;
  }
  return true;
}

/** The checks all byte_* parsers make once the modifiers are read. */
function finishRead(
  st: ReadState,
  bytes: number,
  offset: NumOrVar,
  report: ValueReporter,
  what: string,
  bytesPiece: Piece,
  value: string,
): ByteRead | undefined {
  if (st.failed) return undefined;
  if (!st.string && bytes > 4) {
    report.error('bad-byte-count', `${what} cannot read more than 4 bytes without 'string'`, bytesPiece.at, bytesPiece.text.length);
    return undefined;
  }
  if (!st.string && st.base) {
    report.error('base-without-string', `${what}: hex, dec and oct must be used with 'string'`, 0, value.length);
    return undefined;
  }
  if (st.endian === 'dce') {
    if (st.string) {
      report.error('conflicting-modifiers', `${what}: 'dce' cannot be used with 'string'`, 0, value.length);
      return undefined;
    }
    if (bytes !== 1 && bytes !== 2 && bytes !== 4) {
      report.error('bad-byte-count', `${what} with 'dce' reads 1, 2 or 4 bytes, not ${bytes}`, bytesPiece.at, bytesPiece.text.length);
      return undefined;
    }
  }
  const r: ByteRead = { bytes, offset, relative: st.relative, endian: st.endian ?? 'big', variables: variablesOf(offset) };
  if (st.string) r.string = st.base ?? 'dec';
  if (st.bitmask !== undefined) r.bitmask = st.bitmask;
  return r;
}

/** How the plan reads the bytes: dce's byte order is decided per packet (big until the DCE/RPC preprocessor says). */
function planRead(r: ByteRead): { endian: PlanEndian; dce: boolean; string?: NumberBase; bitmask?: number } {
  const out: { endian: PlanEndian; dce: boolean; string?: NumberBase; bitmask?: number } = {
    endian: r.endian === 'dce' ? 'big' : r.endian,
    dce: r.endian === 'dce',
  };
  if (r.string !== undefined) out.string = r.string;
  if (r.bitmask !== undefined) out.bitmask = r.bitmask;
  return out;
}

function bytesField(p: Piece | undefined, report: ValueReporter, what: string, min: number): number | undefined {
  if (!p || p.text === '') {
    report.error('missing-argument', `${what} needs the number of bytes to read`, 0, 1);
    return undefined;
  }
  if (!/^\d/.test(p.text)) {
    report.error('bad-number', `${what}: unable to parse '${p.text}' as a byte count (variables are not allowed here)`, p.at, p.text.length);
    return undefined;
  }
  return parseInteger(p.text, report, `${what} byte count`, min, 10, p.at);
}

export type ByteTestOp = '<' | '>' | '=' | '<=' | '>=' | '&' | '^';

export interface ByteTestArgs extends ByteRead {
  op: ByteTestOp;
  /** `!` before the operator (alone, it means not-equal). */
  negated: boolean;
  value: NumOrVar;
}

// [\s\S] rather than `.`: an operator field may hold a CR or U+2028 (a hostile rule file), which `.` does not match
const BT_OP = /^(!)?\s*(<=|>=|<|>|=|&|\^)?([\s\S]*)$/;

export const byte_test = defineKeyword<ByteTestArgs>({
  name: 'byte_test',
  repeats: true,
  category: 'payload',
  value: 'required',
  summary: 'compare a number read from the buffer with a value',
  parse(value, report) {
    const v = value ?? '';
    const parts = tokens(v);
    if (parts.length < 4) {
      report.error('missing-argument', "byte_test needs '<bytes>, [!]<operator>, <value>, <offset>'", 0, Math.max(1, v.length));
      return undefined;
    }
    const bytes = bytesField(parts[0], report, 'byte_test', 1);
    if (bytes === undefined) return undefined;
    const opP = parts[1]!;
    const m = BT_OP.exec(opP.text)!;
    const negated = m[1] !== undefined;
    let op = m[2] as ByteTestOp | undefined;
    if (op === undefined) {
      if (!negated || m[3] !== '') {
        report.error(
          'bad-operator',
          `byte_test operator must be [!]<, >, =, <=, >=, & or ^; got '${opP.text}'`,
          opP.at,
          Math.max(1, opP.text.length),
        );
        return undefined;
      }
      op = '=';
    } else if (m[3] !== '') {
      // Snort reads the first operator character(s) and ignores the rest.
      report.warning('operator-trailing-text', `byte_test ignores '${m[3]}' after operator '${op}'`, opP.at, opP.text.length);
    }
    const valP = parts[2]!;
    const cmp = numberOrVariableValue(valP, report, 'byte_test value');
    if (cmp === undefined) return undefined;
    const offP = parts[3]!;
    const offset = numberOrVariable(offP, report, 'byte_test offset', -MAX_OFFSET, MAX_OFFSET);
    if (offset === undefined) return undefined;
    const st = newState();
    for (const p of parts.slice(4)) {
      if (!commonModifier(p, st, report, 'byte_test', bytes)) {
        report.error('bad-modifier', `unknown byte_test modifier '${p.text}'`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    const r = finishRead(st, bytes, offset, report, 'byte_test', parts[0]!, v);
    if (!r) return undefined;
    return { ...r, op, negated, value: cmp, variables: variablesOf(offset, cmp) };
  },
  plan(a, into) {
    // sp_byte_check.c ByteTestParse: `!` alone is not_flag with BT_EQUALS, as `!=` is.
    const op: ByteTestPlan = {
      op: 'byte_test',
      bytes: a.bytes,
      operator: a.op,
      not: a.negated,
      value: slotValue(a.value, into, 'byte_test value'),
      offset: slotValue(a.offset, into, 'byte_test offset'),
      relative: a.relative,
      ...planRead(a),
    };
    into.rule.ops.push(op);
  },
});

/** byte_test's value: 0..4294967295, decimal or 0x hex (strtoul base 0), or a variable. */
function numberOrVariableValue(p: Piece, report: ValueReporter, what: string): NumOrVar | undefined {
  const t = p.text;
  const c = t[0];
  if (c !== undefined && ((c >= '0' && c <= '9') || c === '-')) {
    let n: number;
    if (/^0[xX][0-9A-Fa-f]+$/.test(t)) n = parseInt(t.slice(2), 16);
    else if (/^0[0-7]+$/.test(t)) n = parseInt(t, 8);
    else if (/^\d+$/.test(t)) n = Number(t);
    else {
      report.error('bad-number', `${what} must be a number, got '${t}'`, p.at, t.length);
      return undefined;
    }
    if (n > 0xffffffff) {
      report.error('number-out-of-range', `${what} ${t} is out of range 0..4294967295`, p.at, t.length);
      return undefined;
    }
    return n;
  }
  return numberOrVariable(p, report, what, 0, 0xffffffff);
}

export interface ByteJumpArgs extends ByteRead {
  multiplier?: number;
  align: boolean;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset?: NumOrVar;
}

export const byte_jump = defineKeyword<ByteJumpArgs>({
  name: 'byte_jump',
  repeats: true,
  category: 'payload',
  value: 'required',
  summary: 'read a length from the buffer and move the cursor past it',
  parse(value, report) {
    const v = value ?? '';
    const parts = tokens(v);
    if (parts.length < 2) {
      report.error('missing-argument', "byte_jump needs '<bytes>, <offset>'", 0, Math.max(1, v.length));
      return undefined;
    }
    const bytes = bytesField(parts[0], report, 'byte_jump', 0);
    if (bytes === undefined) return undefined;
    const offset = numberOrVariable(parts[1]!, report, 'byte_jump offset', -MAX_OFFSET, MAX_OFFSET);
    if (offset === undefined) return undefined;
    const st = newState();
    let multiplier: number | undefined;
    let postOffset: NumOrVar | undefined;
    let align = false;
    let fromBeginning = false;
    let fromEnd = false;
    for (const p of parts.slice(2)) {
      const w = p.text.toLowerCase();
      if (w === 'align') align = true;
      else if (w === 'from_beginning') fromBeginning = true;
      else if (w === 'from_end') fromEnd = true;
      else if (w.startsWith('multiplier ') || w === 'multiplier') {
        const kv = keyValue(p);
        const n = parseInteger(kv.value ?? '', report, 'byte_jump multiplier', 1, 65535, kv.valueAt);
        if (n === undefined) return undefined;
        multiplier = n;
      } else if (w.startsWith('post_offset ') || w === 'post_offset') {
        if (postOffset !== undefined) {
          report.error('duplicate-modifier', 'byte_jump post_offset is given twice', p.at, p.text.length);
          return undefined;
        }
        const kv = keyValue(p);
        postOffset = numberOrVariable({ text: (kv.value ?? '').trim(), at: kv.valueAt }, report, 'byte_jump post_offset', -MAX_OFFSET, MAX_OFFSET);
        if (postOffset === undefined) return undefined;
      } else if (!commonModifier(p, st, report, 'byte_jump', bytes)) {
        report.error('bad-modifier', `unknown byte_jump modifier '${p.text}'`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    if (fromBeginning && fromEnd) {
      report.error('conflicting-modifiers', 'byte_jump: from_beginning and from_end cannot be used together', 0, v.length);
      return undefined;
    }
    if (bytes === 0 && !fromEnd)
      report.warning('zero-byte-jump', 'byte_jump reads 0 bytes: it only applies offset and post_offset', parts[0]!.at, parts[0]!.text.length);
    const r = finishRead(st, bytes, offset, report, 'byte_jump', parts[0]!, v);
    if (!r) return undefined;
    const args: ByteJumpArgs = { ...r, align, fromBeginning, fromEnd, variables: variablesOf(offset, postOffset) };
    if (multiplier !== undefined) args.multiplier = multiplier;
    if (postOffset !== undefined) args.postOffset = postOffset;
    return args;
  },
  plan(a, into) {
    // Snort 2.9.20 takes a variable post_offset (sp_byte_jump.c); the matcher's byte_jump adds a constant only.
    if (a.postOffset !== undefined && typeof a.postOffset !== 'number') {
      throw new OptionError(`byte_jump post_offset from the byte_extract variable '${a.postOffset.variable}' is not supported by the matcher`);
    }
    const op: ByteJumpOp = {
      op: 'byte_jump',
      bytes: a.bytes,
      offset: slotValue(a.offset, into, 'byte_jump offset'),
      relative: a.relative,
      multiplier: a.multiplier ?? 1,
      align: a.align,
      fromBeginning: a.fromBeginning,
      fromEnd: a.fromEnd,
      postOffset: a.postOffset ?? 0,
      ...planRead(a),
    };
    into.rule.ops.push(op);
  },
});

export interface ByteExtractArgs extends ByteRead {
  name: string;
  multiplier?: number;
  align?: 2 | 4;
}

export const byte_extract = defineKeyword<ByteExtractArgs>({
  name: 'byte_extract',
  category: 'payload',
  value: 'required',
  summary: 'read a number from the buffer into a variable for later options',
  parse(value, report) {
    const v = value ?? '';
    const parts = tokens(v);
    if (parts.length < 3) {
      report.error('missing-argument', "byte_extract needs '<bytes>, <offset>, <name>'", 0, Math.max(1, v.length));
      return undefined;
    }
    const bytes = bytesField(parts[0], report, 'byte_extract', 1);
    if (bytes === undefined) return undefined;
    const offP = parts[1]!;
    const offset = parseInteger(offP.text, report, 'byte_extract offset', -MAX_OFFSET, MAX_OFFSET, offP.at);
    if (offset === undefined) return undefined;
    const nameP = parts[2]!;
    if (!BYTE_EXTRACT_NAME.test(nameP.text)) {
      report.error('bad-variable', `byte_extract name '${nameP.text}' must start with a letter or '_'`, nameP.at, Math.max(1, nameP.text.length));
      return undefined;
    }
    const st = newState();
    let multiplier: number | undefined;
    let align: 2 | 4 | undefined;
    for (const p of parts.slice(3)) {
      const w = p.text.toLowerCase();
      if (w.startsWith('multiplier ') || w === 'multiplier') {
        const kv = keyValue(p);
        const n = parseInteger(kv.value ?? '', report, 'byte_extract multiplier', 1, 65535, kv.valueAt);
        if (n === undefined) return undefined;
        multiplier = n;
      } else if (w.startsWith('align ') || w === 'align') {
        const kv = keyValue(p);
        const n = parseInteger(kv.value ?? '', report, 'byte_extract align', 2, 4, kv.valueAt);
        if (n === undefined) return undefined;
        if (n !== 2 && n !== 4) {
          report.error('bad-argument', 'byte_extract align must be 2 or 4', kv.valueAt, (kv.value ?? '').length);
          return undefined;
        }
        align = n;
      } else if (!commonModifier(p, st, report, 'byte_extract', bytes)) {
        report.error('bad-modifier', `unknown byte_extract modifier '${p.text}'`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    const r = finishRead(st, bytes, offset, report, 'byte_extract', parts[0]!, v);
    if (!r) return undefined;
    const args: ByteExtractArgs = { ...r, name: nameP.text, variables: [] };
    if (multiplier !== undefined) args.multiplier = multiplier;
    if (align !== undefined) args.align = align;
    return args;
  },
  plan(a, into) {
    if (typeof a.offset !== 'number') throw new OptionError(`byte_extract offset '${a.offset.variable}' must be a number`);
    const op: ByteExtractOp = {
      op: 'byte_extract',
      bytes: a.bytes,
      offset: a.offset,
      slot: defineVariable(a.name, into),
      relative: a.relative,
      multiplier: a.multiplier ?? 1,
      align: a.align ?? 0,
      ...planRead(a),
    };
    into.rule.ops.push(op);
  },
});

/**
 * The slot of a byte_extract variable (sp_byte_extract.c AddVarNameToList: two names per rule; a name given again is
 * the same slot, which the later byte_extract writes again).
 */
function defineVariable(name: string, into: PlanContext): number {
  const slot = into.variables.indexOf(name);
  if (slot >= 0) return slot;
  if (into.variables.length >= 2) throw new OptionError('Rule has more than 2 byte_extract variables');
  into.variables.push(name);
  return into.variables.length - 1;
}

export type ByteMathOp = '+' | '-' | '*' | '/' | '<<' | '>>';

export interface ByteMathArgs extends ByteRead {
  op: ByteMathOp;
  rvalue: NumOrVar;
  /** The variable the result is stored in. */
  result: string;
}

const BYTE_MATH_OPS: readonly ByteMathOp[] = ['+', '-', '*', '/', '<<', '>>'];

/** byte_math (Snort 2.9.x): `bytes N, offset N, oper OP, rvalue N|var, result name[, relative][, endian E][, string B][, dce][, bitmask M]`. */
export const byte_math = defineKeyword<ByteMathArgs>({
  name: 'byte_math',
  category: 'payload',
  value: 'required',
  summary: 'compute with a number read from the buffer and store the result in a variable',
  parse(value, report) {
    const v = value ?? '';
    const st = newState();
    let bytesP: Piece | undefined;
    let bytes: number | undefined;
    let offset: NumOrVar | undefined;
    let op: ByteMathOp | undefined;
    let rvalue: NumOrVar | undefined;
    let result: string | undefined;
    for (const p of tokens(v)) {
      const kv = keyValue(p);
      const val: Piece = { text: (kv.value ?? '').trim(), at: kv.valueAt };
      switch (kv.key.toLowerCase()) {
        case 'bytes':
          bytesP = val;
          bytes = bytesField(val, report, 'byte_math', 1);
          if (bytes === undefined) return undefined;
          break;
        case 'offset':
          offset = numberOrVariable(val, report, 'byte_math offset', -MAX_OFFSET, MAX_OFFSET);
          if (offset === undefined) return undefined;
          break;
        case 'oper':
          if (!(BYTE_MATH_OPS as readonly string[]).includes(val.text)) {
            report.error('bad-operator', `byte_math oper must be one of ${BYTE_MATH_OPS.join(' ')}`, val.at, Math.max(1, val.text.length));
            return undefined;
          }
          op = val.text as ByteMathOp;
          break;
        case 'rvalue':
          rvalue = numberOrVariableValue(val, report, 'byte_math rvalue');
          if (rvalue === undefined) return undefined;
          break;
        case 'result':
          if (!BYTE_EXTRACT_NAME.test(val.text)) {
            report.error('bad-variable', `byte_math result '${val.text}' is not a variable name`, val.at, Math.max(1, val.text.length));
            return undefined;
          }
          result = val.text;
          break;
        case 'endian':
          if (!commonModifier(val, st, report, 'byte_math', bytes ?? 4) || (val.text !== 'big' && val.text !== 'little')) {
            report.error('bad-argument', "byte_math endian must be 'big' or 'little'", val.at, Math.max(1, val.text.length));
            return undefined;
          }
          break;
        case 'string':
          if (!BASES.has(val.text)) {
            report.error('bad-argument', 'byte_math string must be hex, dec or oct', val.at, Math.max(1, val.text.length));
            return undefined;
          }
          st.string = true;
          st.base = val.text as NumberBase;
          break;
        default:
          if (!commonModifier(p, st, report, 'byte_math', bytes ?? 4)) {
            report.error('bad-modifier', `unknown byte_math argument '${p.text}'`, p.at, Math.max(1, p.text.length));
            return undefined;
          }
      }
    }
    if (bytes === undefined || offset === undefined || op === undefined || rvalue === undefined || result === undefined) {
      report.error('missing-argument', 'byte_math needs bytes, offset, oper, rvalue and result', 0, Math.max(1, v.length));
      return undefined;
    }
    if (op === '/' && rvalue === 0) {
      report.error('bad-argument', 'byte_math cannot divide by 0', 0, v.length);
      return undefined;
    }
    const r = finishRead(st, bytes, offset, report, 'byte_math', bytesP!, v);
    if (!r) return undefined;
    return { ...r, op, rvalue, result, variables: variablesOf(offset, rvalue) };
  },
});

export const byteKeywords: AnyKeywordSpec[] = [byte_test, byte_jump, byte_extract, byte_math];
