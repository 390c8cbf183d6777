/**
 * What every rule keyword declares, in one place per keyword (cf. Snort 3 `ips_options`, Suricata `detect-*.c`):
 * its category, whether it takes a value, how the value parses into typed arguments, the checks Snort makes when it
 * loads the rule, and the piece of the matcher's plan the typed arguments compile to. The keyword's module also holds
 * the evaluation of that piece for the non-payload keywords (the matcher's leaf-ops.ts dispatches to it).
 */
import type { RuleOption } from '../ast.js';
import type { PlanContext } from '../match/plan-context.js';

export type KeywordCategory = 'general' | 'payload' | 'non-payload' | 'post-detection' | 'preprocessor';

/** Reports problems in a keyword's value; `at`/`length` are relative to the value's first character. */
export interface ValueReporter {
  error(code: string, message: string, at?: number, length?: number): void;
  warning(code: string, message: string, at?: number, length?: number): void;
}

export interface KeywordSpec<A = unknown> {
  name: string;
  category: KeywordCategory;
  /** Whether the keyword takes `:value`. */
  value: 'none' | 'required' | 'optional';
  /** A content modifier (nocase, depth, http_uri, ...): it applies to the closest content/uricontent before it. */
  contentModifier?: boolean;
  /** Snort's manual summary, shown by `honeywall lint --explain`-style help and in diagnostics. */
  summary: string;
  /** Parse the value into typed arguments; report problems and return undefined when it cannot be used. */
  parse(value: string | undefined, report: ValueReporter): A | undefined;
  /**
   * The same few values recur across a rule set (flow, threshold, depth, ...): the parser then parses each distinct
   * value once and gives every option with it the same (frozen) arguments, so `parse` must depend on the value alone.
   */
  repeats?: boolean;
  /**
   * The matcher's form of the typed arguments: adds the keyword's plan piece (header test, flow test, payload op,
   * ...) to the rule being compiled. Compile time only (match/compile.ts calls it for each option whose value parsed);
   * throws `OptionError` when the matcher cannot use the arguments. `args` may be frozen and shared (`repeats`): the
   * plan gets fresh objects. Absent for keywords that add nothing to the plan.
   */
  plan?: (args: A, into: PlanContext) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of specs of every argument type
export type AnyKeywordSpec = KeywordSpec<any>;

export function defineKeyword<A>(spec: KeywordSpec<A>): KeywordSpec<A> {
  return spec;
}

/** A keyword that takes no value (`nocase`, `rawbytes`, `sameip`, `file_data`, ...). */
export function flagKeyword(name: string, category: KeywordCategory, summary: string, contentModifier = false): KeywordSpec<true> {
  return { name, category, value: 'none', contentModifier, summary, parse: () => true };
}

export type OptionOf<A> = RuleOption<A>;
