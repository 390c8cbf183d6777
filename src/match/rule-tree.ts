/**
 * One packet's rules evaluated as Snort 2.9.20 walks its rule trees, where that decides the outcome (flowbits set and
 * checked by rules of the same packet, detection_filter). The turns (snort-order.ts) come grouped by tree; within a
 * tree, detection_options.c:
 *
 * - The rules' options are one tree (fpcreate.c otn_create_tree): rules share a node while their options agree from
 *   the first, children in the order they were first added; it is walked depth first, so rules sharing a beginning
 *   are evaluated one after the other, and a shared node (a flowbits check among them) is evaluated once.
 * - A flowbits operation that changes bits (set, unset, toggle, reset) runs when the walk leaves its node, after the
 *   node's children, and only when exactly one child matched (`flowbits_setoperation && result ==
 *   DETECTION_OPTION_MATCH`): a leaf counts when its rule matched, a child node when every rule below it did. Two
 *   rules that both match through one `flowbits:set,x` node therefore leave x unset. Nested operations run innermost
 *   first.
 * - The leaf of a rule that matched tests its detection_filter (the first one tested in a tree evaluation counts the
 *   event, eval_data->detection_filter_count) and queues the rule unless a `flowbits:noalert` is above it.
 * - A node keeps its result for the packet: a rule that matched in one port group is not evaluated again in the
 *   next, one whose flowbits check failed is (detection_option_node_evaluate, last_check.flowbit_failed).
 * - That flag is wider than the failed check's node: eval_data->flowbit_failed, set by the first flowbits check that
 *   fails in a tree evaluation, stays set for the rest of it, and every node whose evaluation ends after it is marked
 *   last_check.flowbit_failed (detection_options.c, end of detection_option_node_evaluate). When Snort runs detection
 *   on the same packet again (http_inspect's Detect then Preprocess's, pipeline.ts detectTwice), those nodes are
 *   evaluated afresh and their leaves queue their rules again, while a leaf reached before the failure returns its
 *   cached result without queueing: `failedAfter` collects the rules the walk processed once a check had failed in
 *   their tree (the first detection), which the second detection evaluates again.
 */
import {
  eventPacketOf,
  flowbitCheckPasses,
  MATCH_DF_DONE,
  MATCH_DF_FIRST,
  MATCH_NOALERT,
  type EventDecider,
  type EventPacket,
  type Matches,
} from './decide.js';
import type { FlowbitsOp, RulePlan, RuleTree } from './plan.js';
import { applyOp } from './order-interaction.js';
import { setsFlowbits } from './rule-table.js';
import type { Turn } from './snort-order.js';
import type { Subject } from './subject.js';

/** What walking a packet's trees needs of the evaluator. */
export interface TurnEvaluator {
  /** All of the rule but its flowbits checks, on this subject (the caller caches it). */
  matches(r: RulePlan): boolean;
  /** Whether the rule already matched on this item. */
  matched(r: RulePlan): boolean;
  setMatched(r: RulePlan): void;
  /** The other rules whose node keys agree with r's up to its flowbits operation j (sharedNodes). */
  sharing(r: RulePlan, j: number): readonly RulePlan[];
  /** Whether a rule that is no candidate stands in this tree (its header did not match the packet). */
  inTree(r: RulePlan, tree: number): boolean;
  /** Counts an evaluation (statistics). */
  evaluated?(): void;
}

const CHANGES = new Set<FlowbitsOp['cmd']>(['set', 'unset', 'toggle', 'reset']);

/** The key of the node of flowbits operation j: the keys from the tree's root to it (rules share it when they agree). */
function flowbitsNodeKey(t: RuleTree, j: number): string {
  return t.keys.slice(0, t.flowbitsAt[j]! + 1).join('\n');
}

/** The key of the node of r's flowbits operation j when the operation changes bits, else undefined. */
function changeNodeKey(r: RulePlan, j: number): string | undefined {
  const t = r.tree;
  if (t === undefined || !CHANGES.has(r.flowbits[j]!.cmd)) return undefined;
  return flowbitsNodeKey(t, j);
}

/** A rule's flowbits operation that changes bits, and the key of its node (two rules share the node when keys agree). */
export interface ChangeNode {
  rule: number;
  op: number;
  key: string;
}

