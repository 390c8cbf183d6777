/** `honeywall lint` as a library call: load a rule set, collect every diagnostic, count rules. */
import { compareDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { LintSummary } from '../diagnostics/render.js';
import { loadRuleSet, type LoadOptions, type RuleSet } from '../config/ruleset.js';
import { checkRuleSet } from './checks.js';

export interface LintResult {
  set: RuleSet;
  summary: LintSummary;
  diagnostics: Diagnostic[];
  errors: number;
}

export function lintRuleSet(opts: LoadOptions): LintResult {
  const set = loadRuleSet(opts);
  const diagnostics: Diagnostic[] = [...set.diagnostics];
  let enabled = 0;
  let disabled = 0;
  for (const f of set.files) {
    diagnostics.push(...f.diagnostics);
    for (const n of f.file.nodes) if (n.kind === 'rule') n.disabled ? disabled++ : enabled++;
  }
  for (const c of set.configs) if (!set.files.includes(c)) diagnostics.push(...c.diagnostics.filter((d) => d.code !== 'unknown-directive'));
  diagnostics.push(...checkRuleSet(set));
  diagnostics.sort(compareDiagnostics);
  const fileCount = new Set([...set.files.map((f) => f.path)]).size;
  return {
    set,
    summary: { files: fileCount, rules: { total: enabled + disabled, enabled, disabled } },
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
  };
}
