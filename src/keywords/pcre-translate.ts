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

type Tok = string | { open: number } | { ref: number } | { named: string };

interface Frame {
  /** Index in `out` where the group's content starts (after its opening text). */
  contentStart: number;
  /** Flags in force when the group opened (restored when it closes). */
  saved: Flags;
  kind: 'group' | 'lookbehind' | 'atomic' | 'other';
  /** Synthetic group id for the atomic trick. */
  atomicId?: number;
  /** Fixed-length tracking for lookbehind checks: length of each finished alternative, current alt. */
  alts: Len[];
  cur: Len;
  /** Index in `out` of the group's opening token (for quantifiers applied to the whole group). */
  openAt: number;
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
  x: boolean;
}

/** min/max length of a piece; max = Infinity when unbounded. */
interface Len {
  min: number;
  max: number;
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

const POSIX: Record<string, (c: number) => boolean> = {
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
};

const NO_LEN: Len = { min: 0, max: 0 };
const ONE: Len = { min: 1, max: 1 };

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
    key += String.fromCharCode(set[c]! | (set[c + 1]! << 1) | (set[c + 2]! << 2) | (set[c + 3]! << 3) | (set[c + 4]! << 4) | (set[c + 5]! << 5) | (set[c + 6]! << 6) | (set[c + 7]! << 7));
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

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}
function isHex(ch: string | undefined): boolean {
  return ch !== undefined && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'));
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

const WORD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Translates a PCRE pattern (between the delimiters) with its compile flags. Throws PcreSyntaxError (with the
 * offset in the pattern) for what PCRE itself refuses to compile.
 */
export function translatePcreSource(pattern: string, flags: PcreCompileFlags): PcreTranslation {
  const out: Tok[] = [];
  const stack: Frame[] = [];
  let f: Flags = { i: flags.caseless, s: flags.dotall, m: flags.multiline, x: flags.extended };
  let unsupported: string | undefined;
  let lookaround = false;
  let backref = false;
  let atomic = false;
  let sticky = flags.anchored;
  let nextId = 0; // group ids (original capturing groups and synthetic ones)
  const origGroups: number[] = []; // original group number (1-based index) -> id
  const names = new Map<string, number>(); // name -> id
  const pendingNamedRefs: { name: string; at: number }[] = [];
  const numericRefs: { n: number; at: number; tok: { ref: number } }[] = [];
  /** Start index in `out` of the last quantifiable atom, and its length. -1 when there is none. */
  let atomStart = -1;
  let atomLen: Len = NO_LEN;
  /** The last atom is several JS pieces (atomic trick, assertion group): wrap it before quantifying. */
  let atomWrap = false;
  let top: Frame = { contentStart: 0, saved: f, kind: 'group', alts: [], cur: { min: 0, max: 0 }, openAt: 0 };
  const unsup = (what: string) => {
    unsupported ??= what;
  };
  const n = pattern.length;
  let i = 0;

  const addLen = (l: Len) => {
    const cur = (stack.length ? stack[stack.length - 1]! : top).cur;
    cur.min += l.min;
    cur.max += l.max;
  };
  const atom = (text: Tok | Tok[], len: Len = ONE) => {
    atomStart = out.length;
    atomWrap = false;
    if (Array.isArray(text)) out.push(...text);
    else out.push(text);
    atomLen = len;
    addLen(len);
  };
  const assertion = (text: string, isLookaround: boolean) => {
    out.push(text);
    if (isLookaround) lookaround = true;
    atomStart = -1;
  };
  const literal = (code: number) => {
    if (code < 0x80) atom(f.i ? literalAtom(code, true) : LITERALS[code]!);
    else for (const b of charBytes(code)) atom(literalAtom(b, f.i));
  };
  /** A byte given by an escape (\\xHH, \\012, \\cX...): already a byte, never UTF-8 encoded. */
  const literalByte = (b: number) => atom(f.i ? literalAtom(b, true) : LITERALS[b]!);
  const setAtom = (set: Uint8Array, negate: boolean) => {
    atom(renderCached(set, negate, f.i));
  };

  /** Reads an escape after `\` at position i (pointing after the backslash). Returns a byte, a set, or handled. */
  const readCodeEscape = (ch: string): number | undefined => {
    switch (ch) {
      case 'n':
        i++;
        return 10;
      case 'r':
        i++;
        return 13;
      case 't':
        i++;
        return 9;
      case 'f':
        i++;
        return 12;
      case 'e':
        i++;
        return 27;
      case 'a':
        i++;
        return 7;
      case 'c': {
        const x = pattern[i + 1];
        if (x === undefined) throw new PcreSyntaxError('\\c at end of pattern', i - 1);
        i += 2;
        return x.toUpperCase().charCodeAt(0) ^ 0x40;
      }
      case 'x': {
        i++;
        if (pattern[i] === '{') {
          const close = pattern.indexOf('}', i);
          const body = close === -1 ? '' : pattern.slice(i + 1, close);
          if (close !== -1 && /^[0-9A-Fa-f]+$/.test(body)) {
            const v = parseInt(body, 16);
            if (v > 0xff) throw new PcreSyntaxError('character value in \\x{...} sequence is too large', i - 2);
            i = close + 1;
            return v;
          }
          return 0; // PCRE1: `\x{` not followed by hex + `}` is \x00 then literal '{'
        }
        let v = 0;
        let k = 0;
        while (k < 2 && isHex(pattern[i])) {
          v = v * 16 + parseInt(pattern[i]!, 16);
          i++;
          k++;
        }
        return v;
      }
      case 'o': {
        if (pattern[i + 1] !== '{') return undefined;
        const close = pattern.indexOf('}', i);
        const body = close === -1 ? '' : pattern.slice(i + 2, close);
        if (!/^[0-7]+$/.test(body)) throw new PcreSyntaxError('\\o{ not followed by octal digits and }', i - 1);
        const v = parseInt(body, 8);
        if (v > 0xff) throw new PcreSyntaxError('character value in \\o{...} sequence is too large', i - 1);
        i = close + 1;
        return v;
      }
      case '0': {
        let v = 0;
        let k = 0;
        i++;
        while (k < 2 && pattern[i]! >= '0' && pattern[i]! <= '7') {
          v = v * 8 + (pattern.charCodeAt(i) - 48);
          i++;
          k++;
        }
        return v;
      }
    }
    return undefined;
  };

  const classEscape = (ch: string): { set: Uint8Array; neg: boolean } | undefined => ESCAPE_SETS[ch];

  const parseClass = () => {
    const start = i;
    const end = quickClassEnd(pattern, i);
    const memoKey = end === -1 ? undefined : (f.i ? 'i' : '-') + pattern.slice(i, end);
    if (memoKey !== undefined) {
      const hit = classMemo.get(memoKey);
      if (hit !== undefined) {
        i = end;
        atom(hit);
        return;
      }
    }
    i++; // '['
    let negate = false;
    if (pattern[i] === '^') {
      negate = true;
      i++;
    }
    const set = new Uint8Array(256);
    let first = true;
    let quoting = false;
    for (;;) {
      if (i >= n) throw new PcreSyntaxError('missing terminating ] for character class', start);
      const ch = pattern[i]!;
      if (quoting) {
        if (ch === '\\' && pattern[i + 1] === 'E') {
          quoting = false;
          i += 2;
          continue;
        }
        for (const b of charBytes(pattern.charCodeAt(i))) set[b] = 1;
        i++;
        first = false;
        continue;
      }
      if (ch === ']' && !first) {
        i++;
        break;
      }
      first = false;
      if (ch === '[' && (pattern[i + 1] === ':' || pattern[i + 1] === '.' || pattern[i + 1] === '=')) {
        const kind = pattern[i + 1]!;
        const close = pattern.indexOf(kind + ']', i + 2);
        if (close !== -1) {
          if (kind !== ':') throw new PcreSyntaxError(`POSIX collating elements are not supported`, i);
          let name = pattern.slice(i + 2, close);
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const pred = POSIX[name];
          if (!pred) throw new PcreSyntaxError(`unknown POSIX class name '${name}'`, i);
          for (let c = 0; c < 256; c++) if (pred(c) !== neg) set[c] = 1;
          i = close + 2;
          continue;
        }
      }
      let code: number | undefined;
      let fromEscape = false;
      if (ch === '\\') {
        fromEscape = true;
        const e = pattern[i + 1];
        if (e === undefined) throw new PcreSyntaxError('\\ at end of pattern', i);
        if (e === 'Q') {
          quoting = true;
          i += 2;
          continue;
        }
        if (e === 'E') {
          i += 2;
          continue;
        }
        const ce = classEscape(e);
        if (ce) {
          for (let c = 0; c < 256; c++) if ((ce.set[c] === 1) !== ce.neg) set[c] = 1;
          i += 2;
          continue;
        }
        i++;
        if (e === 'b') {
          i++;
          code = 8;
        } else if (isDigit(e) && e !== '0' && e !== '8' && e !== '9') {
          // In a class, \1..\7 are octal.
          let v = 0;
          let k = 0;
          while (k < 3 && pattern[i]! >= '0' && pattern[i]! <= '7') {
            v = v * 8 + (pattern.charCodeAt(i) - 48);
            i++;
            k++;
          }
          code = v & 0xff;
        } else {
          code = readCodeEscape(e);
          if (code === undefined) {
            if (/[A-Za-z]/.test(e) && 'pPXRNLlUugkBCKGAZz'.includes(e)) throw new PcreSyntaxError(`escape \\${e} is not allowed in a character class`, i - 1);
            code = e.charCodeAt(0);
            i++;
          }
        }
      } else {
        code = pattern.charCodeAt(i);
        i++;
      }
      // Range?
      const bytes = fromEscape ? [code] : charBytes(code);
      if (bytes.length > 1) {
        for (const b of bytes) set[b] = 1;
        continue;
      }
      const lo = bytes[0]!;
      if (pattern[i] === '-' && pattern[i + 1] !== undefined && pattern[i + 1] !== ']') {
        // Parse the range end.
        const save = i;
        i++;
        let hi: number | undefined;
        const c2 = pattern[i]!;
        if (c2 === '\\') {
          const e = pattern[i + 1];
          if (e !== undefined && (classEscape(e) || e === 'Q' || e === 'E')) {
            hi = undefined; // '-' is literal
          } else if (e !== undefined) {
            i++;
            if (e === 'b') {
              i++;
              hi = 8;
            } else {
              hi = readCodeEscape(e);
              if (hi === undefined) {
                hi = e.charCodeAt(0);
                i++;
              }
            }
            if (hi !== undefined && hi > 0xff) hi = undefined;
          }
        } else if (c2 === '[' && pattern[i + 1] === ':') {
          hi = undefined;
        } else {
          const b2 = charBytes(pattern.charCodeAt(i));
          if (b2.length === 1) {
            hi = b2[0];
            i++;
          }
        }
        if (hi === undefined) {
          i = save; // literal '-' follows as a normal char
          set[lo] = 1;
          continue;
        }
        if (hi < lo) throw new PcreSyntaxError('range out of order in character class', save - 1);
        for (let c = lo; c <= hi; c++) set[c] = 1;
        continue;
      }
      set[lo] = 1;
    }
    setAtom(set, negate);
    if (memoKey !== undefined && i === end) {
      if (classMemo.size > 50_000) classMemo.clear();
      classMemo.set(memoKey, out[out.length - 1] as string);
    }
    void start;
  };

  /** Applies a quantifier to the last atom. Returns false when the text at i is not a quantifier. */
  const quantifier = (): boolean => {
    const ch = pattern[i];
    let min: number;
    let max: number;
    let text: string;
    const qStart = i;
    if (ch === '*' || ch === '+' || ch === '?') {
      min = ch === '+' ? 1 : 0;
      max = ch === '?' ? 1 : Infinity;
      text = ch;
      i++;
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (!m) return false;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > 65535 || (max !== Infinity && max > 65535)) throw new PcreSyntaxError('number too big in {} quantifier', i);
      if (max < min) throw new PcreSyntaxError('numbers out of order in {} quantifier', i);
      text = m[0];
      i += m[0].length;
    } else return false;
    if (atomStart === -1) throw new PcreSyntaxError('nothing to repeat', qStart);
    let lazy = false;
    let possessive = false;
    if (pattern[i] === '?') {
      lazy = true;
      i++;
    } else if (pattern[i] === '+') {
      possessive = true;
      i++;
    }
    if (flags.ungreedy && !possessive) lazy = !lazy;
    if (atomWrap) {
      out.splice(atomStart, 0, '(?:');
      out.push(')');
      atomWrap = false;
    }
    // Length bookkeeping: replace the atom's contribution.
    const cur = (stack.length ? stack[stack.length - 1]! : top).cur;
    cur.min += atomLen.min * min - atomLen.min;
    cur.max += (max === Infinity ? (atomLen.max === 0 ? 0 : Infinity) : atomLen.max * max) - atomLen.max;
    if (possessive) {
      const id = nextId++;
      out.splice(atomStart, 0, '(?=', { open: id });
      out.push(text, '))', { ref: id });
      atomic = true;
      lookaround = true;
      backref = true;
    } else out.push(lazy ? text + '?' : text);
    atomStart = -1;
    return true;
  };

  const skipExtended = () => {
    while (i < n) {
      const ch = pattern[i]!;
      if (isXSpace(ch)) i++;
      else if (ch === '#') {
        while (i < n && pattern[i] !== '\n') i++;
      } else break;
    }
  };

  /** Parses an inline option string like `i-sm`; returns the new flags. */
  const applyOptions = (opts: string, base: Flags, at: number): Flags => {
    const nf = { ...base };
    let on = true;
    for (const ch of opts) {
      if (ch === '-') {
        on = false;
        continue;
      }
      if (ch === 'i') nf.i = on;
      else if (ch === 's') nf.s = on;
      else if (ch === 'm') nf.m = on;
      else if (ch === 'x') nf.x = on;
      else if (ch === 'J' || ch === 'U' || ch === 'X') unsup(`inline option (?${ch})`);
      else throw new PcreSyntaxError(`unrecognized character after (? or (?-`, at);
    }
    return nf;
  };

  const openGroup = (text: string, kind: Frame['kind'], captureId?: number) => {
    const openAt = out.length;
    if (captureId !== undefined) out.push({ open: captureId });
    else out.push(text);
    stack.push({ contentStart: out.length, saved: f, kind, alts: [], cur: { min: 0, max: 0 }, openAt });
    atomStart = -1;
  };

  while (i < n) {
    if (f.x) {
      skipExtended();
      if (i >= n) break;
    }
    const c = pattern.charCodeAt(i);
    if (c < 128 && (PLAIN[c] === 1 || (isAlpha(c) && !f.i)) && !(f.x && c === 32)) {
      // A run of plain literal characters: one token for all but the last (which a quantifier may follow).
      let j = i + 1;
      while (j < n) {
        const d = pattern.charCodeAt(j);
        if (d < 128 && (PLAIN[d] === 1 || (isAlpha(d) && !f.i)) && !(f.x && d === 32)) j++;
        else break;
      }
      if (j - i > 1) {
        let text = '';
        for (let k = i; k < j - 1; k++) text += LITERALS[pattern.charCodeAt(k)]!;
        out.push(text);
        addLen({ min: j - 1 - i, max: j - 1 - i });
      }
      atom(LITERALS[pattern.charCodeAt(j - 1)]!);
      i = j;
      continue;
    }
    const ch = pattern[i]!;
    if (ch === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) throw new PcreSyntaxError('\\ at end of pattern', i);
      const escAt = i;
      i++;
      const ce = classEscape(e);
      if (ce) {
        i++;
        setAtom(ce.set, ce.neg);
        continue;
      }
      switch (e) {
        case 'b':
        case 'B':
          i++;
          assertion('\\' + e, false);
          continue;
        case 'A':
          i++;
          assertion('^', false);
          continue;
        case 'z':
          i++;
          assertion('$', false);
          continue;
        case 'Z':
          i++;
          assertion('(?=\\n?$)', true);
          continue;
        case 'G':
          i++;
          if (escAt === 0) sticky = true;
          else unsup('\\G not at the start of the pattern');
          continue;
        case 'Q': {
          i++;
          const end = pattern.indexOf('\\E', i);
          const stop = end === -1 ? n : end;
          for (; i < stop; i++) literal(pattern.charCodeAt(i));
          i = end === -1 ? n : end + 2;
          continue;
        }
        case 'E':
          i++;
          continue;
        case 'R':
          i++;
          atom('(?:\\r\\n|[\\n\\v\\f\\r\\x85])', { min: 1, max: 2 });
          continue;
        case 'C':
          i++;
          atom('[\\s\\S]');
          continue;
        case 'K':
          i++;
          unsup('\\K (reset match start)');
          continue;
        case 'X':
          i++;
          unsup('\\X (extended grapheme cluster)');
          atom('(?:\\r\\n|[\\s\\S])', { min: 1, max: 2 });
          continue;
        case 'p':
        case 'P':
          unsup(`\\${e} (Unicode property)`);
          i++;
          if (pattern[i] === '{') {
            const close = pattern.indexOf('}', i);
            i = close === -1 ? n : close + 1;
          } else i++;
          atom('[\\s\\S]');
          continue;
        case 'L':
        case 'l':
        case 'U':
        case 'u':
          throw new PcreSyntaxError('PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u', escAt);
        case 'N':
          i++;
          atom('[^\\n]');
          continue;
        case 'g':
        case 'k': {
          // \g{N} \gN \g{-N} \g{name} \k<name> \k'name' \k{name}
          i++;
          let ref: string;
          const open = pattern[i];
          const closeFor: Record<string, string> = { '{': '}', '<': '>', "'": "'" };
          if (e === 'g' && (open === '<' || open === "'")) {
            unsup('\\g<...> subroutine call');
            const close = pattern.indexOf(open === '<' ? '>' : "'", i + 1);
            i = close === -1 ? n : close + 1;
            atom('(?:)', { min: 0, max: Infinity });
            continue;
          }
          if (open !== undefined && closeFor[open] !== undefined && (e === 'k' || open === '{')) {
            const close = pattern.indexOf(closeFor[open]!, i + 1);
            if (close === -1) throw new PcreSyntaxError(`\\${e} is not followed by a valid reference`, escAt);
            ref = pattern.slice(i + 1, close);
            i = close + 1;
          } else if (e === 'g') {
            const m = /^-?\d+/.exec(pattern.slice(i));
            if (!m) throw new PcreSyntaxError('a numbered reference must not be zero', escAt);
            ref = m[0];
            i += m[0].length;
          } else throw new PcreSyntaxError('\\k is not followed by a braced, angle-bracketed, or quoted name', escAt);
          if (/^-?\d+$/.test(ref)) {
            let num = Number(ref);
            if (num < 0) num = origGroups.length + 1 + num;
            if (num <= 0) throw new PcreSyntaxError('reference to non-existent subpattern', escAt);
            const tok = { ref: -1 };
            numericRefs.push({ n: num, at: escAt, tok });
            atom(tok, { min: 0, max: Infinity });
          } else {
            if (!WORD_NAME.test(ref)) throw new PcreSyntaxError('syntax error in subpattern name', escAt);
            pendingNamedRefs.push({ name: ref, at: escAt });
            atom({ named: ref }, { min: 0, max: Infinity });
          }
          backref = true;
          continue;
        }
      }
      if (e >= '1' && e <= '9') {
        // Backreference, or octal when it cannot be one (\10+ with fewer groups) - decided at the end like PCRE.
        const m = /^\d+/.exec(pattern.slice(i))!;
        const num = Number(m[0]);
        if (num < 10 || num <= countGroups(pattern)) {
          i += m[0].length;
          const tok = { ref: -1 };
          numericRefs.push({ n: num, at: escAt, tok });
          atom(tok, { min: 0, max: Infinity });
          backref = true;
          continue;
        }
        // Octal: up to 3 octal digits.
        let v = 0;
        let k = 0;
        while (k < 3 && pattern[i]! >= '0' && pattern[i]! <= '7') {
          v = v * 8 + (pattern.charCodeAt(i) - 48);
          i++;
          k++;
        }
        if (k === 0) {
          literal(pattern.charCodeAt(i));
          i++;
        } else literalByte(v & 0xff);
        continue;
      }
      const code = readCodeEscape(e);
      if (code !== undefined) {
        literalByte(code);
        continue;
      }
      // Any other escaped character is itself.
      i++;
      literal(e.charCodeAt(0));
      continue;
    }
    if (ch === '[') {
      parseClass();
      continue;
    }
    if (ch === '(') {
      const gAt = i;
      if (pattern[i + 1] === '*') {
        const close = pattern.indexOf(')', i);
        const verb = pattern.slice(i + 2, close === -1 ? n : close);
        if (/^(UTF8?|UCP|NO_START_OPT|CR|LF|CRLF|ANYCRLF|ANY|BSR_ANYCRLF|BSR_UNICODE)$/.test(verb) && out.length === 0) {
          if (verb === 'CR' || verb === 'CRLF' || verb === 'ANY' || verb === 'ANYCRLF' || verb.startsWith('UTF') || verb === 'UCP') unsup(`(*${verb})`);
        } else unsup(`backtracking verb (*${verb})`);
        i = close === -1 ? n : close + 1;
        continue;
      }
      if (pattern[i + 1] !== '?') {
        i++;
        const id = nextId++;
        origGroups.push(id);
        openGroup('', 'group', id);
        continue;
      }
      // (?...
      const rest = pattern.slice(i + 2, i + 2 + 40);
      if (rest.startsWith('#')) {
        const close = pattern.indexOf(')', i);
        if (close === -1) throw new PcreSyntaxError('missing ) after comment', i);
        i = close + 1;
        continue;
      }
      if (rest.startsWith(':')) {
        i += 3;
        openGroup('(?:', 'other');
        continue;
      }
      if (rest.startsWith('=') || rest.startsWith('!')) {
        i += 3;
        openGroup('(?' + rest[0], 'other');
        lookaround = true;
        continue;
      }
      if (rest.startsWith('<=') || rest.startsWith('<!')) {
        i += 4;
        openGroup('(?' + rest.slice(0, 2), 'lookbehind');
        lookaround = true;
        continue;
      }
      if (rest.startsWith('>')) {
        i += 3;
        const id = nextId++;
        openGroup('(?=', 'atomic');
        out.push({ open: id });
        stack[stack.length - 1]!.contentStart = out.length;
        stack[stack.length - 1]!.atomicId = id;
        atomic = true;
        lookaround = true;
        backref = true;
        continue;
      }
      if (rest.startsWith('|')) {
        unsup('branch reset group (?|...)');
        i += 3;
        openGroup('(?:', 'other');
        continue;
      }
      if (rest.startsWith('(')) {
        unsup('conditional group (?(...)...)');
        const close = pattern.indexOf(')', i + 3);
        i = close === -1 ? n : close + 1;
        openGroup('(?:', 'other');
        continue;
      }
      const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
      if (named) {
        const name = named[1] ?? named[2]!;
        if (names.has(name)) throw new PcreSyntaxError('two named subpatterns have the same name', i);
        i += 2 + named[0].length;
        const id = nextId++;
        origGroups.push(id);
        names.set(name, id);
        openGroup('', 'group', id);
        namedOpen.set(id, name);
        continue;
      }
      const pref = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (pref) {
        i += 2 + pref[0].length;
        pendingNamedRefs.push({ name: pref[1]!, at: gAt });
        atom({ named: pref[1]! }, { min: 0, max: Infinity });
        backref = true;
        continue;
      }
      if (/^(R|[+-]?\d+|P>|&)/.test(rest)) {
        unsup('recursion or subroutine call');
        const close = pattern.indexOf(')', i);
        i = close === -1 ? n : close + 1;
        atom('(?:)', { min: 0, max: Infinity });
        continue;
      }
      if (rest.startsWith('C')) {
        unsup('callout');
        const close = pattern.indexOf(')', i);
        i = close === -1 ? n : close + 1;
        continue;
      }
      const opt = /^([a-zA-Z-]*)([:)])/.exec(rest);
      if (opt) {
        const nf = applyOptions(opt[1]!, f, i);
        i += 2 + opt[0].length;
        if (opt[2] === ')') {
          // (?i) applies to the rest of the enclosing group.
          f = nf;
        } else {
          openGroup('(?:', 'other');
          f = nf;
        }
        continue;
      }
      throw new PcreSyntaxError('unrecognized character after (? or (?-', i);
    }
    if (ch === ')') {
      const fr = stack.pop();
      if (!fr) throw new PcreSyntaxError('unmatched parentheses', i);
      i++;
      const alts = [...fr.alts, fr.cur];
      let len: Len = { min: Math.min(...alts.map((a) => a.min)), max: Math.max(...alts.map((a) => a.max)) };
      if (fr.kind === 'lookbehind') {
        for (const a of alts) if (a.min !== a.max) throw new PcreSyntaxError('lookbehind assertion is not fixed length', fr.openAt);
        len = NO_LEN;
      } else if (fr.kind === 'other' && (out[fr.openAt] === '(?=' || out[fr.openAt] === '(?!')) len = NO_LEN;
      else if (stack.some((s) => s.kind === 'lookbehind') && alts.some((a) => a.min !== a.max || a.min !== alts[0]!.min)) {
        // Inside a lookbehind, nested groups must have one fixed length.
        throw new PcreSyntaxError('lookbehind assertion is not fixed length', fr.openAt);
      }
      f = fr.saved;
      if (fr.kind === 'atomic') {
        out.push('))', { ref: fr.atomicId! });
      } else out.push(')');
      atomStart = fr.openAt;
      atomLen = len;
      const lookish = fr.kind === 'lookbehind' || out[fr.openAt] === '(?=' || out[fr.openAt] === '(?!';
      // PCRE allows quantifiers on assertions (JS does not on lookbehinds): wrap those, and the atomic trick.
      atomWrap = lookish;
      if (lookish && fr.kind !== 'atomic') atomLen = NO_LEN;
      addLen(atomLen);
      continue;
    }
    if (ch === '|') {
      i++;
      const fr = stack.length ? stack[stack.length - 1]! : top;
      fr.alts.push(fr.cur);
      fr.cur = { min: 0, max: 0 };
      out.push('|');
      atomStart = -1;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      if (quantifier()) continue;
      if (ch !== '{') throw new PcreSyntaxError('nothing to repeat', i);
      // A '{' that does not start a quantifier is a literal.
      i++;
      literal(c);
      continue;
    }
    if (ch === '.') {
      i++;
      atom(f.s ? '[\\s\\S]' : '[^\\n]');
      continue;
    }
    if (ch === '^') {
      i++;
      if (f.m) assertion('(?<![^\\n])', true);
      else assertion('^', false);
      continue;
    }
    if (ch === '$') {
      i++;
      if (f.m) assertion('(?![^\\n])', true);
      else if (flags.dollarEndOnly) assertion('$', false);
      else assertion('(?=\\n?$)', true);
      continue;
    }
    i++;
    literal(c);
  }
  if (stack.length) throw new PcreSyntaxError('missing )', stack[stack.length - 1]!.openAt);

  // Resolve backreferences and assign group numbers in output order.
  for (const r of numericRefs) {
    if (r.n > origGroups.length) throw new PcreSyntaxError('reference to non-existent subpattern', r.at);
    r.tok.ref = origGroups[r.n - 1]!;
  }
  for (const r of pendingNamedRefs) if (!names.has(r.name)) throw new PcreSyntaxError(`reference to non-existent subpattern '${r.name}'`, r.at);
  const numberOf = new Map<number, number>();
  let k = 0;
  for (const t of out) if (typeof t === 'object' && 'open' in t) numberOf.set(t.open, ++k);
  let source = '';
  for (const t of out) {
    if (typeof t === 'string') source += t;
    else if ('open' in t) {
      const name = namedOpen.get(t.open);
      source += name !== undefined ? `(?<${name}>` : '(';
    } else if ('ref' in t) source += `(?:\\${numberOf.get(t.ref)!})`;
    else source += `(?:\\k<${t.named}>)`;
  }
  namedOpen.clear();
  const jsFlags = sticky ? 'y' : '';
  const engine = !backref && !lookaround && !unsupported ? 'linear' : 'backtrack';
  const result: PcreTranslation = { source, flags: jsFlags, engine, atomic };
  if (unsupported) result.unsupported = unsupported;
  return result;
}

/** Rendered classes by their source text (and case folding). */
const classMemo = new Map<string, string>();

/** Where a simple class (no \\Q) that starts at `i` ends (index after its ']'), or -1. */
function quickClassEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  while (j < p.length) {
    const ch = p[j];
    if (ch === '\\') {
      if (p[j + 1] === 'Q') return -1;
      j += 2;
    } else if (ch === '[' && p[j + 1] === ':') {
      const close = p.indexOf(':]', j + 2);
      if (close === -1) return -1;
      j = close + 2;
    } else if (ch === ']') return j + 1;
    else j++;
  }
  return -1;
}

/** Characters that are plain literals everywhere outside classes (not metacharacters, not letters). */
const PLAIN = new Uint8Array(128);
for (const ch of '0123456789 !"%&\',-/:;<=>@_`~') PLAIN[ch.charCodeAt(0)] = 1;

/** Names of named groups, by id, for the translation in progress (single-threaded, cleared after each call). */
const namedOpen = new Map<number, string>();

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
