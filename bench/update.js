// Benchmark: `honeywall update` of ET Open end to end (sources gathered, policy, convert --honeynet, lint, compile,
// artifact written and renamed into place, state written) against `honeywall convert --honeynet` + `honeywall
// compile` alone, measured in the same run, alternating, as the CLI runs them (one process per command). The issue's
// bound: update under 1.5x convert + compile. ET Open here is the Snort 2.9.0 set of ../shared/corpus (the corpus
// holds no Suricata-format ET set); its files are read with input-dialect auto, as update reads every source.
// Usage: npm run build && node bench/update.js [--runs N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'rules', 'et-open-snort-2.9.0-2019-12-04');
if (!existsSync(corpus)) {
  console.log(`bench/update: ET corpus not found at ${corpus}; skipped`);
  process.exit(0);
}
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg !== -1 ? Number(process.argv[runsArg + 1]) : 3;
// the `honeywall` command as users run it (bin/honeywall: `compile` and `update` start with settings of their own),
// with this Node first on PATH
const BIN = path.join(root, 'bin', 'honeywall');
process.env.PATH = `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const BOUND = 1.5;

const tmp = mkdtempSync(path.join(tmpdir(), 'hw-bench-update-'));
const conf = path.join(tmp, 'update.conf');
writeFileSync(
  conf,
  [
    `source = ${corpus}`,
    'policy = default',
    `artifact = ${path.join(tmp, 'state', 'rules.hwm')}`,
    `cache-dir = ${path.join(tmp, 'cache')}`,
    'input-dialect = auto',
  ].join('\n') + '\n',
);

function cli(args) {
  // exit 1 (some rules not compiled / skipped) is an answer, not a failure of the run
  try {
    execFileSync(BIN, args, { stdio: ['ignore', 'ignore', 'ignore'], cwd: tmp });
  } catch (e) {
    if (e.status !== 1) throw e;
  }
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
function convertCompile() {
  rmSync(path.join(tmp, 'conv'), { recursive: true, force: true });
  cli(['convert', corpus, '--honeynet', '--out', path.join(tmp, 'conv'), '--report', 'json']);
  cli(['compile', path.join(tmp, 'conv'), '--out', path.join(tmp, 'cc.hwm'), '--report', 'json']);
}
function update() {
  cli(['update', '--config', conf, '--report', 'json']);
}

// warm-up (page cache, code caches), then alternating runs; the median of each
convertCompile();
update();
const cc = [];
const up = [];
for (let i = 0; i < runs; i++) {
  cc.push(time(convertCompile));
  up.push(time(update));
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const ratio = median(up) / median(cc);
console.log(
  `update (ET Open, end to end): ${(median(up) / 1000).toFixed(2)} s; convert + compile: ${(median(cc) / 1000).toFixed(2)} s; ` +
    `ratio ${ratio.toFixed(2)} (bound ${BOUND}) [median of ${runs}]`,
);
rmSync(tmp, { recursive: true, force: true });
if (ratio >= BOUND) {
  console.log(`bench/update: ratio ${ratio.toFixed(2)} is over the bound ${BOUND}`);
  process.exitCode = 1;
}
