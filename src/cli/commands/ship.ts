/**
 * `honeywall ship --db FILE --store-url URL --sensor NAME [--retry-for S] [--retention-days N] [--store-max-gb G]
 * [--store-keep-days N]`: a store made by
 * `honeywall import` (or a gateway's, stopped) shipped to the central PostgreSQL store with the gateway's shipper
 * (src/store/central/ship.ts): everything above the store's high-water marks, until nothing is left; run again, it
 * ships only what is new. Exit 0 when all is shipped, 1 when rows were refused (counted, passed over), 2 when it could
 * not run (a store it cannot open, the central store unreachable for longer than --retry-for, bad flags). With a
 * bound for the store (as the gateway's HwSTORE_MAX_GB, HwSTORE_KEEP_DAYS), the store is swept to it after everything
 * was shipped (src/store/spool.ts: oldest first, so only shipped rows go).
 */
import type { Command } from 'commander';
import { terminalSafe } from '../../sebek/text.js';
import { checkStoreUrl, errorLine, redactUrl, SENSOR_NAME } from '../../store/central/connect.js';
import { Shipper } from '../../store/central/ship.js';
import { openStore, StoreError } from '../../store/db.js';
import { SpoolBound, type SpoolStats } from '../../store/spool.js';
import { MIN_STORE_BYTES, parseGb } from '../../runtime/gateway-config.js';
import { Option } from '../commander.js';
import { EXIT_FINDINGS, EXIT_OK, UsageError, type CommandContext } from '../program.js';

interface ShipFlags {
  db: string;
  storeUrl?: string;
  sensor?: string;
  retryFor: string;
  retentionDays: string;
  storeMaxGb?: string;
  storeKeepDays?: string;
  batch: string;
  format: 'text' | 'json';
}

function count(text: string, flag: string, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) > max)
    throw new UsageError(`${flag}: a whole number from 0 to ${max}, got '${terminalSafe(text.slice(0, 40))}'`);
  return Number(text);
}

export function registerShip(program: Command, ctx: CommandContext): void {
  program
    .command('ship')
    .description(
      'ship a store (flows, alerts, firewall events, Sebek) to the central PostgreSQL store (exit 0 shipped, 1 rows refused, 2 could not run)',
    )
    .requiredOption('--db <file>', 'the store (SQLite) to ship')
    .option(
      '--store-url <url>',
      'the central store: postgres://USER[:PASS]@HOST[:PORT]/DB[?sslmode=verify-full&sslrootcert=CA]; default $HwSTORE_URL',
    )
    .option('--sensor <name>', 'the sensor name the rows carry centrally; default $HwSENSOR')
    .option('--retry-for <s>', 'keep retrying an unreachable central store this many seconds', '0')
    .option('--retention-days <n>', 'central retention: drop day partitions older than this (0 keeps all); default $HwSTORE_RETENTION_DAYS or 0')
    .option(
      '--store-max-gb <gb>',
      "after shipping, delete the store's oldest rows down to this many GB of pages in use (0: no bound); default $HwSTORE_MAX_GB or 0",
    )
    .option('--store-keep-days <n>', "after shipping, delete the store's rows older than this (0 keeps all); default $HwSTORE_KEEP_DAYS or 0")
    .option('--batch <n>', 'rows per table per statement', '5000')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json']).default('text'))
    .action(async (opts: ShipFlags) => {
      const url = opts.storeUrl ?? process.env.HwSTORE_URL;
      if (url === undefined || url === '') throw new UsageError('give --store-url (or HwSTORE_URL)');
      const bad = checkStoreUrl(url);
      if (bad !== undefined) throw new UsageError(`--store-url: ${bad}`);
      const sensor = opts.sensor ?? process.env.HwSENSOR;
      if (sensor === undefined || !SENSOR_NAME.test(sensor)) throw new UsageError('--sensor (or HwSENSOR): 1 to 64 printable characters, no spaces');
      const retryFor = count(opts.retryFor, '--retry-for', 86_400);
      const keepDays = count(opts.retentionDays ?? process.env.HwSTORE_RETENTION_DAYS ?? '0', '--retention-days', 36_500);
      const batch = Math.max(1, count(opts.batch, '--batch', 50_000));
      const maxBytes = parseGb(opts.storeMaxGb ?? process.env.HwSTORE_MAX_GB ?? '0', MIN_STORE_BYTES);
      if (typeof maxBytes === 'string') throw new UsageError(`--store-max-gb: ${maxBytes}`);
      const localKeepDays = count(opts.storeKeepDays ?? process.env.HwSTORE_KEEP_DAYS ?? '0', '--store-keep-days', 36_500);
      let db;
      try {
        db = openStore(opts.db);
      } catch (e) {
        if (e instanceof StoreError) throw new UsageError(e.message);
        throw e;
      }
      const started = Date.now();
      const shipper = new Shipper(db, {
        url,
        sensor,
        keepDays,
        batch,
        log: (line) => process.stderr.write(`honeywall: ${terminalSafe(line)}\n`),
      });
      let spool: SpoolStats | undefined;
      try {
        try {
          await shipper.drain(retryFor * 1000);
        } catch (e) {
          throw new UsageError(`central store ${redactUrl(url)}: ${errorLine(e)}`);
        }
        // everything is shipped now: the bound deletes shipped rows only (the oldest first)
        if (maxBytes > 0 || localKeepDays > 0) {
          const bound = new SpoolBound(db, { maxBytes, keepDays: localKeepDays }, shipper);
          for (let i = 0; i < 1_000_000 && bound.sweep(); i++);
          spool = bound.measure();
        }
      } finally {
        await shipper.stop();
        db.close();
      }
      const s = shipper.stats;
      const total = Object.values(s.shipped).reduce((a, b) => a + b, 0);
      const seconds = (Date.now() - started) / 1000;
      const deleted = spool === undefined ? 0 : Object.values(spool.deleted).reduce((a, b) => a + b, 0);
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify({ url: redactUrl(url), sensor, seconds, ...s, spool })}\n`);
      else {
        const per = Object.entries(s.shipped)
          .filter(([, n]) => n > 0)
          .map(([t, n]) => `${n} ${t}`)
          .join(', ');
        process.stdout.write(
          `${terminalSafe(
            `shipped ${total} rows (${per || 'nothing new'}) to ${redactUrl(url)} as sensor ${sensor} in ${seconds.toFixed(2)} s` +
              `${s.rejected > 0 ? `; ${s.rejected} rows refused` : ''}${s.truncated > 0 ? `; ${s.truncated} values cut to the bounds` : ''}` +
              `${s.missing > 0 ? `; ${s.missing} records missing from the spool` : ''}` +
              `${spool !== undefined ? `; ${deleted} shipped rows deleted from the store (${(spool.bytes / 1e6).toFixed(1)} MB in use)` : ''}`,
          )}\n`,
        );
      }
      ctx.exitCode = s.rejected > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
