import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePcre, parsePcre, translatePcre, type PcreArgs } from '../../src/keywords/pcre.js';
import { parseRules } from '../../src/parser/parse.js';
import { keywordTables } from './table.js';
import { parseValue } from './helpers.js';

/** Compiles `"/re/flags"` and tests it against a latin1 string (one char per byte). */
function matches(value: string, subject: string): boolean {
  const r = parseValue('pcre', value);
  if (!r.args) throw new Error(`pcre ${value} did not parse: ${r.errors.join(',')}`);
  return compilePcre(r.args as PcreArgs).test(subject);
}

function args(value: string): PcreArgs {
  return parseValue('pcre', value).args as PcreArgs;
}

keywordTables('pcre syntax and flags (rows give only the error or key args)', {
  pcre: [
    ['"/"', { error: 'bad-pcre' }],
    ['"//"', { error: 'bad-pcre' }],
    ['/abc/', { error: 'bad-pcre' }],
    ['"abc"', { error: 'bad-pcre' }],
    ['"/abc"', { error: 'bad-pcre' }],
    ['"m abc "', { error: 'bad-pcre' }],
    ['"mRabcR"', { error: 'bad-pcre' }],
    ['"/abc/Z"', { error: 'bad-pcre-flag' }],
    ['"/abc/RU"', { error: 'pcre-flag-conflict' }],
    ['"/abc/BH"', { error: 'pcre-flag-conflict' }],
    ['"/a(b/"', { error: 'bad-pcre' }],
    ['"/a)b/"', { error: 'bad-pcre' }],
    ['"/*a/"', { error: 'bad-pcre' }],
    ['"/[a/"', { error: 'bad-pcre' }],
    ['"/[z-a]/"', { error: 'bad-pcre' }],
    ['"/a{3,2}/"', { error: 'bad-pcre' }],
    ['"/(?<=a+)b/"', { error: 'bad-pcre' }],
    ['"/(?<=a(b|cd))e/"', { error: 'bad-pcre' }],
    ['"/\\x{100}/"', { error: 'bad-pcre' }],
    ['"/(a)\\2/"', { error: 'bad-pcre' }],
    ['"/[[:alphabet:]]/"', { error: 'bad-pcre' }],
    ['"/\\Uabc/"', { error: 'bad-pcre' }],
    ['"/(?P=nope)/"', { error: 'bad-pcre' }],
  ],
});

describe('pcre arguments', () => {
  it('reads negation, delimiters and every flag', () => {
    const a = args('!"m#a/b#iR"');
    expect(a).toMatchObject({ negated: true, pattern: 'a/b', delimiter: '#', flags: 'iR', relative: true, rawbytes: false });
    expect(a.compile.caseless).toBe(true);
    const u = args('"/\\/foo.php?id=[0-9]{1,10}/iU"');
    expect(u).toMatchObject({ buffer: 'http_uri', relative: false, pattern: '\\/foo.php?id=[0-9]{1,10}' });
    for (const [flag, buffer] of Object.entries({
      U: 'http_uri',
      I: 'http_raw_uri',
      P: 'http_client_body',
      H: 'http_header',
      D: 'http_raw_header',
      M: 'http_method',
      C: 'http_cookie',
      K: 'http_raw_cookie',
      S: 'http_stat_code',
      Y: 'http_stat_msg',
    })) {
      expect(args(`"/x/${flag}"`).buffer).toBe(buffer);
    }
    expect(args('"/x/smxAEGBO"')).toMatchObject({ rawbytes: true, overrideLimit: true });
    expect(parseValue('pcre', '"/x/UI"').warnings).toEqual(['pcre-multiple-buffers']);
  });
  it('accepts lookbehind branches of different fixed lengths, as PCRE does', () => {
    expect(parseValue('pcre', '"/(?<=ab|c)d/"').errors).toEqual([]);
    expect(matches('"/(?<=ab|c)d/"', 'cd')).toBe(true);
  });
  it('keeps an unescaped quote inside the pattern (ET does that)', () => {
    expect(args('"/src="[^"]+/"').pattern).toBe('src="[^"]+');
  });
  it('gives the reason when a pattern does not compile, at its offset in the value', () => {
    let msg = '';
    let at: number | undefined;
    parsePcre('"/ab(c/"', { error: (_c, m, a) => ((msg = m), (at = a)), warning: () => {} });
    expect(msg).toMatch(/missing \)/);
    // PCRE reports a missing ) at the end of the pattern: here the closing '/'.
    expect(at).toBe(6);
  });
  it('returns equal results from the cache, and a copy each time', () => {
    const a = args('"/cache-me/i"');
    const b = args('"/cache-me/i"');
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });
});

