/**
 * PCRE (as Snort 2.9 compiles it: 8-bit, no UTF, default character tables, newline = LF) to JavaScript RegExp
 * source. The matcher runs the result over latin1 strings (one char per byte), so every construct is translated to
 * its exact byte meaning: `.` never matches \n (JS also refuses \r), `\s` is the six ASCII blanks (JS adds 0xA0),
 * `$` also matches before a final \n, case folding covers ASCII letters only (JS `i` folds latin1 letters too), and
 * so on. Constructs JS lacks are rewritten (atomic groups and possessive quantifiers with the exact lookahead-capture
 * trick `(?=(X))\1`) or reported as `unsupported` (recursion, conditionals, backtracking verbs).
 *
 * The translator is one pass over the pattern that builds a token list; group numbers are assigned at the end so
 * that the synthetic groups of the atomic trick never shift the numbers of backreferences.
 *
 * Structure (for a cheap cold start: a rule set translates thousands of patterns once each): the state of a
 * translation lives in the fields of one reused `PcreTranslator`, each construct is a small method (V8 optimizes
 * small functions quickly and independently), and the token list holds only strings: group openings and
 * backreferences, whose text is only known at the end, are strings that start with a control character
 * (`T_OPEN`...), which no translated text contains. Inline flags are a bit set. Alternative lengths (only checked
 * inside lookbehinds, which must be fixed-length) are tracked only while a lookbehind is open.
 */

export interface PcreCompileFlags {
  /** i s m x A E G */
  caseless: boolean;
  dotall: boolean;
  multiline: boolean;
  extended: boolean;
  anchored: boolean;
  dollarEndOnly: boolean;
  ungreedy: boolean;
}

export interface PcreTranslation {
  /** JavaScript RegExp source. */
  source: string;
  /** JavaScript flags (never `u`, never `i`: folding is spelled out). `y` when the pattern is anchored (/A). */
  flags: string;
  /** 'linear' when V8's linear-time engine can run it (no backreferences, no lookarounds). */
  engine: 'linear' | 'backtrack';
  /** Set when part of the pattern has no JavaScript equivalent (the source is then an approximation). */
  unsupported?: string;
  /** Atomic groups or possessive quantifiers were rewritten (exact, but needs backtracking). */
  atomic: boolean;
}

export class PcreSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const HEX = '0123456789abcdef';
function hx(c: number): string {
  return '\\x' + HEX[c >> 4] + HEX[c & 15];
}

const WORD = new Uint8Array(256);
const DIGIT = new Uint8Array(256);
const SPACE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  DIGIT[c] = c >= 48 && c <= 57 ? 1 : 0;
  WORD[c] = /[A-Za-z0-9_]/.test(ch) ? 1 : 0;
  SPACE[c] = c === 9 || c === 10 || c === 11 || c === 12 || c === 13 || c === 32 ? 1 : 0;
}
const HSPACE = [9, 32, 0xa0];
const VSPACE = [10, 11, 12, 13, 0x85];

/** POSIX class names (a Map: names like `constructor` or `__proto__` must not find Object.prototype's properties). */
const POSIX = new Map<string, (c: number) => boolean>(
  Object.entries({
    alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
    digit: (c) => c >= 48 && c <= 57,
    alnum: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57),
    upper: (c) => c >= 65 && c <= 90,
    lower: (c) => c >= 97 && c <= 122,
    space: (c) => SPACE[c] === 1,
    blank: (c) => c === 9 || c === 32,
    punct: (c) => (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126),
    print: (c) => c >= 32 && c <= 126,
    graph: (c) => c >= 33 && c <= 126,
    cntrl: (c) => c < 32 || c === 127,
    xdigit: (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
    word: (c) => WORD[c] === 1,
    ascii: (c) => c < 128,
  }),
);

function predSet(pred: (c: number) => boolean): Uint8Array {
  const s = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (pred(c)) s[c] = 1;
  return s;
}

/** Class escapes usable inside and outside classes: \d \D \w \W \s \S \h \H \v \V (PCRE, 8-bit, no UCP). */
const ESCAPE_SETS: Record<string, { set: Uint8Array; neg: boolean } | undefined> = (() => {
  const d = predSet((c) => DIGIT[c] === 1);
  const w = predSet((c) => WORD[c] === 1);
  const sp = predSet((c) => SPACE[c] === 1);
  const h = predSet((c) => HSPACE.includes(c));
  const v = predSet((c) => VSPACE.includes(c));
  return {
    d: { set: d, neg: false },
    D: { set: d, neg: true },
    w: { set: w, neg: false },
    W: { set: w, neg: true },
    s: { set: sp, neg: false },
    S: { set: sp, neg: true },
    h: { set: h, neg: false },
    H: { set: h, neg: true },
    v: { set: v, neg: false },
    V: { set: v, neg: true },
  };
})();

/** Rendered JS classes by (set, negation, caseless), memoised on the set's bytes. */
const renderMemo = new Map<string, string>();
function renderCached(set: Uint8Array, negate: boolean, caseless: boolean): string {
  let key = negate ? (caseless ? '3' : '1') : caseless ? '2' : '0';
  for (let c = 0; c < 256; c += 8) {
    key += String.fromCharCode(
      set[c]! |
        (set[c + 1]! << 1) |
        (set[c + 2]! << 2) |
        (set[c + 3]! << 3) |
        (set[c + 4]! << 4) |
        (set[c + 5]! << 5) |
        (set[c + 6]! << 6) |
        (set[c + 7]! << 7),
    );
  }
  let r = renderMemo.get(key);
  if (r === undefined) {
    let s = set;
    if (caseless) {
      s = new Uint8Array(set);
      foldSet(s);
    }
    r = renderSet(s, negate);
    if (renderMemo.size > 50_000) renderMemo.clear();
    renderMemo.set(key, r);
  }
  return r;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isXSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

/** The bytes a pattern character stands for: Snort reads rule files as bytes, so non-ASCII text is its UTF-8. */
function charBytes(code: number): number[] {
  if (code < 0x80) return [code];
  return [...Buffer.from(String.fromCharCode(code), 'utf8')];
}

function literalAtom(c: number, caseless: boolean): string {
  if (caseless && isAlpha(c)) {
    const lo = String.fromCharCode(c | 0x20);
    const up = String.fromCharCode(c & ~0x20);
    return `[${up}${lo}]`;
  }
  if ((c >= 48 && c <= 57) || isAlpha(c) || c === 95 || c === 32) return String.fromCharCode(c);
  if (c > 32 && c < 127) {
    const ch = String.fromCharCode(c);
    return '\\^$.|?*+()[]{}/\\-'.includes(ch) ? '\\' + ch : ch;
  }
  return hx(c);
}

/** Renders a byte set as a JS class (positive ranges; negated sets print as [^...] of their complement). */
function renderSet(set: Uint8Array, negate: boolean): string {
  let count = 0;
  for (let c = 0; c < 256; c++) count += set[c]!;
  if (!negate && count === 256) return '[\\s\\S]';
  if (negate && count === 0) return '[\\s\\S]';
  if (!negate && count === 0) return '[^\\s\\S]';
  let out = negate ? '[^' : '[';
  let c = 0;
  while (c < 256) {
    if (!set[c]) {
      c++;
      continue;
    }
    let e = c;
    while (e + 1 < 256 && set[e + 1]) e++;
    out += classChar(c);
    if (e > c + 1) out += '-' + classChar(e);
    else if (e === c + 1) out += classChar(e);
    c = e + 1;
  }
  return out + ']';
}

const LITERALS: string[] = [];
for (let c = 0; c < 256; c++) LITERALS.push(literalAtom(c, false));

function classChar(c: number): string {
  if ((c >= 48 && c <= 57) || isAlpha(c) || c === 95) return String.fromCharCode(c);
  return hx(c);
}

function foldSet(set: Uint8Array): void {
  for (let c = 65; c <= 90; c++) {
    if (set[c] || set[c + 32]) {
      set[c] = 1;
      set[c + 32] = 1;
    }
  }
}

/** Characters that are plain literals everywhere outside classes (not metacharacters, not letters). */
const PLAIN = new Uint8Array(128);
for (const ch of '0123456789 !"%&\',-/:;<=>@_`~') PLAIN[ch.charCodeAt(0)] = 1;

/** Literal atoms under case folding (`[Aa]` for letters), by byte. */
const FOLDED: string[] = [];
for (let c = 0; c < 256; c++) FOLDED.push(literalAtom(c, true));

/** Class escapes (\\d \\D \\w ...) by character code: index into ESCAPE_SET_LIST + 1, or 0. */
const ESCAPE_SET_INDEX = new Uint8Array(128);
const ESCAPE_SET_LIST: { set: Uint8Array; neg: boolean; render: string[] }[] = [];
for (const name of Object.keys(ESCAPE_SETS)) {
  const e = ESCAPE_SETS[name]!;
  ESCAPE_SET_LIST.push({ set: e.set, neg: e.neg, render: ['', ''] });
  ESCAPE_SET_INDEX[name.charCodeAt(0)] = ESCAPE_SET_LIST.length;
}
function escapeSetOf(c: number): number {
  return c < 128 ? ESCAPE_SET_INDEX[c]! : 0;
}

/** What the character after a `\` outside a class is, by code (the categories are tried in this order). */
const ESC_OTHER = 0;
const ESC_SET = 1;
const ESC_LETTER = 2;
const ESC_DIGIT = 3;
const ESC_CODE = 4;
const ESC_KIND = new Uint8Array(128);
for (const ch of 'bBAzZGQERCKXpPLlUuNgk') ESC_KIND[ch.charCodeAt(0)] = ESC_LETTER;
for (const ch of '123456789') ESC_KIND[ch.charCodeAt(0)] = ESC_DIGIT;
for (const ch of 'nrtfeacxo0') ESC_KIND[ch.charCodeAt(0)] = ESC_CODE;
for (let c = 0; c < 128; c++) if (ESCAPE_SET_INDEX[c] !== 0) ESC_KIND[c] = ESC_SET;

/** Escapes refused inside a class. */
const CLASS_FORBIDDEN = new Uint8Array(128);
for (const ch of 'XRNLlUukBCKGAZz') CLASS_FORBIDDEN[ch.charCodeAt(0)] = 1;

/** Hex digit values by code, -1 for others. */
const HEXVAL = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) {
  HEXVAL[HEX.charCodeAt(c)] = c;
  HEXVAL[HEX.toUpperCase().charCodeAt(c)] = c;
}

