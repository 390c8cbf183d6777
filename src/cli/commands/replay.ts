/**
 * `honeywall replay PCAP... (--rules PATH... | --matcher FILE) [--conf ..] [--var ..] [--format fast|eve|json]
 * [--checksum-mode all|none] [--workers auto|N] [--out FILE]`: alerts for capture files, as Snort 2.9 raises them.
 * Exit 0 when done, 1 when some rules could not be compiled or a capture is damaged (the rest is still inspected),
 * 2 usage.
 */
import { XBITS_MAX } from '../../match/xbits.js';
import { availableParallelism } from 'node:os';
import { createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from '../commander.js';
import { ArtifactError, loadMatcher, readArtifact, type LoadedArtifact } from '../../match/artifact.js';
import { LimitCounters } from '../../match/budget.js';
import type { MatchEvent } from '../../match/decide.js';
import type { Matcher } from '../../match/engine.js';
import { replayCapture, SHARD_WORKER, ShardedReplay, type CaptureWarning, type ReplayStats } from '../../match/replay.js';
import { captureInputProblem } from '../../packet/input-kind.js';
import { EngineUnavailableError, loadEngine } from '../../native/engine.js';
import type { FlowRecord } from '../../flow/recorder.js';
import { alertOf, eveAlert, eveFlow, formatEveAlert, formatFastAlert, type EventContext } from '../../output/alert.js';
import { defaultSyslogFormat, parseFacility, parseSeverity, parseSyslogTarget, SyslogAlertOutput, SyslogSender } from '../../output/syslog.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';
import { matcherInput, type MatcherInput } from './matcher-input.js';
import { inputDialectOption } from './input-dialect.js';
import type { InputDialect } from '../../suricata/index.js';

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
  workers: string;
  out?: string;
  /** --no-flow-events: false. */
  flowEvents: boolean;
  syslog?: string;
  syslogFacility: string;
  syslogSeverity: string;
  syslogFormat: 'sd' | 'line';
  inputDialect: InputDialect;
  timing?: boolean;
}

/** --syslog TARGET with its facility, severity and format, checked before anything runs. */
function syslogOutput(opts: ReplayFlags): SyslogAlertOutput | undefined {
  if (opts.syslog === undefined) return undefined;
  const target = parseSyslogTarget(opts.syslog);
  if (typeof target === 'string') throw new UsageError(`--syslog: ${target}`);
  const facility = parseFacility(opts.syslogFacility);
  if (typeof facility === 'string') throw new UsageError(`--syslog-facility: ${facility}`);
  const severity = parseSeverity(opts.syslogSeverity);
  if (typeof severity === 'string' && severity !== 'priority') throw new UsageError(`--syslog-severity: ${severity}`);
  const sender = new SyslogSender(target, { log: (line) => process.stderr.write(`honeywall: ${line}\n`) });
  return new SyslogAlertOutput(sender, defaultSyslogFormat({ facility, severity, format: opts.syslogFormat }));
}

/** Captures smaller than this in all are inspected in this thread by `--workers auto` (threads cost more to start). */
const SHARD_MIN_BYTES = 16 << 20;

/** The alert and flow lines gathered before a write to the output (UTF-16 code units, about bytes). */
const OUTPUT_CHUNK = 64 << 10;

/**
 * Worker threads for a replay: `auto` is one per core (at most 8) for captures of 16 MiB or more, else none; 0 and 1
 * inspect in this thread (the output is the same either way). `auto` is 0 when this module runs from its TypeScript
 * source (the tests' in-process CLI), where no compiled worker script exists. Every thread reads the captures, so
 * they must be regular files (not a pipe) to be sharded.
 */
function workersOf(text: string, pcaps: string[]): number {
  let n: number;
  if (text === 'auto') {
    const bytes = pcaps.reduce((sum, p) => sum + statSync(p).size, 0);
    n = bytes >= SHARD_MIN_BYTES && existsSync(fileURLToPath(SHARD_WORKER)) ? Math.min(8, availableParallelism()) : 0;
  } else {
    if (!/^\d+$/.test(text) || Number(text) > 64) throw new UsageError(`--workers must be auto or a number 0..64, got '${text}'`);
    n = Number(text);
  }
  return pcaps.every((p) => statSync(p).isFile()) ? n : 0;
}

