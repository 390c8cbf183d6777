/**
 * Rule-set checks beyond one rule: variables, classtypes, duplicate gid:sid, flowbits set/checked, rules that can
 * never match, rules with no fast-pattern candidate. Read-only questions over the parsed set, in two phases:
 * `RuleChecker` looks at one enabled rule at a time (lint hands each over as it is parsed) and collects diagnostics
 * plus the facts that span files (sids, flowbits); `checkFacts` answers the cross-file questions from those facts.
 */
import { HONEYWALL_BUFFERS } from '../keywords/payload-misc.js';
import type { AddressExpr, Field, PortExpr, RuleNode, RuleOption } from '../ast.js';
import type { LineMap, Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { RuleSet } from '../config/ruleset.js';
import { resolveAddress, resolvePorts, ResolveError, usesVariables, type VariableTable } from '../config/variables.js';
import type { ContentArgs } from '../keywords/content.js';
import { keywordIdOf, keywordTable } from '../keywords/index.js';

/** What the per-file phase needs to know about the whole set. */
export interface CheckContext {
  vars: VariableTable;
  classifications: ReadonlySet<string>;
}

/** Where an option is, resolved to line and column. */
export interface FactPlace {
  file: string;
  line: number;
  column: number;
  offset: number;
  length: number;
  sid: number | undefined;
}

/** A rule's `gid:sid`, and where its sid option is (resolved to line and column only for a duplicate). */
export interface SidFact {
  key: string;
  offset: number;
  length: number;
  sid: number;
}

export interface FileFacts {
  file: string;
  /** The file's line starts, for the places of the sids that turn out to be duplicates. */
  lines: LineMap;
  /** `gid:sid` of each enabled, valid rule, with the place of its sid option. */
  sids: SidFact[];
  /** flowbits that enabled rules set (set, setx, toggle) and check (isset, isnotset), with the option's place. */
  flowbitsSet: [string, FactPlace][];
  flowbitsChecked: [string, FactPlace][];
}

/**
 * Stream options Snort loads in any rule, which only a TCP session can satisfy. (The TCP header options flags, seq,
 * ack and window, and the ICMP ones, Snort refuses outside a tcp or icmp rule: the parser reports those, bind.ts.)
 */
const TCP_ONLY = new Set(['stream_size', 'stream_reassemble']);
const PAYLOAD_NEEDS_FP = new Set(['pcre', 'byte_test', 'byte_jump', 'byte_extract', 'isdataat', 'base64_decode', 'asn1']);

const NEEDS_FP = 1;
const TCP_STREAM = 2;
/** The two sets above as one table indexed by keyword number (no string hashing per option). */
const TRAITS_BY_ID = keywordTable((k) => (PAYLOAD_NEEDS_FP.has(k.name) ? NEEDS_FP : 0) | (TCP_ONLY.has(k.name) ? TCP_STREAM : 0));

/** Per-file cache of expression checks: parsed expressions are shared by every rule with the same text. */
export type ExprCache = Map<object, ResolveError | undefined>;

/**
 * The per-rule questions, one enabled rule at a time (lint hands each rule over as it is parsed and keeps nothing
 * of it but these diagnostics and facts).
 */
export class RuleChecker {
  readonly facts: FileFacts;

  /** `lines`: the file's line map (lint shares it with the parser's diagnostics). */
  constructor(
    private readonly lines: LineMap,
    private readonly display: string,
    private readonly ctx: CheckContext,
    private readonly exprCache: ExprCache = new Map(),
    /** Where the diagnostics go (lint's capped list); an array by default. */
    readonly diagnostics: { push(d: Diagnostic): void } = [],
    /** The file was read as Suricata's (src/suricata): its honeywall buffers are the reader's own output. */
    private readonly translated = false,
  ) {
    this.facts = { file: display, lines, sids: [], flowbitsSet: [], flowbitsChecked: [] };
  }

  private place(rule: RuleNode, offset: number, length: number): FactPlace {
    const { line, column } = this.lines.position(offset);
    return { file: this.display, line, column, offset, length, sid: rule.sid };
  }

  private report(p: FactPlace, severity: Severity, code: string, message: string): void {
    this.diagnostics.push(toDiagnostic(p, severity, code, message));
  }

  /** Variables and their kinds (Snort refuses the rule otherwise); results shared by every field of the same text. */
  private checkVariables(rule: RuleNode, field: Field<AddressExpr | PortExpr>, kind: 'address' | 'port'): void {
    const expr = field.value;
    if (expr.kind !== 'var' && expr.kind !== 'list') return;
    let problem = this.exprCache.get(expr);
    if (!this.exprCache.has(expr)) {
      problem = undefined;
      if (usesVariables(expr)) {
        try {
          if (kind === 'address') resolveAddress(expr as AddressExpr, this.ctx.vars);
          else resolvePorts(expr as PortExpr, this.ctx.vars);
        } catch (e) {
          if (!(e instanceof ResolveError)) throw e;
          problem = e;
        }
      }
      // (Long lists are parsed afresh for each rule, so caching them would only keep them alive.)
      if (field.text.length <= 100) this.exprCache.set(expr, problem);
    }
    if (problem) this.report(this.place(rule, field.start, field.end - field.start), 'error', problem.code, problem.message);
  }

  check(rule: RuleNode): void {
    const h = rule.header;
    this.checkVariables(rule, h.src, 'address');
    this.checkVariables(rule, h.dst, 'address');
    this.checkVariables(rule, h.srcPort, 'port');
    this.checkVariables(rule, h.dstPort, 'port');
    if (rule.invalid) return;

    const proto = h.protocol.value;
    const facts = this.facts;
    let positiveContent = false;
    let needsFp: string | undefined;
    const options = rule.options;
    for (let k = 0; k < options.length; k++) {
      const o = options[k]!;
      const kw = o.keyword;
      const kid = keywordIdOf(o);
      const traits = kid === -1 ? 0 : TRAITS_BY_ID[kid]!;
      if (kw === 'classtype' && rule.classtype !== undefined && !this.ctx.classifications.has(rule.classtype))
        this.report(this.optionPlace(rule, o), 'error', 'unknown-classtype', `classtype '${rule.classtype}' is not in classification.config`);
      else if (kw === 'sid' && rule.sid !== undefined) {
        // (Only a duplicate's place is ever shown: line and column are found then, in checkFacts.)
        facts.sids.push({ key: String(rule.gid) + ':' + String(rule.sid), offset: o.start, length: o.end - o.start, sid: rule.sid });
      } else if (kw === 'flowbits' && o.value !== undefined) this.flowbits(rule, o, o.value);
      else if ((kw === 'content' || kw === 'uricontent') && o.args && !(o.args as ContentArgs).negated) positiveContent = true;
      else if (!this.translated && HONEYWALL_BUFFERS.has(kw))
        this.report(
          this.optionPlace(rule, o),
          'warning',
          'not-snort',
          `'${kw}' is honeywall's keyword for ${HONEYWALL_BUFFERS.get(kw)}, not a Snort 2.9 one: Snort refuses this rule (read the Suricata rule with --input-dialect suricata)`,
        );
      if (traits === 0) continue;
      if (traits & NEEDS_FP) needsFp ??= kw;
      if (proto !== 'tcp' && proto !== 'ip' && traits & TCP_STREAM)
        this.report(
          this.optionPlace(rule, o),
          'warning',
          'never-matches',
          `'${kw}' tests a TCP session, but the rule is for ${proto}: it can never match`,
        );
    }
    if (!positiveContent && needsFp) {
      const a = h.action;
      this.report(
        this.place(rule, a.start, a.end - a.start),
        'warning',
        'no-fast-pattern',
        `no content to use as a fast pattern: ${needsFp} runs on every packet of this rule's ports (slow)`,
      );
    }
  }

  private optionPlace(rule: RuleNode, o: RuleOption): FactPlace {
    return this.place(rule, o.start, o.end - o.start);
  }

  private flowbits(rule: RuleNode, o: RuleOption, value: string): void {
    const comma = value.indexOf(',');
    const op = (comma === -1 ? value : value.slice(0, comma)).trim();
    const names = comma === -1 ? '' : value.slice(comma + 1);
    const setting = op === 'set' || op === 'setx' || op === 'toggle';
    const checking = op === 'isset' || op === 'isnotset';
    if (!setting && !checking) return;
    const target = setting ? this.facts.flowbitsSet : this.facts.flowbitsChecked;
    // `setx` and 2.9.x group forms put the group after a second comma; bits are `|`/`&` separated.
    const bits = (setting && names.includes(',') ? names.slice(0, names.indexOf(',')) : names).split(/[|&]/);
    for (const b of bits) if (b.trim() !== '') target.push([b.trim(), this.optionPlace(rule, o)]);
  }
}

/** The questions that span files: duplicate gid:sid, flowbits checked but never set, set but never checked. */
export function checkFacts(all: FileFacts[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sids = new Map<string, { file: FileFacts; fact: SidFact }>();
  const set = new Map<string, FactPlace>();
  const checked = new Map<string, FactPlace>();
  // (Indexed loops, no destructuring: this runs once, over ~20,000 facts, mostly before V8 has optimized it, and
  // there a for-of or an array pattern allocates iterator objects per fact.)
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!;
    for (let k = 0; k < f.sids.length; k++) {
      const fact = f.sids[k]!;
      const prev = sids.get(fact.key);
      if (prev === undefined) sids.set(fact.key, { file: f, fact });
      else {
        const prevPlace = sidPlace(prev.file, prev.fact);
        out.push(
          toDiagnostic(
            sidPlace(f, fact),
            'warning',
            'duplicate-sid',
            `gid:sid ${fact.key} is also used at ${prevPlace.file}:${prevPlace.line}; Snort keeps only one of them`,
          ),
        );
      }
    }
    for (let k = 0; k < f.flowbitsSet.length; k++) {
      const bit = f.flowbitsSet[k]![0];
      if (!set.has(bit)) set.set(bit, f.flowbitsSet[k]![1]);
    }
    for (let k = 0; k < f.flowbitsChecked.length; k++) {
      const bit = f.flowbitsChecked[k]![0];
      if (!checked.has(bit)) checked.set(bit, f.flowbitsChecked[k]![1]);
    }
  }
  for (const [bit, p] of checked)
    if (!set.has(bit))
      out.push(toDiagnostic(p, 'warning', 'flowbit-never-set', `flowbit '${bit}' is checked but no enabled rule sets it: this rule can never match`));
  for (const [bit, p] of set)
    if (!checked.has(bit)) out.push(toDiagnostic(p, 'info', 'flowbit-never-checked', `flowbit '${bit}' is set but no enabled rule checks it`));
  return out;
}

function sidPlace(file: FileFacts, fact: SidFact): FactPlace {
  const { line, column } = file.lines.position(fact.offset);
  return { file: file.file, line, column, offset: fact.offset, length: fact.length, sid: fact.sid };
}

export function checkContextOf(set: RuleSet): CheckContext {
  return { vars: set.vars, classifications: new Set(set.classifications.keys()) };
}

function toDiagnostic(p: FactPlace, severity: Severity, code: string, message: string): Diagnostic {
  const d: Diagnostic = { code, severity, message, file: p.file, line: p.line, column: p.column, offset: p.offset, length: p.length };
  if (p.sid !== undefined) d.sid = p.sid;
  return d;
}
