/**
 * Rules -> matcher plan. Reads the parsed rule set (header expressions resolved against the variables, every option's
 * typed arguments), makes the content and pcre pieces itself and has every other keyword's spec add its own piece
 * (`plan` in src/keywords), chooses each rule's fast pattern as Snort does, and reports every rule it cannot compile
 * with the reason. Compile time only.
 */
import type { AddressExpr, Node, PortExpr, RuleNode, RuleOption } from '../ast.js';
import { takeText, type RuleSet } from '../config/ruleset.js';
import { resolveAddress, resolvePorts, ResolveError, type AddressSet, type PortSet } from '../config/variables.js';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { ContentArgs } from '../keywords/content.js';
import { KEYWORD_LIST, keywordIdOf } from '../keywords/index.js';
import { parsePcre, type PcreArgs } from '../keywords/pcre.js';
import type { ValueReporter } from '../keywords/spec.js';
import { readEventFilters } from './event-filters.js';
import { scanRules } from '../parser/parse.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import { PCRE_DEFAULT_MATCH_LIMIT, PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT } from './budget.js';
import { compilePcre, pcreOptions, PcreCompileError } from './pcre-exec.js';
import { OptionError, planContext, slotValue, type PlanContext } from './plan-context.js';
import {
  DEFAULT_ACTION_ORDER,
  type BufferName,
  type ContentOp,
  type FastPattern,
  type MatcherPlan,
  type PcreOp,
  type RuleAction,
  type RulePlan,
  type Value,
} from './plan.js';

export interface CompileFailure {
  sid: number | undefined;
  file: string;
  line: number;
  /** 1-based column: the first blocking error's, else where the rule (or event filter line) starts. */
  column: number;
  /**
   * A stable code, printed as lint prints its own: the first blocking error's (lint's code); lint's code for what it
   * also finds (`missing-sid`, `unknown-classtype`, `unknown-keyword`, the code of a variable that does not resolve);
   * `unsupported-keyword` (a keyword Snort knows and the matcher does not run), `cannot-compile` (any other option
   * the matcher cannot use), `bad-event-filter`.
   */
  code: string;
  reason: string;
}

/** How one pcre runs: on PCRE2, with Snort's match limits (or PCRE's own with the O flag). */
export interface PcreEngineEntry {
  sid: number;
  pattern: string;
  matchLimit: number;
  depthLimit: number;
}

export interface CompileResult {
  plan: MatcherPlan;
  total: number;
  failures: CompileFailure[];
  /** How each pcre runs. */
  pcre: PcreEngineEntry[];
  /** Keywords accepted but only approximated (counted per keyword). */
  approximated: Record<string, number>;
}

/**
 * Keywords the matcher compiles: content and pcre read here, every other one through its spec's `plan` (or adding
 * nothing: msg, metadata, the content modifiers the parser has attached, ...). Rules with any other keyword (rpc,
 * byte_math, the DCE/RPC, SIP, GTP, ... options) are refused.
 */
const HANDLED = new Set([
  'msg',
  'sid',
  'gid',
  'rev',
  'classtype',
  'priority',
  'reference',
  'metadata',
  'content',
  'uricontent',
  'nocase',
  'rawbytes',
  'depth',
  'offset',
  'distance',
  'within',
  'fast_pattern',
  'replace',
  'http_uri',
  'http_raw_uri',
  'http_header',
  'http_raw_header',
  'http_cookie',
  'http_raw_cookie',
  'http_method',
  'http_client_body',
  'http_stat_code',
  'http_stat_msg',
  'pcre',
  'byte_test',
  'byte_jump',
  'byte_extract',
  'isdataat',
  'dsize',
  'flags',
  'flow',
  'flowbits',
  'ttl',
  'tos',
  'id',
  'ipopts',
  'fragbits',
  'seq',
  'ack',
  'window',
  'itype',
  'icode',
  'icmp_id',
  'icmp_seq',
  'ip_proto',
  'sameip',
  'stream_size',
  'urilen',
  'file_data',
  'pkt_data',
  'base64_decode',
  'base64_data',
  'threshold',
  'detection_filter',
  'tag',
  'asn1',
  'ssl_version',
  'ssl_state',
  'http_encode',
  'fragoffset',
  'logto',
  'session',
  'resp',
  'react',
  'activates',
  'activated_by',
  'count',
  'ftpbounce',
  'stream_reassemble',
]);
/**
 * Approximated: asn1 (never matches), ssl_state/ssl_version (read from this packet's TLS record, not the session),
 * http_encode (not checked), logto/session/resp/react (no effect on matching), stream_reassemble
 * (reassembly is not switched off).
 */