/** The bad-pcre errors of `"/pattern/flags"`: message and offset in the value. */
function pcreErrors(pattern: string, flags = ''): { message: string; at: number | undefined }[] {
  const errors: { message: string; at: number | undefined }[] = [];
  parsePcre(`"/${pattern}/${flags}"`, { error: (_c, message, at) => errors.push({ message, at }), warning: () => {} });
  return errors;
}

describe('patterns PCRE refuses, reported as bad-pcre (never a crash)', () => {
  it('refuses \\c followed by a non-ASCII character, at the \\c, with and without i', () => {
    for (const flags of ['', 'i', 'x']) {
      for (const pattern of ['\\c\u00ff', 'ab\\c\u00e9', '[\\c\u00ff]', '[a-\\c\u0100]', '(?<=\\c\u00ff)x']) {
        const errors = pcreErrors(pattern, flags);
        expect(errors, `${pattern} /${flags}`).toHaveLength(1);
        expect(errors[0]!.message).toMatch(/\\c must be followed by an ASCII character/);
        // The value is `"/` + pattern: the offset points at the backslash of \c.
        expect(`"/${pattern}`.slice(errors[0]!.at)).toMatch(/^\\c/);
      }
    }
  });
  it('refuses \\c at the end of the pattern, at the \\c', () => {
    for (const pattern of ['ab\\c', '[a\\c']) {
      const errors = pcreErrors(pattern);
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/\\c at end of pattern/)]);
      expect(`"/${pattern}`.slice(errors[0]!.at)).toBe('\\c');
    }
    expect(pcreErrors('\\c?')).toEqual([]);
  });
  it('knows only the real POSIX class names (not Object.prototype properties)', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '^constructor', '^__proto__']) {
      const errors = pcreErrors(`a[[:${name}:]]`);
      expect(
        errors.map((e) => e.message),
        name,
      ).toEqual([expect.stringMatching(/unknown POSIX class name/)]);
      expect(`"/a[[:${name}:]]`.slice(errors[0]!.at)).toBe(`[:${name}:]]`);
    }
    expect(pcreErrors('[[:alpha:][:^digit:]]')).toEqual([]);
  });
  it('points the lint diagnostic at the pattern: missing ) at its end, a lookbehind at its opening', () => {
    const cases: [pattern: string, message: RegExp, textAt: string][] = [
      ['ab(c', /missing \)/, '/"'],
      ['(?:x(a|b)', /missing \)/, '/"'],
      ['xyz(?<=a+)b', /lookbehind assertion is not fixed length/, '(?<=a+)'],
      ['xy(?<!ab?)c', /lookbehind assertion is not fixed length/, '(?<!ab?)'],
      ['(a)(?<=a(b|cd))e', /lookbehind assertion is not fixed length/, '(?<=a(b|cd))'],
    ];
    for (const [pattern, message, textAt] of cases) {
      const rule = `alert tcp any any -> any any (msg:"m"; pcre:"/${pattern}/"; sid:1;)`;
      const diags = parseRules(rule).diagnostics.filter((d) => d.code === 'bad-pcre');
      expect(diags, pattern).toHaveLength(1);
      const d = diags[0]!;
      expect(d.message).toMatch(message);
      expect(d.line).toBe(1);
      expect(rule.slice(d.column - 1), pattern).toMatch(new RegExp('^' + textAt.replace(/[()?+|\\/"]/g, '\\$&')));
      const regexStart = rule.indexOf('"/') + 2;
      expect(d.message).toContain(`(at offset ${d.column - 1 - regexStart} of the regex)`);
    }
  });
  it('never throws from the keyword parser, whatever the pattern and flags (property)', () => {
    const pieces = [
      '\\',
      '[',
      ']',
      '(',
      ')',
      '?',
      '*',
      '+',
      '{',
      '}',
      ',',
      '|',
      '^',
      '$',
      '.',
      '-',
      ':',
      '=',
      '<',
      '>',
      '!',
      '#',
      "'",
      '"',
      '/',
      ' ',
      '\n',
      'a',
      'A',
      '1',
      '0',
      '7',
      'x',
      'c',
      'o',
      'g',
      'k',
      'P',
      'Q',
      'E',
      'R',
      '[:alpha:]',
      '[:',
      ':]',
      '[.',
      '[=',
      '(?<=',
      '(?<!',
      '(?>',
      '(?:',
      '(?P<n>',
      '(?P=n)',
      '(?i)',
      '(?#',
      '(*',
      '\\x{',
      '\\o{',
      '\\g{',
      '\\k<',
    ];
    const unit = fc.oneof(
      fc.constantFrom(...pieces),
      fc.integer({ min: 0, max: 0x17f }).map((c) => String.fromCharCode(c)),
      fc.string({ unit: 'binary', maxLength: 2 }),
    );
    const pattern = fc.array(unit, { maxLength: 16 }).map((a) => a.join(''));
    const flags = fc.oneof(fc.shuffledSubarray([...'ismxAEG']), fc.shuffledSubarray([...'ismxAEGRUIPHDMCKSYBO'])).map((a) => a.join(''));
    fc.assert(
      fc.property(pattern, flags, fc.boolean(), (pat, fl, m) => {
        const value = m ? `"m#${pat}#${fl}"` : `"/${pat}/${fl}"`;
        const r = parseValue('pcre', value);
        for (const at of r.errorAt) expect(at === undefined || (at >= 0 && at <= value.length), `${value}: error at ${at}`).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});

/** Outcome of translating a pattern: the JS source, or the error message. */
function outcome(pattern: string, flags = ''): string {
  try {
    return 'ok ' + translatePcre(pattern, flags).source;
  } catch (e) {
    return 'error ' + (e as Error).message;
  }
}

/*
 * `[:`, `[.`, `[=` inside and at the start of classes, as PCRE 8.45 compiles them (pcre_compile.c: check_posix_syntax
 * and its callers in compile_branch; PCRE2's grep -P on this machine, PCRE2 10.42, gave the same compile results and
 * the same match results for every case below). The rule: a `[` followed by `:`, `.` or `=` is a POSIX construct only
 * when its terminator (`:]`, `.]`, `=]`) comes before the next `]` (skipping `\]` and `\\`) and before a nested `[`
 * with the same terminator character; otherwise the `[` is an ordinary class member.
 */
describe('POSIX [: [. [= syntax inside classes (PCRE check_posix_syntax)', () => {
  it('takes [ as a plain member when no terminator comes before the next ]', () => {
    // `[[.a]b.]`: the scan from `a` meets `]` first: class {[ . a}, then `b`, any char, `]` (PCRE compiles it).
    // Same for `[[:a]b:]` and `[[=a]b=]`.
    for (const pattern of ['[[.a]b.]', '[[:a]b:]', '[[=a]b=]']) expect(outcome(pattern), pattern).toMatch(/^ok /);
    // `[[:]`: the scan meets `]` at once: class {[ :}.
    expect(outcome('[[:]')).toMatch(/^ok /);
    // `[a[:]b]`: class {a [ :}, then `b]` outside the class.
    expect(outcome('[a[:]b]')).toMatch(/^ok /);
    // `[[:a[:digit:]b:]]`: the nested `[:` (same terminator) ends the outer scan: `[` `:` `a` members, then the real
    // [:digit:], then `b` `:`, the class closes at the first `]` and the last `]` is a literal.
    expect(outcome('[[:a[:digit:]b:]]')).toMatch(/^ok /);
    // `[[:\\]:]]`: `\\` is skipped as a pair, then `]` stops the scan: class {[ : \}, then `:]]` literally.
    expect(outcome('[[:\\\\]:]]')).toMatch(/^ok /);
    // `[%-[:x]`: not POSIX, so `[` ends the range %-[ ; class {%..[ x}.
    expect(outcome('[%-[:x]')).toMatch(/^ok /);
    // `[:a]` as a whole class: its own `[:` is not POSIX syntax either, a class {: a}.
    expect(outcome('[:a]')).toMatch(/^ok /);
  });

  it('refuses real collating elements, unknown names and POSIX classes outside classes, as PCRE does', () => {
    const cases: [pattern: string, message: RegExp][] = [
      // ERR31 for [. and [= once the terminator is found, whatever is inside.
      ['[[.a.]]', /POSIX collating elements are not supported/],
      ['[[=a=]]', /POSIX collating elements are not supported/],
      // `[.a` stops at the nested `[.`; the nested `[.b.]` is real: ERR31.
      ['[[.a[.b.]]', /POSIX collating elements are not supported/],
      // ERR30: the name is the exact text between `[:` and `:]`.
      ['[[:foo:]]', /unknown POSIX class name 'foo'/],
      // `\]` does not stop the scan: `[:a\]b:]` is a POSIX construct named `a\]b`.
      ['[[:a\\]b:]', /unknown POSIX class name/],
      // `[[:<:]]` is special only as the whole 7-character item; inside another class `<` is an unknown name.
      ['[x[:<:]]', /unknown POSIX class name '<'/],
      // `[[:alpha:]`: the POSIX class is complete, the outer class is not closed.
      ['[[:alpha:]', /missing terminating ] for character class/],
      // ERR13 / ERR31: a class's own `[` starting a POSIX construct.
      ['[:alpha:]', /POSIX named classes are supported only within a class/],
      ['x[.a.]', /POSIX collating elements are not supported/],
      // ERR83: a range cannot end in a POSIX class.
      ['[a-[:digit:]]', /invalid range in character class/],
    ];
    for (const [pattern, message] of cases) {
      expect(outcome(pattern), pattern).toMatch(/^error /);
      expect(() => translatePcre(pattern, ''), pattern).toThrow(message);
      expect(() => translatePcre(pattern, 'i'), pattern).toThrow(message);
    }
    // The same errors through the pcre keyword (a lint error), at the construct.
    const errors = pcreErrors('ab[[.x.]]');
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/POSIX collating elements are not supported/)]);
    expect('"/ab[[.x.]]'.slice(errors[0]!.at)).toBe('[.x.]]');
  });

  it('matches the bytes PCRE matches (checked against grep -P)', () => {
    const cases: [string, string, boolean][] = [
      // `[[.a]b.]`: one of [ . a, then b, any char but \n, then ]
      ['"/^[[.a]b.]$/"', 'ab!]', true],
      ['"/^[[.a]b.]$/"', '[b.]', true],
      ['"/^[[.a]b.]$/"', '.bx]', true],
      ['"/^[[.a]b.]$/"', 'bb!]', false],
      ['"/^[[.a]b.]$/"', 'ab]', false],
      // `[[:a]b:]`: one of [ : a, then the literal text b:]
      ['"/^[[:a]b:]$/"', ':b:]', true],
      ['"/^[[:a]b:]$/"', '[b:]', true],
      ['"/^[[:a]b:]$/"', 'bb:]', false],
      // `[[:]`: [ or :
      ['"/^[[:]$/"', '[', true],
      ['"/^[[:]$/"', ':', true],
      ['"/^[[:]$/"', ']', false],
      // `[a[:]b]`: one of a [ :, then b]
      ['"/^[a[:]b]$/"', '[b]', true],
      ['"/^[a[:]b]$/"', 'ab]', true],
      ['"/^[a[:]b]$/"', 'b]', false],
      ['"/^[a[:]b]$/"', ']b]', false],
      // `[[:a[:digit:]b:]]`: one of [ : a b or a digit, then ]
      ['"/^[[:a[:digit:]b:]]$/"', '7]', true],
      ['"/^[[:a[:digit:]b:]]$/"', '[]', true],
      ['"/^[[:a[:digit:]b:]]$/"', 'c]', false],
      // `[%-[:x]`: the range %..[ and x
      ['"/^[%-[:x]+$/"', '%:[x', true],
      ['"/^[%-[:x]+$/"', ']', false],
      // `[[:\\]:]]`: one of [ : \, then :]]
      ['"/^[[:\\\\]:]]$/"', '\\:]]', true],
      ['"/^[[:\\\\]:]]$/"', '[:]]', true],
      ['"/^[[:\\\\]:]]$/"', ':]', false],
      // [[:<:]] and [[:>:]]: start and end of a word (\b(?=\w), \b(?<=\w))
      ['"/^[[:<:]]ab/"', 'ab', true],
      ['"/^x[[:<:]]ab/"', 'x ab', false],
      ['"/^.*[[:<:]]ab/"', 'x ab', true],
      ['"/^.*[[:<:]]ab/"', 'xab', false],
      ['"/^ab[[:>:]]/"', 'ab c', true],
      ['"/^ab[[:>:]]/"', 'abc', false],
      ['"/^ab[[:>:]]/i"', 'AB', true],
    ];
    for (const [value, subject, expected] of cases) expect(matches(value, subject), `${value} on ${JSON.stringify(subject)}`).toBe(expected);
  });

  it('gives each class the same result whatever was translated (and cached) before', () => {
    // Pairs whose class text is the same up to its `]` but whose rest differs (the old translator searched the rest
    // of the pattern for `:]`), classes whose POSIX scan runs to the end of the pattern (`[[:\c\]...`: `\c\` is one
    // escape for the class but `\]` a skipped pair for the scan), and plain POSIX classes.
    const patterns = [
      '[[.a]',
      '[[.a]b.]',
      'x[[.a]b.]',
      '[[=a]',
      '[[=a]b=]',
      '[[:a]',
      '[[:a]b:]',
      '[[:a]b:]]',
      '[[:a\\]',
      '[[:a\\]b:]',
      '[[:a\\]y',
      '[[:\\c\\]y',
      '[[:\\c\\]x:]',
      '[[:\\c\\]',
      '[[:alpha:]]',
      '[[:alpha:]',
      '[:alpha:]',
      '[:a]',
      '[[:]',
      '[a[:]b]',
      '[[:a[:digit:]b:]]',
      '[[.a[.b.]]',
      '[%-[:x]',
      '[a-[:digit:]]',
      '[[:<:]]',
      '[[:>:]]x',
      '[x[:<:]]',
    ];
    const first = new Map(patterns.map((p) => [p, [outcome(p), outcome(p, 'i')]]));
    // PCRE (grep -P) compiles `[[:\c\]y` but refuses `[[:\c\]x:]` (unknown POSIX class name).
    expect(first.get('[[:\\c\\]y')![0]).toMatch(/^ok /);
    expect(first.get('[[:\\c\\]x:]')![0]).toMatch(/^error unknown POSIX class name/);
    fc.assert(
      fc.property(fc.shuffledSubarray(patterns, { minLength: patterns.length }), (order) => {
        for (const p of order) {
          expect([outcome(p), outcome(p, 'i')], p).toEqual(first.get(p));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('PCRE semantics over latin1 bytes', () => {
  const cases: [string, string, boolean][] = [
    // dot: never \n, but \r (JS refuses \r)
    ['"/a.b/"', 'a\rb', true],
    ['"/a.b/"', 'a\nb', false],
    ['"/a.b/s"', 'a\nb', true],
    // \s is the six ASCII blanks (JS also takes 0xA0); \S therefore takes 0xA0
    ['"/a\\sb/"', 'a\vb', true],
    ['"/a\\sb/"', 'a\xa0b', false],
    ['"/a\\Sb/"', 'a\xa0b', true],
    ['"/a[\\s]b/"', 'a\xa0b', false],
    ['"/a[^\\S]b/"', 'a\tb', true],
    // $ also before a final \n, unless E; m: before every \n only
    ['"/abc$/"', 'abc\n', true],
    ['"/abc$/"', 'abc\n\n', false],
    ['"/abc$/E"', 'abc\n', false],
    ['"/abc\\Z/"', 'abc\n', true],
    ['"/abc\\z/"', 'abc\n', false],
    ['"/^b$/m"', 'a\nb\nc', true],
    ['"/^b$/m"', 'a\rb\rc', false],
    ['"/^b/"', 'a\nb', false],
    ['"/\\Ab/m"', 'a\nb', false],
    // case folding is ASCII only
    ['"/abc/i"', 'xABCx', true],
    ['"/\\xe9/i"', '\xc9', false],
    ['"/[a-c]+x/i"', 'ABCX', true],
    ['"/[^a]/i"', 'A', false],
    ['"/a(?i)b/"', 'aB', true],
    ['"/a(?i)b/"', 'AB', false],
    ['"/(?i)ab/"', 'AB', true],
    ['"/a(?i:b)c/"', 'aBc', true],
    ['"/a(?i:b)c/"', 'aBC', false],
    ['"/(a(?i)b)c/"', 'aBc', true],
    ['"/(a(?i)b)c/"', 'aBC', false],
    ['"/(?-i)a/i"', 'A', false],
    // escapes
    ['"/\\x{41}\\x42\\x4/"', 'AB\x04', true],
    ['"/\\Q.*\\E/"', '.*', true],
    ['"/\\Q.*\\E/"', 'ab', false],
    ['"/a\\hb/"', 'a\xa0b', true],
    ['"/a\\Hb/"', 'a b', false],
    ['"/a\\Rb/"', 'a\r\nb', true],
    ['"/a\\vb/"', 'a\x85b', true],
    ['"/\\101\\0/"', 'A\x00', true],
    ['"/\\e\\cA/"', '\x1b\x01', true],
    ['"/a\\Kb/"', 'ab', true],
    // POSIX classes
    ['"/^[[:alpha:]]+$/"', 'abcXYZ', true],
    ['"/^[[:alpha:]]+$/"', 'abc1', false],
    ['"/^[[:^digit:]]+$/"', 'abc', true],
    ['"/^[[:xdigit:][:space:]]+$/"', 'af 09\t', true],
    ['"/^[[:punct:]]$/"', '~', true],
    // named groups and backreferences (PCRE and Python spellings)
    ['"/(?P<w>ab)-(?P=w)/"', 'ab-ab', true],
    ['"/(?P<w>ab)-(?P=w)/"', 'ab-ba', false],
    ['"/(?<w>x)\\k<w>\\k{w}\\g{w}/"', 'xxxx', true],
    ['"/(a)(b)\\g{-1}\\g1/"', 'abba', true],
    // atomic groups and possessive quantifiers (exact via lookahead capture)
    ['"/(?>a+)b/"', 'aaab', true],
    ['"/(?>a*)a/"', 'aaa', false],
    ['"/a++a/"', 'aaa', false],
    ['"/a*+b/"', 'aab', true],
    ['"/(?>ab|a)c/"', 'ac', true],
    ['"/(?>a|ab)c/"', 'abc', false],
    ['"/(x)(?>y)\\1/"', 'xyx', true],
    ['"/(?>(a))+\\1/"', 'aaa', true],
    // backreference numbering survives the synthetic groups
    ['"/(?>q)(a)(b)\\2\\1/"', 'qabba', true],
    ['"/a?+(c)\\1/"', 'acc', true],
    // extended mode: blanks and comments go, but not inside classes
    ['"/a b # comment\n c/x"', 'abc', true],
    ['"/a[ ]b/x"', 'a b', true],
    ['"/a\\ b/x"', 'a b', true],
    ['"/(?x) a b /"', 'ab', true],
    // ungreedy and anchored
    ['"/a+/G"', 'aaa', true],
    ['"/b/A"', 'ab', false],
    ['"/a/A"', 'ab', true],
    // { that is not a quantifier is literal
    ['"/a{,3}/"', 'a{,3}', true],
    ['"/x{/"', 'x{', true],
    // comments and non-capturing groups
    ['"/a(?#note)b/"', 'ab', true],
    // UTF-8 text in the rule is matched as its bytes
    ['"/caf\u00e9/"', 'caf\xc3\xa9', true],
    // octal or backreference: \\10 is octal with fewer than 10 groups
    ['"/(a)\\10/"', 'a\x08', true],
  ];
  it.each(cases)('%s on %j -> %s', (pcre, subject, expected) => {
    expect(matches(pcre, subject)).toBe(expected);
  });

  it('marks lookarounds and backreferences as backtracking, the rest linear', () => {
    expect(translatePcre('abc', 'i').engine).toBe('linear');
    expect(translatePcre('a[bc]+d{2,5}', '').engine).toBe('linear');
    expect(translatePcre('(a)\\1', '').engine).toBe('backtrack');
    expect(translatePcre('a(?=b)', '').engine).toBe('backtrack');
    expect(translatePcre('a$', '').engine).toBe('backtrack');
    expect(translatePcre('a$', 'E').engine).toBe('linear');
    const atomic = translatePcre('(?>a+)b', '');
    expect(atomic).toMatchObject({ engine: 'backtrack', atomic: true });
    expect(translatePcre('abc', 'i').source).not.toMatch(/i/);
  });
  it('never uses the u or i flags, and uses y for /A', () => {
    expect(translatePcre('abc', 'ismx').flags).toBe('');
    expect(translatePcre('abc', 'A').flags).toBe('y');
  });
  it('says what it cannot spell in JavaScript, without a warning on the rule (the matcher runs PCRE2)', () => {
    expect(translatePcre('(a|b(?1))', '').unsupported).toMatch(/recursion/);
    expect(parseValue('pcre', '"/(?(1)a|b)/"').warnings).toEqual([]);
  });

  it('matches a literal exactly where indexOf finds it (property)', () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
    const text = fc.array(byte, { maxLength: 40 }).map((a) => a.join(''));
    fc.assert(
      fc.property(
        text,
        fc.array(byte, { minLength: 1, maxLength: 5 }).map((a) => a.join('')),
        fc.boolean(),
        (subject, lit, caseless) => {
          const pattern = [...lit].map((ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
          const re = compilePcre({ translation: translatePcre(pattern, caseless ? 'i' : '') });
          const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
          const expected = caseless ? fold(subject).includes(fold(lit)) : subject.includes(lit);
          return re.test(subject) === expected;
        },
      ),
      { numRuns: 500 },
    );
  });
});

const corpus = path.resolve(process.cwd(), '..', 'shared', 'corpus', 'rules');
const haveCorpus = existsSync(corpus);
if (!haveCorpus) console.log(`pcre corpus test skipped: ${corpus} is absent`);

describe.skipIf(!haveCorpus)('every pcre of the ET and Snort community corpus', () => {
  it('translates and compiles', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.rules')) files.push(p);
      }
    };
    walk(corpus);
    let total = 0;
    let backtrack = 0;
    let atomic = 0;
    const failures: string[] = [];
    for (const f of files) {
      for (const n of parseRules(readFileSync(f, 'utf8'), { file: f }).file.nodes) {
        if (n.kind !== 'rule') continue;
        for (const o of n.options) {
          if (o.keyword !== 'pcre') continue;
          total++;
          const r = parseValue('pcre', o.value);
          if (!r.args) {
            failures.push(`${path.basename(f)} sid ${n.sid}: ${o.value} (${r.errors.join(',')})`);
            continue;
          }
          const a = r.args as PcreArgs;
          expect(() => compilePcre(a)).not.toThrow();
          if (a.translation.engine === 'backtrack') backtrack++;
          if (a.translation.atomic) atomic++;
        }
      }
    }
    console.log(
      `corpus pcre: ${total} options, ${backtrack} need the backtracking engine (${atomic} atomic/possessive), ${total - backtrack} linear`,
    );
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(9000);
  });
});
