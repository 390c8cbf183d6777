// Benchmark: `honeywall convert` over the whole ET Open 2019 corpus, against a baseline measured in the same run
// (parse + print without changes, i.e. what any lossless rewrite costs). Plain Node, importing the built library.
// Usage: npm run build && node bench/convert.js [--runs N]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRules } from '../dist/parser/parse.js';
import { printRules } from '../dist/parser/print.js';
import { convertRuleText, DEFAULT_POLICY_PATH } from '../dist/transform/convert.js';
import { readPolicyFile } from '../dist/transform/policy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.resolve(root, '..', 'shared', 'corpus', 'rules', 'et-open-snort-2.9.0-2019-12-04');
if (!existsSync(corpus)) {
  console.log(`bench/convert: ET corpus not found at ${corpus}; skipped`);
  process.exit(0);
}
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg !== -1 ? Number(process.argv[runsArg + 1]) : 5;
const files = readdirSync(corpus)
  .filter((f) => f.endsWith('.rules'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(path.join(corpus, f), 'utf8') }));
const bytes = files.reduce((n, f) => n + f.text.length, 0);
const policy = readPolicyFile(DEFAULT_POLICY_PATH);
const opts = { policy, honeynet: true, literalAddresses: 'keep', dialect: 'snort', seed: 0, onBadRule: 'keep' };

function baseline() {
  let out = 0;
  for (const f of files) out += printRules(parseRules(f.text, { file: f.name }).file).length;
  return out;
}
function convertAll() {
  let out = 0;
  let rules = 0;
  for (const f of files) {
    const r = convertRuleText(f.text, f.name, { path: f.name, basename: f.name }, opts);
    out += r.text.length;
    rules += r.outcomes.length;
  }
  return { out, rules };
}
function time(fn) {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, v };
}
// Warm-up (JIT), then the median of `runs`.
baseline();
convertAll();
const base = [];
const conv = [];
let rules = 0;
for (let i = 0; i < runs; i++) {
  base.push(time(baseline).ms);
  const c = time(convertAll);
  conv.push(c.ms);
  rules = c.v.rules;
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const b = median(base);
const c = median(conv);
console.log(
  `convert ET Open 2019 (${files.length} files, ${rules} rules, ${(bytes / 1e6).toFixed(1)} MB), --honeynet, default policy; median of ${runs}`,
);
console.log(`  baseline parse+print : ${b.toFixed(0)} ms`);
console.log(
  `  convert              : ${c.toFixed(0)} ms  (convert's own work: ${(c - b).toFixed(0)} ms, ${((c / b - 1) * 100).toFixed(0)}% over baseline)`,
);
console.log(`  target < 1000 ms     : ${c < 1000 ? 'met' : 'NOT met'}`);

// The same job as a user runs it: the CLI, process start and file writing included (cold: no warm-up).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
const out = mkdtempSync(path.join(tmpdir(), 'hw-convert-bench-'));
let best = Infinity;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  // the `honeywall` command as users run it (bin/honeywall: `convert` starts with settings of its own), this Node on PATH
  const r = spawnSync(path.join(root, 'bin/honeywall'), ['convert', corpus, '--honeynet', '--out', out, '--report', 'json'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) console.log(`  (convert CLI exited ${r.status})`);
  best = Math.min(best, ms);
}
rmSync(out, { recursive: true, force: true });
console.log(`  CLI, whole process   : ${best.toFixed(0)} ms (best of 3; process start, cold JIT and writing ${files.length} files included)`);
