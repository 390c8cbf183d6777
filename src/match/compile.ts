/**
 * Rules -> matcher plan. Reads the parsed rule set (header expressions resolved against the variables, typed
 * content/pcre arguments, the other keywords' values), makes Snort 2.9's load-time checks, chooses each rule's fast
 * pattern as Snort does, and reports every rule it cannot compile with the reason. Compile time only.
 */
import type { AddressExpr, PortExpr, RuleNode } from '../ast.js';
import type { LoadedFile, RuleSet } from '../config/ruleset.js';
import { resolveAddress, resolvePorts, ResolveError, type AddressSet, type PortSet } from '../config/variables.js';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { ContentArgs } from '../keywords/content.js';
import { parsePcre, type PcreArgs } from '../keywords/pcre.js';
import type { ValueReporter } from '../keywords/spec.js';
import { readEventFilters } from './event-filters.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import { PCRE_DEFAULT_MATCH_LIMIT, PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT } from './budget.js';
import { compilePcre, pcreOptions, PcreCompileError } from './pcre-exec.js';
import {
  OptionError, base64DecodeValue, byteExtractValue, byteJumpValue, byteTestValue, detectionFilterValue, flagsValue, flowValue,
  flowbitsValue, fragbitsValue, ipoptsValue, isdataatValue, numTest, streamSizeValue, tagValue, thresholdValue, urilenValue,
} from './option-values.js';
import {
  DEFAULT_ACTION_ORDER, type BufferName, type ContentOp, type FastPattern, type MatcherPlan, type NumTest, type PayloadOp, type PcreOp,
  type RuleAction, type RulePlan, type Value,
} from './plan.js';

