/**
 * The gateway's rules, from its config: the compiled matcher artifact (HwIPS_MATCHER), or rule files
 * (HwIPS_RULES) compiled here with the same compiler as `honeywall compile`, or none. One engine either way.
 */
import { existsSync } from 'node:fs';
import { LoadError, loadRuleSet } from '../config/ruleset.js';
import { ResolveError } from '../config/variables.js';
import { ArtifactError, matcherOf, readArtifact } from '../match/artifact.js';
import { compileRuleSet } from '../match/compile.js';
import { Matcher } from '../match/engine.js';
import { DEFAULT_ACTION_ORDER, DEFAULT_EVENT_QUEUE } from '../match/plan.js';

export interface MatcherSpec {
  /** Rule files (Snort 2.9 text), compiled at load. */
  rules: string[];
  /** Compiled matcher artifact (`honeywall compile`); wins over `rules` when set. */
  matcher?: string;
  /** Snort variables (HOME_NET, EXTERNAL_NET, ...). */
  vars: Record<string, string>;
  /** Load (and run inline) with no rules at all; otherwise an empty set is refused (`honeywall run --allow-empty`). */
  allowEmpty?: boolean;
}

/** The rules loaded are none and that was not asked for: starting (or reloading) would accept every packet. */
export class NoRulesError extends Error {
  constructor(
    readonly setting: 'HwIPS_RULES' | 'HwIPS_MATCHER',
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayMatcher {
  matcher: Matcher;
  /** A one-line description (source, rules loaded, rules that failed to compile). */
  description: string;
  /** Rules loaded. */
  rules: number;
}

function refuseEmpty(spec: MatcherSpec, setting: 'HwIPS_RULES' | 'HwIPS_MATCHER', what: string): void {
  if (!spec.allowEmpty) {
    throw new NoRulesError(setting, `${what}: every packet the firewall queues would be accepted (start with --allow-empty to run so on purpose)`);
  }
}

/** The gateway's matcher options. */
const INLINE = { checksumMode: 'none', inline: true, portGroups: true } as const;

function inline(m: ConstructorParameters<typeof Matcher>[0]): Matcher {
  return new Matcher(m, undefined, INLINE);
}

/** Throws an Error with a one-line message when a file is missing or does not load. */
export async function loadGatewayMatcher(spec: MatcherSpec): Promise<GatewayMatcher> {
  if (spec.matcher) {
    const path = spec.matcher;
    if (!existsSync(path)) throw new Error(`HwIPS_MATCHER: ${path}: no such file`);
    let artifact: ReturnType<typeof readArtifact>;
    try {
      artifact = readArtifact(path);
    } catch (err) {
      throw new Error(`HwIPS_MATCHER: ${err instanceof ArtifactError ? err.message : (err as Error).message}`);
    }
    const recorded = artifact.meta.vars as Record<string, string> | undefined;
    if (recorded !== undefined) {
      for (const [name, value] of Object.entries(spec.vars)) {
        if (recorded[name] !== undefined && recorded[name] !== value) {
          throw new Error(
            `HwIPS_MATCHER: ${path} was compiled with ${name}=${recorded[name]}, the config says ${value} (recompile with --var ${name}=${value})`,
          );
        }
      }
    }
    const repl = artifact.replaceRules ? `, ${artifact.replaceRules} with replace` : '';
    if (artifact.table.count === 0) refuseEmpty(spec, 'HwIPS_MATCHER', `${path} holds no rules`);
    let matcher: Matcher;
    try {
      matcher = matcherOf(path, artifact, INLINE);
    } catch (err) {
      if (err instanceof ArtifactError) throw new Error(`HwIPS_MATCHER: ${err.message}`);
      throw err;
    }
    return {
      matcher,
      description: `compiled matcher: ${artifact.table.count} rules from ${path}${repl}${artifact.table.count === 0 ? ' (--allow-empty): every packet is accepted' : ''}`,
      rules: artifact.table.count,
    };
  }
  if (spec.rules.length === 0) {
    refuseEmpty(spec, 'HwIPS_RULES', 'no rule files are set');
    return {
      matcher: inline({ rules: [], filters: [], actionOrder: DEFAULT_ACTION_ORDER, eventQueue: DEFAULT_EVENT_QUEUE }),
      description: 'no rules loaded (--allow-empty): every packet is accepted',
      rules: 0,
    };
  }
  for (const f of spec.rules) if (!existsSync(f)) throw new Error(`HwIPS_RULES: ${f}: no such file`);
  const vars = Object.entries(spec.vars)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}`);
  let compiled: ReturnType<typeof compileRuleSet>;
  try {
    compiled = compileRuleSet(loadRuleSet({ paths: spec.rules, vars, deferRuleFiles: true }));
  } catch (err) {
    if (err instanceof LoadError || err instanceof ResolveError) throw new Error(`HwIPS_RULES: ${err.message}`);
    throw err;
  }
  const plan = compiled.plan;
  if (plan.rules.length === 0) {
    const files = spec.rules.join(' ');
    refuseEmpty(
      spec,
      'HwIPS_RULES',
      compiled.failures.length ? `no rule of ${files} compiled (${compiled.failures.length} failed)` : `${files}: no rules`,
    );
  }
  const repl = plan.rules.filter((r) => r.ops.some((o) => o.op === 'content' && o.replace !== undefined)).length;
  const failed = compiled.failures.length
    ? `, ${compiled.failures.length} not loaded (${compiled.failures
        .slice(0, 3)
        .map((f) => `${f.file}:${f.line}: ${f.reason}`)
        .join('; ')}${compiled.failures.length > 3 ? '; ...' : ''})`
    : '';
  return {
    matcher: inline(plan),
    description: `rules compiled at load: ${plan.rules.length} rules from ${spec.rules.join(' ')}${repl ? `, ${repl} with replace` : ''}${failed}${plan.rules.length === 0 ? ' (--allow-empty): every packet is accepted' : ''}`,
    rules: plan.rules.length,
  };
}
