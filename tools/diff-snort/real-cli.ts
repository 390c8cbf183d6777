/**
 * `npm run diff-snort-real [-- --scenario A[,B] --keep --pcaps DIR]`: real clients and servers talk inside a namespace
 * honeynet (root), each scenario captured by tcpdump, and Snort 2.9.20 and honeywall compared over every capture with
 * ET Open 2019 and the community rules. `--keep` keeps the captures (and Snort's alert file); `--pcaps DIR` compares
 * the captures of a kept run again without making new ones (no root needed). Exit 0 when every capture agrees, 1 when
 * one differs, 2 when the comparison cannot run here.
 *
 * Fixtures (tools/diff-snort/real-fixtures.ts): `--fixture NAME --from CAPTURE --filter 'BPF' --sids A[,B]
 * [--fixtures DIR]` cuts a connection out of a kept capture with the rules of those sids and records Snort's alerts
 * on it (DIR defaults to test/fixtures/diff-snort-real); `--refresh-fixtures DIR` records Snort's alerts again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatRealReport, realMissing, realRuleFiles, realRun } from './real.js';
import { makeRealFixture, readRealFixtures, snortOnFixture } from './real-fixtures.js';
import { countEvents, loadMatcher, multiset, replayEvents } from './honeywall.js';
import { snortMissing } from './snort.js';
import { SCENARIOS } from './real-scenarios.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    keep: { type: 'boolean', default: false },
    pcaps: { type: 'string' },
    fixture: { type: 'string' },
    from: { type: 'string' },
    filter: { type: 'string' },
    sids: { type: 'string' },
    fixtures: { type: 'string', default: 'test/fixtures/diff-snort-real' },
    'refresh-fixtures': { type: 'string' },
  },
});

if (values.fixture !== undefined || values['refresh-fixtures'] !== undefined) {
  const why = snortMissing();
  if (why) {
    console.error(`diff-snort-real: ${why}`);
    process.exit(2);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'diff-snort-real-fx-'));
  try {
    if (values.fixture !== undefined) {
      if (!values.from || !values.filter || !values.sids) {
        console.error('diff-snort-real: --fixture needs --from CAPTURE, --filter BPF and --sids A[,B]');
        process.exit(2);
      }
      const sids = new Set(values.sids.split(',').map(Number));
      const f = await makeRealFixture(values.fixtures, values.fixture, values.from, values.filter, sids, realRuleFiles(), workDir);
      console.log(`${f.dir}: snort [${f.snort}]`);
    } else {
      for (const f of readRealFixtures(values['refresh-fixtures']!)) {
        const snort = await snortOnFixture(f.dir, join(workDir, f.name));
        writeFileSync(join(f.dir, 'snort.txt'), `${snort}\n`);
        const hw = multiset(countEvents(await replayEvents(f.pcap, loadMatcher({ paths: [f.rules] }).matcher)));
        console.log(`${f.name}: snort [${snort}] honeywall [${hw}]${snort === hw ? '' : ' DIFFER'}`);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  process.exit(0);
}

const missing = realMissing(values.pcaps === undefined);
if (missing) {
  console.error(`diff-snort-real: ${missing}`);
  process.exit(2);
}
const scenarios = values.scenario?.split(',');
for (const s of scenarios ?? [])
  if (!SCENARIOS.some((x) => x.name === s)) {
    console.error(`diff-snort-real: unknown scenario ${s} (scenarios: ${SCENARIOS.map((x) => x.name).join(', ')})`);
    process.exit(2);
  }
const workDir = mkdtempSync(join(tmpdir(), 'diff-snort-real-'));
let code = 2;
try {
  const report = await realRun({ workDir, scenarios, pcapDir: values.pcaps, log: (l) => console.log(l) });
  const t = report.seconds;
  console.log(
    `\n${t.total.toFixed(1)} s in all (traffic ${t.traffic.toFixed(1)} s; Snort ${t.snort.toFixed(1)} s and honeywall ${t.honeywall.toFixed(1)} s alongside each other)\n`,
  );
  console.log(formatRealReport(report));
  code = report.scenarios.some((s) => s.differences.length > 0) || report.unassigned.length > 0 ? 1 : 0;
} finally {
  if (values.keep) console.log(`captures and Snort's alerts kept in ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}
process.exit(code);
