/**
 * `honeywall compile [PATH...] [--conf snort.conf] [--var NAME=VALUE]... --out FILE [--report json|text]`: rules ->
 * matcher artifact. Every rule that cannot be compiled is reported with its reason. Exit 0 when every rule compiled,
 * 1 when some did not (the artifact holds the others), 2 when nothing could be done.
 */
import { type Command, Option } from '../commander.js';
import { LoadError, loadRuleSet } from '../../config/ruleset.js';
import { ResolveError } from '../../config/variables.js';
import { writeArtifact } from '../../match/artifact.js';
import { type CompileFailure, compileRuleSet, type CompileResult } from '../../match/compile.js';
import { diagnosticLine } from '../../diagnostics/render.js';
import { EngineUnavailableError, loadEngine } from '../../native/engine.js';
import { PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT, PCRE_STEPS_BASE, PCRE_STEPS_PER_BYTE } from '../../match/budget.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function compileReport(r: CompileResult): Record<string, unknown> {
  const ruleFailures = r.failures.filter((f) => f.sid !== undefined || r.total > 0);
  const engine = loadEngine();
  return {
    rules: { total: r.total, compiled: r.plan.rules.length, failed: r.total - r.plan.rules.length },
    failures: ruleFailures.map((f) => ({ sid: f.sid ?? null, file: f.file, line: f.line, column: f.column, code: f.code, reason: f.reason })),
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

/** Loads and compiles, turning load problems into UsageError. `varsOut` receives the address/port variables used. */
export function loadAndCompile(paths: string[], conf: string | undefined, vars: string[], varsOut?: Record<string, string>): CompileResult {
  if (paths.length === 0 && !conf) throw new UsageError('nothing to compile: give rule files, directories or --conf');
  try {
    // The rule files are parsed by the compiler, one node at a time (see compileRuleSet).
    const set = loadRuleSet({ paths, conf, vars, deferRuleFiles: true });
    if (varsOut)
      for (const n of set.vars.names()) {
        const v = set.vars.get(n)!;
        if (v.kind !== 'var') varsOut[n] = v.value;
      }
    return compileRuleSet(set);
  } catch (e) {
    if (e instanceof LoadError || e instanceof ResolveError || e instanceof EngineUnavailableError) throw new UsageError(e.message);
    throw e;
  }
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
    .action(async (paths: string[], opts: { conf?: string; var: string[]; out: string; report: 'text' | 'json' }) => {
      const t0 = performance.now();
      const vars: Record<string, string> = {};
      const r = loadAndCompile(paths, opts.conf, opts.var, vars);
      let size: number;
      try {
        size = await writeArtifact(opts.out, r.plan, { rules: r.plan.rules.length, created: new Date().toISOString(), vars });
      } catch (e) {
        throw new UsageError(`cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const ms = performance.now() - t0;
      if (opts.report === 'json') process.stdout.write(JSON.stringify(compileReport(r)) + '\n');
      else {
        for (const f of r.failures) process.stdout.write(`${failureLine(f)}\n`);
        process.stdout.write(
          `${r.total} rules: ${r.plan.rules.length} compiled, ${r.total - r.plan.rules.length} failed; pcre: ${r.pcre.length} on PCRE2, match limit ${PCRE_MATCH_LIMIT}; ` +
            `${opts.out}: ${(size / 1048576).toFixed(1)} MiB in ${(ms / 1000).toFixed(2)} s\n`,
        );
      }
      ctx.exitCode = r.failures.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