export interface CompileFailure {
  sid: number | undefined;
  file: string;
  line: number;
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

/** Keywords the compiler reads itself (their grammar module may not be registered with the parser yet). */
const HANDLED = new Set([
  'msg', 'sid', 'gid', 'rev', 'classtype', 'priority', 'reference', 'metadata', 'content', 'uricontent', 'nocase', 'rawbytes',
  'depth', 'offset', 'distance', 'within', 'fast_pattern', 'replace', 'http_uri', 'http_raw_uri', 'http_header', 'http_raw_header',
  'http_cookie', 'http_raw_cookie', 'http_method', 'http_client_body', 'http_stat_code', 'http_stat_msg', 'pcre', 'byte_test',
  'byte_jump', 'byte_extract', 'isdataat', 'dsize', 'flags', 'flow', 'flowbits', 'ttl', 'tos', 'id', 'ipopts', 'fragbits', 'seq',
  'ack', 'window', 'itype', 'icode', 'icmp_id', 'icmp_seq', 'ip_proto', 'sameip', 'stream_size', 'urilen', 'file_data', 'pkt_data',
  'base64_decode', 'base64_data', 'threshold', 'detection_filter', 'tag', 'asn1', 'ssl_version', 'ssl_state', 'http_encode',
  'fragoffset', 'logto', 'session', 'resp', 'react', 'activates', 'activated_by', 'count', 'ftpbounce', 'stream_reassemble',
]);
/**
 * Approximated: asn1 (never matches), ssl_state/ssl_version (read from this packet's TLS record, not the session),
 * http_encode and fragoffset (not checked), logto/session/resp/react (no effect on matching), stream_reassemble
 * (reassembly is not switched off).
 */
const APPROXIMATED = new Set(['asn1', 'ssl_version', 'ssl_state', 'http_encode', 'fragoffset', 'logto', 'session', 'resp', 'react', 'stream_reassemble']);
const SSL_STATES: Record<string, number> = { client_hello: 1, server_hello: 2, client_keyx: 16, server_keyx: 12, unknown: -2 };
const SSL_VERSIONS: Record<string, number> = { sslv2: -3, sslv3: 0, 'tls1.0': 1, 'tls1.1': 2, 'tls1.2': 3 };

function sslList(value: string | undefined, table: Record<string, number>, what: string): { vals: number[]; neg: boolean[] } {
  const vals: number[] = [];
  const neg: boolean[] = [];
  for (const raw of (value ?? '').split(/[,|]/)) {
    const t = raw.trim().toLowerCase();
    const n = t.startsWith('!');
    const v = table[n ? t.slice(1) : t];
    if (v === undefined) throw new OptionError(`${what}: unknown value '${raw.trim()}'`);
    vals.push(v);
    neg.push(n);
  }
  return { vals, neg };
}
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

function toValue(v: number | { variable: string } | undefined, vars: string[], what: string): Value | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  const slot = vars.indexOf(v.variable);
  if (slot < 0) throw new OptionError(`${what}: '${v.variable}' is not a byte_extract variable defined earlier in the rule`);
  return { var: slot };
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
  file: LoadedFile;
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

/** Compiles one rule (throws OptionError / ResolveError with the reason when it cannot). */
export function compileRule(node: RuleNode, ctx: RuleContext, index: number, line: number): RulePlan {
  const h = node.header;
  const action = h.action.value as RuleAction;
  if (!ACTIONS.has(action)) throw new OptionError(`unknown action ${action}`);
  if (node.sid === undefined) throw new OptionError('the rule has no sid');
  const vars = ctx.set.vars;
  const rule: RulePlan = {
    index, gid: node.gid, sid: node.sid, rev: node.rev ?? 0, msg: node.msg ?? '', classtype: node.classtype, classDescription: undefined,
    priority: 0, action, proto: h.protocol.value, src: addressOf(ctx, h.src.text, h.src.value), srcPorts: portsOf(ctx, h.srcPort.text, h.srcPort.value),
    dst: addressOf(ctx, h.dst.text, h.dst.value), dstPorts: portsOf(ctx, h.dstPort.text, h.dstPort.value), bidirectional: h.direction.value === '<>',
    flow: undefined, flowbits: [], headers: [], ops: [], fastPattern: undefined, threshold: undefined, detectionFilter: undefined,
    contentLength: 0, file: ctx.file.display, line,
  };
  if (node.classtype !== undefined) {
    const c = ctx.set.classifications.get(node.classtype);
    if (!c) throw new OptionError(`unknown classtype '${node.classtype}'`);
    rule.classDescription = c.description;
    rule.priority = c.priority;
  }
  const extractVars: string[] = [];
  const contents: { op: ContentOp; args: ContentArgs }[] = [];
  let buf: 'pkt' | 'file_data' | 'base64' = 'pkt';
  let tags = 0;
  let sawBase64Decode = false;
  for (const o of node.options) {
    const kw = o.keyword;
    if (!HANDLED.has(kw)) throw new OptionError(`unknown rule option '${kw}'`);
    if (APPROXIMATED.has(kw)) ctx.approximated[kw] = (ctx.approximated[kw] ?? 0) + 1;
    switch (kw) {
      case 'priority':
        rule.priority = Number((o.value ?? '').trim());
        if (!Number.isInteger(rule.priority)) throw new OptionError(`bad priority '${o.value}'`);
        break;
      case 'content':
      case 'uricontent': {
        const a = o.args as ContentArgs | undefined;
        if (!a) throw new OptionError(`${kw} value does not parse`);
        const m = a.mods;
        const cbuf: BufferName = m.buffer ?? (m.rawbytes ? 'pkt' : buf);
        const relative = m.distance !== undefined || m.within !== undefined;
        const op: ContentOp = {
          op: 'content', buf: cbuf, bytes: a.bytes, nocase: m.nocase, negated: a.negated, relative, fpOnly: false,
          jump: maxJump(a.bytes, m.nocase),
        };
        const off = toValue(m.offset, extractVars, 'offset');
        const dep = toValue(m.depth, extractVars, 'depth');
        const dis = toValue(m.distance, extractVars, 'distance');
        const wit = toValue(m.within, extractVars, 'within');
        if (off !== undefined) op.offset = off;
        if (dep !== undefined) op.depth = dep;
        if (dis !== undefined) op.distance = dis;
        if (wit !== undefined) op.within = wit;
        if (m.replace !== undefined) op.replace = m.replace;
        if (typeof wit === 'number' && wit < a.bytes.length) throw new OptionError(`within (${wit}) is smaller than size of pattern`);
        if (typeof dep === 'number' && dep < a.bytes.length) throw new OptionError(`depth (${dep}) is smaller than size of pattern`);
        contents.push({ op, args: a });
        rule.ops.push(op);
        rule.contentLength += a.bytes.length;
        break;
      }
      case 'pcre': {
        let a = o.args as PcreArgs | undefined;
        if (!a) {
          const errors: string[] = [];
          a = parsePcre(o.value ?? '', quietReporter(errors));
          if (!a) throw new OptionError(errors[0] ?? 'pcre does not parse');
        }
        const op: PcreOp = {
          op: 'pcre', buf: a.buffer ?? (a.rawbytes ? 'pkt' : buf), pattern: a.pattern, options: pcreOptions(a.flags), negated: a.negated,
          relative: a.relative, overrideLimit: a.overrideLimit, text: `/${a.pattern}/${a.flags}`,
        };
        // Snort refuses a rule whose pattern PCRE does not compile (sp_pcre.c FatalError); so does compile. Each
        // distinct value is checked once (the parser shares its arguments).
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
          sid: node.sid, pattern: op.text, matchLimit: a.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_MATCH_LIMIT,
          depthLimit: a.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_DEPTH_LIMIT,
        });
        rule.ops.push(op);
        break;
      }
      case 'byte_test':
        rule.ops.push(byteTestValue(o.value, extractVars));
        break;
      case 'byte_jump':
        rule.ops.push(byteJumpValue(o.value, extractVars));
        break;
      case 'byte_extract':
        rule.ops.push(byteExtractValue(o.value, extractVars).op);
        break;
      case 'isdataat':
        rule.ops.push(isdataatValue(o.value, extractVars));
        break;
      case 'file_data':
        buf = 'file_data';
        rule.ops.push({ op: 'set_buffer', buf });
        break;
      case 'pkt_data':
        buf = 'pkt';
        rule.ops.push({ op: 'set_buffer', buf });
        break;
      case 'base64_decode': {
        const b = base64DecodeValue(o.value);
        sawBase64Decode = true;
        rule.ops.push({ op: 'base64_decode', bytes: b.bytes, offset: b.offset, relative: b.relative });
        break;
      }
      case 'base64_data':
        if (!sawBase64Decode) throw new OptionError('base64_data needs base64_decode before it');
        buf = 'base64';
        rule.ops.push({ op: 'set_buffer', buf });
        break;
      case 'dsize':
        rule.headers.push({ t: 'dsize', test: inclusive(numTest(o.value, 'dsize', ['=', '<', '>', '<>'], 65535)) });
        break;
      case 'ttl':
        rule.headers.push({ t: 'ttl', test: ttlTest(o.value) });
        break;
      case 'tos':
        rule.headers.push({ t: 'tos', test: numTest(o.value, 'tos', ['=', '!'], 255) });
        break;
      case 'id':
        rule.headers.push({ t: 'id', test: numTest(o.value, 'id', ['='], 65535) });
        break;
      case 'seq':
        rule.headers.push({ t: 'seq', value: numTest(o.value, 'seq', ['=']).a });
        break;
      case 'ack':
        rule.headers.push({ t: 'ack', value: numTest(o.value, 'ack', ['=']).a });
        break;
      case 'window':
        rule.headers.push({ t: 'window', test: numTest(o.value, 'window', ['=', '!'], 65535) });
        break;
      case 'itype':
        rule.headers.push({ t: 'itype', test: numTest(o.value, 'itype', ['=', '<', '>', '<>'], 255) });
        break;
      case 'icode': {
        const v = (o.value ?? '').trim();
        const minusOne = /^-1\s*<>/.test(v);
        const test = numTest(minusOne ? v.replace(/^-1/, '0') : v, 'icode', ['=', '<', '>', '<>'], 255);
        if (minusOne) test.a = -1;
        rule.headers.push({ t: 'icode', test });
        break;
      }
      case 'icmp_id':
        rule.headers.push({ t: 'icmp_id', value: numTest(o.value, 'icmp_id', ['='], 65535).a });
        break;
      case 'icmp_seq':
        rule.headers.push({ t: 'icmp_seq', value: numTest(o.value, 'icmp_seq', ['='], 65535).a });
        break;
      case 'ip_proto': {
        const v = (o.value ?? '').trim();
        const named: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, igmp: 2, gre: 47, esp: 50, ah: 51, ipv6: 41, 'ipv6-icmp': 58, pim: 103 };
        const m = /^([!<>]?)\s*(\S+)$/.exec(v);
        if (!m) throw new OptionError(`ip_proto: bad value '${v}'`);
        const n = named[m[2]!.toLowerCase()] ?? (/^\d+$/.test(m[2]!) ? Number(m[2]) : NaN);
        if (!(n >= 0 && n <= 255)) throw new OptionError(`ip_proto: unknown protocol '${m[2]}'`);
        rule.headers.push({ t: 'ip_proto', test: { op: (m[1] || '=') as '=' | '!' | '<' | '>', a: n } });
        break;
      }
      case 'sameip':
        rule.headers.push({ t: 'sameip' });
        break;
      case 'ipopts':
        rule.headers.push(ipoptsValue(o.value));
        break;
      case 'fragbits':
        rule.headers.push(fragbitsValue(o.value));
        break;
      case 'flags':
        rule.headers.push(flagsValue(o.value));
        break;
      case 'stream_size':
        rule.headers.push(streamSizeValue(o.value));
        break;
      case 'urilen':
        rule.headers.push(urilenValue(o.value));
        break;
      case 'flow':
        if (rule.flow) throw new OptionError('only one flow option per rule');
        rule.flow = flowValue(o.value);
        break;
      case 'flowbits':
        rule.flowbits.push(flowbitsValue(o.value));
        break;
      case 'threshold':
        if (rule.threshold) throw new OptionError('only one threshold per rule');
        rule.threshold = thresholdValue(o.value);
        break;
      case 'detection_filter':
        if (rule.detectionFilter) throw new OptionError('only one detection_filter per rule');
        rule.detectionFilter = detectionFilterValue(o.value);
        break;
      case 'ssl_state': {
        const l = sslList(o.value, SSL_STATES, 'ssl_state');
        rule.headers.push({ t: 'ssl_state', states: l.vals, negated: l.neg });
        break;
      }
      case 'ssl_version': {
        const l = sslList(o.value, SSL_VERSIONS, 'ssl_version');
        rule.headers.push({ t: 'ssl_version', versions: l.vals, negated: l.neg });
        break;
      }
      case 'asn1':
        rule.headers.push({ t: 'never', keyword: 'asn1' });
        break;
      case 'ftpbounce':
        rule.headers.push({ t: 'ftpbounce' });
        break;
      case 'tag':
        tags++;
        if (tags > 1) throw new OptionError(`Only one 'tag' rule option per rule.`);
        tagValue(o.value);
        break;
      default:
        break;
    }
  }
  if (rule.threshold && rule.detectionFilter) throw new OptionError('threshold and detection_filter cannot be used in the same rule');
  if (action === 'activate' || action === 'dynamic') ctx.approximated[action] = (ctx.approximated[action] ?? 0) + 1;
  const { fp } = chooseFastPattern(contents);
  rule.fastPattern = fp;
  return rule;
}

