/** Runs one keyword's value parser and collects what it reported (codes and offsets); runs its plan conversion. */
import { KEYWORDS } from '../../src/keywords/index.js';
import { OptionError, planContext } from '../../src/match/plan-context.js';
import type { RulePlan } from '../../src/match/plan.js';

export interface Outcome {
  args: unknown;
  errors: string[];
  warnings: string[];
  /** Offsets (relative to the value) of the errors, for caret checks. */
  errorAt: (number | undefined)[];
}

export function parseValue(keyword: string, value: string | undefined): Outcome {
  const spec = KEYWORDS.get(keyword);
  if (!spec) throw new Error(`no keyword ${keyword}`);
  const out: Outcome = { args: undefined, errors: [], warnings: [], errorAt: [] };
  const args = spec.parse(value, {
    error(code, _message, at) {
      out.errors.push(code);
      out.errorAt.push(at);
    },
    warning(code) {
      out.warnings.push(code);
    },
  });
  out.args = out.errors.length ? undefined : args;
  return out;
}

/** A table row: the value and either the expected args (deep-equal, may be partial via objectContaining) or an error code. */
export type Row = [value: string | undefined, expected: { args: unknown } | { error: string }];

/** A plan row: the value and either the plan piece it compiles to or a pattern of the reason the matcher refuses it. */
export type PlanRow = [value: string | undefined, expected: { piece: unknown } | { refused: RegExp }];

/**
 * What one option adds to the matcher's plan: its value parsed, then its spec's `plan` run on an empty rule (after
 * `before`, options earlier in the rule, e.g. a byte_extract). The piece it added (a header test, op, flow test, ...)
 * or the reason the matcher refuses it.
 */
export function planValue(
  keyword: string,
  value: string | undefined,
  before: [string, string | undefined][] = [],
): { piece: unknown } | { refused: string } {
  const into = planContext(emptyRule());
  try {
    for (const [k, v] of [...before, [keyword, value] as [string, string | undefined]]) {
      const spec = KEYWORDS.get(k)!;
      const r = parseValue(k, v);
      if (r.errors.length) throw new Error(`${k}:${v} does not parse: ${r.errors.join(', ')}`);
      spec.plan?.(r.args, into);
    }
  } catch (e) {
    if (e instanceof OptionError) return { refused: e.message };
    throw e;
  }
  const rule = into.rule;
  const piece = rule.headers[0] ?? rule.ops[rule.ops.length - 1] ?? rule.flowbits[0] ?? rule.flow ?? rule.threshold ?? rule.detectionFilter;
  return { piece };
}

function emptyRule(): RulePlan {
  const none = { kind: 'none' } as unknown as RulePlan['src'];
  return {
    index: 0,
    gid: 1,
    sid: 1,
    rev: 0,
    msg: '',
    classtype: undefined,
    classDescription: undefined,
    priority: 0,
    action: 'alert',
    proto: 'tcp',
    src: none,
    srcPorts: none as unknown as RulePlan['srcPorts'],
    dst: none,
    dstPorts: none as unknown as RulePlan['dstPorts'],
    bidirectional: false,
    flow: undefined,
    flowbits: [],
    headers: [],
    ops: [],
    fastPattern: undefined,
    threshold: undefined,
    detectionFilter: undefined,
    contentLength: 0,
    file: 'test.rules',
    line: 1,
  };
}
