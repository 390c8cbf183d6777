/** Runs the suricata-verify rows of snort-2.9.20-expected.tsv through compile + replay and compares with Snort. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countEvents, freshMatcher, loadMatcher, multiset, replayEvents } from '../../tools/diff-snort/honeywall.js';
import { etDir as etRulesDir } from './corpus.js';

export { multiset };

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
  const loaded = loadMatcher({ paths: [rulesPath], vars: [`HOME_NET=${HOME_NET}`, 'EXTERNAL_NET=any'] });
  const compiled = loaded.compiled;
  if (snortRejected) {
    if (!row.exit.includes('ERROR')) return { test: row.test, kind: 'snort-did-not-run', expected: row.exit, got: '', detail: row.exit };
    if (compiled.failures.length > 0)
      return {
        test: row.test,
        kind: 'rejected-as-snort',
        expected: row.exit,
        got: compiled.failures.map((f) => `${f.file}:${f.line}: ${f.reason}`).join('; '),
      };
    return { test: row.test, kind: 'accepted-but-snort-rejected', expected: row.exit, got: 'compiled' };
  }
  const got = multiset(countEvents(await replayEvents(join(testsDir, row.pcap), loaded.matcher)));
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
  const loaded = loadMatcher({ paths: [etRulesDir], vars: [`HOME_NET=${HOME_NET}`, 'EXTERNAL_NET=any'] });
  const out: Outcome[] = [];
  for (const row of rows) {
    const got = multiset(countEvents(await replayEvents(join(testsDir, row.pcap), freshMatcher(loaded))));
    out.push({ test: row.pcap, kind: got === row.expected ? 'agree' : 'disagree', expected: row.expected, got });
  }
  return out;
}
