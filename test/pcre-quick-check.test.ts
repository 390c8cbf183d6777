/**
 * The quick PCRE check (src/keywords/pcre-quick-check.ts) may only say "compiles" where the translator agrees and
 * finds nothing unsupported: held to the translator on every pcre of the corpora (under several flag sets) and on
 * generated patterns made of the pieces where the two could disagree.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainPcre } from '../src/keywords/pcre-quick-check.js';
import { parsePcre, type PcreArgs } from '../src/keywords/pcre.js';
import { translatePcreSource, type PcreCompileFlags } from '../src/keywords/pcre-translate.js';
import { etDir, sharedDir } from './helpers/corpus.js';

const NO_FLAGS: PcreCompileFlags = {
  caseless: false,
  dotall: false,
  multiline: false,
  extended: false,
  anchored: false,
  dollarEndOnly: false,
  ungreedy: false,
};
const FLAG_SETS: PcreCompileFlags[] = [
  NO_FLAGS,
  { ...NO_FLAGS, caseless: true },
  { ...NO_FLAGS, dotall: true, multiline: true },
  { ...NO_FLAGS, anchored: true, dollarEndOnly: true, ungreedy: true },
  { ...NO_FLAGS, caseless: true, dotall: true, multiline: true, anchored: true, dollarEndOnly: true, ungreedy: true },
];

/** What the translator says: undefined when the pattern translates with nothing unsupported, else the reason. */
function translatorObjection(pattern: string, flags: PcreCompileFlags): string | undefined {
  try {
    const t = translatePcreSource(pattern, flags);
    return t.unsupported === undefined ? undefined : `unsupported: ${t.unsupported}`;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** Patterns the quick check accepts although the translator objects (must stay empty). */
function disagreements(patterns: Iterable<string>, flagSets = FLAG_SETS): string[] {
  const out: string[] = [];
  for (const p of patterns)
    for (const flags of flagSets) {
      if (!isPlainPcre(p, flags)) continue;
      const objection = translatorObjection(p, flags);
      if (objection !== undefined) out.push(`${JSON.stringify(p)} ${JSON.stringify(flags)}: ${objection}`);
    }
  return out;
}

describe('the quick PCRE check', () => {
  it('accepts the everyday pieces', () => {
    for (const p of [
      'abc',
      '^GET\\x20\\/[a-z0-9_-]{1,20}\\.php\\?id=\\d+$',
      '(?:foo|bar)+?\\s*[^\\r\\n]*',
      '(?=a)(?!b)c',
      '[-a-z\\d]',
      '[\\]\\^]',
      '(?P<q>[\\x22\\x27])x(?P=q)',
      'a{0}b{2,}c{3,9}?',
      '\\bword\\B',
      '[ -~]',
      '[=?&]', // '=' first, but no '=]': not a POSIX class
      '[^.a.]',
      '(a)\\1', // a reference to a group that exists, even later on
      '\\1(a)',
      '(?P<n>a)\\1',
      '[a-z-_]', // a literal '-' after a range
      '[a-z-0-9]',
      'clsid\\s*{?x}?', // literal braces
      'a{,3}',
      'a{1',
    ])
      expect(isPlainPcre(p, NO_FLAGS), p).toBe(true);
  });

  it('leaves every doubtful or wrong pattern to the translator', () => {
    for (const p of [
      'a(b', // unbalanced
      'a)b',
      '[z-a]', // range out of order
      'a{3,2}', // counts out of order
      '*a', // nothing to repeat
      '^*',
      '\\b+',
      'a++', // possessive
      'a?+',
      '(a)\\2', // a reference to a missing group (JavaScript reads it as an octal escape)
      '\\2',
      '(?:a)\\1',
      '\\\\1(a)\\2', // (an escaped backslash, then a 1; then a missing \2)
      '(a)\\10', // two digits: PCRE's octal-or-reference rule
      '(?<=a)b', // lookbehind
      '(?i)a', // inline option
      '(?<n>a)', // other named-group spellings
      '(?P<n>a)(?P<n>b)', // duplicate name
      '(?P=n)', // reference to a missing name
      '(?P<m>a)(?P=n)',
      '[(?P<]a(?P=x)', // a group's spelling inside a class is no group
      '[[:alpha:]]', // POSIX class
      '[:alpha:]', // ... outside a class (an error)
      '[=a=]',
      '[=\\]=]', // (check_posix_syntax skips only \] and \\)
      '[\\d-z]', // '-' after a class escape (an error since PCRE 8.34)
      '[a-\\d]',
      '[]a]', // ']' first
      '[^]a]',
      'a{99999}', // counts above 9999
      '{2}', // nothing to repeat
      '[a-z-\\d]', // '-' then a class escape
      '\\x4', // \x without two hex digits
      '\\x{41}',
      '\\v', // other letter escapes
      '\\Qa\\E',
      '\\cA',
      'caf\u00e9', // outside printable ASCII
      'a\tb',
    ])
      expect(isPlainPcre(p, NO_FLAGS), p).toBe(false);
    expect(isPlainPcre('a b', { ...NO_FLAGS, extended: true })).toBe(false);
  });

  it('agrees with the translator on generated patterns (property)', () => {
    // Pieces near the edges of the quick check's subset, so that most generated patterns sit on a boundary.
    const piece = fc.constantFrom(
      'a',
      'Z',
      '0',
      '-',
      ' ',
      '#',
      '/',
      ',',
      ':',
      '_',
      '~',
      '.',
      '^',
      '$',
      '|',
      '*',
      '+',
      '?',
      '{',
      '}',
      '{2}',
      '{2,}',
      '{1,3}',
      '{3,1}',
      '{,2}',
      '{70000}',
      '(',
      ')',
      '(?:',
      '(?=',
      '(?!',
      '(?<=',
      '(?P<n>',
      '(?P<m>',
      '(?P=n)',
      '(?P=m)',
      '(?P=x)',
      '[(?P<]',
      '[',
      ']',
      '[^',
      '[=',
      '=]',
      '[.',
      ':]',
      '[a-z]',
      '[z-a]',
      '[\\d-z]',
      '[a-]',
      '[-a]',
      '[]',
      '\\',
      '\\d',
      '\\W',
      '\\s',
      '\\b',
      '\\B',
      '\\n',
      '\\x41',
      '\\x4',
      '\\x{41}',
      '\\1',
      '\\2',
      '\\9',
      '\\10',
      '\\0',
      '[a-z-_]',
      '[a-z-',
      '-\\d]',
      '{,3}',
      '{1',
      '\\-',
      '\\.',
      '\\/',
      '\\]',
      '\\[',
      '\\\\',
      '\\v',
      '\\Q',
      '\\E',
      '\\c',
      '[:alpha:]',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), fc.constantFrom(...FLAG_SETS), (pieces, flags) => {
        expect(disagreements([pieces.join('')], [flags])).toEqual([]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps the result a translation would give (the translation is made when first read)', () => {
    const value = '"/^(?P<q>[\\x22\\x27])[a-f0-9]{32}(?P=q)/Ui"';
    const errors: string[] = [];
    const a = parsePcre(value, { error: (code) => errors.push(code), warning: (code) => errors.push(code) }) as PcreArgs;
    expect(errors).toEqual([]);
    const eager = translatePcreSource('^(?P<q>[\\x22\\x27])[a-f0-9]{32}(?P=q)', { ...NO_FLAGS, caseless: true });
    expect(a.translation).toEqual(eager);
    expect(a.translation).toBe(a.translation);
    expect(a).toMatchObject({
      negated: false,
      pattern: '^(?P<q>[\\x22\\x27])[a-f0-9]{32}(?P=q)',
      flags: 'Ui',
      buffer: 'http_uri',
      translation: eager,
    });
    // Frozen as every repeated value is: the translation is still made and kept.
    const frozen = Object.freeze(parsePcre('"/fr(o|e)zen/"', { error: () => {}, warning: () => {} }) as PcreArgs);
    expect(frozen.translation).toBe(frozen.translation);
    expect(frozen.translation.source).toBe('fr(o|e)zen');
  });
});

/** Every pcre pattern of the rule files below `dir` (enabled or not). */
function corpusPatterns(dir: string, into: Set<string>): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) corpusPatterns(p, into);
    else if (f.endsWith('.rules'))
      for (const m of readFileSync(p, 'latin1').matchAll(/pcre\s*:\s*!?\s*"(?:\/(.*?)\/|m(.)(.*?)\2)[A-Za-z]*"\s*;/g)) into.add(m[1] ?? m[3]!);
  }
}

const corpusRoot = join(sharedDir, 'corpus');
const haveCorpus = existsSync(etDir);
if (!haveCorpus) console.warn(`[honeywall tests] ${corpusRoot} is absent: the quick PCRE check's corpus test is SKIPPED`);

describe.skipIf(!haveCorpus)('the quick PCRE check on the corpora', () => {
  it('never accepts a pattern the translator objects to, and takes most of ET Open', () => {
    const all = new Set<string>();
    corpusPatterns(corpusRoot, all);
    expect(all.size).toBeGreaterThan(5000);
    expect(disagreements(all)).toEqual([]);
    const et = new Set<string>();
    corpusPatterns(etDir, et);
    const plain = [...et].filter((p) => isPlainPcre(p, NO_FLAGS)).length;
    // Speed, not correctness: the translator runs for the rest (about 35 µs each in a cold lint).
    expect(plain / et.size).toBeGreaterThan(0.9);
  });
});
