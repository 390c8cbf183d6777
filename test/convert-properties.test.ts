import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleNode } from '../src/ast.js';
import { formatPattern, type ContentArgs } from '../src/keywords/content.js';
import { parseRules } from '../src/parser/parse.js';
import { decide } from '../src/transform/decide.js';
import { convertRuleFile } from '../src/transform/convert.js';
import type { ConvertRuleOptions } from '../src/transform/convert-rule.js';
import { parsePolicy, POLICY_TYPES } from '../src/transform/policy.js';
import type { LiteralAddressPolicy } from '../src/transform/reverse.js';

const ADDRESSES = [
  '$HOME_NET',
  '$EXTERNAL_NET',
  'any',
  '!$HOME_NET',
  '[$HTTP_SERVERS,$SMTP_SERVERS]',
  '10.0.0.0/8',
  '[1.2.3.4,5.6.7.8]',
  '$DNS_SERVERS',
];
const PORTS = ['any', '80', '$HTTP_PORTS', '1024:', '[21,23]'];
const CLASSTYPES = ['attempted-admin', 'bad-unknown', 'trojan-activity', 'misc-activity', 'web-application-attack'];

const contentArb = fc.record({
  bytes: fc.uint8Array({ minLength: 1, maxLength: 10 }),
  negated: fc.boolean(),
  nocase: fc.boolean(),
  buffer: fc.constantFrom(undefined, undefined, undefined, 'http_uri', 'http_header'),
  fpOnly: fc.boolean(),
  depth: fc.boolean(),
  sep: fc.constantFrom(' ', '  ', '\t'),
});

const ruleArb = fc.record({
  disabled: fc.boolean(),
  action: fc.constantFrom('alert', 'alert', 'log', 'pass'),
  proto: fc.constantFrom('tcp', 'udp', 'ip'),
  src: fc.constantFrom(...ADDRESSES),
  sport: fc.constantFrom(...PORTS),
  dir: fc.constantFrom('->', '<>'),
  dst: fc.constantFrom(...ADDRESSES),
  dport: fc.constantFrom(...PORTS),
  contents: fc.array(contentArb, { maxLength: 4 }),
  classtype: fc.option(fc.constantFrom(...CLASSTYPES), { nil: undefined }),
  trailingSemicolon: fc.boolean(),
  continued: fc.boolean(),
});

type GenRule = typeof ruleArb extends fc.Arbitrary<infer T> ? T : never;

function ruleText(r: GenRule, sid: number): string {
  const opts: string[] = [`msg:"rule ${sid}"`];
  let fastPattern = false;
  for (const c of r.contents) {
    let o = `content:${c.negated ? '!' : ''}${formatPattern(c.bytes)}`;
    if (c.nocase) o += `;${c.sep}nocase`;
    if (c.buffer) o += `;${c.sep}${c.buffer}`;
    if (c.fpOnly && !c.negated && !c.depth && !fastPattern) {
      o += `;${c.sep}fast_pattern:only`;
      fastPattern = true;
    } else if (c.depth) o += `;${c.sep}depth:${c.bytes.length + 3}`;
    opts.push(o);
  }
  if (r.classtype) opts.push(`classtype:${r.classtype}`);
  opts.push(`sid:${sid}`);
  const body = opts.join('; ') + (r.trailingSemicolon ? ';' : '');
  const head = `${r.action} ${r.proto} ${r.src} ${r.sport} ${r.dir} ${r.dst} ${r.dport}`;
  const text = r.continued && !r.disabled ? `${head} \\\n  (${body})` : `${head} (${body})`;
  return (r.disabled ? '# ' : '') + text;
}

const fileArb = fc
  .array(fc.tuple(ruleArb, fc.constantFrom('', '\n', '# a comment\n')), { minLength: 1, maxLength: 8 })
  .map((rules) => rules.map(([r, extra], i) => `${extra}${ruleText(r, 1000 + i)}\n`).join(''));

