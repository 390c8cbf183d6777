/**
 * Hostile rule files and snort.conf (issue "Hardening"): each input is generated here at the size that broke the
 * reader (V8 out of memory, stack overflow, a diagnostic list too long to spread), and must now give a diagnostic at
 * file:line:column with the rest of the file's diagnostics kept, in bounded time and memory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAddress, parsePort } from '../src/parser/address.js';
import { parseRules } from '../src/parser/parse.js';
import { MAX_EXPANSION, MAX_RESOLVE_DEPTH, ResolveError, resolveAddress, resolvePorts, VariableTable } from '../src/config/variables.js';
import { lintRuleSet } from '../src/lint/lint.js';
import { findRuleFiles, MAX_RULE_DIR_DEPTH } from '../src/config/ruleset.js';
import { convert } from '../src/transform/convert.js';
import { DEFAULT_POLICY_PATH } from '../src/transform/convert.js';
import { readPolicyFile } from '../src/transform/policy.js';
import { repoRoot } from './helpers/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'hw-hard-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(tmp, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const bin = join(repoRoot, 'bin', 'honeywall.js');
function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

/** Every error line of text output has the documented shape, and nothing looks like a stack trace. */
function expectCleanOutput(out: string, err: string): void {
  expect(err).not.toMatch(/internal error|\n\s+at |Maximum call stack|heap out of memory/);
  expect(out).not.toMatch(/internal error|\n\s+at .*\(.*:\d+:\d+\)/);
}

const GOOD_RULE = 'alert tcp any any -> any any (msg:"ok"; content:"abc"; sid:2;)';
const BAD_RULE = 'alert tcp any any -> any any (msg:"bad"; content:""; sid:3;)';

describe('variables: expansion size and depth are limited', () => {
  it('a 40-line ipvar doubling chain is refused at the rule that uses it, quickly (V8 ran out of memory after 2 minutes)', () => {
    const lines = ['ipvar V0 [1.1.1.1,2.2.2.2]'];
    for (let i = 1; i <= 40; i++) lines.push(`ipvar V${i} [$V${i - 1},$V${i - 1}]`);
    lines.push(`alert tcp $V40 any -> any any (msg:"x"; sid:1;)`, BAD_RULE);
    const conf = write('chain/snort.conf', lines.join('\n') + '\n');
    const t0 = performance.now();
    const r = lintRuleSet({ paths: [], conf, cwd: tmp });
    expect(performance.now() - t0).toBeLessThan(10_000);
    const big = r.diagnostics.find((d) => d.code === 'expansion-too-large');
    expect(big).toMatchObject({ file: 'chain/snort.conf', line: 42, column: 11, severity: 'error', sid: 1 });
    // The first variable past the limit is named, with where it is defined: 2^17 entries > 100,000.
    expect(big!.message).toBe(`$V16 (chain/snort.conf:17) expands to more than ${MAX_EXPANSION.toLocaleString('en-US')} addresses`);
    expect(r.diagnostics.some((d) => d.code === 'empty-content' && d.line === 43)).toBe(true);
  });

  it('a variable just under the limit still resolves; uses of one variable count each time', () => {
    const vars = VariableTable.withDefaults();
    vars.set({ kind: 'ipvar', name: 'V0', value: '[1.1.1.1,2.2.2.2]', origin: 't' });
    for (let i = 1; i <= 15; i++) vars.set({ kind: 'ipvar', name: `V${i}`, value: `[$V${i - 1},$V${i - 1}]`, origin: 't' });
    const p = parseAddress('$V15');
    if (!p.ok) throw new Error(p.error);
    expect(() => resolveAddress(p.value, vars)).not.toThrow(); // 65,536 entries
    const q = parseAddress('[$V15,$V15]');
    if (!q.ok) throw new Error(q.error);
    expect(() => resolveAddress(q.value, vars)).toThrow(/expands to more than/);
  });

  it('a chain of 10^6 variables is refused by depth, not by a stack overflow', () => {
    const vars = VariableTable.withDefaults();
    vars.set({ kind: 'ipvar', name: 'V0', value: '1.1.1.1', origin: 't' });
    vars.set({ kind: 'portvar', name: 'P0', value: '80', origin: 't' });
    for (let i = 1; i < 1_000_000; i++) {
      vars.set({ kind: 'ipvar', name: `V${i}`, value: `$V${i - 1}`, origin: 't' });
      vars.set({ kind: 'portvar', name: `P${i}`, value: `[$P${i - 1}]`, origin: 't' });
    }
    const a = parseAddress('$V999999');
    const p = parsePort('$P999999');
    if (!a.ok || !p.ok) throw new Error('parse');
    let err: unknown;
    try {
      resolveAddress(a.value, vars);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as ResolveError).code).toBe('variable-too-deep');
    expect(() => resolvePorts(p.value, vars)).toThrow(`nested more than ${MAX_RESOLVE_DEPTH} deep`);
    // The verdict does not depend on which use came first (resolved variables are shared).
    const mid = parseAddress(`$V${MAX_RESOLVE_DEPTH - 10}`);
    if (!mid.ok) throw new Error('parse');
    expect(() => resolveAddress(mid.value, vars)).not.toThrow();
    expect(() => resolveAddress(a.value, vars)).toThrow(/nested more than/);
  });

  it("lint of a snort.conf with a 20,000-variable chain reports the rule and keeps the file's other diagnostics", () => {
    const lines = ['ipvar V0 1.1.1.1'];
    for (let i = 1; i < 20_000; i++) lines.push(`ipvar V${i} $V${i - 1}`);
    lines.push('alert tcp $V19999 any -> any any (msg:"x"; sid:1;)', BAD_RULE);
    const conf = write('varchain/snort.conf', lines.join('\n') + '\n');
    const r = lintRuleSet({ paths: [], conf, cwd: tmp });
    expect(r.diagnostics.map((d) => `${d.line}:${d.column}:${d.code}`)).toEqual(['20001:11:variable-too-deep', '20002:50:empty-content']);
  });
});

