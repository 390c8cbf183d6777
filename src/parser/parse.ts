/**
 * The parser's entry point: text in, a lossless RuleFile and its diagnostics out. Never throws on any input.
 */
import type { DirectiveName, DirectiveNode, Edit, Node, RuleFile, RuleHeader, RuleNode, RuleOption, Span } from '../ast.js';
import { LineMap, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { bindRule, type RuleIdentity } from './bind.js';
import { splitEntries, toPhysical, toPhysicalEnd, type Entry } from './lines.js';
import { FieldNode, isAction, parseRuleHeader, parseRuleOptions, type RuleReporter } from './rule.js';

export interface ParseOptions {
  /** The file name used in diagnostics. */
  file?: string;
}

export interface ParseResult {
  file: RuleFile;
  diagnostics: Diagnostic[];
}

const DIRECTIVES: Record<string, DirectiveName> = { var: 'var', ipvar: 'ipvar', portvar: 'portvar', include: 'include', config: 'config' };
const OTHER_DIRECTIVES = new Set(['preprocessor', 'output', 'dynamicpreprocessor', 'dynamicengine', 'dynamicdetection', 'ruletype', 'event_filter', 'suppress', 'threshold', 'rate_filter', 'event_queue', 'attribute_table', 'file', 'so_rule']);

interface PendingDiag {
  severity: Severity;
  code: string;
  message: string;
  offset: number;
  length: number;
}

export function parseRules(text: string, options: ParseOptions = {}): ParseResult {
  const fileName = options.file ?? '<input>';
  const nodes: Node[] = [];
  const pending: { diag: PendingDiag; sid: number | undefined }[] = [];

  for (const entry of splitEntries(text)) {
    const raw = text.slice(entry.start, entry.end);
    const span = { start: entry.start, end: entry.end };
    if (entry.kind === 'blank') {
      nodes.push({ kind: 'blank', raw, span });
      continue;
    }
    if (entry.kind === 'comment') {
      nodes.push(parseComment(entry, raw) ?? { kind: 'comment', raw, span });
      continue;
    }
    const t = entry.text;
    const wordStart = skipBlanks(t, 0);
    const word = firstWord(t, wordStart);
    if (isAction(word)) {
      const diags: PendingDiag[] = [];
      const node = parseRuleEntry(entry, raw, wordStart, diags);
      const sid = node.kind === 'rule' ? node.sid : sniffSid(t);
      for (const d of diags) pending.push({ diag: d, sid });
      nodes.push(node);
      continue;
    }
    const directive = parseDirective(entry, raw, wordStart, word, false);
    if (directive) {
      nodes.push(directive);
      continue;
    }
    const reason = `'${word}' is neither a rule action (${['alert', 'log', 'pass', 'drop', 'sdrop', 'reject', 'activate', 'dynamic'].join(', ')}) nor a snort.conf directive`;
    pending.push({ diag: { severity: 'error', code: 'unknown-directive', message: reason, offset: toPhysical(entry, wordStart), length: Math.max(1, word.length) }, sid: sniffSid(t) });
    nodes.push({ kind: 'unparsed', raw, span, reason });
  }

  const lines = new LineMap(text);
  const diagnostics: Diagnostic[] = pending.map(({ diag, sid }) => {
    const { line, column } = lines.position(diag.offset);
    const d: Diagnostic = { code: diag.code, severity: diag.severity, message: diag.message, file: fileName, line, column, offset: diag.offset, length: diag.length };
    if (sid !== undefined) d.sid = sid;
    return d;
  });
  return { file: { file: fileName, text, nodes }, diagnostics };
}

function skipBlanks(t: string, i: number): number {
  while (i < t.length && (t[i] === ' ' || t[i] === '\t' || t[i] === '\r')) i++;
  return i;
}

function firstWord(t: string, i: number): string {
  let j = i;
  while (j < t.length && t[j] !== ' ' && t[j] !== '\t' && t[j] !== '(' && t[j] !== '\r') j++;
  return t.slice(i, j);
}

function sniffSid(t: string): number | undefined {
  const m = /[(;]\s*sid\s*:\s*(\d+)\s*;/.exec(t);
  return m ? Number(m[1]) : undefined;
}

type UnparsedRule = { kind: 'unparsed'; raw: string; span: Span; reason: string };

function entryReporter(entry: Entry, diags: PendingDiag[]): RuleReporter {
  return {
    report(severity, code, message, at, length) {
      const offset = toPhysical(entry, at);
      const end = toPhysicalEnd(entry, at + length);
      diags.push({ severity, code, message, offset, length: Math.max(1, end - offset) });
    },
  };
}

/** Header fields, options and body from logical to file offsets (nothing to do for one-line entries). */
function mapToFile(entry: Entry, header: RuleHeader | undefined, options: RuleOption[] | undefined, body: Span | undefined): void {
  if (entry.pieces.length === 1 && entry.pieces[0]!.physical === 0) return;
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

function parseRuleEntry(entry: Entry, raw: string, from: number, diags: PendingDiag[]): RuleNode | UnparsedRule {
  const span = { start: entry.start, end: entry.end };
  const reporter = entryReporter(entry, diags);
  const outcome = parseRuleHeader(entry.text, from);
  if (!outcome.ok) {
    reporter.report('error', outcome.code, outcome.message, outcome.at, outcome.length);
    return { kind: 'unparsed', raw, span, reason: outcome.message };
  }
  const { header, body } = outcome.rule;
  const logicalBody = { start: body.start, end: body.end };
  const options = parseRuleOptions(entry.text, logicalBody, reporter);
  const id = bindRule(options, reporter, header.action.value);
  mapToFile(entry, header, options, body);
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
    invalid: diags.some((d) => d.severity === 'error'),
  };
}

/**
 * A disabled rule (`# alert ...`). Snort never reads it, and a rule set carries thousands (7,708 in ET Open), so
 * its options are parsed the first time anything asks for them (options, sid, msg, ...). The header is parsed at
 * once: it is what tells a disabled rule from prose that starts with an action word.
 */
class DisabledRuleNode implements RuleNode {
  readonly kind = 'rule';
  readonly disabled = true;
  edits?: Edit[];
  private parsed: { options: RuleOption[]; id: RuleIdentity; diags: PendingDiag[] } | undefined;

  constructor(
    private readonly entry: Entry,
    readonly raw: string,
    readonly span: Span,
    readonly disabledPrefix: Span,
    readonly header: RuleHeader,
    readonly body: Span,
    private readonly logicalBody: Span,
  ) {}

  private get rule() {
    if (!this.parsed) {
      const diags: PendingDiag[] = [];
      const reporter = entryReporter(this.entry, diags);
      const options = parseRuleOptions(this.entry.text, this.logicalBody, reporter);
      const id = bindRule(options, reporter, this.header.action.value);
      mapToFile(this.entry, undefined, options, undefined);
      this.parsed = { options, id, diags };
    }
    return this.parsed;
  }

  get options(): RuleOption[] {
    return this.rule.options;
  }
  get gid(): number {
    return this.rule.id.gid;
  }
  get sid(): number | undefined {
    return this.rule.id.sid;
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
    return this.rule.diags.some((d) => d.severity === 'error');
  }
  /** The problems Snort would report if the rule were enabled. */
  get problems(): readonly PendingDiag[] {
    return this.rule.diags;
  }
}

/** `# alert ...` is a disabled rule when what follows the comment sign parses as a rule header; otherwise a comment. */
function parseComment(entry: Entry, raw: string): Node | undefined {
  const t = entry.text;
  let i = skipBlanks(t, 0);
  if (t[i] !== '#') return undefined;
  while (t[i] === '#') i++;
  i = skipBlanks(t, i);
  const word = firstWord(t, i);
  if (isAction(word)) {
    // Prose that happens to start with an action word ("# alert on ...") is a comment: the header must parse.
    const outcome = parseRuleHeader(t, i);
    if (!outcome.ok) return undefined;
    const { header, body } = outcome.rule;
    const logicalBody = { start: body.start, end: body.end };
    mapToFile(entry, header, undefined, body);
    return new DisabledRuleNode(entry, raw, { start: entry.start, end: entry.end }, { start: entry.start, end: toPhysical(entry, i) }, header, body, logicalBody);
  }
  if (word === 'include') return parseDirective(entry, raw, i, word, true);
  return undefined;
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
