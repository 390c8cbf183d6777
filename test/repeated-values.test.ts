// Keywords whose values recur (flow, threshold, depth, ...: `repeats` in their spec) are parsed once per distinct
// value: every option with that value must still get the arguments and the problems a fresh parse gives, at its own
// position.
import { describe, expect, it } from 'vitest';
import type { RuleNode } from '../src/ast.js';
import { KEYWORD_LIST } from '../src/keywords/index.js';
import type { ValueReporter } from '../src/keywords/spec.js';
import { parseRules } from '../src/parser/parse.js';

const rules = (opts: string[]) => opts.map((o, i) => `alert tcp any any -> any any (msg:"r${i}"; content:"abc"; ${o}; sid:${100 + i};)`).join('\n');

describe('values parsed once per distinct value', () => {
  it('every option with a bad repeated value gets its own error, at its own line and column', () => {
    const text = rules([
      'flow:established,bogus',
      'flow:established,bogus',
      'depth:0',
      'depth:0',
      'threshold:type limit, track by_rule, count 1, seconds 60',
      'threshold:type limit, track by_rule, count 1, seconds 60',
    ]);
    const { file, diagnostics } = parseRules(text, { file: 'r.rules' });
    const byLine = (line: number) => diagnostics.filter((d) => d.line === line && d.severity === 'error').map((d) => `${d.code}@${d.column}`);
    for (const [a, b] of [
      [1, 2],
      [3, 4],
      [5, 6],
    ] as const) {
      expect(byLine(a).length, `line ${a}`).toBeGreaterThan(0);
      expect(byLine(b)).toEqual(byLine(a));
    }
    const lines = text.split('\n');
    for (const d of diagnostics) expect(lines[d.line - 1]!.slice(d.column - 1)).toMatch(/^(bogus|0|by_rule|flow|depth|threshold)/);
    for (const n of file.nodes) expect((n as RuleNode).invalid).toBe(true);
  });

  it('shared arguments equal a fresh parse and are frozen', () => {
    const values: Record<string, string> = {
      flow: 'established,to_server',
      threshold: 'type both, track by_src, count 5, seconds 60',
      depth: '10',
      distance: '-4',
      within: 'len',
      fast_pattern: '2,3',
      flags: 'S,CE',
      byte_test: '4,>,100,0,relative',
      flowbits: 'set,a.b',
      dsize: '>100',
      classtype: 'trojan-activity',
    };
    const repeated = KEYWORD_LIST.filter((k) => k.repeats === true).map((k) => k.name);
    for (const kw of Object.keys(values)) expect(repeated, kw).toContain(kw);
    const opts = Object.entries(values).map(([k, v]) => `${k}:${v}`);
    const text = [rules(opts), rules(opts)].join('\n');
    const { file } = parseRules(text, { file: 'r.rules' });
    const silent: ValueReporter = { error: () => undefined, warning: () => undefined };
    const seen = new Map<string, unknown>();
    for (const n of file.nodes) {
      if (n.kind !== 'rule') continue;
      for (const o of n.options) {
        const spec = KEYWORD_LIST.find((k) => k.name === o.keyword)!;
        if (spec.repeats !== true || values[o.keyword] === undefined) continue;
        const fresh = spec.parse(o.value, silent);
        expect(o.args, o.keyword).toEqual(fresh);
        if (typeof o.args === 'object' && o.args !== null) expect(Object.isFrozen(o.args), o.keyword).toBe(true);
        const key = `${o.keyword}:${o.value}`;
        if (seen.has(key)) expect(o.args).toBe(seen.get(key));
        seen.set(key, o.args);
      }
    }
    expect(seen.size).toBe(Object.keys(values).length);
  });
});
