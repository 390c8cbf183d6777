/**
 * `honeywall lint` and `honeywall compile` run from dist/lint.cjs and dist/compile.cjs (one bundled file each, with a
 * V8 code cache; compile's worker thread from the same bundle) while every other command runs from dist/: the two
 * must be the same program. Needs `npm run build` (the test script runs it first).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_START_FLAGS, honeywallCommand, pathWithThisNode } from './helpers/command.js';
import { repoRoot } from './helpers/corpus.js';

const bin = join(repoRoot, 'bin/honeywall.js');

/** What the launcher's loader makes of a bundle in `dir`, in a process started as the command starts that command. */
function cacheStatus(dir: string, name = 'lint'): string {
  // under the flags the command and then the launcher set for that command
  const probe = `import { applyV8Flags } from ${JSON.stringify(join(repoRoot, 'bin/v8-flags.js'))}; applyV8Flags(${JSON.stringify(name)});
const { loadBundle } = await import(${JSON.stringify(join(repoRoot, 'bin/bundles.js'))});
console.log(loadBundle(${JSON.stringify(name)}, ${JSON.stringify(dir)})?.cache ?? 'no bundle');`;
  return spawnSync(process.execPath, [...COMMAND_START_FLAGS, '--input-type=module', '-e', probe], { encoding: 'utf8' }).stdout.trim();
}
const dist = join(repoRoot, 'dist');

/** `via`: the `honeywall` command (bin/honeywall), or Node running bin/honeywall.js itself. */
function command(name: string, args: string[], bundled: boolean, env: Record<string, string> = {}, via: 'command' | 'node' = 'node') {
  const all = { ...process.env, HONEYWALL_DEBUG_BUNDLE: '1', HONEYWALL_NO_BUNDLE: bundled ? '' : '1', PATH: pathWithThisNode, ...env };
  const [file, argv] = via === 'command' ? [honeywallCommand, [name, ...args]] : [process.execPath, [bin, name, ...args]];
  const r = spawnSync(file, argv, { cwd: repoRoot, env: all, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lint = (args: string[], bundled: boolean) => command('lint', args, bundled, {}, 'command');

const scratch = mkdtempSync(join(tmpdir(), 'hw-bundles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the command bundles', () => {
  it('the lint bundle is what `honeywall lint` runs, with its code cache', () => {
    const r = lint(['rulesets'], true);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^honeywall: lint bundle [0-9a-f]{16}, code cache used$/m);
    // HONEYWALL_NO_BUNDLE=1: the modules of dist/, as for every other command.
    expect(lint(['rulesets'], false).stderr).not.toMatch(/lint bundle/);
    // Node running the launcher itself (without the command's start flags): the same program, the same output.
    const viaNode = command('lint', ['rulesets'], true, {}, 'node');
    expect({ status: viaNode.status, stdout: viaNode.stdout }).toEqual({ status: r.status, stdout: r.stdout });
    expect(viaNode.stderr).toMatch(/^honeywall: lint bundle [0-9a-f]{16}, code cache (used|rejected)$/m);
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

  it('is the same `honeywall compile`, its worker thread included: same output, same artifact', () => {
    // The bundle as the `honeywall` command runs it (its code cache is made under that command's flags), and as Node
    // runs the launcher itself (no flags of the command's: the cache may not fit, the program is the same), against
    // the modules of dist/.
    const bad = join(scratch, 'bad-compile.rules');
    writeFileSync(bad, 'alert tcp any any -> any any (msg:"x"; content:"|4g|"; sid:1;)\nalert tcp any any -> any any (msg:"y"; rpc:1,*,*; sid:2;)\n');
    /** The artifact without meta.created. */
    const artifact = (file: string) => {
      const b = readFileSync(file);
      const jlen = b.readUInt32LE(12);
      const header = JSON.parse(b.toString('utf8', 16, 16 + jlen)) as { meta: { created?: string } };
      delete header.meta.created;
      return Buffer.concat([Buffer.from(JSON.stringify(header)), b.subarray(16 + jlen)]).toString('base64');
    };
    const cases: [string[], Record<string, string>][] = [
      [['rulesets', '--report', 'json'], {}],
      [['rulesets', 'fixtures/lint', bad], {}],
      // the worker thread, from the bundle too (it prints its own bundle line)
      [['rulesets', 'fixtures/lint', '--report', 'json'], { HONEYWALL_COMPILE_THREADS: '2' }],
      [['no/such/path'], {}],
      [['--help'], {}],
    ];
    for (const [args, env] of cases) {
      const out = join(scratch, 'compiled.hwm');
      const outArgs = args.includes('--help') ? args : [...args, '--out', out];
      const run = (bundled: boolean, via: 'command' | 'node') => {
        rmSync(out, { force: true });
        const r = command('compile', outArgs, bundled, env, via);
        return { ...r, artifact: existsSync(out) ? artifact(out) : undefined };
      };
      const modules = run(false, 'command');
      const normal = (s: string) => s.replace(/ in [\d.]+ s\n/, '\n');
      for (const via of ['command', 'node'] as const) {
        const bundled = run(true, via);
        expect({ args, via, status: bundled.status, stdout: normal(bundled.stdout) }).toEqual({
          args,
          via,
          status: modules.status,
          stdout: normal(modules.stdout),
        });
        const lines = bundled.stderr.match(/^honeywall: compile bundle [0-9a-f]{16}, code cache (used|rejected)$/gm) ?? [];
        expect(lines.length, args.join(' ')).toBe(env.HONEYWALL_COMPILE_THREADS === '2' ? 2 : 1);
        // (through the command, the cache made for it is taken)
        if (via === 'command') expect(lines.every((l) => l.endsWith('code cache used'))).toBe(true);
        expect(bundled.stderr.replace(/^honeywall: compile bundle .*\n/gm, '')).toBe(modules.stderr);
        expect(bundled.artifact).toEqual(modules.artifact);
      }
    }
  }, 90_000);
});
