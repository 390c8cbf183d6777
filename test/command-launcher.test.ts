/**
 * bin/honeywall, the `honeywall` command (package.json "bin"): it runs bin/honeywall.js with the Node on PATH, adding
 * for the batch commands (`compile`, `update`, `lint`, `convert`, `replay`) the flags and the malloc setting that only a
 * process's start can make. Checked with a
 * stand-in `node` on PATH that prints what it was given; and once for real, that the command runs the program.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_START_FLAGS, honeywallCommand as command, pathWithThisNode } from './helpers/command.js';
import { repoRoot } from './helpers/corpus.js';

const launcher = join(repoRoot, 'bin/honeywall.js');
const scratch = mkdtempSync(join(tmpdir(), 'hw-command-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// a `node` that prints its arguments, one per line, then GLIBC_TUNABLES
const fakeBin = join(scratch, 'bin');
mkdirSync(fakeBin);
writeFileSync(
  join(fakeBin, 'node'),
  '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\nprintf "GLIBC_TUNABLES=%s\\n" "${GLIBC_TUNABLES-(unset)}"\n',
);
chmodSync(join(fakeBin, 'node'), 0o755);

function given(file: string, args: string[], tunables?: string): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${fakeBin}:/usr/bin:/bin` };
  if (tunables === undefined) delete env.GLIBC_TUNABLES;
  else env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(file, args, { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

const HUGE = 'glibc.malloc.hugetlb=1';

describe('the honeywall command (bin/honeywall)', () => {
  const cases: { args: string[]; tunables?: string; flags: string[]; env: string }[] = [
    { args: ['compile', 'rules/', '--out', 'x y.hwm'], flags: COMMAND_START_FLAGS, env: HUGE },
    { args: ['update', '--config', 'u.conf'], flags: COMMAND_START_FLAGS, env: HUGE },
    // an operator's own tunables are kept, this one added after them
    { args: ['compile', 'r'], tunables: 'glibc.malloc.arena_max=2', flags: COMMAND_START_FLAGS, env: `glibc.malloc.arena_max=2:${HUGE}` },
    // and their own hugetlb setting stands (glibc takes the last one given), first or later in the list
    { args: ['compile', 'r'], tunables: 'glibc.malloc.hugetlb=0', flags: COMMAND_START_FLAGS, env: 'glibc.malloc.hugetlb=0' },
    {
      args: ['lint', 'r'],
      tunables: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2',
      flags: COMMAND_START_FLAGS,
      env: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2',
    },
    // a name that only ends like it is another tunable
    { args: ['compile', 'r'], tunables: 'x.glibc.malloc.hugetlb=0', flags: COMMAND_START_FLAGS, env: `x.glibc.malloc.hugetlb=0:${HUGE}` },
    { args: ['lint', 'rules/'], flags: COMMAND_START_FLAGS, env: HUGE },
    { args: ['convert', 'rules/', '--honeynet', '--out', 'o'], flags: COMMAND_START_FLAGS, env: HUGE },
    { args: ['replay', 'a.pcap', '--matcher', 'm.hwm'], flags: COMMAND_START_FLAGS, env: HUGE },
    // the other commands start as Node does by default (run and console are long-lived)
    { args: ['run', '--config', 'c'], flags: [], env: '(unset)' },
    { args: ['console', '--db', 'x'], flags: [], env: '(unset)' },
    { args: ['firewall', '--config', 'c'], flags: [], env: '(unset)' },
    { args: [], flags: [], env: '(unset)' },
    { args: ['--version'], flags: [], env: '(unset)' },
    // the command word is the first argument only
    { args: ['run', 'compile'], flags: [], env: '(unset)' },
  ];
  for (const c of cases) {
    it(`honeywall ${c.args.join(' ')}${c.tunables ? ` (GLIBC_TUNABLES=${c.tunables})` : ''}`, () => {
      expect(given(command, c.args, c.tunables)).toEqual([...c.flags, launcher, ...c.args, `GLIBC_TUNABLES=${c.env}`]);
    });
  }

  it('finds bin/honeywall.js beside itself when run through a link (as npm links package bins)', () => {
    const link = join(scratch, 'linked-honeywall');
    symlinkSync(command, link);
    expect(given(link, ['compile', 'r'])).toEqual([...COMMAND_START_FLAGS, launcher, 'compile', 'r', `GLIBC_TUNABLES=${HUGE}`]);
  });

  it('runs the program with the Node on PATH', () => {
    const env = { ...process.env, PATH: pathWithThisNode };
    const version = spawnSync(process.execPath, [launcher, '--version'], { encoding: 'utf8' }).stdout;
    const r = spawnSync(command, ['--version'], { env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(version);
    const c = spawnSync(command, ['compile', join(repoRoot, 'rulesets/honeynet-test.rules'), '--out', join(scratch, 'c.hwm')], {
      env,
      encoding: 'utf8',
    });
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/ compiled, 0 failed/);
  });
});
