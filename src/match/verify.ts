/**
 * Per-rule verification in the compiled matcher: the payload options in rule order with Snort 2.9's cursor
 * (doe_ptr) semantics: content windows from offset/depth or distance/within (uniSearchReal), pcre with /R from the
 * cursor, byte_* and isdataat, buffer switches; when a later option fails, a content or pcre that matched is retried
 * at its next occurrence (detection_options.c continuation). Searching uses native Buffer.indexOf over cached
 * lower-cased copies for nocase.
 */
import { base64Decode, byteExtract, byteJump, byteTestOk, isDataAtOk, valueOf } from './leaf-ops.js';
import type { BufferName, ContentOp, PayloadOp, PcreOp } from './plan.js';
import { bufferOf, latin1Of, type Subject } from './subject.js';

/** Upper bound on option evaluations per rule and subject (retries included): beyond it the rule does not match. */
export const EVAL_BUDGET = 20000;

/** A compiled regular expression per pcre op; `guarded` ones run through the time-bounded worker (guardId). */
export interface CompiledPcre {
  re: RegExp;
  guarded: boolean;
  guardId?: number;
}

/** Runs a guarded pattern: first match at or after lastIndex, null for none or out of time. */
export type GuardedExec = (id: number, subject: Uint8Array, lastIndex: number) => { index: number; end: number } | null;

