import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRules } from '../src/parser/parse.js';
import { printRules } from '../src/parser/print.js';
import { communityDir, etDir, hasCorpus, ruleFilesIn } from './helpers/corpus.js';

function countRules(dir: string) {
  let enabled = 0;
  let disabled = 0;
  const errors: string[] = [];
  for (const path of ruleFilesIn(dir)) {
    const text = readFileSync(path, 'utf8');
    const { file, diagnostics } = parseRules(text, { file: basename(path) });
    expect(printRules(file), `round trip of ${path}`).toBe(text);
    for (const n of file.nodes) if (n.kind === 'rule') n.disabled ? disabled++ : enabled++;
    for (const d of diagnostics) if (d.severity === 'error') errors.push(`${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`);
  }
  return { enabled, disabled, errors };
}

describe.skipIf(!hasCorpus)('real rule sets (../shared/corpus)', () => {
  it('ET Open 2019: 20,643 enabled rules (what Snort 2.9.20 loads), 7,708 disabled, zero errors, lossless', () => {
    const r = countRules(etDir);
    expect(r.errors.slice(0, 20)).toEqual([]);
    expect(r.enabled).toBe(20643);
    expect(r.disabled).toBe(7708);
  });

  it('Snort community 2022: 545 enabled, 3,460 disabled, zero errors, lossless', () => {
    const r = countRules(communityDir);
    expect(r.errors.slice(0, 20)).toEqual([]);
    expect(r.enabled).toBe(545);
    expect(r.disabled).toBe(3460);
  });

  it('every corpus file (rules, configs, maps) prints back byte for byte', () => {
    for (const dir of [etDir, communityDir]) {
      for (const name of ['classification.config', 'snort.conf', 'emerging.conf', 'sid-msg.map', 'reference.config']) {
        let text: string;
        try {
          text = readFileSync(`${dir}/${name}`, 'utf8');
        } catch {
          continue;
        }
        expect(printRules(parseRules(text, { file: name }).file)).toBe(text);
      }
    }
  });
});
