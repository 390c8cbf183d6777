/**
 * Rule-set checks beyond one rule: variables, classtypes, duplicate gid:sid, flowbits set/checked, rules that can
 * never match, rules with no fast-pattern candidate. Read-only questions over the parsed set.
 */
import type { RuleNode } from '../ast.js';
import { LineMap, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import type { LoadedFile, RuleSet } from '../config/ruleset.js';
import { resolveAddress, resolvePorts, ResolveError, variablesIn } from '../config/variables.js';
import type { AddressExpr, PortExpr } from '../ast.js';
import type { ContentArgs } from '../keywords/content.js';

export interface RuleRef {
  file: LoadedFile;
  rule: RuleNode;
}

/** Enabled rules of the set (those Snort would load), with their file. */
export function* enabledRules(set: RuleSet): Generator<RuleRef> {
  for (const file of set.files) for (const n of file.file.nodes) if (n.kind === 'rule' && !n.disabled) yield { file, rule: n };
}

const TCP_ONLY = new Set(['flags', 'seq', 'ack', 'window', 'stream_size', 'stream_reassemble']);
const ICMP_ONLY = new Set(['itype', 'icode', 'icmp_id', 'icmp_seq']);
const PAYLOAD_NEEDS_FP = new Set(['pcre', 'byte_test', 'byte_jump', 'byte_extract', 'isdataat', 'base64_decode', 'asn1']);

export function checkRuleSet(set: RuleSet): Diagnostic[] {
  const out: Diagnostic[] = [];
  const lineMaps = new Map<LoadedFile, LineMap>();
  const at = (ref: RuleRef, offset: number, length: number, severity: Severity, code: string, message: string) => {
    let lm = lineMaps.get(ref.file);
    if (!lm) lineMaps.set(ref.file, (lm = new LineMap(ref.file.file.text)));
    const { line, column } = lm.position(offset);
    const d: Diagnostic = { code, severity, message, file: ref.file.display, line, column, offset, length };
    if (ref.rule.sid !== undefined) d.sid = ref.rule.sid;
    out.push(d);
  };

  // Parsed address and port expressions are shared by every rule with the same text: check each one once.
  const exprCache = new Map<object, string | undefined>();
  const seenSids = new Map<string, RuleRef>();
  const flowbitSet = new Map<string, RuleRef>();
  const flowbitChecked = new Map<string, RuleRef>();

  for (const ref of enabledRules(set)) {
    const r = ref.rule;
    // Variables and their kinds (Snort refuses the rule otherwise).
    for (const [field, kind] of [
      [r.header.src, 'address'],
      [r.header.dst, 'address'],
      [r.header.srcPort, 'port'],
      [r.header.dstPort, 'port'],
    ] as const) {
      const expr = field.value as AddressExpr | PortExpr;
      if (expr.kind !== 'var' && expr.kind !== 'list') continue;
      let problem = exprCache.get(expr);
      if (!exprCache.has(expr)) {
        problem = undefined;
        if (variablesIn(expr).length > 0) {
          try {
            if (kind === 'address') resolveAddress(expr as AddressExpr, set.vars);
            else resolvePorts(expr as PortExpr, set.vars);
          } catch (e) {
            if (!(e instanceof ResolveError)) throw e;
            problem = e.message;
          }
        }
        exprCache.set(expr, problem);
      }
      if (problem) at(ref, field.span.start, field.span.end - field.span.start, 'error', 'unknown-variable', problem);
    }
    if (r.invalid) continue;

    if (r.classtype !== undefined && !set.classifications.has(r.classtype)) {
      const o = r.options.find((x) => x.keyword === 'classtype')!;
      at(ref, o.span.start, o.span.end - o.span.start, 'error', 'unknown-classtype', `classtype '${r.classtype}' is not in classification.config`);
    }

    if (r.sid !== undefined) {
      const key = `${r.gid}:${r.sid}`;
      const prev = seenSids.get(key);
      if (prev) {
        const o = r.options.find((x) => x.keyword === 'sid')!;
        const where = `${prev.file.display}:${new LineMap(prev.file.file.text).position(prev.rule.span.start).line}`;
        at(ref, o.span.start, o.span.end - o.span.start, 'warning', 'duplicate-sid', `gid:sid ${key} is also used at ${where}; Snort keeps only one of them`);
      } else seenSids.set(key, ref);
    }

    const proto = r.header.protocol.value;
    let positiveContent = false;
    let needsFp: string | undefined;
    for (const o of r.options) {
      if (o.keyword === 'flowbits' && o.value !== undefined) {
        const [op, names] = o.value.split(',').map((s) => s.trim());
        const bits = (names ?? '').split(/[|&]/).map((s) => s.trim()).filter(Boolean);
        if (op === 'set' || op === 'setx' || op === 'toggle' || op === 'unset') for (const b of bits) if (!flowbitSet.has(b) && op !== 'unset') flowbitSet.set(b, ref);
        if (op === 'isset' || op === 'isnotset') for (const b of bits) if (!flowbitChecked.has(b)) flowbitChecked.set(b, ref);
      }
      if ((o.keyword === 'content' || o.keyword === 'uricontent') && o.args && !(o.args as ContentArgs).negated) positiveContent = true;
      if (PAYLOAD_NEEDS_FP.has(o.keyword)) needsFp ??= o.keyword;
      if (proto !== 'tcp' && proto !== 'ip' && TCP_ONLY.has(o.keyword))
        at(ref, o.span.start, o.span.end - o.span.start, 'warning', 'never-matches', `'${o.keyword}' tests TCP headers, but the rule is for ${proto}: it can never match`);
      if (proto !== 'icmp' && proto !== 'ip' && ICMP_ONLY.has(o.keyword))
        at(ref, o.span.start, o.span.end - o.span.start, 'warning', 'never-matches', `'${o.keyword}' tests ICMP headers, but the rule is for ${proto}: it can never match`);
    }
    if (!positiveContent && needsFp)
      at(ref, r.header.action.span.start, r.header.action.span.end - r.header.action.span.start, 'warning', 'no-fast-pattern', `no content to use as a fast pattern: ${needsFp} runs on every packet of this rule's ports (slow)`);
  }

  for (const [bit, ref] of flowbitChecked) {
    if (flowbitSet.has(bit)) continue;
    const o = ref.rule.options.find((x) => x.keyword === 'flowbits' && x.value?.includes(bit))!;
    at(ref, o.span.start, o.span.end - o.span.start, 'warning', 'flowbit-never-set', `flowbit '${bit}' is checked but no enabled rule sets it: this rule can never match`);
  }
  for (const [bit, ref] of flowbitSet) {
    if (flowbitChecked.has(bit)) continue;
    const o = ref.rule.options.find((x) => x.keyword === 'flowbits' && x.value?.includes(bit))!;
    at(ref, o.span.start, o.span.end - o.span.start, 'info', 'flowbit-never-checked', `flowbit '${bit}' is set but no enabled rule checks it`);
  }
  return out;
}
