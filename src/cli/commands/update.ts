/**
 * `honeywall update [--config update.conf] [--dry-run] [--offline] [--report text|json]`: fetch the rule sources,
 * verify them, apply the policy, convert for the honeynet, lint, compile, swap the artifact in and have the gateway
 * reload it (src/update/pipeline.ts). Exit 0 updated (or nothing to tell the gateway), 1 refused because of the
 * input (checksum, hostile archive, lint or compile errors), 2 could not run (config, network, disk, the gateway
 * not confirming); on 1 and 2 the rules in force are the ones before the command.
 */
import { type Command, Option } from '../commander.js';
import { readUpdateConfig, UpdateConfigError } from '../../update/config.js';
import { UpdateRefused } from '../../update/errors.js';
import { formatSummary, runUpdate } from '../../update/pipeline.js';
import { type CommandContext, UsageError } from '../program.js';

interface UpdateFlags {
  config: string;
  dryRun?: boolean;
  offline?: boolean;
  report: 'text' | 'json';
}

export function registerUpdate(program: Command, ctx: CommandContext): void {
  program
    .command('update')
    .description('fetch, verify, convert, lint and compile rule sources, swap the artifact in and reload the gateway (suricata-update successor)')
    .option('-c, --config <file>', 'update.conf', '/etc/honeywall/update.conf')
    .option('--dry-run', 'do everything up to the compiled artifact, then stop: nothing installed, no signal, no state written')
    .option('--offline', 'use the cached downloads only (no network)')
    .addOption(new Option('--report <format>', 'summary on stdout').choices(['text', 'json']).default('text'))
    .action(async (flags: UpdateFlags) => {
      let cfg;
      try {
        cfg = readUpdateConfig(flags.config);
      } catch (e) {
        if (e instanceof UpdateConfigError) {
          for (const l of e.lines) process.stderr.write(`${l}\n`);
          throw new UsageError(`${flags.config}: ${e.lines.length} error(s) in the config, nothing done`);
        }
        throw e;
      }
      const log = (l: string) => process.stderr.write(`honeywall update: ${l}\n`);
      try {
        const s = await runUpdate(cfg, { dryRun: flags.dryRun === true, offline: flags.offline === true, log });
        process.stdout.write(flags.report === 'json' ? `${JSON.stringify({ ok: true, ...s }, null, 2)}\n` : formatSummary(s));
        ctx.exitCode = 0;
      } catch (e) {
        if (!(e instanceof UpdateRefused)) throw e;
        for (const d of e.details) process.stderr.write(`${d}\n`);
        process.stderr.write(`honeywall update: ${e.message}\n`);
        if (flags.report === 'json')
          process.stdout.write(`${JSON.stringify({ ok: false, error: e.message, exitCode: e.exitCode, details: e.details }, null, 2)}\n`);
        ctx.exitCode = e.exitCode;
      }
    });
}
