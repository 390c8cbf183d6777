/**
 * The rule-file AST: plain data, every node and field carrying its byte range in the source.
 * Spans are offsets (UTF-16 code units) into the file's text. Nothing here knows how to parse or print.
 */
export interface Span {
  start: number;
  end: number;
}

/** A piece of source text with its offsets and its parsed value (`span` is built on demand). */
export interface Field<T = string> {
  text: string;
  start: number;
  end: number;
  readonly span: Span;
  value: T;
}

export const ACTIONS = ['alert', 'log', 'pass', 'drop', 'sdrop', 'reject', 'activate', 'dynamic'] as const;
export type Action = (typeof ACTIONS)[number];
export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'ip'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export type Direction = '->' | '<>';

export type AddressExpr =
  | { kind: 'any'; negated: boolean }
  | { kind: 'var'; name: string; negated: boolean }
  | { kind: 'cidr'; family: 4 | 6; addr: Uint8Array; prefix: number; text: string; negated: boolean }
  | { kind: 'list'; items: AddressExpr[]; negated: boolean };

export type PortExpr =
  | { kind: 'any'; negated: boolean }
  | { kind: 'var'; name: string; negated: boolean }
  | { kind: 'range'; lo: number; hi: number; negated: boolean }
  | { kind: 'list'; items: PortExpr[]; negated: boolean };

export interface RuleHeader {
  action: Field<Action>;
  protocol: Field<Protocol>;
  src: Field<AddressExpr>;
  srcPort: Field<PortExpr>;
  direction: Field<Direction>;
  dst: Field<AddressExpr>;
  dstPort: Field<PortExpr>;
}

/**
 * One `keyword[:value];` option, in source order. `args` is the keyword's typed argument record.
 * Offsets are stored as numbers (a rule set holds about half a million options); the span getters build objects.
 */
export interface RuleOption<A = unknown> {
  keyword: string;
  /** The value as Snort sees it (continuations joined, surrounding whitespace trimmed); undefined when absent. */
  value: string | undefined;
  /** Parsed arguments; undefined when the keyword is unknown or its value did not parse. */
  args: A | undefined;
  /** From the keyword's first character to the end of its `;` (or of the value when the last `;` is missing). */
  start: number;
  end: number;
  keywordEnd: number;
  /** -1 when the option has no value. */
  valueStart: number;
  valueEnd: number;
  readonly span: Span;
  readonly keywordSpan: Span;
  readonly valueSpan: Span | undefined;
}

export interface Edit {
  start: number;
  end: number;
  text: string;
}

interface NodeBase {
  /** The node's whole source text: every physical line it spans, with line terminators. */
  raw: string;
  span: Span;
  /** Source changes made by a transform, printed in place of the ranges they cover (absolute offsets). */
  edits?: Edit[];
}

export interface BlankNode extends NodeBase {
  kind: 'blank';
}

export interface CommentNode extends NodeBase {
  kind: 'comment';
}

export interface RuleNode extends NodeBase {
  kind: 'rule';
  /** `# alert ...`: a valid rule behind a comment sign. The prefix span covers `#` and the spaces after it. */
  disabled: boolean;
  disabledPrefix: Span | undefined;
  header: RuleHeader;
  options: RuleOption[];
  /** Span of the text between the parentheses. */
  body: Span;
  gid: number;
  sid: number | undefined;
  rev: number | undefined;
  msg: string | undefined;
  classtype: string | undefined;
  /** True when any error diagnostic was reported for this rule (Snort would refuse to load it). */
  invalid: boolean;
}

export type DirectiveName = 'var' | 'ipvar' | 'portvar' | 'include' | 'config' | 'other';

/** A snort.conf line: `var`, `ipvar`, `portvar`, `include`, or another directive kept as it is. */
export interface DirectiveNode extends NodeBase {
  kind: 'directive';
  directive: DirectiveName;
  keyword: Field;
  /** For variables: the name; for include: the path as written. */
  name: Field | undefined;
  /** For variables: the value text. */
  value: Field | undefined;
  /** `# include ...` (snortconfig followed these too). */
  disabled: boolean;
}

/** A line that should have been a rule or directive but could not be read; kept verbatim. */
export interface UnparsedNode extends NodeBase {
  kind: 'unparsed';
  reason: string;
}

export type Node = BlankNode | CommentNode | RuleNode | DirectiveNode | UnparsedNode;

export interface RuleFile {
  file: string;
  text: string;
  nodes: Node[];
}
