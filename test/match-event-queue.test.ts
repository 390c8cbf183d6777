/**
 * The event queue's two paths (src/match/decide.ts): matches of one rule go through selectOne, the others through
 * finalSelect once per detection. Both stay because one rule is what nearly every matched item has (finalSelect's
 * per-kind lists and sort for it were most of what selecting an event allocated, and its code what a shard thread
 * compiled most for it); the law is that for one rule they queue the same events, answer the same pass, and ask
 * the detection_filter, the session's alert list and the logged hook the same questions in the same order. Generated
 * over every flag bit, action, detection_filter or none, and queue settings down to zero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventDecider, MATCH_PHASE_SHIFT, matchPhase } from '../src/match/decide.js';
import type { EventQueueConfig } from '../src/match/event-filters.js';
import type { RuleAction, RulePlan } from '../src/match/plan.js';
import { DEFAULT_ACTION_ORDER } from '../src/match/plan.js';
import { compileText } from './helpers/match.js';

type Df = (r: RulePlan, flags: number) => boolean;
type Alerted = (k: number) => boolean;
type Logged = ((r: RulePlan) => void) | undefined;
/** The decider's private paths, called directly. */
type Paths = {
  selectOne(r: RulePlan, f: number, df: Df, alerted: Alerted, logged: Logged, queued: RulePlan[]): boolean;
  finalSelect(
    m: { rules: RulePlan[]; flags: number[] },
    phase: number,
    silent: boolean,
    df: Df,
    alerted: Alerted,
    logged: Logged,
    queued: RulePlan[],
  ): boolean;
};

const ACTIONS: RuleAction[] = ['alert', 'log', 'pass', 'drop', 'sdrop', 'reject'];
const base = compileText('alert tcp any any -> any any (msg:"r"; content:"x"; sid:7;)\n').plan.rules[0]!;

describe('the event queue: one rule through selectOne as through finalSelect', () => {
  it('on generated flags, actions, detection_filter answers and queue settings', () => {
    fc.assert(
      fc.property(
        fc.record({
          action: fc.constantFrom(...ACTIONS),
          detectionFilter: fc.boolean(),
          flagBits: fc.nat({ max: 31 }),
          phase: fc.nat({ max: 3 }),
          dfAnswer: fc.boolean(),
          alertedAnswer: fc.boolean(),
          withLogged: fc.boolean(),
          silent: fc.boolean(),
          prequeued: fc.nat({ max: 3 }),
          queue: fc.record({
            maxQueueEvents: fc.nat({ max: 3 }),
            maxEvents: fc.nat({ max: 3 }),
            log: fc.nat({ max: 3 }),
            order: fc.constantFrom('content_length' as const, 'priority' as const),
            processAll: fc.boolean(),
          }),
        }),
        (c) => {
          const rule: RulePlan = {
            ...base,
            action: c.action,
            detectionFilter: c.detectionFilter ? { track: 'by_src', count: 2, seconds: 60 } : undefined,
          };
          const flags = c.flagBits | (c.phase << MATCH_PHASE_SHIFT);
          const decider = new EventDecider({ filters: [], actionOrder: DEFAULT_ACTION_ORDER, eventQueue: c.queue as EventQueueConfig });
          const paths = decider as unknown as Paths;
          const run = (path: 'one' | 'final') => {
            const calls: string[] = [];
            const df = (r: RulePlan, f: number) => (calls.push(`df ${r.sid} ${f}`), c.dfAnswer);
            const alerted = (k: number) => (calls.push(`alerted ${k}`), c.alertedAnswer);
            const logged = c.withLogged ? (r: RulePlan) => void calls.push(`logged ${r.sid}`) : undefined;
            const queued: RulePlan[] = Array.from({ length: c.prequeued }, () => base);
            let pass = false;
            if (path === 'one') pass = paths.selectOne(rule, flags, df, alerted, logged, queued);
            else {
              // queueOf's loop over the detections, for matches of this one rule
              const phases = matchPhase(flags) + 1;
              for (let phase = 0; phase < phases; phase++)
                if (paths.finalSelect({ rules: [rule], flags: [flags] }, phase, c.silent, df, alerted, logged, queued)) pass = true;
            }
            return { pass, queued: queued.length, calls };
          };
          expect(run('one')).toEqual(run('final'));
        },
      ),
      { numRuns: 2000, seed: 20261205 },
    );
  });
});
