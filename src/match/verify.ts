/**
 * Per-rule verification in the compiled matcher: the payload options in rule order with Snort 2.9's cursor
 * (doe_ptr) semantics: content windows from offset/depth or distance/within (uniSearchReal), pcre on PCRE2 from the
 * cursor (sp_pcre.c), byte_* and isdataat, buffer switches; when a later option fails, a content or pcre that matched
 * is retried at its next occurrence (detection_options.c continuation). Searching uses native Buffer.indexOf over
 * cached lower-cased copies for nocase. Every step is counted against the rule's and the item's budgets
 * (budget.ts); reaching one ends the rule with no match and is recorded in `limit`.
 */
import type { NativeEngine } from '../native/engine.js';
import { PCRE_BUDGET, PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT, PCRE_NO_MATCH } from '../native/engine.js';
import type { ItemBudget, LimitName } from './budget.js';
import { base64Decode, byteExtract, byteJump, byteTestOk, isDataAtOk, valueOf } from './leaf-ops.js';
import type { CompiledPcre } from './pcre-exec.js';
import type { BufferName, ContentOp, PayloadOp, PcreOp } from './plan.js';
import { bufferOf, type Subject } from './subject.js';

export interface VerifyContext {
  subject: Subject;
  vars: Int32Array;
  base64: Uint8Array | undefined;
  /** Option evaluations left for this rule (RULE_OPS_LIMIT at the start). */
  ops: number;
  /** What is left of the inspection item's allowance (shared by every rule evaluated on the item). */
  item: ItemBudget;
  /** The limit that ended this rule's evaluation, if one did. */
  limit: LimitName | undefined;
  pcreOf: (op: PcreOp) => CompiledPcre;
  engine: NativeEngine;
  /** engine.lastMatch(): [start, end, steps] of the last pcre call. */
  lastMatch: Int32Array;
  /** Where the work done is added up (the matcher's stats). */
  work: { pcreCalls: number; pcreSteps: number; searchBytes: number };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.length);
}

