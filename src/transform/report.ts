/**
 * The convert report: rules per resulting action, per deciding policy line, replaced contents, skipped rules with
 * reasons, and the lists the issue asks for (flowbits setters kept non-blocking, literal/mixed addresses, ...).
 * Every rule of every input is counted exactly once in `totals` (and, unless skipped or already disabled, in `byAction`).
 */
import type { RefusedRule } from '../suricata/translate.js';
import type { ConvertResult, MissingInclude } from './convert.js';
import type { Dialect, RuleOutcome } from './convert-rule.js';
import type { PolicyType } from './policy.js';
import type { LiteralAddressPolicy } from './reverse.js';

export interface RuleRef {
  file: string;
  line: number;
  sid: number | undefined;
}

export interface ConvertReport {
  policy: string;
  honeynet: boolean;
  dialect: Dialect;
  seed: number;
  literalAddresses: LiteralAddressPolicy;
  files: { input: string; output: string; rules: number; converted: number; skipped: number }[];
  totals: { rules: number; converted: number; unchanged: number; disabledInInput: number; skipped: number };
  /** Resulting action of every rule that is neither skipped nor disabled in the input; `disabled` = disabled by policy. */
  byAction: Record<string, number>;
  /** Per deciding policy line (`file:line`), in policy order; `(none)` for rules no line touched. */
  byPolicyLine: { line: string; type: string; text: string; rules: number }[];
  replaced: { rules: number; contents: number };
  replaceFallbackDrop: RuleRef[];
  replaceNothing: (RuleRef & { wanted: PolicyType })[];
  flowbitsNoalert: (RuleRef & { wanted: PolicyType })[];
  addresses: {
    swapped: number;
    same: number;
    variables: number;
    mixed: (RuleRef & { swapped: boolean })[];
    literal: (RuleRef & { swapped: boolean })[];
  };
  dialectChanges: Record<string, number>;
  modified: RuleRef[];
  /** Enabled from a disabled input by an enable line (`by`: file:line). */
  enabled: (RuleRef & { by: string })[];
  /** Disabled by a disable line (`by`: file:line). */
  stateDisabled: (RuleRef & { by: string })[];
  /** Flowbits setters kept enabled for the enabled rules that check their bits. */
  flowbitsEnabled: (RuleRef & { bits: string[]; checkedBy: string[]; noalertAdded: boolean })[];
  skipped: (RuleRef & { reason: string })[];
  /** Suricata rules without a mapping to the engine (src/suricata): written as comments, not converted. */
  untranslated: RefusedRule[];
  missingIncludes: MissingInclude[];
}

export function buildReport(
  result: ConvertResult,
  meta: { policy: string; honeynet: boolean; dialect: Dialect; seed: number; literalAddresses: LiteralAddressPolicy },
): ConvertReport {
  const rep: ConvertReport = {
    ...meta,
    files: [],
    totals: { rules: 0, converted: 0, unchanged: 0, disabledInInput: 0, skipped: 0 },
    byAction: {},
    byPolicyLine: [],
    replaced: { rules: 0, contents: 0 },
    replaceFallbackDrop: [],
    replaceNothing: [],
    flowbitsNoalert: [],
    addresses: { swapped: 0, same: 0, variables: 0, mixed: [], literal: [] },
    dialectChanges: {},
    modified: [],
    enabled: [],
    stateDisabled: [],
    flowbitsEnabled: [],
    skipped: [],
    untranslated: [],
    missingIncludes: result.missingIncludes,
  };
  const lines = new Map<string, { line: string; type: string; text: string; rules: number; order: number }>();
  let none = 0;
  for (const f of result.files) {
    if (f.kind !== 'rules') continue;
    const row = { input: f.input, output: f.outputName, rules: f.outcomes.length, converted: 0, skipped: 0 };
    rep.files.push(row);
    for (const u of f.untranslated) rep.untranslated.push(u);
    for (const o of f.outcomes) {
      const ref: RuleRef = { file: f.input, line: o.line, sid: o.sid };
      countOutcome(rep, row, o, ref);
      if (o.status === 'skipped' || o.status === 'disabled-input') continue;
      if (f.testRules) continue;
      if (o.decidedBy) {
        const key = `${o.decidedBy.file}:${o.decidedBy.line}`;
        const e = lines.get(key) ?? { line: key, type: o.decidedBy.type, text: o.decidedBy.text, rules: 0, order: o.decidedBy.line };
        e.rules++;
        lines.set(key, e);
      } else none++;
    }
  }
  rep.byPolicyLine = [...lines.values()].sort((a, b) => a.order - b.order).map(({ order: _o, ...rest }) => rest);
  if (none > 0) rep.byPolicyLine.push({ line: '(none)', type: '-', text: 'no policy line matched', rules: none });
  return rep;
}

