/**
 * One rule through convert: modify edits, the policy decision, the flowbits:noalert guard, replace insertion,
 * direction reversal, the dialect's action forms. The result is a list of edits on the rule's node (minimal diffs:
 * action word, address fields, inserted options, a `# ` prefix) and an outcome for the report. Never throws on a rule.
 */
import type { Action, Edit, RuleNode } from '../ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parseRules } from '../parser/parse.js';
import { printNode } from '../parser/print.js';
import { decide, decideState, matches, type RuleContext } from './decide.js';
import type { ModifyLine, Policy, PolicyLine, PolicyType, StateLine } from './policy.js';
import { replaceInsertions } from './replace.js';
import { reverseRule, type AddressPairKind, type LiteralAddressPolicy } from './reverse.js';

export type Dialect = 'snort' | 'suricata';

export interface ConvertRuleOptions {
  policy: Policy;
  honeynet: boolean;
  literalAddresses: LiteralAddressPolicy;
  dialect: Dialect;
  seed: number;
  /** What to do with a rule that cannot be converted: pass it through unchanged, or write it commented out. */
  onBadRule: 'keep' | 'disable';
  /**
   * Flowbits setters to keep enabled (key `gid:sid`), found by resolveFlowbits (flowbits.ts): each is enabled with
   * `flowbits:noalert` added when the input or the policy has it disabled, as suricata-update does.
   */
  flowbitsEnable?: ReadonlyMap<string, FlowbitsNeed>;
}

/** Why a setter is kept: the bits it sets that enabled rules check, and those rules (`gid:sid`). */
export interface FlowbitsNeed {
  bits: string[];
  checkedBy: string[];
}

export type RuleStatus = 'converted' | 'unchanged' | 'skipped' | 'disabled-input';

export type RuleNote =
  | { kind: 'replace-nothing'; wanted: PolicyType }
  | { kind: 'replace-fallback-drop' }
  | { kind: 'flowbits-noalert'; wanted: PolicyType }
  | { kind: 'addresses'; pair: AddressPairKind; swapped: boolean }
  | { kind: 'modified'; by: string[] }
  /** Enabled from a disabled input by an enable.conf line (`file:line`). */
  | { kind: 'enabled'; by: string }
  /** Disabled by a disable.conf line (`file:line`). */
  | { kind: 'state-disabled'; by: string }
  /** A setter another enabled rule needs, kept enabled with flowbits:noalert (`noalertAdded` when it was not there). */
  | { kind: 'flowbits-enabled'; bits: string[]; checkedBy: string[]; noalertAdded: boolean }
  | { kind: 'dialect'; from: string; to: string };

export interface RuleOutcome {
  line: number;
  gid: number;
  sid: number | undefined;
  status: RuleStatus;
  /** The action the rule has in the output, or `disabled` when it is written commented out. */
  result: Action | 'disabled' | 'unparsed';
  decidedBy: PolicyLine | undefined;
  replaced: number;
  notes: RuleNote[];
  /** Why the rule was skipped (status `skipped`). */
  reason?: string;
}

const BLOCKING: ReadonlySet<PolicyType> = new Set<PolicyType>(['drop', 'sdrop', 'reject', 'replace', 'replace_or_drop']);

/** A rule that only sets flowbits for other rules: `flowbits:noalert` (raw value, so it works before flowbits args exist). */
export function isFlowbitsNoalert(rule: Pick<RuleNode, 'options'>): boolean {
  return rule.options.some((o) => o.keyword === 'flowbits' && (o.value ?? '').trim().toLowerCase() === 'noalert');
}

/** `# ` at the start of every physical code line of the node (comment lines inside a continued rule stay as they are). */
export function disableEdits(node: { raw: string; span: { start: number } }): Edit[] {
  const edits: Edit[] = [];
  let pos = 0;
  while (pos < node.raw.length) {
    const nl = node.raw.indexOf('\n', pos);
    const end = nl === -1 ? node.raw.length : nl;
    const line = node.raw.slice(pos, end);
    const t = line.trimStart();
    if (t !== '' && t[0] !== '#' && t[0] !== ';' && t !== '\r') edits.push({ start: node.span.start + pos, end: node.span.start + pos, text: '# ' });
    if (nl === -1) break;
    pos = nl + 1;
  }
  return edits;
}

