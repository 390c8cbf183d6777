/**
 * Real traffic through both engines (issue 13, "captures made in the namespace honeynet by real clients and servers"):
 * a honeynet of network namespaces (test/honeynet/honeynet.ts), one tcpdump capture per scenario on the honeypot's
 * eth0 while curl, wget, python http.server, socat, dig, ping, ssh, openssl and nmap talk (tools/diff-snort/real-scenarios.ts),
 * then Snort 2.9.20 and honeywall over every capture with the same configuration: the shipped base.conf with the whole
 * ET Open 2019 set and the community rules included. Per capture, the gid:sid multisets are compared.
 *
 * Snort reads all captures in one run with `--pcap-reset` (fresh state per capture, snort.c SnortReset), so each of its
 * alerts is given back to its capture by time: the captures are made one after the other, and alert_fast stamps an
 * alert with its packet's time (`-y -U`: year and UTC, util.c ts_print), which lies within its capture's span.
 *
 * Only gid 1 (rule) alerts are compared. Snort's decoder and preprocessor events (gid 116, 119, 120, 122, 123, 129...)
 * are not logged with this configuration: base.conf loads no preprocessor or decoder rules and does not set
 * `autogenerate_preprocessor_decoder_rules`, and Snort 2.9.20 logs an event without a rule only when that is set
 * (fpdetect.c GetOtnForPolicy). Any alert with another gid on either side is still listed, apart, and not compared.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Honeynet, type NodeName } from '../../test/honeynet/honeynet.js';
import { communityDir, etDir, hasCorpus, ruleFilesIn } from './corpus.js';
import { countEvents, freshMatcher, loadMatcher, replayEvents } from './honeywall.js';
import { captureSpan, startCapture } from './real-capture.js';
import { SCENARIOS, sleep, type Scenario, type ScenarioContext } from './real-scenarios.js';
import { parseFastAlerts, runSnort, snortMissing, writeConf, type SnortAlert } from './snort.js';

export interface RealOptions {
  workDir: string;
  /** Scenario names to run (default: all). */
  scenarios?: readonly string[];
  /** Compare the captures of an earlier run (`NN-name.pcap` files) instead of making new ones: no namespaces needed. */
  pcapDir?: string;
  log?: (line: string) => void;
}

export interface Difference {
  /** `gid:sid` */
  key: string;
  snort: number;
  honeywall: number;
  msg: string;
}

export interface ScenarioResult {
  name: string;
  what: string;
  /** Why the scenario did not run. */
  skipped?: string;
  notes: string[];
  pcap?: string;
  packets: number;
  droppedByKernel: number;
  /** gid 1 alerts per gid:sid. */
  snort: Map<string, number>;
  honeywall: Map<string, number>;
  /** Alerts of other gids (not compared; none expected with base.conf). */
  otherSnort: Map<string, number>;
  otherHoneywall: Map<string, number>;
  differences: Difference[];
}

export interface RealReport {
  scenarios: ScenarioResult[];
  /** Programs a scenario wanted and this machine lacks. */
  absent: string[];
  /** Snort alerts whose time falls in no capture (should not happen; listed if it does). */
  unassigned: SnortAlert[];
  ruleFailures: number;
  seconds: { traffic: number; snort: number; honeywall: number; total: number };
}

/** Why the real-traffic comparison cannot run here (making captures needs more than comparing kept ones). */
export function realMissing(makingCaptures: boolean): string | undefined {
  const snort = snortMissing();
  if (snort) return snort;
  if (!hasCorpus) return `the rule corpus is absent (${etDir}; it comes with ../shared)`;
  if (!makingCaptures) return undefined;
  const ns = Honeynet.availability();
  if (!ns.ok) return ns.reason;
  if (!onPath('tcpdump')) return 'tcpdump is absent (scripts/debian-packages.sh installs it)';
  if (!pythonPath()) return 'python3 is absent (it runs the servers)';
  return undefined;
}

