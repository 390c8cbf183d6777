/**
 * Whether the order in which a packet's candidate rules are evaluated can change what they match. Snort's order
 * (snort-order.ts, rule-tree.ts) decides outcomes only where rules of one packet act on each other: a flowbits
 * operation that changes a bit another candidate checks or changes, two detection_filters of one evaluation (only the
 * first counts the event), a detection_filter whose rule changes bits (they wait for its result). Walking the rule
 * trees costs far more than evaluating candidates in any order, and most packets whose candidates have flowbits only
 * check bits nobody on the packet changes (ET's `isset` rules): those are evaluated in any order, their changes
 * applied when they match, which is what the walk gives a rule sharing its nodes with no other matching rule.
 */
import type { FlowbitsOp, RulePlan } from './plan.js';
import type { Subject } from './subject.js';

const CHANGES: ReadonlySet<FlowbitsOp['cmd']> = new Set<FlowbitsOp['cmd']>(['set', 'unset', 'toggle', 'reset']);

/** What a rule's flowbits and detection_filter touch. */
interface Footprint {
  /** Bits it checks or changes. */
  touched: readonly string[];
  /** Bits it changes (set, unset, toggle). */
  changed: readonly string[];
  /** It has `flowbits:reset` (changes every bit). */
  resets: boolean;
  /** It has a detection_filter. */
  df: boolean;
}

function footprintOf(r: RulePlan): Footprint {
  const touched: string[] = [];
  const changed: string[] = [];
  let resets = false;
  for (const fb of r.flowbits) {
    if (fb.cmd === 'noalert') continue;
    if (fb.cmd === 'reset') resets = true;
    for (const b of fb.bits) {
      touched.push(b);
      if (CHANGES.has(fb.cmd)) changed.push(b);
    }
  }
  return { touched, changed, resets, df: r.detectionFilter !== undefined };
}

function changes(f: Footprint): boolean {
  return f.resets || f.changed.length > 0;
}

/** Footprints per rule index, made on first use (a rule set's rules are mostly never candidates). */
export class OrderInteraction {
  private readonly prints = new Map<number, Footprint>();

  private of(r: RulePlan): Footprint {
    let f = this.prints.get(r.index);
    if (f === undefined) {
      f = footprintOf(r);
      this.prints.set(r.index, f);
    }
    return f;
  }

  /**
   * Whether evaluating `rules` (the candidates with flowbits or a detection_filter, not yet matched on the item) in
   * another order could give another outcome.
   */
  matters(rules: readonly RulePlan[]): boolean {
    let dfs = 0;
    for (const r of rules) {
      const f = this.of(r);
      if (f.df && (changes(f) || ++dfs > 1)) return true;
    }
    for (let a = 0; a < rules.length; a++) {
      const fa = this.of(rules[a]!);
      if (!changes(fa)) continue;
      for (let b = 0; b < rules.length; b++) {
        if (b === a) continue;
        const fb = this.of(rules[b]!);
        if (fa.resets && fb.touched.length > 0) return true;
        if (fb.resets && fa.touched.length > 0) return true;
        for (const bit of fa.changed) if (fb.touched.includes(bit)) return true;
      }
    }
    return false;
  }
}

/** Applies one flowbits operation that changes bits (the others do nothing here). */
export function applyOp(fb: FlowbitsOp, s: Subject): void {
  if (fb.track !== undefined) {
    s.xbits?.apply(fb, s);
    return;
  }
  const flow = s.flow;
  // sp_flowbits.c: without a session nothing is set
  if (flow === undefined) return;
  switch (fb.cmd) {
    case 'set': {
      const bits = (flow.flowbits ??= new Set());
      for (const b of fb.bits) bits.add(b);
      break;
    }
    case 'unset':
      for (const b of fb.bits) flow.flowbits?.delete(b);
      break;
    case 'toggle': {
      const bits = (flow.flowbits ??= new Set());
      for (const b of fb.bits)
        if (bits.has(b)) bits.delete(b);
        else bits.add(b);
      break;
    }
    case 'reset':
      flow.flowbits?.clear();
      break;
    default:
      break;
  }
}

/** Applies the bit changes of a rule that matched, the last one written first (rule-tree.ts runTurns). */
export function applyChanges(r: RulePlan, s: Subject): void {
  for (let j = r.flowbits.length - 1; j >= 0; j--) applyOp(r.flowbits[j]!, s);
}

/** flowbits:noalert: the rule is never queued. */
export function isNoalert(r: RulePlan): boolean {
  return r.flowbits.some((fb) => fb.cmd === 'noalert');
}
