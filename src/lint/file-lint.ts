/** Linting one rule file: parse it, count its rules, run the per-file checks. */
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { LoadError, type RuleFileRef } from '../config/ruleset.js';
import { parseRules } from '../parser/parse.js';
import { checkFile, type CheckContext, type FileFacts } from './checks.js';

export interface FileLintResult {
  display: string;
  enabled: number;
  disabled: number;
  diagnostics: Diagnostic[];
  facts: FileFacts;
}

export function lintFile(ref: RuleFileRef, ctx: CheckContext, exprCache?: Map<object, string | undefined>): FileLintResult {
  let text: string;
  try {
    text = readFileSync(ref.path, 'utf8');
  } catch (e) {
    throw new LoadError(`cannot read ${ref.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const { file, diagnostics } = parseRules(text, { file: ref.display });
  let enabled = 0;
  let disabled = 0;
  for (const n of file.nodes) if (n.kind === 'rule') n.disabled ? disabled++ : enabled++;
  const checked = checkFile({ path: ref.path, display: ref.display, file, diagnostics }, ctx, exprCache);
  return { display: ref.display, enabled, disabled, diagnostics: [...diagnostics, ...checked.diagnostics], facts: checked.facts };
}
