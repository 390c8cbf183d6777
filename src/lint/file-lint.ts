/** Linting one rule file: parse it, count its rules, run the per-file checks. */
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import { readText, type RuleFileRef } from '../config/ruleset.js';
import { scanRules } from '../parser/parse.js';
import { RuleChecker, type CheckContext, type FileFacts } from './checks.js';

export interface FileLintResult {
  display: string;
  enabled: number;
  disabled: number;
  diagnostics: Diagnostic[];
  facts: FileFacts;
}

export function lintFile(ref: RuleFileRef, ctx: CheckContext, exprCache?: Map<object, string | undefined>): FileLintResult {
  const text = readText(ref.path);
  // Each node is checked as it is parsed and then let go: lint never holds a file's syntax tree (cheaper for the
  // garbage collector than keeping ~20,000 rules alive until the file ends). One line map serves the parser's
  // diagnostics and the checker's.
  const lines = new LineMap(text);
  const checker = new RuleChecker(lines, ref.display, ctx, exprCache);
  const diagnostics: Diagnostic[] = [];
  let enabled = 0;
  let disabled = 0;
  scanRules(text, { file: ref.display, lines }, (node, diags) => {
    for (let i = 0; i < diags.length; i++) diagnostics.push(diags[i]!);
    if (node.kind !== 'rule') return;
    if (node.disabled) {
      disabled++;
      return;
    }
    enabled++;
    checker.check(node);
  });
  for (const d of checker.diagnostics) diagnostics.push(d);
  return { display: ref.display, enabled, disabled, diagnostics, facts: checker.facts };
}
