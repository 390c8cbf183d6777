/**
 * Without the native addon (a machine without Debian's libhyperscan-dev / libpcre2-dev / libnetfilter-*-dev, where
 * `npm ci` skips the optional honeywall-native): lint, convert, firewall, sebek and import without rules still work,
 * and compile, replay, run and import with rules refuse with one line naming the Debian packages. The built package is copied to a scratch directory
 * whose node_modules holds every dependency but honeywall-native, so the addon is really absent.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';

const exec = promisify(execFile);

async function hw(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [path.join(dir, 'bin', 'honeywall.js'), ...args], { cwd: dir, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('without the native addon', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hw-no-native-'));
    for (const d of ['dist', 'bin', 'rulesets', 'fixtures']) cpSync(path.join(repoRoot, d), path.join(dir, d), { recursive: true });
    cpSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
    mkdirSync(path.join(dir, 'node_modules'));
    for (const m of readdirSync(path.join(repoRoot, 'node_modules'))) {
      if (m === 'honeywall-native' || m.startsWith('.')) continue;
      symlinkSync(path.join(repoRoot, 'node_modules', m), path.join(dir, 'node_modules', m));
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lint, convert, firewall and sebek work', async () => {
    const lint = await hw(dir, ['lint', 'rulesets/sample-inbound.rules']);
    expect(lint.code, lint.stderr).toBe(0);
    const convert = await hw(dir, ['convert', 'rulesets/sample-inbound.rules', '--honeynet', '--out', 'out']);
    expect(convert.code, convert.stderr).toBe(0);
    const fw = await hw(dir, ['firewall', '--config', 'rulesets/honeywall.conf', '--out', 'fw']);
    expect(fw.code, fw.stderr).toBe(0);
    const sebek = await hw(dir, ['sebek', 'fixtures/sebek/session.pcap', '--format', 'json']);
    expect(sebek.code, sebek.stderr).toBe(0);
    expect(sebek.stdout).toContain('sebek_summary');
  });

  it('import stores flows and Sebek without rules, and refuses rules in one line that names the Debian packages', async () => {
    const imp = await hw(dir, ['import', 'fixtures/sebek/session.pcap', '--db', 'store.sqlite', '--sebek-magic', '0x2a2a2a2a']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/\d+ flows, 0 alerts, \d+ Sebek records/);
    const rules = await hw(dir, ['import', 'fixtures/sebek/session.pcap', '--db', 'store.sqlite', '--rules', 'rulesets/sample-inbound.rules']);
    expect(rules.code).toBe(2);
    expect(rules.stderr.trim().split('\n')).toHaveLength(1);
    expect(rules.stderr).toContain('libhyperscan-dev libpcre2-dev');
  });

  it('compile and replay refuse in one line that names the Debian packages', async () => {
    const compile = await hw(dir, ['compile', 'rulesets/sample-inbound.rules', '--out', 'x.hwm']);
    expect(compile.code).toBe(2);
    expect(compile.stderr.trim().split('\n')).toHaveLength(1);
    expect(compile.stderr).toContain('libhyperscan-dev libpcre2-dev');
    const replay = await hw(dir, ['replay', 'fixtures/quickstart/honeypot-outbound.pcap', '--rules', 'rulesets/sample-inbound.rules']);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toContain('libhyperscan-dev libpcre2-dev');
  });

  it('run refuses, naming what to install', async () => {
    const conf = path.join(dir, 'gw.conf');
    writeFileSync(conf, `HwLOG_DIR=${path.join(dir, 'log')}\nHwCAPTURE=no\nHwSTATUS_FILE=${path.join(dir, 'status.json')}\n`);
    const run = await hw(dir, ['run', '--config', conf, '--allow-empty']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/libnetfilter-queue-dev|libhyperscan-dev/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
