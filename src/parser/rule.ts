/**
 * Stage 2: one rule's logical text into a RuleNode: the header by hand (seven blank-separated fields, brackets may
 * hold blanks; read once per distinct header text), the option list by an in-place scanner (the chevrotain lexer
 * reads the irregular bodies), each option's value by its keyword's own parser.
 */
import {
  ACTIONS,
  PROTOCOLS,
  type Action,
  type AddressExpr,
  type Direction,
  type Field,
  type PortExpr,
  type Protocol,
  type RuleHeader,
  type RuleOption,
  type Span,
} from '../ast.js';
import { findKeywordId, KEYWORD_LIST, keywordId } from '../keywords/index.js';
import type { AnyKeywordSpec, ValueReporter } from '../keywords/spec.js';
import { parseAddress, parsePort } from './address.js';
import { OptionToken, Semicolon, tokenizeOptions } from './options-lexer.js';

/** Where problems go: offsets are logical offsets within the rule's entry text. */
export interface RuleReporter {
  report(severity: 'error' | 'warning' | 'info', code: string, message: string, at: number, length: number): void;
}

export interface ParsedHeader {
  header: RuleHeader;
  /** The text between the parentheses (logical offsets); empty at the end of the text when there are none. */
  body: Span;
}

export type RuleParseOutcome = { ok: true; rule: ParsedHeader } | { ok: false; code: string; message: string; at: number; length: number };

const ACTION_SET = new Set<string>(ACTIONS);
const PROTOCOL_SET = new Set<string>(PROTOCOLS);
/** (A set, not two comparisons: the second one would run only when the first '<>' rule comes.) */
const DIRECTION_SET = new Set<string>(['->', '<>']);