function onPath(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The system Python (a version manager's shim on PATH may not work in a namespace's environment). */
function pythonPath(): string | undefined {
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  return onPath('python3') ? 'python3' : undefined;
}

/** ET Open 2019 (every file) and the community rules: the rule set of both engines. */
export function realRuleFiles(): string[] {
  return [...ruleFilesIn(etDir), ...ruleFilesIn(communityDir)];
}

interface Made {
  scenario: Scenario;
  skipped?: string;
  notes: string[];
  pcap?: string;
  droppedByKernel: number;
}

/**
 * Makes the network quiet and wire-like: no IPv6 (router solicitations and MLD reports would land in every capture),
 * and no segmentation or checksum offload on the two hosts' interfaces, so the capture holds MTU-sized frames with
 * their checksums as a tap on a cable would (veth otherwise hands tcpdump 64 KB super-segments).
 */
async function quietNetwork(net: Honeynet, notes: string[]): Promise<void> {
  const nodes: NodeName[] = ['outside', 'gateway', 'switch', 'manager', 'honeypot0'];
  for (const n of nodes)
    await net.exec(n, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { allowFail: true });
  if (onPath('ethtool')) {
    for (const n of ['outside', 'honeypot0'] as const) {
      const r = await net.exec(n, ['ethtool', '-K', 'eth0', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], { allowFail: true });
      if (r.code !== 0) notes.push(`ethtool -K in ${n} failed (${r.stderr.trim()}): captures may hold segments over the MTU`);
    }
  } else notes.push('ethtool absent: offloads left on, captures may hold segments over the MTU');
  // let the last neighbour chatter of the set-up pass before the first capture
  await sleep(300);
}

async function makeCaptures(o: RealOptions, dir: string, absent: Set<string>): Promise<Made[]> {
  const log = o.log ?? (() => {});
  const python = pythonPath()!;
  const chosen = SCENARIOS.filter((s) => !o.scenarios || o.scenarios.includes(s.name));
  const made: Made[] = [];
  const net = await Honeynet.create({ honeypots: 1 });
  try {
    const setupNotes: string[] = [];
    await quietNetwork(net, setupNotes);
    for (const n of setupNotes) log(n);
    for (const [i, s] of chosen.entries()) {
      const missing = s.needs.filter((p) => !onPath(p));
      if (missing.length > 0) {
        for (const p of missing) absent.add(p);
        made.push({ scenario: s, skipped: `${missing.join(', ')} absent`, notes: [], droppedByKernel: 0 });
        log(`${s.name}: skipped (${missing.join(', ')} absent)`);
        continue;
      }
      const notes: string[] = [...(i === 0 ? setupNotes : [])];
      const ctx: ScenarioContext = {
        net,
        dir: join(dir, 'scratch'),
        server: net.addr.honeypots[0]!,
        client: net.addr.outside,
        python,
        has: (p) => {
          const ok = onPath(p);
          if (!ok) absent.add(p);
          return ok;
        },
        note: (l) => notes.push(l),
      };
      mkdirSync(ctx.dir, { recursive: true });
      const pcap = join(dir, `${String(i).padStart(2, '0')}-${s.name}.pcap`);
      const t0 = performance.now();
      const cap = await startCapture(net, 'honeypot0', 'eth0', pcap);
      let stats = { captured: 0, droppedByKernel: 0 };
      try {
        await s.run(ctx);
        // the last FIN/ACKs and replies of the scenario's connections
        await sleep(300);
      } finally {
        stats = await cap.stop();
      }
      made.push({ scenario: s, notes, pcap, droppedByKernel: stats.droppedByKernel });
      log(`${s.name}: ${stats.captured} packets in ${((performance.now() - t0) / 1000).toFixed(1)} s${notes.length ? ` (${notes.join('; ')})` : ''}`);
    }
  } finally {
    await net.destroy();
  }
  return made;
}

/** Captures kept from an earlier run: `NN-name.pcap`, in name order. */
function keptCaptures(dir: string): Made[] {
  return readdirSync(dir)
    .filter((f) => /^\d+-[\w-]+\.pcap$/.test(f))
    .sort()
    .map((f) => {
      const name = basename(f, '.pcap').replace(/^\d+-/, '');
      const scenario = SCENARIOS.find((s) => s.name === name) ?? { name, what: '(kept capture)', needs: [], run: async () => {} };
      return { scenario, notes: [], pcap: join(dir, f), droppedByKernel: 0 };
    });
}

// alert_fast with -y -U: `12/03/26-06:01:40.123456 ` (util.c ts_print)
const FAST_TIME = /^(\d\d)\/(\d\d)\/(\d\d)-(\d\d):(\d\d):(\d\d)\.(\d{6}) /;

/** Snort's alerts with their packet times (microseconds since the epoch), from the alert file of a `-y -U` run. */
export function readTimedAlerts(file: string): { alert: SnortAlert; time: number }[] {
  const out: { alert: SnortAlert; time: number }[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const m = FAST_TIME.exec(line);
    if (!m) throw new Error(`alert_fast line without a -y -U time: ${line}`);
    const [, mo, d, y, h, mi, s, us] = m.map(Number) as number[];
    const time = Date.UTC(2000 + y!, mo! - 1, d!, h!, mi!, s!) * 1000 + us!;
    out.push({ alert: parseFastAlerts(line)[0]!, time });
  }
  return out;
}

function split(counts: Map<string, number>): { gid1: Map<string, number>; other: Map<string, number> } {
  const gid1 = new Map<string, number>();
  const other = new Map<string, number>();
  for (const [k, v] of counts) (k.startsWith('1:') ? gid1 : other).set(k, v);
  return { gid1, other };
}

/** The `msg` of the rules with these sids (for the report), read from the rule files. */
function messages(files: readonly string[], sids: Set<number>): Map<number, string> {
  const out = new Map<number, string>();
  if (sids.size === 0) return out;
  for (const f of files)
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const sid = /[;(\s]sid\s*:\s*(\d+)\s*;/.exec(line);
      if (!sid || !sids.has(Number(sid[1]))) continue;
      const msg = /msg\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(line);
      if (msg && !out.has(Number(sid[1]))) out.set(Number(sid[1]), msg[1]!);
    }
  return out;
}

export async function realRun(o: RealOptions): Promise<RealReport> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const absent = new Set<string>();
  const captureDir = o.pcapDir ?? join(o.workDir, 'captures');
  mkdirSync(captureDir, { recursive: true });
  const made = o.pcapDir ? keptCaptures(o.pcapDir) : await makeCaptures(o, captureDir, absent);
  const tTraffic = (performance.now() - t0) / 1000;

  const ruleFiles = realRuleFiles();
  const conf = writeConf(o.workDir, ruleFiles);
  const pcaps = made.filter((m) => m.pcap).map((m) => m.pcap!);
  const spans = new Map(pcaps.map((p) => [p, captureSpan(p)]));
  log(
    `${pcaps.length} captures, ${[...spans.values()].reduce((a, s) => a + s.packets, 0)} packets; Snort and honeywall over them (${ruleFiles.length} rule files)`,
  );

  const snortDir = join(o.workDir, 'snort');
  const snort = runSnort(snortDir, conf, pcaps, ['-y', '-U']);
  const t1 = performance.now();
  const loaded = loadMatcher({ paths: [], conf });
  const hwCounts = new Map<string, Map<string, number>>();
  for (const p of pcaps) hwCounts.set(p, countEvents(await replayEvents(p, freshMatcher(loaded))));
  const tHoneywall = (performance.now() - t1) / 1000;
  const s = await snort;
  if (s.failed || s.refused || s.hung)
    throw new Error(
      `Snort did not finish: ${s.failed ?? (s.refused ? `refused ${s.refused.file}(${s.refused.line}) ${s.refused.message}` : `stuck on ${s.hung}`)}`,
    );

  const snortEvents = new Map<string, SnortAlert[]>(pcaps.map((p) => [p, []]));
  const unassigned: SnortAlert[] = [];
  for (const { alert, time } of readTimedAlerts(join(snortDir, 'alert'))) {
    const owner = pcaps.find((p) => {
      const sp = spans.get(p)!;
      return sp.packets > 0 && time >= sp.first && time <= sp.last;
    });
    if (owner) snortEvents.get(owner)!.push(alert);
    else unassigned.push(alert);
  }

  const results: ScenarioResult[] = made.map((m) => {
    const base = { name: m.scenario.name, what: m.scenario.what, notes: m.notes, droppedByKernel: m.droppedByKernel };
    if (!m.pcap)
      return {
        ...base,
        skipped: m.skipped,
        packets: 0,
        snort: new Map(),
        honeywall: new Map(),
        otherSnort: new Map(),
        otherHoneywall: new Map(),
        differences: [],
      };
    const sn = split(countEvents(snortEvents.get(m.pcap)!));
    const hw = split(hwCounts.get(m.pcap)!);
    const keys = [...new Set([...sn.gid1.keys(), ...hw.gid1.keys()])].sort();
    const differences = keys
      .filter((k) => (sn.gid1.get(k) ?? 0) !== (hw.gid1.get(k) ?? 0))
      .map((k) => ({ key: k, snort: sn.gid1.get(k) ?? 0, honeywall: hw.gid1.get(k) ?? 0, msg: '' }));
    return {
      ...base,
      pcap: m.pcap,
      packets: spans.get(m.pcap)!.packets,
      snort: sn.gid1,
      honeywall: hw.gid1,
      otherSnort: sn.other,
      otherHoneywall: hw.other,
      differences,
    };
  });
  const sids = new Set(results.flatMap((r) => r.differences.map((d) => Number(d.key.split(':')[1]))));
  const msgs = messages(ruleFiles, sids);
  for (const r of results) for (const d of r.differences) d.msg = msgs.get(Number(d.key.split(':')[1])) ?? '';

  return {
    scenarios: results,
    absent: [...absent].sort(),
    unassigned,
    ruleFailures: loaded.failures.length,
    seconds: { traffic: tTraffic, snort: s.seconds, honeywall: tHoneywall, total: (performance.now() - t0) / 1000 },
  };
}

