/**
 * `honeywall run --config FILE`: the gateway process. Stays up until SIGTERM/SIGINT; SIGHUP reloads
 * the config and the rules (queues stay bound: no packet is dropped by a reload); SIGUSR1 writes the
 * counters to stderr and the status file.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { Gateway } from '../../runtime/gateway.js';
import { loadGatewayConfig, settingError, type GatewayConfig, type GatewayOverrides } from '../../runtime/gateway-config.js';
import { NoRulesError } from '../../runtime/matcher-loader.js';
import { UsageError, type CommandContext } from '../program.js';

interface RunOptions {
  config: string;
  logDir?: string;
  rules?: string[];
  matcher?: string;
  queueBalance?: string;
  statusFile?: string;
  capture: boolean;
  workers?: string;
  allowEmpty?: boolean;
  store?: string;
}

/**
 * A failure to start, as `file:line:column: error code: message`: at the setting it names (HwIPS_RULES: ...,
 * HwIPS_MATCHER: ...) when it names one, else at the top of the config.
 */
function startError(c: GatewayConfig, err: unknown): string {
  if (err instanceof NoRulesError) return settingError(c.file, c.positions, err.setting, 'no-rules', err.message);
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(?:queue \d+: )?(Hw[A-Z0-9_]+): (.*)$/s.exec(message);
  if (m && c.positions.has(m[1]!)) return settingError(c.file, c.positions, m[1]!, 'cannot-start', m[2]!);
  return `${c.file}:1:1: error cannot-start: ${message}`;
}

function load(file: string, over: GatewayOverrides) {
  const r = loadGatewayConfig(file, over);
  for (const w of r.warnings) process.stderr.write(`${w}\n`);
  return r;
}

export function registerRun(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .description('run the gateway: inline IPS on NFQUEUE, alert and firewall logs, full capture, Sebek, alerting')
    .requiredOption('-c, --config <file>', 'honeywall.conf')
    .option('--log-dir <dir>', 'alert and firewall logs (overrides HwLOG_DIR)')
    .option('--rules <file...>', 'rule files for the IPS (override HwIPS_RULES)')
    .option('--matcher <file>', 'compiled matcher artifact (overrides HwIPS_MATCHER)')
    .option(
      '--queue-balance <first:last>',
      'serve NFQUEUE queues FIRST..LAST, one worker thread each (overrides HwQUEUE_BALANCE; warns when the firewall sends elsewhere)',
    )
    .option('--workers <n>', "worker threads: 'auto' or a number; 0 serves the queues in the main thread")
    .option('--status-file <file>', 'status file (overrides HwSTATUS_FILE)')
    .option('--no-capture', 'do not run the full capture')
    .option('--allow-empty', 'run inline with no rules (every queued packet accepted); refused without it')
    .option('--store <file>', 'fill this analysis store as the gateway runs (overrides HwSTORE)')
    .action(async (opts: RunOptions) => {
      if (!existsSync(opts.config)) throw new UsageError(`--config: ${opts.config}: no such file`);
      const over: GatewayOverrides = {
        logDir: opts.logDir,
        rules: opts.rules,
        matcher: opts.matcher,
        queueBalance: opts.queueBalance,
        statusFile: opts.statusFile,
        noCapture: !opts.capture,
        workers: opts.workers,
        allowEmpty: opts.allowEmpty === true,
        store: opts.store,
      };
      const first = load(opts.config, over);
      if (!first.config) {
        for (const e of first.errors) process.stderr.write(`${e}\n`);
        throw new UsageError(`${opts.config}: ${first.errors.length} error(s) in the config, not started`);
      }
      const gw = new Gateway(first.config);
      try {
        await gw.start();
      } catch (err) {
        await gw.stop().catch(() => undefined);
        process.stderr.write(`${startError(first.config, err)}\n`);
        throw new UsageError(`${opts.config}: not started`);
      }
      const capture = first.config.capture ? `, capture in ${first.config.capture.dir}` : '';
      gw.log(`running (pid ${process.pid}); logs in ${first.config.logDir}${capture}, status in ${first.config.statusFile}`);
      let reloading = Promise.resolve();
      await new Promise<void>((resolve) => {
        const onHup = () => {
          reloading = reloading.then(async () => {
            const r = load(opts.config, over);
            if (!r.config) {
              for (const e of r.errors) process.stderr.write(`${e}\n`);
              gw.reloadErrors++;
              gw.lastReloadError = r.errors[0];
              gw.log('reload refused: the config has errors; still running with the old one');
              return;
            }
            await gw.reload(r.config);
            await gw.writeFreshStatus();
          });
        };
        const onUsr1 = () => {
          void gw.writeFreshStatus().then((s) => {
            process.stderr.write(`${JSON.stringify({ totals: s.totals, capture: s.capture, sebek: s.sebek, alerting: s.alerting })}\n`);
          });
        };
        const onStop = () => {
          process.off('SIGHUP', onHup);
          process.off('SIGUSR1', onUsr1);
          process.off('SIGTERM', onStop);
          process.off('SIGINT', onStop);
          void reloading.then(() => gw.stop()).then(resolve, resolve);
        };
        process.on('SIGHUP', onHup);
        process.on('SIGUSR1', onUsr1);
        process.on('SIGTERM', onStop);
        process.on('SIGINT', onStop);
      });
      gw.log('stopped');
      ctx.exitCode = 0;
    });
}
