/**
 * What decides between the rules of one packet as Snort 2.9.20 decides it: the rate counters (sfutil/sfthd.c), the
 * order of port groups and rule trees (snort-order.ts), the rule trees' flowbits and detection_filter (rule-tree.ts)
 * and the event queue (decide.ts). The differential test (test/diff-snort.test.ts, fixtures flowbits-*, threshold-*,
 * event-queue-*) holds them to Snort itself; these pin each rule down on its own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readEventQueueConfig } from '../src/match/event-filters.js';
import { Matcher } from '../src/match/engine.js';
import type { RulePlan } from '../src/match/plan.js';
import { pipelineFor } from '../src/match/replay.js';
import { changeNodesOf, depthFirst, SharedNodes, sharingTable, sharingTableSound, type SharingTable } from '../src/match/rule-tree.js';
import { RateCounters, type RateSpec } from '../src/match/sfthd.js';
import { GROUP_ANY, GROUP_DST, GROUP_SRC, portGroupsOf } from '../src/match/snort-order.js';
import { buildIp, ethernet } from '../src/packet/build.js';
import { compileText, ruleSetOf, tcpPacket } from './helpers/match.js';

/** Which of `times` (whole seconds) a counter lets through. */
function logged(spec: RateSpec, times: number[], increments?: boolean[]): boolean[] {
  const c = new RateCounters();
  return times.map((t, i) => c.test('k', spec, t, increments?.[i] ?? true));
}

describe('rate counters (sfthd.c sfthd_test_non_suppress)', () => {
  it('limit: the first `count` events of a window', () => {
    expect(logged({ type: 'limit', count: 2, seconds: 10 }, [0, 1, 2, 9, 10, 11, 12])).toEqual([true, true, false, false, true, true, false]);
  });
  it('threshold: every `count`-th event, the window starting again at each logged one', () => {
    // logged at 2: the window restarts there, so 3 and 4 are the next two (without the restart, 3 would open a new
    // window of one)
    expect(logged({ type: 'threshold', count: 2, seconds: 3 }, [0, 2, 2, 3])).toEqual([false, true, false, true]);
    expect(logged({ type: 'threshold', count: 1, seconds: 3 }, [0, 0, 5])).toEqual([true, true, true]);
  });
  it('both: the `count`-th event of a window, and never the first event of a new window', () => {
    // with count 1 only the node's very first event: a new window's first event is not logged, its second is over 1
    expect(logged({ type: 'both', count: 1, seconds: 1 }, [0, 0, 1, 1, 5])).toEqual([true, false, false, false, false]);
    expect(logged({ type: 'both', count: 2, seconds: 2 }, [0, 1, 1, 2, 3, 3])).toEqual([false, true, false, false, true, false]);
    expect(logged({ type: 'both', count: 3, seconds: 10 }, [0, 1, 2, 3])).toEqual([false, false, true, false]);
  });
  it('detect (detection_filter): over `count` in the window, the events just before a reset still counting', () => {
    // 0, 1, 3, 4, 4 within 7 s: over 1 from the second; at 7 a new window starts, but the last event (4) was within
    // 7 s, so the 4 events before count (prev) and it is logged too
    expect(logged({ type: 'detect', count: 1, seconds: 7 }, [0, 1, 3, 4, 4, 7])).toEqual([false, true, true, true, true, true]);
    // the last event more than `seconds` before: prev is 0
    expect(logged({ type: 'detect', count: 1, seconds: 2 }, [0, 1, 5, 6])).toEqual([false, true, false, true]);
    // whole seconds: 0.95 s apart across a second boundary is one second apart
    expect(logged({ type: 'detect', count: 1, seconds: 1 }, [3, 4])).toEqual([false, false]);
  });
  it('detect: an evaluation that does not count (a later detection_filter of the same tree) is tested all the same', () => {
    // a new node starts at 0 when its first test does not count
    expect(logged({ type: 'detect', count: 0, seconds: 10 }, [0, 0], [false, true])).toEqual([false, true]);
  });
});

