/**
 * `npm run diff-snort [-- --cases N --seed S --area A[,B] --batch B --jobs J --shrink K --fixtures DIR]`: generated captures and
 * rules through Snort 2.9.20 and honeywall, agreement per area, every disagreement listed, the first ones shrunk.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_AREAS, AREAS, OPT_IN_AREAS, renderRules, type Area } from './case.js';
import { refreshFixtures, writeFixture } from './fixtures.js';
import { diffRun, formatTally } from './run.js';
import { snortMissing } from './snort.js';

const USAGE =
  'usage: npm run diff-snort -- [--cases N] [--seed S] [--area A[,B]] [--batch B] [--jobs J] [--shrink K] [--fixtures DIR] [--keep] [--refresh-fixtures DIR]';
let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (e) {
  console.error(`diff-snort: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
for (const name of ['cases', 'seed', 'batch', 'jobs', 'shrink'] as const) {
  const v = values[name];
  if (!/^\d{1,9}$/.test(v) || (name !== 'seed' && name !== 'shrink' && Number(v) === 0)) {
    console.error(
      `diff-snort: --${name} takes a ${name === 'seed' || name === 'shrink' ? 'non-negative' : 'positive'} integer, not ${JSON.stringify(v)}\n${USAGE}`,
    );
    process.exit(2);
  }
}

function parseOptions() {
  return parseArgs({
    options: {
      cases: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      area: { type: 'string' },
      batch: { type: 'string', default: '500' },
      // two Snort processes at a time keep both cores of the machine this was made on busy (honeywall's side is ~3%)
      jobs: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      help: { type: 'boolean', default: false },
      shrink: { type: 'string', default: '9' },
      fixtures: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'refresh-fixtures': { type: 'string' },
    },
  });
}

const missing = snortMissing();
if (missing) {
  console.error(`diff-snort: ${missing}`);
  process.exit(2);
}
const areas = values.area ? (values.area.split(',') as Area[]) : [...AREAS];
for (const a of areas)
  if (!(ALL_AREAS as readonly string[]).includes(a)) {
    console.error(`diff-snort: unknown area ${a} (areas: ${AREAS.join(', ')}; when named: ${OPT_IN_AREAS.join(', ')})`);
    process.exit(2);
  }
const workDir = mkdtempSync(join(tmpdir(), 'diff-snort-'));
if (values['refresh-fixtures']) {
  // `--refresh-fixtures DIR`: record Snort's output on every fixture of DIR again, and say how honeywall compares
  for (const r of await refreshFixtures(values['refresh-fixtures'], join(workDir, 'refresh')))
    console.log(`${r.name}: ${r.verdict} snort [${r.snort}] honeywall [${r.honeywall}]`);
  rmSync(workDir, { recursive: true, force: true });
  process.exit(0);
}
const report = await diffRun({
  seed: Number(values.seed),
  cases: Number(values.cases),
  areas,
  batchSize: Number(values.batch),
  jobs: Number(values.jobs),
  workDir,
  shrink: Number(values.shrink),
  log: (l) => console.log(l),
});
console.log(
  `\n${report.tally.size} areas, ${Number(values.cases)} cases, seed ${values.seed}: ${report.seconds.total.toFixed(1)} s in all (generating ${report.seconds.generate.toFixed(1)} s, Snort ${report.seconds.snort.toFixed(1)} s over ${report.snortRuns} runs, honeywall ${report.seconds.honeywall.toFixed(1)} s, alongside each other; shrinking ${report.seconds.shrink.toFixed(1)} s)\n`,
);
console.log(formatTally(report));
console.log(`\n${report.disagreements.length} disagreement(s):`);
for (const d of report.disagreements) {
  const r = d.result;
  console.log(`  #${d.drawn.index} ${r.case.area} ${r.verdict}: snort [${r.snort}] honeywall [${r.honeywall}]${r.detail ? ` (${r.detail})` : ''}`);
}
for (const u of report.unanswered) console.log(`  #${u.drawn.index} ${u.result.case.area}: Snort stuck (killed), not compared`);
for (const s of report.shrunk) {
  const r = s.to.result;
  console.log(
    `\nminimal ${r.case.area} ${r.verdict} (from case #${report.disagreements.find((d) => d.result === s.from)?.drawn.index}, ${s.to.rounds} rounds): snort [${r.snort}] honeywall [${r.honeywall}]${r.detail ? ` (${r.detail})` : ''}`,
  );
  for (const line of renderRules(r.case, 0)) console.log(`  ${line}`);
  console.log(`  frames: ${JSON.stringify(r.case.frames)}`);
  if (values.fixtures) console.log(`  fixture: ${writeFixture(values.fixtures, r)}`);
}
if (!values.keep) rmSync(workDir, { recursive: true, force: true });
else console.log(`work files kept in ${workDir}`);
process.exit(report.disagreements.length === 0 ? 0 : 1);
