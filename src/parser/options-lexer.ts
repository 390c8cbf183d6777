/**
 * The option list between a rule's parentheses, tokenised with chevrotain.
 *
 * Snort 2.9 splits options on every `;` that is not escaped with a backslash (quotes do not protect it: ET rules
 * carry unescaped `"` inside pcre values), then splits each option on its first `:`. One token per option keeps the
 * lexer cheap (about 570,000 options in the ET set): `Option` is a keyword, optionally `:` and everything up to the
 * next unescaped `;`, and that `;`. The rule parser splits the token at its first `:`.
 */
import { createToken, Lexer, type IToken } from './chevrotain.js';

const Whitespace = createToken({ name: 'Whitespace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
/** `keyword`, `keyword;`, `keyword:value;` (value: any run without an unescaped `;`). */
export const OptionToken = createToken({
  name: 'Option',
  pattern: /[A-Za-z_][A-Za-z0-9_.-]*(?:[ \t]*:(?:[^;\\]|\\[\s\S]|\\$)*)?;?/,
  line_breaks: true,
  start_chars_hint: [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_'],
});
/** A lone `;` (an empty option, which Snort ignores). */
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
/** Anything else where a keyword should start: reported by the rule parser, up to the next `;`. */
export const Stray = createToken({ name: 'Stray', pattern: /(?:[^A-Za-z_; \t\r\n\f\v\\]|\\[\s\S]?)(?:[^;\\]|\\[\s\S]|\\$)*;?/, line_breaks: true });

/** Built on first use (about 12 ms): the parser's scanner reads well-formed bodies, and most files have no other. */
let optionsLexer: InstanceType<typeof Lexer> | undefined;

export function tokenizeOptions(body: string): IToken[] {
  optionsLexer ??= new Lexer([Whitespace, OptionToken, Semicolon, Stray], {
    positionTracking: 'onlyOffset',
    ensureOptimizations: false,
    skipValidations: true,
  });
  return optionsLexer.tokenize(body).tokens;
}
