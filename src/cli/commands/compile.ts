/**
 * `honeywall compile [PATH...] [--conf snort.conf] [--var NAME=VALUE]... --out FILE [--report json|text]`: rules ->
 * matcher artifact. Every rule that cannot be compiled is reported with its reason. Exit 0 when every rule compiled,
 * 1 when some did not (the artifact holds the others), 2 when nothing could be done.
 */
import { type Command, Option } from '../commander.js';
import { LoadError, loadRuleSet, type RuleSet } from '../../config/ruleset.js';
import { ResolveError } from '../../config/variables.js';
import { writePackedArtifact } from '../../match/artifact.js';
import { type CompileFailure, compileRuleSet, type CompileResult, type SetReport } from '../../match/compile.js';
import { compilePacked, startCompileWorkerEarly } from '../../match/compile-parallel.js';
import { packedPrefilterRules } from '../../match/packed-rules.js';
import { buildPrefilterAsync } from '../../match/prefilter.js';
import { diagnosticLine } from '../../diagnostics/render.js';
import { EngineUnavailableError, loadEngine } from '../../native/engine.js';
import { PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT, PCRE_STEPS_BASE, PCRE_STEPS_PER_BYTE } from '../../match/budget.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';
import { inputDialectOption } from './input-dialect.js';
import type { InputDialect } from '../../suricata/index.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function compileReport(r: SetReport, compiled: number): Record<string, unknown> {
  const engine = loadEngine();
  return {
    rules: { total: r.total, compiled, failed: r.total - compiled },
    failures: r.failures.map((f) => ({ sid: f.sid ?? null, file: f.file, line: f.line, column: f.column, code: f.code, reason: f.reason })),
    pcre: {
      engine: `PCRE2 ${engine.pcreVersion}`,
      jit: engine.pcreJit,
      patterns: r.pcre.length,
      // What bounds each call at run time: Snort's match limits per start position, and the item's step budget
      // over the whole call (replay --format json and the gateway's status count the times each is reached).
      limits: {
        matchLimit: PCRE_MATCH_LIMIT,
        depthLimit: PCRE_DEPTH_LIMIT,
        stepsPerItem: `${PCRE_STEPS_BASE} + ${PCRE_STEPS_PER_BYTE} per byte inspected`,
      },
      overrideLimit: r.pcre.filter((p) => p.matchLimit !== PCRE_MATCH_LIMIT).map((p) => ({ sid: p.sid, pattern: p.pattern })),
      list: r.pcre.map((p) => ({ sid: p.sid, pattern: p.pattern, matchLimit: p.matchLimit, depthLimit: p.depthLimit })),
    },
    approximated: r.approximated,
  };
}

/** A rule (or event filter line) that did not compile, as lint prints a problem: `file:line:col: error code: reason [sid N]`. */
export function failureLine(f: CompileFailure): string {
  return diagnosticLine({ file: f.file, line: f.line, column: f.column, severity: 'error', code: f.code, message: f.reason, sid: f.sid });
}

/** A load problem as UsageError (the command exits 2), anything else as it is. */
function asUsageError(e: unknown): unknown {
  return e instanceof LoadError || e instanceof ResolveError || e instanceof EngineUnavailableError ? new UsageError(e.message) : e;
}

function usageErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw asUsageError(e);
  }
}

/** The rule set, its files left for the compiler to parse one node at a time (compileFile). */
function loadForCompile(paths: string[], conf: string | undefined, vars: string[], inputDialect?: InputDialect): RuleSet {
  if (paths.length === 0 && !conf) throw new UsageError('nothing to compile: give rule files, directories or --conf');
  return usageErrors(() => loadRuleSet({ paths, conf, vars, deferRuleFiles: true, inputDialect }));
}

/** The address and port variables of a set (recorded in the artifact: the gateway checks its own against them). */
export function headerVariables(set: RuleSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of set.vars.names()) {
    const v = set.vars.get(n)!;
    if (v.kind !== 'var') out[n] = v.value;
  }
  return out;
}

/** Loads and compiles in this thread (`replay --rules`), turning load problems into UsageError. */
export function loadAndCompile(paths: string[], conf: string | undefined, vars: string[], inputDialect?: InputDialect): CompileResult {
  const set = loadForCompile(paths, conf, vars, inputDialect);
  return usageErrors(() => compileRuleSet(set));
}

/**
 * Threads for `honeywall compile`: HONEYWALL_COMPILE_THREADS=1 or 2 sets them (tests, benchmarks); otherwise the
 * compiler decides by the size of the set (compile-parallel.ts). The artifact is the same either way.
 */
function threadsFromEnv(): number | undefined {
  const t = process.env.HONEYWALL_COMPILE_THREADS;
  if (t === undefined || t === '') return undefined;
  if (t !== '1' && t !== '2') throw new UsageError(`HONEYWALL_COMPILE_THREADS must be 1 or 2, got '${t}'`);
  return Number(t);
}

export function registerCompile(program: Command, ctx: CommandContext): void {
  program
    .command('compile')
    .description(
      'compile rules into a matcher artifact loaded by replay and the inline runtime (exit 0 all compiled, 1 some failed, 2 could not run)',
    )
    .argument('[paths...]', 'rule files, directories (all *.rules below), or a snort.conf', [])
    .option('--conf <file>', 'snort.conf whose variables, includes and event filters define the set')
    .option('--var <NAME=VALUE>', 'define or override a variable (repeatable)', collect, [])
    .requiredOption('--out <file>', 'the artifact to write')
    .addOption(new Option('--report <format>', 'report on stdout').choices(['text', 'json']).default('text'))
    .addOption(inputDialectOption())
    .action(async (paths: string[], opts: { conf?: string; var: string[]; out: string; report: 'text' | 'json'; inputDialect: InputDialect }) => {
      const t0 = performance.now();
      const threads = threadsFromEnv();
      // (its start overlaps the load: CompileWorkerLink)
      const worker = startCompileWorkerEarly(paths, threads);
      let set: RuleSet;
      try {
        set = loadForCompile(paths, opts.conf, opts.var, opts.inputDialect);
      } catch (e) {
        worker?.stop();
        throw e;
      }
      const c = await compilePacked(set, { threads, worker }).catch((e: unknown) => {
        throw asUsageError(e);
      });
      if (c.workerError !== undefined)
        process.stderr.write(`honeywall: the compile's worker thread failed (${c.workerError}); its files were compiled in the main thread\n`);
      const r = c.report;
      const compiled = c.rules.count;
      // Hyperscan compiles on libuv's threads while this thread writes the rest
      const prefilter = buildPrefilterAsync(packedPrefilterRules(c.rules));
      let size: number;
      try {
        size = await writePackedArtifact(opts.out, c, { rules: compiled, created: new Date().toISOString(), vars: headerVariables(set) }, prefilter);
      } catch (e) {
        throw new UsageError(`cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const ms = performance.now() - t0;
      if (opts.report === 'json') process.stdout.write(JSON.stringify(compileReport(r, compiled)) + '\n');
      else {
        for (const f of r.failures) process.stdout.write(`${failureLine(f)}\n`);
        process.stdout.write(
          `${r.total} rules: ${compiled} compiled, ${r.total - compiled} failed; pcre: ${r.pcre.length} on PCRE2, match limit ${PCRE_MATCH_LIMIT}; ` +
            `${opts.out}: ${(size / 1048576).toFixed(1)} MiB in ${(ms / 1000).toFixed(2)} s\n`,
        );
      }
      ctx.exitCode = r.failures.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
