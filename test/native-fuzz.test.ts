/**
 * The native front's C (decoder, flow table, reassembly, PAF, the parsers' state, defragmentation) built with AddressSanitizer and
 * UndefinedBehaviorSanitizer outside Node and run over every frame of the suricata-verify captures in ../shared, then
 * over the same frames damaged, 200 rounds (native/fuzz/front-fuzz.c): no read or write out of bounds, no use after
 * free, no leak, no undefined behaviour. Needs a C compiler (the Debian packages .ci/run installs) and the corpus
 * (said when absent).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, svDir } from './helpers/corpus.js';

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (name.endsWith('.pcap')) out.push(p);
  }
  return out;
}

const haveCorpus = (() => {
  try {
    return statSync(join(svDir, 'tests')).isDirectory();
  } catch {
    return false;
  }
})();
if (!haveCorpus) console.warn(`[honeywall tests] ${svDir} is absent: the native front's sanitizer run is SKIPPED`);

const work = mkdtempSync(join(tmpdir(), 'hw-front-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the native front under AddressSanitizer and UBSan', () => {
  it.skipIf(!haveCorpus)('decodes and tracks every corpus frame, whole and damaged, without a memory error', () => {
    const src = join(repoRoot, 'native');
    const exe = join(work, 'front-fuzz');
    const units = ['decode', 'flow', 'stream', 'paf', 'app', 'defrag', 'front', 'shard'].map((u) => join(src, 'src', `honeywall_${u}.c`));
    execFileSync('cc', [
      '-DHW_NO_NAPI',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=undefined',
      '-g',
      '-O1',
      join(src, 'fuzz', 'front-fuzz.c'),
      ...units,
      '-lm',
      '-o',
      exe,
    ]);
    const files = captures(join(svDir, 'tests'));
    expect(files.length).toBeGreaterThan(40);
    const r = spawnSync(exe, ['200', ...files], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    expect(r.stderr).not.toMatch(/ERROR|runtime error|SUMMARY/);
    expect(r.status).toBe(0);
    // every round went through every frame
    expect(Number(/(\d+) frames/.exec(r.stdout)?.[1])).toBeGreaterThan(200 * 3000);
  });
});