const APPROXIMATED = new Set(['asn1', 'ssl_version', 'ssl_state', 'http_encode', 'logto', 'session', 'resp', 'react', 'stream_reassemble']);
/** Errors the parser reports because a keyword module is missing; the compiler rechecks these itself. */
const RECHECKED_CODES = new Set(['unknown-keyword', 'unknown-variable']);

const ACTIONS: ReadonlySet<string> = new Set(DEFAULT_ACTION_ORDER);

/** Snort's pattern_max_jump_size: the retry step for repeating patterns (length minus longest border). */
export function maxJump(b: Uint8Array, nocase: boolean): number {
  const n = b.length;
  const f = new Int32Array(n);
  const low = (c: number) => (nocase && c >= 65 && c <= 90 ? c + 32 : c);
  let k = 0;
  for (let i = 1; i < n; i++) {
    while (k > 0 && low(b[i]!) !== low(b[k]!)) k = f[k - 1]!;
    if (low(b[i]!) === low(b[k]!)) k++;
    f[i] = k;
  }
  return n - (n > 0 ? f[n - 1]! : 0);
}

function toValue(v: number | { variable: string } | undefined, into: PlanContext, what: string): Value | undefined {
  return v === undefined ? undefined : slotValue(v, into, what);
}

const FP_HTTP: ReadonlySet<BufferName> = new Set<BufferName>(['http_uri', 'http_header', 'http_client_body']);

/** Snort 2.9's choice: explicit fast_pattern, else the longest non-negated content, ties to an HTTP buffer, then the first. */
function chooseFastPattern(contents: { op: ContentOp; args: ContentArgs }[]): { fp: FastPattern | undefined; chosen: ContentOp | undefined } {
  const eligible = contents.filter((c) => !c.op.negated && (c.op.buf === 'pkt' || c.op.buf === 'file_data' || FP_HTTP.has(c.op.buf)));
  const explicit = contents.find((c) => c.args.mods.fastPattern !== undefined);
  let best = explicit;
  if (!best) {
    for (const c of eligible) {
      if (!best) best = c;
      else if (c.op.bytes.length > best.op.bytes.length) best = c;
      else if (c.op.bytes.length === best.op.bytes.length && FP_HTTP.has(c.op.buf) && !FP_HTTP.has(best.op.buf)) best = c;
    }
  }
  if (!best || best.op.negated) return { fp: undefined, chosen: undefined };
  let bytes = best.op.bytes;
  const fpa = best.args.mods.fastPattern;
  if (fpa && fpa.offset !== undefined && fpa.length !== undefined) bytes = bytes.subarray(fpa.offset, fpa.offset + fpa.length);
  if (fpa?.only) best.op.fpOnly = true;
  return { fp: { buf: best.op.buf, bytes: bytes.slice(), nocase: best.op.nocase }, chosen: best.op };
}

interface RuleContext {
  /** How the rule's file is named in messages. */
  display: string;
  set: RuleSet;
  /** Resolved header expressions by their text: rules share the objects (and the artifact stores each once). */
  addresses: Map<string, AddressSet>;
  ports: Map<string, PortSet>;
  pcre: PcreEngineEntry[];
  approximated: Record<string, number>;
  engine: NativeEngine;
  /** pcre arguments already checked: '' when PCRE compiles the pattern, else the reason. */
  pcreChecked: Map<PcreArgs, string>;
}

const quietReporter = (errors: string[]): ValueReporter => ({
  error: (_code, message) => errors.push(message),
  warning: () => undefined,
});