function appendOptionEdit(rule: RuleNode, text: string, option: string): Edit {
  const last = rule.options[rule.options.length - 1];
  if (!last) return { start: rule.body.start, end: rule.body.start, text: `${option};` };
  const closed = text.charCodeAt(last.span.end - 1) === 59;
  return { start: last.span.end, end: last.span.end, text: `${closed ? ' ' : '; '}${option};` };
}

function applicableModifies(rule: RuleNode, ctx: RuleContext, modify: readonly ModifyLine[]): ModifyLine[] {
  return modify.filter((m) => m.matchers === undefined || m.matchers.some((x) => matches(x, rule, ctx)));
}

/** Converts one enabled, valid rule. `text` is the text `rule`'s spans point into. */
/** What the state stage (enable/disable files, flowbits resolution) decided for an enabled rule. */
interface StateOutcome {
  disabledBy?: StateLine;
  flowbits?: FlowbitsNeed;
  /** The rule was written disabled and is being enabled (for flowbits, or by an enable line). */
  wasDisabled?: boolean;
}

function convertValid(
  rule: RuleNode,
  text: string,
  ctx: RuleContext,
  opts: ConvertRuleOptions,
  line: number,
  st: StateOutcome = {},
): { edits: Edit[]; outcome: RuleOutcome } {
  const outcome: RuleOutcome = {
    line,
    gid: rule.gid,
    sid: rule.sid,
    status: 'unchanged',
    result: rule.header.action.value,
    decidedBy: undefined,
    replaced: 0,
    notes: [],
  };
  const edits: Edit[] = [];
  let action: Action = rule.header.action.value;
  let disable = false;

  const decision = decide(rule, ctx, opts.policy);
  outcome.decidedBy = decision;
  // A needed setter gets flowbits:noalert when it would otherwise be off (disabled in the input or by the policy):
  // it now runs only for the rules that check its bits, as suricata-update enables it.
  const off = st.wasDisabled === true || st.disabledBy !== undefined || decision?.type === 'disable';
  const keep = st.flowbits !== undefined && off;
  const addNoalert = keep && !isFlowbitsNoalert(rule);
  if (keep) {
    outcome.notes.push({ kind: 'flowbits-enabled', bits: st.flowbits!.bits, checkedBy: st.flowbits!.checkedBy, noalertAdded: addNoalert });
    if (addNoalert) edits.push(appendOptionEdit(rule, text, 'flowbits:noalert'));
  } else if (st.disabledBy) {
    outcome.notes.push({ kind: 'state-disabled', by: `${st.disabledBy.file}:${st.disabledBy.line}` });
    disable = true;
  }
  if (decision && !(keep && decision.type === 'disable')) {
    const type = decision.type;
    if (BLOCKING.has(type) && (isFlowbitsNoalert(rule) || addNoalert)) {
      // A flowbits setter keeps a non-blocking action whatever the policy says (dropping it blocks traffic silently).
      outcome.notes.push({ kind: 'flowbits-noalert', wanted: type });
      if (action === 'drop' || action === 'sdrop' || action === 'reject') action = 'alert';
    } else if (type === 'replace' || type === 'replace_or_drop') {
      const inserted = replaceInsertions(rule, text, opts.seed);
      if (inserted.length > 0) {
        for (const r of inserted) edits.push(r.edit);
        outcome.replaced = inserted.length;
        action = 'alert';
      } else if (type === 'replace_or_drop') {
        outcome.notes.push({ kind: 'replace-fallback-drop' });
        action = 'drop';
      } else outcome.notes.push({ kind: 'replace-nothing', wanted: type });
    } else if (type === 'disable') disable = true;
    else action = type as Action;
  }

  // A rule written disabled keeps its text behind `# ` (not reversed): converting twice stays an involution.
  if (opts.honeynet && !disable) {
    const rev = reverseRule(rule, text, opts.literalAddresses);
    if (rev.refused) {
      return {
        edits: [],
        outcome: {
          ...outcome,
          status: 'skipped',
          result: rule.header.action.value,
          replaced: 0,
          reason: `${rev.kind} addresses (${text.slice(rule.header.src.span.start, rule.header.src.span.end)} -> ${text.slice(rule.header.dst.span.start, rule.header.dst.span.end)}) and --literal-addresses error`,
        },
      };
    }
    outcome.notes.push({ kind: 'addresses', pair: rev.kind, swapped: rev.swapped });
    edits.push(...rev.edits);
  }

  let actionText: string = action;
  if (opts.dialect === 'suricata') {
    if (action === 'sdrop') {
      actionText = 'drop';
      edits.push(appendOptionEdit(rule, text, 'noalert'));
      outcome.notes.push({ kind: 'dialect', from: 'sdrop', to: 'drop + noalert' });
    } else if (action === 'log') {
      actionText = 'alert';
      outcome.notes.push({ kind: 'dialect', from: 'log', to: 'alert' });
    } else if (action === 'activate' || action === 'dynamic') {
      return {
        edits: [],
        outcome: { ...outcome, status: 'skipped', result: rule.header.action.value, replaced: 0, reason: `Suricata has no '${action}' action` },
      };
    }
  }
  if (actionText !== rule.header.action.text)
    edits.push({ start: rule.header.action.span.start, end: rule.header.action.span.end, text: actionText });
  if (disable) edits.push(...disableEdits(rule));
  outcome.result = disable ? 'disabled' : action;
  outcome.status = edits.length > 0 ? 'converted' : 'unchanged';
  return { edits, outcome };
}