function countOutcome(rep: ConvertReport, row: ConvertReport['files'][number], o: RuleOutcome, ref: RuleRef): void {
  rep.totals.rules++;
  if (o.status === 'skipped') {
    rep.totals.skipped++;
    row.skipped++;
    rep.skipped.push({ ...ref, reason: o.reason ?? 'skipped' });
    return;
  }
  if (o.status === 'disabled-input') {
    rep.totals.disabledInInput++;
    return;
  }
  if (o.status === 'converted') {
    rep.totals.converted++;
    row.converted++;
  } else rep.totals.unchanged++;
  rep.byAction[o.result] = (rep.byAction[o.result] ?? 0) + 1;
  if (o.replaced > 0) {
    rep.replaced.rules++;
    rep.replaced.contents += o.replaced;
  }
  for (const n of o.notes) {
    switch (n.kind) {
      case 'replace-fallback-drop':
        rep.replaceFallbackDrop.push(ref);
        break;
      case 'replace-nothing':
        rep.replaceNothing.push({ ...ref, wanted: n.wanted });
        break;
      case 'flowbits-noalert':
        rep.flowbitsNoalert.push({ ...ref, wanted: n.wanted });
        break;
      case 'addresses':
        if (n.swapped) rep.addresses.swapped++;
        if (n.pair === 'same') rep.addresses.same++;
        else if (n.pair === 'variables') rep.addresses.variables++;
        else rep.addresses[n.pair].push({ ...ref, swapped: n.swapped });
        break;
      case 'dialect': {
        const k = `${n.from} -> ${n.to}`;
        rep.dialectChanges[k] = (rep.dialectChanges[k] ?? 0) + 1;
        break;
      }
      case 'modified':
        rep.modified.push(ref);
        break;
      case 'enabled':
        rep.enabled.push({ ...ref, by: n.by });
        break;
      case 'state-disabled':
        rep.stateDisabled.push({ ...ref, by: n.by });
        break;
      case 'flowbits-enabled':
        rep.flowbitsEnabled.push({ ...ref, bits: n.bits, checkedBy: n.checkedBy, noalertAdded: n.noalertAdded });
        break;
    }
  }
}

function refText(r: RuleRef): string {
  return `${r.file}:${r.line}${r.sid !== undefined ? ` (sid ${r.sid})` : ''}`;
}

/** A human summary; lists are cut to `limit` entries each (the JSON report has them all). */
export function formatReport(rep: ConvertReport, limit = 20): string {
  const out: string[] = [];
  const list = <T>(title: string, items: T[], fmt: (t: T) => string) => {
    if (items.length === 0) return;
    out.push(`${title} (${items.length}):`);
    for (const i of items.slice(0, limit)) out.push(`  ${fmt(i)}`);
    if (items.length > limit) out.push(`  ... ${items.length - limit} more (see --report json)`);
  };
  out.push(`policy ${rep.policy}; ${rep.honeynet ? 'honeynet (direction reversed); ' : ''}dialect ${rep.dialect}; seed ${rep.seed}`);
  const t = rep.totals;
  out.push(
    `rules: ${t.rules} (${t.converted} converted, ${t.unchanged} unchanged, ${t.disabledInInput} disabled in input, ${t.skipped} skipped) in ${rep.files.length} file(s)`,
  );
  out.push('by resulting action:');
  for (const [a, n] of Object.entries(rep.byAction).sort((x, y) => y[1] - x[1])) out.push(`  ${a.padEnd(9)} ${n}`);
  out.push('by deciding policy line:');
  for (const l of rep.byPolicyLine) out.push(`  ${String(l.rules).padStart(6)}  ${l.line}  ${l.text}`);
  out.push(
    `replace: ${rep.replaced.contents} content(s) in ${rep.replaced.rules} rule(s); ${rep.replaceFallbackDrop.length} replace_or_drop rule(s) fell back to drop`,
  );
  if (rep.honeynet)
    out.push(
      `addresses: ${rep.addresses.swapped} swapped (${rep.addresses.variables} variable pairs), ${rep.addresses.same} identical, ${rep.addresses.mixed.length} mixed, ${rep.addresses.literal.length} literal (--literal-addresses ${rep.literalAddresses})`,
    );
  for (const [k, n] of Object.entries(rep.dialectChanges)) out.push(`dialect ${rep.dialect}: ${k}: ${n}`);
  list('replace with nothing rewritable (action kept)', rep.replaceNothing, (r) => refText(r));
  list('flowbits:noalert rules kept non-blocking', rep.flowbitsNoalert, (r) => `${refText(r)} (policy wanted ${r.wanted})`);
  list('mixed addresses', rep.addresses.mixed, (r) => `${refText(r)}${r.swapped ? ' swapped' : ' kept'}`);
  list('literal addresses', rep.addresses.literal, (r) => `${refText(r)}${r.swapped ? ' swapped' : ' kept'}`);
  list('modified by [modify]', rep.modified, refText);
  list('enabled by an enable line', rep.enabled, (r) => `${refText(r)} by ${r.by}`);
  list('disabled by a disable line', rep.stateDisabled, (r) => `${refText(r)} by ${r.by}`);
  list(
    'flowbits setters kept enabled',
    rep.flowbitsEnabled,
    (r) =>
      `${refText(r)}: sets ${r.bits.join(', ')} checked by ${r.checkedBy.slice(0, 5).join(', ')}${r.checkedBy.length > 5 ? ', ...' : ''}${r.noalertAdded ? ' (flowbits:noalert added)' : ''}`,
  );
  list('missing includes', rep.missingIncludes, (m) => `${m.file}:${m.line}: include ${m.include} (${m.resolved}) does not exist`);
  list('skipped', rep.skipped, (s) => `${refText(s)}: ${s.reason}`);
  list(
    'not translated from Suricata (no mapping; written as comments)',
    rep.untranslated,
    (u) => `${u.file}:${u.line}:${u.column}${u.sid !== undefined ? ` sid ${u.sid}` : ''}: ${u.reason}`,
  );
  return out.join('\n') + '\n';
}
