/**
 * Which pcres may skip a search the matcher knows finds nothing (pcre-exec.ts suffixClosed): those whose matches
 * depend only on the bytes from the match's start on. A table, as gonids tests its parser.
 */
import { describe, expect, it } from 'vitest';
import { compilePcre, pcreOptions } from '../src/match/pcre-exec.js';

const cases: [pattern: string, flags: string, suffixClosed: boolean, why: string][] = [
  ['(a*)*\\1b', '', true, 'no look before the start'],
  ['foo[^\\r\\n]+bar', '', true, '^ inside a class'],
  ['[]^]x', '', true, '] first in a class is a literal, ^ then too'],
  ['^GET', '', false, '^'],
  ['a|^b', '', false, '^ in a later alternative'],
  ['x^', 'm', false, '^ with /m'],
  ['\\Afoo', '', false, '\\A'],
  ['\\Gfoo', '', false, '\\G'],
  ['\\bfoo', '', false, '\\b looks one byte back'],
  ['foo\\B', '', false, '\\B'],
  ['(?<=a)b', '', false, 'lookbehind'],
  ['(?<!a)b', '', false, 'negative lookbehind'],
  ['a(*COMMIT)b', '', false, 'a backtracking verb'],
  ['\\Q^\\E', '', false, '\\Q...\\E is not looked into'],
  ['a # [ \n ^b', 'x', false, '/x: comments are not looked into'],
  ['(?x)a', '', false, '(?x) likewise'],
  ['[[:alpha:]]^', '', false, "the POSIX class ends the scan's class early: ^ seen"],
  ['\\^abc', '', true, 'an escaped ^'],
  ['abc', 'A', false, '/A anchors it'],
  ['(?=a)\\w+', '', true, 'lookahead is fine'],
];

describe('pcre suffixClosed', () => {
  it.each(cases)('%s /%s -> %s (%s)', (pattern, flags, expected) => {
    expect(compilePcre({ pattern, options: pcreOptions(flags), overrideLimit: false }).suffixClosed).toBe(expected);
  });
});
