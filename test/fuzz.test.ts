/**
 * The short fuzzing run of `npm test` (the long one is `npm run fuzz`): every reader of untrusted input gets about
 * two seconds of generated inputs (fast-check) and mutated seeds, and every input saved by a fuzzing run under
 * test/fixtures/fuzz/<target>/ is replayed. An input may be refused with a diagnostic; it must never make a reader
 * throw, break the diagnostic format, or take over a second of CPU. The seed is printed (HW_FUZZ_SEED=N repeats a run).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTargets, FIXTURE_DIR, TARGETS, type FuzzTarget } from '../src/fuzz/targets.js';
import { mutate, Rng } from '../src/fuzz/mutate.js';

const SEED = process.env.HW_FUZZ_SEED !== undefined ? Number(process.env.HW_FUZZ_SEED) >>> 0 : (Date.now() >>> 0) ^ 0x5bd1e995;
const MS_PER_METHOD = 1000;
const SLOW_MS = 1000;
console.log(`[fuzz] seed ${SEED} (repeat with HW_FUZZ_SEED=${SEED})`);
afterAll(() => cleanupTargets());

/**
 * Known open problems, with why (test/fixtures/fuzz/KNOWN.json): `"target"` means that reader's time is not held to
 * the second yet (a throw still fails), `"target/file"` that a saved input is skipped, not passed. Each is a problem
 * fuzzing found that other work is fixing; remove its line when the fix lands.
 */
const KNOWN: Record<string, string> = JSON.parse(
  existsSync(join(FIXTURE_DIR, 'KNOWN.json')) ? readFileSync(join(FIXTURE_DIR, 'KNOWN.json'), 'utf8') : '{}',
);
for (const [k, why] of Object.entries(KNOWN)) console.log(`[fuzz] known, not held to the bound: ${k}: ${why}`);

/**
 * The input's CPU time (user + system of this process), not its wall time: the machine is shared (other test files,
 * other jobs), and under a load of 10-18 on 2 cores wall time was 3-4x the CPU time of the same run. A hang or a
 * quadratic blow-up shows in CPU time just the same.
 */
function cpuMs(run: () => void): number {
  const c0 = process.cpuUsage();
  run();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/** Runs one input; a throw or a run over a second of CPU (measured twice) fails with the input's size. */
function check(target: FuzzTarget, input: Uint8Array): void {
  if (KNOWN[target.name] !== undefined) {
    target.run(input);
    return;
  }
  let ms = cpuMs(() => target.run(input));
  if (ms > SLOW_MS) ms = cpuMs(() => target.run(input));
  if (ms > SLOW_MS) throw new Error(`${target.name}: ${input.length}-byte input took ${ms.toFixed(0)} ms of CPU`);
}

describe('fuzzing: generated and mutated inputs, a few seconds per reader', () => {
  for (const target of TARGETS) {
    it(`${target.name}: fast-check inputs`, () => {
      fc.assert(
        fc.property(target.arbitrary(), (input) => check(target, input)),
        { seed: SEED | 0, numRuns: 1_000_000, interruptAfterTimeLimit: MS_PER_METHOD, markInterruptAsFailure: false },
      );
    });

    it(`${target.name}: mutated seeds`, () => {
      const rng = new Rng(SEED ^ target.name.length);
      const seeds = target.seeds();
      expect(seeds.length).toBeGreaterThan(0);
      const pool = [...seeds];
      const until = performance.now() + MS_PER_METHOD;
      let n = 0;
      while (performance.now() < until) {
        const input = mutate(rng.pick(pool), rng, target.tokens, seeds);
        try {
          check(target, input);
        } catch (e) {
          throw new Error(
            `${target.name}, seed ${SEED}, mutation ${n}: ${(e as Error).message}\ninput (base64): ${Buffer.from(input).toString('base64').slice(0, 2000)}`,
          );
        }
        if (pool.length < 64) pool.push(input);
        n++;
      }
      expect(n).toBeGreaterThan(0);
    });
  }
});

describe('fuzzing: saved inputs replayed', () => {
  const dirs = existsSync(FIXTURE_DIR) ? readdirSync(FIXTURE_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  const cases: [string, string][] = [];
  for (const d of dirs) for (const f of readdirSync(join(FIXTURE_DIR, d.name)).sort()) cases.push([d.name, f]);
  it('every saved input names a target', () => {
    for (const [t] of cases) expect(TARGETS.map((x) => x.name)).toContain(t);
  });
  for (const [t, f] of cases) {
    const known = KNOWN[`${t}/${f}`];
    (known ? it.skip : it)(`${t}/${f}${known ? ` (known: ${known})` : ''}`, () => {
      check(TARGETS.find((x) => x.name === t)!, new Uint8Array(readFileSync(join(FIXTURE_DIR, t, f))));
    });
  }
});