export interface VerifyContext {
  subject: Subject;
  vars: Int32Array;
  base64: Uint8Array | undefined;
  budget: number;
  regexOf: (op: PcreOp) => CompiledPcre;
  guarded: GuardedExec;
  lower: Map<Uint8Array, Buffer>;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

function lowerOf(ctx: VerifyContext, b: Uint8Array): Buffer {
  let l = ctx.lower.get(b);
  if (l === undefined) {
    l = Buffer.allocUnsafe(b.length);
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      l[i] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    ctx.lower.set(b, l);
  }
  return l;
}

const lowerPatterns = new WeakMap<ContentOp, Buffer>();
function patternOf(op: ContentOp): Buffer {
  if (!op.nocase) return asBuffer(op.bytes);
  let p = lowerPatterns.get(op);
  if (p === undefined) {
    p = Buffer.from(op.bytes.map((c) => (c >= 65 && c <= 90 ? c + 32 : c)));
    lowerPatterns.set(op, p);
  }
  return p;
}

/** First occurrence of the content's pattern in b[from, end) (the match lies entirely inside), or -1. */
function find(ctx: VerifyContext, op: ContentOp, b: Uint8Array, from: number, end: number): number {
  const pat = patternOf(op);
  if (end - from < pat.length) return -1;
  const hay = op.nocase ? lowerOf(ctx, b) : asBuffer(b);
  const at = hay.indexOf(pat, from);
  return at >= 0 && at + pat.length <= end ? at : -1;
}

const ERR = -2;

/**
 * Search window [start, end) for a content, Snort's uniSearchReal; ERR when the search is an error (no match even if
 * negated), or [start, start - 1] style empty windows signalled by end < start + length.
 */
export function contentWindow(op: ContentOp, dlen: number, cursorValid: boolean, cursor: number, vars: Int32Array): [number, number] | typeof ERR {
  let base = 0;
  let depth = dlen;
  if (op.relative && cursorValid) {
    if (cursor > dlen || cursor < 0) return ERR;
    base = cursor;
    depth = dlen - cursor;
  }
  if (op.relative) {
    const dist = op.distance !== undefined ? valueOf(op.distance, vars) : 0;
    const within = op.within !== undefined ? valueOf(op.within, vars) : undefined;
    let searchStart = 0;
    if (dist > depth) depth = 0;
    else if (dist !== 0) {
      searchStart = base + dist;
      base += dist;
      depth -= dist;
    }
    if (searchStart < 0) {
      const delta = searchStart + (within ?? 0);
      if (delta < 0) return ERR;
      base = 0;
      depth = within === undefined || delta > dlen ? dlen : delta;
    } else if (within !== undefined && within < depth) depth = within;
  } else if (op.offset !== undefined || op.depth !== undefined) {
    const off = op.offset !== undefined ? valueOf(op.offset, vars) : 0;
    const dep = op.depth !== undefined ? valueOf(op.depth, vars) : 0;
    let searchStart = 0;
    if (off > depth) depth = 0;
    else if (off !== 0) {
      searchStart = off;
      base += off;
      depth -= off;
    }
    if (searchStart < 0) {
      const delta = dep + searchStart;
      if (delta < 0) return ERR;
      base = 0;
      depth = dep === 0 || delta > dlen ? dlen : delta;
    } else if (dep !== 0 && dep < depth) depth = dep;
  }
  return [base, base + depth];
}

/** Evaluates ops[i..] with the cursor (cbuf, cpos); true when the rest of the rule matches. */
export function runOps(ctx: VerifyContext, ops: PayloadOp[], i: number, cbuf: BufferName, cpos: number, cvalid: boolean): boolean {
  for (; i < ops.length; i++) {
    if (--ctx.budget < 0) return false;
    const op = ops[i]!;
    switch (op.op) {
      case 'content': {
        const b = bufferOf(ctx.subject, op.buf, ctx.base64);
        if (b === undefined || b.length === 0) return false;
        if (op.fpOnly) {
          if (find(ctx, op, b, 0, b.length) < 0) return false;
          continue;
        }
        const sameBuf = cvalid && cbuf === op.buf;
        const w = contentWindow(op, b.length, sameBuf, cpos, ctx.vars);
        if (w === ERR) return false;
        const [start, end] = w;
        const len = op.bytes.length;
        if (len > end - start) {
          if (op.negated && ((sameBuf && op.relative && cpos === b.length) || end - start > 0)) continue;
          return false;
        }
        let at = find(ctx, op, b, start, end);
        if (op.negated) {
          if (at >= 0) return false;
          continue;
        }
        while (at >= 0) {
          if (runOps(ctx, ops, i + 1, op.buf, at + len, true)) return true;
          if (ctx.budget < 0) return false;
          at = find(ctx, op, b, at + op.jump, end);
        }
        return false;
      }
      case 'pcre': {
        const b = bufferOf(ctx.subject, op.buf, ctx.base64);
        if (b === undefined || b.length === 0) return false;
        const from = op.relative && cvalid && cbuf === op.buf ? cpos : 0;
        if (from > b.length) return false;
        const c = ctx.regexOf(op);
        const re = c.re;
        let exec: (last: number) => { index: number; end: number } | null;
        let length: number;
        if (c.guarded) {
          const bytes = from === 0 ? b : b.subarray(from);
          length = bytes.length;
          exec = (last) => ctx.guarded(c.guardId!, bytes, last);
        } else {
          const full = latin1Of(ctx.subject, b);
          const subject = from === 0 ? full : full.slice(from);
          length = subject.length;
          exec = (last) => {
            re.lastIndex = last;
            const m = re.exec(subject);
            return m === null ? null : { index: m.index, end: m.index + m[0].length };
          };
        }
        let m = exec(0);
        if (op.negated) {
          if (m !== null) return false;
          continue;
        }
        while (m !== null) {
          if (runOps(ctx, ops, i + 1, op.buf, from + m.end, true)) return true;
          if (ctx.budget < 0 || re.sticky) return false;
          const next = m.end > m.index ? m.end : m.index + 1;
          if (next > length) return false;
          m = exec(next);
        }
        return false;
      }
      case 'byte_test': {
        const b = bufferOf(ctx.subject, cvalid ? cbuf : 'pkt', ctx.base64);
        if (b === undefined) return false;
        if (!byteTestOk(op, b, cvalid ? cpos : 0, ctx.vars)) return false;
        continue;
      }
      case 'byte_jump': {
        const name = cvalid ? cbuf : 'pkt';
        const b = bufferOf(ctx.subject, name, ctx.base64);
        if (b === undefined) return false;
        const pos = byteJump(op, b, cvalid ? cpos : 0, ctx.vars);
        if (pos < 0) return false;
        cbuf = name;
        cpos = pos;
        cvalid = true;
        continue;
      }
      case 'byte_extract': {
        const name = cvalid ? cbuf : 'pkt';
        const b = bufferOf(ctx.subject, name, ctx.base64);
        if (b === undefined) return false;
        const r = byteExtract(op, b, cvalid ? cpos : 0);
        if (r === undefined) return false;
        ctx.vars[op.slot] = r[0];
        cbuf = name;
        cpos = r[1];
        cvalid = true;
        continue;
      }
      case 'isdataat': {
        const name = op.rawbytes ? 'pkt' : cvalid ? cbuf : 'pkt';
        const b = bufferOf(ctx.subject, name, ctx.base64);
        if (b === undefined) return false;
        if (!isDataAtOk(op, b, cvalid && cbuf === name ? cpos : 0, ctx.vars)) return false;
        continue;
      }
      case 'set_buffer': {
        const b = bufferOf(ctx.subject, op.buf, ctx.base64);
        if (b === undefined) return false;
        cbuf = op.buf;
        cpos = 0;
        cvalid = true;
        continue;
      }
      case 'base64_decode': {
        const name = cvalid ? cbuf : 'pkt';
        const b = bufferOf(ctx.subject, name, ctx.base64);
        if (b === undefined) return false;
        const d = base64Decode(op, b, cvalid && cbuf === name ? cpos : 0);
        if (d === undefined) return false;
        ctx.base64 = d;
        continue;
      }
    }
  }
  return true;
}
