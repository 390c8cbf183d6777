import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRules } from '../src/parser/parse.js';
import { printRules } from '../src/parser/print.js';
import { etDir, hasCorpus, ruleFilesIn } from './helpers/corpus.js';

const roundTrips = (text: string) => {
  const r = parseRules(text, { file: 'p.rules' });
  expect(printRules(r.file)).toBe(text);
  for (const d of r.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.offset).toBeLessThanOrEqual(text.length);
  }
};

const word = fc.constantFrom(
  'alert',
  'drop',
  '#',
  '# alert',
  'tcp',
  'udp',
  'any',
  '$HOME_NET',
  '->',
  '<>',
  '[',
  ']',
  '!',
  ',',
  '(',
  ')',
  ';',
  ':',
  '"',
  '|',
  '\\',
  '\n',
  '\r\n',
  '\\\n',
  ' ',
  '\t',
  'content',
  'msg',
  'sid',
  'nocase',
  'depth',
  '10',
  '1.2.3.4/24',
  '::1',
  'pcre',
  '/x/i',
  'http_uri',
  'var',
  'include',
);

const header = fc.tuple(
  fc.constantFrom('alert', 'drop', 'sdrop', 'reject', 'pass', 'log'),
  fc.constantFrom('tcp', 'udp', 'icmp', 'ip'),
  fc.constantFrom('any', '$HOME_NET', '!$EXTERNAL_NET', '[10.0.0.0/8,!10.1.0.0/16]', '192.168.1.1', '::1'),
  fc.constantFrom('any', '80', '!80', '1024:', '[80,443]', '$HTTP_PORTS', '!5938,!1433'),
  fc.constantFrom('->', '<>'),
);
const option = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'B', ' ', '|', '0', 'f', '\\', '"', ';', ':', '!', '\t') }).map((s) => `content:"${s}";`),
  fc.constantFrom(
    'nocase;',
    'depth:5;',
    'offset:1;',
    'distance:0;',
    'within:4;',
    'http_uri;',
    'fast_pattern;',
    'fast_pattern:only;',
    'rawbytes;',
    'msg:"hi";',
    'rev:2;',
    'classtype:trojan-activity;',
    'bogus;',
    ';',
    'content:!"x";',
    'replace:"y";',
  ),
  fc.integer({ min: 0, max: 5_000_000_000 }).map((n) => `sid:${n};`),
);
const rule = fc
  .tuple(header, fc.array(option, { maxLength: 8 }), fc.constantFrom('', '# ', '#', '  '), fc.constantFrom(' ', '\t', ' \\\n  '))
  .map(([[a, p, s, sp, d], opts, prefix, sep]) => `${prefix}${a} ${p} ${s} ${sp} ${d} any any (${opts.join(sep)})`);

describe('print(parse(x)) === x, and parsing never throws', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), roundTrips), { numRuns: 500 });
  });

  it('on texts made of rule tokens', () => {
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 60 }).map((w) => w.join('')),
        roundTrips,
      ),
      { numRuns: 1000 },
    );
  });

  it('on generated rule files (valid and broken rules, continuations, disabled rules)', () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'), (rules, nl) => roundTrips(rules.join(nl) + nl)),
      { numRuns: 500 },
    );
  });

  it.skipIf(!hasCorpus)('on real ET rules with random mutations (insert, delete, replace a character)', () => {
    const lines = ruleFilesIn(etDir)
      .slice(0, 8)
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .filter((l) => l.length > 0);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(';', '"', '|', '\\', '(', ')', ':', ' ', '\n', '#', 'x', '!')), {
          maxLength: 4,
        }),
        (i, edits) => {
          let s = lines[i]!;
          for (const [pos, kind, ch] of edits) {
            const p = pos % (s.length + 1);
            s = kind === 0 ? s.slice(0, p) + ch + s.slice(p) : kind === 1 ? s.slice(0, p) + s.slice(p + 1) : s.slice(0, p) + ch + s.slice(p + 1);
          }
          roundTrips(s + '\n');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