describe('config event_queue and config detection: max_queue_events', () => {
  it('reads max_queue, log, order_events, process_all_events and max_queue_events; Snort defaults otherwise', () => {
    const set = ruleSetOf('');
    expect(readEventQueueConfig(set).config).toEqual({ maxQueueEvents: 5, maxEvents: 8, log: 3, order: 'content_length', processAll: false });
    const conf = ruleSetOf('');
    const text =
      'config event_queue: max_queue 10 log 3, order_events priority process_all_events\nconfig detection: search-method ac-split max_queue_events 7\n';
    const parsed = ruleSetOf(text);
    conf.configs.push(parsed.files[0]!);
    expect(readEventQueueConfig(conf)).toEqual({
      config: { maxQueueEvents: 7, maxEvents: 10, log: 3, order: 'priority', processAll: true },
      problems: [],
    });
  });
  it('rules alone get the event queue of Snort 2.9.20 shipped snort.conf (log 5)', () => {
    expect(compileText('alert tcp any any -> any any (content:"a"; sid:1;)\n').plan.eventQueue).toMatchObject({
      log: 5,
      maxEvents: 8,
      maxQueueEvents: 5,
    });
  });
});

describe('the event queue (fpdetect.c fpAddMatch, fpFinalSelectEvent; event_queue.c)', () => {
  const sixRules = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'].map((c, k) => `alert tcp any any -> any any (content:"${c}"; sid:${k + 1};)`);
  it('keeps the first max_queue_events matches of an action in evaluation order: the patterns first found', () => {
    const r = compileText(`${sixRules.join('\n')}\n`);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    const sids = (payload: string) => m.inspect(itemOfPacket(tcpPacket(payload))).map((e) => e.rule.sid);
    expect(sids('AAA BBB CCC DDD EEE FFF').sort()).toEqual([1, 2, 3, 4, 5]);
    expect(sids('FFF EEE DDD CCC BBB AAA').sort()).toEqual([2, 3, 4, 5, 6]);
  });
  it('an event an event filter keeps from the log still takes its place among the `log` first', () => {
    const rules = [
      'alert tcp any any -> any any (content:"AAAAAA"; threshold:type threshold, track by_src, count 5, seconds 60; sid:1;)',
      'alert tcp any any -> any any (content:"BBBBB"; sid:2;)',
      'alert tcp any any -> any any (content:"CCCC"; sid:3;)',
    ];
    const r = compileText(`${rules.join('\n')}\n`);
    r.plan.eventQueue = { ...r.plan.eventQueue, log: 2 };
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    // queued longest content first: 1 (filtered out), 2; the third is past the log
    expect(m.inspect(itemOfPacket(tcpPacket('AAAAAA BBBBB CCCC'))).map((e) => e.rule.sid)).toEqual([2]);
  });
  it('logs only the first action kind with events, unless process_all_events', () => {
    const text = 'log tcp any any -> any any (content:"a"; sid:1;)\nalert tcp any any -> any any (content:"a"; sid:2;)\n';
    const r = compileText(text);
    expect(new Matcher(r.plan, undefined, { checksumMode: 'none' }).inspect(itemOfPacket(tcpPacket('a'))).map((e) => e.rule.sid)).toEqual([2]);
    r.plan.eventQueue = { ...r.plan.eventQueue, processAll: true };
    expect(new Matcher(r.plan, undefined, { checksumMode: 'none' }).inspect(itemOfPacket(tcpPacket('a'))).map((e) => e.rule.sid)).toEqual([2, 1]);
  });
  it('sorts by the length of the fast pattern content, then the higher sid first', () => {
    const text = [
      'alert tcp any any -> any any (content:"ab"; content:"xyz"; sid:1;)',
      'alert tcp any any -> any any (content:"abcd"; sid:2;)',
      'alert tcp any any -> any any (content:"abcd"; sid:3;)',
    ].join('\n');
    const r = compileText(`${text}\n`);
    r.plan.eventQueue = { ...r.plan.eventQueue, log: 2 };
    expect(new Matcher(r.plan, undefined, { checksumMode: 'none' }).inspect(itemOfPacket(tcpPacket('abcd xyz'))).map((e) => e.rule.sid)).toEqual([
      3, 2,
    ]);
  });
});