function addressOf(ctx: RuleContext, text: string, expr: AddressExpr): AddressSet {
  let a = ctx.addresses.get(text);
  if (a === undefined) {
    a = resolveAddress(expr, ctx.set.vars);
    ctx.addresses.set(text, a);
  }
  return a;
}

function portsOf(ctx: RuleContext, text: string, expr: PortExpr): PortSet {
  let a = ctx.ports.get(text);
  if (a === undefined) {
    a = resolvePorts(expr, ctx.set.vars);
    ctx.ports.set(text, a);
  }
  return a;
}

/**
 * Runs `f` for the part of a rule at `offset` (a header field, an option): what fails there fails at that place (a
 * variable that does not resolve becomes an OptionError with the variable's code), so the report gives its column.
 */
function at<T>(offset: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ResolveError) throw new OptionError(e.message, e.code, offset);
    if (e instanceof OptionError && e.at === undefined) e.at = offset;
    throw e;
  }
}

/** Compiles one rule (throws OptionError with the reason, and where when known, when it cannot). */
export function compileRule(node: RuleNode, ctx: RuleContext, index: number, line: number): RulePlan {
  const h = node.header;
  const action = h.action.value as RuleAction;
  if (!ACTIONS.has(action)) throw new OptionError(`unknown action ${action}`);
  if (node.sid === undefined) throw new OptionError('the rule has no sid', 'missing-sid');
  const rule: RulePlan = {
    index,
    gid: node.gid,
    sid: node.sid,
    rev: node.rev ?? 0,
    msg: node.msg ?? '',
    classtype: node.classtype,
    classDescription: undefined,
    priority: 0,
    action,
    proto: h.protocol.value,
    src: at(h.src.start, () => addressOf(ctx, h.src.text, h.src.value)),
    srcPorts: at(h.srcPort.start, () => portsOf(ctx, h.srcPort.text, h.srcPort.value)),
    dst: at(h.dst.start, () => addressOf(ctx, h.dst.text, h.dst.value)),
    dstPorts: at(h.dstPort.start, () => portsOf(ctx, h.dstPort.text, h.dstPort.value)),
    bidirectional: h.direction.value === '<>',
    flow: undefined,
    flowbits: [],
    headers: [],
    ops: [],
    fastPattern: undefined,
    threshold: undefined,
    detectionFilter: undefined,
    contentLength: 0,
    file: ctx.display,
    line,
  };
  if (node.classtype !== undefined) {
    const c = ctx.set.classifications.get(node.classtype);
    if (!c)
      throw new OptionError(`unknown classtype '${node.classtype}'`, 'unknown-classtype', node.options.find((o) => o.keyword === 'classtype')?.start);
    rule.classDescription = c.description;
    rule.priority = c.priority;
  }
  const into = planContext(rule);
  const contents: { op: ContentOp; args: ContentArgs }[] = [];
  for (const o of node.options) {
    const kw = o.keyword;
    // lint's code for a keyword Snort does not know; another code for one the matcher does not run (rpc, ...)
    if (!HANDLED.has(kw))
      throw new OptionError(`unknown rule option '${kw}'`, keywordIdOf(o) === -1 ? 'unknown-keyword' : 'unsupported-keyword', o.start);
    if (APPROXIMATED.has(kw)) ctx.approximated[kw] = (ctx.approximated[kw] ?? 0) + 1;
    at(o.start, () => {
      if (kw === 'content' || kw === 'uricontent') contents.push(contentOp(o.args as ContentArgs | undefined, kw, into));
      else if (kw === 'pcre') rule.ops.push(pcreOp(o.args as PcreArgs | undefined, o.value, rule.sid, into, ctx));
      else planOption(o, into);
    });
  }
  if (action === 'activate' || action === 'dynamic') ctx.approximated[action] = (ctx.approximated[action] ?? 0) + 1;
  if (rule.proto === 'ip' && rule.headers.length === 1 && rule.headers[0]!.t === 'ip_proto' && detectionOptions(node) === 1)
    rule.headers[0]!.decodeTime = true;
  const { fp } = chooseFastPattern(contents);
  rule.fastPattern = fp;
  return rule;
}

