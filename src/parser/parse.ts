/**
 * The parser's entry point: text in, a lossless RuleFile and its diagnostics out. Never throws on any input.
 */
import type { DirectiveName, DirectiveNode, Node, RuleFile, RuleNode } from '../ast.js';
import { LineMap, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { bindRule } from './bind.js';
import { splitEntries, toPhysical, toPhysicalEnd, type Entry } from './lines.js';
import { FieldNode, isAction, parseRuleText, type RuleReporter } from './rule.js';

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
      const node = parseRuleEntry(entry, raw, wordStart, false, diags);
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

function parseRuleEntry(entry: Entry, raw: string, from: number, disabled: boolean, diags: PendingDiag[]): RuleNode | { kind: 'unparsed'; raw: string; span: { start: number; end: number }; reason: string } {
  const span = { start: entry.start, end: entry.end };
  const reporter: RuleReporter = {
    report(severity, code, message, at, length) {
      const offset = toPhysical(entry, at);
      const end = toPhysicalEnd(entry, at + length);
      diags.push({ severity, code, message, offset, length: Math.max(1, end - offset) });
    },
  };
  const outcome = parseRuleText(entry.text, from, reporter);
  if (!outcome.ok) {
    reporter.report('error', outcome.code, outcome.message, outcome.at, outcome.length);
    return { kind: 'unparsed', raw, span, reason: outcome.message };
  }
  const { header, options, body } = outcome.rule;
  const id = bindRule(options, reporter);
  // Map every logical span to the file.
  const map = (s: { start: number; end: number }) => {
    s.start = toPhysical(entry, s.start);
    s.end = toPhysicalEnd(entry, s.end);
  };
  // Header fields and options keep numeric offsets; single-piece entries need no mapping.
  if (entry.pieces.length !== 1 || entry.pieces[0]!.physical !== 0) {
    for (const f of [header.action, header.protocol, header.src, header.srcPort, header.direction, header.dst, header.dstPort]) map(f);
    for (const o of options) {
      o.start = toPhysical(entry, o.start);
      o.end = toPhysicalEnd(entry, o.end);
      o.keywordEnd = toPhysicalEnd(entry, o.keywordEnd);
      if (o.valueStart !== -1) {
        o.valueStart = toPhysical(entry, o.valueStart);
        o.valueEnd = toPhysicalEnd(entry, o.valueEnd);
      }
    }
    map(body);
  }
  return {
    kind: 'rule',
    raw,
    span,
    disabled,
    disabledPrefix: disabled ? { start: entry.start, end: toPhysical(entry, from) } : undefined,
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

/** `# alert ...` is a disabled rule when what follows the comment sign parses as a rule; otherwise a comment. */
function parseComment(entry: Entry, raw: string): Node | undefined {
  const t = entry.text;
  let i = skipBlanks(t, 0);
  if (t[i] !== '#') return undefined;
  while (t[i] === '#') i++;
  i = skipBlanks(t, i);
  const word = firstWord(t, i);
  if (isAction(word)) {
    const diags: PendingDiag[] = [];
    const node = parseRuleEntry(entry, raw, i, true, diags);
    if (node.kind !== 'rule') return undefined;
    // Prose that happens to start with an action word ("# alert on ...") does not get this far: the header
    // must have parsed. A disabled rule's option problems are kept on the node, not reported: Snort never reads it.
    node.invalid = diags.some((d) => d.severity === 'error');
    disabledDiagnostics.set(node, diags);
    return node;
  }
  if (word === 'include') return parseDirective(entry, raw, i, word, true);
  return undefined;
}

/** Problems found in disabled rules, for lint's `--check-disabled` and for convert when it enables a rule. */
export const disabledDiagnostics = new WeakMap<RuleNode, PendingDiag[]>();

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
