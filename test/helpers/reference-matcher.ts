/**
 * The reference evaluator: the oracle the compiled matcher is tested against. No prefilter (every rule is tried on
 * every packet), no automaton, no indexOf: contents are compared byte by byte at every position of their window, and
 * every occurrence is tried in turn (the compiled matcher jumps by the pattern's period, which must give the same
 * answer). Windows are computed from Snort's definition written out case by case. Shares with the matcher only the
 * leaf checks (`leaf-ops.ts`) and the event selection (`decide.ts`).
 */
import { readsAppBuffer } from '../../src/match/engine.js';
import type { InspectionItem } from '../../src/flow/pipeline.js';
import { EventDecider, headerMatches, MATCH_DIRECT, nonPayloadMatches, subjectsOf, type Matches, type MatchEvent } from '../../src/match/decide.js';
import { runTurns, SharedNodes } from '../../src/match/rule-tree.js';
import {
  bufferRank,
  NO_FAST_PATTERN_RANK,
  PAYLOAD_AFTER_FILE_DATA_RANK,
  portGroupsOf,
  snortTurns,
  treeKey,
  treeOf,
} from '../../src/match/snort-order.js';
import { base64Decode, byteExtract, byteJump, byteTestOk, headerOk, isDataAtOk, valueOf } from '../../src/match/leaf-ops.js';
import type { BufferName, ContentOp, MatcherPlan, PayloadOp, PcreOp, RulePlan } from '../../src/match/plan.js';
import { bufferOf, type Subject } from '../../src/match/subject.js';
import { loadEngine } from '../../src/native/engine.js';
import { compilePcre, type CompiledPcre } from '../../src/match/pcre-exec.js';

const BUDGET = 20000;
/** The reference runs PCRE2 without a step budget of its own (PCRE's match limits still apply, as in Snort). */
const NO_STEP_BUDGET = 0x7fffffff;

