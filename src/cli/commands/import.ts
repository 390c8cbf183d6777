/**
 * `honeywall import CAPTURE... --db FILE [--matcher F | --rules R...] [--sebek-magic N]`: captures made elsewhere
 * into the analysis store (src/store/import.ts), so an analyst can work on a laptop. Exit 0 when every capture was
 * imported (or was already), 1 when a capture was damaged (imported up to the damage) or rules did not compile,
 * 2 when it could not run (a path that is not a capture, a store it cannot open or of a newer schema, bad flags).
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { ArtifactError, loadMatcher } from '../../match/artifact.js';
import type { Matcher } from '../../match/engine.js';
import { EngineUnavailableError } from '../../native/engine.js';
import { captureInputProblem } from '../../packet/input-kind.js';
import { SEBEK_DEFAULT_PORT } from '../../sebek/format.js';
import { terminalSafe } from '../../sebek/text.js';
import { openStore, StoreError } from '../../store/db.js';
import { HoneypotSet, PRIVATE_NETS } from '../../store/honeypots.js';
import { Importer, type CaptureImport } from '../../store/import.js';
import { Option } from '../commander.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';
import { matcherInput, type MatcherInput } from './matcher-input.js';
import { inputDialectOption } from './input-dialect.js';
import type { InputDialect } from '../../suricata/index.js';
import { parseMagic, parsePort } from './sebek.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface ImportFlags {
  db: string;
  matcher?: string;
  rules: string[];
  conf?: string;
  var: string[];
  sebekMagic?: string;
  sebekPort: string;
  honeypots: string;
  sensor: string;
  checksumMode: 'all' | 'none';
  format: 'text' | 'json';
  inputDialect: InputDialect;
}

const mb = (n: number) => (n / 1e6).toFixed(1);

function summary(c: CaptureImport): string {
  if (c.status === 'skipped') return `${c.path}: already imported${c.sameAs !== c.path ? ` (as ${c.sameAs})` : ''}, skipped`;
  const rate = c.seconds > 0 ? ` (${mb(c.bytes / c.seconds)} MB/s, ${Math.round(c.packets / c.seconds)} packets/s)` : '';
  const sebek = c.sebekRecords > 0 ? `, ${c.sebekRecords} Sebek records, ${c.socketsLinked} sockets linked to flows` : '';
  return (
    `${c.path}: ${c.rolledBack ? 'an unfinished import removed, then ' : ''}${c.packets} packets (${mb(c.bytes)} MB), ${c.flows} flows, ` +
    `${c.alerts} alerts${sebek} in ${c.seconds.toFixed(2)} s${rate}`
  );
}

export function registerImport(program: Command, ctx: CommandContext): void {
  program
    .command('import')
    .description(
      'import pcap/pcapng captures into the analysis store: flows, alerts (with rules), Sebek records (exit 0 done, 1 captures damaged or rules with problems, 2 could not run)',
    )
    .argument('<captures...>', 'capture files (pcap or pcapng, regular files)')
    .requiredOption('--db <file>', 'the store (SQLite; made if absent, migrated if older)')
    .option('--matcher <file>', 'a compiled matcher artifact: alerts as `replay` raises them')
    .option('--rules <path>', 'rule file, directory or snort.conf (repeatable), compiled first', collect, [])
    .option('--conf <file>', 'snort.conf for variables and includes (with --rules)')
    .option('--var <NAME=VALUE>', 'define or override a variable (repeatable, with --rules)', collect, [])
    .option('--sebek-magic <n>', 'also read Sebek records with this site magic (decimal or 0x hex)')
    .option('--sebek-port <p>', 'Sebek UDP destination port', String(SEBEK_DEFAULT_PORT))
    .option('--honeypots <list>', 'honeypot addresses and networks (spaces or commas): flows get their honeypot and direction', PRIVATE_NETS)
    .option('--sensor <name>', 'sensor name stored with every row', 'import')
    .addOption(
      new Option('--checksum-mode <mode>', "Snort's -k: all = packets with bad checksums are not inspected").choices(['all', 'none']).default('all'),
    )
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json']).default('text'))
    .addOption(inputDialectOption())
    .action(async (captures: string[], opts: ImportFlags) => {
      if (opts.matcher !== undefined && (opts.rules.length > 0 || opts.conf !== undefined))
        throw new UsageError('give either --rules/--conf or --matcher');
      for (const p of captures) {
        const problem = captureInputProblem(p);
        if (problem !== undefined) throw new UsageError(problem);
        if (!statSync(p).isFile()) throw new UsageError(`${p}: not a regular file (an import hashes it and reads it again by offset)`);
      }
      const honeypots = HoneypotSet.parse(opts.honeypots);
      if (typeof honeypots === 'string') throw new UsageError(`--honeypots: ${honeypots}`);
      const sebekMagic = opts.sebekMagic === undefined ? undefined : parseMagic(opts.sebekMagic);
      const sebekPort = parsePort(opts.sebekPort, '--sebek-port');
      if (!/^[\x21-\x7e]{1,64}$/.test(opts.sensor)) throw new UsageError('--sensor: 1 to 64 printable characters, no spaces');
      let problems = 0;
      let input: MatcherInput | undefined;
      let matcher: Matcher | undefined;
      try {
        if (opts.matcher !== undefined || opts.rules.length > 0 || opts.conf !== undefined) {
          input = await matcherInput(opts.matcher, opts.rules, opts.conf, opts.var, opts.inputDialect);
          problems += input.problems;
          matcher = loadMatcher(input.artifact, { checksumMode: opts.checksumMode });
        }
      } catch (e) {
        input?.cleanup();
        if (e instanceof ArtifactError || e instanceof EngineUnavailableError) throw new UsageError(e.message);
        throw e;
      }
      let db;
      try {
        db = openStore(opts.db);
      } catch (e) {
        input?.cleanup();
        if (e instanceof StoreError) throw new UsageError(e.message);
        throw e;
      }
      const results: CaptureImport[] = [];
      try {
        const importer = new Importer(db, {
          inspector: matcher,
          checksumMode: opts.checksumMode,
          honeypots,
          sensor: opts.sensor,
          sebekMagic,
          sebekPort,
        });
        for (const p of captures) {
          const r = await importer.importCapture(p);
          results.push(r);
          for (const w of r.warnings) {
            if (w.damaged) problems++;
            process.stderr.write(`honeywall: ${terminalSafe(w.text)}\n`);
          }
          if (r.error !== undefined) {
            problems++;
            process.stderr.write(`honeywall: ${terminalSafe(r.error.message)} (imported up to there)\n`);
          }
          if (opts.format === 'text') process.stdout.write(`${terminalSafe(summary(r))}\n`);
        }
      } finally {
        db.close();
        input?.cleanup();
      }
      if (opts.format === 'json') {
        const doc = {
          db: opts.db,
          captures: results.map((r) => ({
            path: r.path,
            capture_id: r.captureId,
            status: r.status,
            same_as: r.sameAs,
            rolled_back: r.rolledBack,
            packets: r.packets,
            bytes: r.bytes,
            flows: r.flows,
            alerts: r.alerts,
            sebek_records: r.sebekRecords,
            sockets_linked: r.socketsLinked,
            seconds: r.seconds,
            error: r.error?.message,
            warnings: r.warnings.map((w) => w.text),
            writer: r.writer,
          })),
        };
        process.stdout.write(`${JSON.stringify(doc)}\n`);
      }
      ctx.exitCode = problems > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
