/** Runs the suricata-verify rows of snort-2.9.20-expected.tsv through compile + replay and compares with Snort. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuleSet } from '../../src/config/ruleset.js';
import { compileRuleSet } from '../../src/match/compile.js';
import { Matcher } from '../../src/match/engine.js';
import { replayCapture } from '../../src/match/replay.js';
import { etDir as etRulesDir } from './corpus.js';

export const HOME_NET = '[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]';

export interface Row {
  test: string;
  pcap: string;
  rules: string;
  exit: string;
  expected: string;
}

export function readRows(tsv: string): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(tsv, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.startsWith('test\t') || line.trim() === '') continue;
    const [test, pcap, rules, exit, expected] = line.split('\t');
    rows.push({ test: test!, pcap: pcap!, rules: rules!, exit: exit!, expected: (expected ?? '').trim() });
  }
  return rows;
}

export function multiset(counts: Map<string, number>): string {
  return [...counts.entries()].sort(([a], [b]) => {
    const [ga, sa] = a.split(':').map(Number);
    const [gb, sb] = b.split(':').map(Number);
    return ga! - gb! || sa! - sb!;
  }).map(([k, v]) => `${k}=${v}`).join(' ');
}

export interface Outcome {
  test: string;
  kind: 'agree' | 'disagree' | 'rejected-as-snort' | 'accepted-but-snort-rejected' | 'snort-did-not-run';
  expected: string;
  got: string;
  detail?: string;
}

export async function runRow(testsDir: string, row: Row): Promise<Outcome> {
  const snortRejected = row.exit !== '0';
  const rulesPath = join(testsDir, row.rules);
  if (!existsSync(rulesPath) || !existsSync(join(testsDir, row.pcap))) {
    return { test: row.test, kind: 'snort-did-not-run', expected: row.expected, got: '', detail: `${row.exit}: missing input` };
  }
  const set = loadRuleSet({ paths: [rulesPath], vars: [`HOME_NET=${HOME_NET}`, 'EXTERNAL_NET=any'] });
  const compiled = compileRuleSet(set);
  if (snortRejected) {
    if (!row.exit.includes('ERROR')) return { test: row.test, kind: 'snort-did-not-run', expected: row.exit, got: '', detail: row.exit };
    if (compiled.failures.length > 0) return { test: row.test, kind: 'rejected-as-snort', expected: row.exit, got: compiled.failures.map((f) => `${f.file}:${f.line}: ${f.reason}`).join('; ') };
    return { test: row.test, kind: 'accepted-but-snort-rejected', expected: row.exit, got: 'compiled' };
  }
  const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
  const counts = new Map<string, number>();
  await replayCapture(join(testsDir, row.pcap), matcher, { checksumMode: 'none' }, (e) => {
    const k = `${e.rule.gid}:${e.rule.sid}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  const got = multiset(counts);
  const failures = compiled.failures.map((f) => `sid ${f.sid}: ${f.reason}`).join('; ');
  return { test: row.test, kind: got === row.expected ? 'agree' : 'disagree', expected: row.expected, got, detail: failures || undefined };
}

export interface EtRow {
  pcap: string;
  expected: string;
}

export function readEtRows(tsv: string): EtRow[] {
  const rows: EtRow[] = [];
  for (const line of readFileSync(tsv, 'utf8').split('\n')) {
    if (line.startsWith('#') || line.startsWith('pcap\t') || line.trim() === '') continue;
    const [pcap, expected] = line.split('\t');
    rows.push({ pcap: pcap!, expected: (expected ?? '').trim() });
  }
  return rows;
}

/** The whole enabled ET Open 2019 set, compiled once, replayed over each pcap with fresh state. */
export async function runEtRow(testsDir: string, rows: EtRow[]): Promise<Outcome[]> {
  const set = loadRuleSet({ paths: [etRulesDir], vars: [`HOME_NET=${HOME_NET}`, 'EXTERNAL_NET=any'] });
  const compiled = compileRuleSet(set);
  const first = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
  const out: Outcome[] = [];
  for (const row of rows) {
    const m = new Matcher(compiled.plan, first.prefilter, { checksumMode: 'none' });
    const counts = new Map<string, number>();
    await replayCapture(join(testsDir, row.pcap), m, { checksumMode: 'none' }, (e) => {
      const k = `${e.rule.gid}:${e.rule.sid}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    });
    const got = multiset(counts);
    out.push({ test: row.pcap, kind: got === row.expected ? 'agree' : 'disagree', expected: row.expected, got });
  }
  return out;
}
