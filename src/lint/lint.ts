/**
 * `honeywall lint` as a library call: load a rule set, collect every diagnostic, count rules. Large sets are
 * linted by worker threads, one share of the files each (parsing is the cost; the cross-file checks are cheap).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compareDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { LintSummary } from '../diagnostics/render.js';
import { LoadError, loadRuleSet, type LoadOptions, type RuleFileRef, type RuleSet } from '../config/ruleset.js';
import { checkContextOf, checkFacts, type FileFacts } from './checks.js';
import { lintFile, type FileLintResult } from './file-lint.js';
import type { LintJob, LintJobResult } from './worker.js';

export interface LintResult {
  set: RuleSet;
  summary: LintSummary;
  diagnostics: Diagnostic[];
  errors: number;
  /** The text of a file named in the diagnostics (for carets), read on demand. */
  source(display: string): string | undefined;
}

export interface LintOptions extends LoadOptions {
  /** Worker threads to use: 0 or 1 lints in this thread; undefined picks by the machine and the set's size. */
  workers?: number;
}

/** Below this many bytes of rules, starting workers costs more than it saves. */
const PARALLEL_MIN_BYTES = 2_000_000;
const workerUrl = new URL('./worker.js', import.meta.url);

export async function lintRuleSet(opts: LintOptions): Promise<LintResult> {
  const set = loadRuleSet({ ...opts, deferRuleFiles: true });
  const ctx = checkContextOf(set);
  const sizes = set.ruleFiles.map((f) => sizeOf(f.path));
  const total = sizes.reduce((a, b) => a + b, 0);
  let workers = opts.workers ?? (total >= PARALLEL_MIN_BYTES ? Math.min(availableParallelism(), 4) : 1);
  workers = Math.min(workers, set.ruleFiles.length);
  // Workers run the compiled worker.js; from sources (tests under vitest) lint here.
  if (workers > 1 && !existsSync(fileURLToPath(workerUrl))) workers = 1;

  let results: FileLintResult[];
  if (workers <= 1) {
    const cache = new Map<object, string | undefined>();
    results = set.ruleFiles.map((f) => lintFile(f, ctx, cache));
  } else {
    results = await lintInWorkers(set, split(set.ruleFiles, sizes, workers));
  }

  const diagnostics: Diagnostic[] = [...set.diagnostics];
  const facts: FileFacts[] = [];
  let enabled = 0;
  let disabled = 0;
  for (const r of results) {
    diagnostics.push(...r.diagnostics);
    facts.push(r.facts);
    enabled += r.enabled;
    disabled += r.disabled;
  }
  for (const c of set.configs) if (!set.ruleFiles.some((f) => f.path === c.path)) diagnostics.push(...c.diagnostics.filter((d) => d.code !== 'unknown-directive'));
  diagnostics.push(...checkFacts(facts));
  diagnostics.sort(compareDiagnostics);

  const paths = new Map([...set.ruleFiles, ...set.configs].map((f) => [f.display, f.path]));
  const texts = new Map<string, string | undefined>();
  return {
    set,
    summary: { files: set.ruleFiles.length, rules: { total: enabled + disabled, enabled, disabled } },
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
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

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Shares of about equal size (largest files first, each to the lightest share); results keep the load order. */
function split(files: RuleFileRef[], sizes: number[], n: number): RuleFileRef[][] {
  const shares = Array.from({ length: n }, () => ({ bytes: 0, idx: [] as number[] }));
  const order = files.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  for (const i of order) {
    const lightest = shares.reduce((m, s) => (s.bytes < m.bytes ? s : m));
    lightest.bytes += sizes[i]!;
    lightest.idx.push(i);
  }
  return shares.map((s) => s.idx.sort((a, b) => a - b).map((i) => files[i]!));
}

async function lintInWorkers(set: RuleSet, shares: RuleFileRef[][]): Promise<FileLintResult[]> {
  const vars = set.vars.entries();
  const classifications = [...set.classifications.keys()];
  const replies = await Promise.all(
    shares.map(
      (files) =>
        new Promise<LintJobResult>((resolve, reject) => {
          const job: LintJob = { files, vars, classifications };
          const w = new Worker(workerUrl, { workerData: job });
          w.once('message', (m: LintJobResult) => resolve(m));
          w.once('error', reject);
          w.once('exit', (code) => (code !== 0 ? reject(new Error(`lint worker exited with code ${code}`)) : undefined));
        }),
    ),
  );
  const byDisplay = new Map<string, FileLintResult>();
  for (const r of replies) {
    if (!r.ok) throw new LoadError(r.message);
    for (const f of r.results) byDisplay.set(f.display, f);
  }
  return set.ruleFiles.map((f) => byDisplay.get(f.display)!);
}
