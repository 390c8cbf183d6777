/**
 * The policy decision for one rule, with snortconfig's precedence: [classifications], then [files], then [sids]
 * (each later stage overrides an earlier one: the last applied wins), then the extended [rules] matchers in file order
 * (again the last match wins). Returns the deciding policy line, or undefined when the policy does not touch the rule.
 */
import type { RuleNode } from '../ast.js';
import type { MetadataArgs } from '../keywords/general.js';
import type { Matcher, Policy, PolicyLine, StateLine } from './policy.js';

export interface RuleContext {
  /** The rule file's path as given (for `filename:`). */
  path: string;
  /** The rule file's basename, e.g. `emerging-exploit.rules` (for [files] and `group:`). */
  basename: string;
}

/** What decide() needs of a rule: a RuleNode has it all. */
export type DecidableRule = Pick<RuleNode, 'gid' | 'sid' | 'classtype' | 'raw' | 'options'> & { rev?: number | undefined };

export function fileKey(basename: string): string {
  return basename.replace(/\.rules$/, '');
}

export function decide(rule: DecidableRule, ctx: RuleContext, policy: Policy): PolicyLine | undefined {
  let decision: PolicyLine | undefined;
  if (rule.classtype !== undefined) decision = policy.classifications.get(rule.classtype) ?? decision;
  decision = policy.files.get(fileKey(ctx.basename)) ?? decision;
  if (rule.sid !== undefined) decision = policy.sids.get(`${rule.gid}:${rule.sid}`) ?? policy.sids.get(String(rule.sid)) ?? decision;
  for (const r of policy.rules) if (matches(r.matcher, rule, ctx)) decision = r;
  return decision;
}

/**
 * The state a section-less enable.conf / disable.conf gives a rule, as suricata-update applies them: disable
 * matchers first, then enable matchers (so an enable match wins whatever the order of the files). The line that
 * decided, or undefined when no line matches.
 */
export function decideState(rule: DecidableRule, ctx: RuleContext, policy: Policy): StateLine | undefined {
  let disable: StateLine | undefined;
  for (const s of policy.state) {
    if (!matches(s.matcher, rule, ctx)) continue;
    if (s.type === 'enable') return s;
    disable ??= s;
  }
  return disable;
}

export function matches(m: Matcher, rule: DecidableRule, ctx: RuleContext): boolean {
  switch (m.kind) {
    case 'all':
      return true;
    case 'sid':
      return rule.sid === m.sid && (m.gid === undefined || m.gid === rule.gid) && (m.rev === undefined || m.rev === rule.rev);
    case 'sid-range':
      return rule.gid === m.gid && rule.sid !== undefined && rule.sid >= m.from && rule.sid <= m.to;
    case 're':
      return m.re.test(rule.raw);
    case 'group':
      // suricata-update documents both `group:emerging-icmp.rules` and `group:emerging-dos`.
      return m.glob.test(ctx.basename) || m.glob.test(fileKey(ctx.basename));
    case 'filename':
      return m.glob.test(ctx.path);
    case 'classtype':
      return rule.classtype === m.name;
    case 'category':
      return m.re.test(fileKey(ctx.basename));
    case 'metadata':
      return m.ci
        ? metadataPairs(rule).some((p) => p.key.toLowerCase() === m.key.toLowerCase() && p.value.toLowerCase() === m.value.toLowerCase())
        : metadataPairs(rule).some((p) => p.key === m.key && p.value === m.value);
  }
}

function metadataPairs(rule: DecidableRule): MetadataArgs {
  const out: MetadataArgs = [];
  for (const o of rule.options) {
    if (o.keyword !== 'metadata') continue;
    if (Array.isArray(o.args)) out.push(...(o.args as MetadataArgs));
    else if (o.value !== undefined) {
      for (const part of o.value.split(',')) {
        const t = part.trim();
        const sp = t.search(/\s/);
        out.push(sp === -1 ? { key: t, value: '' } : { key: t.slice(0, sp), value: t.slice(sp).trim() });
      }
    }
  }
  return out;
}
