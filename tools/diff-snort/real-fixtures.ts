/**
 * Regression fixtures cut from real captures: one connection (a tcpdump filter over a capture of `diff-snort-real
 * --keep`) and the rules that showed a difference on it, with Snort 2.9.20's recorded alerts. A fixture directory
 * holds capture.pcap, case.rules (the rules with base.conf's variables written out, so honeywall replays them without
 * base.conf and Snort loads them after it alike) and snort.txt (the gid:sid multiset). test/diff-snort-real.test.ts
 * replays them through honeywall; no Snort, root or corpus is needed for that.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countEvents, multiset } from './honeywall.js';
import { runSnort, SNORT_BASE_CONF, writeConf } from './snort.js';

export interface RealFixture {
  name: string;
  dir: string;
  pcap: string;
  rules: string;
  snort: string;
}

/** base.conf's `var`/`ipvar`/`portvar` values, with variables inside them written out. */
export function confVariables(confText: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of confText.split('\n')) {
    const m = /^\s*(?:var|ipvar|portvar)\s+(\w+)\s+(\S+)\s*$/.exec(line);
    if (m) vars.set(m[1]!, resolveVars(m[2]!, vars));
  }
  return vars;
}

/** Each `$NAME` (the whole word) replaced by its value; unknown ones stay. */
export function resolveVars(text: string, vars: Map<string, string>): string {
  return text.replace(/\$(\w+)/g, (whole, name: string) => vars.get(name) ?? whole);
}

/** The rules with these sids, out of rule files (commented-out rules are not taken). */
export function rulesBySid(files: readonly string[], sids: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (const f of files)
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^\s*(?:alert|drop|pass|log|sdrop|reject)\s.*[;(\s]sid\s*:\s*(\d+)\s*;/.exec(line);
      if (m && sids.has(Number(m[1]))) out.push(line.trim());
    }
  return out;
}

/** Snort's multiset on a fixture's capture and rules (base.conf, then case.rules). */
export async function snortOnFixture(dir: string, workDir: string): Promise<string> {
  mkdirSync(workDir, { recursive: true });
  const conf = writeConf(workDir, [join(dir, 'case.rules')]);
  const r = await runSnort(join(workDir, 'snort'), conf, [join(dir, 'capture.pcap')]);
  if (r.failed || r.refused || r.hung !== undefined) throw new Error(`Snort did not run on ${dir}: ${r.failed ?? r.refused?.message ?? r.hung}`);
  return multiset(countEvents(r.alerts));
}

/** Cuts a connection out of a capture (a tcpdump filter) with the rules of `sids`, and records Snort's alerts on it. */
export async function makeRealFixture(
  root: string,
  name: string,
  capture: string,
  filter: string,
  sids: ReadonlySet<number>,
  ruleFiles: readonly string[],
  workDir: string,
): Promise<RealFixture> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('tcpdump', ['-Z', 'root', '-r', capture, '-w', join(dir, 'capture.pcap'), filter], { stdio: 'ignore' });
  const vars = confVariables(readFileSync(SNORT_BASE_CONF, 'utf8'));
  const rules = rulesBySid(ruleFiles, sids).map((r) => resolveVars(r, vars));
  if (rules.length === 0) throw new Error(`no rule with sid ${[...sids].join(', ')}`);
  writeFileSync(join(dir, 'case.rules'), rules.join('\n') + '\n');
  const snort = await snortOnFixture(dir, workDir);
  writeFileSync(join(dir, 'snort.txt'), `${snort}\n`);
  return { name, dir, pcap: join(dir, 'capture.pcap'), rules: join(dir, 'case.rules'), snort };
}

export function readRealFixtures(root: string): RealFixture[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .filter((n) => existsSync(join(root, n, 'capture.pcap')))
    .map((name) => {
      const dir = join(root, name);
      return {
        name,
        dir,
        pcap: join(dir, 'capture.pcap'),
        rules: join(dir, 'case.rules'),
        snort: readFileSync(join(dir, 'snort.txt'), 'utf8').trim(),
      };
    });
}
