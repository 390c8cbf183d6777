/**
 * `honeywall lint` runs from dist/lint.cjs (one bundled file, with a V8 code cache) while every other command runs
 * from dist/: the two must be the same program. Needs `npm run build` (the test script runs it first).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';

const bin = join(repoRoot, 'bin/honeywall.js');

/** What the launcher's loader makes of the bundle in `dir`, in a process with the launcher's V8 flags. */
function cacheStatus(dir: string): string {
  const probe = `import ${JSON.stringify(join(repoRoot, 'bin/v8-flags.js'))};
const { loadLintBundle } = await import(${JSON.stringify(join(repoRoot, 'bin/lint-bundle.js'))});
console.log(loadLintBundle(${JSON.stringify(dir)})?.cache ?? 'no bundle');`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' }).stdout.trim();
}
const dist = join(repoRoot, 'dist');

function lint(args: string[], bundled: boolean) {
  const env = { ...process.env, HONEYWALL_DEBUG_BUNDLE: '1', HONEYWALL_NO_BUNDLE: bundled ? '' : '1' };
  const r = spawnSync(process.execPath, [bin, 'lint', ...args], { cwd: repoRoot, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'hw-lint-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the lint bundle', () => {
  it('is what `honeywall lint` runs, with its code cache', () => {
    const r = lint(['rulesets'], true);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^honeywall: lint bundle [0-9a-f]{16}, code cache used$/m);
    // HONEYWALL_NO_BUNDLE=1: the modules of dist/, as for every other command.
    expect(lint(['rulesets'], false).stderr).not.toMatch(/lint bundle/);
  });

  it('prints what the modules of dist/ print, in every format and on every exit path', () => {
    const bad = join(scratch, 'bad.rules');
    writeFileSync(bad, 'alert tcp any any -> any any (msg:"x"; content:"|4g|"; sid:1;)\nalert tcp any any -> any any (msg:"y"; sid:1;)\n');
    const cases = [
      ['rulesets'],
      ['fixtures/lint', '--format', 'json'],
      ['fixtures/lint', '--format', 'sarif'],
      ['fixtures/lint', '--format', 'github'],
      [bad],
      [bad, '--var', 'HOME_NET=10.0.0.0/8', '--format', 'json'],
      ['no/such/path'],
      ['--format', 'yaml', 'rulesets'],
      ['--help'],
    ];
    for (const args of cases) {
      const bundled = lint(args, true);
      const modules = lint(args, false);
      expect({ args, status: bundled.status, stdout: bundled.stdout }).toEqual({ args, status: modules.status, stdout: modules.stdout });
      expect(bundled.stderr.replace(/^honeywall: lint bundle .*\n/m, '')).toBe(modules.stderr);
    }
  });

  it('uses a code cache only from its own build', () => {
    // A copy of dist/ whose bundle has another build id (same length, so V8's own check, which compares source
    // lengths, would take the cache): the loader must not hand the cache over.
    const other = join(scratch, 'other');
    rmSync(other, { recursive: true, force: true });
    cpSync(dist, other, { recursive: true, preserveTimestamps: true });
    const source = readFileSync(join(dist, 'lint.cjs'), 'utf8');
    const id = /^\/\/ honeywall lint bundle ([0-9a-f]{16}) /.exec(source)![1]!;
    const otherId = id.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(join(other, 'lint.cjs'), source.replace(id, otherId));
    expect(cacheStatus(other)).toBe('absent');
    // The same files under their own id: used.
    writeFileSync(join(other, 'lint.cjs'), source);
    expect(cacheStatus(other)).toBe('used');
    expect(cacheStatus(join(scratch, 'nowhere'))).toBe('no bundle');
  });

  it('is not used when a module it was made from has changed since (tsc run alone): dist/ runs instead', () => {
    const other = join(scratch, 'stale');
    rmSync(other, { recursive: true, force: true });
    cpSync(dist, other, { recursive: true, preserveTimestamps: true });
    expect(cacheStatus(other)).toBe('used');
    // Copied without their times (as npm pack and install leave them): the same contents, still used.
    const installed = join(scratch, 'installed');
    rmSync(installed, { recursive: true, force: true });
    cpSync(dist, installed, { recursive: true, preserveTimestamps: false });
    expect(cacheStatus(installed)).toBe('used');
    // One module changed, even keeping its size: dist/ runs.
    const rule = join(other, 'parser/rule.js');
    const text = readFileSync(rule, 'utf8');
    const i = text.indexOf('return');
    writeFileSync(rule, text.slice(0, i) + 'RETURN' + text.slice(i + 6));
    expect(cacheStatus(other)).toBe('no bundle');
    writeFileSync(join(installed, 'parser/rule.js'), text + '\n// changed\n');
    expect(cacheStatus(installed)).toBe('no bundle');
  });
});
