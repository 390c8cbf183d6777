/**
 * The numeric comparison several keywords compile to (dsize, ttl, tos, id, window, itype, icode, ip_proto,
 * stream_size, urilen): the typed argument's form, its plan form (`NumTest`) and its evaluation.
 */
import type { NumTest } from '../match/plan.js';

/** A typed comparison as the keyword modules parse it: one number, or a range from `value` to `max`. */
export interface TypedComparison {
  op: '=' | '!' | '<' | '>' | '<=' | '>=' | 'range';
  value: number;
  max?: number;
}

/**
 * The plan form of a typed comparison. `range` says how the keyword's Snort module checks a range: inclusively
 * (`<=>`: dsize, ttl, urilen) or exclusively (`<>`: itype, icode).
 */
export function numTestOf(t: TypedComparison, range: '<>' | '<=>'): NumTest {
  if (t.op === 'range') return { op: range, a: t.value, b: t.max ?? t.value };
  return { op: t.op, a: t.value };
}

export function numTestOk(t: NumTest, x: number): boolean {
  switch (t.op) {
    case '=':
      return x === t.a;
    case '<':
      return x < t.a;
    case '>':
      return x > t.a;
    case '<=':
      return x <= t.a;
    case '>=':
      return x >= t.a;
    case '!':
      return x !== t.a;
    case '<>':
      return x > t.a && x < (t.b ?? 0);
    case '<=>':
      return x >= t.a && x <= (t.b ?? 0);
  }
}
