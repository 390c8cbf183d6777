#!/usr/bin/env node
/**
 * `npm run fuzz [-- --minutes 10] [--targets rules,pcap] [--seed N] [--jobs 1]`: the long fuzzing run over every
 * reader of untrusted input (src/fuzz/targets.ts). Each target runs in a child process of its own, limited to a
 * 1 GiB heap, for its share of the time: generated inputs (fast-check) and mutations of seeds and of earlier inputs.
 * Every input is written to a file before it runs, so one that kills the child (exit 134, a signal) is kept too.
 * Inputs that throw, take over 1 s of CPU time (twice) or crash are saved under test/fixtures/fuzz/<target>/, which the test
 * suite replays. Prints the seeds, then per target: inputs run, the slowest input, the largest RSS, the children
 * restarted, the findings. `--slow-ms N` changes the 1 s bound (to look for slow inputs); HW_FUZZ_FIXTURES saves
 * findings elsewhere. Exit 0 when nothing was found, 1 otherwise.
 *
 * Memory: a child whose RSS is still over `--restart-rss-mb` (768) after a collection is ended and a new one runs
 * the rest of the target's time (with the next seed), so that what a child accumulates over many inputs (garbage
 * the collector has not returned, malloc arenas, a leak) cannot end the run or make later inputs look slow; the
 * restarts are counted per target. An RSS over 1 GiB is still a finding (`rss`), with the input that was running.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SLOW_MS = Number(opts_value('--slow-ms')) || 1000;
const RSS_LIMIT = 1024 * 1024 * 1024;
const RESTART_RSS = (Number(opts_value('--restart-rss-mb')) || 768) * 1024 * 1024;
function opts_value(flag) {
  const i = process.argv.indexOf(flag);
  return i === -1 ? undefined : process.argv[i + 1];
}

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    out[a.slice(2)] = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
  }
  return out;
}

const opts = args(process.argv.slice(2));

if (opts.child) await child(opts);
else await parent(opts);

async function parent(o) {
  const { TARGETS } = await import('../dist/fuzz/targets.js');
  const names = o.targets ? o.targets.split(',') : TARGETS.map((t) => t.name);
  for (const n of names) if (!TARGETS.some((t) => t.name === n)) throw new Error(`unknown target ${n} (${TARGETS.map((t) => t.name).join(', ')})`);
  const total = o.seconds ? Number(o.seconds) : Number(o.minutes ?? 1) * 60;
  const jobs = Math.max(1, Number(o.jobs ?? 1));
  const base = o.seed !== undefined ? Number(o.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  const share = (total * jobs) / names.length;
  console.log(
    `fuzz: ${names.length} targets, ${total} s in all (${share.toFixed(0)} s each, ${jobs} at a time), base seed ${base} (again: --seed ${base})`,
  );
  const tmp = mkdtempSync(join(tmpdir(), 'hw-fuzz-'));
  const results = [];
  const queue = names.map((name, i) => ({ name, seed: (base + i * 0x9e3779b1) >>> 0 }));
  const runOne = async ({ name, seed }) => {
    const current = join(tmp, `${name}.current`);
    const t0 = Date.now();
    const until = t0 + share * 1000;
    const total = { name, seed, inputs: 0, maxMs: 0, slowestBytes: 0, maxRssMb: 0, restarts: 0, findings: [] };
    // one child after another until the target's time is used: a child ends early (restart) when its memory stays high
    for (let child = 0; ; child++) {
      const left = (until - Date.now()) / 1000;
      if (child > 0 && left < 1) break;
      const childSeed = child === 0 ? seed : (seed ^ Math.imul(child, 0x85ebca6b)) >>> 0;
      const r = await runChild(name, childSeed, Math.max(left, 1), current);
      const last = r.out.trim().split('\n').pop() ?? '';
      let stats;
      try {
        stats = JSON.parse(last);
      } catch {
        stats = { inputs: 0, maxMs: 0, maxRssMb: 0, findings: [] };
      }
      total.inputs += stats.inputs;
      if (stats.maxMs > total.maxMs) {
        total.maxMs = stats.maxMs;
        total.slowestBytes = stats.slowestBytes ?? 0;
      }
      total.maxRssMb = Math.max(total.maxRssMb, stats.maxRssMb);
      total.findings.push(...stats.findings);
      if (r.code !== 0 || r.signal) {
        const { saveFixture } = await import('../dist/fuzz/targets.js');
        let input = new Uint8Array(0);
        try {
          input = new Uint8Array(readFileSync(current));
        } catch {}
        const file = saveFixture(name, 'crash', input);
        total.findings.push({
          kind: 'crash',
          detail: `child ended with ${r.signal ?? `exit ${r.code}`} after ${((Date.now() - t0) / 1000).toFixed(0)} s`,
          file,
        });
        break;
      }
      if (!stats.restart) break;
      total.restarts++;
    }
    results.push(total);
    console.log(line(total));
  };
  const workers = Array.from({ length: jobs }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
  });
  await Promise.all(workers);
  rmSync(tmp, { recursive: true, force: true });
  const all = results.reduce(
    (a, s) => ({
      inputs: a.inputs + s.inputs,
      maxMs: Math.max(a.maxMs, s.maxMs),
      maxRssMb: Math.max(a.maxRssMb, s.maxRssMb),
      restarts: a.restarts + s.restarts,
      findings: a.findings + s.findings.length,
    }),
    { inputs: 0, maxMs: 0, maxRssMb: 0, restarts: 0, findings: 0 },
  );
  console.log(
    `total: ${all.inputs} inputs, slowest input ${all.maxMs.toFixed(1)} ms, largest RSS ${all.maxRssMb} MB, ${all.restarts} child restarts (memory), ${all.findings} findings`,
  );
  console.log(
    `json: ${JSON.stringify(results.map(({ name, seed, inputs, maxMs, maxRssMb, restarts, findings }) => ({ name, seed, inputs, maxMs: Math.round(maxMs * 10) / 10, maxRssMb, restarts, findings: findings.length })))}`,
  );
  process.exitCode = all.findings > 0 ? 1 : 0;
}

/** One child process fuzzing `name` for `seconds`; its stdout (the last line is its JSON stats) and how it ended. */
function runChild(name, seed, seconds, current) {
  return new Promise((resolve) => {
    const c = spawn(
      process.execPath,
      [
        '--max-old-space-size=1024',
        // a collection before deciding that the child's memory stays high
        '--expose-gc',
        join(here, 'fuzz.js'),
        '--child',
        name,
        '--seconds',
        String(seconds),
        '--seed',
        String(seed),
        '--current',
        current,
        '--slow-ms',
        String(SLOW_MS),
        '--restart-rss-mb',
        String(RESTART_RSS / 1048576),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

function line(s) {
  const f = s.findings.length === 0 ? 'no findings' : s.findings.map((x) => `${x.kind}: ${x.detail}${x.file ? ` (${x.file})` : ''}`).join('; ');
  return `${s.name.padEnd(15)} seed ${String(s.seed).padEnd(10)} ${String(s.inputs).padStart(9)} inputs  slowest ${s.maxMs.toFixed(1).padStart(7)} ms (${s.slowestBytes ?? 0} bytes)  RSS max ${String(s.maxRssMb).padStart(4)} MB  ${s.restarts} restarts  ${f}`;
}

async function child(o) {
  const fc = (await import('fast-check')).default;
  const { TARGETS, saveFixture, cleanupTargets } = await import('../dist/fuzz/targets.js');
  const { Rng, mutate } = await import('../dist/fuzz/mutate.js');
  const target = TARGETS.find((t) => t.name === o.child);
  const seed = Number(o.seed) >>> 0;
  const until = Date.now() + Number(o.seconds) * 1000;
  const fd = openSync(o.current, 'w');
  const rng = new Rng(seed);
  const seeds = target.seeds();
  const pool = [...seeds];
  const arb = target.arbitrary();
  const stats = { name: target.name, seed, inputs: 0, maxMs: 0, maxRssMb: 0, findings: [] };
  const seen = new Set();
  const finding = (kind, detail, input) => {
    const key = `${kind}:${detail.slice(0, 120)}`;
    if (seen.has(key) || stats.findings.length >= 20) return;
    seen.add(key);
    stats.findings.push({ kind, detail, file: saveFixture(target.name, kind, input) });
  };
  // CPU time (user + system) of the input, not wall time: on a shared machine wall time is 3-4x CPU time under load,
  // which would make inputs look slow that are not (test/fuzz.test.ts holds the suite to the same measure)
  const cpuMs = (c0) => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const timed = (input) => {
    const c0 = process.cpuUsage();
    try {
      target.run(input);
    } catch (e) {
      return { ms: cpuMs(c0), error: e };
    }
    return { ms: cpuMs(c0) };
  };
  const one = (input) => {
    writeSync(fd, input, 0, input.length, 0);
    ftruncateSync(fd, input.length);
    let r = timed(input);
    // (a collection can stretch one run: a slow input must be slow twice)
    if (!r.error && r.ms > SLOW_MS) r = timed(input);
    stats.inputs++;
    if (r.ms > stats.maxMs) {
      stats.maxMs = r.ms;
      stats.slowestBytes = input.length;
    }
    if (r.error) finding('throw', `${r.error?.name}: ${String(r.error?.message).slice(0, 200)}`, input);
    else if (r.ms > SLOW_MS) finding('slow', `${r.ms.toFixed(0)} ms`, input);
    if ((stats.inputs & 63) === 0) {
      let rss = process.memoryUsage.rss();
      stats.maxRssMb = Math.max(stats.maxRssMb, Math.round(rss / 1048576));
      if (rss > RSS_LIMIT) finding('rss', `${Math.round(rss / 1048576)} MB after ${stats.inputs} inputs`, input);
      if (rss > RESTART_RSS) {
        globalThis.gc?.();
        rss = process.memoryUsage.rss();
        // still over after a collection: this child's memory stays; the parent starts a new one
        if (rss > RESTART_RSS) stats.restart = true;
      }
    }
    if (pool.length < 256) pool.push(input);
    else if (rng.chance(8)) pool[rng.below(pool.length)] = input;
  };
  let round = 0;
  while (Date.now() < until && !stats.restart) {
    round++;
    // Generated inputs (fast-check), then mutations of seeds and earlier inputs.
    for (const input of fc.sample(arb, { seed: (seed + round) | 0, numRuns: 50 })) if (!stats.restart) one(input);
    for (let k = 0; k < 200 && Date.now() < until && !stats.restart; k++)
      one(mutate(rng.pick(rng.chance(4) ? seeds : pool), rng, target.tokens, seeds));
  }
  closeSync(fd);
  cleanupTargets();
  stats.maxRssMb = Math.max(stats.maxRssMb, Math.round(process.memoryUsage().rss / 1048576));
  stats.maxMs = Math.round(stats.maxMs * 10) / 10;
  process.stdout.write(JSON.stringify(stats) + '\n');
}
