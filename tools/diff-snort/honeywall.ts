/**
 * The one honeywall runner of the Snort comparisons (the suricata-verify agreement test and diff-snort): a rule set
 * loaded as `honeywall replay --rules` loads it, compiled once, then each capture replayed with a fresh pipeline (as
 * Snort's `--pcap-reset` starts each capture with fresh streams), every logged event handed back with its gid:sid
 * and addresses.
 */
import { loadRuleSet, type LoadOptions } from '../../src/config/ruleset.js';
import { compileRuleSet, type CompileFailure, type CompileResult } from '../../src/match/compile.js';
import { Matcher } from '../../src/match/engine.js';
import { replayCapture } from '../../src/match/replay.js';
import { formatIp } from '../../src/packet/bytes.js';

export interface EngineEvent {
  gid: number;
  sid: number;
  src: string;
  dst: string;
}

export interface LoadedMatcher {
  compiled: CompileResult;
  matcher: Matcher;
  failures: CompileFailure[];
}

/** Loads and compiles a rule set (files, directories or a snort.conf with its includes) for replay. */
export function loadMatcher(opts: LoadOptions): LoadedMatcher {
  const compiled = compileRuleSet(loadRuleSet(opts));
  const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
  return { compiled, matcher, failures: compiled.failures };
}

/** A matcher with the same compiled rules and fresh state (thresholds), sharing the prefilter databases. */
export function freshMatcher(m: LoadedMatcher): Matcher {
  return new Matcher(m.compiled.plan, m.matcher.prefilter, { checksumMode: 'none' });
}

/**
 * Replays one capture (`-k none`, as the Snort runs) and returns its events in order. A damaged capture is inspected
 * up to the damage, as `honeywall replay` and Snort both do (some suricata-verify pcaps are cut short).
 */
export async function replayEvents(pcap: string, matcher: Matcher): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  await replayCapture(pcap, matcher, { checksumMode: 'none' }, (e) => {
    const ip = e.packet.ip;
    out.push({ gid: e.rule.gid, sid: e.rule.sid, src: ip ? formatIp(ip.src) : '', dst: ip ? formatIp(ip.dst) : '' });
  });
  return out;
}

/** Events counted per gid:sid. */
export function countEvents(events: Iterable<{ gid: number; sid: number }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    const k = `${e.gid}:${e.sid}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** The multiset as the recorded Snort files write it: `gid:sid=count` sorted by gid then sid, space-separated. */
export function multiset(counts: Map<string, number>): string {
  return [...counts.entries()]
    .sort(([a], [b]) => {
      const [ga, sa] = a.split(':').map(Number);
      const [gb, sb] = b.split(':').map(Number);
      return ga! - gb! || sa! - sb!;
    })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