/** A lower-cased copy of a buffer, kept in the subject's cache (Subject.lower, made on first use) for the next search. */
export function lowerOf(s: Subject, b: Uint8Array): Buffer {
  let lower = s.lower;
  if (lower === undefined) {
    lower = new Map();
    s.lower = lower;
  }
  let l = lower.get(b);
  if (l === undefined) {
    l = Buffer.allocUnsafe(b.length);
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      l[i] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    lower.set(b, l);
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

/**
 * First occurrence of the content's pattern in b[from, end) (the match lies entirely inside), or -1; -3 when the
 * item's search allowance is spent (ctx.limit is then set). A search costs the bytes it looked at.
 */
function find(ctx: VerifyContext, op: ContentOp, b: Uint8Array, from: number, end: number): number {
  const pat = patternOf(op);
  if (end - from < pat.length) return -1;
  if (ctx.item.searchBytes <= 0) {
    ctx.limit = 'searchBytes';
    return -3;
  }
  const hay = op.nocase ? lowerOf(ctx.subject, b) : asBuffer(b);
  let at = hay.indexOf(pat, from);
  if (at + pat.length > end) at = -1;
  return charge(ctx, at >= 0 ? at + pat.length - from : end - from) ? at : -3;
}

/** Takes `bytes` from the item's search allowance; false (and ctx.limit set) when it is spent. */
function charge(ctx: VerifyContext, bytes: number): boolean {
  ctx.work.searchBytes += bytes;
  if ((ctx.item.searchBytes -= bytes) >= 0) return true;
  ctx.limit = 'searchBytes';
  return false;
}

/** HTTP buffers a pcre names with a flag (U I P H D M C K S Y): searched whole, no cursor, no retry (sp_pcre.c). */
function isHttpBuffer(b: BufferName): boolean {
  return b !== 'pkt' && b !== 'file_data' && b !== 'base64' && b !== 'dns_query' && b !== 'tls_sni';
}

/**
 * One pcre_exec as sp_pcre.c's pcre_search makes it: the subject buf[base, end) searched from `start`. Returns the
 * match end relative to base, PCRE_NO_MATCH, or another negative code when a limit ended it (ctx.limit set).
 */
function execPcre(ctx: VerifyContext, c: CompiledPcre, b: Uint8Array, base: number, start: number): number {
  // a search of b[from, end) already found nothing, from here or before: nothing from here either (CompiledPcre)
  const from = base + start;
  const known = c.suffixClosed && c.emptyIn === b && c.emptyItem === ctx.item.epoch;
  if (known && from >= c.emptyFrom) return PCRE_NO_MATCH;
  const r = runPcre(ctx, c, b, base, start);
  if (r === PCRE_NO_MATCH && c.suffixClosed && (!known || from < c.emptyFrom)) {
    c.emptyIn = b;
    c.emptyItem = ctx.item.epoch;
    c.emptyFrom = from;
  }
  return r;
}

function runPcre(ctx: VerifyContext, c: CompiledPcre, b: Uint8Array, base: number, start: number): number {
  const budget = ctx.item.pcreSteps;
  if (budget <= 0) {
    ctx.limit = 'pcreSteps';
    return PCRE_BUDGET;
  }
  if (--ctx.item.pcreCalls < 0) {
    ctx.limit = 'pcreCalls';
    return PCRE_BUDGET;
  }
  // An unanchored search may scan the whole subject (for a byte every match needs, or start positions): that scan is
  // searching too. An anchored one tries one start position, whose steps the step budget counts.
  if (!c.anchored && (ctx.item.searchBytes <= 0 || !charge(ctx, b.length - base - start))) {
    ctx.limit = 'searchBytes';
    return PCRE_BUDGET;
  }
  const r = ctx.engine.pcreExec(c.handle, b, base, b.length, start, budget);
  const steps = ctx.lastMatch[2]!;
  ctx.item.pcreSteps -= steps;
  ctx.work.pcreCalls++;
  ctx.work.pcreSteps += steps;
  if (r >= PCRE_NO_MATCH) return r;
  ctx.limit = r === PCRE_BUDGET ? 'pcreSteps' : r === PCRE_MATCH_LIMIT ? 'pcreMatchLimit' : r === PCRE_DEPTH_LIMIT ? 'pcreDepthLimit' : 'pcreError';
  return r;
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

/**
 * Whether the option after a content or pcre is tried again at the content's (pcre's) next match. Snort 2.9.20
 * detection_options.c does not evaluate again a child that gave no match when it is a content or pcre that is not
 * relative, or a relative content without `within` ("it's going to fail again"): true of a content's own search
 * from a later cursor, not of a negated one, nor of the options after it, which are then not tried again either.
 */
function retried(next: PayloadOp | undefined): boolean {
  if (next === undefined) return true;
  if (next.op === 'content') return next.relative && next.within !== undefined;
  if (next.op === 'pcre') return next.relative;
  return true;
}

/** Evaluates ops[i..] with the cursor (cbuf, cpos); true when the rest of the rule matches. */
export function runOps(ctx: VerifyContext, ops: PayloadOp[], i: number, cbuf: BufferName, cpos: number, cvalid: boolean): boolean {
  for (; i < ops.length; i++) {
    if (--ctx.ops < 0) {
      ctx.limit = 'ruleOps';
      return false;
    }
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
          if (op.negated && ((sameBuf && op.relative && cpos === b.length) || end - start > 0)) {
            // sp_pattern_match.c uniSearchReal: an absolute content clears doe_ptr before it searches, and a negated
            // one that finds nothing sets none: the cursor is gone after it (a relative one leaves it where it was)
            if (!op.relative) cvalid = false;
            continue;
          }
          return false;
        }
        let at = find(ctx, op, b, start, end);
        if (op.negated) {
          if (at !== -1) return false;
          if (!op.relative) cvalid = false;
          continue;
        }
        const again = retried(ops[i + 1]);
        while (at >= 0) {
          if (runOps(ctx, ops, i + 1, op.buf, at + len, true)) return true;
          if (ctx.limit !== undefined || !again) return false;
          at = find(ctx, op, b, at + op.jump, end);
        }
        return false;
      }
      case 'pcre': {
        // sp_pcre.c SnortPcre: the subject starts at the cursor for /R (which must lie inside the buffer), else at the
        // buffer's start; an empty subject, or a limit reached, is no match even for a negated pcre (pcre_search
        // returns 0 before the inversion).
        const b = bufferOf(ctx.subject, op.buf, ctx.base64);
        if (b === undefined) return false;
        const http = isHttpBuffer(op.buf);
        let base = 0;
        if (!http && op.relative && cvalid && cbuf === op.buf) {
          if (cpos >= b.length) return false;
          base = cpos;
        }
        if (b.length - base <= 0) return false;
        const c = ctx.pcreOf(op);
        let r = execPcre(ctx, c, b, base, 0);
        if (r < PCRE_NO_MATCH) return false;
        if (op.negated) {
          if (r >= 0) return false;
          continue;
        }
        // A match moves the cursor to its end, except in the HTTP buffers ("don't touch doe_ptr on URI contents").
        // After a later option fails, the search goes on from search_offset + the match's end, as
        // PcreAdjustRelativeOffsets adds it (Snort 2.9.20 itself: /a/ then byte_test at the cursor finds nothing in
        // "xaaaZ"); anchored and HTTP pcres are not searched again.
        let searchOffset = 0;
        while (r >= 0) {
          const matched = http ? runOps(ctx, ops, i + 1, cbuf, cpos, cvalid) : runOps(ctx, ops, i + 1, op.buf, base + r, true);
          if (matched) return true;
          if (ctx.limit !== undefined || http || c.anchored || !retried(ops[i + 1])) return false;
          searchOffset += r > 0 ? r : 1;
          if (searchOffset >= b.length - base) return false;
          if (--ctx.ops < 0) {
            ctx.limit = 'ruleOps';
            return false;
          }
          r = execPcre(ctx, c, b, base, searchOffset);
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
        // sp_byte_extract.c DetectByteExtract reads from doe_ptr when relative, with no fallback: before any option
        // set a cursor (doe_ptr NULL), a relative byte_extract fails (byte_test, byte_jump and isdataat fall back to 0)
        if (op.relative && !cvalid) return false;
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
