// The in-place option scanner (the parser's fast path) against the chevrotain lexer that defines the option
// grammar: whenever the scanner accepts a body, it must give exactly the options, arguments and diagnostics the
// lexer path gives; it may decline (then the lexer reads the body), and it must not decline well-formed bodies.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleOption } from '../src/ast.js';
import { parseRules } from '../src/parser/parse.js';
import { lexOptions, parseRuleHeader, scanRegularOptions, type RuleReporter } from '../src/parser/rule.js';
import { etDir, hasCorpus, ruleFilesIn } from './helpers/corpus.js';

class Recorder implements RuleReporter {
  readonly seen: string[] = [];
  report(severity: string, code: string, message: string, at: number, length: number): void {
    this.seen.push(`${severity} ${code} ${at}+${length} ${message}`);
  }
}

const record = (o: RuleOption) => ({
  keyword: o.keyword,
  value: o.value,
  start: o.start,
  end: o.end,
  keywordEnd: o.keywordEnd,
  valueStart: o.valueStart,
  valueEnd: o.valueEnd,
  args: o.args,
});

/** Both paths over `body` placed at `base` inside `text`; undefined when the scanner declines. */
function bothPaths(text: string, from: number, to: number) {
  const fastReports = new Recorder();
  const fast = scanRegularOptions(text, from, to, fastReports);
  const lexReports = new Recorder();
  const lexed = lexOptions(text.slice(from, to), from, lexReports);
  return { fast: fast && { options: fast.map(record), reports: fastReports.seen }, lexed: { options: lexed.map(record), reports: lexReports.seen } };
}

const piece = fc.constantFrom(
  'content',
  'msg',
  'nocase',
  'depth',
  'sid',
  'pcre',
  'flow',
  'x-y.z_1',
  '_k',
  '9',
  ':',
  ';',
  '\\',
  '\\;',
  '"',
  '|',
  ' ',
  '\t',
  '\n',
  '\r',
  '\f',
  '\v',
  '!',
  '(',
  ')',
  ',',
  '"abc"',
  '"/a;b/i"',
  '|0d 0a|',
  '5',
  'established,to_server',
  'é',
);

describe('the option scanner agrees with the chevrotain lexer', () => {
  it('on any text it accepts (fast-check), at any offset inside a larger text', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), (pieces, before, after) => {
        const body = pieces.join('');
        const text = before + body + after;
        const { fast, lexed } = bothPaths(text, before.length, before.length + body.length);
        if (fast) expect(fast).toEqual(lexed);
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (body) => {
        const { fast, lexed } = bothPaths(body, 0, body.length);
        if (fast) expect(fast).toEqual(lexed);
      }),
      { numRuns: 3000 },
    );
  });

  it('declines exactly where the lexer finds a stray token or a keyword without : or ;', () => {
    for (const body of ['content"x";', 'msg:"a"; 9; sid:1;', 'nocase garbage; sid:1;', '(sid:1;)', 'flow\n:established;', '\\x; sid:1;']) {
      const r = new Recorder();
      expect(scanRegularOptions(body, 0, body.length, r), body).toBeUndefined();
      const lexReports = new Recorder();
      lexOptions(body, 0, lexReports);
      expect(
        lexReports.seen.some((s) => s.includes('bad-option')),
        body,
      ).toBe(true);
    }
    const ok = 'msg:"a\\;b"; nocase ; ;; content:"x"; sid:1';
    expect(scanRegularOptions(ok, 0, ok.length, new Recorder())).toBeDefined();
  });
});

describe('a body the scanner declines part-way', () => {
  it('reports each problem once (the values read before the irregular option are not reported twice)', () => {
    const text = 'alert tcp any any -> any any (flow:bogus; depth:0; content"x"; sid:1;)\n';
    const { diagnostics } = parseRules(text, { file: 'd.rules' });
    const seen = diagnostics.map((d) => `${d.code}@${d.column}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.some((s) => s.startsWith('bad-option@'))).toBe(true);
    expect(diagnostics.filter((d) => d.message.startsWith('flow:'))).toHaveLength(1);
  });
});

describe.skipIf(!hasCorpus)('on every rule of the ET Open 2019 corpus', () => {
  it('the scanner reads every well-formed body and gives what the lexer gives', () => {
    let bodies = 0;
    for (const path of ruleFilesIn(etDir)) {
      const text = readFileSync(path, 'utf8');
      for (const line of text.split('\n')) {
        const m = /^\s*#*\s*(alert|drop|pass|log|reject|sdrop)\s/.exec(line);
        if (!m) continue;
        const h = parseRuleHeader(line, m.index + m[0].length - m[1]!.length - 1);
        if (!h.ok) continue;
        const { start, end } = h.rule.body;
        const { fast, lexed } = bothPaths(line, start, end);
        expect(fast, line).toBeDefined();
        expect(fast).toEqual(lexed);
        bodies++;
      }
    }
    expect(bodies).toBeGreaterThan(28_000);
  });

  it("a disabled rule's gid and sid read without parsing it equal those of the full parse", () => {
    let disabled = 0;
    for (const path of ruleFilesIn(etDir)) {
      const text = readFileSync(path, 'utf8');
      const quick = parseRules(text).file.nodes;
      const full = parseRules(text).file.nodes;
      for (let i = 0; i < quick.length; i++) {
        const q = quick[i]!;
        const f = full[i]!;
        if (q.kind !== 'rule' || f.kind !== 'rule' || !q.disabled) continue;
        expect(f.options.length).toBeGreaterThan(0); // forces the full parse first
        expect([q.gid, q.sid]).toEqual([f.gid, f.sid]);
        disabled++;
      }
    }
    expect(disabled).toBe(7708);
  });
});

describe("a disabled rule's identity read without parsing it", () => {
  it('follows the binder: the last sid counts, a bad sid is none, gid defaults to 1', () => {
    const cases: [string, number, number | undefined][] = [
      ['# alert tcp any any -> any any (msg:"a"; sid:5; rev:1;)', 1, 5],
      ['# alert tcp any any -> any any (gid:3; sid:5; sid:7;)', 3, 7],
      ['# alert tcp any any -> any any (sid:x;)', 1, undefined],
      ['# alert tcp any any -> any any (msg:"sid:9\\;"; pcre:"/(sid:8)/";)', 1, undefined],
      ['# alert tcp any any -> any any (content"x"; sid:4;)', 1, 4],
    ];
    for (const [text, gid, sid] of cases) {
      const node = parseRules(text).file.nodes[0]!;
      expect(node.kind).toBe('rule');
      if (node.kind !== 'rule') continue;
      expect([node.gid, node.sid], text).toEqual([gid, sid]);
    }
  });
});
