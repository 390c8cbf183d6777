/**
 * `honeywall update` as a pipeline over the existing stages, each called, not copied: sources (fetched, verified,
 * read from their tarballs) -> policy (transform/policy.ts, the operator's files as they are) -> convert for the
 * honeynet (transform/convert.ts, with flowbits resolution) -> lint (lint/lint.ts: any error stops the update) ->
 * compile (match/compile-parallel.ts, the artifact written beside the old one) -> rename into place -> SIGHUP the
 * gateway and confirm from its status file -> state file and summary. Any failure leaves the rules in force as they
 * were: before the rename nothing outside the work directory changed; after it, a failed reload puts the previous
 * artifact back (an atomic rename too). One update at a time (a lock file beside the artifact).
 */
import type { RefusedRule } from '../suricata/translate.js';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { headerVariables } from '../cli/commands/compile.js';
import { LoadError, loadRuleSet } from '../config/ruleset.js';
import { ResolveError } from '../config/variables.js';
import { diagnosticLine } from '../diagnostics/render.js';
import { lintRuleSet } from '../lint/lint.js';
import { writePackedArtifact } from '../match/artifact.js';
import { compilePacked } from '../match/compile-parallel.js';
import { packedPrefilterRules } from '../match/packed-rules.js';
import { buildPrefilterAsync } from '../match/prefilter.js';
import { EngineUnavailableError } from '../native/engine.js';
import { convert, DEFAULT_POLICY_PATH, writeConverted } from '../transform/convert.js';
import { type Policy, PolicyError, readPolicyFile, readPolicyFiles } from '../transform/policy.js';
import { buildReport, type ConvertReport } from '../transform/report.js';
import type { UpdateConfig } from './config.js';
import { UpdateRefused } from './errors.js';
import { type ReloadResult, reloadGateway } from './reload.js';
import { type Download, gatherSources } from './sources.js';
import { diffRules, readState, type RuleDiff, rulesOf, writeState } from './state.js';

export interface UpdateOptions {
  dryRun: boolean;
  offline: boolean;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

export interface UpdateSummary {
  dryRun: boolean;
  downloads: Download[];
  files: number;
  rules: {
    loaded: number;
    enabled: number;
    disabled: number;
    dropped: number;
    modified: number;
    enabledByPolicy: number;
    disabledByPolicy: number;
    flowbitsEnabled: number;
    /** Suricata rules with a keyword the engine has no mapping for (src/suricata): written as comments. */
    untranslated: number;
    byAction: Record<string, number>;
  };
  untranslated: RefusedRule[];
  flowbitsEnabled: { sid: number | undefined; file: string; bits: string[]; checkedBy: string[] }[];
  diff: RuleDiff;
  lint: { errors: number; warnings: number };
  compiled: number;
  artifact: { path: string; bytes: number; installed: boolean };
  reload: ReloadResult | undefined;
  seconds: number;
}

const MAX_DETAILS = 50;

function loadPolicy(cfg: UpdateConfig): Policy {
  try {
    if (cfg.policies.length === 0) return readPolicyFile(DEFAULT_POLICY_PATH, 'rulesets/honeywall-policy.conf');
    return readPolicyFiles(
      cfg.policies.map((p) =>
        p === 'default'
          ? { path: DEFAULT_POLICY_PATH, display: 'rulesets/honeywall-policy.conf' }
          : typeof p === 'string'
            ? { path: p }
            : { path: p.path, ...(p.as !== undefined ? { as: p.as } : {}) },
      ),
    );
  } catch (e) {
    if (e instanceof PolicyError) throw new UpdateRefused(`policy: ${e.message}`, 2);
    throw e;
  }
}

/** Takes the lock (O_EXCL), or refuses when a live process holds it; a dead holder's lock is taken over. */
function lock(file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new UpdateRefused(`cannot create the lock ${file}: ${(e as NodeJS.ErrnoException).code}`, 2);
      const pid = Number(readFileSync(file, 'utf8').trim());
      let alive = false;
      try {
        if (Number.isSafeInteger(pid) && pid > 0) {
          process.kill(pid, 0);
          alive = true;
        }
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
      if (alive) throw new UpdateRefused(`another update is running (pid ${pid}, ${file})`, 2);
      rmSync(file, { force: true });
    }
  }
  throw new UpdateRefused(`cannot take the lock ${file}`, 2);
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function runUpdate(cfg: UpdateConfig, opts: UpdateOptions): Promise<UpdateSummary> {
  const t0 = performance.now();
  const dir = path.dirname(cfg.artifact);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UpdateRefused(`cannot create ${dir}: ${(e as NodeJS.ErrnoException).code}`, 2);
  }
  const unlock = lock(`${cfg.artifact}.update-lock`);
  // The work directory is beside the artifact: the new artifact is renamed into place within one file system.
  const work = mkdtempSync(path.join(dir, '.honeywall-update-'));
  try {
    return await pipeline(cfg, opts, work, t0);
  } finally {
    rmSync(work, { recursive: true, force: true });
    unlock();
  }
}