/** The change nodes of rules (numbered by their place in `rules`), rule by rule, op by op. */
export function changeNodesOf(rules: readonly RulePlan[]): ChangeNode[] {
  const out: ChangeNode[] = [];
  rules.forEach((r, i) => changeNodesOfRule(r, i, out));
  return out;
}

/** Rule `r`'s change nodes (numbered `i`), added to `out`. */
export function changeNodesOfRule(r: RulePlan, i: number, out: ChangeNode[]): void {
  for (let j = 0; j < r.flowbits.length; j++) {
    const key = changeNodeKey(r, j);
    if (key !== undefined) out.push({ rule: i, op: j, key });
  }
}

/**
 * The change nodes that more than one rule shares, as the artifact stores them: entries (rule, op, group) ascending
 * by rule then op, and each group's rules ascending (`groupRules[groupStart[g] .. groupStart[g + 1])`). Made when
 * the rules are compiled, so that a matcher never reads the plans of every rule with flowbits to learn which share a
 * node (reading them was ~120 ms of each shard thread's first packets with ET Open).
 */
export interface SharingTable {
  rule: Int32Array;
  op: Int32Array;
  group: Int32Array;
  groupStart: Int32Array;
  groupRules: Int32Array;
}

/** The sharing table of change nodes (any order). */
export function sharingTable(nodes: readonly ChangeNode[]): SharingTable {
  const byKey = new Map<string, ChangeNode[]>();
  for (const n of nodes) {
    const l = byKey.get(n.key);
    if (l === undefined) byKey.set(n.key, [n]);
    else l.push(n);
  }
  const shared = [...byKey.values()].filter((l) => l.length > 1).map((l) => l.slice().sort((a, b) => a.rule - b.rule));
  // groups numbered by their first rule (then op): the table does not depend on the order nodes came in
  shared.sort((a, b) => a[0]!.rule - b[0]!.rule || a[0]!.op - b[0]!.op);
  const entries: { rule: number; op: number; group: number }[] = [];
  const groupStart = new Int32Array(shared.length + 1);
  const groupRules: number[] = [];
  shared.forEach((l, g) => {
    for (const n of l) {
      entries.push({ rule: n.rule, op: n.op, group: g });
      groupRules.push(n.rule);
    }
    groupStart[g + 1] = groupRules.length;
  });
  entries.sort((a, b) => a.rule - b.rule || a.op - b.op);
  return {
    rule: Int32Array.from(entries, (e) => e.rule),
    op: Int32Array.from(entries, (e) => e.op),
    group: Int32Array.from(entries, (e) => e.group),
    groupStart,
    groupRules: Int32Array.from(groupRules),
  };
}

/**
 * Whether a sharing table read from a file is one sharingTable could have made for `count` rules: entries ascending
 * by (rule, op), one entry per group member (a group of two or more rules, ascending, in range), each entry's rule a
 * member of its group.
 */
export function sharingTableSound(t: SharingTable, count: number): boolean {
  const n = t.rule.length;
  const groups = t.groupStart.length - 1;
  if (t.op.length !== n || t.group.length !== n || groups < 0 || t.groupStart[0] !== 0 || t.groupStart[groups] !== n || t.groupRules.length !== n)
    return false;
  for (let g = 0; g < groups; g++) {
    const from = t.groupStart[g]!;
    const to = t.groupStart[g + 1]!;
    if (to - from < 2) return false;
    for (let m = from; m < to; m++)
      if (t.groupRules[m]! < 0 || t.groupRules[m]! >= count || (m > from && t.groupRules[m - 1]! >= t.groupRules[m]!)) return false;
  }
  for (let k = 0; k < n; k++) {
    if (t.rule[k]! < 0 || t.rule[k]! >= count || t.op[k]! < 0 || t.group[k]! < 0 || t.group[k]! >= groups) return false;
    if (k > 0 && (t.rule[k - 1]! > t.rule[k]! || (t.rule[k - 1] === t.rule[k] && t.op[k - 1]! >= t.op[k]!))) return false;
    if (!memberOf(t, t.group[k]!, t.rule[k]!)) return false;
  }
  return true;
}

