/**
 * The parser's entry point: text in, a lossless RuleFile and its diagnostics out. Never throws on any input.
 */
import type { DirectiveName, DirectiveNode, Edit, Node, RuleFile, RuleHeader, RuleNode, RuleOption, Span } from '../ast.js';
import { LineMap, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { bindRule, type RuleIdentity } from './bind.js';
import { EntryReader, MAX_ENTRY_LENGTH, MAX_ENTRY_LINES, MAX_LINE_LENGTH, toPhysical, toPhysicalEnd, type Entry } from './lines.js';
import { FieldNode, isAction, parseRuleHeader, parseRuleOptions, scanRegularOptions, type RuleReporter } from './rule.js';
import { KEYWORDS } from '../keywords/index.js';

export interface ParseOptions {
  /** The file name used in diagnostics. */
  file?: string;
  /** The text's line map, when the caller has one for its own diagnostics (lint): made here otherwise. */
  lines?: LineMap;
}

export interface ParseResult {
  file: RuleFile;
  diagnostics: Diagnostic[];
}

const DIRECTIVES: Record<string, DirectiveName> = { var: 'var', ipvar: 'ipvar', portvar: 'portvar', include: 'include', config: 'config' };
const OTHER_DIRECTIVES = new Set([
  'preprocessor',
  'output',
  'dynamicpreprocessor',
  'dynamicengine',
  'dynamicdetection',
  'ruletype',
  'event_filter',
  'suppress',
  'threshold',
  'rate_filter',
  'event_queue',
  'attribute_table',
  'file',
  'so_rule',
]);

interface PendingDiag {
  severity: Severity;
  code: string;
  message: string;
  offset: number;
  length: number;
}

export function parseRules(text: string, options: ParseOptions = {}): ParseResult {
  const nodes: Node[] = [];
  const diagnostics: Diagnostic[] = [];
  scanRules(text, options, (node, diags) => {
    nodes.push(node);
    for (let i = 0; i < diags.length; i++) diagnostics.push(diags[i]!);
  });
  return { file: { file: options.file ?? '<input>', text, nodes }, diagnostics };
}

/**
 * The same parse as `parseRules`, one node at a time: `visit` gets each node, in file order, with the diagnostics
 * that belong to it. Nothing is kept, so a caller that only looks (lint) lets each rule go as soon as it has seen it.
 */
export function scanRules(text: string, options: ParseOptions, visit: (node: Node, diagnostics: readonly Diagnostic[]) => void): void {
  const parser = new FileParser(text, options.file ?? '<input>', options.lines);
  const entries = new EntryReader(text);
  for (let entry = entries.next(); entry !== undefined; entry = entries.next()) {
    const node = parser.parseEntry(entry);
    visit(node, parser.takeDiagnostics(node));
  }
}

/**
 * The `var`, `ipvar`, `portvar` and `include` lines of a text, without parsing its rules (Snort's first pass over a
 * rule file reads only these: parser.c ParseConfigFile with parse_rules 0). Continued lines are joined as the parser
 * joins them; lines Snort refuses for their size are left to the parser, which reports them.
 */
export function readDirectives(text: string): DirectiveNode[] {
  const out: DirectiveNode[] = [];
  if (!mayHaveDirective(text)) return out;
  const entries = new EntryReader(text);
  for (let entry = entries.next(); entry !== undefined; entry = entries.next()) {
    if (entry.kind !== 'code' || entry.tooLong !== undefined) continue;
    const t = entry.text;
    const from = skipBlanks(t, 0);
    const word = firstWord(t, from);
    if (word !== 'var' && word !== 'ipvar' && word !== 'portvar' && word !== 'include') continue;
    const node = parseDirective(entry, text.slice(entry.start, entry.end), from, word, false);
    if (node) out.push(node);
  }
  return out;
}

/**
 * Whether some line starts (after blanks) with `v`, `i` or `p` followed by a directive word: one pass over the line
 * starts, so that the 16 MB of a rule set without directives cost milliseconds, not an entry reader's pass.
 */
function mayHaveDirective(t: string): boolean {
  const n = t.length;
  let p = 0;
  while (p < n) {
    let i = p;
    let c = t.charCodeAt(i);
    while (c === 32 || c === 9) c = t.charCodeAt(++i);
    if ((c === 118 || c === 105 || c === 112) && /^(?:ipvar|portvar|var|include)[ \t]/.test(t.slice(i, i + 9))) return true;
    const nl = t.indexOf('\n', i);
    if (nl === -1) break;
    p = nl + 1;
  }
  return false;
}

function skipBlanks(t: string, i: number, end = t.length): number {
  while (i < end && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9 || t.charCodeAt(i) === 13)) i++;
  return i;
}