/**
 * Characters of a run of plain literals outside classes, by (caseless, extended): index (f & F_I) | (f & F_X) >> 2.
 * The table tells where a run starts; the sticky regular expression (native code, fast even before V8 optimizes
 * this module) finds where it ends.
 */
const PLAIN_RUN: Uint8Array[] = [];
const PLAIN_RUN_RE: RegExp[] = [];
for (let k = 0; k < 4; k++) {
  const caseless = (k & 1) !== 0;
  const extended = (k & 2) !== 0;
  const t = new Uint8Array(128);
  let cls = '';
  for (let c = 0; c < 128; c++) {
    if ((PLAIN[c] === 1 || (isAlpha(c) && !caseless)) && !(extended && c === 32)) {
      t[c] = 1;
      cls += hx(c);
    }
  }
  PLAIN_RUN.push(t);
  PLAIN_RUN_RE.push(new RegExp(`[${cls}]+`, 'y'));
}
/** The plain characters whose literal atom is escaped (`\-`, `\/`). */
const PLAIN_ESCAPED = /[-/]/g;

const WORD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Inline option bits. */
const F_I = 1;
const F_S = 2;
const F_M = 4;
const F_X = 8;

/** Group kinds. LOOKAHEAD is a `(?=` or `(?!` group; ATOMIC opens with `(?=` too (the atomic trick). */
const K_GROUP = 0;
const K_LOOKBEHIND = 1;
const K_ATOMIC = 2;
const K_OTHER = 3;
const K_LOOKAHEAD = 4;
/** `(?(condition)yes|no)`: at most two branches. */
const K_CONDITIONAL = 5;

/**
 * Special tokens stand for text only known at the end: a control character, a body, T_END (no translated text has
 * control characters, so the joined tokens are resolved by one regular-expression pass). T_OPEN + id: a capturing
 * group's opening; T_REF + k: the k-th numeric backreference; T_NAMED + name: a named backreference; T_SYN + id: a
 * reference to a synthetic group of the atomic trick.
 */
const T_OPEN = '\u0000';
const T_REF = '\u0001';
const T_NAMED = '\u0002';
const T_SYN = '\u0003';
const T_END = '\u0005';
const OPEN_TOKEN = /\u0000(\d+)\u0005/g;
const SPECIAL_TOKEN = /([\u0000-\u0003])([^\u0005]*)\u0005/g;

/** An open group. Length fields are only kept up to date while a lookbehind is open (`lbDepth > 0`). */
class Frame {
  /** Index in `out` of the group's opening token (for quantifiers applied to the whole group). */
  openAt = 0;
  /** Offset in the pattern of the group's `(` (for errors). */
  srcAt = 0;
  /** Inline option bits in force when the group opened (restored when it closes). */
  saved = 0;
  kind = K_GROUP;
  /** Synthetic group id for the atomic trick. */
  atomicId = 0;
  /**
   * min/max length of the current alternative; max = Infinity when unbounded. (Length fields start as non-integers so
   * that V8 gives them a double representation from the start: no map change when Infinity arrives.)
   */
  curMin = 0.5;
  curMax = 0.5;
  /** Finished alternatives: count, min of their mins, max of their maxes, the first one's min. */
  nAlts = 0;
  altMin = Infinity;
  altMax = -Infinity;
  firstMin = 0.5;
  /** Some alternative has min !== max. */
  notFixed = false;
  /** Some alternative has min !== max or a min other than the first alternative's. */
  varying = false;
  /** `|` met at this group's level (a conditional group may have one). */
  bars = 0;
  /** A conditional group whose condition, an assertion group, has not closed yet. */
  conditionOpen = false;

  reset(openAt: number, srcAt: number, saved: number, kind: number): void {
    this.bars = 0;
    this.conditionOpen = false;
    this.openAt = openAt;
    this.srcAt = srcAt;
    this.saved = saved;
    this.kind = kind;
    this.atomicId = 0;
    this.curMin = 0;
    this.curMax = 0;
    this.nAlts = 0;
    this.altMin = Infinity;
    this.altMax = -Infinity;
    this.firstMin = 0;
    this.notFixed = false;
    this.varying = false;
  }

  /** Ends the current alternative (at `|` or `)`). */
  finishAlt(): void {
    const mn = this.curMin;
    const mx = this.curMax;
    if (this.nAlts === 0) this.firstMin = mn;
    this.nAlts++;
    this.altMin = Math.min(this.altMin, mn);
    this.altMax = Math.max(this.altMax, mx);
    if (mn !== mx) this.notFixed = true;
    if (mn !== mx || mn !== this.firstMin) this.varying = true;
    this.curMin = 0;
    this.curMax = 0;
  }
}

/** One translation's state; a single instance is reused (translations are synchronous and never nest). */
class PcreTranslator {
  p = '';
  n = 0;
  i = 0;
  /** Inline option bits (F_I F_S F_M F_X). */
  f = 0;
  ungreedy = false;
  dollarEndOnly = false;
  out: string[] = [];
  /** Tokens in `out` that are not plain text (T_OPEN...). */
  special = 0;
  frames: Frame[] = [];
  depth = 0;
  /** Open lookbehind groups. */
  lbDepth = 0;
  /** What has no JavaScript equivalent (the first one met), or ''. */
  unsupported = '';
  lookaround = false;
  backref = false;
  atomic = false;
  sticky = false;
  /** Group ids (original capturing groups and synthetic ones). */
  nextId = 0;
  /** Original group number (1-based index) -> id. */
  origGroups: number[] = [];
  /** Named group name -> id. */
  names = new Map<string, number>();
  /** Named group id -> name. */
  namedOpen = new Map<number, string>();
  /** Numeric backreferences: group number and offset of the escape. */
  refN: number[] = [];
  refAt: number[] = [];
  /** Named backreferences: name and offset. */
  namedRefs: string[] = [];
  namedRefAt: number[] = [];
  /** Subroutine calls: the group number or name each names, and their offsets (checked at the end). */
  subN: number[] = [];
  subAt: number[] = [];
  subNames: string[] = [];
  subNameAt: number[] = [];
  /** Start index in `out` of the last quantifiable atom, and its length (doubles from the start, see Frame). -1 when there is none. */
  atomStart = -1;
  atomMin = 0.5;
  atomMax = 0.5;
  /** The last atom is several JS pieces (atomic trick, assertion group): wrap it before quantifying. */
  atomWrap = false;
  /** Offset in the pattern of the `(` being translated (every group opens from `group()`). */
  groupAt = 0;
  /**
   * The furthest pattern index read by `checkPosixSyntax` while the current class was parsed (its scan can run past
   * the class's `]`, up to the end of the pattern): a class is memoised only when this stays inside its own text.
   */
  classScanMax = -1;
  /** Scratch byte set for classes. */
  set = new Uint8Array(256);
  /** Group id -> number in the output (while the source is assembled). */
  numberOf: number[] = [];