/** `<>` ranges that Snort 2.9 checks inclusively (dsize, urilen). */
function inclusive(t: NumTest): NumTest {
  return t.op === '<>' ? { ...t, op: '<=>' } : t;
}

/** ttl: `[<|>|=|<=|>=]N`, `N-M`, `N-`, `-M` (ranges inclusive). */
function ttlTest(value: string | undefined): NumTest {
  const v = (value ?? '').trim().replace(/\s+/g, '');
  const m = /^(\d*)-(\d*)$/.exec(v);
  if (m && (m[1] !== '' || m[2] !== '')) {
    const a = m[1] === '' ? 0 : Number(m[1]);
    const b = m[2] === '' ? 255 : Number(m[2]);
    if (a > 255 || b > 255 || a > b) throw new OptionError(`ttl: bad range '${v}'`);
    return { op: '<=>', a, b };
  }
  return numTest(v, 'ttl', ['=', '<', '>', '<=', '>=', '!'], 255);
}

function blockingErrors(node: RuleNode, diags: Diagnostic[]): Diagnostic[] {
  return diags.filter(
    (d) => d.severity === 'error' && d.offset >= node.span.start && d.offset < node.span.end && !RECHECKED_CODES.has(d.code),
  );
}

export interface CompileOptions {
  /** config event_queue: log N (Snort default 3). */
  eventLog?: number;
}