/** parser.c's rule_options: the options that are no detection option (otn->num_detection_opts counts the others). */
const NOT_DETECTION: ReadonlySet<string> = new Set([
  'classtype',
  'detection_filter',
  'gid',
  'logto',
  'metadata',
  'msg',
  'priority',
  'reference',
  'rev',
  'sid',
  'tag',
  'threshold',
]);

/**
 * Snort 2.9.20 fpcreate.c: an ip rule whose one detection option is ip_proto goes to ip_proto_only_lists, evaluated
 * as each IP header is decoded, and to no port group.
 */
function detectionOptions(node: RuleNode): number {
  let n = 0;
  for (const o of node.options) if (!NOT_DETECTION.has(o.keyword)) n++;
  return n;
}

/** Any other keyword: its spec adds its piece of the plan from the typed arguments (keywords without one add nothing). */
function planOption(o: RuleOption, into: PlanContext): void {
  const id = keywordIdOf(o);
  const plan = id === -1 ? undefined : KEYWORD_LIST[id]!.plan;
  if (plan === undefined) return;
  // A value that did not parse was reported by the parser (a blocking error): this only guards the types.
  if (o.args === undefined) throw new OptionError(`${o.keyword} value does not parse`);
  plan(o.args, into);
}

/** content / uricontent, with the modifiers the parser attached (Snort's checks on depth and within). */
function contentOp(a: ContentArgs | undefined, kw: string, into: PlanContext): { op: ContentOp; args: ContentArgs } {
  if (!a) throw new OptionError(`${kw} value does not parse`);
  const m = a.mods;
  const cbuf: BufferName = m.buffer ?? (m.rawbytes ? 'pkt' : into.buffer);
  const relative = m.distance !== undefined || m.within !== undefined;
  const op: ContentOp = {
    op: 'content',
    buf: cbuf,
    bytes: a.bytes,
    nocase: m.nocase,
    negated: a.negated,
    relative,
    fpOnly: false,
    jump: maxJump(a.bytes, m.nocase),
  };
  const off = toValue(m.offset, into, 'offset');
  const dep = toValue(m.depth, into, 'depth');
  const dis = toValue(m.distance, into, 'distance');
  const wit = toValue(m.within, into, 'within');
  if (off !== undefined) op.offset = off;
  if (dep !== undefined) op.depth = dep;
  if (dis !== undefined) op.distance = dis;
  if (wit !== undefined) op.within = wit;
  if (m.replace !== undefined) op.replace = m.replace;
  if (typeof wit === 'number' && wit < a.bytes.length) throw new OptionError(`within (${wit}) is smaller than size of pattern`);
  if (typeof dep === 'number' && dep < a.bytes.length) throw new OptionError(`depth (${dep}) is smaller than size of pattern`);
  into.rule.ops.push(op);
  into.rule.contentLength += a.bytes.length;
  return { op, args: a };
}

/** pcre, translated to a JavaScript regular expression; records the engine it runs with. */
function pcreOp(parsed: PcreArgs | undefined, value: string | undefined, sid: number, into: PlanContext, ctx: RuleContext): PcreOp {
  let a = parsed;
  if (!a) {
    const errors: string[] = [];
    a = parsePcre(value ?? '', quietReporter(errors));
    if (!a) throw new OptionError(errors[0] ?? 'pcre does not parse');
  }
  const op: PcreOp = {
    op: 'pcre',
    buf: a.buffer ?? (a.rawbytes ? 'pkt' : into.buffer),
    pattern: a.pattern,
    options: pcreOptions(a.flags),
    negated: a.negated,
    relative: a.relative,
    overrideLimit: a.overrideLimit,
    text: `/${a.pattern}/${a.flags}`,
  };
  // Snort refuses a rule whose pattern PCRE does not compile (sp_pcre.c FatalError); so does compile. Each distinct
  // value is checked once (the parser shares its arguments).
  let problem = ctx.pcreChecked.get(a);
  if (problem === undefined) {
    problem = '';
    try {
      compilePcre(op, ctx.engine, true);
    } catch (e) {
      if (!(e instanceof PcreCompileError)) throw e;
      problem = e.message;
    }
    ctx.pcreChecked.set(a, problem);
  }
  if (problem !== '') throw new OptionError(problem);
  ctx.pcre.push({
    sid,
    pattern: op.text,
    matchLimit: a.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_MATCH_LIMIT,
    depthLimit: a.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_DEPTH_LIMIT,
  });
  return op;
}

