/**
 * What Snort 2.9.20 leaves to chance, and how a difference is told apart from it. Within one rule tree Snort's
 * order follows a hash of rule numbers seeded from the clock at start (sfportobject.c PortObject2New, sfhashfcn.c
 * srand(time(0))): the same case gives another answer from one run to the next when a flowbit is set and checked by
 * rules of one packet's tree, or when two detection_filters of one tree (only the first counts the event), or more
 * than max_queue_events matches of an action kind, meet. And a rule of two port groups is evaluated again in the
 * second unless the two groups' trees share its nodes, which depends on the other rules of the batch.
 *
 * honeywall takes the rule files' order and evaluates a matched rule once (src/match/snort-order.ts). A case where
 * they differ is replayed with the other orders of its rules (all of them up to 6 rules, else a fixed sample) and
 * with re-evaluation: when one of those gives Snort's multiset, the difference is Snort's choice, not a disagreement.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { InspectionItem } from '../../src/flow/pipeline.js';
import type { Matcher } from '../../src/match/engine.js';
import { pipelineFor } from '../../src/match/replay.js';
import { readCaptureAll } from '../../src/packet/pcap.js';
import { renderRules, type Case } from './case.js';
import { countEvents, loadMatcher, multiset } from './honeywall.js';

/** Orders tried at most per case (all of them for up to 6 rules). */
const MAX_ORDERS = 720;

function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  const out: number[][] = [];
  for (const p of permutations(n - 1))
    for (let at = 0; at <= p.length; at++) {
      const q = p.slice();
      q.splice(at, 0, n - 1);
      out.push(q);
    }
  return out;
}

/** The orders to try: every permutation of n rules when there are few, else a sample drawn from a fixed seed. */
function orders(n: number): number[][] {
  if (n <= 6) return permutations(n);
  return fc.sample(fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }), { numRuns: MAX_ORDERS, seed: 13 });
}

/** A capture's records, replayed through a fresh pipeline for each matcher (`-k none`, as the Snort runs). */
function replayer(pcap: string): (m: Matcher) => string {
  const { records } = readCaptureAll(readFileSync(pcap), pcap);
  return (m) => {
    const pipe = pipelineFor({ checksumMode: 'none' });
    const events: { gid: number; sid: number }[] = [];
    const inspect = (items: InspectionItem[]) => {
      for (const item of items) for (const e of m.inspect(item)) events.push({ gid: e.rule.gid, sid: e.rule.sid });
    };
    records.forEach((r, i) => inspect(pipe.push(r.linktype, r.data, r.tsSec, r.tsUsec, i)));
    inspect(pipe.finish());
    return multiset(countEvents(events));
  };
}

/**
 * The choice (described) under which honeywall gives `snort` for the case rendered in `slot` with its capture
 * `pcap`, or undefined when none does.
 */
export function snortChoiceReaching(c: Case, slot: number, pcap: string, snort: string, dir: string): string | undefined {
  if (c.rules.length < 2) return undefined;
  const rules = join(dir, `order-${slot}.rules`);
  writeFileSync(rules, renderRules(c, slot).join('\n') + '\n');
  const loaded = loadMatcher({ paths: [rules] });
  if (loaded.failures.length > 0) return undefined;
  const replay = replayer(pcap);
  const m = loaded.matcher;
  for (const reevaluate of [false, true]) {
    for (const rank of orders(loaded.compiled.plan.rules.length)) {
      m.resetState({ tie: (i) => rank[i]!, reevaluate });
      if (replay(m) === snort)
        return `Snort's own order: rules ${[...rank.keys()].sort((a, b) => rank[a]! - rank[b]!).join(',')} within a tree${reevaluate ? ', a matched rule evaluated again in its second port group' : ''}`;
    }
  }
  return undefined;
}
