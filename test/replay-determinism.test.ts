/**
 * The same capture gives the same alerts, whatever the machine is doing and however many threads inspect it:
 * `honeywall replay` (the built CLI) of real captures with the whole ET Open 2019 set, in one thread, sharded over
 * worker threads, and sharded again while two busy processes load both cores. Nothing in detection reads a clock,
 * so the outputs must be byte for byte equal (the bench measures how long each takes).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etDir, repoRoot, svDir } from './helpers/corpus.js';

const run = promisify(execFile);
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');
const tests = path.join(svDir, 'tests');
const have = existsSync(etDir) && existsSync(tests);
if (!have) console.warn('[replay-determinism] ../shared/corpus is absent: SKIPPED');

/** The suricata-verify captures (the ones the Snort agreement test uses), in a fixed order. */
function captures(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.pcap')) out.push(p);
    }
  };
  walk(tests);
  return out;
}

async function replay(artifact: string, pcaps: string[], workers: string): Promise<string> {
  const r = await run(process.execPath, [BIN, 'replay', ...pcaps, '--matcher', artifact, '--checksum-mode', 'none', '--workers', workers], {
    maxBuffer: 256 << 20,
  }).catch((e: { stdout?: string; code?: number }) => {
    // damaged captures in the corpus exit 1 with everything before the damage inspected
    if (e.code === 1 && e.stdout !== undefined) return { stdout: e.stdout };
    throw e;
  });
  return r.stdout;
}

describe.skipIf(!have)('replay is deterministic', () => {
  let dir: string;
  let artifact: string;
  let pcaps: string[];
  let single: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hw-determinism-'));
    artifact = path.join(dir, 'et.hwm');
    await run(process.execPath, [
      BIN,
      'compile',
      etDir,
      '--var',
      'HOME_NET=[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]',
      '--var',
      'EXTERNAL_NET=any',
      '--out',
      artifact,
    ]);
    pcaps = captures();
    single = await replay(artifact, pcaps, '0');
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds alerts at all (else the comparisons say nothing)', () => {
    expect(pcaps.length).toBeGreaterThan(50);
    expect(single.split('\n').filter(Boolean).length).toBeGreaterThan(50);
  });

  it('sharded over worker threads: the same alerts in the same order', async () => {
    expect(await replay(artifact, pcaps, '2')).toBe(single);
    expect(await replay(artifact, pcaps, '3')).toBe(single);
  }, 180_000);

  it('with two busy processes loading both cores: the same alerts', async () => {
    const hogs: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' }));
    try {
      expect(await replay(artifact, pcaps, '0')).toBe(single);
      expect(await replay(artifact, pcaps, '2')).toBe(single);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  }, 300_000);
});