function itemOfPacket(packet: ReturnType<typeof tcpPacket>) {
  return {
    kind: 'packet' as const,
    packet,
    flow: undefined,
    fromClient: true,
    established: false,
    streamInserted: false,
    segment: undefined,
    payload: undefined,
    http: [],
  };
}

/** The events of UDP payloads client -> server (ports 40000 -> 5000) through a pipeline (flows, flowbits). */
function udpEvents(rules: string[], payloads: string[], seconds: number[] = payloads.map(() => 0)): number[] {
  const r = compileText(`${rules.join('\n')}\n`);
  if (r.failures.length) throw new Error(r.failures.map((f) => f.reason).join('; '));
  const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
  const pipe = pipelineFor({ checksumMode: 'none' });
  const out: number[] = [];
  payloads.forEach((p, i) => {
    const frame = ethernet(
      buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { sport: 40000, dport: 5000 }, payload: new TextEncoder().encode(p) }),
    );
    for (const item of pipe.push(1, frame, 1_600_000_000 + seconds[i]!, 0, i)) for (const e of m.inspect(item)) out.push(e.rule.sid);
  });
  return out.sort((a, b) => a - b);
}

const udp = (body: string, sid: number, ports = 'any -> any') => `alert udp any ${ports.replace('->', '-> any')} (${body} sid:${sid};)`;

