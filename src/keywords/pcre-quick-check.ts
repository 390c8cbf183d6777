/**
 * A quick "yes, this compiles" for the everyday PCRE pattern, without running the translator.
 *
 * Linting a large rule set checks thousands of distinct patterns. The translator (`pcre-translate.ts`) is the
 * authority on what PCRE accepts, but it is a large piece of JavaScript that runs cold in a one-shot `honeywall
 * lint`: about 35 µs per pattern, a seventh of the whole lint of ET Open. Most patterns use only a plain subset of
 * the syntax, on which PCRE and JavaScript agree about what is an error: literals, `.`, `\d \w \s` and their
 * negations, `\xhh`, escaped punctuation, simple classes and ranges, `? * + {n,m}` (lazy or not) after an atom,
 * `^ $ \b \B`, alternation, `( )`, `(?: )`, `(?= )`, `(?! )` and `(?P<name> )` groups, `(?P=name)`, `\1` to `\9`
 * (when the group exists), literal braces. For a pattern made only of those pieces
 * (one native regular expression checks that), the remaining errors are structural (unbalanced parentheses,
 * ranges or counts out of order) and V8's own regexp parser finds exactly those, natively. A pattern that passes
 * both has no error and nothing unsupported, so its translation can wait until a matcher asks for it; any other
 * pattern goes through the translator as before. test/pcre-quick-check.test.ts holds the quick check to the
 * translator on every pcre of the corpus and on generated patterns.
 *
 * Left out on purpose (the translator decides): the x flag (blanks and comments), `\10` and up and octal escapes,
 * `\x` without two hex digits, any other letter escape, counts above 9999 (PCRE's limit is 65535),
 * possessive quantifiers, a quantifier after anything but an atom or `)`, lookbehind, other named-group spellings,
 * inline options, `[:posix:]` and any `[` inside a class, `-` next to a class escape, `]` first in a class,
 * characters outside printable ASCII.
 */
import type { PcreCompileFlags } from './pcre-translate.js';

/** Inside a class: a character standing for itself (printable ASCII but `- [ \ ] ^`) or an escape of one. */
const CLASS_SINGLE = String.raw`(?:[\x20-\x2c\x2e-\x5a\x5f-\x7e]|\\x[0-9a-fA-F]{2}|\\[nrtf]|\\[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e])`;
/**
 * A class: singles and ranges of singles (a range may be followed by a literal `-` before a single: `[a-z-_]`),
 * `\d \w \s` (never next to a `-` inside), `-` otherwise only first or last. Not `[:...:]`, `[.....]`, `[=...=]`:
 * PCRE refuses a POSIX class outside a class, and takes a class for one as its check_posix_syntax does (the same
 * character again just before the `]`, only `\]` and `\\` skipped as escapes).
 */
const CLASS = String.raw`\[(?:\^|(?!([:.=])(?:\\[\]\\]|[^\]])*?\1\]))-?(?:${CLASS_SINGLE}(?:-${CLASS_SINGLE}(?:-(?=${CLASS_SINGLE}))?)?|\\[dDwWsS])+-?\]`;
/**
 * What a quantifier may follow: a literal, an escape, `.`, a class, the `)` of a group, a numbered reference `\1`
 * to `\9` (not followed by a digit; checked against the number of groups below), or a literal `{` (one that does
 * not start a count: `{?`, `{,3}`) or `}`.
 */
const ATOM = String.raw`(?:[\x20-\x23\x25-\x27\x2c-\x2d\x2f-\x3e\x40-\x5a\x5f-\x7a\x7e]|\\[dDwWsSnrtf]|\\x[0-9a-fA-F]{2}|\\[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]|\\[1-9](?![0-9])|\{(?!\d+(?:,\d*)?\})|\}|\.|${CLASS}|\))`;
const QUANTIFIER = String.raw`(?:[?*+]|\{\d{1,4}(?:,\d{0,4})?\})\??`;
/** A group's name as PCRE 8 allows it (at most 32 characters), a subset of JavaScript's. */
const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]{0,31}`;
const PLAIN_PATTERN = new RegExp(String.raw`^(?:(?:${ATOM}|\(\?P=${NAME}\))(?:${QUANTIFIER})?|\\[bB]|[$^|]|\((?:\?[:=!]|\?P<${NAME}>)?)*$`);
/** An escape or a class, as PLAIN_PATTERN allows them: what the scans below step over. */
const SKIPPED = String.raw`\\[^]|\[(?:\\[^]|[^\]\\])*\]`;
/** The pieces that count capturing groups: escapes and classes (skipped), `(` not followed by `?`, `(?P<`. */
const GROUP_PIECES = new RegExp(String.raw`${SKIPPED}|\((?!\?)|\(\?P<`, 'g');
const NUMBERED_REFERENCE = /\\([1-9])/g;

/**
 * Whether every `\N` refers to a group that exists (PCRE refuses the pattern otherwise; JavaScript would read it as
 * an octal escape and say nothing). Only for patterns PLAIN_PATTERN accepts (classes hold no `\N` there).
 */
function referencesExist(pattern: string): boolean {
  if (!/\\[1-9]/.test(pattern)) return true;
  let groups = 0;
  for (const m of pattern.matchAll(GROUP_PIECES)) if (m[0][0] === '(') groups++;
  for (const m of pattern.matchAll(NUMBERED_REFERENCE)) {
    // (A `\\1` is an escaped backslash and a 1: count the backslashes before the digit.)
    let backslashes = 0;
    for (let i = m.index; i >= 0 && pattern.charCodeAt(i) === 92; i--) backslashes++;
    if (backslashes % 2 === 1 && Number(m[1]) > groups) return false;
  }
  return true;
}

/** An escape or a class (skipped), or a Python-style named group or reference. */
const NAMED_PIECES = new RegExp(String.raw`${SKIPPED}|\(\?P(?:<|=([A-Za-z0-9_]+)\))`, 'g');

/**
 * The pattern with PCRE's `(?P<name>` and `(?P=name)` spelled `(?<name>` and `\k<name>`: JavaScript then checks
 * the same rules (names unique, every reference to a defined name). Undefined when there are references but no
 * named group: JavaScript would read `\k` as a plain `k` there.
 */
function inJavaScriptSpelling(pattern: string): string | undefined {
  if (!pattern.includes('(?P')) return pattern;
  let groups = 0;
  let references = 0;
  const js = pattern.replace(NAMED_PIECES, (piece: string, reference: string | undefined) => {
    if (piece[0] === '\\' || piece[0] === '[') return piece;
    if (reference === undefined) {
      groups++;
      return '(?<';
    }
    references++;
    return `\\k<${reference}>`;
  });
  return references > 0 && groups === 0 ? undefined : js;
}

/**
 * True when `pattern` is certain to compile in PCRE with nothing the translator would flag as unsupported. False
 * means "not known": the translator must look.
 */
export function isPlainPcre(pattern: string, flags: PcreCompileFlags): boolean {
  if (flags.extended || !PLAIN_PATTERN.test(pattern) || !referencesExist(pattern)) return false;
  const js = inJavaScriptSpelling(pattern);
  if (js === undefined) return false;
  try {
    new RegExp(js);
    return true;
  } catch {
    return false;
  }
}