function firstWord(t: string, i: number, end = t.length): string {
  let j = i;
  while (j < end) {
    const c = t.charCodeAt(j);
    if (c === 32 || c === 9 || c === 40 /* ( */ || c === 13) break;
    j++;
  }
  return t.slice(i, j);
}

function sniffSid(t: string): number | undefined {
  const m = /[(;]\s*sid\s*:\s*(\d+)\s*;/.exec(t);
  return m ? Number(m[1]) : undefined;
}

type UnparsedRule = { kind: 'unparsed'; raw: string; span: Span; reason: string };

/**
 * Problems kept per entry. A 32 KB line holds 16,000 options, each of which can be wrong; Snort stops at the first
 * error, honeywall shows the first hundred and counts the rest (one `too-many-problems` note).
 */
export const MAX_DIAGNOSTICS_PER_ENTRY = 100;

/**
 * Collects one node's problems. A one-line entry is parsed in place, on the file's text, so its offsets are file
 * offsets already; an entry continued over several lines is parsed on its joined (logical) text and each offset is
 * mapped back to the file.
 */
class PendingReporter implements RuleReporter {
  readonly diags: PendingDiag[] = [];
  entry: Entry | undefined;
  /** Problems past MAX_DIAGNOSTICS_PER_ENTRY: counted, not kept (and whether one of them was an error). */
  omitted = 0;
  omittedError = false;

  report(severity: Severity, code: string, message: string, at: number, length: number): void {
    if (this.diags.length >= MAX_DIAGNOSTICS_PER_ENTRY) {
      this.omitted++;
      if (severity === 'error') this.omittedError = true;
      return;
    }
    const entry = this.entry;
    if (entry === undefined) {
      this.diags.push({ severity, code, message, offset: at, length: Math.max(1, length) });
      return;
    }
    const offset = toPhysical(entry, at);
    const end = toPhysicalEnd(entry, at + length);
    this.diags.push({ severity, code, message, offset, length: Math.max(1, end - offset) });
  }
}

class FileParser {
  private readonly reporter = new PendingReporter();
  /** The logical text of the entry being read (where an unparsed line's sid is looked for). */
  private entryText = '';

  constructor(
    private readonly text: string,
    private readonly fileName: string,
    /** Made on the first diagnostic when the caller has none. */
    private lines: LineMap | undefined,
  ) {}

  parseEntry(entry: Entry): Node {
    const text = this.text;
    const raw = text.slice(entry.start, entry.end);
    const span = { start: entry.start, end: entry.end };
    // One-line entries (comments always) are read in place; continued ones on their joined text.
    const inPlace = entry.pieces.length === 1;
    this.reporter.entry = inPlace ? undefined : entry;
    this.entryText = entry.text;
    if (entry.tooLong !== undefined) return this.refuseTooLong(entry, raw);
    if (entry.kind === 'blank') return { kind: 'blank', raw, span };
    if (entry.kind === 'comment') return this.parseComment(entry, raw) ?? { kind: 'comment', raw, span };
    const t = inPlace ? text : entry.text;
    const from = inPlace ? entry.pieces[0]!.physical : 0;
    const to = inPlace ? from + entry.pieces[0]!.length : t.length;
    const wordStart = skipBlanks(t, from, to);
    const word = firstWord(t, wordStart, to);
    if (isAction(word)) return this.parseRuleEntry(entry, raw, t, wordStart, to, !inPlace);
    const directive = parseDirective(entry, raw, wordStart - from, word, false);
    if (directive) return directive;
    const reason = `'${word}' is neither a rule action (${['alert', 'log', 'pass', 'drop', 'sdrop', 'reject', 'activate', 'dynamic'].join(', ')}) nor a snort.conf directive`;
    this.reporter.report('error', 'unknown-directive', reason, wordStart, Math.max(1, word.length));
    return { kind: 'unparsed', raw, span, reason };
  }

  /** An entry Snort refuses for its size (lines.ts): one error, and the entry kept verbatim. */
  private refuseTooLong(entry: Entry, raw: string): UnparsedRule {
    const t = entry.tooLong!;
    const reason =
      t.kind === 'line'
        ? `line of ${t.length} characters: Snort refuses lines of ${MAX_LINE_LENGTH} characters or more (split it with backslash continuations)`
        : t.kind === 'entry'
          ? `continued lines join to ${t.length} characters or more: Snort refuses rules of ${MAX_ENTRY_LENGTH} characters or more`
          : `continued over more than ${MAX_ENTRY_LINES} lines`;
    this.reporter.entry = undefined;
    this.reporter.report('error', t.kind === 'line' ? 'line-too-long' : 'rule-too-long', reason, t.at, 1);
    return { kind: 'unparsed', raw, span: { start: entry.start, end: entry.end }, reason };
  }

  /** The node's problems as diagnostics (line and column), then forgotten. */
  takeDiagnostics(node: Node): Diagnostic[] {
    const reporter = this.reporter;
    if (reporter.omitted > 0) {
      // (Reported at the entry's start: one note for all the problems not shown.)
      reporter.diags.push({
        severity: 'info',
        code: 'too-many-problems',
        message: `${reporter.omitted} more problems in this entry not shown (at most ${MAX_DIAGNOSTICS_PER_ENTRY} per entry)`,
        offset: node.span.start,
        length: 1,
      });
      reporter.omitted = 0;
      reporter.omittedError = false;
    }
    const pending = reporter.diags;
    if (pending.length === 0) return NO_DIAGNOSTICS;
    const sid = node.kind === 'rule' ? node.sid : sniffSid(this.entryText);
    this.lines ??= new LineMap(this.text);
    const out: Diagnostic[] = [];
    for (const diag of pending) {
      const { line, column } = this.lines.position(diag.offset);
      const d: Diagnostic = {
        code: diag.code,
        severity: diag.severity,
        message: diag.message,
        file: this.fileName,
        line,
        column,
        offset: diag.offset,
        length: diag.length,
      };
      if (sid !== undefined) d.sid = sid;
      out.push(d);
    }
    pending.length = 0;
    return out;
  }

  private parseRuleEntry(entry: Entry, raw: string, t: string, from: number, to: number, mapped: boolean): RuleNode | UnparsedRule {
    const span = { start: entry.start, end: entry.end };
    const reporter = this.reporter;
    const outcome = parseRuleHeader(t, from, to);
    if (!outcome.ok) {
      reporter.report('error', outcome.code, outcome.message, outcome.at, outcome.length);
      return { kind: 'unparsed', raw, span, reason: outcome.message };
    }
    const { header, body } = outcome.rule;
    const options = parseRuleOptions(t, body, reporter);
    const id = bindRule(options, reporter, header.action.value, header.protocol.value);
    if (mapped) mapToFile(entry, header, options, body);
    return {
      kind: 'rule',
      raw,
      span,
      disabled: false,
      disabledPrefix: undefined,
      header,
      options,
      body,
      gid: id.gid,
      sid: id.sid,
      rev: id.rev,
      msg: id.msg,
      classtype: id.classtype,
      // (The reporter holds this node's problems only: it is emptied after each node.)
      invalid: reporter.omittedError || hasError(reporter.diags),
    };
  }

  /** `# alert ...` is a disabled rule when what follows the comment sign parses as a rule header; otherwise a comment. */
  private parseComment(entry: Entry, raw: string): Node | undefined {
    const t = this.text;
    const piece = entry.pieces[0]!;
    const to = piece.physical + piece.length;
    let i = skipBlanks(t, piece.physical, to);
    if (t.charCodeAt(i) !== 35 /* # */) return undefined;
    while (t.charCodeAt(i) === 35) i++;
    i = skipBlanks(t, i, to);
    const word = firstWord(t, i, to);
    if (isAction(word)) {
      // Prose that happens to start with an action word ("# alert on ...") is a comment: the header must parse.
      const outcome = parseRuleHeader(t, i, to);
      if (!outcome.ok) return undefined;
      const { header, body } = outcome.rule;
      return new DisabledRuleNode(t, raw, { start: entry.start, end: entry.end }, { start: entry.start, end: i }, header, body);
    }
    if (word === 'include') return parseDirective(entry, raw, i - piece.physical, word, true);
    return undefined;
  }
}

const NO_DIAGNOSTICS: Diagnostic[] = [];
const IGNORE: RuleReporter = { report: () => undefined };

function hasError(diags: readonly PendingDiag[]): boolean {
  return diags.length !== 0 && diags.some((d) => d.severity === 'error');
}

/** Header fields, options and body from logical to file offsets (entries continued over several lines). */
function mapToFile(entry: Entry, header: RuleHeader | undefined, options: RuleOption[] | undefined, body: Span | undefined): void {
  const map = (s: { start: number; end: number }) => {
    s.start = toPhysical(entry, s.start);
    s.end = toPhysicalEnd(entry, s.end);
  };
  if (header) for (const f of [header.action, header.protocol, header.src, header.srcPort, header.direction, header.dst, header.dstPort]) map(f);
  if (options)
    for (const o of options) {
      o.start = toPhysical(entry, o.start);
      o.end = toPhysicalEnd(entry, o.end);
      o.keywordEnd = toPhysicalEnd(entry, o.keywordEnd);
      if (o.valueStart !== -1) {
        o.valueStart = toPhysical(entry, o.valueStart);
        o.valueEnd = toPhysicalEnd(entry, o.valueEnd);
      }
    }
  if (body) map(body);
}

/**
 * A disabled rule (`# alert ...`). Snort never reads it, and a rule set carries thousands (7,708 in ET Open), so
 * its options are parsed the first time anything asks for them (options, sid, msg, ...). The header is parsed at
 * once: it is what tells a disabled rule from prose that starts with an action word. Offsets are file offsets (a
 * comment is one line, read in place).
 */
class DisabledRuleNode implements RuleNode {
  readonly kind = 'rule';
  readonly disabled = true;
  edits?: Edit[];
  private parsed: { options: RuleOption[]; id: RuleIdentity; diags: PendingDiag[]; omittedError: boolean } | undefined;
  private quickIdentity: { gid: number; sid: number | undefined } | undefined;

  constructor(
    private readonly text: string,
    readonly raw: string,
    readonly span: Span,
    readonly disabledPrefix: Span,
    readonly header: RuleHeader,
    readonly body: Span,
  ) {}

  private get rule() {
    if (!this.parsed) {
      const reporter = new PendingReporter();
      const options = parseRuleOptions(this.text, this.body, reporter);
      const id = bindRule(options, reporter, this.header.action.value, this.header.protocol.value);
      this.parsed = { options, id, diags: reporter.diags, omittedError: reporter.omittedError };
    }
    return this.parsed;
  }

  get options(): RuleOption[] {
    return this.rule.options;
  }
  get gid(): number {
    return this.identity.gid;
  }
  get sid(): number | undefined {
    return this.identity.sid;
  }

  /**
   * gid and sid without reading the whole rule (what `convert` reports for each of a set's thousands of disabled
   * rules): the options are split as the parser splits them and only `gid` and `sid` are read, the binder's way
   * (the last one counts). A body the scanner declines is read in full.
   */
  private get identity(): { gid: number; sid: number | undefined } {
    if (this.parsed) return this.parsed.id;
    if (this.quickIdentity === undefined) {
      const options = scanRegularOptions(this.text, this.body.start, this.body.end, IGNORE, false);
      if (options === undefined) return this.rule.id;
      let gid = 1;
      let sid: number | undefined;
      for (const o of options) {
        if (o.keyword !== 'sid' && o.keyword !== 'gid') continue;
        const failed = { value: false };
        const value = KEYWORDS.get(o.keyword)!.parse(o.value, { error: () => void (failed.value = true), warning: () => undefined }) as
          | number
          | undefined;
        if (failed.value || value === undefined) continue;
        if (o.keyword === 'sid') sid = value;
        else gid = value;
      }
      this.quickIdentity = { gid, sid };
    }
    return this.quickIdentity;
  }
  get rev(): number | undefined {
    return this.rule.id.rev;
  }
  get msg(): string | undefined {
    return this.rule.id.msg;
  }
  get classtype(): string | undefined {
    return this.rule.id.classtype;
  }
  /** Whether Snort would refuse the rule if it were enabled. */
  get invalid(): boolean {
    return this.rule.omittedError || hasError(this.rule.diags);
  }
  /** The problems Snort would report if the rule were enabled. */
  get problems(): readonly PendingDiag[] {
    return this.rule.diags;
  }
}

function parseDirective(entry: Entry, raw: string, from: number, word: string, disabled: boolean): DirectiveNode | undefined {
  const directive = DIRECTIVES[word] ?? (OTHER_DIRECTIVES.has(word) ? 'other' : undefined);
  if (!directive) return undefined;
  const t = entry.text;
  const span = { start: entry.start, end: entry.end };
  const kw = new FieldNode(word, toPhysical(entry, from), toPhysicalEnd(entry, from + word.length), word);
  let name;
  let value;
  if (directive === 'var' || directive === 'ipvar' || directive === 'portvar' || directive === 'include') {
    const ns = skipBlanks(t, from + word.length);
    let ne = ns;
    if (directive === 'include') {
      ne = t.length;
      while (ne > ns && /\s/.test(t[ne - 1]!)) ne--;
    } else while (ne < t.length && !/\s/.test(t[ne]!)) ne++;
    if (ne > ns) name = new FieldNode(t.slice(ns, ne), toPhysical(entry, ns), toPhysicalEnd(entry, ne), t.slice(ns, ne));
    if (directive !== 'include') {
      const vs = skipBlanks(t, ne);
      let ve = t.length;
      while (ve > vs && /\s/.test(t[ve - 1]!)) ve--;
      if (ve > vs) value = new FieldNode(t.slice(vs, ve), toPhysical(entry, vs), toPhysicalEnd(entry, ve), t.slice(vs, ve));
    }
  }
  return { kind: 'directive', raw, span, directive, keyword: kw, name, value, disabled };
}
