/**
 * `content`, `uricontent` and `replace`: the pattern grammar (`"ab|0D 0A|c"`, `!` negation, `\"` `\\` `\;` `\:`
 * escapes), decoded to bytes. The modifiers that follow a content (nocase, depth, http_uri, fast_pattern, ...) are in
 * `content-modifiers.ts`; the rule binder attaches them to the content's `mods`.
 */
import { defineKeyword, type ValueReporter } from './spec.js';
import type { NumOrVar } from './values.js';

export type HttpBuffer =
  | 'http_uri'
  | 'http_raw_uri'
  | 'http_header'
  | 'http_raw_header'
  | 'http_cookie'
  | 'http_raw_cookie'
  | 'http_method'
  | 'http_client_body'
  | 'http_stat_code'
  | 'http_stat_msg';

export interface FastPatternArgs {
  only: boolean;
  offset?: number;
  length?: number;
}

export interface ContentModifiers {
  nocase: boolean;
  rawbytes: boolean;
  depth?: NumOrVar;
  offset?: NumOrVar;
  distance?: NumOrVar;
  within?: NumOrVar;
  /** The HTTP buffer the content is restricted to (uricontent implies http_uri). */
  buffer?: HttpBuffer;
  fastPattern?: FastPatternArgs;
  replace?: Uint8Array;
  /** Indexes (in the rule's option list) of the options that modified this content. */
  modifierIndexes: number[];
}

export interface ContentArgs {
  negated: boolean;
  bytes: Uint8Array;
  /** Offset inside the option value of the opening quote, and of the closing one (for edits and carets). */
  quoteStart: number;
  quoteEnd: number;
  uricontent: boolean;
  mods: ContentModifiers;
}

export function emptyModifiers(): ContentModifiers {
  // Every field from the start (most stay undefined): one object shape, no property added as modifiers arrive.
  return {
    nocase: false,
    rawbytes: false,
    depth: undefined,
    offset: undefined,
    distance: undefined,
    within: undefined,
    buffer: undefined,
    fastPattern: undefined,
    replace: undefined,
    modifierIndexes: [],
  };
}

let scratch = new Uint8Array(1024);

/**
 * Decoded patterns are views into shared 1 MiB pools: a rule set has ~100,000 contents, and one ArrayBuffer each
 * would cost the garbage collector more than the bytes themselves. (ET Open's contents fit in about one pool: a
 * refill is a path V8 sees only when it comes, and then recompiles the content parser.)
 */
const POOL_SIZE = 1 << 20;
let pool = new Uint8Array(POOL_SIZE);
let poolUsed = 0;

