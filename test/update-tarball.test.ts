/** The tarball reader's bounds and refusals, on archives made here (node-tar for plain ones, Python for hostile names). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAR_LIMITS, escapeName, readRuleTarball } from '../src/update/tarball.js';

const tmp = mkdtempSync(join(tmpdir(), 'hw-update-tar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function tarball(name: string, files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmp, 'src-'));
  mkdirSync(join(dir, 'rules'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, 'rules', n), t);
  const out = join(tmp, name);
  await tarCreate({ gzip: true, file: out, cwd: dir, portable: true }, ['rules']);
  return out;
}

describe('readRuleTarball', () => {
  it('reads the .rules entries (other files skipped), paths as in the archive', async () => {
    const f = await tarball('ok.tar.gz', { 'a.rules': 'A\n', 'b.rules': 'B\n', 'README.txt': 'x' });
    const r = await readRuleTarball(f);
    expect(r.map((e) => [e.path, e.text]).sort()).toEqual([
      ['rules/a.rules', 'A\n'],
      ['rules/b.rules', 'B\n'],
    ]);
  });

  it("regular files written by old tar programs ('\\0' and '7' types) are read too; directories and devices skipped", async () => {
    const f = join(tmp, 'old.tar');
    execFileSync('python3', [
      '-c',
      `import tarfile, io, sys
t = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)
for name, kind in (('rules/old.rules', tarfile.AREGTYPE), ('rules/cont.rules', tarfile.CONTTYPE), ('rules/new.rules', tarfile.REGTYPE)):
    i = tarfile.TarInfo(name); i.type = kind; data = name.encode(); i.size = len(data); t.addfile(i, io.BytesIO(data))
i = tarfile.TarInfo('rules/dir.rules'); i.type = tarfile.DIRTYPE; t.addfile(i)
i = tarfile.TarInfo('rules/fifo.rules'); i.type = tarfile.FIFOTYPE; t.addfile(i)
t.close()`,
      f,
    ]);
    const r = await readRuleTarball(f);
    expect(r.map((e) => [e.path, e.text]).sort()).toEqual([
      ['rules/cont.rules', 'rules/cont.rules'],
      ['rules/new.rules', 'rules/new.rules'],
      ['rules/old.rules', 'rules/old.rules'],
    ]);
  });

  it('bounds: entry count, one rule file, all entries together', async () => {
    const f = await tarball('many.tar.gz', { 'a.rules': 'A'.repeat(100), 'b.rules': 'B', 'c.rules': 'C' });
    await expect(readRuleTarball(f, { ...DEFAULT_TAR_LIMITS, maxEntries: 2 })).rejects.toThrow('more than 2 entries');
    await expect(readRuleTarball(f, { ...DEFAULT_TAR_LIMITS, maxRuleFileBytes: 50 })).rejects.toThrow('rules/a.rules is larger than 50 bytes');
    await expect(readRuleTarball(f, { ...DEFAULT_TAR_LIMITS, maxTotalBytes: 101 })).rejects.toThrow('entries larger than 101 bytes in all');
  });

  it('not an archive, and hostile names escaped in the message', async () => {
    const junk = join(tmp, 'junk.tar.gz');
    writeFileSync(junk, 'this is not a tar file at all'.repeat(40));
    await expect(readRuleTarball(junk)).rejects.toThrow(/not a readable tar archive|an empty or unreadable archive/);
    const evil = join(tmp, 'evil.tar');
    execFileSync('python3', [
      '-c',
      `import tarfile, io, sys
t = tarfile.open(sys.argv[1], 'w')
i = tarfile.TarInfo('../\\x1b[31mred.rules'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
i = tarfile.TarInfo('rules/h.rules'); i.type = tarfile.LNKTYPE; i.linkname = '../outside'; t.addfile(i)
t.close()`,
      evil,
    ]);
    await expect(readRuleTarball(evil)).rejects.toThrow(
      "refused: 1 entry with '..', 0 with an absolute path, 1 link(s) pointing out of the archive (../\\x1b[31mred.rules, rules/h.rules -> ../outside)",
    );
    expect(escapeName('a\nb\u0000c')).toBe('a\\x0ab\\x00c');
  });
});