/** Every enabled rule of the set, compiled; the ones that cannot be are listed with the reason. */
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
  for (const file of set.files) {
    const lines = new LineMap(file.file.text);
    const ctx: RuleContext = { file, set, pcre, approximated, addresses, ports, engine, pcreChecked };
    for (const node of file.file.nodes) {
      if (node.kind === 'unparsed') {
        total++;
        const line = lines.position(node.span.start).line;
        failures.push({ sid: undefined, file: file.display, line, reason: node.reason });
        continue;
      }
      if (node.kind !== 'rule' || node.disabled) continue;
      total++;
      const line = lines.position(node.header.action.span.start).line;
      const errs = blockingErrors(node, file.diagnostics);
      if (errs.length > 0) {
        failures.push({ sid: node.sid, file: file.display, line, reason: errs.map((d) => d.message).join('; ') });
        continue;
      }
      try {
        rules.push(compileRule(node, ctx, rules.length, line));
      } catch (e) {
        if (e instanceof OptionError || e instanceof ResolveError) failures.push({ sid: node.sid, file: file.display, line, reason: e.message });
        else throw e;
      }
    }
  }
  const { filters, problems } = readEventFilters(set);
  for (const p of problems) failures.push({ sid: undefined, file: p.file, line: p.line, reason: p.reason });
  return { plan: { rules, filters, actionOrder: DEFAULT_ACTION_ORDER, eventLog: opts.eventLog ?? 8 }, total, failures, pcre, approximated };
}
