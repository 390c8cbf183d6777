/**
 * `honeywall lint` as a library call: load a rule set, collect every diagnostic, count rules. Each file is parsed,
 * checked and dropped before the next (memory stays at one file's AST); the cross-file checks work on small facts.
 *
 * Worker threads were tried and measured: on this 2-core machine two workers took more wall time than one thread
 * (each worker pays its own module loading and JIT warm-up, about 1 s of CPU), so linting stays in one thread.
 */
import { readFileSync } from 'node:fs';
import { CappedDiagnostics, type SeverityCounts } from '../diagnostics/capped.js';
import { compareDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { LintSummary } from '../diagnostics/render.js';
import { loadRuleSet, type LoadOptions, type RuleSet } from '../config/ruleset.js';
import { checkContextOf, checkFacts, type ExprCache, type FileFacts } from './checks.js';
import { lintFile } from './file-lint.js';

export interface LintResult {
  set: RuleSet;
  summary: LintSummary;
  /** The diagnostics kept (at most `limit`), sorted. */
  diagnostics: Diagnostic[];
  /** Diagnostics found past the limit, per severity: counted, not kept. */
  omitted: SeverityCounts;
  limit: number;
  /** Errors found, kept or not. */
  errors: number;
  /** The text of a file named in the diagnostics (for carets), read on demand. */
  source(display: string): string | undefined;
}

export function lintRuleSet(opts: LoadOptions & { limit?: number }): LintResult {
  const set = loadRuleSet({ ...opts, deferRuleFiles: true });
  const ctx = checkContextOf(set);
  const cache: ExprCache = new Map();
  const sink = new CappedDiagnostics(opts.limit);
  sink.pushAll(set.diagnostics);
  const facts: FileFacts[] = [];
  let enabled = 0;
  let disabled = 0;
  for (const f of set.ruleFiles) {
    const r = lintFile(f, ctx, cache, sink);
    facts.push(r.facts);
    enabled += r.enabled;
    disabled += r.disabled;
  }
  for (const c of set.configs)
    if (!set.ruleFiles.some((f) => f.path === c.path)) for (const d of c.diagnostics) if (d.code !== 'unknown-directive') sink.push(d);
  sink.pushAll(checkFacts(facts));
  const diagnostics = sink.kept;
  diagnostics.sort(compareDiagnostics);

  const paths = new Map([...set.ruleFiles, ...set.configs].map((f) => [f.display, f.path]));
  const texts = new Map<string, string | undefined>();
  return {
    set,
    summary: { files: set.ruleFiles.length, rules: { total: enabled + disabled, enabled, disabled } },
    diagnostics,
    omitted: sink.omitted,
    limit: sink.limit,
    errors: sink.count('error'),
    source(display) {
      if (!texts.has(display)) {
        const p = paths.get(display);
        let text: string | undefined;
        try {
          text = p === undefined ? undefined : readFileSync(p, 'utf8');
        } catch {
          text = undefined;
        }
        texts.set(display, text);
      }
      return texts.get(display);
    },
  };
}