  translate(pattern: string, flags: PcreCompileFlags): PcreTranslation {
    this.reset(pattern, flags);
    const n = this.n;
    while (this.i < n) {
      if ((this.f & F_X) !== 0) {
        this.skipExtended();
        if (this.i >= n) break;
      }
      this.step();
    }
    // PCRE reports a missing ) at the end of the pattern.
    if (this.depth > 0) throw new PcreSyntaxError('missing )', this.n);
    this.resolveRefs();
    const source = this.special === 0 ? this.out.join('') : this.assemble();
    const jsFlags = this.sticky ? 'y' : '';
    const engine = !this.backref && !this.lookaround && !this.unsupported ? 'linear' : 'backtrack';
    const result: PcreTranslation = { source, flags: jsFlags, engine, atomic: this.atomic };
    if (this.unsupported) result.unsupported = this.unsupported;
    return result;
  }

  reset(pattern: string, flags: PcreCompileFlags): void {
    this.p = pattern;
    this.n = pattern.length;
    this.i = 0;
    this.f = (flags.caseless ? F_I : 0) | (flags.dotall ? F_S : 0) | (flags.multiline ? F_M : 0) | (flags.extended ? F_X : 0);
    this.ungreedy = !!flags.ungreedy;
    this.dollarEndOnly = !!flags.dollarEndOnly;
    this.out = [];
    this.special = 0;
    this.depth = 0;
    this.lbDepth = 0;
    this.unsupported = '';
    this.lookaround = false;
    this.backref = false;
    this.atomic = false;
    this.sticky = !!flags.anchored;
    this.nextId = 0;
    if (this.origGroups.length !== 0) this.origGroups.length = 0;
    if (this.names.size !== 0) this.names.clear();
    if (this.namedOpen.size !== 0) this.namedOpen.clear();
    if (this.refN.length !== 0) {
      this.refN.length = 0;
      this.refAt.length = 0;
    }
    if (this.namedRefs.length !== 0) {
      this.namedRefs.length = 0;
      this.namedRefAt.length = 0;
    }
    if (this.subN.length !== 0 || this.subNames.length !== 0) {
      this.subN.length = 0;
      this.subAt.length = 0;
      this.subNames.length = 0;
      this.subNameAt.length = 0;
    }
    this.atomStart = -1;
    this.atomMin = 0;
    this.atomMax = 0;
    this.atomWrap = false;
  }

  /** Translates the construct at `i` (outside classes). */
  step(): void {
    const c = this.p.charCodeAt(this.i);
    if (c < 128 && PLAIN_RUN[((this.f & F_X) >> 2) | (this.f & F_I)]![c] === 1) {
      this.plainRun();
      return;
    }
    switch (c) {
      case 92: // \
        this.escape();
        return;
      case 91: // [
        this.parseClass();
        return;
      case 40: // (
        this.group();
        return;
      case 41: // )
        this.closeGroup();
        return;
      case 124: // |
        this.alternation();
        return;
      case 42: // *
      case 43: // +
      case 63: // ?
        if (this.quantifier()) return;
        throw new PcreSyntaxError('nothing to repeat', this.i);
      case 123: // {
        if (this.quantifier()) return;
        // A '{' that does not start a quantifier is a literal.
        this.i++;
        this.literal(c);
        return;
      case 46: // .
        this.i++;
        this.atom((this.f & F_S) !== 0 ? '[\\s\\S]' : '[^\\n]');
        return;
      case 94: // ^
        this.i++;
        if ((this.f & F_M) !== 0) this.assertion('(?<![^\\n])', true);
        else this.assertion('^', false);
        return;
      case 36: // $
        this.i++;
        if ((this.f & F_M) !== 0) this.assertion('(?![^\\n])', true);
        else if (this.dollarEndOnly) this.assertion('$', false);
        else this.assertion('(?=\\n?$)', true);
        return;
    }
    this.i++;
    this.literal(c);
  }

  /** A run of plain literal characters: one token for all but the last (which a quantifier may follow). */
  plainRun(): void {
    const p = this.p;
    const i = this.i;
    const re = PLAIN_RUN_RE[((this.f & F_X) >> 2) | (this.f & F_I)]!;
    re.lastIndex = i;
    re.test(p);
    const j = re.lastIndex;
    if (j - i > 1) {
      // LITERALS of the plain characters are themselves but for '-' and '/'.
      const text = p.slice(i, j - 1).replace(PLAIN_ESCAPED, '\\$&');
      this.out.push(text);
      if (this.lbDepth > 0) this.addLen(j - 1 - i, j - 1 - i);
    }
    this.atom(LITERALS[p.charCodeAt(j - 1)]!);
    this.i = j;
  }

  /** Adds a length to the current alternative (only called while a lookbehind is open). */
  addLen(min: number, max: number): void {
    const fr = this.frames[this.depth - 1]!;
    fr.curMin += min;
    fr.curMax += max;
  }

  /** A one-character atom. */
  atom(text: string): void {
    this.atomStart = this.out.length;
    this.atomWrap = false;
    this.out.push(text);
    this.atomMin = 1;
    this.atomMax = 1;
    if (this.lbDepth > 0) this.addLen(1, 1);
  }

  atomLen(text: string, min: number, max: number): void {
    this.atomStart = this.out.length;
    this.atomWrap = false;
    this.out.push(text);
    this.atomMin = min;
    this.atomMax = max;
    if (this.lbDepth > 0) this.addLen(min, max);
  }

  /** An atom whose token is resolved at the end (a backreference). */
  refAtom(token: string): void {
    this.special++;
    this.atomLen(token, 0, Infinity);
  }

  assertion(text: string, isLookaround: boolean): void {
    this.out.push(text);
    if (isLookaround) this.lookaround = true;
    this.atomStart = -1;
  }

  unsup(what: string): void {
    if (this.unsupported === '') this.unsupported = what;
  }

  literal(code: number): void {
    if (code < 0x80) this.atom((this.f & F_I) !== 0 ? FOLDED[code]! : LITERALS[code]!);
    else for (const b of charBytes(code)) this.atom((this.f & F_I) !== 0 ? FOLDED[b]! : LITERALS[b]!);
  }

  /** A byte given by an escape (\\xHH, \\012, \\cX...): already a byte (0-255), never UTF-8 encoded. */
  literalByte(b: number): void {
    this.atom((this.f & F_I) !== 0 ? FOLDED[b]! : LITERALS[b]!);
  }

