/**
 * A diff-snort run: draw cases, run them in batches through Snort and honeywall, tally agreement per area, shrink
 * the first disagreements of each kind. Used by the command (cli.ts) and by the fixed-seed slice in the tests.
 */
import { join } from 'node:path';
import { ALL_AREAS, AREAS, type Area } from './case.js';
import { disagrees, runBatch, unanswered, type CaseResult } from './batch.js';
import { drawCases, type Drawn } from './generate.js';
import { DEFAULT_SHRINK, shrinkCase, type Shrunk } from './shrink.js';

export interface RunOptions {
  seed: number;
  cases: number;
  areas?: readonly Area[];
  batchSize: number;
  workDir: string;
  /** Disagreements shrunk at most, in all (the first of each area and verdict first). */
  shrink: number;
  /** Batches run at the same time (default 1). */
  jobs?: number;
  log?: (line: string) => void;
}

export interface AreaTally {
  cases: number;
  agree: number;
  differ: number;
  /** Differences Snort's own random order explains (order.ts): counted as agreement. */
  snortOrder: number;
  snortRefused: number;
  honeywallRefused: number;
  bothRefused: number;
  snortHung: number;
}

export interface RunReport {
  tally: Map<Area, AreaTally>;
  disagreements: { drawn: Drawn; result: CaseResult }[];
  /** Cases Snort got stuck on. */
  unanswered: { drawn: Drawn; result: CaseResult }[];
  shrunk: { from: CaseResult; to: Shrunk }[];
  seconds: { total: number; generate: number; snort: number; honeywall: number; shrink: number };
  snortRuns: number;
}

export async function diffRun(o: RunOptions): Promise<RunReport> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const drawn = drawCases(o.seed, o.cases, o.areas ?? AREAS);
  const tGen = (performance.now() - t0) / 1000;
  log(`generated ${drawn.length} cases in ${tGen.toFixed(1)} s (seed ${o.seed})`);
  const tally = new Map<Area, AreaTally>();
  const report: RunReport = {
    tally,
    disagreements: [],
    unanswered: [],
    shrunk: [],
    seconds: { total: 0, generate: tGen, snort: 0, honeywall: 0, shrink: 0 },
    snortRuns: 0,
  };
  const batches = Math.ceil(drawn.length / o.batchSize);
  // Batches run `jobs` at a time, each in its own directory (one Snort process each: Snort inspects in one thread),
  // and are tallied in batch order, so the report does not depend on which finished first.
  const jobs = Math.max(1, Math.min(o.jobs ?? 1, batches));
  const started: Promise<Awaited<ReturnType<typeof runBatch>>>[] = [];
  const slotFree: Promise<unknown>[] = [];
  const start = (b: number): void => {
    const part = drawn.slice(b * o.batchSize, (b + 1) * o.batchSize);
    const dir = join(o.workDir, `batch-${b % jobs}`);
    const previous = slotFree[b % jobs] ?? Promise.resolve();
    const p = previous.then(() =>
      runBatch(
        part.map((d) => d.value.value),
        dir,
      ),
    );
    slotFree[b % jobs] = p.catch(() => undefined);
    started.push(p);
  };
  for (let b = 0; b < batches; b++) start(b);
  for (let b = 0; b < batches; b++) {
    const part = drawn.slice(b * o.batchSize, (b + 1) * o.batchSize);
    const { results, times } = await started[b]!;
    report.seconds.snort += times.snortSeconds;
    report.seconds.honeywall += times.honeywallSeconds;
    report.snortRuns += times.snortRuns;
    results.forEach((r, i) => {
      const t = tally.get(r.case.area) ?? {
        cases: 0,
        agree: 0,
        differ: 0,
        snortOrder: 0,
        snortRefused: 0,
        honeywallRefused: 0,
        bothRefused: 0,
        snortHung: 0,
      };
      t.cases++;
      if (r.verdict === 'agree') t.agree++;
      else if (r.verdict === 'differ') t.differ++;
      else if (r.verdict === 'snort-order') t.snortOrder++;
      else if (r.verdict === 'snort-refused') t.snortRefused++;
      else if (r.verdict === 'honeywall-refused') t.honeywallRefused++;
      else if (r.verdict === 'snort-hung') t.snortHung++;
      else t.bothRefused++;
      tally.set(r.case.area, t);
      if (disagrees(r)) report.disagreements.push({ drawn: part[i]!, result: r });
      if (unanswered(r)) report.unanswered.push({ drawn: part[i]!, result: r });
    });
    log(
      `batch ${b + 1}/${batches}: ${part.length} cases, ${results.filter(disagrees).length} disagreements, Snort ${times.snortSeconds.toFixed(1)} s (${times.snortRuns} runs), honeywall ${times.honeywallSeconds.toFixed(1)} s, ${((performance.now() - t0) / 1000).toFixed(0)} s so far`,
    );
  }
  const tShrink = performance.now();
  // one shrink per area and verdict first, then more of the same while the budget lasts
  const seen = new Set<string>();
  const order = [...report.disagreements].sort((a, b) => {
    const ka = `${a.result.case.area}/${a.result.verdict}`;
    const kb = `${b.result.case.area}/${b.result.verdict}`;
    const fa = seen.has(ka) ? 1 : (seen.add(ka), 0);
    const fb = seen.has(kb) ? 1 : (seen.add(kb), 0);
    return fa - fb;
  });
  const firsts = new Set<string>();
  const picked = order.filter((d) => {
    const k = `${d.result.case.area}/${d.result.verdict}`;
    if (firsts.has(k)) return false;
    firsts.add(k);
    return true;
  });
  for (const d of [...picked, ...order.filter((x) => !picked.includes(x))].slice(0, o.shrink)) {
    const to = await shrinkCase(d.drawn.arb, d.drawn.value, d.result, join(o.workDir, 'shrink'), DEFAULT_SHRINK);
    report.snortRuns += to.snortRuns;
    report.shrunk.push({ from: d.result, to });
    log(`shrunk a ${d.result.case.area} ${d.result.verdict} case in ${to.rounds} rounds`);
  }
  report.seconds.shrink = (performance.now() - tShrink) / 1000;
  report.seconds.total = (performance.now() - t0) / 1000;
  return report;
}

