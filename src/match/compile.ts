/**
 * Rules -> matcher plan. Reads the parsed rule set (header expressions resolved against the variables, every option's
 * typed arguments), makes the content and pcre pieces itself and has every other keyword's spec add its own piece
 * (`plan` in src/keywords), chooses each rule's fast pattern as Snort does, and reports every rule it cannot compile
 * with the reason. Compile time only.
 */
import type { AddressExpr, Node, PortExpr, RuleNode, RuleOption } from '../ast.js';
import { dialectDiagnostics, dialectLines, takeText, type LoadedFile, type RuleFileRef, type RuleSet } from '../config/ruleset.js';
import { resolveAddress, resolvePorts, ResolveError, type AddressSet, type PortSet } from '../config/variables.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ContentArgs } from '../keywords/content.js';
import { KEYWORD_LIST, keywordIdOf } from '../keywords/index.js';
import { parsePcre, type PcreArgs } from '../keywords/pcre.js';
import type { ValueReporter } from '../keywords/spec.js';
import { readEventFilters, readEventQueueConfig, type EventQueueConfig } from './event-filters.js';
import { scanRules } from '../parser/parse.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import { PCRE_DEFAULT_MATCH_LIMIT, PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT } from './budget.js';
import { compilePcre, pcreOptions, PcreCompileError } from './pcre-exec.js';
import { OptionError, planContext, slotValue, type PlanContext } from './plan-context.js';
import {
  BUFFERS,
  DEFAULT_ACTION_ORDER,
  DEFAULT_EVENT_QUEUE,
  type BufferName,
  type ContentOp,
  type FastPattern,
  type MatcherPlan,
  type MatcherPolicy,
  type PcreOp,
  type RuleAction,
  type RulePlan,
  type RuleTree,
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

/** The rule information keywords: no matching, no node of Snort's tree. */
const RULE_INFO = ['msg', 'sid', 'gid', 'rev', 'classtype', 'priority', 'reference', 'metadata'];

/** A content's modifiers (its HTTP buffer included): compiled with the content, part of its node in Snort's tree. */
const CONTENT_MODIFIERS = [
  'nocase',
  'rawbytes',
  'depth',
  'offset',
  'distance',
  'within',
  'fast_pattern',
  'replace',
  ...BUFFERS.filter((b) => b.startsWith('http_')),
];

/**
 * Keywords the matcher compiles: content and pcre read here, every other one through its spec's `plan` (or adding
 * nothing: msg, metadata, the content modifiers the parser has attached, ...). Rules with any other keyword (rpc,
 * byte_math, the DCE/RPC, SIP, GTP, ... options) are refused.
 */
const HANDLED = new Set([
  ...RULE_INFO,
  'content',
  'uricontent',
  ...CONTENT_MODIFIERS,
  'pcre',
  'byte_test',
  'byte_jump',
  'byte_extract',
  'isdataat',
  'dsize',
  'flags',
  'flow',
  'flowbits',
  'xbits',
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
  'dns_query',
  'tls_sni',
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

/**
 * Keywords that are no node of Snort's rule tree (detection_options.c): rule information, event options, and the
 * content modifiers (part of their content's node).
 */
const NOT_IN_TREE: ReadonlySet<string> = new Set([
  ...RULE_INFO,
  'threshold',
  'detection_filter',
  'tag',
  'logto',
  'activates',
  'activated_by',
  'count',
  ...CONTENT_MODIFIERS,
]);

function valueKey(v: Value | undefined): string {
  return v === undefined ? '' : typeof v === 'number' ? String(v) : `$${v.var}`;
}

/** A content's node in Snort's rule tree is shared by the contents equal in bytes and every modifier. */
function contentKey(c: ContentOp): string {
  const hex = Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.length).toString('hex');
  return `content:${c.buf}:${hex}:${c.nocase ? 'i' : ''}${c.negated ? '!' : ''}:${valueKey(c.offset)}:${valueKey(c.depth)}:${valueKey(c.distance)}:${valueKey(c.within)}`;
}

/**
 * The rule's nodes in Snort's rule tree, in the rule's order (otn_create_tree), as keys equal where Snort shares the
 * node; a fast_pattern:only content has none. Kept for the rules whose outcome depends on the order (flowbits,
 * detection_filter): the flowbits operations of a node shared by several rules run only when exactly one of the
 * node's children matched, and the tree is walked depth first (snort-order.ts).
 */
function treeOf(parts: readonly (ContentOp | string)[], rule: RulePlan): RuleTree {
  const keys: string[] = [];
  const flowbitsAt: number[] = [];
  let fb = 0;
  for (const p of parts) {
    if (typeof p !== 'string') {
      if (!p.fpOnly) keys.push(contentKey(p));
      continue;
    }
    if (p === 'flowbits') {
      const f = rule.flowbits[fb++]!;
      flowbitsAt.push(keys.length);
      keys.push(`flowbits:${f.cmd}:${f.bits.join(f.any ? '|' : '&')}`);
    } else keys.push(p);
  }
  return { keys, flowbitsAt };
}

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
/**
 * honeywall's app buffers take a fast pattern as the packet and file data do: the prefilter scans the buffer itself (a
 * group per buffer, prefilter.ts), so a hit is as exact as the verify that follows. The content's bytes in the raw
 * payload would not be: a query name is dotted text, while the wire has length bytes between labels (and a label may
 * hold a 0x2E byte of its own), so "evil.com" is never in a DNS packet's payload as such.
 */
const FP_APP: ReadonlySet<BufferName> = new Set<BufferName>(['dns_query', 'tls_sni']);

/** Snort 2.9's choice: explicit fast_pattern, else the longest non-negated content, ties to an HTTP buffer, then the first. */
function chooseFastPattern(contents: { op: ContentOp; args: ContentArgs }[]): { fp: FastPattern | undefined; chosen: ContentOp | undefined } {
  const eligible = contents.filter(
    (c) => !c.op.negated && (c.op.buf === 'pkt' || c.op.buf === 'file_data' || FP_HTTP.has(c.op.buf) || FP_APP.has(c.op.buf)),
  );
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

/** What one thread's compile of a rule set keeps from rule to rule and file to file. */
export interface CompileContext {
  set: RuleSet;
  /**
   * Resolved header expressions by their text: rules share the objects (and the artifact stores each once). One
   * object per text and one text per object (see `distinct`), so that the threads of a parallel compile, each with
   * its own maps, agree on which rules share a set: the text names it (compile-parallel.ts).
   */
  addresses: Map<string, AddressSet>;
  ports: Map<string, PortSet>;
  /** The text of each set handed out (its key in `addresses` or `ports`). */
  textOf: Map<AddressSet | PortSet, string>;
  engine: NativeEngine;
  /** pcre arguments already checked: '' when PCRE compiles the pattern, else the reason. */
  pcreChecked: Map<PcreArgs, string>;
}

/** A fresh context: nothing resolved, nothing checked yet. */
export function compileContext(set: RuleSet): CompileContext {
  return { set, addresses: new Map(), ports: new Map(), textOf: new Map(), engine: loadEngine(), pcreChecked: new Map() };
}

/** The compile context with what one file's rules add to the file's report. */
interface RuleContext extends CompileContext {
  /** How the rule's file is named in messages. */
  display: string;
  pcre: PcreEngineEntry[];
  approximated: Record<string, number>;
}

const quietReporter = (errors: string[]): ValueReporter => ({
  error: (_code, message) => errors.push(message),
  warning: () => undefined,
});

/**
 * A set not yet handed out for another text. A bare variable resolves to the variable's own set, the same object for
 * `$HOME_NET` and for `$HTTP_SERVERS` (whose value is `$HOME_NET`): the second text gets a copy of it (the same
 * value), so that which texts share an object does not depend on which of them a thread met first.
 */
function distinct<S extends AddressSet | PortSet>(ctx: CompileContext, text: string, set: S): S {
  const own = ctx.textOf.has(set) ? ({ any: set.any, include: set.include, exclude: set.exclude } as S) : set;
  ctx.textOf.set(own, text);
  return own;
}

function addressOf(ctx: CompileContext, text: string, expr: AddressExpr): AddressSet {
  let a = ctx.addresses.get(text);
  if (a === undefined) {
    a = distinct(ctx, text, resolveAddress(expr, ctx.set.vars));
    ctx.addresses.set(text, a);
  }
  return a;
}

function portsOf(ctx: CompileContext, text: string, expr: PortExpr): PortSet {
  let a = ctx.ports.get(text);
  if (a === undefined) {
    a = distinct(ctx, text, resolvePorts(expr, ctx.set.vars));
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
    tree: undefined,
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
  // the rule's tree nodes: content ops (keyed once the fast pattern is known), 'flowbits', or other options' keys
  const parts: (ContentOp | string)[] = [];
  for (const o of node.options) {
    const kw = o.keyword;
    // lint's code for a keyword Snort does not know; another code for one the matcher does not run (rpc, ...)
    if (!HANDLED.has(kw))
      throw new OptionError(`unknown rule option '${kw}'`, keywordIdOf(o) === -1 ? 'unknown-keyword' : 'unsupported-keyword', o.start);
    if (APPROXIMATED.has(kw)) ctx.approximated[kw] = (ctx.approximated[kw] ?? 0) + 1;
    at(o.start, () => {
      if (kw === 'content' || kw === 'uricontent') {
        const c = contentOp(o.args as ContentArgs | undefined, kw, into);
        contents.push(c);
        parts.push(c.op);
      } else if (kw === 'pcre') rule.ops.push(pcreOp(o.args as PcreArgs | undefined, o.value, rule.sid, into, ctx));
      else planOption(o, into);
    });
    // (xbits ride on the flowbits operations: match/xbits.ts)
    if (kw === 'flowbits' || kw === 'xbits') parts.push('flowbits');
    else if (kw !== 'content' && kw !== 'uricontent' && !NOT_IN_TREE.has(kw)) parts.push(`${kw}:${(o.value ?? '').trim()}`);
  }
  if (action === 'activate' || action === 'dynamic') ctx.approximated[action] = (ctx.approximated[action] ?? 0) + 1;
  if (rule.proto === 'ip' && rule.headers.length === 1 && rule.headers[0]!.t === 'ip_proto' && detectionOptions(node) === 1)
    rule.headers[0]!.decodeTime = true;
  const { fp, chosen } = chooseFastPattern(contents);
  rule.fastPattern = fp;
  // fpcreate.c fpAddPortGroupRule: otn->longestPatternLen is the size of the content made the fast pattern (whole,
  // even when fast_pattern takes a slice of it); rules without one have 0
  rule.contentLength = chosen !== undefined ? chosen.bytes.length : 0;
  if (rule.flowbits.length > 0 || rule.detectionFilter !== undefined) rule.tree = treeOf(parts, rule);
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
  /** The event queue of a rule set without a configuration file (default: that of Snort's shipped snort.conf). */
  eventQueue?: EventQueueConfig;
}

/** One rule file compiled: its rules, and its part of the report. */
export interface FileCompile {
  rules: RulePlan[];
  /** Enabled rules read (compiled or not). */
  total: number;
  failures: CompileFailure[];
  pcre: PcreEngineEntry[];
  approximated: Record<string, number>;
}

/**
 * One rule file of the set, compiled (the file's rules are numbered from `firstIndex`). A file the set holds parsed
 * is read from its syntax tree; a file it only lists (`loadRuleSet({ deferRuleFiles: true })`, what `honeywall
 * compile` does) is parsed here one node at a time, each node compiled as it comes and then let go, so that no
 * syntax tree outlives its parse. That is the cheaper way for the garbage collector: with every tree of ET Open held
 * until the end, each young-generation collection copied ~10 MB of survivors. `onRule`, when given, takes each plan as
 * it is made (and `rules` stays empty): a packer that stores it at once keeps no plan alive either.
 */
export function compileFile(
  cc: CompileContext,
  ref: RuleFileRef,
  file: LoadedFile | undefined,
  firstIndex = 0,
  onRule?: (plan: RulePlan) => void,
): FileCompile {
  const out: FileCompile = { rules: [], total: 0, failures: [], pcre: [], approximated: {} };
  const { rules, failures } = out;
  let compiled = 0;
  const text = file ? file.file.text : takeText(ref);
  const lines = dialectLines(ref, text);
  const ctx: RuleContext = { ...cc, display: ref.display, pcre: out.pcre, approximated: out.approximated };
  const visit = (node: Node, parsed: readonly Diagnostic[]): void => {
    // (a file read as Suricata's: its refused rules' markers carry the refusal's reason)
    const diags = file ? parsed : dialectDiagnostics(ref, parsed, 'error');
    if (node.kind === 'unparsed') {
      out.total++;
      const { line, column } = lines.position(node.span.start);
      // the parser's own diagnostic says what is wrong, and where
      const d = diags.find((x) => x.severity === 'error' && x.offset >= node.span.start && x.offset <= node.span.end);
      failures.push({ sid: undefined, file: ref.display, line, column: d?.column ?? column, code: d?.code ?? 'unparsed-rule', reason: node.reason });
      return;
    }
    if (node.kind !== 'rule' || node.disabled) return;
    out.total++;
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
      const plan = compileRule(node, ctx, firstIndex + compiled, line);
      compiled++;
      if (onRule !== undefined) onRule(plan);
      else rules.push(plan);
    } catch (e) {
      if (e instanceof OptionError || e instanceof ResolveError) {
        const place = e instanceof OptionError && e.at !== undefined ? lines.position(e.at) : { line, column };
        failures.push({ sid: node.sid, file: ref.display, line: place.line, column: place.column, code: e.code, reason: e.message });
      } else throw e;
    }
  };
  if (file) for (const node of file.file.nodes) visit(node, file.diagnostics);
  else scanRules(text, { file: ref.display, lines }, visit);
  return out;
}

/** The report of a whole set, gathered file by file. */
export type SetReport = Omit<CompileResult, 'plan'>;

export function emptyReport(): SetReport {
  return { total: 0, failures: [], pcre: [], approximated: {} };
}

/**
 * Adds a file's report to the set's. Taken in file order, the result is the report of one pass over the files,
 * whichever thread compiled each: lists are appended, and a keyword first approximated in this file comes after
 * those of the files before it, as in one pass.
 */
export function addFileReport(into: SetReport, part: Omit<FileCompile, 'rules'>): void {
  into.total += part.total;
  for (const f of part.failures) into.failures.push(f);
  for (const p of part.pcre) into.pcre.push(p);
  for (const [k, n] of Object.entries(part.approximated)) into.approximated[k] = (into.approximated[k] ?? 0) + n;
}

/** The files of the set the compiler reads from their syntax trees (rules written in a snort.conf), by path. */
export function parsedFiles(set: RuleSet): Map<string, LoadedFile> {
  return new Map(set.files.map((f) => [f.path, f]));
}

/** The event filters of the set's configuration, their problems added to the report's failures. */
export function setPolicy(set: RuleSet, report: SetReport, opts: CompileOptions): MatcherPolicy {
  // The load's own errors (an include that does not exist, a variable or classification line it could not read): the
  // rules they would have given are missing, which the report must say, as lint does for the same lines.
  for (const d of set.diagnostics)
    if (d.severity === 'error')
      report.failures.push({ sid: undefined, file: d.file, line: d.line, column: d.column, code: d.code, reason: d.message });
  const { filters, problems } = readEventFilters(set);
  for (const p of problems)
    report.failures.push({ sid: undefined, file: p.file, line: p.line, column: 1, code: 'bad-event-filter', reason: p.reason });
  // a snort.conf says what its event queue is (Snort's defaults for what it leaves out); rules alone get the shipped one
  const eq = readEventQueueConfig(set);
  for (const p of eq.problems)
    report.failures.push({ sid: undefined, file: p.file, line: p.line, column: 1, code: 'bad-event-queue', reason: p.reason });
  const eventQueue = set.configs.length > 0 ? eq.config : (opts.eventQueue ?? DEFAULT_EVENT_QUEUE);
  return { filters, actionOrder: DEFAULT_ACTION_ORDER, eventQueue };
}

/** Every enabled rule of the set, compiled file by file in one thread; the ones that cannot be are listed with the reason. */
export function compileRuleSet(set: RuleSet, opts: CompileOptions = {}): CompileResult {
  const rules: RulePlan[] = [];
  const report = emptyReport();
  const cc = compileContext(set);
  const parsed = parsedFiles(set);
  for (const ref of set.ruleFiles) {
    const part = compileFile(cc, ref, parsed.get(ref.path), rules.length);
    for (const r of part.rules) rules.push(r);
    addFileReport(report, part);
  }
  const policy = setPolicy(set, report, opts);
  return { plan: { rules, ...policy }, ...report };
}