/** The --timing line: the seconds the captures took, their packets and bytes of frames, and the rate (MB = 1e6 bytes). */
export function processingTime(seconds: number, stats: Pick<ReplayStats, 'packets' | 'bytes'>): string {
  const rate = seconds > 0 ? ` (${(stats.bytes / 1e6 / seconds).toFixed(1)} MB/s)` : '';
  return `packet processing took ${seconds.toFixed(3)} s: ${stats.packets} packets, ${stats.bytes} bytes of frames${rate}`;
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
    .addOption(
      new Option('--checksum-mode <mode>', "Snort's -k: all = packets with bad checksums are not inspected").choices(['all', 'none']).default('all'),
    )
    .option('--workers <n>', 'worker threads sharing the flows (auto: one per core; 0: this thread); the output is the same', 'auto')
    .option('--out <file>', 'write alerts to this file instead of stdout')
    .option('--no-flow-events', 'with --format eve: no flow events (one per flow, at its end), alerts only')
    .option('--syslog <target>', 'also send each alert to syslog (RFC 5424): /dev/log, unix:PATH, udp:ADDR:PORT, tcp:ADDR:PORT')
    .option('--syslog-facility <name>', 'syslog facility (kern..local7, or 0..23)', 'local5')
    .option('--syslog-severity <name>', "syslog severity: 'priority' (from the rule's priority) or emerg..debug, 0..7", 'priority')
    .addOption(
      new Option('--syslog-format <format>', 'sd: structured data and the alert line; line: the line alone').choices(['sd', 'line']).default('sd'),
    )
    .addOption(inputDialectOption())
    .option('--timing', "print the time the captures' packets took, from the first read to the last alert written (stderr)")
    .action(async (pcaps: string[], opts: ReplayFlags) => {
      if ((opts.rules.length > 0 || opts.conf) === (opts.matcher !== undefined)) throw new UsageError('give either --rules/--conf or --matcher');
      // a path that is not a capture at all (a directory, a rules file) is a usage error before anything runs
      for (const p of pcaps) {
        const problem = captureInputProblem(p);
        if (problem !== undefined) throw new UsageError(problem);
      }
      let workers = workersOf(opts.workers, pcaps);
      const syslog = syslogOutput(opts);
      let problems = 0;
      // The matcher artifact every thread loads: the one given, or the rules compiled into a temporary one.
      let input: MatcherInput | undefined;
      let artifact: string;
      let matcher: Matcher | undefined;
      // read once here (for its checks) and handed to the sharded replay, which would read it again
      let loaded: LoadedArtifact | undefined;
      try {
        input = await matcherInput(opts.matcher, opts.rules, opts.conf, opts.var, opts.inputDialect);
        artifact = input.artifact;
        problems += input.problems;
        if (workers <= 1) matcher = loadMatcher(artifact, { checksumMode: opts.checksumMode });
        else {
          // refuse a bad artifact or a missing engine here, with the reason, before any thread starts
          loaded = readArtifact(artifact);
          const host = loaded.hostXbitsRules;
          loadEngine();
          if (host > 0) {
            // a host's bits are set and checked by flows of every shard: one thread keeps them all
            process.stderr.write(`honeywall: ${host} rule(s) with xbits on a host (track ip_src/ip_dst): replayed in one thread\n`);
            workers = 1;
            matcher = loadMatcher(artifact, { checksumMode: opts.checksumMode });
          }
        }
      } catch (e) {
        input?.cleanup();
        if (e instanceof ArtifactError || e instanceof EngineUnavailableError) throw new UsageError(e.message);
        throw e;
      }
      let out: NodeJS.WritableStream = process.stdout;
      let file: WriteStream | undefined;
      if (opts.out) {
        file = createWriteStream(opts.out);
        out = file;
      }
      const json: unknown[] = [];
      // Lines are written in chunks of about 64 KiB (and at the end of each capture): a write per alert cost the
      // reading thread of a sharded replay a Buffer and a trip through the stream's machinery each, about a third of
      // its time with the bench capture's 14,103 alerts (a profile of that thread).
      let pending = '';
      const writeLine = (line: string) => {
        pending += line;
        if (pending.length >= OUTPUT_CHUNK) flushLines();
      };
      const flushLines = () => {
        if (pending.length === 0) return;
        out.write(pending);
        pending = '';
      };
      const stats: ReplayStats = { packets: 0, bytes: 0, items: 0, events: 0 };
      const flowEvents = opts.format === 'eve' && opts.flowEvents;
      // flows that raised an alert, until their flow event says so (EVE flow.alerted)
      const alerted = new Set<number>();
      // the fast format prints no Community ID: not computed for it (unless syslog sends it)
      const withCommunityId = opts.format !== 'fast' || syslog !== undefined;
      const onEvent = (e: MatchEvent, ctx: EventContext) => {
        const a = alertOf(e, false, false, ctx, withCommunityId);
        if (opts.format === 'fast') writeLine(formatFastAlert(a) + '\n');
        else if (opts.format === 'eve') writeLine(formatEveAlert(a) + '\n');
        else json.push(eveAlert(a));
        syslog?.write(a);
        if (flowEvents && ctx.flowId !== undefined) alerted.add(ctx.flowId);
      };
      const onFlowEnd = (r: FlowRecord) => writeLine(JSON.stringify(eveFlow(r, alerted.delete(r.id))) + '\n');
      const hooks = flowEvents ? { onEvent, onFlowEnd } : { onEvent };
      const limits = new LimitCounters();
      const summed: Record<string, number> = {};
      const warnings: CaptureWarning[] = [];
      let sharded: ShardedReplay | undefined;
      try {
        if (matcher === undefined) {
          // (each thread loads the artifact's databases itself: one that is damaged is found there, and told as above)
          sharded = await ShardedReplay.start(artifact, loaded!, workers, { checksumMode: opts.checksumMode, flowEvents }).catch((e: unknown) => {
            throw e instanceof ArtifactError ? new UsageError(e.message) : e;
          });
        }
        // (--timing: after the matcher is loaded in every thread, up to the last alert handed to the output: the
        // inspection without the load, as bench/match.js takes Snort's packet loop)
        const started = performance.now();
        for (const p of pcaps) {
          const before = warnings.length;
          const err =
            sharded !== undefined
              ? await sharded.run(p, hooks, stats, warnings)
              : await replayCapture(p, matcher!, { checksumMode: opts.checksumMode }, hooks, stats, warnings);
          flushLines();
          for (const w of warnings.slice(before)) {
            if (w.damaged) problems++;
            process.stderr.write(`honeywall: ${w.text}\n`);
          }
          if (err) {
            problems++;
            process.stderr.write(`honeywall: ${err.message} (inspected up to there)\n`);
          }
        }
        if (opts.timing) process.stderr.write(`honeywall: ${processingTime((performance.now() - started) / 1000, stats)}\n`);
      } finally {
        flushLines();
        await sharded?.close();
        input.cleanup();
        await syslog?.close();
      }
      if (syslog !== undefined) {
        const st = syslog.sender.stats;
        if (st.dropped > 0 || st.errors > 0)
          process.stderr.write(
            `honeywall: syslog: ${st.sent} sent, ${st.dropped} dropped, ${st.errors} errors${st.lastError ? ` (${st.lastError})` : ''}\n`,
          );
      }
      const figures = sharded ?? matcher!;
      limits.merge(figures.limits.report(Infinity));
      Object.assign(summed, figures.stats);
      if (opts.format === 'json') {
        const doc: Record<string, unknown> = { alerts: json, stats: { ...stats, ...summed, workers }, limits: limits.report() };
        if (warnings.length > 0) doc.warnings = warnings.map((w) => w.text);
        out.write(JSON.stringify(doc) + '\n');
      }
      if (summed.xbitsEvicted! > 0)
        process.stderr.write(`honeywall: xbits: ${summed.xbitsEvicted} bit(s) dropped from the full table (${XBITS_MAX}) for newer ones\n`);
      if (limits.any > 0) {
        const t = limits.total;
        process.stderr.write(
          `honeywall: work limits reached (those rules did not match there): ${Object.entries(t)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}` + ` (--format json lists the rules)\n`,
        );
      }
      if (file) await new Promise<void>((resolve, reject) => file!.end((e?: Error | null) => (e ? reject(e) : resolve())));
      ctx.exitCode = problems > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