/** The errors among a node's diagnostics that keep it from compiling (the keywords the compiler rechecks aside). */
function blockingErrors(node: RuleNode, diags: readonly Diagnostic[]): Diagnostic[] {
  return diags.filter((d) => d.severity === 'error' && d.offset >= node.span.start && d.offset < node.span.end && !RECHECKED_CODES.has(d.code));
}

export interface CompileOptions {
  /** config event_queue: log N (Snort default 3). */
  eventLog?: number;
}

/**
 * Every enabled rule of the set, compiled; the ones that cannot be are listed with the reason. Files the set holds
 * parsed are read from their syntax trees; files it only lists (`loadRuleSet({ deferRuleFiles: true })`, what
 * `honeywall compile` does) are parsed here one node at a time, each node compiled as it comes and then let go, so
 * that no file's syntax tree outlives its parse. That is the cheaper way for the garbage collector: with every tree
 * of ET Open held until the end, each young-generation collection copied ~10 MB of survivors.
 */
export function compileRuleSet(set: RuleSet, opts: CompileOptions = {}): CompileResult {
  const rules: RulePlan[] = [];
  const failures: CompileFailure[] = [];
  const pcre: PcreEngineEntry[] = [];
  const approximated: Record<string, number> = {};
  let total = 0;
  const addresses = new Map<string, AddressSet>();
  const ports = new Map<string, PortSet>();
  const engine = loadEngine();
  const pcreChecked = new Map<PcreArgs, string>();
  const loaded = new Map(set.files.map((f) => [f.path, f]));
  for (const ref of set.ruleFiles) {
    const file = loaded.get(ref.path);
    const text = file ? file.file.text : takeText(ref);
    const lines = new LineMap(text);
    const ctx: RuleContext = { display: ref.display, set, pcre, approximated, addresses, ports, engine, pcreChecked };
    const visit = (node: Node, diags: readonly Diagnostic[]): void => {
      if (node.kind === 'unparsed') {
        total++;
        const { line, column } = lines.position(node.span.start);
        // the parser's own diagnostic says what is wrong, and where
        const d = diags.find((x) => x.severity === 'error' && x.offset >= node.span.start && x.offset <= node.span.end);
        failures.push({
          sid: undefined,
          file: ref.display,
          line,
          column: d?.column ?? column,
          code: d?.code ?? 'unparsed-rule',
          reason: node.reason,
        });
        return;
      }
      if (node.kind !== 'rule' || node.disabled) return;
      total++;
      const { line, column } = lines.position(node.header.action.start);
      const errs = blockingErrors(node, diags);
      if (errs.length > 0) {
        const first = errs[0]!;
        failures.push({
          sid: node.sid,
          file: ref.display,
          line: first.line,
          column: first.column,
          code: first.code,
          reason: errs.map((d) => d.message).join('; '),
        });
        return;
      }
      try {
        rules.push(compileRule(node, ctx, rules.length, line));
      } catch (e) {
        if (e instanceof OptionError || e instanceof ResolveError) {
          const place = e instanceof OptionError && e.at !== undefined ? lines.position(e.at) : { line, column };
          failures.push({ sid: node.sid, file: ref.display, line: place.line, column: place.column, code: e.code, reason: e.message });
        } else throw e;
      }
    };
    if (file) for (const node of file.file.nodes) visit(node, file.diagnostics);
    else scanRules(text, { file: ref.display, lines }, visit);
  }
  const { filters, problems } = readEventFilters(set);
  for (const p of problems) failures.push({ sid: undefined, file: p.file, line: p.line, column: 1, code: 'bad-event-filter', reason: p.reason });
  return { plan: { rules, filters, actionOrder: DEFAULT_ACTION_ORDER, eventLog: opts.eventLog ?? 8 }, total, failures, pcre, approximated };
}