  skipExtended(): void {
    const p = this.p;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      const ch = p[i]!;
      if (isXSpace(ch)) i++;
      else if (ch === '#') {
        while (i < n && p[i] !== '\n') i++;
      } else break;
    }
    this.i = i;
  }

  /** `\` outside a class, at `i`. */
  escape(): void {
    const escAt = this.i;
    if (escAt + 1 >= this.n) throw new PcreSyntaxError('\\ at end of pattern', escAt);
    const ec = this.p.charCodeAt(escAt + 1);
    this.i++;
    switch (ec < 128 ? ESC_KIND[ec] : ESC_OTHER) {
      case ESC_SET:
        this.i++;
        this.atom(this.escapeSetText(ec));
        return;
      case ESC_LETTER:
        this.letterEscape(this.p[escAt + 1]!, escAt);
        return;
      case ESC_DIGIT:
        this.digitEscape(escAt);
        return;
      case ESC_CODE: {
        const code = this.readCodeEscape(ec);
        if (code !== -1) {
          this.literalByte(code);
          return;
        }
        break;
      }
    }
    // Any other escaped character is itself.
    this.i++;
    this.literal(ec);
  }

  /** The JS class for \d \D \w ... (by code) under the current case folding. */
  escapeSetText(ec: number): string {
    const entry = ESCAPE_SET_LIST[ESCAPE_SET_INDEX[ec]! - 1]!;
    const k = (this.f & F_I) !== 0 ? 1 : 0;
    let text = entry.render[k]!;
    if (text === '') {
      text = renderCached(entry.set, entry.neg, k === 1);
      entry.render[k] = text;
    }
    return text;
  }

  /** Escapes with a meaning of their own outside classes; `i` is at the letter. Returns false for the others. */
  letterEscape(e: string, escAt: number): boolean {
    switch (e) {
      case 'b':
      case 'B':
        this.i++;
        this.assertion('\\' + e, false);
        return true;
      case 'A':
        this.i++;
        this.assertion('^', false);
        return true;
      case 'z':
        this.i++;
        this.assertion('$', false);
        return true;
      case 'Z':
        this.i++;
        this.assertion('(?=\\n?$)', true);
        return true;
      case 'G':
        this.i++;
        if (escAt === 0) this.sticky = true;
        else this.unsup('\\G not at the start of the pattern');
        this.atomStart = -1; // an assertion: nothing a quantifier may follow
        return true;
      case 'Q': {
        this.i++;
        const end = this.p.indexOf('\\E', this.i);
        const stop = end === -1 ? this.n : end;
        for (; this.i < stop; this.i++) this.literal(this.p.charCodeAt(this.i));
        this.i = end === -1 ? this.n : end + 2;
        return true;
      }
      case 'E':
        this.i++;
        return true;
      case 'R':
        this.i++;
        this.atomLen('(?:\\r\\n|[\\n\\v\\f\\r\\x85])', 1, 2);
        return true;
      case 'C':
        this.i++;
        this.atom('[\\s\\S]');
        return true;
      case 'K':
        // PCRE2 10.38 refuses \K in a lookaround (PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK is not set)
        if (this.inLookaround()) throw new PcreSyntaxError('\\K is not allowed in lookarounds', escAt);
        this.i++;
        this.unsup('\\K (reset match start)');
        this.atomStart = -1;
        return true;
      case 'X':
        this.i++;
        this.unsup('\\X (extended grapheme cluster)');
        this.atomLen('(?:\\r\\n|[\\s\\S])', 1, 2);
        return true;
      case 'p':
      case 'P':
        this.unsup(`\\${e} (Unicode property)`);
        this.i++;
        if (this.p[this.i] === '{') {
          const close = this.p.indexOf('}', this.i);
          this.i = close === -1 ? this.n : close + 1;
        } else this.i++;
        this.atom('[\\s\\S]');
        return true;
      case 'L':
      case 'l':
      case 'U':
      case 'u':
        throw new PcreSyntaxError('PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u', escAt);
      case 'N':
        // \N{U+hhhh} is a code point, which PCRE2 takes only in UTF mode (never set for Snort's rules)
        if (this.p[this.i + 1] === '{' && !/^\{\d+(,\d*)?\}/.test(this.p.slice(this.i + 1, this.i + 24))) {
          throw new PcreSyntaxError('\\N{U+dddd} is supported only in Unicode (UTF) mode', escAt);
        }
        this.i++;
        this.atom('[^\\n]');
        return true;
      case 'g':
      case 'k':
        this.referenceEscape(e, escAt);
        return true;
    }
    return false;
  }

  /** \\g{N} \\gN \\g{-N} \\g{name} \\k<name> \\k'name' \\k{name}; `i` is at the letter. */
  referenceEscape(e: string, escAt: number): void {
    const p = this.p;
    this.i++;
    let ref: string;
    const open = p[this.i];
    const closeCh = open === '{' ? '}' : open === '<' ? '>' : open === "'" ? "'" : undefined;
    if (e === 'g' && (open === '<' || open === "'")) {
      this.unsup('\\g<...> subroutine call');
      const close = p.indexOf(open === '<' ? '>' : "'", this.i + 1);
      this.i = close === -1 ? this.n : close + 1;
      this.atomLen('(?:)', 0, Infinity);
      return;
    }
    if (closeCh !== undefined && (e === 'k' || open === '{')) {
      const close = p.indexOf(closeCh, this.i + 1);
      if (close === -1) throw new PcreSyntaxError(`\\${e} is not followed by a valid reference`, escAt);
      ref = p.slice(this.i + 1, close);
      this.i = close + 1;
    } else if (e === 'g') {
      const m = /^-?\d+/.exec(p.slice(this.i));
      if (!m) throw new PcreSyntaxError('a numbered reference must not be zero', escAt);
      ref = m[0];
      this.i += m[0].length;
    } else throw new PcreSyntaxError('\\k is not followed by a braced, angle-bracketed, or quoted name', escAt);
    if (/^-?\d+$/.test(ref)) {
      let num = Number(ref);
      if (num < 0) num = this.origGroups.length + 1 + num;
      if (num <= 0) throw new PcreSyntaxError('reference to non-existent subpattern', escAt);
      this.numericRef(num, escAt);
    } else {
      if (!WORD_NAME.test(ref)) throw new PcreSyntaxError('syntax error in subpattern name', escAt);
      this.namedRef(ref, escAt);
    }
    this.backref = true;
  }

  numericRef(num: number, at: number): void {
    this.refAtom(T_REF + this.refN.length + T_END);
    this.refN.push(num);
    this.refAt.push(at);
  }

  namedRef(name: string, at: number): void {
    this.namedRefs.push(name);
    this.namedRefAt.push(at);
    this.refAtom(T_NAMED + name + T_END);
  }

  /** `\1`..`\9...`: a backreference, or octal when it cannot be one (\\10+ with fewer groups), like PCRE. */
  digitEscape(escAt: number): void {
    const p = this.p;
    let j = this.i;
    while (j < this.n && p.charCodeAt(j) >= 48 && p.charCodeAt(j) <= 57) j++;
    const digits = p.slice(this.i, j);
    const num = Number(digits);
    if (num < 10 || num <= countGroups(p)) {
      this.i += digits.length;
      this.numericRef(num, escAt);
      this.backref = true;
      return;
    }
    // Octal: up to 3 octal digits.
    let v = 0;
    let k = 0;
    while (k < 3 && p[this.i]! >= '0' && p[this.i]! <= '7') {
      v = v * 8 + (p.charCodeAt(this.i) - 48);
      this.i++;
      k++;
    }
    if (k === 0) {
      this.literal(p.charCodeAt(this.i));
      this.i++;
    } else this.literalByte(v & 0xff);
  }

  /** Reads a character-code escape; `i` is at the letter. Returns the code (and moves past it), or -1. */
  readCodeEscape(ch: number): number {
    switch (ch) {
      case 110: // n
        this.i++;
        return 10;
      case 114: // r
        this.i++;
        return 13;
      case 116: // t
        this.i++;
        return 9;
      case 102: // f
        this.i++;
        return 12;
      case 101: // e
        this.i++;
        return 27;
      case 97: // a
        this.i++;
        return 7;
      case 99: {
        // c
        const x = this.p[this.i + 1];
        if (x === undefined) throw new PcreSyntaxError('\\c at end of pattern', this.i - 1);
        // 8-bit PCRE without UTF refuses a byte above 127 (and a non-ASCII character in the rule is its UTF-8 bytes).
        if (x.charCodeAt(0) > 127) throw new PcreSyntaxError('\\c must be followed by an ASCII character', this.i - 1);
        this.i += 2;
        return x.toUpperCase().charCodeAt(0) ^ 0x40;
      }
      case 120: // x
        return this.hexEscape();
      case 111: // o
        return this.octalBraceEscape();
      case 48: {
        // 0
        const p = this.p;
        let v = 0;
        let k = 0;
        this.i++;
        while (k < 2 && p[this.i]! >= '0' && p[this.i]! <= '7') {
          v = v * 8 + (p.charCodeAt(this.i) - 48);
          this.i++;
          k++;
        }
        return v;
      }
    }
    return -1;
  }

  /** \\xHH, \\x{HH}; `i` is at the x. */
  hexEscape(): number {
    const p = this.p;
    this.i++;
    if (p[this.i] === '{') {
      const close = p.indexOf('}', this.i);
      const body = close === -1 ? '' : p.slice(this.i + 1, close);
      if (close !== -1 && /^[0-9A-Fa-f]+$/.test(body)) {
        const v = parseInt(body, 16);
        if (v > 0xff) throw new PcreSyntaxError('character value in \\x{...} sequence is too large', this.i - 2);
        this.i = close + 1;
        return v;
      }
      return 0; // PCRE1: `\x{` not followed by hex + `}` is \x00 then literal '{'
    }
    let v = 0;
    let k = 0;
    while (k < 2) {
      const c = p.charCodeAt(this.i);
      const d = c < 128 ? HEXVAL[c]! : -1;
      if (d < 0) break;
      v = v * 16 + d;
      this.i++;
      k++;
    }
    return v;
  }

  /** \\o{...}; `i` is at the o. Returns -1 when no `{` follows. */
  octalBraceEscape(): number {
    const p = this.p;
    if (p[this.i + 1] !== '{') return -1;
    const close = p.indexOf('}', this.i);
    const body = close === -1 ? '' : p.slice(this.i + 2, close);
    if (!/^[0-7]+$/.test(body)) throw new PcreSyntaxError('\\o{ not followed by octal digits and }', this.i - 1);
    const v = parseInt(body, 8);
    if (v > 0xff) throw new PcreSyntaxError('character value in \\o{...} sequence is too large', this.i - 1);
    this.i = close + 1;
    return v;
  }

  /** A character class at `i` (or PCRE's `[[:<:]]` / `[[:>:]]` word-boundary spellings). */
  parseClass(): void {
    const p = this.p;
    if (p.charCodeAt(this.i + 1) === 91 && p.charCodeAt(this.i + 2) === 58 && p.startsWith(':]]', this.i + 4)) {
      // PCRE 8.45 compile_branch: `[[:<:]]` and `[[:>:]]` (exactly these 7 characters) are compiled as the
      // pattern text \b(?=\w) and \b(?<=\w) (a following quantifier applies to the assertion group).
      const c = p[this.i + 3];
      if (c === '<' || c === '>') {
        this.substitute(c === '<' ? '\\b(?=\\w)' : '\\b(?<=\\w)', this.i + 7);
        return;
      }
    }
    const end = quickClassEnd(p, this.i);
    const memoKey = end === -1 ? undefined : ((this.f & F_I) !== 0 ? 'i' : '-') + p.slice(this.i, end);
    if (memoKey !== undefined) {
      const hit = classMemo.get(memoKey);
      if (hit !== undefined) {
        this.i = end;
        this.atom(hit);
        return;
      }
    }
    const start = this.i;
    this.classScanMax = -1;
    // PCRE 8.45 compile_branch: a class whose own `[` starts a POSIX construct (`[:alpha:]`, `[.a.]` as a whole
    // class) is an error (ERR13 / ERR31), not a class of those characters.
    const k1 = p.charCodeAt(start + 1);
    if ((k1 === 58 || k1 === 46 || k1 === 61) && this.posixEnd(start) !== -1) {
      const message = k1 === 58 ? 'POSIX named classes are supported only within a class' : 'POSIX collating elements are not supported';
      throw new PcreSyntaxError(message, start);
    }
    this.i++; // '['
    let negate = false;
    // PCRE2 (parse_regex) skips `\E` and an empty `\Q\E` at a class's start, before and after its `^`: they leave the
    // next `]` the class's first character, a literal (`[^\E]` is unterminated, `[\E^a]` negated)
    for (;;) {
      if (p.startsWith('\\E', this.i)) this.i += 2;
      else if (p.startsWith('\\Q\\E', this.i)) this.i += 4;
      else if (!negate && p[this.i] === '^') {
        negate = true;
        this.i++;
      } else break;
    }
    const set = this.set;
    set.fill(0);
    let first = true;
    let quoting = false;
    for (;;) {
      if (this.i >= this.n) throw new PcreSyntaxError('missing terminating ] for character class', start);
      const ch = p.charCodeAt(this.i);
      if (quoting) {
        if (ch === 92 && p[this.i + 1] === 'E') {
          quoting = false;
          this.i += 2;
          continue;
        }
        if (ch < 0x80) set[ch] = 1;
        else for (const b of charBytes(ch)) set[b] = 1;
        this.i++;
        first = false;
        continue;
      }
      if (ch === 93 && !first) {
        this.i++;
        break;
      }
      first = false;
      if (ch === 91 && this.classPosix(set)) continue;
      if (ch === 92) {
        const code = this.classEscape(set);
        if (code === -2) quoting = true;
        else if (code !== -1) this.classRange(set, code);
        continue;
      }
      this.i++;
      if (ch < 0x80) this.classRange(set, ch);
      else for (const b of charBytes(ch)) set[b] = 1;
    }
    const text = renderCached(set, negate, (this.f & F_I) !== 0);
    this.atom(text);
    // Memoised only when everything read (including POSIX-syntax scans) lies inside the key text: the cache never
    // changes a result.
    if (memoKey !== undefined && this.i === end && this.classScanMax < end) {
      if (classMemo.size > 50_000) classMemo.clear();
      classMemo.set(memoKey, text);
    }
  }

  /**
   * `[` inside a class at `i`: a POSIX class `[:name:]` / `[:^name:]` (added to the set, `i` moved past it, true), an
   * error for `[.x.]`, `[=x=]` and unknown names, or false when PCRE takes the `[` as an ordinary member (its
   * check_posix_syntax found no terminator before the next `]`).
   */
  classPosix(set: Uint8Array): boolean {
    const p = this.p;
    const i = this.i;
    const kind = p.charCodeAt(i + 1);
    if (kind !== 58 && kind !== 46 && kind !== 61) return false;
    const close = this.posixEnd(i);
    if (close === -1) return false;
    // PCRE 8.45 compile_branch: ERR31 for `[.` `[=` whatever is inside; else check_posix_name on the exact text.
    if (kind !== 58) throw new PcreSyntaxError('POSIX collating elements are not supported', i);
    let name = p.slice(i + 2, close);
    let neg = false;
    if (name.startsWith('^')) {
      neg = true;
      name = name.slice(1);
    }
    const pred = POSIX.get(name);
    if (!pred) throw new PcreSyntaxError(`unknown POSIX class name '${name}'`, i);
    for (let c = 0; c < 256; c++) if (pred(c) !== neg) set[c] = 1;
    this.i = close + 2;
    return true;
  }

  /** `checkPosixSyntax` at `i`, remembering how far it read (for the class memo). */
  posixEnd(i: number): number {
    const close = checkPosixSyntax(this.p, i);
    if (posixScanEnd > this.classScanMax) this.classScanMax = posixScanEnd;
    return close;
  }

  /**
   * Translates fixed PCRE pattern text `sub` in place of the pattern's text up to `resume` (PCRE's nested-pattern
   * substitution for `[[:<:]]`, `[[:>:]]`); `sub` holds no errors, so offsets in it never reach a diagnostic.
   */
  substitute(sub: string, resume: number): void {
    const p = this.p;
    const n = this.n;
    this.p = sub;
    this.n = sub.length;
    this.i = 0;
    try {
      while (this.i < this.n) this.step();
    } finally {
      this.p = p;
      this.n = n;
    }
    this.i = resume;
  }

  /**
   * `\` in a class at `i`: adds class escapes to the set and returns -1, returns -2 for `\Q`, else the character code
   * (already a byte: never UTF-8 encoded) with `i` moved past the escape.
   */
  classEscape(set: Uint8Array): number {
    const p = this.p;
    if (this.i + 1 >= this.n) throw new PcreSyntaxError('\\ at end of pattern', this.i);
    const ec = p.charCodeAt(this.i + 1);
    if (ec === 81) {
      // \Q
      this.i += 2;
      return -2;
    }
    if (ec === 69) {
      // \E
      this.i += 2;
      return -1;
    }
    const ce = escapeSetOf(ec);
    if (ce !== 0) {
      const entry = ESCAPE_SET_LIST[ce - 1]!;
      const eset = entry.set;
      const neg = entry.neg;
      for (let c = 0; c < 256; c++) if ((eset[c] === 1) !== neg) set[c] = 1;
      this.i += 2;
      return -1;
    }
    this.i++;
    if (ec === 98) {
      // \b: backspace
      this.i++;
      return 8;
    }
    if (ec === 112 || ec === 80) {
      // \p{..} \P{..}: a Unicode property, allowed in a class; not spelled in JavaScript (the class gets nothing)
      this.unsup(`\\${p[this.i]} (Unicode property)`);
      this.i++;
      if (p[this.i] === '{') {
        const close = p.indexOf('}', this.i);
        if (close === -1) throw new PcreSyntaxError('malformed \\P or \\p sequence', this.i - 2);
        this.i = close + 1;
      } else this.i++;
      return -1;
    }
    if (ec >= 49 && ec <= 55) {
      // In a class, \1..\7 are octal.
      let v = 0;
      let k = 0;
      while (k < 3 && p[this.i]! >= '0' && p[this.i]! <= '7') {
        v = v * 8 + (p.charCodeAt(this.i) - 48);
        this.i++;
        k++;
      }
      return v & 0xff;
    }
    let code = this.readCodeEscape(ec);
    if (code === -1) {
      if (ec < 128 && CLASS_FORBIDDEN[ec] === 1) throw new PcreSyntaxError(`escape \\${p[this.i]!} is not allowed in a character class`, this.i - 1);
      code = ec;
      this.i++;
    }
    return code;
  }

  /** Adds the character `lo` (a byte, or more from a `\c` escape), or the range `lo-hi` when one follows, to the set. */
  classRange(set: Uint8Array, lo: number): void {
    const p = this.p;
    if (p[this.i] === '-' && p[this.i + 1] !== undefined && p[this.i + 1] !== ']') {
      const save = this.i;
      this.i++;
      const hi = this.classRangeEnd();
      if (hi === -1) {
        this.i = save; // literal '-' follows as a normal char
        set[lo] = 1;
        return;
      }
      if (hi < lo) throw new PcreSyntaxError('range out of order in character class', save - 1);
      for (let c = lo; c <= hi; c++) set[c] = 1;
      return;
    }
    set[lo] = 1;
  }

  /** The end of a range at `i` (after the `-`), moving past it; -1 when the `-` is a literal. */
  classRangeEnd(): number {
    const p = this.p;
    const c2 = p[this.i]!;
    if (c2 === '\\') {
      if (this.i + 1 >= this.n) return -1;
      const e = p.charCodeAt(this.i + 1);
      if (escapeSetOf(e) !== 0 || e === 81 || e === 69) return -1; // '-' is literal (before \d... \Q \E)
      this.i++;
      let hi: number;
      if (e === 98) {
        // \b
        this.i++;
        hi = 8;
      } else {
        hi = this.readCodeEscape(e);
        if (hi === -1) {
          hi = e;
          this.i++;
        }
      }
      return hi > 0xff ? -1 : hi;
    }
    if (c2 === '[') {
      // PCRE 8.45: a range ending in a POSIX construct is ERR83; a `[` that is not one is the range's end.
      const k = p.charCodeAt(this.i + 1);
      if ((k === 58 || k === 46 || k === 61) && this.posixEnd(this.i) !== -1) {
        throw new PcreSyntaxError('invalid range in character class', this.i - 1);
      }
    }
    const c = p.charCodeAt(this.i);
    if (c < 0x80) {
      this.i++;
      return c;
    }
    return -1;
  }

  /** Applies a quantifier to the last atom. Returns false when the text at i is not a quantifier. */
  quantifier(): boolean {
    const p = this.p;
    const ch = p.charCodeAt(this.i);
    let min: number;
    let max: number;
    let text: string;
    const qStart = this.i;
    if (ch === 42 || ch === 43 || ch === 63) {
      min = ch === 43 ? 1 : 0;
      max = ch === 63 ? 1 : Infinity;
      text = ch === 42 ? '*' : ch === 43 ? '+' : '?';
      this.i++;
    } else {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i, this.i + 24));
      if (!m) return false;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > 65535 || (max !== Infinity && max > 65535)) throw new PcreSyntaxError('number too big in {} quantifier', this.i);
      if (max < min) throw new PcreSyntaxError('numbers out of order in {} quantifier', this.i);
      text = m[0];
      this.i += m[0].length;
    }
    if (this.atomStart === -1) throw new PcreSyntaxError('nothing to repeat', qStart);
    let lazy = false;
    let possessive = false;
    // PCRE skips comments and \E between a quantifier and its ? or + (`a{2}(?#c)+` is possessive)
    for (;;) {
      if (p.startsWith('(?#', this.i)) {
        const close = p.indexOf(')', this.i);
        if (close === -1) throw new PcreSyntaxError('missing ) after comment', this.i);
        this.i = close + 1;
      } else if (p.startsWith('\\E', this.i)) this.i += 2;
      else break;
    }
    const next = p.charCodeAt(this.i);
    if (next === 63) {
      lazy = true;
      this.i++;
    } else if (next === 43) {
      possessive = true;
      this.i++;
    }
    if (this.ungreedy && !possessive) lazy = !lazy;
    const out = this.out;
    if (this.atomWrap) {
      out.splice(this.atomStart, 0, '(?:');
      out.push(')');
      this.atomWrap = false;
    }
    if (this.lbDepth > 0) {
      // Length bookkeeping: replace the atom's contribution.
      const cur = this.frames[this.depth - 1]!;
      cur.curMin += this.atomMin * min - this.atomMin;
      cur.curMax += (max === Infinity ? (this.atomMax === 0 ? 0 : Infinity) : this.atomMax * max) - this.atomMax;
    }
    if (possessive) this.possessive(text);
    else out.push(lazy ? text + '?' : text);
    this.atomStart = -1;
    return true;
  }

  /** The atomic trick for a possessive quantifier `text` on the last atom. */
  possessive(text: string): void {
    const id = this.nextId++;
    this.out.splice(this.atomStart, 0, '(?=', T_OPEN + id + T_END);
    this.out.push(text, '))', T_SYN + id + T_END);
    this.special += 2;
    this.atomic = true;
    this.lookaround = true;
    this.backref = true;
  }

  /** Parses an inline option string like `i-sm`; returns the new option bits. */
  applyOptions(opts: string, base: number, at: number): number {
    let nf = base;
    let on = true;
    for (let k = 0; k < opts.length; k++) {
      const ch = opts[k]!;
      if (ch === '-') {
        on = false;
        continue;
      }
      let bit = 0;
      if (ch === 'i') bit = F_I;
      else if (ch === 's') bit = F_S;
      else if (ch === 'm') bit = F_M;
      else if (ch === 'x') bit = F_X;
      else if (ch === 'J' || ch === 'U' || ch === 'X') this.unsup(`inline option (?${ch})`);
      else throw new PcreSyntaxError(`unrecognized character after (? or (?-`, at);
      if (bit !== 0) nf = on ? nf | bit : nf & ~bit;
    }
    return nf;
  }

  /** Opens a group whose opening token is `text` (or a capturing group `id` when `captureId` >= 0). */
  openGroup(text: string, kind: number, captureId: number): Frame {
    const openAt = this.out.length;
    if (captureId >= 0) {
      this.out.push(T_OPEN + captureId + T_END);
      this.special++;
    } else this.out.push(text);
    let fr = this.frames[this.depth];
    if (fr === undefined) {
      fr = new Frame();
      this.frames.push(fr);
    }
    fr.reset(openAt, this.groupAt, this.f, kind);
    this.depth++;
    if (kind === K_LOOKBEHIND) this.lbDepth++;
    this.atomStart = -1;
    return fr;
  }

  /** A capturing group (numbered in order). */
  capture(): number {
    const id = this.nextId++;
    this.origGroups.push(id);
    this.openGroup('', K_GROUP, id);
    return id;
  }

  /** `(` at `i`. */
  group(): void {
    const p = this.p;
    this.groupAt = this.i;
    const c1 = p.charCodeAt(this.i + 1);
    if (c1 === 42) {
      this.verb();
      return;
    }
    if (c1 !== 63) {
      this.i++;
      this.capture();
      return;
    }
    // (?...
    const c2 = p[this.i + 2];
    switch (c2) {
      case '#': {
        const close = p.indexOf(')', this.i);
        if (close === -1) throw new PcreSyntaxError('missing ) after comment', this.i);
        this.i = close + 1;
        return;
      }
      case ':':
        this.i += 3;
        this.openGroup('(?:', K_OTHER, -1);
        return;
      case '=':
      case '!':
        this.i += 3;
        this.openGroup('(?' + c2, K_LOOKAHEAD, -1);
        this.lookaround = true;
        return;
      case '<': {
        const c3 = p[this.i + 3];
        if (c3 === '=' || c3 === '!') {
          this.i += 4;
          this.openGroup('(?<' + c3, K_LOOKBEHIND, -1);
          this.lookaround = true;
          return;
        }
        break;
      }
      case '>': {
        this.i += 3;
        const id = this.nextId++;
        const fr = this.openGroup('(?=', K_ATOMIC, -1);
        this.out.push(T_OPEN + id + T_END);
        this.special++;
        fr.atomicId = id;
        this.atomic = true;
        this.lookaround = true;
        this.backref = true;
        return;
      }
      case '|':
        this.unsup('branch reset group (?|...)');
        this.i += 3;
        this.openGroup('(?:', K_OTHER, -1);
        return;
      case '(': {
        this.unsup('conditional group (?(...)...)');
        const condAt = this.i + 3;
        if (p[condAt] === '?') {
          // the condition is an assertion (or a callout), parsed next as a group of its own
          const a = p.slice(condAt + 1, condAt + 3);
          if (!(a[0] === '=' || a[0] === '!' || a === '<=' || a === '<!' || a[0] === 'C')) {
            throw new PcreSyntaxError('assertion expected after (?( or (?(?C)', condAt);
          }
          this.i += 2;
          this.openGroup('(?:', K_CONDITIONAL, -1).conditionOpen = true;
          return;
        }
        const close = p.indexOf(')', condAt);
        if (close === -1) throw new PcreSyntaxError('malformed number or name after (?(', condAt);
        this.conditionRef(p.slice(condAt, close), condAt);
        this.i = close + 1;
        this.openGroup('(?:', K_CONDITIONAL, -1);
        return;
      }
    }
    this.namedOrOptionGroup();
  }

  /**
   * `(*` at `i`: a start-of-pattern option, a backtracking verb or an alphabetic assertion, as PCRE2 10.42 reads
   * them (what `compile` hands the pattern to); anything else there is PCRE's error. Start options only before
   * anything else (other start options aside); `(*` not followed by a letter or `:` is a group that starts with a
   * quantifier.
   */
  verb(): void {
    const p = this.p;
    const at = this.i;
    const c2 = p.charCodeAt(at + 2);
    const letter = (c2 >= 65 && c2 <= 90) || (c2 >= 97 && c2 <= 122) || c2 === 58;
    if (!letter) throw new PcreSyntaxError('quantifier does not follow a repeatable item', at + 1);
    if (c2 >= 97 && c2 <= 122) {
      // (*pla:...), (*atomic:...): PCRE2's alphabetic assertions, groups in their own right
      const m = /^([a-z_]+):/.exec(p.slice(at + 2, at + 2 + 40));
      if (!m || !ALPHA_ASSERTIONS.has(m[1]!)) throw new PcreSyntaxError('(*alpha_assertion) not recognized', at);
      this.unsup(`(*${m[1]}:...)`);
      this.i = at + 3 + m[1]!.length;
      // as the assertions they name: a lookbehind must have a fixed length, \K may not be in a lookaround
      this.openGroup('(?:', ALPHA_LOOKAHEAD.has(m[1]!) ? K_LOOKAHEAD : ALPHA_LOOKBEHIND.has(m[1]!) ? K_LOOKBEHIND : K_OTHER, -1);
      return;
    }
    const close = p.indexOf(')', at);
    if (close === -1) throw new PcreSyntaxError('(*VERB) not recognized or malformed', at);
    const verb = p.slice(at + 2, close);
    if (START_VERB.test(verb)) {
      if (!this.onlyStartVerbsBefore(at)) throw new PcreSyntaxError('(*VERB) not recognized or malformed', at);
      if (verb === 'CR' || verb === 'CRLF' || verb === 'ANY' || verb === 'ANYCRLF' || verb.startsWith('UTF') || verb === 'UCP')
        this.unsup(`(*${verb})`);
    } else {
      const m = /^(ACCEPT|FAIL|F|COMMIT|PRUNE|SKIP|THEN|MARK|)(?::(.*))?$/s.exec(verb);
      if (!m || (m[1] === '' && m[2] === undefined)) throw new PcreSyntaxError('(*VERB) not recognized or malformed', at);
      if ((m[1] === 'MARK' || m[1] === '') && !m[2]) throw new PcreSyntaxError('(*MARK) must have an argument', at);
      this.unsup(`backtracking verb (*${verb})`);
    }
    this.i = close + 1;
    this.atomStart = -1; // a verb or an option: nothing a quantifier may follow (PCRE2 lets (*ACCEPT) alone be)
  }

  /** Whether the pattern before `at` is start-of-pattern options only, as PCRE2 requires of another one. */
  onlyStartVerbsBefore(at: number): boolean {
    let j = 0;
    while (j < at) {
      if (!this.p.startsWith('(*', j)) return false;
      const close = this.p.indexOf(')', j);
      if (close === -1 || close >= at || !START_VERB.test(this.p.slice(j + 2, close))) return false;
      j = close + 1;
    }
    return true;
  }

  /** The rarer `(?` forms: named groups and references, recursion, callouts, inline options. */
  namedOrOptionGroup(): void {
    const p = this.p;
    const i = this.i;
    const rest = p.slice(i + 2, i + 2 + 40);
    const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
    if (named) {
      const name = named[1] ?? named[2]!;
      if (this.names.has(name)) throw new PcreSyntaxError('two named subpatterns have the same name', i);
      this.i += 2 + named[0].length;
      const id = this.capture();
      this.names.set(name, id);
      this.namedOpen.set(id, name);
      return;
    }
    const pref = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
    if (pref) {
      this.i += 2 + pref[0].length;
      this.namedRef(pref[1]!, i);
      this.backref = true;
      return;
    }
    if (/^(R|[+-]?\d+|P>|&)/.test(rest)) {
      this.unsup('recursion or subroutine call');
      const close = p.indexOf(')', i);
      this.subroutineRef(p.slice(i + 2, close === -1 ? this.n : close), i);
      this.i = close === -1 ? this.n : close + 1;
      this.atomLen('(?:)', 0, Infinity);
      return;
    }
    if (rest.startsWith('C')) {
      this.unsup('callout');
      const close = p.indexOf(')', i);
      this.i = close === -1 ? this.n : close + 1;
      return;
    }
    const opt = /^([a-zA-Z-]*)([:)])/.exec(rest);
    if (opt) {
      const nf = this.applyOptions(opt[1]!, this.f, i);
      this.i += 2 + opt[0].length;
      // (?i) applies to the rest of the enclosing group (and nothing may quantify it); (?i:...) is a group.
      if (opt[2] !== ')') this.openGroup('(?:', K_OTHER, -1);
      else this.atomStart = -1;
      this.f = nf;
      return;
    }
    throw new PcreSyntaxError('unrecognized character after (? or (?-', i);
  }

  /** `)` at `i`. */
  closeGroup(): void {
    if (this.depth === 0) throw new PcreSyntaxError('unmatched parentheses', this.i);
    const fr = this.frames[--this.depth]!;
    this.i++;
    const kind = fr.kind;
    const tracked = this.lbDepth > 0;
    if (kind === K_LOOKBEHIND) this.lbDepth--;
    let lenMin = 0;
    let lenMax = 0;
    if (tracked) {
      fr.finishAlt();
      lenMin = fr.altMin;
      lenMax = fr.altMax;
      if (kind === K_LOOKBEHIND) {
        if (fr.notFixed) throw new PcreSyntaxError('lookbehind assertion is not fixed length', fr.srcAt);
        lenMin = 0;
        lenMax = 0;
      } else if (kind === K_LOOKAHEAD) {
        lenMin = 0;
        lenMax = 0;
      } else if (this.lbDepth > 0 && fr.varying) {
        // Inside a lookbehind, nested groups must have one fixed length: the error is the innermost lookbehind's.
        throw new PcreSyntaxError('lookbehind assertion is not fixed length', this.openLookbehindAt());
      }
    }
    this.f = fr.saved;
    if (kind === K_ATOMIC) {
      this.out.push('))', T_SYN + fr.atomicId + T_END);
      this.special++;
    } else this.out.push(')');
    this.atomStart = fr.openAt;
    // PCRE allows quantifiers on assertions (JS does not on lookbehinds): wrap those, and the atomic trick.
    const lookish = kind === K_LOOKBEHIND || kind === K_LOOKAHEAD || kind === K_ATOMIC;
    this.atomWrap = lookish;
    if (lookish && kind !== K_ATOMIC) {
      lenMin = 0;
      lenMax = 0;
    }
    this.atomMin = lenMin;
    this.atomMax = lenMax;
    if (this.lbDepth > 0) this.addLen(lenMin, lenMax);
    // the assertion that was a conditional group's condition: nothing may quantify it
    const parent = this.depth > 0 ? this.frames[this.depth - 1]! : undefined;
    if (parent?.conditionOpen) {
      parent.conditionOpen = false;
      this.atomStart = -1;
    }
  }

  /** Whether a lookahead or lookbehind is open. */
  inLookaround(): boolean {
    for (let d = 0; d < this.depth; d++) {
      const k = this.frames[d]!.kind;
      if (k === K_LOOKBEHIND || k === K_LOOKAHEAD) return true;
    }
    return false;
  }

  /** Offset in the pattern of the innermost open lookbehind (only called while one is open). */
  openLookbehindAt(): number {
    for (let d = this.depth - 1; d >= 0; d--) {
      const fr = this.frames[d]!;
      if (fr.kind === K_LOOKBEHIND) return fr.srcAt;
    }
    return 0;
  }

  /** `|` at `i`. */
  alternation(): void {
    const fr = this.depth > 0 ? this.frames[this.depth - 1]! : undefined;
    if (fr !== undefined && fr.kind === K_CONDITIONAL && ++fr.bars > 1) {
      throw new PcreSyntaxError('conditional subpattern contains more than two branches', this.i);
    }
    this.i++;
    if (this.lbDepth > 0) this.frames[this.depth - 1]!.finishAlt();
    this.out.push('|');
    this.atomStart = -1;
  }

  /**
   * The group a recursion or subroutine call `(?R)` `(?N)` `(?-N)` `(?+N)` `(?&name)` `(?P>name)` names (its text
   * without the parentheses and `?`): it must exist by the end of the pattern (checked there, resolveRefs).
   */
  subroutineRef(ref: string, at: number): void {
    if (ref === 'R' || ref === '0') return;
    const num = /^([+-]?)(\d+)$/.exec(ref);
    if (num) {
      const n = Number(num[2]);
      const opened = this.origGroups.length;
      const target = num[1] === '-' ? opened + 1 - n : num[1] === '+' ? opened + n : n;
      if (target <= 0 || (num[1] !== '' && n === 0)) throw new PcreSyntaxError('reference to non-existent subpattern', at);
      this.subN.push(target);
      this.subAt.push(at);
      return;
    }
    const name = /^(?:&|P>)([A-Za-z_][A-Za-z0-9_]*)$/.exec(ref);
    if (!name) throw new PcreSyntaxError('syntax error in subpattern name (missing terminator?)', at);
    this.subNames.push(name[1]!);
    this.subNameAt.push(at);
  }

  /**
   * The condition of `(?(...)`, when it is not an assertion: a group number (`1`, `+1`, `-1`), a name (`<n>`,
   * `'n'`, `n`), `R`, `R1`, `R&n` or `DEFINE`; the groups named must exist by the end of the pattern.
   */
  conditionRef(c: string, at: number): void {
    if (c === 'R' || c === 'DEFINE') return;
    const rec = /^R(\d+)$/.exec(c);
    if (rec) return this.subroutineRef(rec[1]!, at);
    const recName = /^R&([A-Za-z_][A-Za-z0-9_]*)$/.exec(c);
    if (recName) return this.subroutineRef(`&${recName[1]}`, at);
    if (/^[+-]?\d+$/.test(c)) {
      if (Number(c) === 0) throw new PcreSyntaxError('invalid condition (?(0)', at);
      return this.subroutineRef(c, at);
    }
    const name = /^(?:<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)'|([A-Za-z_][A-Za-z0-9_]*))$/.exec(c);
    if (!name) throw new PcreSyntaxError('malformed number or name after (?(', at);
    this.subroutineRef(`&${name[1] ?? name[2] ?? name[3]}`, at);
  }

  /** Checks the backreferences (numeric first, then named) and subroutine calls, like PCRE at the end of the pattern. */
  resolveRefs(): void {
    const groups = this.origGroups.length;
    for (let k = 0; k < this.subN.length; k++) {
      if (this.subN[k]! > groups) throw new PcreSyntaxError('reference to non-existent subpattern', this.subAt[k]!);
    }
    for (let k = 0; k < this.subNames.length; k++) {
      if (!this.names.has(this.subNames[k]!)) throw new PcreSyntaxError('reference to non-existent subpattern', this.subNameAt[k]!);
    }
    for (let k = 0; k < this.refN.length; k++) {
      if (this.refN[k]! > groups) throw new PcreSyntaxError('reference to non-existent subpattern', this.refAt[k]!);
    }
    for (let k = 0; k < this.namedRefs.length; k++) {
      const name = this.namedRefs[k]!;
      if (!this.names.has(name)) throw new PcreSyntaxError(`reference to non-existent subpattern '${name}'`, this.namedRefAt[k]!);
    }
  }

  /** Builds the source, numbering the groups in output order. */
  assemble(): string {
    const joined = this.out.join('');
    const numberOf = this.numberOf;
    if (numberOf.length !== 0) numberOf.length = 0;
    let k = 0;
    OPEN_TOKEN.lastIndex = 0;
    for (let m = OPEN_TOKEN.exec(joined); m !== null; m = OPEN_TOKEN.exec(joined)) numberOf[Number(m[1])] = ++k;
    return joined.replace(SPECIAL_TOKEN, resolveToken);
  }

  /** The text of a special token (`kind` is its first character, `body` the rest before T_END). */
  resolveToken(kind: string, body: string): string {
    const numberOf = this.numberOf;
    if (kind === T_OPEN) {
      const name = this.namedOpen.get(Number(body));
      return name !== undefined ? `(?<${name}>` : '(';
    }
    if (kind === T_REF) return `(?:\\${numberOf[this.origGroups[this.refN[Number(body)]! - 1]!]!})`;
    if (kind === T_SYN) return `(?:\\${numberOf[Number(body)]!})`;
    return `(?:\\k<${body}>)`; // T_NAMED
  }
}

