/** `honeywall firewall --config FILE [--out DIR] [--check]`: the bridge gateway's firewall (rc.firewall successor). */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readBoundedText } from '../../config/bounded-read.js';
import { hasErrors, loadHoneywallConf, MAX_CONF_BYTES } from '../../config/honeywall-conf.js';
import { renderText } from '../../diagnostics/render.js';
import { APPLY_FILE, emitFirewall, RULES6_FILE, RULES_FILE } from '../../emit/firewall/index.js';
import { checkRestore } from '../../emit/firewall/restore-check.js';
import { writeFilesExclusive } from '../../emit/firewall/write-files.js';
import { EXIT_FINDINGS, UsageError, type CommandContext } from '../program.js';

interface FirewallOptions {
  config: string;
  out?: string;
  check?: boolean;
}

export function registerFirewall(program: Command, ctx: CommandContext): void {
  program
    .command('firewall')
    .description('emit the Honeywall bridge firewall (iptables-restore rules for IPv4 and IPv6, and apply.sh) from honeywall.conf')
    .requiredOption('-c, --config <file>', 'honeywall.conf (roo format: HwVAR=VALUE lines)')
    .option('-o, --out <dir>', `write ${RULES_FILE}, ${RULES6_FILE} and ${APPLY_FILE} into this directory`)
    .option('--check', 'validate the emitted rules with iptables-restore --test / ip6tables-restore --test (needs root)')
    .action((opts: FirewallOptions) => {
      runFirewall(opts, ctx);
    });
}

function runFirewall(opts: FirewallOptions, ctx: CommandContext): void {
  if (!existsSync(opts.config)) throw new UsageError(`${opts.config}: no such config file`);
  const { config, diagnostics } = loadHoneywallConf(opts.config);
  // Only the config's own lines are shown under its diagnostics: a list file it names (HwFWBLACK=/etc/shadow) may be
  // anything, and its diagnostics give a line number and what is wrong, never its text. Control characters in the
  // config's lines are shown as '?' (same width, so the caret stays under the column).
  const got = diagnostics.some((d) => d.file === opts.config) ? readBoundedText(opts.config, MAX_CONF_BYTES) : undefined;
  // eslint-disable-next-line no-control-regex
  const configText = got && 'text' in got ? got.text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?') : undefined;
  process.stderr.write(renderText(diagnostics, (file) => (file === opts.config ? configText : undefined)));
  if (!config || hasErrors(diagnostics)) {
    process.stderr.write(`honeywall firewall: ${diagnostics.filter((d) => d.severity === 'error').length} error(s); nothing written\n`);
    ctx.exitCode = EXIT_FINDINGS;
    return;
  }
  const output = emitFirewall(config);

  if (opts.check) {
    let failed = false;
    for (const [file, family] of [
      [RULES_FILE, 4],
      [RULES6_FILE, 6],
    ] as const) {
      const result = checkRestore(output.files[file]!, family);
      if (result.ok) {
        process.stderr.write(`${file}: ${family === 4 ? 'iptables' : 'ip6tables'}-restore --test: ok\n`);
      } else {
        failed = true;
        process.stderr.write(`${file}:${result.line ?? 1}:1: error restore-check: ${result.message}\n`);
      }
    }
    if (failed) {
      process.stderr.write('honeywall firewall: the rules did not pass the check; nothing written\n');
      ctx.exitCode = EXIT_FINDINGS;
      return;
    }
  }

  if (opts.out) {
    const dir = opts.out;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new UsageError(`${dir}: cannot create output directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      writeFilesExclusive(
        dir,
        Object.entries(output.files).map(([name, text]) => ({ name, text, mode: name === APPLY_FILE ? 0o755 : 0o644 })),
      );
    } catch (err) {
      throw new UsageError(`${dir}: cannot write the firewall files (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    process.stderr.write(
      `honeywall firewall: wrote ${Object.keys(output.files)
        .map((f) => path.join(dir, f))
        .join(', ')}\n`,
    );
  } else if (!opts.check) {
    process.stdout.write(output.files[RULES_FILE]!);
  }
}