const compiled = new Map<PcreOp, CompiledPcre>();
function pcreOf(op: PcreOp): CompiledPcre {
  let c = compiled.get(op);
  if (c === undefined) {
    c = compilePcre(op);
    compiled.set(op, c);
  }
  return c;
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function occursAt(op: ContentOp, b: Uint8Array, at: number): boolean {
  if (at < 0 || at + op.bytes.length > b.length) return false;
  for (let k = 0; k < op.bytes.length; k++) {
    const x = b[at + k]!;
    const y = op.bytes[k]!;
    if (op.nocase ? lower(x) !== lower(y) : x !== y) return false;
  }
  return true;
}

/** Snort uniSearchReal's window, or 'error'. */
function windowOf(op: ContentOp, len: number, cursor: number | undefined, vars: number[]): { from: number; to: number } | 'error' {
  // where the search may start and how much is left
  let from = 0;
  let room = len;
  if (op.relative && cursor !== undefined) {
    if (cursor < 0 || cursor > len) return 'error';
    from = cursor;
    room = len - cursor;
  }
  const shift = op.relative ? (op.distance === undefined ? 0 : valueOf(op.distance, vars)) : op.offset === undefined ? 0 : valueOf(op.offset, vars);
  const limitRaw = op.relative
    ? op.within === undefined
      ? undefined
      : valueOf(op.within, vars)
    : op.depth === undefined
      ? undefined
      : valueOf(op.depth, vars);
  // depth 0 means "no depth"; within is always a limit when given
  const limit = !op.relative && limitRaw === 0 ? undefined : limitRaw;
  if (!op.relative && op.offset === undefined && op.depth === undefined) return { from, to: from + room };
  if (shift > room) return { from, to: from };
  if (from + shift < 0) {
    const left = from + shift + (limit ?? 0);
    if (left < 0) return 'error';
    return { from: 0, to: limit === undefined || left > len ? len : left };
  }
  from += shift;
  room -= shift;
  if (limit !== undefined && limit < room) room = limit;
  return { from, to: from + room };
}

interface State {
  s: Subject;
  vars: number[];
  base64: Uint8Array | undefined;
  budget: number;
}

function evalFrom(st: State, ops: PayloadOp[], i: number, cbuf: BufferName | undefined, cpos: number): boolean {
  if (i === ops.length) return true;
  if (--st.budget < 0) return false;
  const op = ops[i]!;
  const here = (name: BufferName) => (cbuf === name ? cpos : undefined);
  switch (op.op) {
    case 'content': {
      const b = bufferOf(st.s, op.buf, st.base64);
      if (b === undefined || b.length === 0) return false;
      if (op.fpOnly) {
        for (let at = 0; at + op.bytes.length <= b.length; at++) if (occursAt(op, b, at)) return evalFrom(st, ops, i + 1, cbuf, cpos);
        return false;
      }
      const w = windowOf(op, b.length, here(op.buf), st.vars);
      if (w === 'error') return false;
      // a negated content leaves the cursor where it was, none after an absolute one (which clears it first)
      const nextBuf = op.relative ? cbuf : undefined;
      if (op.bytes.length > w.to - w.from) {
        const atEnd = op.relative && here(op.buf) === b.length;
        return op.negated && (atEnd || w.to - w.from > 0) ? evalFrom(st, ops, i + 1, nextBuf, cpos) : false;
      }
      let found = false;
      for (let at = w.from; at + op.bytes.length <= w.to; at++) {
        if (!occursAt(op, b, at)) continue;
        found = true;
        if (op.negated) break;
        if (evalFrom(st, ops, i + 1, op.buf, at + op.bytes.length)) return true;
        if (st.budget < 0 || !triedAgain(ops[i + 1])) return false;
      }
      return op.negated && !found ? evalFrom(st, ops, i + 1, nextBuf, cpos) : false;
    }
    case 'pcre': {
      // Snort's sp_pcre.c written out: HTTP buffers searched whole (no cursor, no retry); otherwise the subject starts
      // at the cursor for /R, and after a failed continuation the search offset grows by the match end.
      const b = bufferOf(st.s, op.buf, st.base64);
      if (b === undefined) return false;
      const http = op.buf !== 'pkt' && op.buf !== 'file_data' && op.buf !== 'base64' && op.buf !== 'dns_query' && op.buf !== 'tls_sni';
      const base = !http && op.relative && cbuf === op.buf ? cpos : 0;
      if (base >= b.length) return false;
      const engine = loadEngine();
      const c = pcreOf(op);
      let offset = 0;
      for (;;) {
        const end = engine.pcreExec(c.handle, b, base, b.length, offset, NO_STEP_BUDGET);
        if (end < -1) return false;
        if (op.negated) return end === -1 ? evalFrom(st, ops, i + 1, cbuf, cpos) : false;
        if (end === -1) return false;
        if (http ? evalFrom(st, ops, i + 1, cbuf, cpos) : evalFrom(st, ops, i + 1, op.buf, base + end)) return true;
        if (st.budget < 0 || http || c.anchored || !triedAgain(ops[i + 1])) return false;
        offset += end > 0 ? end : 1;
        if (offset >= b.length - base) return false;
      }
    }
    case 'byte_test': {
      const name = cbuf ?? 'pkt';
      const b = bufferOf(st.s, name, st.base64);
      return b !== undefined && byteTestOk(op, b, cbuf === undefined ? 0 : cpos, st.vars) && evalFrom(st, ops, i + 1, cbuf, cpos);
    }
    case 'byte_jump': {
      const name = cbuf ?? 'pkt';
      const b = bufferOf(st.s, name, st.base64);
      if (b === undefined) return false;
      const pos = byteJump(op, b, cbuf === undefined ? 0 : cpos, st.vars);
      return pos >= 0 && evalFrom(st, ops, i + 1, name, pos);
    }
    case 'byte_extract': {
      // relative with no cursor yet: Snort's doe_ptr is NULL and the read fails
      if (op.relative && cbuf === undefined) return false;
      const name = cbuf ?? 'pkt';
      const b = bufferOf(st.s, name, st.base64);
      if (b === undefined) return false;
      const r = byteExtract(op, b, cbuf === undefined ? 0 : cpos);
      if (r === undefined) return false;
      st.vars[op.slot] = r[0];
      return evalFrom(st, ops, i + 1, name, r[1]);
    }
    case 'isdataat': {
      const name = op.rawbytes ? 'pkt' : (cbuf ?? 'pkt');
      const b = bufferOf(st.s, name, st.base64);
      return b !== undefined && isDataAtOk(op, b, cbuf === name ? cpos : 0, st.vars) && evalFrom(st, ops, i + 1, cbuf, cpos);
    }
    case 'set_buffer': {
      const b = bufferOf(st.s, op.buf, st.base64);
      return b !== undefined && evalFrom(st, ops, i + 1, op.buf, 0);
    }
    case 'base64_decode': {
      const name = cbuf ?? 'pkt';
      const b = bufferOf(st.s, name, st.base64);
      if (b === undefined) return false;
      const d = base64Decode(op, b, cbuf === name ? cpos : 0);
      if (d === undefined) return false;
      st.base64 = d;
      return evalFrom(st, ops, i + 1, cbuf, cpos);
    }
  }
}

/**
 * Snort 2.9.20 (detection_options.c) tries the options after a content or pcre again at its next match unless the
 * next one is a content or pcre that is not relative, or a relative content without `within`.
 */
function triedAgain(next: PayloadOp | undefined): boolean {
  if (next === undefined) return true;
  if (next.op === 'content') return next.relative && next.within !== undefined;
  if (next.op === 'pcre') return next.relative;
  return true;
}

/** Does the rule match this subject? Same question as `Matcher.ruleMatches`, answered the slow way. */
export function referenceRuleMatches(rule: RulePlan, s: Subject, flowbits = true): boolean {
  if (rule.fastPattern !== undefined && s.streamInserted) return false;
  if (rule.fastPattern === undefined && s.onlyFastPattern) return false;
  if (rule.proto === 'ip' && rule.fastPattern === undefined && s.rebuilt && !readsAppBuffer(rule)) return false;
  if (!headerMatches(rule, s.packet)) return false;
  if (!nonPayloadMatches(rule, s, flowbits)) return false;
  return evalFrom({ s, vars: [0, 0], base64: undefined, budget: BUDGET }, rule.ops, 0, undefined, 0);
}

/** Where a pattern first ends in a buffer, bytes compared one by one with case folded (-1: absent). */
function naiveFirstEnd(b: Uint8Array, pat: Uint8Array): number {
  for (let i = 0; i + pat.length <= b.length; i++) {
    let k = 0;
    while (k < pat.length && lower(b[i + k]!) === lower(pat[k]!)) k++;
    if (k === pat.length) return i + pat.length;
  }
  return -1;
}

export class ReferenceMatcher {
  private readonly decider: EventDecider;

  private readonly shared: SharedNodes;

  constructor(readonly plan: MatcherPlan) {
    this.decider = new EventDecider(plan);
    this.shared = SharedNodes.of(plan.rules);
  }

  inspect(item: InspectionItem): MatchEvent[] {
    const p = item.packet;
    if (p.ip === undefined) return [];
    const out: Matches = { rules: [], flags: [] };
    const done = new Set<number>();
    // ip_proto-only rules: on the decoded packet's (innermost IPv4) protocol, never with the others, queued directly
    const decodeTime = (r: RulePlan) => r.headers[0]?.t === 'ip_proto' && r.headers[0].decodeTime === true;
    if (item.kind === 'packet')
      for (const r of this.plan.rules)
        if (decodeTime(r) && headerMatches(r, p) && headerOk(r.headers[0]!, subjectsOf(item)[0]!)) {
          out.rules.push(r);
          out.flags.push(MATCH_DIRECT);
        }
    for (const s of subjectsOf(item)) {
      const rules = this.plan.rules.filter((r) => !done.has(r.index) && !decodeTime(r) && headerMatches(r, s.packet));
      const place = (r: RulePlan): { rank: number; end: number } => {
        const fp = r.fastPattern;
        if (fp === undefined) return { rank: NO_FAST_PATTERN_RANK, end: 0 };
        const b = bufferOf(s, fp.buf, undefined);
        if (b === undefined) return { rank: bufferRank(fp.buf), end: -1 };
        // fpEvalHeaderSW's content search looks in file_data_ptr first, when it is set (dcerpc2's file data, an HTTP
        // body), then in the payload: a payload or file_data pattern found in the file data is placed by its end
        // there, the others come in the payload's search after it
        const fd = s.fileData ?? s.http?.fileData;
        if ((fp.buf === 'pkt' || fp.buf === 'file_data') && fd !== undefined && fd.length > 0) {
          const inFileData = naiveFirstEnd(fd, fp.bytes);
          if (inFileData >= 0) return { rank: bufferRank(fp.buf), end: inFileData };
          return { rank: PAYLOAD_AFTER_FILE_DATA_RANK, end: naiveFirstEnd(s.payload, fp.bytes) };
        }
        return { rank: bufferRank(fp.buf), end: naiveFirstEnd(b, fp.bytes) };
      };
      const turns = snortTurns(rules, s.packet, place, (r) => r.index);
      runTurns(
        turns,
        s,
        this.decider,
        {
          matches: (r) => referenceRuleMatches(r, s, false),
          matched: (r) => done.has(r.index),
          setMatched: (r) => done.add(r.index),
          sharing: (r, j) => this.shared.sharing(r, j),
          inTree: (r, tree) => {
            const { rank, end } = place(r);
            const { group } = treeOf(tree);
            return end >= 0 && (portGroupsOf(r, s.packet) & (1 << group)) !== 0 && treeKey(group, rank, end) === tree;
          },
        },
        out,
      );
    }
    return this.decider.select(out, p);
  }
}