const translator = new PcreTranslator();
function resolveToken(_all: string, kind: string, body: string): string {
  return translator.resolveToken(kind, body);
}

/**
 * Translates a PCRE pattern (between the delimiters) with its compile flags. Throws PcreSyntaxError (with the
 * offset in the pattern) for what PCRE itself refuses to compile.
 */
/** PCRE2 10.42's start-of-pattern options (`(*UTF)` ...). */
const START_VERB =
  /^(UTF8?|UCP|NO_START_OPT|NO_AUTO_POSSESS|NO_DOTSTAR_ANCHOR|NO_JIT|NOTEMPTY|NOTEMPTY_ATSTART|CR|LF|CRLF|ANYCRLF|ANY|NUL|BSR_ANYCRLF|BSR_UNICODE|LIMIT_(MATCH|RECURSION|DEPTH|HEAP)=\d+)$/;
const ALPHA_LOOKAHEAD = new Set(['pla', 'positive_lookahead', 'nla', 'negative_lookahead', 'napla', 'non_atomic_positive_lookahead']);
const ALPHA_LOOKBEHIND = new Set(['plb', 'positive_lookbehind', 'nlb', 'negative_lookbehind', 'naplb', 'non_atomic_positive_lookbehind']);
/** PCRE2 10.42's alphabetic assertions (`(*pla:...)`), long and short names. */
const ALPHA_ASSERTIONS = new Set([
  'pla',
  'positive_lookahead',
  'nla',
  'negative_lookahead',
  'plb',
  'positive_lookbehind',
  'nlb',
  'negative_lookbehind',
  'napla',
  'non_atomic_positive_lookahead',
  'naplb',
  'non_atomic_positive_lookbehind',
  'sr',
  'script_run',
  'asr',
  'atomic_script_run',
  'atomic',
]);