async function pipeline(cfg: UpdateConfig, opts: UpdateOptions, work: string, t0: number): Promise<UpdateSummary> {
  const inDir = path.join(work, 'in');
  const outDir = path.join(work, 'out');
  mkdirSync(inDir);

  // 1. Sources, each verified before use.
  const gathered = await gatherSources(cfg, inDir, { offline: opts.offline });
  const origin = new Map(gathered.files.map((f) => [path.basename(f.absPath), f.origin]));
  const shown = (file: string) => origin.get(path.basename(file)) ?? file;
  for (const d of gathered.downloads)
    opts.log(`${d.url}: ${d.how === 200 ? `downloaded ${d.bytes} bytes` : d.how === 304 ? 'not modified (cached copy)' : 'offline (cached copy)'}`);

  // 2. + 3. Policy and convert for the honeynet (convert's own code, as `honeywall convert --honeynet` runs it).
  const policy = loadPolicy(cfg);
  const result = convert({
    paths: [inDir],
    cwd: inDir,
    testRules: false,
    policy,
    honeynet: cfg.honeynet,
    literalAddresses: 'keep',
    dialect: 'snort',
    seed: cfg.seed,
    onBadRule: 'keep',
    resolveFlowbits: cfg.resolveFlowbits,
    // Sources that publish Suricata rules go through the Suricata reader (src/suricata); its refused rules are
    // written as comments and counted below, never compiled weakened.
    inputDialect: cfg.inputDialect,
  });
  writeConverted(result, outDir);
  const report: ConvertReport = buildReport(result, {
    policy: policy.file,
    honeynet: cfg.honeynet,
    dialect: 'snort',
    seed: cfg.seed,
    literalAddresses: 'keep',
  });
  opts.log(`converted ${report.totals.rules} rules from ${report.files.length} file(s)`);
  for (const n of cfg.notes) opts.log(`note: ${n}`);
  if (report.untranslated.length > 0)
    opts.log(`${report.untranslated.length} Suricata rule(s) without a mapping to the engine: written as comments, not compiled`);

  // 4. Lint: any error stops the update; the lines name the source file and line (convert keeps lines in place).
  let lint: ReturnType<typeof lintRuleSet>;
  try {
    lint = lintRuleSet({ paths: [outDir], vars: cfg.vars, cwd: outDir });
  } catch (e) {
    if (e instanceof LoadError || e instanceof ResolveError) throw new UpdateRefused(`lint: ${e.message}`, 1);
    throw e;
  }
  const lintErrors = lint.diagnostics.filter((d) => d.severity === 'error');
  if (lint.errors > 0) {
    const details = lintErrors.slice(0, MAX_DETAILS).map((d) => diagnosticLine({ ...d, file: shown(d.file) }));
    if (lint.errors > details.length) details.push(`... ${lint.errors - details.length} more error(s)`);
    throw new UpdateRefused(`lint: ${lint.errors} error(s) in the new rules: refused, the rules in force are unchanged`, 1, details);
  }
  opts.log(`lint: 0 errors, ${lint.diagnostics.filter((d) => d.severity === 'warning').length} warning(s)`);

  // 5. Compile into a new artifact beside the old one.
  const tmp = path.join(work, `${path.basename(cfg.artifact)}.new`);
  let compiled: number;
  let bytes: number;
  try {
    const set = loadRuleSet({ paths: [outDir], vars: cfg.vars, cwd: outDir, deferRuleFiles: true });
    const c = await compilePacked(set, {});
    if (c.report.failures.length > 0) {
      const details = c.report.failures
        .slice(0, MAX_DETAILS)
        .map((f) =>
          diagnosticLine({ file: shown(f.file), line: f.line, column: f.column, severity: 'error', code: f.code, message: f.reason, sid: f.sid }),
        );
      throw new UpdateRefused(`compile: ${c.report.failures.length} rule(s) did not compile: refused, the rules in force are unchanged`, 1, details);
    }
    compiled = c.rules.count;
    const prefilter = buildPrefilterAsync(packedPrefilterRules(c.rules));
    bytes = await writePackedArtifact(tmp, c, { rules: compiled, created: new Date().toISOString(), vars: headerVariables(set) }, prefilter);
    fsyncFile(tmp);
  } catch (e) {
    if (e instanceof LoadError || e instanceof ResolveError || e instanceof EngineUnavailableError)
      throw new UpdateRefused(`compile: ${e.message}`, 2);
    throw e;
  }
  opts.log(`compiled ${compiled} rules (${(bytes / 1048576).toFixed(1)} MiB)`);

  const next = rulesOf(result.files.filter((f) => f.kind === 'rules').map((f) => ({ text: f.text, file: f.input })));
  const diff = diffRules(readState(cfg.stateFile), next);
  const blocking = ['drop', 'sdrop', 'reject'].reduce((n, a) => n + (report.byAction[a] ?? 0), 0);
  const summary: UpdateSummary = {
    dryRun: opts.dryRun,
    downloads: gathered.downloads,
    files: report.files.length,
    rules: {
      loaded: report.totals.rules,
      enabled: lint.summary.rules.enabled,
      disabled: lint.summary.rules.disabled,
      dropped: blocking,
      modified: report.modified.length,
      enabledByPolicy: report.enabled.length,
      // every rule the output writes disabled that the input had enabled (disable lines, or a `disable` policy type)
      disabledByPolicy: report.byAction.disabled ?? 0,
      flowbitsEnabled: report.flowbitsEnabled.length,
      untranslated: report.untranslated.length,
      byAction: report.byAction,
    },
    untranslated: report.untranslated.map((u) => ({ ...u, file: shown(u.file) })),
    flowbitsEnabled: report.flowbitsEnabled.map((r) => ({ sid: r.sid, file: shown(r.file), bits: r.bits, checkedBy: r.checkedBy })),
    diff,
    lint: { errors: 0, warnings: lint.diagnostics.filter((d) => d.severity === 'warning').length },
    compiled,
    artifact: { path: cfg.artifact, bytes, installed: false },
    reload: undefined,
    seconds: 0,
  };
  if (opts.dryRun) {
    summary.seconds = (performance.now() - t0) / 1000;
    return summary;
  }

  // 6. Into place: the old artifact kept as .prev (a hard link), the new one renamed over it (atomic).
  const prev = `${cfg.artifact}.prev`;
  rmSync(prev, { force: true });
  const hadOld = existsSync(cfg.artifact);
  if (hadOld) linkSync(cfg.artifact, prev);
  renameSync(tmp, cfg.artifact);
  fsyncFile(path.dirname(cfg.artifact));
  summary.artifact.installed = true;
  opts.log(`installed ${cfg.artifact}`);

  // 7. The gateway reloads; if it cannot, the previous artifact goes back.
  if (cfg.statusFile) {
    try {
      summary.reload = await reloadGateway(cfg.statusFile, cfg.reloadTimeoutMs);
    } catch (e) {
      if (hadOld) renameSync(prev, cfg.artifact);
      else unlinkSync(cfg.artifact);
      if (e instanceof UpdateRefused) {
        throw new UpdateRefused(
          `${e.message}; ${hadOld ? `the previous ${path.basename(cfg.artifact)} is back in place` : `${cfg.artifact} removed (there was none before)`}`,
          e.exitCode,
          e.details,
        );
      }
      throw e;
    }
    opts.log(summary.reload.detail);
  }
  writeState(cfg.stateFile, next);
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** suricata-update's closing lines, in honeywall's words. */
export function formatSummary(s: UpdateSummary): string {
  const r = s.rules;
  const out: string[] = [];
  out.push(
    `Loaded ${r.loaded} rules from ${s.files} file(s). Enabled ${r.enabled}, disabled ${r.disabled}; dropped ${r.dropped}, modified ${r.modified}, ` +
      `enabled by policy ${r.enabledByPolicy}, disabled by policy ${r.disabledByPolicy}, flowbits-enabled ${r.flowbitsEnabled}.`,
  );
  out.push(
    s.diff.known
      ? `Since the last update: ${s.diff.added.length} added, ${s.diff.removed.length} removed, ${s.diff.changed.length} changed.`
      : 'First update: no earlier state to compare with.',
  );
  if (r.untranslated > 0) {
    out.push(`Suricata rules without a mapping to the engine: ${r.untranslated} (written as comments, not compiled):`);
    for (const u of s.untranslated.slice(0, 20))
      out.push(`  ${u.file}:${u.line}:${u.column}${u.sid !== undefined ? ` sid ${u.sid}` : ''}: ${u.reason}`);
    if (s.untranslated.length > 20) out.push(`  ... ${s.untranslated.length - 20} more (see --report json)`);
  }
  for (const f of s.flowbitsEnabled.slice(0, 20))
    out.push(`  flowbits-enabled: ${f.file} sid ${f.sid}: sets ${f.bits.join(', ')} for ${f.checkedBy.slice(0, 5).join(', ')}`);
  if (s.flowbitsEnabled.length > 20) out.push(`  ... ${s.flowbitsEnabled.length - 20} more (see --report json)`);
  out.push(
    `Compiled ${s.compiled} rules: ${s.artifact.path} (${(s.artifact.bytes / 1048576).toFixed(1)} MiB)${s.dryRun ? ' (dry run: not installed)' : ''}.`,
  );
  if (s.reload) out.push(`Gateway: ${s.reload.detail}.`);
  else if (!s.dryRun) out.push('Gateway: no status-file configured, not signalled.');
  out.push(`Done in ${s.seconds.toFixed(1)} s.`);
  return `${out.join('\n')}\n`;
}
