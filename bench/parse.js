// Parse and lint throughput over the ET Open 2019 corpus, with baselines measured in the same run: suricata-update's
// own lenient regex reader (when the Debian package is installed) and a stand-in of it (one regex for the header,
// options cut at unescaped ';'), which check nothing and build no typed arguments.
// Run: npm run bench (or node bench/parse.js after npm run build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const etDir = resolve(root, '..', 'shared/corpus/rules/et-open-snort-2.9.0-2019-12-04');
if (!existsSync(etDir)) {
  console.log(`parse bench: ${etDir} is absent; skipped`);
  process.exit(0);
}
const { parseRules } = await import(join(root, 'dist/index.js'));
const files = readdirSync(etDir)
  .filter((f) => f.endsWith('.rules'))
  .sort();
const texts = files.map((f) => readFileSync(join(etDir, f), 'utf8'));
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

const HEADER =
  /^(#)*[\s#]*((alert|log|pass|activate|dynamic|drop|reject|sdrop)\s*([^\s]*)\s*[^\s]*\s*[^\s]*\s*([-><]+)\s*[^\s]*\s*[^\s]*)\s*\((.*)\)\s*$/;
function lenientParse(text) {
  const rules = [];
  for (const line of text.split('\n')) {
    const m = HEADER.exec(line);
    if (!m) continue;
    const rule = { enabled: m[1] === undefined, action: m[3], proto: m[4], options: [] };
    let opts = m[6];
    while (opts) {
      let i = 0;
      for (;;) {
        const j = opts.indexOf(';', i);
        if (j === -1) {
          i = opts.length;
          break;
        }
        if (opts[j - 1] === '\\') {
          i = j + 1;
          continue;
        }
        i = j;
        break;
      }
      const opt = opts.slice(0, i).trim();
      opts = opts.slice(i + 1).trim();
      const c = opt.indexOf(':');
      rule.options.push(c === -1 ? { name: opt, value: null } : { name: opt.slice(0, c).trim(), value: opt.slice(c + 1).trim() });
    }
    rules.push(rule);
  }
  return rules;
}

function best(fn, runs = 5) {
  let min = Infinity;
  let out;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    out = fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    min = Math.min(min, ms);
  }
  return { ms: min, out };
}

const base = best(() => texts.reduce((n, t) => n + lenientParse(t).length, 0));
const ours = best(() => texts.reduce((n, t) => n + parseRules(t).file.nodes.filter((x) => x.kind === 'rule').length, 0));
const rate = (n, ms) => Math.round((n / ms) * 1000).toLocaleString('en-US');
console.log(`corpus: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${ours.out} rules (enabled + disabled)`);
console.log(`parse (warm, best of 5):     honeywall ${ours.ms.toFixed(0)} ms = ${rate(ours.out, ours.ms)} rules/s`);
console.log(`baseline lenient regex parse: ${base.ms.toFixed(0)} ms = ${rate(base.out, base.ms)} rules/s (suricata-update style, no checks)`);
console.log(`ratio honeywall / baseline:   ${(ours.ms / base.ms).toFixed(2)}x the time`);

// The whole lint in this (warm) process: what `honeywall lint` costs once V8 has optimized the code.
const { lintRuleSet } = await import(join(root, 'dist/lint/lint.js'));
const warmLint = best(() => lintRuleSet({ paths: [etDir] }).summary.rules.total, 3);
console.log(`lint in process, warm (best of 3): ${warmLint.ms.toFixed(0)} ms = ${rate(warmLint.out, warmLint.ms)} rules/s`);

// Whole processes, interleaved: each round runs `honeywall lint` over the set, the same on an empty file (process start
// and module loading), suricata-update's own reader (the Debian package's suricata.update.rule, run by the system
// Python it is installed for) and a stricter stand-in (the same header regex and option split in plain Python,
// without suricata-update's per-option work: a floor for a Python reader, not a program anyone runs). Rounds are
// interleaved because this machine's speed drifts by up to 1.5x over a minute; best and median of ROUNDS.
const ROUNDS = 7;
const emptyDir = mkdtempSync(join(tmpdir(), 'hw-parse-bench-'));
writeFileSync(join(emptyDir, 'empty.rules'), '');
const systemPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// honeywall as users run it: the `honeywall` command (bin/honeywall, which starts `lint` with settings of its own), with
// this Node first on PATH
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const honeywall = join(root, 'bin/honeywall');
const contenders = [
  { name: 'lint', cmd: honeywall, args: ['lint', etDir, '--format', 'json'] },
  { name: 'empty', cmd: honeywall, args: ['lint', join(emptyDir, 'empty.rules'), '--format', 'json'] },
  { name: 'suricata-update', cmd: systemPython, args: [join(root, 'bench/suricata_update_read.py'), etDir] },
  { name: 'stand-in', cmd: 'python3', args: [join(root, 'bench/lenient_parse.py'), etDir] },
].map((c) => ({ ...c, times: [], status: 0, stdout: '' }));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    if (c.status !== 0 && c.name !== 'lint') continue; // a baseline that cannot run (not installed)
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8', maxBuffer: 1 << 28 });
    c.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    c.status = r.status ?? 1;
    c.stdout = r.stdout;
  }
}
rmSync(emptyDir, { recursive: true, force: true });
const stats = (c) => {
  const t = [...c.times].sort((a, b) => a - b);
  return { best: t[0], median: t[Math.floor(t.length / 2)] };
};
const [lint, start, su, py] = contenders.map((c) => ({ ...c, ...stats(c) }));
const fmt = (c) => `best ${c.best.toFixed(0)} ms, median ${c.median.toFixed(0)} ms`;
console.log(`lint whole process (${ROUNDS} interleaved rounds): ${fmt(lint)} = ${rate(ours.out, lint.best)} rules/s at best (exit ${lint.status})`);
console.log(`  the same on an empty file (process start, module loading): ${fmt(start)}`);
if (su.status === 0) {
  console.log(
    `baseline suricata-update ${suricataUpdateVersion()} reader (suricata.update.rule.parse_file), whole process: ${fmt(su)} (last: ${su.stdout.trim()})`,
  );
  console.log(
    `ratio honeywall lint / suricata-update reader, whole processes: ${(lint.best / su.best).toFixed(2)}x the time at best, ${(lint.median / su.median).toFixed(2)}x at median`,
  );
} else {
  console.log('baseline suricata-update reader: not installed (apt-get install suricata-update); skipped');
}
if (py.status === 0) {
  console.log(`stand-in: its header regex and option split alone in Python 3, whole process: ${fmt(py)} (last: ${py.stdout.trim()})`);
  console.log(
    `ratio honeywall lint / stand-in, whole processes: ${(lint.best / py.best).toFixed(2)}x the time at best, ${(lint.median / py.median).toFixed(2)}x at median`,
  );
}

function suricataUpdateVersion() {
  const r = spawnSync(systemPython, ['-c', 'import suricata.update.version as v; print(v.version)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '(version unknown)';
}