const policyArb = fc
  .record({
    classes: fc.array(fc.tuple(fc.constantFrom(...POLICY_TYPES), fc.constantFrom(...CLASSTYPES)), { maxLength: 4 }),
    sids: fc.array(fc.tuple(fc.constantFrom(...POLICY_TYPES), fc.integer({ min: 1000, max: 1007 })), { maxLength: 4 }),
  })
  .map(
    ({ classes, sids }) =>
      `[classifications]\n${classes.map(([t, c]) => `${t}: ${c}`).join('\n')}\n[sids]\n${sids.map(([t, s]) => `${t}: ${s}`).join('\n')}\n`,
  );

function convertText(text: string, policyText: string, extra: Partial<ConvertRuleOptions> = {}) {
  const opts: ConvertRuleOptions = {
    policy: parsePolicy(policyText, 'p.conf'),
    honeynet: false,
    literalAddresses: 'keep',
    dialect: 'snort',
    seed: 1,
    onBadRule: 'keep',
    ...extra,
  };
  return convertRuleFile(parseRules(text, { file: 'g.rules' }), { path: 'g.rules', basename: 'g.rules' }, opts);
}

function rulesOf(text: string): RuleNode[] {
  return parseRules(text, { file: 'g.rules' }).file.nodes.filter((n): n is RuleNode => n.kind === 'rule');
}

const literalArb = fc.constantFrom<LiteralAddressPolicy>('keep', 'swap');