/**
 * Agreement among the cases both engines ran (a case Snort got stuck on has no answer to agree with); a difference
 * Snort's own random order explains is Snort's answer for that run, which honeywall's model reaches.
 */
export function agreementOf(t: AreaTally): number {
  const judged = t.cases - t.snortHung;
  return judged === 0 ? 1 : (t.agree + t.snortOrder + t.bothRefused) / judged;
}

export function formatTally(r: RunReport): string {
  const rows = [...r.tally.entries()].sort(([a], [b]) => ALL_AREAS.indexOf(a) - ALL_AREAS.indexOf(b));
  const lines = ['area           cases   agree  differ  snort-order  snort-refused  honeywall-refused  both-refused  snort-hung  agreement'];
  let all = 0;
  let ok = 0;
  let hung = 0;
  for (const [area, t] of rows) {
    all += t.cases;
    ok += t.agree + t.snortOrder + t.bothRefused;
    hung += t.snortHung;
    lines.push(
      `${area.padEnd(14)} ${String(t.cases).padStart(5)} ${String(t.agree).padStart(7)} ${String(t.differ).padStart(7)} ${String(t.snortOrder).padStart(12)} ${String(t.snortRefused).padStart(14)} ${String(t.honeywallRefused).padStart(18)} ${String(t.bothRefused).padStart(13)} ${String(t.snortHung).padStart(11)}  ${(100 * agreementOf(t)).toFixed(2)}%`,
    );
  }
  lines.push(
    `${'all'.padEnd(14)} ${String(all).padStart(5)} ${String(ok).padStart(7)}${' '.repeat(89)}${(all - hung ? (100 * ok) / (all - hung) : 100).toFixed(2)}%`,
  );
  return lines.join('\n');
}
