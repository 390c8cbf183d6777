/**
 * What a keyword's plan conversion (the `plan` of its spec in src/keywords) writes into while `compile.ts` compiles
 * a rule, and the error it throws when the matcher cannot use the keyword's typed arguments. Compile time only.
 */
import type { NumOrVar } from '../keywords/values.js';
import type { RulePlan, SetBufferOp, Value } from './plan.js';

/**
 * A rule the matcher cannot compile, with the reason (Snort's words where Snort refuses the rule too) and a stable
 * code for the report (lint's code where lint reports the same problem).
 */
export class OptionError extends Error {
  constructor(
    message: string,
    readonly code = 'cannot-compile',
    /** Offset in the file of what failed (an option, a header field), when known: the report's column. */
    public at: number | undefined = undefined,
  ) {
    super(message);
  }
}

/** The buffers a payload option reads when it names none (the cursor setters switch between them). */
export type CursorBuffer = SetBufferOp['buf'];

/** The rule being compiled, with what its earlier options left for the later ones. */
export interface PlanContext {
  readonly rule: RulePlan;
  /** byte_extract variables defined so far; a variable's slot is its index (Snort allows two per rule). */
  readonly variables: string[];
  /** The buffer of payload options that name none: file_data, pkt_data and base64_data set it. */
  buffer: CursorBuffer;
  /** A base64_decode came earlier in the rule (base64_data reads its output). */
  base64Decoded: boolean;
}

/** A fresh context for one rule. */
export function planContext(rule: RulePlan): PlanContext {
  return { rule, variables: [], buffer: 'pkt', base64Decoded: false };
}

/** A number as it is, a byte_extract variable as its slot; the variable must be defined earlier in the rule. */
export function slotValue(v: NumOrVar, into: PlanContext, what: string): Value {
  if (typeof v === 'number') return v;
  const slot = into.variables.indexOf(v.variable);
  if (slot < 0) throw new OptionError(`${what}: '${v.variable}' is not a byte_extract variable defined earlier in the rule`);
  return { var: slot };
}