/** Per capture: the gid:sid keys (rules that alerted on either side) and how many have the same count on both. */
export function agreementOf(r: ScenarioResult): { keys: number; same: number; alertsSnort: number; alertsHoneywall: number } {
  const keys = new Set([...r.snort.keys(), ...r.honeywall.keys()]).size;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return { keys, same: keys - r.differences.length, alertsSnort: sum(r.snort), alertsHoneywall: sum(r.honeywall) };
}

export function formatRealReport(r: RealReport): string {
  const lines = ['capture         packets  snort  honeywall  rules (gid:sid)  same count  capture agrees'];
  let keys = 0;
  let same = 0;
  let captures = 0;
  let agreeing = 0;
  for (const s of r.scenarios) {
    if (s.skipped) {
      lines.push(`${s.name.padEnd(15)} skipped: ${s.skipped}`);
      continue;
    }
    const a = agreementOf(s);
    keys += a.keys;
    same += a.same;
    captures++;
    if (s.differences.length === 0) agreeing++;
    lines.push(
      `${s.name.padEnd(15)} ${String(s.packets).padStart(7)} ${String(a.alertsSnort).padStart(6)} ${String(a.alertsHoneywall).padStart(10)} ${String(a.keys).padStart(16)} ${String(a.same).padStart(11)}  ${s.differences.length === 0 ? 'yes' : 'no'}${s.droppedByKernel ? ` (${s.droppedByKernel} packets dropped by the kernel)` : ''}`,
    );
  }
  lines.push(
    `all: ${agreeing} of ${captures} captures agree; ${same} of ${keys} rules that alerted have the same count in both (${keys ? ((100 * same) / keys).toFixed(1) : '100.0'}%)`,
  );
  if (r.absent.length) lines.push(`absent here (their parts skipped or replaced): ${r.absent.join(', ')}`);
  for (const s of r.scenarios) for (const n of s.notes) lines.push(`note (${s.name}): ${n}`);
  const diffs = r.scenarios.flatMap((s) => s.differences.map((d) => `  ${s.name} ${d.key}: snort ${d.snort}, honeywall ${d.honeywall}  ${d.msg}`));
  lines.push(`${diffs.length} difference(s)${diffs.length ? ':' : ''}`, ...diffs);
  for (const s of r.scenarios) {
    const other = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}=${v}`).join(' ');
    if (s.otherSnort.size || s.otherHoneywall.size)
      lines.push(`  ${s.name} other gids, not compared: snort [${other(s.otherSnort)}] honeywall [${other(s.otherHoneywall)}]`);
  }
  if (r.unassigned.length)
    lines.push(`${r.unassigned.length} Snort alert(s) outside every capture's time span: ${r.unassigned.map((a) => `${a.gid}:${a.sid}`).join(' ')}`);
  if (r.ruleFailures) lines.push(`honeywall refused ${r.ruleFailures} rule(s) of the set`);
  return lines.join('\n');
}
