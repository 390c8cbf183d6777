/**
 * `honeywall replay PCAP... (--rules PATH... | --matcher FILE) [--conf ..] [--var ..] [--format fast|eve|json]
 * [--checksum-mode all|none] [--out FILE]`: alerts for capture files, as Snort 2.9 raises them. Exit 0 when done,
 * 1 when some rules could not be compiled or a capture is damaged (the rest is still inspected), 2 usage.
 */
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { Command, Option } from '../commander.js';
import { ArtifactError, loadMatcher } from '../../match/artifact.js';
import type { MatchEvent } from '../../match/decide.js';
import { Matcher } from '../../match/engine.js';
import { replayCapture, type ReplayStats } from '../../match/replay.js';
import { alertOf, eveAlert, formatEveAlert, formatFastAlert } from '../../output/alert.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';
import { loadAndCompile } from './compile.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface ReplayFlags {
  rules: string[];
  matcher?: string;
  conf?: string;
  var: string[];
  format: 'fast' | 'eve' | 'json';
  checksumMode: 'all' | 'none';
  out?: string;
}

export function registerReplay(program: Command, ctx: CommandContext): void {
  program
    .command('replay')
    .description('replay pcap/pcapng captures through the matcher and print alerts (exit 0 done, 1 rules or captures with problems, 2 could not run)')
    .argument('<pcaps...>', 'capture files (pcap or pcapng; Ethernet, Linux cooked, raw IP)')
    .option('--rules <path>', 'rule file, directory or snort.conf (repeatable)', collect, [])
    .option('--matcher <file>', 'a compiled matcher artifact (from honeywall compile)')
    .option('--conf <file>', 'snort.conf for variables and includes (with --rules)')
    .option('--var <NAME=VALUE>', 'define or override a variable (repeatable, with --rules)', collect, [])
    .addOption(new Option('--format <format>', 'output format').choices(['fast', 'eve', 'json']).default('fast'))
    .addOption(new Option('--checksum-mode <mode>', "Snort's -k: all = packets with bad checksums are not inspected").choices(['all', 'none']).default('all'))
    .option('--out <file>', 'write alerts to this file instead of stdout')
    .action(async (pcaps: string[], opts: ReplayFlags) => {
      if ((opts.rules.length > 0 || opts.conf) === (opts.matcher !== undefined)) throw new UsageError('give either --rules/--conf or --matcher');
      for (const p of pcaps) if (!existsSync(p)) throw new UsageError(`${p} does not exist`);
      let matcher: Matcher;
      let problems = 0;
      if (opts.matcher) {
        try {
          matcher = loadMatcher(opts.matcher, { checksumMode: opts.checksumMode });
        } catch (e) {
          if (e instanceof ArtifactError) throw new UsageError(e.message);
          throw e;
        }
      } else {
        const r = loadAndCompile(opts.rules, opts.conf, opts.var);
        for (const f of r.failures) process.stderr.write(`honeywall: ${f.file}:${f.line}: ${f.sid !== undefined ? `sid ${f.sid}: ` : ''}${f.reason} (rule not loaded)\n`);
        problems += r.failures.length;
        matcher = new Matcher(r.plan, undefined, { checksumMode: opts.checksumMode });
      }
      let out: NodeJS.WritableStream = process.stdout;
      let file: WriteStream | undefined;
      if (opts.out) {
        file = createWriteStream(opts.out);
        out = file;
      }
      const json: unknown[] = [];
      const stats: ReplayStats = { packets: 0, bytes: 0, items: 0, events: 0 };
      const onEvent = (e: MatchEvent) => {
        const a = alertOf(e);
        if (opts.format === 'fast') out.write(formatFastAlert(a) + '\n');
        else if (opts.format === 'eve') out.write(formatEveAlert(a) + '\n');
        else json.push(eveAlert(a));
      };
      for (const p of pcaps) {
        const err = await replayCapture(p, matcher, { checksumMode: opts.checksumMode }, onEvent, stats);
        if (err) {
          problems++;
          process.stderr.write(`honeywall: ${err.message} (inspected up to there)\n`);
        }
      }
      if (opts.format === 'json') {
        out.write(JSON.stringify({ alerts: json, stats: { ...stats, ...matcher.stats }, limits: matcher.limits.report() }) + '\n');
      }
      if (file) await new Promise<void>((resolve, reject) => file!.end((e?: Error | null) => (e ? reject(e) : resolve())));
      ctx.exitCode = problems > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