describe('port groups and rule trees (snort-order.ts, rule-tree.ts)', () => {
  it('a packet meets the destination port group, then the source port group, then the any-any group', () => {
    const r = compileText(
      [
        udp('content:"a";', 1, 'any -> 5000'),
        udp('content:"a";', 2, '40000 -> any'),
        udp('content:"a";', 3),
        udp('content:"a";', 4, '40000 -> 5000'),
      ].join('\n'),
    );
    const p = tcpPacket('a', { udp: { sport: 40000, dport: 5000 } });
    const groups = r.plan.rules.map((x: RulePlan) => portGroupsOf(x, p));
    expect(groups).toEqual([1 << GROUP_DST, 1 << GROUP_SRC, 1 << GROUP_ANY, (1 << GROUP_DST) | (1 << GROUP_SRC)]);
    // a check in the destination group comes before a set in the any-any group
    expect(udpEvents([udp('flowbits:isset,x;', 1, 'any -> 5000'), udp('flowbits:set,x;', 2)], ['a', 'a'])).toEqual([1, 2, 2]);
  });
  it('fast pattern rules of a group before the rules without one; fast pattern trees by where their pattern ends', () => {
    expect(udpEvents([udp('flowbits:set,x;', 1), udp('content:"a"; flowbits:isset,x;', 2)], ['a', 'a'])).toEqual([1, 1, 2]);
    const rules = [udp('content:"late"; flowbits:isnotset,x;', 1), udp('content:"early"; flowbits:set,x;', 2)];
    expect(udpEvents(rules, ['early late'])).toEqual([2]);
    expect(udpEvents(rules, ['late early'])).toEqual([1, 2]);
  });
  it("a rule's flowbits operations run after it matched, the last one first", () => {
    expect(udpEvents([udp('content:"a"; flowbits:set,x; flowbits:unset,x;', 1), udp('flowbits:isset,x;', 2)], ['a'])).toEqual([1, 2]);
  });
  it('isnotset negates isset of the whole list', () => {
    const rules = [udp('content:"a"; flowbits:set,x;', 1), udp('flowbits:isnotset,x|y;', 2), udp('flowbits:isnotset,x&y;', 3)];
    expect(udpEvents(rules, ['a'])).toEqual([1, 3]);
  });
  it('a flowbits node two matching rules share does not run its operation', () => {
    const rules = [udp('flowbits:isnotset,x;', 1), udp('flowbits:set,x;', 2), udp('flowbits:set,x;', 3)];
    expect(udpEvents(rules, ['a', 'a'])).toEqual([1, 1, 2, 2, 3, 3]);
    // one of them fails its header: the node has one matching child, x is set
    const one = [udp('flowbits:isnotset,x;', 1), udp('flowbits:set,x;', 2), `alert udp any any -> any 6000 (flowbits:set,x; sid:3;)`];
    expect(udpEvents(one, ['a', 'a'])).toEqual([1, 2, 2]);
    // a child node counts only when every rule below it matched: here the second rule's branch does not
    const branch = [udp('flowbits:isnotset,x;', 1), udp('flowbits:set,x;', 2), udp('flowbits:set,x; content:"zz";', 3)];
    expect(udpEvents(branch, ['a', 'a'])).toEqual([1, 2, 2]);
  });
  it('walks a tree depth first: rules that share their first options are evaluated one after the other', () => {
    const r = compileText([udp('flowbits:set,x;', 1), udp('flowbits:isset,y;', 2), udp('flowbits:set,x; flowbits:isset,z;', 3)].join('\n'));
    expect(depthFirst(r.plan.rules).map((x: RulePlan) => x.sid)).toEqual([1, 3, 2]);
  });
  it('the rules sharing a flowbits node are those whose options agree up to it, whatever the rules (sharing table)', () => {
    const option = fc.constantFrom(
      'content:"a";',
      'content:"b";',
      'dsize:>1;',
      'flowbits:set,x;',
      'flowbits:set,y;',
      'flowbits:unset,x;',
      'flowbits:toggle,y;',
      'flowbits:isset,x;',
      'flowbits:noalert;',
    );
    const CHANGES = ['set', 'unset', 'toggle', 'reset'];
    /** The keys of the nodes from the tree's root to r's operation j. */
    const path = (r: RulePlan, j: number) => (r.tree === undefined ? undefined : r.tree.keys.slice(0, r.tree.flowbitsAt[j]! + 1).join('\n'));
    fc.assert(
      fc.property(fc.array(fc.array(option, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), (bodies) => {
        const rules = compileText(bodies.map((b, i) => udp(b.join(' '), i + 1)).join('\n')).plan.rules;
        const shared = SharedNodes.of(rules);
        for (const r of rules)
          r.flowbits.forEach((fb, j) => {
            const mine = path(r, j);
            const want =
              !CHANGES.includes(fb.cmd) || mine === undefined
                ? []
                : rules.filter((o) => o !== r && o.flowbits.some((ofb, k) => CHANGES.includes(ofb.cmd) && path(o, k) === mine));
            expect(shared.sharing(r, j).map((x) => x.sid)).toEqual(want.map((x) => x.sid));
          });
      }),
      { numRuns: 150 },
    );
  });
  it('a damaged sharing table is told from a sound one (an artifact carrying one is refused)', () => {
    const rules = compileText([udp('flowbits:set,x;', 1), udp('flowbits:set,x;', 2), udp('flowbits:set,y;', 3), udp('flowbits:set,y;', 4)].join('\n'))
      .plan.rules;
    const sound = sharingTable(changeNodesOf(rules));
    expect(Array.from(sound.groupRules)).toEqual([0, 1, 2, 3]);
    expect(sharingTableSound(sound, rules.length)).toBe(true);
    const damages: ((t: SharingTable) => void)[] = [
      (t) => (t.rule[0] = rules.length),
      (t) => (t.rule[0] = -1),
      (t) => ([t.rule[0], t.rule[1]] = [t.rule[1]!, t.rule[0]!]),
      (t) => (t.op[0] = -1),
      (t) => (t.group[0] = 2),
      (t) => (t.groupStart[1] = 5),
      (t) => (t.groupStart[2] = 3),
      (t) => (t.groupRules[3] = rules.length),
      (t) => (t.op = t.op.subarray(1)),
      // rule 0's entry names the other group
      (t) => (t.group[0] = 1),
      // a group of one
      (t) => {
        t.groupStart = Int32Array.from([0, 1, 4]);
      },
      // members out of order
      (t) => ([t.groupRules[0], t.groupRules[1]] = [t.groupRules[1]!, t.groupRules[0]!]),
    ];
    for (const damage of damages) {
      const t: SharingTable = {
        rule: sound.rule.slice(),
        op: sound.op.slice(),
        group: sound.group.slice(),
        groupStart: sound.groupStart.slice(),
        groupRules: sound.groupRules.slice(),
      };
      damage(t);
      expect(sharingTableSound(t, rules.length), String(damage)).toBe(false);
    }
  });
  it('only the first detection_filter tested in one tree evaluation counts the event', () => {
    // both rules in the any-any tree of rules without a fast pattern: the first counts, the second stays at 0
    const rules = [udp('detection_filter:track by_src, count 1, seconds 60;', 1), udp('detection_filter:track by_src, count 1, seconds 60;', 2)];
    expect(udpEvents(rules, ['a', 'a', 'a'])).toEqual([1, 1]);
  });
  it('a detection_filter holds back the flowbits of its rule', () => {
    const rules = [udp('content:"a"; detection_filter:track by_src, count 1, seconds 60; flowbits:set,x;', 1), udp('flowbits:isset,x;', 2)];
    expect(udpEvents(rules, ['a', 'a'], [0, 1])).toEqual([1, 2]);
  });
});

describe('the shortcut past the tree walk (order-interaction.ts)', () => {
  // rules over three bits and two contents, some with a detection_filter; UDP datagrams of one flow
  const op = fc.constantFrom('set', 'unset', 'toggle', 'isset', 'isnotset', 'noalert', 'reset');
  const bits = fc.constantFrom('a', 'b', 'c', 'a|b', 'a&c');
  const ruleArb = fc.record({
    content: fc.constantFrom('', 'content:"a";', 'content:"b";', 'content:"ab";'),
    flowbits: fc.array(fc.tuple(op, bits), { maxLength: 2 }),
    df: fc.constantFrom('', '', '', 'detection_filter:track by_src, count 1, seconds 60;'),
    port: fc.constantFrom('any', '5000'),
  });
  const body = (r: { content: string; flowbits: [string, string][]; df: string }) =>
    r.content +
    r.flowbits
      .map(([o, b]) => {
        if (o === 'noalert' || o === 'reset') return `flowbits:${o};`;
        // set/unset/toggle take plain names: a|b and a&c only in checks
        return `flowbits:${o},${o === 'isset' || o === 'isnotset' ? b : b.replace(/[|&].*/, '')};`;
      })
      .join(' ') +
    r.df;
  const events = (rules: string[], payloads: string[], order: { alwaysInOrder?: boolean }): number[] => {
    const r = compileText(`${rules.join('\n')}\n`);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none', order });
    const pipe = pipelineFor({ checksumMode: 'none' });
    const out: number[] = [];
    payloads.forEach((p, i) => {
      const frame = ethernet(
        buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { sport: 40000, dport: 5000 }, payload: new TextEncoder().encode(p) }),
      );
      for (const item of pipe.push(1, frame, 1_600_000_000 + i, 0, i)) for (const e of m.inspect(item)) out.push(e.rule.sid);
    });
    return out;
  };
  it('a reset on the packet of a check is walked: the check whose pattern ends first runs before the reset', () => {
    const rules = [
      'alert udp any any -> any any (content:"z"; flowbits:reset; flowbits:noalert; sid:1;)',
      'alert udp any any -> any any (content:"a"; flowbits:isset,x; sid:2;)',
      'alert udp any any -> any any (content:"s"; flowbits:set,x; flowbits:noalert; sid:3;)',
    ];
    expect(events(rules, ['s', 'az'], {})).toEqual([2]);
    expect(events(rules, ['s', 'az'], { alwaysInOrder: true })).toEqual([2]);
    expect(events(rules, ['s', 'za'], {})).toEqual([]);
  });
  it('gives the events of the walk, in the same order, whatever the rules and packets', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { minLength: 1, maxLength: 7 }),
        fc.array(fc.constantFrom('a', 'b', 'ab', 'x'), { minLength: 1, maxLength: 5 }),
        (rs, payloads) => {
          const rules = rs.map((r, i) => `alert udp any any -> any ${r.port} (${body(r)} sid:${i + 1};)`);
          expect(events(rules, payloads, {})).toEqual(events(rules, payloads, { alwaysInOrder: true }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
