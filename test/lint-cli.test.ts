import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { etDir, hasCorpus, repoRoot } from './helpers/corpus.js';

const bin = join(repoRoot, 'bin', 'honeywall.js');
const run = (args: string[], cwd = repoRoot) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'hw-lint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('honeywall lint', () => {
  it('reports one error per bad rule at its line, and still counts every rule', () => {
    const r = run(['lint', 'fixtures/lint/bad.rules', '--format', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.files).toBe(1);
    expect(j.rules).toEqual({ total: 9, enabled: 9, disabled: 0 }); // the bad-direction line is unparsed, not a rule
    const errors = j.diagnostics.filter((d: { severity: string }) => d.severity === 'error');
    expect(errors.map((d: { line: number; code: string }) => `${d.line}:${d.code}`)).toEqual([
      '3:bad-hex',
      '4:depth-shorter-than-content',
      '5:unknown-keyword',
      '6:missing-sid',
      '8:unknown-variable',
      '9:unknown-classtype',
      '10:bad-direction',
    ]);
    for (const d of j.diagnostics) expect(Object.keys(d).sort()).toEqual(['code', 'column', 'file', 'line', 'message', 'severity', 'sid']);
    expect(errors.find((d: { line: number }) => d.line === 3).sid).toBe(1000002);
  });

  it('prints file:line:col, the rule line and a caret in text format', () => {
    const r = run(['lint', 'fixtures/lint/bad.rules']);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    const i = lines.findIndex((l) => l.startsWith('fixtures/lint/bad.rules:3:'));
    expect(lines[i]).toMatch(/^fixtures\/lint\/bad\.rules:3:\d+: error bad-hex: .* \[sid 1000002\]$/);
    const caretCol = lines[i + 2]!.indexOf('^');
    expect(lines[i + 1]!.slice(caretCol, caretCol + 1)).toBe('4');
  });

  it('SARIF 2.1.0 and GitHub annotations', () => {
    const s = JSON.parse(run(['lint', 'fixtures/lint/bad.rules', '--format', 'sarif']).out);
    expect(s.version).toBe('2.1.0');
    const res = s.runs[0].results;
    expect(res.length).toBeGreaterThanOrEqual(7);
    expect(res[0].locations[0].physicalLocation.region.startLine).toBe(3);
    expect(s.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toContain('bad-hex');
    const g = run(['lint', 'fixtures/lint/bad.rules', '--format', 'github']).out.split('\n');
    expect(g[0]).toMatch(/^::error file=fixtures\/lint\/bad\.rules,line=3,col=\d+,title=bad-hex::/);
  });

  it('--var defines a variable; exit 2 for unreadable paths and bad flags', () => {
    const good = join(tmp, 'v.rules');
    writeFileSync(good, 'alert tcp $MY_NET any -> any any (msg:"v"; sid:5; rev:1;)\n');
    expect(run(['lint', good]).code).toBe(1);
    expect(run(['lint', good, '--var', 'MY_NET=10.0.0.0/8']).code).toBe(0);
    const missing = run(['lint', join(tmp, 'nope.rules')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.rules does not exist/);
    expect(missing.err).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    expect(run(['lint', good, '--format', 'xml']).code).toBe(2);
    expect(run(['lint', good, '--bogus']).code).toBe(2);
  });

  it('ruleset checks: duplicate sid, flowbits, classtype, never-matching options, no fast pattern', () => {
    const f = join(tmp, 'set.rules');
    writeFileSync(
      f,
      [
        'alert tcp any any -> any any (msg:"a"; content:"x"; flowbits:set,seen; flowbits:noalert; sid:10; rev:1;)',
        'alert tcp any any -> any any (msg:"b"; content:"y"; flowbits:isset,never_set; sid:11; rev:1;)',
        'alert tcp any any -> any any (msg:"dup"; content:"z"; sid:10; rev:1;)',
        'alert udp any any -> any any (msg:"stream_size on udp"; stream_size:client,>,1; content:"q"; sid:12; rev:1;)',
        'alert tcp any any -> any any (msg:"pcre only"; pcre:"/abc/"; sid:13; rev:1;)',
        // Snort refuses TCP options in a rule of another protocol: an error, not a warning
        'alert udp any any -> any any (msg:"flags on udp"; flags:S; content:"q"; sid:14; rev:1;)',
        '',
      ].join('\n'),
    );
    const j = JSON.parse(run(['lint', f, '--format', 'json']).out);
    const codes = j.diagnostics.map((d: { code: string; line: number }) => `${d.line}:${d.code}`).sort();
    expect(codes).toEqual(
      ['1:flowbit-never-checked', '2:flowbit-never-set', '3:duplicate-sid', '4:never-matches', '5:no-fast-pattern', '6:wrong-protocol'].sort(),
    );
  });

  it('places a duplicate sid found in another file at its own line and column, naming the first one', () => {
    const dir = join(tmp, 'dup');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-first.rules'), '# one\nalert tcp any any -> any any (msg:"a"; content:"x"; sid:7; rev:1;)\n');
    writeFileSync(
      join(dir, 'b-second.rules'),
      '\n\n  alert tcp any any -> any any (msg:"b"; content:"y"; gid:1; sid:7; rev:1;)\nalert tcp any any -> any any (msg:"c"; content:"z"; sid:8; rev:1;)\n',
    );
    const j = JSON.parse(run(['lint', dir, '--format', 'json']).out);
    const dups = j.diagnostics.filter((d: { code: string }) => d.code === 'duplicate-sid');
    expect(dups).toEqual([
      {
        file: join(dir, 'b-second.rules'),
        line: 3,
        column: 62,
        severity: 'warning',
        code: 'duplicate-sid',
        message: `gid:sid 1:7 is also used at ${join(dir, 'a-first.rules')}:2; Snort keeps only one of them`,
        sid: 7,
      },
    ]);
  });

  it('--diff against a directory and a git ref: added/removed/changed, rev not bumped', () => {
    const base = join(tmp, 'base');
    const now = join(tmp, 'now');
    for (const d of [base, now]) execFileSync('mkdir', ['-p', d]);
    writeFileSync(
      join(base, 'a.rules'),
      'alert tcp any any -> any any (msg:"one"; content:"a"; sid:1; rev:1;)\nalert tcp any any -> any any (msg:"two"; content:"b"; sid:2; rev:1;)\nalert tcp any any -> any any (msg:"gone"; content:"c"; sid:3; rev:1;)\n',
    );
    writeFileSync(
      join(now, 'a.rules'),
      'alert tcp any any -> any any (msg:"one"; content:"A"; sid:1; rev:1;)\nalert tcp any any -> any any (msg:"two"; content:"B"; sid:2; rev:2;)\nalert tcp any any -> any any (msg:"new"; content:"d"; sid:4; rev:1;)\n',
    );
    const j = JSON.parse(run(['lint', now, '--diff', base, '--format', 'json']).out);
    expect(j.diff).toEqual({ added: ['1:4'], removed: ['1:3'], changed: ['1:1', '1:2'] });
    expect(j.diagnostics.filter((d: { code: string }) => d.code === 'rev-not-bumped').map((d: { sid: number }) => d.sid)).toEqual([1]);

    const repo = join(tmp, 'repo');
    cpSync(base, repo, { recursive: true });
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: repo });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'base');
    cpSync(join(now, 'a.rules'), join(repo, 'a.rules'));
    const g = JSON.parse(run(['lint', 'a.rules', '--diff', 'HEAD', '--format', 'json'], repo).out);
    expect(g.diff).toEqual({ added: ['1:4'], removed: ['1:3'], changed: ['1:1', '1:2'] });
    expect(run(['lint', 'a.rules', '--diff', 'no-such-ref'], repo).code).toBe(2);
  });

  it.skipIf(!hasCorpus)('the whole ET Open 2019 set lints with zero errors', () => {
    const r = run(['lint', etDir, '--format', 'json', '--min-severity', 'error']);
    const j = JSON.parse(r.out);
    expect(j.diagnostics.slice(0, 10)).toEqual([]);
    expect(j.rules).toEqual({ total: 28351, enabled: 20643, disabled: 7708 });
    expect(r.code).toBe(0);
  });
});

