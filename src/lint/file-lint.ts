/** Linting one rule file: parse it, count its rules, run the per-file checks. */
import { dialectDiagnostics, dialectLines, takeText, type RuleFileRef } from '../config/ruleset.js';
import { scanRules } from '../parser/parse.js';
import type { CappedDiagnostics } from '../diagnostics/capped.js';
import { RuleChecker, type CheckContext, type ExprCache, type FileFacts } from './checks.js';

export interface FileLintResult {
  display: string;
  enabled: number;
  disabled: number;
  facts: FileFacts;
}

/** `sink` receives the file's diagnostics (lint's one capped list for the whole set). */
export function lintFile(ref: RuleFileRef, ctx: CheckContext, exprCache: ExprCache | undefined, sink: CappedDiagnostics): FileLintResult {
  const text = takeText(ref);
  // Each node is checked as it is parsed and then let go: lint never holds a file's syntax tree (cheaper for the
  // garbage collector than keeping ~20,000 rules alive until the file ends). One line map serves the parser's
  // diagnostics and the checker's.
  const lines = dialectLines(ref, text);
  // A Suricata file's notes (keywords left out) and its refused rules: warnings, as Suricata accepts those rules.
  if (ref.suricata !== undefined) sink.pushAll(ref.suricata.notes);
  // The checker's diagnostics go straight to the sink: in discovery order, parse and check problems interleave.
  const checker = new RuleChecker(lines, ref.display, ctx, exprCache, sink, ref.suricata !== undefined);
  let enabled = 0;
  let disabled = 0;
  scanRules(text, { file: ref.display, lines }, (node, diags) => {
    sink.pushAll(dialectDiagnostics(ref, diags, 'warning'));
    if (node.kind !== 'rule') return;
    if (node.disabled) {
      disabled++;
      return;
    }
    enabled++;
    checker.check(node);
  });
  return { display: ref.display, enabled, disabled, facts: checker.facts };
}