/** Whether rule i is among group g's (ascending) rules. */
function memberOf(t: SharingTable, g: number, i: number): boolean {
  let lo = t.groupStart[g]!;
  let hi = t.groupStart[g + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.groupRules[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < t.groupStart[g + 1]! && t.groupRules[lo] === i;
}

/**
 * Which rules share the node of a flowbits operation that changes bits: the rules whose node keys agree up to it
 * (the sharing table's groups). A member's plan is read when its group is first asked for.
 */
export class SharedNodes {
  /** The first entry of each rule that has one. */
  private readonly firstEntry = new Map<number, number>();

  constructor(
    private readonly table: SharingTable,
    private readonly plan: (i: number) => RulePlan,
  ) {
    for (let k = table.rule.length - 1; k >= 0; k--) this.firstEntry.set(table.rule[k]!, k);
  }

  /** Over plans in memory (rule i is rules[i], and its index i, as in a rule table). */
  static of(rules: readonly RulePlan[]): SharedNodes {
    return new SharedNodes(sharingTable(changeNodesOf(rules)), (i) => rules[i]!);
  }

  /** The other rules sharing the node of r's operation j. */
  sharing(r: RulePlan, j: number): RulePlan[] {
    const t = this.table;
    const first = this.firstEntry.get(r.index);
    if (first === undefined) return [];
    for (let k = first; k < t.rule.length && t.rule[k] === r.index; k++) {
      if (t.op[k] !== j) continue;
      const g = t.group[k]!;
      const out: RulePlan[] = [];
      for (let m = t.groupStart[g]!; m < t.groupStart[g + 1]!; m++) if (t.groupRules[m] !== r.index) out.push(this.plan(t.groupRules[m]!));
      return out;
    }
    return [];
  }
}

function keysOf(r: RulePlan): readonly string[] {
  return r.tree?.keys ?? [`#${r.index}`];
}

interface TrieNode {
  /** Children in the order they were added: a key's node, or a rule's leaf. */
  entries: ({ node: TrieNode } | { leaf: RulePlan })[];
  byKey: Map<string, TrieNode>;
}

/** The rules of one tree (in the order they are added) in the order the depth-first walk reaches their leaves. */
export function depthFirst(rules: readonly RulePlan[]): RulePlan[] {
  if (rules.length < 2) return rules.slice();
  const root: TrieNode = { entries: [], byKey: new Map() };
  for (const r of rules) {
    let n = root;
    for (const k of keysOf(r)) {
      let c = n.byKey.get(k);
      if (c === undefined) {
        c = { entries: [], byKey: new Map() };
        n.byKey.set(k, c);
        n.entries.push({ node: c });
      }
      n = c;
    }
    n.entries.push({ leaf: r });
  }
  const out: RulePlan[] = [];
  const walk = (n: TrieNode): void => {
    for (const e of n.entries) {
      if ('leaf' in e) out.push(e.leaf);
      else walk(e.node);
    }
  };
  walk(root);
  return out;
}

function samePrefix(a: RulePlan, b: RulePlan | undefined, through: number): boolean {
  if (b === undefined) return false;
  const ka = keysOf(a);
  const kb = keysOf(b);
  if (kb.length <= through) return false;
  for (let k = 0; k <= through; k++) if (ka[k] !== kb[k]) return false;
  return true;
}

/**
 * Walks the packet's turns (sorted, snort-order.ts) tree by tree, appending what matched to `out` (decide.ts
 * Matches). `reevaluate`: a rule is evaluated again in a later port group even when it matched (Snort does that when
 * its nodes are not shared between the two groups' trees, which depends on the other rules of the groups).
 */
export function runTurns(
  turns: readonly Turn[],
  s: Subject,
  decider: EventDecider,
  ev: TurnEvaluator,
  out: Matches,
  reevaluate = false,
  failedAfter?: Set<RulePlan>,
): void {
  let p: EventPacket | undefined;
  for (let from = 0; from < turns.length; ) {
    const tree = turns[from]!.tree;
    let to = from;
    const inOrder: RulePlan[] = [];
    while (to < turns.length && turns[to]!.tree === tree) inOrder.push(turns[to++]!.rule);
    from = to;
    const rules = depthFirst(inOrder);
    const here = new Set(rules);
    const before = new Set(reevaluate ? [] : rules.filter((r) => ev.matched(r)));
    // the leaf results of this tree evaluation (a rule that matched earlier on the packet keeps its result)
    const leaf = new Set<RulePlan>();
    // flowbits check nodes evaluated in this tree: their result for the rules below them
    const checked = new Map<string, boolean>();
    let dfFirst = true;
    // eval_data->flowbit_failed of this tree's evaluation (tracked only when asked)
    let failed = false;
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k]!;
      const cached = before.has(r);
      if (cached) leaf.add(r);
      else {
        ev.evaluated?.();
        let ok = true;
        const t = r.tree;
        for (let j = 0; j < r.flowbits.length && ok; j++) {
          const fb = r.flowbits[j]!;
          if (fb.cmd !== 'isset' && fb.cmd !== 'isnotset') continue;
          if (t === undefined) {
            ok = flowbitCheckPasses(fb, s);
            if (!ok && failedAfter !== undefined) failed = true;
            continue;
          }
          const key = flowbitsNodeKey(t, j);
          let v = checked.get(key);
          if (v === undefined) {
            v = flowbitCheckPasses(fb, s);
            checked.set(key, v);
            // the check's node is reached when the options before it pass: known for a first option, or when the rest
            // of the rule matches (a rule whose other options fail is taken to fail before its check)
            if (!v && failedAfter !== undefined && !failed) failed = t.flowbitsAt[j] === 0 || ev.matches(r);
          }
          ok = v;
        }
        ok &&= ev.matches(r);
        let f = 0;
        if (ok && r.detectionFilter !== undefined) {
          const first = dfFirst;
          dfFirst = false;
          if (setsFlowbits(r)) {
            // its flowbits wait for the leaf's result, the detection_filter's: tested now
            p ??= eventPacketOf(s.packet);
            ok = decider.detectionFilterPasses(r, p, first);
            f |= MATCH_DF_DONE;
          } else if (first) f |= MATCH_DF_FIRST;
        }
        if (ok) {
          leaf.add(r);
          ev.setMatched(r);
          if (r.flowbits.some((fb) => fb.cmd === 'noalert')) f |= MATCH_NOALERT;
          if ((f & MATCH_NOALERT) === 0 || (r.detectionFilter !== undefined && (f & MATCH_DF_DONE) === 0)) {
            out.rules.push(r);
            out.flags.push(f);
          }
        }
      }
      // the walk leaves the nodes of r's operations that no later rule of the tree goes through: innermost first
      for (let j = r.flowbits.length - 1; j >= 0; j--) {
        const fb = r.flowbits[j]!;
        if (!CHANGES.has(fb.cmd)) continue;
        const at = r.tree?.flowbitsAt[j];
        if (at !== undefined && samePrefix(r, rules[k + 1], at)) continue;
        // a rule cached from an earlier group: its nodes were left then (the node kept its result)
        if (cached && !rules.some((o) => !before.has(o) && at !== undefined && samePrefix(r, o, at))) continue;
        if (nodeResult(r, j, tree, here, leaf, ev) === 1) applyOp(fb, s);
      }
      if (failed && !cached) failedAfter!.add(r);
    }
  }
}

/**
 * detection_option_node_evaluate's result for the node of r's flowbits operation j: its children that matched, a
 * leaf when its rule did, a child node when every rule below it did (rules of the tree that were no candidates did
 * not: their header failed).
 */
function nodeResult(r: RulePlan, j: number, tree: number, here: Set<RulePlan>, leaf: Set<RulePlan>, ev: TurnEvaluator): number {
  const t = r.tree;
  if (t === undefined) return leaf.has(r) ? 1 : 0;
  const at = t.flowbitsAt[j]!;
  const members: RulePlan[] = [r];
  for (const o of ev.sharing(r, j)) if (here.has(o) || ev.inTree(o, tree)) members.push(o);
  if (members.length === 1) return leaf.has(r) ? 1 : 0;
  let result = 0;
  const below = new Map<string, boolean>();
  for (const m of members) {
    const next = keysOf(m)[at + 1];
    const ok = here.has(m) && leaf.has(m);
    if (next === undefined) result += ok ? 1 : 0;
    else below.set(next, (below.get(next) ?? true) && ok);
  }
  for (const ok of below.values()) if (ok) result++;
  return result;
}