describe('library API', () => {
  it("`import { parseRules, printRules } from 'honeywall'` works from inside the project", () => {
    const script = `import { parseRules, printRules } from 'honeywall';
const text = 'alert tcp any any -> any any (msg:"x"; content:"|41|"; sid:1;)\\n# comment\\n';
const r = parseRules(text, { file: 'a.rules' });
process.stdout.write(JSON.stringify({ same: printRules(r.file) === text, kinds: r.file.nodes.map((n) => n.kind), diags: r.diagnostics.length }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ same: true, kinds: ['rule', 'comment'], diags: 0 });
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).exports['.'].import).toBe('./dist/index.js');
  });

  it('`scanRules` hands over the nodes and diagnostics parseRules gives, one at a time', () => {
    const script = `import { parseRules, scanRules } from 'honeywall';
const text = 'alert tcp any any -> any any (msg:"x"; content:"|41|"; sid:1;)\\n# alert tcp any any -> any any (sid:2;)\\nbogus line\\nalert tcp any any -> any any (depth:0; sid:3;)\\n';
const whole = parseRules(text, { file: 'a.rules' });
const nodes = []; const diags = [];
scanRules(text, { file: 'a.rules' }, (n, d) => { nodes.push(n.kind + ':' + n.raw); diags.push(...d); });
process.stdout.write(JSON.stringify({ nodes: JSON.stringify(nodes) === JSON.stringify(whole.file.nodes.map((n) => n.kind + ':' + n.raw)), diags: JSON.stringify(diags) === JSON.stringify(whole.diagnostics), count: diags.length }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    const r = JSON.parse(out) as { nodes: boolean; diags: boolean; count: number };
    expect(r).toEqual({ nodes: true, diags: true, count: r.count });
    expect(r.count).toBeGreaterThanOrEqual(2);
  });
});
