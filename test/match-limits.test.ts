/**
 * Bounded, deterministic work per packet (budget.ts): the hostile cases of the engine issue, and a property over
 * generated rules and packets. Work is measured by the matcher's own counts (pcre calls and steps, bytes searched,
 * option evaluations), never by a clock; `npm run bench` reports the time the hostile cases take.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PCRE_CALLS_BASE,
  PCRE_CALLS_PER_4_BYTES,
  PCRE_STEPS_BASE,
  PCRE_STEPS_PER_BYTE,
  RULE_OPS_LIMIT,
  SEARCH_BYTES_BASE,
  SEARCH_BYTES_PER_BYTE,
} from '../src/match/budget.js';
import { Matcher } from '../src/match/engine.js';
import { buildIp } from '../src/packet/build.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import { etDir } from './helpers/corpus.js';
import { compileText, itemOf } from './helpers/match.js';

function udp(payload: string, dport = 5555) {
  return decodeIpPacket(
    buildIp({ ip: { src: '10.1.1.1', dst: '192.168.1.2' }, udp: { sport: 1234, dport }, payload: Buffer.from(payload, 'latin1') }),
  );
}

/** The most one item may cost, for an item of `bytes` payload bytes. */
function allowance(bytes: number) {
  return {
    pcreSteps: PCRE_STEPS_BASE + PCRE_STEPS_PER_BYTE * bytes,
    pcreCalls: PCRE_CALLS_BASE + PCRE_CALLS_PER_4_BYTES * (bytes >>> 2),
    searchBytes: SEARCH_BYTES_BASE + SEARCH_BYTES_PER_BYTE * bytes,
  };
}

/** What inspecting one item cost (differences of the matcher's counters). */
function costOf(m: Matcher, inspect: () => void) {
  const before = { ...m.stats };
  inspect();
  return {
    pcreSteps: m.stats.pcreSteps - before.pcreSteps,
    pcreCalls: m.stats.pcreCalls - before.pcreCalls,
    searchBytes: m.stats.searchBytes - before.searchBytes,
  };
}

describe('the hostile cases of the engine issue', () => {
  it('content:"a"; pcre:"/(a*)*\\1b/R" re-run at every "a": PCRE runs once, every "a" is still tried', () => {
    const r = compileText('alert udp any any -> any any (msg:"h1"; content:"a"; pcre:"/(a*)*\\1b/R"; sid:1;)\n');
    expect(r.failures).toEqual([]);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    for (const n of [400, 1600]) {
      // the search from the first "a" finds nothing; a pattern that cannot look before where it starts then finds
      // nothing from any later "a" either, so the other tries are answered without PCRE (pcre-exec.ts suffixClosed)
      const cost = costOf(m, () => expect(m.inspect(itemOf(udp('a'.repeat(n))))).toEqual([]));
      expect(cost.pcreCalls).toBe(1);
      expect(m.limits.any).toBe(0);
    }
    // the same pattern with an "a" at the end of a "b" run: found, after the retries that came before it
    expect(m.inspect(itemOf(udp(`${'x'.repeat(300)}aab`))).map((e) => e.rule.sid)).toEqual([1]);
    // 65,000 bytes: the rule's own count of option evaluations (RULE_OPS_LIMIT) ends it, and says so
    const big = costOf(m, () => expect(m.inspect(itemOf(udp('a'.repeat(65_000))))).toEqual([]));
    expect(big.pcreCalls).toBe(1);
    expect(m.limits.byRule.get('1:1')?.ruleOps).toBe(1);
  });

  it('the same with a lookbehind (PCRE re-run at every "a"): bounded by the allowances, the same answer every time', () => {
    const r = compileText('alert udp any any -> any any (msg:"h1b"; content:"a"; pcre:"/(?<=a)(a*)*\\1b/R"; sid:1;)\n');
    expect(r.failures).toEqual([]);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    for (const n of [400, 1600, 65000]) {
      const results = new Set<string>();
      for (let round = 0; round < 3; round++) {
        const cost = costOf(m, () => expect(m.inspect(itemOf(udp('a'.repeat(n))))).toEqual([]));
        const max = allowance(n);
        expect(cost.pcreSteps).toBeLessThanOrEqual(max.pcreSteps);
        expect(cost.pcreCalls).toBeLessThanOrEqual(max.pcreCalls);
        // a search may overshoot the allowance by the one search that spends it
        expect(cost.searchBytes).toBeLessThanOrEqual(max.searchBytes + n);
        results.add(JSON.stringify(cost));
      }
      expect(results.size).toBe(1);
    }
    // 400 bytes: every "a" is tried (399 pcre calls, each rejected by PCRE at once: no "b" anywhere)
    const small = costOf(m, () => m.inspect(itemOf(udp('a'.repeat(400)))));
    expect(small.pcreCalls).toBe(399);
    // the long ones reached the search allowance, and said so
    expect(m.limits.total.searchBytes).toBeGreaterThan(0);
    expect(m.limits.byRule.get('1:1')?.searchBytes).toBe(m.limits.total.searchBytes);
  });

  it.skipIf(!existsSync(etDir))('ET sid 2016323 on a 60 KB datagram repeating "\\r\\nST:": every occurrence tried, within the allowance', () => {
    const text = readFileSync(join(etDir, 'emerging-dos.rules'), 'utf8')
      .split('\n')
      .find((l) => l.includes('sid:2016323;'))!;
    const r = compileText(`${text}\n`, ['HOME_NET=192.168.0.0/16']);
    expect(r.failures).toEqual([]);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    const payload = '\r\nST:'.repeat(12_000);
    const cost = costOf(m, () => expect(m.inspect(itemOf(udp(payload, 1900)))).toEqual([]));
    // the anchored pcre runs once per occurrence of its content (Snort would too), each a few steps
    expect(cost.pcreCalls).toBe(11_999);
    const max = allowance(payload.length);
    expect(cost.pcreSteps).toBeLessThan(max.pcreSteps);
    expect(cost.searchBytes).toBeLessThan(max.searchBytes);
    expect(m.limits.any).toBe(0);
    // and the attack itself is still seen
    const attack = `\r\nST:uuid:${'x'.repeat(181)}`;
    expect(m.inspect(itemOf(udp('\r\nST:'.repeat(2000) + attack, 1900))).map((e) => e.rule.sid)).toEqual([2016323]);
  });
});