describe('convert properties (fast-check)', () => {
  it('the generator makes valid rules (so the properties below are about conversion, not errors)', () => {
    fc.assert(
      fc.property(fileArb, (text) => {
        const { diagnostics } = parseRules(text, { file: 'g.rules' });
        expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('output is deterministic for a seed (and the seed matters when something is replaced)', () => {
    fc.assert(
      fc.property(fileArb, policyArb, fc.integer({ min: 0, max: 1000 }), fc.boolean(), (text, policy, seed, honeynet) => {
        const a = convertText(text, policy, { seed, honeynet });
        const b = convertText(text, policy, { seed, honeynet });
        expect(a.text).toBe(b.text);
        expect(a.outcomes).toEqual(b.outcomes);
        if (a.outcomes.some((o) => o.replaced > 0)) expect(convertText(text, policy, { seed: seed + 1, honeynet }).text).not.toBe(a.text);
      }),
      { numRuns: 200 },
    );
  });

  it('--honeynet twice gives back the original addresses (and, with no policy, the original text)', () => {
    fc.assert(
      fc.property(fileArb, policyArb, literalArb, (text, policy, literalAddresses) => {
        const once = convertText(text, '[sids]\n', { honeynet: true, literalAddresses }).text;
        expect(convertText(once, '[sids]\n', { honeynet: true, literalAddresses }).text).toBe(text);
        const p1 = convertText(text, policy, { honeynet: true, literalAddresses }).text;
        const p2 = convertText(p1, policy, { honeynet: true, literalAddresses }).text;
        const back = rulesOf(p2);
        // A continued (multi-line) rule the policy disables is written as `# ` lines: no longer a rule node.
        const present = new Set(back.map((r) => r.sid));
        const orig = rulesOf(text).filter((r) => {
          if (present.has(r.sid)) return true;
          expect(r.raw, `rule ${r.sid} lost`).toMatch(/\\\r?\n/);
          return false;
        });
        expect(back.map((r) => `${r.sid} ${r.header.src.text} ${r.header.dst.text}`)).toEqual(
          orig.map((r) => `${r.sid} ${r.header.src.text} ${r.header.dst.text}`),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('every replace has its content length, differs at every byte, and sits only on rewritable content', () => {
    fc.assert(
      fc.property(fileArb, fc.integer({ min: 0, max: 99 }), (text, seed) => {
        const out = convertText(
          text,
          '[classifications]\nreplace: attempted-admin, bad-unknown, trojan-activity, misc-activity, web-application-attack\n[sids]\nreplace_or_drop: 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007\n',
          { seed },
        );
        const parsed = parseRules(out.text, { file: 'out.rules' });
        expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        for (const r of parsed.file.nodes) {
          if (r.kind !== 'rule') continue;
          for (const o of r.options) {
            if (o.keyword !== 'content' && o.keyword !== 'uricontent') continue;
            const c = o.args as ContentArgs;
            if (!c.mods.replace) continue;
            expect(c.mods.replace.length).toBe(c.bytes.length);
            expect(c.negated || c.uricontent || c.mods.buffer !== undefined || c.mods.fastPattern?.only === true).toBe(false);
            c.bytes.forEach((b, i) => expect(c.mods.replace![i]).not.toBe(b));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rules the policy does not touch are byte-identical', () => {
    fc.assert(
      fc.property(fileArb, policyArb, (text, policyText) => {
        const policy = parsePolicy(policyText, 'p.conf');
        const before = parseRules(text, { file: 'g.rules' }).file.nodes;
        const out = convertText(text, policyText);
        const after = parseRules(out.text, { file: 'g.rules' }).file.nodes;
        const untouched = new Set(
          before.filter((n) => n.kind === 'rule' && !n.disabled && !decide(n, { path: 'g.rules', basename: 'g.rules' }, policy)).map((n) => n.raw),
        );
        for (const raw of untouched) expect(out.text.includes(raw)).toBe(true);
        // comments, blank lines and disabled rules stay too
        const keep = (ns: typeof before) => ns.filter((n) => n.kind === 'comment' || n.kind === 'blank').map((n) => n.raw);
        expect(keep(after)).toEqual(
          expect.arrayContaining(keep(before).filter((r) => !r.startsWith('# alert') && !r.startsWith('# log') && !r.startsWith('# pass'))),
        );
        for (const n of before) if (n.kind === 'rule' && n.disabled) expect(out.text.includes(n.raw)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('printing is minimal: only the action word, the addresses, inserted replace options and a "# " prefix change', () => {
    const ACTION = /^(alert|log|pass|drop|sdrop|reject)$/;
    const REPLACE = /^(;)?[ \t]+replace:"\|[0-9A-F]{2}( [0-9A-F]{2})*\|";?$/;
    fc.assert(
      fc.property(fileArb, policyArb, fc.boolean(), (text, policyText, honeynet) => {
        const parsed = parseRules(text, { file: 'g.rules' });
        const opts: ConvertRuleOptions = {
          policy: parsePolicy(policyText, 'p.conf'),
          honeynet,
          literalAddresses: 'swap',
          dialect: 'snort',
          seed: 3,
          onBadRule: 'keep',
        };
        convertRuleFile(parsed, { path: 'g.rules', basename: 'g.rules' }, opts);
        for (const n of parsed.file.nodes) {
          if (n.kind !== 'rule') {
            expect(n.edits).toBeUndefined();
            continue;
          }
          const optionEnds = new Set(n.options.map((o) => o.span.end));
          const lineStarts = new Set([n.span.start, ...[...n.raw.matchAll(/\n/g)].map((m) => n.span.start + m.index! + 1)]);
          for (const e of n.edits ?? []) {
            const { action, src, dst } = n.header;
            if (e.start === action.span.start && e.end === action.span.end) expect(e.text).toMatch(ACTION);
            else if (e.start === src.span.start && e.end === src.span.end) expect(e.text).toBe(dst.text);
            else if (e.start === dst.span.start && e.end === dst.span.end) expect(e.text).toBe(src.text);
            else if (e.start === e.end && e.text === '# ') expect(lineStarts.has(e.start)).toBe(true);
            else {
              expect(e.start).toBe(e.end);
              expect(optionEnds.has(e.start)).toBe(true);
              expect(e.text).toMatch(REPLACE);
            }
          }
          if (n.disabled) expect(n.edits).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