function pooled(src: Uint8Array, n: number): Uint8Array {
  if (n > POOL_SIZE / 4) return src.slice(0, n);
  if (poolUsed + n > POOL_SIZE) {
    pool = new Uint8Array(POOL_SIZE);
    poolUsed = 0;
  }
  const at = poolUsed;
  for (let i = 0; i < n; i++) pool[at + i] = src[i]!;
  poolUsed += n;
  return pool.subarray(at, at + n);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes a quoted Snort pattern. `value` is the whole option value; reports errors relative to it.
 * Returns undefined (after reporting) when the pattern is unusable.
 */
export function parsePattern(
  value: string,
  report: ValueReporter,
  what: string,
  allowNegation: boolean,
): { negated: boolean; bytes: Uint8Array; quoteStart: number; quoteEnd: number } | undefined {
  let i = 0;
  while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  let negated = false;
  if (value[i] === '!') {
    if (!allowNegation) {
      report.error('bad-negation', `${what} cannot be negated`, i, 1);
      return undefined;
    }
    negated = true;
    i++;
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  }
  if (value[i] !== '"') {
    report.error('expected-quoted-string', `${what} must be a double-quoted string`, i, Math.max(1, value.length - i));
    return undefined;
  }
  const quoteStart = i;
  let end = value.length;
  while (end > 0 && (value[end - 1] === ' ' || value[end - 1] === '\t')) end--;
  if (end - 1 <= quoteStart || value[end - 1] !== '"' || isEscaped(value, end - 1)) {
    report.error('unterminated-string', `${what} has no closing quote`, quoteStart, value.length - quoteStart);
    return undefined;
  }
  const quoteEnd = end - 1;
  if (scratch.length < quoteEnd) scratch = new Uint8Array(quoteEnd * 2);
  const out = scratch;
  let n = 0;
  let hex = false;
  let hexStart = 0;
  let pendingNibble = -1;
  let pendingAt = 0;
  for (let j = quoteStart + 1; j < quoteEnd; j++) {
    const code = value.charCodeAt(j);
    if (hex) {
      const nib = hexValue(code);
      if (code === 124 /* | */) {
        if (pendingNibble !== -1) {
          report.error('bad-hex', `odd number of hex digits in ${what}`, pendingAt, 1);
          return undefined;
        }
        hex = false;
      } else if (nib !== -1) {
        if (pendingNibble === -1) {
          pendingNibble = nib;
          pendingAt = j;
        } else {
          out[n++] = (pendingNibble << 4) | nib;
          pendingNibble = -1;
        }
      } else if (code === 32 || code === 9) {
        // Snort skips blanks in hex mode even between the two digits of a byte (`|3 a20|` is `: `); ET relies on it.
        if (pendingNibble !== -1)
          report.warning('hex-split-byte', `hex byte split by a blank in ${what} (read as one byte)`, pendingAt, j - pendingAt + 1);
      } else {
        report.error('bad-hex', `'${value[j]}' is not a hex digit (inside |...| of ${what})`, j, 1);
        return undefined;
      }
      continue;
    }
    if (code === 124 /* | */) {
      hex = true;
      hexStart = j;
      continue;
    }
    if (code === 92 /* \ */) {
      const next = value.charCodeAt(j + 1);
      if (next === 34 || next === 92 || next === 59 || next === 58) {
        out[n++] = next;
        j++;
        continue;
      }
      report.error('bad-escape', `'\\${value[j + 1] ?? ''}' is not an escape Snort knows in ${what} (use |HH| for bytes)`, j, 2);
      return undefined;
    }
    if (code === 34 /* " */) {
      report.error('unescaped-quote', `unescaped '"' inside ${what} (write \\" or |22|)`, j, 1);
      return undefined;
    }
    if (code > 0xff) {
      report.error('non-ascii-content', `character '${value[j]}' is not a byte; write it as |HH|`, j, 1);
      return undefined;
    }
    out[n++] = code;
  }
  if (hex) {
    report.error('bad-hex', `'|' opened here is never closed in ${what}`, hexStart, 1);
    return undefined;
  }
  if (n === 0) {
    report.error('empty-content', `${what} is empty`, quoteStart, quoteEnd - quoteStart + 1);
    return undefined;
  }
  return { negated, bytes: pooled(out, n), quoteStart, quoteEnd };
}

function isEscaped(s: string, at: number): boolean {
  let n = 0;
  for (let k = at - 1; k >= 0 && s[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

function parseContentLike(value: string | undefined, report: ValueReporter, uricontent: boolean): ContentArgs | undefined {
  const what = uricontent ? 'uricontent' : 'content';
  const p = parsePattern(value ?? '', report, what, true);
  if (!p) return undefined;
  const mods = emptyModifiers();
  if (uricontent) mods.buffer = 'http_uri';
  return { negated: p.negated, bytes: p.bytes, quoteStart: p.quoteStart, quoteEnd: p.quoteEnd, uricontent, mods };
}

export const content = defineKeyword<ContentArgs>({
  name: 'content',
  category: 'payload',
  value: 'required',
  summary: 'match bytes in the packet payload or the current buffer',
  parse: (value, report) => parseContentLike(value, report, false),
});

export const uricontent = defineKeyword<ContentArgs>({
  name: 'uricontent',
  category: 'payload',
  value: 'required',
  summary: 'match bytes in the normalised HTTP URI (same as content + http_uri)',
  parse: (value, report) => parseContentLike(value, report, true),
});

/** Encodes bytes as a Snort pattern, printable ASCII as is, the rest as |HH ..| (used by convert). */
export function formatPattern(bytes: Uint8Array, { allHex = false } = {}): string {
  let out = '';
  let inHex = false;
  for (const b of bytes) {
    const printable = !allHex && b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x3b && b !== 0x3a && b !== 0x5c && b !== 0x7c;
    if (printable) {
      if (inHex) {
        out += '|';
        inHex = false;
      }
      out += String.fromCharCode(b);
    } else {
      out += inHex ? ' ' : '|';
      inHex = true;
      out += b.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  if (inHex) out += '|';
  return `"${out}"`;
}
