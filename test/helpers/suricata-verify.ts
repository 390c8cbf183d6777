/**
 * suricata-verify's own expectations, checked against honeywall reading the tests' rules as Suricata rules
 * (`--input-dialect suricata`): each test's rules are compiled; a test whose rules all map is replayed and its
 * test.yaml `filter` checks on alert events are evaluated against the EVE alerts replay writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuleSet } from '../../src/config/ruleset.js';
import { compileRuleSet, type CompileFailure } from '../../src/match/compile.js';
import { Matcher } from '../../src/match/engine.js';
import { replayCapture } from '../../src/match/replay.js';
import { alertOf, eveAlert } from '../../src/output/alert.js';

/** Suricata's default suricata.yaml address groups (HOME_NET, EXTERNAL_NET = !$HOME_NET). */
export const SV_VARS = ['HOME_NET=[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]', 'EXTERNAL_NET=!$HOME_NET'];

export interface ManifestCheck {
  type: string;
  count?: number;
  match?: Record<string, unknown>;
  requires?: Record<string, unknown> | null;
}

export interface ManifestTest {
  name: string;
  ips_mode: boolean;
  rules_files: string[];
  pcap: string | null;
  pcap_present: boolean;
  alert_checks: ManifestCheck[];
}

export function readManifest(svDir: string): ManifestTest[] {
  return (JSON.parse(readFileSync(join(svDir, 'manifest.json'), 'utf8')) as { tests: ManifestTest[] }).tests;
}

/** EVE fields the replay's alerts carry as Suricata's do: a check naming only these can be evaluated. */
const EVALUABLE = new Set([
  'event_type',
  'alert.signature_id',
  'alert.signature',
  'alert.gid',
  'alert.rev',
  'pcap_cnt',
  'src_ip',
  'dest_ip',
  'src_port',
  'dest_port',
  'proto',
]);

/** A check on alerts whose fields replay's EVE has, for the newest Suricata (no version condition). */
export function evaluable(c: ManifestCheck): boolean {
  if (c.type !== 'filter' || c.match === undefined || c.requires) return false;
  const keys = Object.keys(c.match);
  const type = c.match.event_type;
  if (type !== undefined && type !== 'alert') return false;
  if (type === undefined && !keys.some((k) => k.startsWith('alert.'))) return false;
  return keys.every((k) => EVALUABLE.has(k));
}

function field(o: Record<string, unknown>, path: string): unknown {
  let v: unknown = o;
  for (const p of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/** How many alerts match the check's fields (suricata-verify compares field values for equality). */
export function matching(alerts: Record<string, unknown>[], c: ManifestCheck): number {
  return alerts.filter((a) => Object.entries(c.match!).every(([k, v]) => String(field(a, k)) === String(v))).length;
}

export type SvOutcome =
  | { test: string; kind: 'refused'; failures: CompileFailure[] }
  | { test: string; kind: 'no-input'; why: string }
  | { test: string; kind: 'not-evaluable'; why: string }
  | { test: string; kind: 'agree' | 'disagree'; checks: { match: Record<string, unknown>; want: number; got: number }[] };

export async function runSvTest(svDir: string, t: ManifestTest): Promise<SvOutcome> {
  const tests = join(svDir, 'tests');
  const rules = t.rules_files.map((r) => join(tests, r));
  if (rules.length === 0 || rules.some((r) => !existsSync(r))) return { test: t.name, kind: 'no-input', why: 'no rules file' };
  const compiled = compileRuleSet(loadRuleSet({ paths: rules, vars: SV_VARS, inputDialect: 'suricata' }));
  if (compiled.failures.length > 0) return { test: t.name, kind: 'refused', failures: compiled.failures };
  if (!t.pcap_present || t.pcap === null) return { test: t.name, kind: 'no-input', why: 'no pcap' };
  if (t.ips_mode) return { test: t.name, kind: 'not-evaluable', why: 'IPS mode (replay is IDS)' };
  const checks = t.alert_checks.filter(evaluable);
  if (checks.length === 0) return { test: t.name, kind: 'not-evaluable', why: 'no check on alert fields replay writes' };
  const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
  const alerts: Record<string, unknown>[] = [];
  await replayCapture(join(tests, t.pcap), matcher, { checksumMode: 'none' }, (e, ctx) => {
    alerts.push(eveAlert(alertOf(e, false, false, ctx)));
  });
  const results = checks.map((c) => ({ match: c.match!, want: c.count ?? -1, got: matching(alerts, c) }));
  const ok = results.every((r) => (r.want === -1 ? r.got > 0 : r.got === r.want));
  return { test: t.name, kind: ok ? 'agree' : 'disagree', checks: results };
}
