/**
 * Flowbits dependencies resolved as suricata-update resolves them: a rule that ends up enabled and checks a bit
 * (`isset`, `isnotset`) needs the rules that set it (`set`, `toggle`); a setter the input or the policy leaves
 * disabled is enabled (convert adds `flowbits:noalert`, so it only feeds the rules that check it). Repeated until
 * nothing changes, since an enabled setter may itself check other bits. Keys are `gid:sid`, as suricata-update's.
 *
 * This is a pass over the rules before convert: it only reads each rule's state and its flowbits options (facts of
 * a few strings per rule), so a large set costs one more parse and no syntax trees kept.
 */
import type { Node } from '../ast.js';
import { LineMap } from '../diagnostics/diagnostic.js';
import { scanRules } from '../parser/parse.js';
import type { FlowbitsNeed } from './convert-rule.js';
import { decide, decideState, type RuleContext } from './decide.js';
import type { Policy } from './policy.js';

interface Facts {
  key: string;
  enabled: boolean;
  sets: string[];
  checks: string[];
}

const SETS = new Set(['set', 'toggle']);
const CHECKS = new Set(['isset', 'isnotset']);

/** The bits of a `flowbits:OP,NAME[&NAME|NAME][,GROUP]` value. */
function flowbitsOps(value: string): { op: string; bits: string[] } {
  const parts = value.split(',');
  const op = (parts[0] ?? '').trim().toLowerCase();
  const bits = (parts[1] ?? '')
    .split(/[&|]/)
    .map((b) => b.trim())
    .filter((b) => b !== '');
  return { op, bits };
}

function factsOf(node: Node, ctx: RuleContext, policy: Policy): Facts | undefined {
  if (node.kind !== 'rule' || node.sid === undefined) return undefined;
  const state = policy.state.length > 0 ? decideState(node, ctx, policy) : undefined;
  let enabled: boolean;
  if (node.disabled) enabled = state?.type === 'enable';
  else enabled = state?.type !== 'disable' && decide(node, ctx, policy)?.type !== 'disable';
  const sets: string[] = [];
  const checks: string[] = [];
  for (const o of node.options) {
    if (o.keyword !== 'flowbits' || o.value === undefined) continue;
    const { op, bits } = flowbitsOps(o.value);
    if (SETS.has(op)) sets.push(...bits);
    else if (CHECKS.has(op)) checks.push(...bits);
  }
  if (!enabled && sets.length === 0) return undefined;
  return { key: `${node.gid}:${node.sid}`, enabled, sets, checks };
}

export interface FlowbitsInput {
  text: string;
  ctx: RuleContext;
}

/** The setters to enable (the ones the input and policy leave disabled), with the bits and the rules that need them. */
export function resolveFlowbits(files: readonly FlowbitsInput[], policy: Policy): Map<string, FlowbitsNeed> {
  const facts: Facts[] = [];
  for (const f of files) {
    scanRules(f.text, { file: f.ctx.path, lines: new LineMap(f.text) }, (node) => {
      const x = factsOf(node, f.ctx, policy);
      if (x && (x.enabled || x.sets.length > 0)) facts.push(x);
    });
  }
  const out = new Map<string, FlowbitsNeed>();
  const enabled = new Set(facts.filter((f) => f.enabled).map((f) => f.key));
  for (;;) {
    // bit -> the enabled rules that check it
    const needed = new Map<string, string[]>();
    for (const f of facts) {
      if (!enabled.has(f.key)) continue;
      for (const b of f.checks) {
        const l = needed.get(b) ?? [];
        if (l.length < 20 && !l.includes(f.key)) l.push(f.key);
        needed.set(b, l);
      }
    }
    let changed = false;
    for (const f of facts) {
      if (enabled.has(f.key)) continue;
      const bits = f.sets.filter((b) => needed.has(b));
      if (bits.length === 0) continue;
      enabled.add(f.key);
      out.set(f.key, { bits, checkedBy: [...new Set(bits.flatMap((b) => needed.get(b)!))] });
      changed = true;
    }
    if (!changed) return out;
  }
}
