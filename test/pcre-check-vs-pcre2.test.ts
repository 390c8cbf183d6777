/**
 * Two places decide whether a pcre compiles: `lint` (and the parser under every command) checks the pattern in
 * JavaScript, as PCRE's compile_branch does (src/keywords/pcre-translate.ts: lint must work without the native
 * addon), and `compile` hands it to PCRE2 itself. They stay because lint runs where the addon is not built; this
 * differential test holds them to the same verdict on every pcre of the corpus and on generated patterns, with the
 * known differences listed (PCRE2 10.42 is not Snort's PCRE 8; the list may not grow).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePcre } from '../src/keywords/pcre.js';
import { compilePcre, PcreCompileError, pcreOptions } from '../src/match/pcre-exec.js';
import { parseRules } from '../src/parser/parse.js';
import { communityDir, etDir, hasCorpus, ruleFilesIn } from './helpers/corpus.js';

/** The JavaScript check's verdict on a pcre value ("/pattern/flags"), and PCRE2's. */
function verdicts(value: string): { js: boolean; pcre2: boolean | undefined } {
  const a = parsePcre(value, { error: () => undefined, warning: () => undefined });
  const js = a !== undefined;
  // the value's own syntax (delimiters, flags) is the parser's alone: compare only what reaches a pattern
  const m = /^"?!?\/([\s\S]*)\/([A-Za-z]*)"?$/.exec(value);
  if (!m) return { js, pcre2: undefined };
  const pattern = a?.pattern ?? m[1]!;
  const flags = a?.flags ?? m[2]!;
  try {
    compilePcre({ pattern, options: pcreOptions(flags), overrideLimit: false }, undefined, true);
    return { js, pcre2: true };
  } catch (e) {
    if (!(e instanceof PcreCompileError)) throw e;
    return { js, pcre2: false };
  }
}

/**
 * Where they differ, and why (the list may shrink, not grow). The JavaScript check does not compute the size of
 * PCRE's compiled pattern; PCRE2 refuses those whose compiled form passes its 64 KiB link size.
 */
const KNOWN: Record<string, string> = {
  '"/(\\r\\nContent-Disposition\\x3a\\s+form-data\\x3b[^\\r\\n]+\\r\\n\\r\\n.+?){250}/OPsmi"':
    'regular expression is too large (ET, a disabled rule)',
};

describe('the JavaScript pcre check and PCRE2 agree', () => {
  it.skipIf(!hasCorpus)('on every pcre of ET Open 2019 and the Snort community rules', () => {
    const seen = new Set<string>();
    const differ: string[] = [];
    for (const dir of [etDir, communityDir]) {
      for (const f of ruleFilesIn(dir)) {
        for (const n of parseRules(readFileSync(f, 'utf8'), { file: f }).file.nodes) {
          if (n.kind !== 'rule') continue;
          for (const o of n.options) {
            if (o.keyword !== 'pcre' || o.value === undefined || seen.has(o.value)) continue;
            seen.add(o.value);
            const v = verdicts(o.value);
            if (v.pcre2 !== undefined && v.js !== v.pcre2) differ.push(o.value);
          }
        }
      }
    }
    expect(seen.size).toBeGreaterThan(3000);
    expect(differ.sort()).toEqual(Object.keys(KNOWN).sort());
  });

  it('on generated patterns, well formed or not', () => {
    const token = fc.constantFrom(
      'a',
      'b',
      '.',
      '|',
      '(',
      ')',
      '(?:',
      '(?=',
      '(?!',
      '(?<=',
      '(?<!',
      '(?>',
      '(?i)',
      '(?-i)',
      '(?s:',
      '[',
      ']',
      '[^',
      '[a-z]',
      '[[:alpha:]]',
      '[[:nope:]]',
      '*',
      '+',
      '?',
      '*?',
      '++',
      '{2}',
      '{2,}',
      '{2,3}',
      '{3,2}',
      '{,2}',
      '{',
      '}',
      '\\',
      '\\d',
      '\\w',
      '\\s',
      '\\b',
      '\\1',
      '\\2',
      '\\x41',
      '\\x{41}',
      '\\101',
      '\\c',
      '\\cA',
      '\\Q',
      '\\E',
      '\\p{L}',
      '\\k<n>',
      '(?<n>',
      '(?P<n>',
      '(?#c)',
      '(?|',
      '(?1)',
      '(?R)',
      '(*COMMIT)',
      '(*FAIL)',
      '^',
      '$',
      '\\A',
      '\\z',
      '\\Z',
      '\\G',
      '\\K',
      '\\R',
      '\\h',
      '\\N',
      '(?(1)',
      '(?(<n>)',
      '(?(R)',
      '(?(?=a)',
      '(?(-1)',
      '(*pla:',
      '(*MARK:m)',
      '(*UTF)',
      '\\p{Lu}',
      '[\\p{L}]',
      '(?&n)',
      '(?-1)',
    );
    const flags = fc.constantFrom('', 'i', 's', 'm', 'x', 'smi', 'R', 'U');
    const differ = new Map<string, string>();
    let compared = 0;
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 8 }), flags, (tokens, fl) => {
        const pattern = tokens.join('');
        // a pattern ending in an escape would escape the closing delimiter: another value, not this pattern
        if (/(^|[^\\])(\\\\)*\\c?$/.test(pattern)) return;
        const value = `"/${pattern.replace(/"/g, '\\"')}/${fl}"`;
        const v = verdicts(value);
        if (v.pcre2 === undefined) return;
        compared++;
        if (v.js !== v.pcre2) differ.set(pattern, `js ${v.js}, PCRE2 ${v.pcre2}`);
      }),
      { numRuns: Number(process.env.HW_PCRE_RUNS ?? 4000) },
    );
    expect(Object.fromEntries(differ)).toEqual({});
    expect(compared).toBeGreaterThan(3000);
  });

  it('`\\E` and an empty `\\Q\\E` at a class start, before and after `^`: the same verdict as PCRE2 (a generated case once differed)', () => {
    const patterns = [
      '\\Z(?#c)\\z\\E[^\\E]{',
      '[^\\E]',
      '[\\E]',
      '[\\Q\\E]',
      '[^\\Q\\E]',
      '[\\E^]',
      '[\\E]]',
      '[\\Q\\E]]',
      '[^\\E\\Q\\E]]',
      '[\\E^a]',
      '[^\\Ea]',
      '[\\Q]\\E]',
      '[\\E-a]',
    ];
    for (const p of patterns) {
      const v = verdicts(`"/${p}/"`);
      expect(v.js, p).toBe(v.pcre2);
    }
  });
});
