/**
 * Minimal cases kept as regression fixtures: a directory per case under test/fixtures/diff-snort with the case
 * (case.json), what it renders to in slot 0 (case.rules, case.pcap) and what Snort 2.9.20 logged on it (snort.txt,
 * the gid:sid multiset; `refused: message` when Snort refused the rule set).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { caseJson, renderPcap, renderRules, type Case } from './case.js';
import { runBatch, type CaseResult } from './batch.js';

export interface Fixture {
  name: string;
  dir: string;
  case: Case;
  /** Snort's multiset, or `refused: ...`. */
  snort: string;
}

export function fixtureName(c: Case): string {
  return `${c.area}-${createHash('sha256').update(caseJson(c)).digest('hex').slice(0, 10)}`;
}

export function writeFixture(root: string, r: CaseResult): string {
  const name = fixtureName(r.case);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'case.json'), JSON.stringify(r.case, null, 1) + '\n');
  writeFileSync(join(dir, 'case.rules'), renderRules(r.case, 0).join('\n') + '\n');
  writeFileSync(join(dir, 'case.pcap'), renderPcap(r.case, 0));
  const snort = r.verdict === 'snort-refused' || r.verdict === 'both-refused' ? `refused: ${r.detail ?? ''}` : r.snort;
  writeFileSync(join(dir, 'snort.txt'), `${snort}\n`);
  return name;
}

export function readFixtures(root: string): Fixture[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .filter((n) => existsSync(join(root, n, 'case.json')))
    .map((name) => {
      const dir = join(root, name);
      return {
        name,
        dir,
        case: JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case,
        snort: readFileSync(join(dir, 'snort.txt'), 'utf8').trim(),
      };
    });
}

/**
 * Runs every fixture's case again through both engines (slot 0, as the fixture's files) and rewrites its snort.txt
 * from this Snort run: for fixtures recorded by an older harness, or after a Snort rebuild.
 */
export async function refreshFixtures(root: string, workDir: string): Promise<{ name: string; verdict: string; snort: string; honeywall: string }[]> {
  const out: { name: string; verdict: string; snort: string; honeywall: string }[] = [];
  for (const f of readFixtures(root)) {
    const { results } = await runBatch([f.case], workDir);
    const r = results[0]!;
    writeFixture(root, r);
    out.push({ name: f.name, verdict: r.verdict, snort: r.snort, honeywall: r.honeywall });
  }
  return out;
}
