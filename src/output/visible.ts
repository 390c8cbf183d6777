/**
 * Text from outside (a rule's msg, a file name, a message quoting either) made safe for a terminal or a line-based
 * log, one character for one: nothing in it can move the cursor, clear the screen, end the line or reorder the text.
 */

/**
 * Control characters as visible stand-ins: C0 as the Control Pictures (U+2400..U+241F, a newline shows as ␊), DEL as
 * ␡, C1, the Unicode line and paragraph separators and the bidirectional marks, embeddings, overrides and isolates
 * (which could show a line's text in another order than it has) as U+FFFD; lone surrogates as U+FFFD too (the text
 * is then well-formed UTF-8).
 */
export function noControls(s: string): string {
  // (most text has none: returned as it is, one regular expression test)
  if (!HAS_CONTROLS.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) out += String.fromCharCode(0x2400 + c);
    else if (c === 0x7f) out += '\u2421';
    else if ((c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029 || isBidiControl(c)) out += '\ufffd';
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += s[i]!;
  }
  return out;
}

/** U+061C, U+200E-200F, U+202A-202E, U+2066-2069: the characters that change the order text is shown in. */
function isBidiControl(c: number): boolean {
  return c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/** Any character noControls replaces (surrogates too: a pair is kept, but checked in the loop). */
const HAS_CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/;