export function isAction(word: string): word is Action {
  return ACTION_SET.has(word);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

/**
 * Parses the header of the rule in `text` between `from` and `to` (the file's text for a one-line rule, the joined
 * logical text of a continued one) and finds its option list. Offsets in the result are offsets in `text`.
 * Structural failures (bad header, no closing parenthesis) return ok:false. The options are read by
 * `parseRuleOptions`.
 */
export function parseRuleHeader(text: string, from: number, to = text.length): RuleParseOutcome {
  // A header written before (the same text up to the first '(') has the same fields: ET Open's 20,643 enabled
  // rules have 1,980 distinct headers. Only the offsets differ, and what follows the '(' is looked at below.
  const firstParen = text.indexOf('(', from);
  let key: string | undefined;
  if (firstParen !== -1 && firstParen < to && firstParen - from <= HEADER_KEY_LENGTH) {
    key = text.slice(from, firstParen);
    const known = headerShapes.get(key);
    if (known !== undefined) return finishHeader(text, from, to, firstParen, known);
  }
  // --- header: up to 7 fields, stopping at '(' outside brackets.
  const starts = fieldStarts;
  const ends = fieldEnds;
  let count = 0;
  let i = from;
  const n = to;
  let parenAt = -1;
  while (i < n) {
    while (i < n && isBlank(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (text.charCodeAt(i) === 40 /* ( */) {
      parenAt = i;
      break;
    }
    const start = i;
    let depth = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 91 /* [ */) depth++;
      else if (c === 93 /* ] */) depth--;
      else if (depth <= 0 && (c === 40 || isBlank(c))) break;
      i++;
    }
    starts[count] = start;
    ends[count] = i;
    if (++count > 7) break;
  }
  if (count !== 7) {
    const extra = count > 7 ? text.slice(starts[7], ends[7]) : '';
    const at = count > 7 ? starts[7]! : count > 0 ? ends[count - 1]! : from;
    const msg =
      count > 7
        ? `rule header has more than 7 fields (action proto src sport dir dst dport): unexpected '${extra}'`
        : `rule header has ${count} field${count === 1 ? '' : 's'}, expected 7 (action proto src sport dir dst dport)`;
    return { ok: false, code: 'bad-header', message: msg, at, length: Math.max(1, extra.length) };
  }
  const actionText = text.slice(starts[0], ends[0]);
  if (!isAction(actionText))
    return { ok: false, code: 'unknown-action', message: `'${actionText}' is not a rule action`, at: starts[0]!, length: actionText.length };
  const protoRaw = text.slice(starts[1], ends[1]);
  const protoText = protoRaw.toLowerCase();
  if (!PROTOCOL_SET.has(protoText))
    return {
      ok: false,
      code: 'unknown-protocol',
      message: `'${protoRaw}' is not a protocol Snort 2.9 knows (tcp, udp, icmp, ip)`,
      at: starts[1]!,
      length: protoRaw.length,
    };
  const dirText = text.slice(starts[4], ends[4]);
  if (!DIRECTION_SET.has(dirText))
    return {
      ok: false,
      code: 'bad-direction',
      message: `'${dirText}' is not a direction operator ('->' or '<>')`,
      at: starts[4]!,
      length: dirText.length,
    };

  const src = addressField(text, starts[2]!, ends[2]!, 'source address');
  if (!(src instanceof FieldNode)) return src;
  const sport = portField(text, starts[3]!, ends[3]!, 'source port');
  if (!(sport instanceof FieldNode)) return sport;
  const dst = addressField(text, starts[5]!, ends[5]!, 'destination address');
  if (!(dst instanceof FieldNode)) return dst;
  const dport = portField(text, starts[6]!, ends[6]!, 'destination port');
  if (!(dport instanceof FieldNode)) return dport;

  const header: RuleHeader = {
    action: new FieldNode(actionText, starts[0]!, ends[0]!, actionText as Action),
    protocol: new FieldNode(protoRaw, starts[1]!, ends[1]!, protoText as Protocol),
    src,
    srcPort: sport,
    direction: new FieldNode(dirText, starts[4]!, ends[4]!, dirText as Direction),
    dst,
    dstPort: dport,
  };

  // --- where the options are
  if (parenAt === -1) {
    // Snort 2.9 accepts a header alone; it then fails for want of a sid, reported by the binder.
    return { ok: true, rule: { header, body: { start: n, end: n } } };
  }
  if (key !== undefined && parenAt === firstParen) {
    if (headerShapes.size >= HEADER_SHAPES_LIMIT) headerShapes.clear();
    headerShapes.set(key, new HeaderShape(header, from));
  }
  return withBody(text, header, parenAt, n);
}

/** The option list after the '(' at `parenAt`: up to the last ')' of the text (blanks after it ignored). */
function withBody(text: string, header: RuleHeader, parenAt: number, n: number): RuleParseOutcome {
  let close = n - 1;
  while (close > parenAt && isBlank(text.charCodeAt(close))) close--;
  if (text.charCodeAt(close) !== 41 /* ) */) {
    return { ok: false, code: 'unterminated-options', message: "the option list has no closing ')'", at: parenAt, length: n - parenAt };
  }
  return { ok: true, rule: { header, body: { start: parenAt + 1, end: close } } };
}

/** A parsed header's fields with offsets relative to its first character (shared by every rule that repeats it). */
class HeaderShape {
  readonly fields: readonly FieldNode<unknown>[];
  constructor(header: RuleHeader, from: number) {
    const h = header;
    this.fields = [h.action, h.protocol, h.src, h.srcPort, h.direction, h.dst, h.dstPort].map(
      (f) => new FieldNode(f.text, f.start - from, f.end - from, f.value),
    );
  }
}

const headerShapes = new Map<string, HeaderShape>();
/** Longer headers (the IP lists of reputation rules) are each different: not kept. */
const HEADER_KEY_LENGTH = 200;
const HEADER_SHAPES_LIMIT = 20_000;

function finishHeader(text: string, from: number, to: number, parenAt: number, shape: HeaderShape): RuleParseOutcome {
  const f = shape.fields;
  const header: RuleHeader = {
    action: shifted<Action>(f[0]!, from),
    protocol: shifted<Protocol>(f[1]!, from),
    src: shifted<AddressExpr>(f[2]!, from),
    srcPort: shifted<PortExpr>(f[3]!, from),
    direction: shifted<Direction>(f[4]!, from),
    dst: shifted<AddressExpr>(f[5]!, from),
    dstPort: shifted<PortExpr>(f[6]!, from),
  };
  return withBody(text, header, parenAt, to);
}

/** A shape's field at this rule's offsets. */
function shifted<T>(x: FieldNode<unknown>, from: number): FieldNode<T> {
  return new FieldNode(x.text, x.start + from, x.end + from, x.value as T);
}

/** Where the header's fields start and end (reused: the header parser is not re-entrant and keeps no state). */
const fieldStarts = new Int32Array(8);
const fieldEnds = new Int32Array(8);

type HeaderFailure = Extract<RuleParseOutcome, { ok: false }>;

function addressField(text: string, start: number, end: number, what: string): FieldNode<AddressExpr> | HeaderFailure {
  const f = text.slice(start, end);
  const r = parseAddress(f);
  if (!r.ok) return { ok: false, code: 'bad-address', message: `${what}: ${r.error}`, at: start + r.at, length: Math.max(1, f.length - r.at) };
  return new FieldNode(f, start, end, r.value);
}

function portField(text: string, start: number, end: number, what: string): FieldNode<PortExpr> | HeaderFailure {
  const f = text.slice(start, end);
  const r = parsePort(f);
  if (!r.ok) return { ok: false, code: 'bad-port', message: `${what}: ${r.error}`, at: start + r.at, length: Math.max(1, f.length - r.at) };
  return new FieldNode(f, start, end, r.value);
}

/** Reads the options between the parentheses (offsets in `text`, as found by `parseRuleHeader`). */
export function parseRuleOptions(text: string, body: Span, reporter: RuleReporter): RuleOption[] {
  if (body.end <= body.start) return [];
  return scanRegularOptions(text, body.start, body.end, reporter) ?? lexOptions(text.slice(body.start, body.end), body.start, reporter);
}

function isKeywordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isKeywordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/**
 * The options of a well-formed body, read in place: the same tokens as the chevrotain lexer below
 * (`options-lexer.ts`, the grammar's definition; test/option-scanner.test.ts checks that both agree on any text),
 * without building a token per option. The lexer was ~20% of a cold lint of a large rule set, and nearly every
 * body is regular. Returns undefined at the first irregularity (a stray token, a keyword followed by something
 * other than `:` or `;`), and the body is then read by the lexer, which reports the problem. Values are parsed by
 * their keywords once the whole body has been split (`parseValues`; without it, the options come back unparsed,
 * which is how a disabled rule's gid and sid are read cheaply).
 */
export function scanRegularOptions(text: string, from: number, to: number, reporter: RuleReporter, parseValues = true): RuleOption[] | undefined {
  const options: OptionNode[] = [];
  let i = from;
  for (;;) {
    while (i < to && isBlank(text.charCodeAt(i))) i++;
    if (i >= to) break;
    let c = text.charCodeAt(i);
    if (c === 59 /* ; */) {
      i++; // `;;`: an empty option, ignored by Snort
      continue;
    }
    if (!isKeywordStart(c)) return undefined;
    const start = i;
    i++;
    while (i < to && isKeywordChar(text.charCodeAt(i))) i++;
    const keywordEnd = i;
    let j = i;
    while (j < to && ((c = text.charCodeAt(j)) === 32 || c === 9)) j++;
    let valueStart = -1;
    let valueEnd = -1;
    let value: string | undefined;
    if (j < to && text.charCodeAt(j) === 58 /* : */) {
      // The value: everything up to the next unescaped `;`, blanks trimmed.
      // (A `;` after an odd run of backslashes is escaped; indexOf is much faster than a loop over the characters.)
      let k = j;
      do k = text.indexOf(';', k + 1);
      while (k !== -1 && k < to && isEscapedAt(text, k));
      if (k === -1 || k > to) k = to;
      // (Both loops step at least once, from the ':' and from the ';': a step that only rare values take would be
      // code V8 compiles without having seen it run, and the whole scanner would be deoptimized the first time a
      // value with blanks around it comes, then compiled again: ~50 ms of the compiler thread each time.)
      let vs = j;
      do vs++;
      while (vs < k && isBlank(text.charCodeAt(vs)));
      let ve = k;
      do ve--;
      while (ve >= vs && isBlank(text.charCodeAt(ve)));
      ve++;
      value = text.slice(vs, ve);
      valueStart = vs;
      valueEnd = ve;
      i = k < to ? k + 1 : k;
    } else if (i < to && text.charCodeAt(i) === 59) {
      i++;
    } else {
      // `keyword` alone: what follows (after blanks) must be the end of the body or `;`.
      while (j < to && isBlank(text.charCodeAt(j))) j++;
      if (j < to && text.charCodeAt(j) !== 59) return undefined;
    }
    const id = findKeywordId(text, start, keywordEnd);
    options.push(
      new OptionNode(id === -1 ? text.slice(start, keywordEnd) : KEYWORD_LIST[id]!.name, value, start, i, keywordEnd, valueStart, valueEnd, id),
    );
  }
  // Values only once the whole body is known to be regular (else the lexer reads it all, and reports once).
  if (parseValues) for (let k = 0; k < options.length; k++) parseOptionValue(options[k]!, reporter);
  return options;
}

export function lexOptions(body: string, base: number, reporter: RuleReporter): RuleOption[] {
  const tokens = tokenizeOptions(body);
  const options: RuleOption[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const type = t.tokenType;
    if (type === Semicolon) continue; // `;;`: an empty option, ignored by Snort
    const image = t.image;
    const tStart = base + t.startOffset;
    if (type !== OptionToken) {
      const shown = image.endsWith(';') ? image.slice(0, -1) : image;
      reporter.report(
        'error',
        'bad-option',
        `expected an option keyword, found '${shown.length > 40 ? shown.slice(0, 40) + '...' : shown}'`,
        tStart,
        Math.max(1, shown.length),
      );
      continue;
    }
    const hasSemi = image.charCodeAt(image.length - 1) === 59 && !isEscapedAt(image, image.length - 1);
    const contentEnd = hasSemi ? image.length - 1 : image.length;
    const colon = image.indexOf(':');
    let kwEnd = colon === -1 ? contentEnd : colon;
    while (kwEnd > 0 && isBlank(image.charCodeAt(kwEnd - 1))) kwEnd--;
    const keyword = image.slice(0, kwEnd);
    let value: string | undefined;
    let valueStart = -1;
    let valueEnd = -1;
    if (colon !== -1) {
      let vs = colon + 1;
      while (vs < contentEnd && isBlank(image.charCodeAt(vs))) vs++;
      let ve = contentEnd;
      while (ve > vs && isBlank(image.charCodeAt(ve - 1))) ve--;
      value = image.slice(vs, ve);
      valueStart = tStart + vs;
      valueEnd = tStart + ve;
    }
    const id = keywordId(keyword);
    const option = new OptionNode(
      id === -1 ? keyword : KEYWORD_LIST[id]!.name,
      value,
      tStart,
      tStart + image.length,
      tStart + kwEnd,
      valueStart,
      valueEnd,
      id,
    );
    // `keyword garbage;` lexes as the keyword followed by a stray token.
    const next = tokens[k + 1];
    if (!hasSemi && colon === -1 && next !== undefined && next.tokenType !== Semicolon) {
      const img = next.image.endsWith(';') ? next.image.slice(0, -1) : next.image;
      reporter.report(
        'error',
        'bad-option',
        `expected ':' or ';' after '${keyword}', found '${img.length > 40 ? img.slice(0, 40) + '...' : img}'`,
        base + next.startOffset,
        Math.max(1, img.length),
      );
      option.end = base + next.startOffset + next.image.length;
      options.push(option);
      k++;
      continue;
    }
    parseOptionValue(option, reporter);
    options.push(option);
  }
  return options;
}

/** A header or directive field: text, offsets and parsed value; the span object is built on demand. */
export class FieldNode<T> implements Field<T> {
  constructor(
    public text: string,
    public start: number,
    public end: number,
    public value: T,
  ) {}
  get span(): Span {
    return { start: this.start, end: this.end };
  }
}

/** The RuleOption record: plain numeric offsets, spans built on demand. */
export class OptionNode<A = unknown> implements RuleOption<A> {
  args: A | undefined = undefined;
  constructor(
    public keyword: string,
    public value: string | undefined,
    public start: number,
    public end: number,
    public keywordEnd: number,
    public valueStart: number,
    public valueEnd: number,
    /** The keyword's number in `KEYWORD_LIST` (-1: unknown), for per-keyword tables. */
    readonly keywordId: number,
  ) {}
  get span(): Span {
    return { start: this.start, end: this.end };
  }
  get keywordSpan(): Span {
    return { start: this.start, end: this.keywordEnd };
  }
  get valueSpan(): Span | undefined {
    return this.valueStart === -1 ? undefined : { start: this.valueStart, end: this.valueEnd };
  }
}

function isEscapedAt(s: string, at: number): boolean {
  // Odd run of backslashes before `at`. (The step runs on every call; see the value bounds in scanRegularOptions.)
  let i = at;
  do i--;
  while (i >= 0 && s.charCodeAt(i) === 92);
  return ((at - 1 - i) & 1) === 1;
}

/** One reusable value reporter (no closures per option): `bind` points it at the option being parsed. */
class OptionValueReporter implements ValueReporter {
  failed = false;
  private option!: RuleOption;
  private reporter!: RuleReporter;

  bind(option: RuleOption, reporter: RuleReporter): this {
    this.option = option;
    this.reporter = reporter;
    this.failed = false;
    return this;
  }

  private emit(severity: 'error' | 'warning', code: string, message: string, at: number | undefined, length: number | undefined): void {
    const o = this.option;
    const vStart = o.valueStart === -1 ? o.keywordEnd : o.valueStart;
    const vLen = o.value?.length ?? 0;
    const a = Math.max(0, Math.min(at ?? 0, vLen));
    const l = Math.max(1, Math.min(length ?? vLen - a, vLen - a));
    this.reporter.report(severity, code, `${o.keyword}: ${message}`, vStart + a, l);
  }

  error(code: string, message: string, at?: number, length?: number): void {
    this.failed = true;
    this.emit('error', code, message, at, length);
  }

  warning(code: string, message: string, at?: number, length?: number): void {
    this.emit('warning', code, message, at, length);
  }
}

const valueReporter = new OptionValueReporter();

function parseOptionValue(option: OptionNode, reporter: RuleReporter): void {
  const spec = option.keywordId === -1 ? undefined : KEYWORD_LIST[option.keywordId];
  const kwLen = option.keywordEnd - option.start;
  if (!spec) {
    reporter.report('error', 'unknown-keyword', `unknown rule option '${option.keyword}'`, option.start, kwLen);
    return;
  }
  if (spec.value === 'none' && option.value !== undefined && option.value !== '') {
    reporter.report('error', 'unexpected-value', `'${option.keyword}' takes no value`, option.valueStart, option.value.length);
    return;
  }
  if (spec.value === 'required' && (option.value === undefined || option.value === '')) {
    reporter.report('error', 'missing-value', `'${option.keyword}' needs a value`, option.start, kwLen);
    return;
  }
  const report = valueReporter.bind(option, reporter);
  if (spec.repeats === true) {
    option.args = parseRepeatedValue(spec, option.keywordId, option.value, report);
    return;
  }
  const args = spec.parse(option.value, report);
  option.args = report.failed ? undefined : args;
}

/** What a value parsed to, and what was reported about it (relative to the value, so it replays on any option). */
interface ParsedValue {
  args: unknown;
  reports: { kind: 'error' | 'warning'; code: string; message: string; at: number | undefined; length: number | undefined }[] | undefined;
}

/** By keyword number: each keyword's values seen so far. */
const parsedValues: (Map<string, ParsedValue> | undefined)[] = KEYWORD_LIST.map(() => undefined);
const PARSED_VALUES_LIMIT = 50_000;
/** The key of a keyword written without a value (a value can never contain a NUL: it is not allowed in rule text). */
const NO_VALUE = '\0';

/**
 * Keywords whose values repeat across a rule set (`repeats` in their spec: flow has 24 distinct values among ET
 * Open's 16,442, threshold 177 among 2,105) parse each distinct value once per process; later options share the
 * frozen arguments and get the same reports. Only for such keywords: hashing every long unique value (msg, content,
 * reference) would cost more than it saves.
 */
function parseRepeatedValue(spec: AnyKeywordSpec, keywordId: number, value: string | undefined, report: OptionValueReporter): unknown {
  let cache = parsedValues[keywordId];
  if (cache === undefined) parsedValues[keywordId] = cache = new Map();
  const key = value ?? NO_VALUE;
  let parsed = cache.get(key);
  if (parsed === undefined) {
    const reports: NonNullable<ParsedValue['reports']> = [];
    const recorder: ValueReporter = {
      error: (code, message, at, length) => void reports.push({ kind: 'error', code, message, at, length }),
      warning: (code, message, at, length) => void reports.push({ kind: 'warning', code, message, at, length }),
    };
    const args = spec.parse(value, recorder) as unknown;
    const failed = reports.some((r) => r.kind === 'error');
    parsed = {
      args: failed || args === undefined ? undefined : typeof args === 'object' && args !== null ? Object.freeze(args) : args,
      reports: reports.length > 0 ? reports : undefined,
    };
    if (cache.size >= PARSED_VALUES_LIMIT) cache.clear();
    cache.set(key, parsed);
  }
  if (parsed.reports !== undefined) for (const r of parsed.reports) report[r.kind](r.code, r.message, r.at, r.length);
  return parsed.args;
}
