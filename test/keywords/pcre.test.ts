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
    for (const [flag, buffer] of Object.entries({ U: 'http_uri', I: 'http_raw_uri', P: 'http_client_body', H: 'http_header', D: 'http_raw_header', M: 'http_method', C: 'http_cookie', K: 'http_raw_cookie', S: 'http_stat_code', Y: 'http_stat_msg' })) {
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
    expect(at).toBe(4);
  });
  it('returns equal results from the cache, and a copy each time', () => {
    const a = args('"/cache-me/i"');
    const b = args('"/cache-me/i"');
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
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
  it('reports what it can only approximate', () => {
    expect(translatePcre('(a|b(?1))', '').unsupported).toMatch(/recursion/);
    expect(parseValue('pcre', '"/(?(1)a|b)/"').warnings).toContain('pcre-unsupported');
  });

  it('matches a literal exactly where indexOf finds it (property)', () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
    const text = fc.array(byte, { maxLength: 40 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, fc.array(byte, { minLength: 1, maxLength: 5 }).map((a) => a.join('')), fc.boolean(), (subject, lit, caseless) => {
        const pattern = [...lit].map((ch) => '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
        const re = compilePcre({ translation: translatePcre(pattern, caseless ? 'i' : '') });
        const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
        const expected = caseless ? fold(subject).includes(fold(lit)) : subject.includes(lit);
        return re.test(subject) === expected;
      }),
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
    console.log(`corpus pcre: ${total} options, ${backtrack} need the backtracking engine (${atomic} atomic/possessive), ${total - backtrack} linear`);
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(9000);
  });
});