describe('nesting depth of address and port lists', () => {
  it.each([
    ['address', (n: number) => `alert tcp ${'['.repeat(n)}1.1.1.1${']'.repeat(n)} any -> any any (msg:"x"; sid:1;)`, 'bad-address'],
    ['port', (n: number) => `alert tcp any ${'['.repeat(n)}80${']'.repeat(n)} -> any any (msg:"x"; sid:1;)`, 'bad-port'],
  ])('%s lists nested 5,000 deep: an error at the rule, the next rule still checked', (what, rule, code) => {
    const file = write(`deep-${what}.rules`, `${rule(5000)}\n${BAD_RULE}\n${rule(64)}\n${rule(65)}\n`);
    const r = lintRuleSet({ paths: [file], cwd: tmp });
    const got = r.diagnostics.map((d) => `${d.line}:${d.code}`);
    expect(got).toEqual([`1:${code}`, '2:empty-content', `4:${code}`]);
    expect(r.diagnostics[0]!.message).toMatch(new RegExp(`${what} lists nested more than 64 deep`));
  });
});

describe('line length and options per rule', () => {
  it('one 50 MB line of `x;` options: lint and convert refuse the line (Snort does too) and go on', () => {
    const long = 'alert tcp any any -> any any (msg:"x"; ' + 'x;'.repeat(25_000_000) + ' sid:1;)';
    const file = write('long.rules', `${GOOD_RULE}\n${long}\n${BAD_RULE}\n`);
    const r = lintRuleSet({ paths: [file], cwd: tmp });
    expect(r.diagnostics.map((d) => `${d.line}:${d.column}:${d.code}`)).toEqual(['2:1:line-too-long', '3:50:empty-content']);
    expect(r.diagnostics[0]!.message).toMatch(/^line of 50000048 characters: Snort refuses lines of 32767 characters or more/);
    const policy = readPolicyFile(DEFAULT_POLICY_PATH, 'policy');
    const c = convert({
      paths: [file],
      testRules: false,
      policy,
      honeynet: true,
      literalAddresses: 'keep',
      dialect: 'snort',
      seed: 0,
      onBadRule: 'keep',
      cwd: tmp,
    });
    const outcomes = c.files[0]!.kind === 'rules' ? c.files[0]!.outcomes : [];
    expect(outcomes.map((o) => `${o.line}:${o.status}`)).toEqual(['1:unchanged', '2:skipped', '3:skipped']);
    // Passed through byte for byte, as every rule convert cannot read.
    expect(c.files[0]!.text.split('\n')[1] === long).toBe(true);
  });

  it("Snort's bound exactly: a line of 32,766 characters with its newline is read, one more is refused", () => {
    const pad = (n: number) => `alert tcp any any -> any any (msg:"${'a'.repeat(n - 45)}"; sid:1;)`;
    expect(pad(32_766).length).toBe(32_766);
    const ok = parseRules(pad(32_765) + '\n');
    expect(ok.diagnostics).toEqual([]);
    const refused = parseRules(pad(32_766) + '\n');
    expect(refused.diagnostics.map((d) => d.code)).toEqual(['line-too-long']);
    expect(refused.file.nodes[0]!.kind).toBe('unparsed');
  });

  it('continued lines joining to 65,535 characters or more, or continued 200,000 times, are refused as one entry', () => {
    const piece = `alert tcp any any -> any any (msg:"x"; \\\n` + `content:"${'b'.repeat(1000)}"; \\\n`.repeat(70) + 'sid:1;)\n';
    const r = parseRules(piece + GOOD_RULE + '\n');
    expect(r.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual(['1:rule-too-long']);
    expect(r.file.nodes.map((n) => n.kind)).toEqual(['unparsed', 'rule']);
    const many = parseRules('alert tcp any any -> any any (msg:"x"; \\\n' + '\\\n'.repeat(200_000) + 'sid:1;)\n' + GOOD_RULE + '\n');
    expect(many.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual(['1:rule-too-long']);
    expect(many.file.nodes.map((n) => n.kind)).toEqual(['unparsed', 'rule']);
  });

  it('a rule of 16,000 bad options gives its first 100 problems and a count of the rest', () => {
    const r = parseRules('alert tcp any any -> any any (msg:"x"; ' + 'x;'.repeat(16_000) + ' sid:1;)\n' + GOOD_RULE + '\n');
    expect(r.diagnostics.length).toBe(101);
    const last = r.diagnostics[100]!;
    expect(last).toMatchObject({ code: 'too-many-problems', severity: 'info', line: 1, column: 1 });
    expect(last.message).toBe('15900 more problems in this entry not shown (at most 100 per entry)');
    expect(r.file.nodes[0]!.kind === 'rule' && r.file.nodes[0]!.invalid).toBe(true);
  });
});

describe('diagnostics: no spread of a long list, a counted cap', () => {
  it('150,000 bad lines: 100,000 diagnostics kept, the rest counted in the exit code and the summary', () => {
    const file = write('many.rules', 'x\n'.repeat(150_000) + GOOD_RULE + '\n');
    const r = lintRuleSet({ paths: [file], cwd: tmp });
    expect(r.diagnostics.length).toBe(100_000);
    expect(r.omitted).toEqual({ error: 50_000, warning: 0, info: 0 });
    expect(r.errors).toBe(150_000);
    const cli = run(['lint', 'many.rules']);
    expectCleanOutput(cli.out, cli.err);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('50000 more diagnostics not shown (50000 errors, 0 warnings, 0 notes; at most 100,000 are kept)\n');
    expect(cli.out).toMatch(/1 rules \(1 enabled, 0 disabled\): 150000 errors, 0 warnings, 0 notes\n$/);
    const json = JSON.parse(run(['lint', 'many.rules', '--format', 'json']).out);
    expect(json.diagnostics.length).toBe(100_000);
    expect(json.omitted).toEqual({ error: 50_000, warning: 0, info: 0 });
  });

  it('ET-sized sets duplicated eight times (240,000 duplicate-sid warnings) lint without a stack overflow', () => {
    const rules = Array.from({ length: 30_000 }, (_, i) => `alert tcp any any -> any any (msg:"r"; content:"abc"; sid:${i + 1};)`).join('\n') + '\n';
    const paths = Array.from({ length: 9 }, (_, k) => write(`dup/copy${k}.rules`, rules));
    const r = lintRuleSet({ paths, cwd: tmp });
    expect(r.diagnostics.length).toBe(100_000);
    expect(r.omitted.warning).toBe(240_000 - 100_000);
  });
});

describe('variables defined in rule files, as Snort reads them', () => {
  it('a var/ipvar/portvar in an included .rules file counts for every rule of the set, earlier files included', () => {
    const conf = write('inc/snort.conf', 'include a.rules\ninclude b.rules\n');
    write('inc/a.rules', 'alert tcp $B_NET any -> any $B_PORTS (msg:"a"; content:"x"; sid:1;)\n');
    write(
      'inc/b.rules',
      'ipvar B_NET [10.0.0.0/8]\nportvar B_PORTS [80,8080]\nvar B_PATH /x\nalert tcp $B_NET any -> any any (msg:"b"; content:"x"; sid:2;)\nipvar\n',
    );
    const r = lintRuleSet({ paths: [], conf, cwd: tmp });
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}:${d.code}`)).toEqual(['inc/b.rules:5:bad-variable']);
    expect(r.set.vars.get('B_NET')).toMatchObject({ kind: 'ipvar', value: '[10.0.0.0/8]', origin: 'inc/b.rules:1' });
    // snort.conf lines after the include redefine it, as Snort's first pass does.
    const conf2 = write('inc/snort2.conf', 'include a.rules\ninclude b.rules\nipvar B_NET [192.168.0.0/16]\n');
    expect(lintRuleSet({ paths: [], conf: conf2, cwd: tmp }).set.vars.get('B_NET')!.value).toBe('[192.168.0.0/16]');
    // --var still wins over both.
    expect(lintRuleSet({ paths: [], conf, cwd: tmp, vars: ['B_NET=1.2.3.4'] }).set.vars.get('B_NET')!.value).toBe('1.2.3.4');
  });
});

describe('Snort 2.9.20 accepts these: warnings, not errors', () => {
  it.each([
    ['alert tcp any any -> any any (msg:"x"; content:"abc"; nocase; nocase; sid:1;)', 'duplicate-modifier'],
    ['alert tcp any any -> any any (msg:"x"; content:"abc"; rawbytes; rawbytes; sid:1;)', 'duplicate-modifier'],
    ['alert tcp any any -> any any (msg:"x"; content:"abc"; http_uri; http_header; sid:1;)', 'conflicting-buffers'],
    ['alert icmp any any -> any any (msg:"x"; itype:300; sid:1;)', 'never-matches'],
    ['alert icmp any any -> any any (msg:"x"; itype:>300; sid:1;)', 'never-matches'],
    ['alert icmp any any -> any any (msg:"x"; itype:10<>5; sid:1;)', 'never-matches'],
  ])('%s', (rule, code) => {
    const r = parseRules(rule + '\n');
    expect(r.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual([`warning ${code}`]);
    expect(r.file.nodes[0]!.kind === 'rule' && r.file.nodes[0]!.invalid).toBe(false);
  });

  it('what Snort refuses stays an error: offset twice, icode 300, a non-number itype', () => {
    for (const rule of [
      'alert tcp any any -> any any (msg:"x"; content:"abc"; offset:1; offset:2; sid:1;)',
      'alert icmp any any -> any any (msg:"x"; icode:300; sid:1;)',
      'alert icmp any any -> any any (msg:"x"; itype:x; sid:1;)',
    ]) {
      const r = parseRules(rule + '\n');
      expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    }
  });
});

describe('the command line on these inputs', () => {
  it('lint and convert exit 1 with file:line:column errors, never 134 or a stack trace', () => {
    const lines = ['ipvar V0 [1.1.1.1,2.2.2.2]'];
    for (let i = 1; i <= 40; i++) lines.push(`ipvar V${i} [$V${i - 1},$V${i - 1}]`);
    lines.push(`alert tcp $V40 any -> any any (msg:"x"; sid:1;)`);
    write('cli/snort.conf', lines.join('\n') + '\n');
    write('cli/deep.rules', `alert tcp ${'['.repeat(5000)}1.1.1.1${']'.repeat(5000)} any -> any any (msg:"x"; sid:1;)\n${BAD_RULE}\n`);
    for (const args of [
      ['lint', 'cli/snort.conf'],
      ['lint', 'cli/deep.rules'],
      ['convert', 'cli/deep.rules'],
    ]) {
      const r = run(args);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expectCleanOutput(r.out, r.err);
      if (args[0] === 'lint') expect(r.out).toMatch(/^cli\/(snort\.conf|deep\.rules):\d+:\d+: error [a-z-]+: /m);
    }
  });
});

describe('text from rule files reaches the terminal without control characters', () => {
  it("lint's problem line and excerpt, and a path in a refusal: stand-ins, one for each, the caret under its column", () => {
    const name = 'ctl/e\x1b[31m.rules';
    write(name, 'alert tcp any any -> any any (msg:"\x1b[2J\u202ex"; dsize:>=3; sid:1;)\n');
    const r = run(['lint', 'ctl']);
    expect(r.code).toBe(1);
    expect(r.out + r.err).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    const [head, excerpt, caret] = r.out.split('\n');
    expect(head).toBe("ctl/e\u241b[31m.rules:1:51: error bad-operator: dsize: dsize does not take operator '>=' [sid 1]");
    expect(excerpt).toBe('    alert tcp any any -> any any (msg:"\u241b[2J\ufffdx"; dsize:>=3; sid:1;)');
    expect(caret!.indexOf('^')).toBe(excerpt!.indexOf('>='));
    symlinkSync(join(tmp, 'nothing-here'), join(tmp, 'ctl', 'gone\x1b[2J.rules'));
    const refused = run(['lint', 'ctl']);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(`honeywall: cannot read ${join(tmp, 'ctl', 'gone\u241b[2J.rules')}: ENOENT\n`);
  });
});

describe('rule directories: links followed, each directory walked once, unreadable entries named', () => {
  const rule = 'alert tcp any any -> any any (msg:"x"; content:"a"; sid:1;)\n';

  it('a link back up the tree, and two links to one directory, add nothing and end', () => {
    write('dirs/loop/a.rules', rule);
    write('dirs/loop/sub/b.rules', rule.replace('sid:1', 'sid:2'));
    symlinkSync(join(tmp, 'dirs/loop'), join(tmp, 'dirs/loop/sub/up'));
    symlinkSync(join(tmp, 'dirs/loop/sub'), join(tmp, 'dirs/loop/again'));
    expect(findRuleFiles(join(tmp, 'dirs/loop')).map((f) => f.slice(tmp.length + 1))).toEqual(['dirs/loop/a.rules', 'dirs/loop/again/b.rules']);
    for (const args of [
      ['lint', 'dirs/loop'],
      ['compile', 'dirs/loop', '--out', join(tmp, 'loop.hwm')],
      ['convert', 'dirs/loop', '--out', join(tmp, 'loop-out')],
    ]) {
      const r = run(args);
      expect(r.signal, args[0]).toBeNull();
      expect(r.code, args[0]).toBe(0);
      expectCleanOutput(r.out, r.err);
    }
  });

  it('a tree deeper than the limit, a dangling .rules link: refused with the path (exit 2), no stack trace', () => {
    write(`dirs/deep/${Array.from({ length: MAX_RULE_DIR_DEPTH + 1 }, (_, i) => `d${i}`).join('/')}/x.rules`, rule);
    expect(() => findRuleFiles(join(tmp, 'dirs/deep'))).toThrow(new RegExp(`nested more than ${MAX_RULE_DIR_DEPTH} deep`));
    write('dirs/dangling/a.rules', rule);
    symlinkSync(join(tmp, 'dirs/nothing-here'), join(tmp, 'dirs/dangling/b.rules'));
    symlinkSync(join(tmp, 'dirs/nothing-here'), join(tmp, 'dirs/dangling/notes.txt'));
    for (const [dir, why] of [
      ['dirs/deep', /nested more than \d+ deep/],
      ['dirs/dangling', /cannot read .*dangling\/b\.rules: ENOENT/],
    ] as const) {
      for (const args of [
        ['lint', dir],
        ['compile', dir, '--out', join(tmp, 'x.hwm')],
        ['convert', dir, '--out', join(tmp, 'x-out')],
      ]) {
        const r = run(args);
        expect(r.code, `${args[0]} ${dir}`).toBe(2);
        expect(r.err, `${args[0]} ${dir}`).toMatch(why);
        expectCleanOutput(r.out, r.err);
      }
    }
  });
});