export function translatePcreSource(pattern: string, flags: PcreCompileFlags): PcreTranslation {
  return translator.translate(pattern, flags);
}

/** The last index `checkPosixSyntax` read (the pattern's length when it ran off the end). */
let posixScanEnd = 0;

/**
 * Port of check_posix_syntax() from PCRE 8.45 pcre_compile.c (8-bit library, non-UTF; the last 8.x release; PCRE2's
 * function is the same). `i` is at a `[` followed by `:`, `.` or `=` (the terminator). Scanning from after those
 * two characters: `\]` and `\\` are skipped as pairs; a `]`, or a `[` followed by the same terminator (a nested
 * construct), means "not POSIX syntax"; the terminator followed by `]` means it is one. Returns the index of that
 * closing terminator, or -1 (also when the pattern ends first). Older 8.x releases differ in edge cases
 * (`\\`, nested `[:`).
 */
function checkPosixSyntax(p: string, i: number): number {
  const term = p.charCodeAt(i + 1);
  const n = p.length;
  for (let j = i + 2; j < n; j++) {
    const c = p.charCodeAt(j);
    if (c === 92) {
      const d = p.charCodeAt(j + 1);
      if (d === 93 || d === 92) j++;
    } else if (c === 93) {
      posixScanEnd = j;
      return -1;
    } else if (c === 91) {
      if (p.charCodeAt(j + 1) === term) {
        posixScanEnd = j + 1;
        return -1;
      }
    } else if (c === term && p.charCodeAt(j + 1) === 93) {
      posixScanEnd = j + 1;
      return j;
    }
  }
  posixScanEnd = n;
  return -1;
}

