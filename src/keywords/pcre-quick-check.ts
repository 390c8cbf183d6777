/**
 * A quick "yes, this compiles" for the everyday PCRE pattern, without running the translator.
 *
 * Linting a large rule set checks thousands of distinct patterns. The translator (`pcre-translate.ts`) is the
 * authority on what PCRE accepts, but it is a large piece of JavaScript that runs cold in a one-shot `honeywall
 * lint`: about 35 µs per pattern, a seventh of the whole lint of ET Open. Most patterns use only a plain subset of
 * the syntax, on which PCRE and JavaScript agree about what is an error: literals, `.`, `\d \w \s` and their
 * negations, `\xhh`, escaped punctuation, simple classes and ranges, `? * + {n,m}` (lazy or not) after an atom,
 * `^ $ \b \B`, alternation, `( )`, `(?: )`, `(?= )`, `(?! )` and `(?P<name> )` groups, `(?P=name)`. For a pattern made only of those pieces
 * (one native regular expression checks that), the remaining errors are structural (unbalanced parentheses,
 * ranges or counts out of order) and V8's own regexp parser finds exactly those, natively. A pattern that passes
 * both has no error and nothing unsupported, so its translation can wait until a matcher asks for it; any other
 * pattern goes through the translator as before. test/pcre-quick-check.test.ts holds the quick check to the
 * translator on every pcre of the corpus and on generated patterns.
 *
 * Left out on purpose (the translator decides): the x flag (blanks and comments), backreferences and octal
 * escapes (`\1`: JavaScript reads a reference to a missing group as an octal escape), `\x` without two hex
 * digits, any other letter escape, `{` not part of a count and counts above 9999 (PCRE's limit is 65535),
 * possessive quantifiers, a quantifier after anything but an atom or `)`, lookbehind, other named-group spellings,
 * inline options, `[:posix:]` and any `[` inside a class, `-` next to a class escape, `]` first in a class,
 * characters outside printable ASCII.
 */
import type { PcreCompileFlags } from './pcre-translate.js';

/** Inside a class: a character standing for itself (printable ASCII but `- [ \ ] ^`) or an escape of one. */
const CLASS_SINGLE = String.raw`(?:[\x20-\x2c\x2e-\x5a\x5f-\x7e]|\\x[0-9a-fA-F]{2}|\\[nrtf]|\\[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e])`;
/**
 * A class: singles and ranges of singles, `\d \w \s` (never next to a `-` inside), `-` only first or last; not
 * starting with `: . =` (PCRE reads `[:alpha:]` outside a class as a misplaced POSIX class).
 */
const CLASS = String.raw`\[\^?(?![:.=])-?(?:${CLASS_SINGLE}(?:-${CLASS_SINGLE})?|\\[dDwWsS])+-?\]`;
/** What a quantifier may follow: a literal, an escape, `.`, a class, or the `)` of a group. */
const ATOM = String.raw`(?:[\x20-\x23\x25-\x27\x2c-\x2d\x2f-\x3e\x40-\x5a\x5f-\x7a\x7e]|\\[dDwWsSnrtf]|\\x[0-9a-fA-F]{2}|\\[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]|\.|${CLASS}|\))`;
const QUANTIFIER = String.raw`(?:[?*+]|\{\d{1,4}(?:,\d{0,4})?\})\??`;
/** A group's name as PCRE 8 allows it (at most 32 characters), a subset of JavaScript's. */
const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]{0,31}`;
const PLAIN_PATTERN = new RegExp(String.raw`^(?:(?:${ATOM}|\(\?P=${NAME}\))(?:${QUANTIFIER})?|\\[bB]|[$^|]|\((?:\?[:=!]|\?P<${NAME}>)?)*$`);
/** An escape, a class (as PLAIN_PATTERN allows them), or a Python-style named group or reference. */
const NAMED_PIECES = /\\[^]|\[(?:\\[^]|[^\]\\])*\]|\(\?P(?:<|=([A-Za-z0-9_]+)\))/g;

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
  if (flags.extended || !PLAIN_PATTERN.test(pattern)) return false;
  const js = inJavaScriptSpelling(pattern);
  if (js === undefined) return false;
  try {
    new RegExp(js);
    return true;
  } catch {
    return false;
  }
}
