import type { Command } from 'commander';
import { LoadError } from '../../config/ruleset.js';
import { omittedNote } from '../../diagnostics/capped.js';
import type { Severity } from '../../diagnostics/diagnostic.js';
import { renderGithub, renderJson, renderSarif, renderText } from '../../diagnostics/render.js';
import { diffRuleSets, type DiffResult } from '../../lint/diff.js';
import { lintRuleSet } from '../../lint/lint.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';
import { inputDialectOption } from './input-dialect.js';
import type { InputDialect } from '../../suricata/index.js';

const FORMATS = ['text', 'json', 'sarif', 'github'] as const;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerLint(program: Command, ctx: CommandContext): void {
  program
    .command('lint')
    .description('check Snort 2.9 rule files as Snort loads them, plus rule-set checks (exit 0 clean, 1 errors, 2 could not run)')
    .argument('[paths...]', 'rule files or directories (all *.rules below), or a snort.conf', [])
    .option('--conf <file>', 'snort.conf whose variables and includes define the set')
    .option('--var <NAME=VALUE>', 'define or override a variable (repeatable)', collect, [])
    .option('--format <format>', `output format: ${FORMATS.join('|')}`, 'text')
    .option('--diff <base>', 'compare with a git ref or a directory: added/removed/changed sids, rev not bumped')
    .option('--min-severity <severity>', 'hide messages below this severity: info|warning|error', 'info')
    .addOption(inputDialectOption())
    .action(
      (paths: string[], opts: { conf?: string; var: string[]; format: string; diff?: string; minSeverity: string; inputDialect: InputDialect }) => {
        if (!(FORMATS as readonly string[]).includes(opts.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
        const levels = ['info', 'warning', 'error'];
        if (!levels.includes(opts.minSeverity)) throw new UsageError('--min-severity must be info, warning or error');
        if (paths.length === 0 && !opts.conf) throw new UsageError('nothing to lint: give rule files, directories or --conf');
        let result;
        let diff: DiffResult | undefined;
        try {
          result = lintRuleSet({ paths, conf: opts.conf, vars: opts.var, inputDialect: opts.inputDialect });
          if (opts.diff) {
            diff = diffRuleSets(result.set, opts.diff);
            for (const d of diff.diagnostics) result.diagnostics.push(d);
          }
        } catch (e) {
          if (e instanceof LoadError) throw new UsageError(e.message);
          throw e;
        }
        const min = levels.indexOf(opts.minSeverity);
        const shown = result.diagnostics.filter((d) => levels.indexOf(d.severity) >= min);
        // Diagnostics past the limit were counted, not kept: say how many (of the severities asked for).
        const o = result.omitted;
        const omittedShown = { error: o.error, warning: min <= 1 ? o.warning : 0, info: min === 0 ? o.info : 0 };
        const omitted = { shown: omittedShown, total: omittedShown.error + omittedShown.warning + omittedShown.info };
        const note = omittedNote(omittedShown, result.limit);
        const out = process.stdout;
        switch (opts.format) {
          case 'json':
            out.write(
              renderJson(result.summary, shown, {
                ...(diff ? { diff: diff.summary } : {}),
                ...(omitted.total > 0 ? { omitted: omitted.shown } : {}),
              }),
            );
            break;
          case 'sarif':
            out.write(renderSarif(shown, '0.1.0'));
            if (note) process.stderr.write(`honeywall: ${note}`);
            break;
          case 'github':
            out.write(renderGithub(shown));
            if (note) process.stderr.write(`honeywall: ${note}`);
            break;
          default: {
            out.write(renderText(shown, (file) => result.source(file)));
            out.write(note);
            const count = (s: Severity) => result.omitted[s] + result.diagnostics.filter((d) => d.severity === s).length;
            const s = result.summary;
            out.write(
              `${s.files} file${s.files === 1 ? '' : 's'}, ${s.rules.total} rules (${s.rules.enabled} enabled, ${s.rules.disabled} disabled): ${count('error')} errors, ${count('warning')} warnings, ${count('info')} notes\n`,
            );
            if (diff)
              out.write(
                `diff against ${opts.diff}: ${diff.summary.added.length} added, ${diff.summary.removed.length} removed, ${diff.summary.changed.length} changed sids\n`,
              );
          }
        }
        ctx.exitCode = result.errors > 0 ? EXIT_FINDINGS : EXIT_OK;
      },
    );
}