/** Rendered classes by their source text (and case folding). */
const classMemo = new Map<string, string>();
const SIMPLE_CLASS_REST = /[^\\[\]]*\]/y;

/** Where a simple class (no \\Q) that starts at `i` ends (index after its ']'), or -1. */
function quickClassEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  // Most classes have no backslash or '[' before their ']': then the first ']' ends them.
  SIMPLE_CLASS_REST.lastIndex = j;
  if (SIMPLE_CLASS_REST.test(p)) return SIMPLE_CLASS_REST.lastIndex;
  while (j < p.length) {
    const ch = p.charCodeAt(j);
    if (ch === 92) {
      if (p[j + 1] === 'Q') return -1;
      j += 2;
    } else if (ch === 91 && p[j + 1] === ':') {
      // As the class parser: `[:name:]` when check_posix_syntax says so, else a plain `[`.
      const close = checkPosixSyntax(p, j);
      j = close === -1 ? j + 1 : close + 2;
    } else if (ch === 93) return j + 1;
    else j++;
  }
  return -1;
}

/** Counts the capturing groups of a pattern (for PCRE's \10+ backreference-or-octal rule). */
function countGroups(pattern: string): number {
  let count = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      if (pattern[i + 1] === ']') i++;
      else if (pattern[i + 1] === '^' && pattern[i + 2] === ']') i += 2;
      continue;
    }
    if (ch === '(') {
      if (pattern[i + 1] !== '?') count++;
      else if (/^\(\?(P?<[A-Za-z_]|')/.test(pattern.slice(i, i + 5))) count++;
    }
  }
  return count;
}