export interface RuleInput {
  rule: RuleNode;
  /** The file text. */
  text: string;
  line: number;
  /** The first error reported for this rule, when it is invalid. */
  error: Diagnostic | undefined;
}

/** Converts one rule node; sets nothing on the node: the caller assigns `edits`. */
export function convertRule(input: RuleInput, ctx: RuleContext, opts: ConvertRuleOptions): { edits: Edit[]; outcome: RuleOutcome } {
  const { rule, text, line } = input;
  const base = baseOutcome(rule, line);
  const key = rule.sid === undefined ? undefined : `${rule.gid}:${rule.sid}`;
  const flowbits = key === undefined ? undefined : opts.flowbitsEnable?.get(key);
  const state = opts.policy.state.length > 0 ? decideState(rule, ctx, opts.policy) : undefined;
  if (!rule.disabled) return convertEnabled(input, ctx, opts, { flowbits, disabledBy: state?.type === 'disable' ? state : undefined });
  if (state?.type !== 'enable' && flowbits === undefined) return { edits: [], outcome: { ...base, status: 'disabled-input', result: 'disabled' } };
  // Enabling a rule written disabled: its text without the `# `, parsed again and converted as an enabled rule. A
  // rule disabled over several lines (every line commented) is left as it is: no rule set writes them that way.
  const prefix = rule.disabledPrefix;
  if (!prefix || text.slice(rule.span.start, rule.span.end).trimEnd().includes('\n'))
    return { edits: [], outcome: { ...base, status: 'disabled-input', result: 'disabled' } };
  const raw = text.slice(rule.span.start, prefix.start) + text.slice(prefix.end, rule.span.end);
  const reparsed = parseRules(raw, { file: `${ctx.path}:${line} (enabled)` });
  const nodes = reparsed.file.nodes.filter((n) => n.kind !== 'blank');
  const node = nodes[0];
  const err = reparsed.diagnostics.find((d) => d.severity === 'error');
  if (nodes.length !== 1 || !node || node.kind !== 'rule' || node.disabled)
    return { edits: [], outcome: { ...base, status: 'disabled-input', result: 'disabled' } };
  const inner = convertEnabled({ rule: node, text: raw, line, error: err }, ctx, { ...opts, onBadRule: 'keep' }, { flowbits, wasDisabled: true });
  if (inner.outcome.status === 'skipped') {
    // Left disabled as written, and said why: an enable line asked for a rule that does not parse.
    return { edits: [], outcome: { ...inner.outcome, result: 'disabled', reason: `cannot be enabled: ${inner.outcome.reason ?? 'skipped'}` } };
  }
  node.edits = inner.edits;
  if (state?.type === 'enable') inner.outcome.notes.unshift({ kind: 'enabled', by: `${state.file}:${state.line}` });
  return {
    edits: [{ start: rule.span.start, end: rule.span.end, text: printNode(node) }],
    outcome: { ...inner.outcome, status: 'converted' },
  };
}