// ------------------------------------------------------------------------------------------- the property

const piece = fc.constantFrom('a', 'b', 'ab', 'aa', '|00|', 'x');
const contentOpt = fc
  .tuple(piece, fc.boolean(), fc.constantFrom('', ' distance:0;', ' within:4;', ' offset:1;', ' depth:6;'))
  .map(([p, nocase, pos]) => `content:"${p}";${nocase ? ' nocase;' : ''}${pos}`);
// patterns chosen for backtracking: nested quantifiers, backreferences, alternations of overlapping words
const pcreOpt = fc
  .tuple(
    fc.constantFrom('(a*)*b', '(a|aa)+[bc]', '(a+)+$', '(\\w+\\s?)*x', '(a*)*\\1b', '^(a|ab)*c', '(?=a)(a+)+b', 'a.*?b.*?c'),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([re, rel, neg]) => `pcre:${neg ? '!' : ''}"/${re}/${rel ? 'R' : ''}";`);
const byteOpt = fc.constantFrom(
  'byte_jump:1,0,relative;',
  'byte_test:1,>,97,0,relative;',
  'isdataat:1,relative;',
  'byte_jump:1,0,relative,from_beginning;',
);
const rule = fc.array(fc.oneof({ weight: 3, arbitrary: contentOpt }, { weight: 2, arbitrary: pcreOpt }, { weight: 1, arbitrary: byteOpt }), {
  minLength: 1,
  maxLength: 5,
});
const payload = fc
  .tuple(fc.array(fc.constantFrom('a', 'a', 'a', 'b', 'c', ' ', 'x', '\x00', '\x02'), { maxLength: 64 }), fc.integer({ min: 1, max: 200 }))
  .map(([unit, times]) => unit.join('').repeat(times));

describe('work per packet stays within the allowance (property)', () => {
  it('any generated rules on any generated packet', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 6 }), payload, (rules, data) => {
        const text = rules.map((opts, i) => `alert udp any any -> any any (${opts.join(' ')} sid:${i + 1};)`).join('\n') + '\n';
        const compiled = compileText(text);
        if (compiled.plan.rules.length === 0) return;
        checked++;
        const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
        const cost = costOf(m, () => m.inspect(itemOf(udp(data))));
        const max = allowance(data.length);
        const what = `${text} on ${data.length} bytes: ${JSON.stringify(cost)}`;
        expect(cost.pcreSteps, what).toBeLessThanOrEqual(max.pcreSteps);
        expect(cost.pcreCalls, what).toBeLessThanOrEqual(max.pcreCalls);
        expect(cost.searchBytes, what).toBeLessThanOrEqual(max.searchBytes + data.length);
        expect(m.stats.ruleOps).toBeLessThanOrEqual(m.stats.evaluated * (RULE_OPS_LIMIT + 1));
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(200);
  });
});