function baseOutcome(rule: RuleNode, line: number): RuleOutcome {
  return { line, gid: rule.gid, sid: rule.sid, status: 'unchanged', result: rule.header.action.value, decidedBy: undefined, replaced: 0, notes: [] };
}

/** An enabled rule (as written, or after its `# ` came off): modify, then the decision. */
function convertEnabled(input: RuleInput, ctx: RuleContext, opts: ConvertRuleOptions, st: StateOutcome): { edits: Edit[]; outcome: RuleOutcome } {
  const { rule, text, line } = input;
  const base = baseOutcome(rule, line);
  if (rule.invalid) return skip(rule, base, input.error ? `${input.error.code}: ${input.error.message}` : 'the rule has errors', opts);

  const mods = applicableModifies(rule, ctx, opts.policy.modify);
  if (mods.length > 0) {
    let raw = rule.raw;
    const by: string[] = [];
    for (const m of mods) {
      m.from.lastIndex = 0;
      const next = raw.replace(m.from, m.to);
      if (next !== raw) by.push(`${m.file}:${m.line}`);
      raw = next;
    }
    if (by.length > 0) {
      const reparsed = parseRules(raw, { file: `${ctx.path}:${line} (after modify)` });
      const nodes = reparsed.file.nodes.filter((n) => n.kind !== 'blank');
      const err = reparsed.diagnostics.find((d) => d.severity === 'error');
      const node = nodes[0];
      if (nodes.length !== 1 || !node || node.kind !== 'rule' || err) {
        const why = err ? `${err.code}: ${err.message}` : 'it is no longer one rule';
        return skip(rule, base, `modify (${by.join(', ')}) made the rule unusable: ${why}`, opts);
      }
      if (node.disabled) {
        const outcome: RuleOutcome = {
          ...base,
          gid: node.gid,
          sid: node.sid,
          status: 'converted',
          result: 'disabled',
          notes: [{ kind: 'modified', by }],
        };
        return { edits: [{ start: rule.span.start, end: rule.span.end, text: raw }], outcome };
      }
      const inner = convertValid(node, raw, ctx, opts, line, st);
      node.edits = inner.edits;
      const printed = printNode(node);
      inner.outcome.notes.unshift({ kind: 'modified', by });
      if (inner.outcome.status === 'skipped') return skip(rule, base, inner.outcome.reason ?? 'skipped', opts);
      inner.outcome.status = 'converted';
      return { edits: [{ start: rule.span.start, end: rule.span.end, text: printed }], outcome: inner.outcome };
    }
  }
  const r = convertValid(rule, text, ctx, opts, line, st);
  if (r.outcome.status === 'skipped') return skip(rule, r.outcome, r.outcome.reason ?? 'skipped', opts);
  return r;
}

function skip(node: RuleNode, base: RuleOutcome, reason: string, opts: ConvertRuleOptions): { edits: Edit[]; outcome: RuleOutcome } {
  const edits = opts.onBadRule === 'disable' ? disableEdits(node) : [];
  return {
    edits,
    outcome: {
      ...base,
      status: 'skipped',
      result: opts.onBadRule === 'disable' ? 'disabled' : node.header.action.value,
      replaced: 0,
      notes: [],
      reason,
    },
  };
}
