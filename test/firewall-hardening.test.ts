/**
 * `honeywall firewall` against hostile or careless input (issue 12): interface names checked as the kernel checks them
 * (and for what iptables would misread), list files never echoed, `--out` never writing through a planted symlink,
 * addresses ip6tables-restore / iptables-restore would refuse or misread refused at config time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { registerFirewall } from '../src/cli/commands/firewall.js';
import { formatDiagnostic, MAX_LIST_ERRORS, parseHoneywallConf } from '../src/config/honeywall-conf.js';
import { ifaceNameProblem } from '../src/config/iface-name.js';
import { APPLY_FILE, emitFirewall, RULES6_FILE, RULES_FILE } from '../src/emit/firewall/index.js';
import { checkRestore } from '../src/emit/firewall/restore-check.js';
import { haveCommand, ScratchNetns } from './honeynet/scratch-netns.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hwfw-hard-'));
const scratch = haveCommand('iptables-restore') ? ScratchNetns.create() : null;
afterAll(() => {
  scratch?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const errorsOf = (text: string) =>
  parseHoneywallConf(text, 'hw.conf', () => ({ error: 'no such file' }))
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

/** `honeywall firewall ARGS` in this process (so the planted names can use this process's pid). */
async function firewall(args: string[]): Promise<{ code: number; stderr: string; stdout: string; thrown?: Error }> {
  const ctx = { exitCode: 0 };
  const program = new Command().exitOverride();
  registerFirewall(program, ctx);
  let stderr = '';
  let stdout = '';
  let thrown: Error | undefined;
  const origErr = process.stderr.write.bind(process.stderr);
  const origOut = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'honeywall', 'firewall', ...args]);
  } catch (err) {
    thrown = err as Error;
  } finally {
    process.stderr.write = origErr;
    process.stdout.write = origOut;
  }
  return { code: ctx.exitCode, stderr, stdout, thrown };
}

describe('interface names', () => {
  it.each([
    ['HwINET_IFACE=eth+', "hw.conf:1:14: error invalid-value: HwINET_IFACE: interface name 'eth+' contains '+', iptables' wildcard"],
    ['HwLAN_IFACE=eth+1', "hw.conf:1:13: error invalid-value: HwLAN_IFACE: interface name 'eth+1' contains '+'"],
    ['HwLAN_IFACE=-eth1', "hw.conf:1:13: error invalid-value: HwLAN_IFACE: interface name '-eth1' starts with '-'"],
    ['HwMANAGE_IFACE=!', "hw.conf:1:16: error invalid-value: HwMANAGE_IFACE: interface name '!' starts with '!'"],
    ['HwBRIDGE_IFACE=br/0', "contains '/'"],
    ['HwBRIDGE_IFACE=br0:1', "contains ':'"],
    ['HwBRIDGE_IFACE=.', "'.' and '..' are not interface names"],
    ['HwBRIDGE_IFACE=..', "'.' and '..' are not interface names"],
    ['HwBRIDGE_IFACE=abcdefghijklmnop', 'is 16 bytes long, the kernel allows at most 15'],
    // 9 characters, 17 bytes: the kernel counts bytes.
    ['HwBRIDGE_IFACE=éééééééé0', 'is 17 bytes long'],
    // U+00E0 is C3 A0 in UTF-8, and the kernel's isspace() takes the 0xa0 byte for a space.
    ['HwBRIDGE_IFACE=eà', 'contains whitespace'],
    ['HwBRIDGE_IFACE="br 0"', 'contains whitespace'],
    ['HwBRIDGE_IFACE=br%d', "contains '%'"],
    ["HwBRIDGE_IFACE='br\"0'", 'reads as quoting'],
    ['HwBRIDGE_IFACE="br\x1b]0;x\x07"', "interface name 'br\\x1b]0;x\\x07' contains a control character"],
    ['HwBRIDGE_IFACE=""', 'HwBRIDGE_IFACE: an interface name is required'],
  ])('%s is refused at its line and column', (line, expected) => {
    const errors = errorsOf(`# honeywall.conf\n${line}\n`.replace(/^# honeywall.conf\n/, ''));
    expect(
      errors.some((e) => e.includes(expected)),
      errors.join('\n'),
    ).toBe(true);
    // Never the raw control characters.
    for (const e of errors) expect(e).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it.each(['eth9', 'br-lan', 'wlan0.100', 'enp0s31f6', 'a*b', "a'b", 'a#b', 'a$b', 'a;b', 'a`b', '€x', 'abcdefghijklmno'])(
    '%s is accepted',
    (name) => {
      const quoted = name.includes("'") ? `"${name}"` : `'${name}'`;
      expect(errorsOf(`HwBRIDGE_IFACE=${quoted}\n`)).toEqual([]);
    },
  );

  it.skipIf(!scratch)(
    'names are held to the kernel: what we accept it accepts, and what we refuse for its reasons it refuses',
    () => {
      const alphabet = ['a', 'b', '0', '.', '-', '+', '/', ':', ' ', '\t', '!', '"', '\\', '%', '#', "'", '$', '*', 'é', 'à', '€', '\x1b', '@', '_'];
      let n = 0;
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 17 }).map((a) => a.join('')),
          (name) => {
            const problem = ifaceNameProblem(name);
            const peer = `hwp${n++}`;
            const r = spawnSync('ip', ['-n', scratch!.name, 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', peer], { stdio: 'ignore' });
            const kernelOk = r.status === 0;
            if (kernelOk) spawnSync('ip', ['-n', scratch!.name, 'link', 'del', peer], { stdio: 'ignore' });
            if (problem === undefined) expect(kernelOk, `accepted ${JSON.stringify(name)}, the kernel refuses it`).toBe(true);
            if (problem !== undefined && /kernel/.test(problem))
              expect(kernelOk, `refused ${JSON.stringify(name)} for the kernel (${problem}), which takes it`).toBe(false);
          },
        ),
        { numRuns: 150, seed: 12 },
      );
    },
    60_000,
  );

  it.skipIf(!scratch)('accepted names with shell and iptables-restore characters reach apply.sh and the rules exactly', () => {
    for (const name of ['a*b', "a'b", 'a#b', 'a$b', 'a;b', 'a`b', '€x']) {
      const quoted = name.includes("'") ? `"${name}"` : `'${name}'`;
      const r = parseHoneywallConf(`HwINET_IFACE=${quoted}\n`, 'hw.conf');
      expect(r.diagnostics).toEqual([]);
      const out = emitFirewall(r.config!);
      const assign = out.files[APPLY_FILE]!.split('\n').find((l) => l.startsWith('INET='))!;
      const shown = execFileSync('sh', ['-c', `${assign}\nprintf %s "$INET"`], { encoding: 'utf8' });
      expect(shown).toBe(name);
      expect(checkRestore(out.files[RULES_FILE]!, 4, { netns: scratch!.name }).message).toBe('');
      // Loaded into the scratch namespace, iptables holds the name itself.
      execFileSync('ip', ['netns', 'exec', scratch!.name, 'iptables-restore', '-w'], { input: out.files[RULES_FILE]! });
      const saved = execFileSync('ip', ['netns', 'exec', scratch!.name, 'iptables-save', '-t', 'filter'], { encoding: 'utf8' });
      expect(saved).toContain(`--physdev-in ${name} `);
    }
  });
});

describe('list files are never echoed', () => {
  const secret = (lines: number) =>
    Array.from({ length: lines }, (_, i) => `user${i}:$6$S3CRET-HASH-${i}$abcdefgh:19000:0:99999:7:::`).join('\n') + '\n';

  it('HwFWBLACK=<a file that is not a list>: line numbers and what is wrong, no content, bounded', async () => {
    const shadow = path.join(dir, 'shadow');
    writeFileSync(shadow, `192.0.2.1\n${secret(500)}`);
    chmodSync(shadow, 0o600);
    const conf = path.join(dir, 'lists.conf');
    writeFileSync(conf, `HwBWLIST_ENABLE=yes\nHwFWBLACK=${shadow}\nHwFWWHITE=${shadow}\n`);
    const r = await firewall(['--config', conf, '--out', path.join(dir, 'lists-out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('S3CRET');
    expect(r.stderr).not.toContain('user0');
    expect(r.stderr).toContain(`${shadow}:2:1: error invalid-list-entry: HwFWBLACK list: the entry (`);
    expect(r.stderr).toContain('is not an IPv4 or IPv6 address');
    // At most MAX_LIST_ERRORS per list, then a count at the setting.
    const entryErrors = r.stderr.split('\n').filter((l) => l.includes('error invalid-list-entry'));
    expect(entryErrors).toHaveLength(2 * MAX_LIST_ERRORS);
    expect(r.stderr).toContain(
      `${conf}:2:11: error invalid-value: HwFWBLACK: list file '${shadow}': ${500 - MAX_LIST_ERRORS} more invalid entries not reported (500 in all)`,
    );
    expect(existsSync(path.join(dir, 'lists-out'))).toBe(false);
  });

  it('a FIFO, a device or a directory as a list file is refused at once, not read', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [list, why] of [
      [fifo, 'is not a regular file'],
      ['/dev/zero', 'is not a regular file'],
      [dir, 'is a directory'],
    ] as const) {
      const conf = path.join(dir, 'special.conf');
      writeFileSync(conf, `HwFENCELIST_ENABLE=yes\nHwFWFENCE=${list}\n`);
      const started = Date.now();
      const r = await firewall(['--config', conf]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${conf}:2:11: error invalid-value: HwFWFENCE: list file '${list}': ${why}`);
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('a config that is not one: its own lines are shown escaped, and the errors stop after a bound', async () => {
    const conf = path.join(dir, 'binary.conf');
    writeFileSync(conf, Array.from({ length: 300 }, (_, i) => `\x1b[2J\x1b]0;pwned\x07 line ${i}`).join('\n'));
    const r = await firewall(['--config', conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\x1b|\x07/);
    expect(r.stderr.split('\n').filter((l) => l.includes(': error syntax:')).length).toBeLessThanOrEqual(50);
    expect(r.stderr).toContain('error too-many-errors:');
  });
});

describe('--out writes through private, exclusive files', () => {
  it('symlinks planted at the old temporary names and at a target are replaced, never followed', async () => {
    const out = path.join(dir, 'planted');
    mkdirSync(out);
    const victims: string[] = [];
    for (const name of [RULES_FILE, RULES6_FILE, APPLY_FILE]) {
      const victim = path.join(dir, `victim-${name}`);
      writeFileSync(victim, 'precious\n');
      chmodSync(victim, 0o600);
      victims.push(victim);
      // The names the command used to write through: NAME.tmp-<pid>.
      symlinkSync(victim, path.join(out, `${name}.tmp-${process.pid}`));
    }
    const victimOfTarget = path.join(dir, 'victim-target');
    writeFileSync(victimOfTarget, 'precious\n');
    chmodSync(victimOfTarget, 0o600);
    victims.push(victimOfTarget);
    symlinkSync(victimOfTarget, path.join(out, APPLY_FILE));

    const conf = path.join(dir, 'ok.conf');
    writeFileSync(conf, 'HwTCPRATE=15\n');
    const r = await firewall(['--config', conf, '--out', out]);
    expect(r.thrown).toBeUndefined();
    expect(r.code).toBe(0);
    for (const v of victims) {
      expect(readFileSync(v, 'utf8')).toBe('precious\n');
      expect(statSync(v).mode & 0o777).toBe(0o600);
    }
    const expected = emitFirewall(parseHoneywallConf('HwTCPRATE=15\n', conf).config!).files;
    for (const name of [RULES_FILE, RULES6_FILE, APPLY_FILE]) {
      const st = lstatSync(path.join(out, name));
      expect(st.isFile()).toBe(true);
      expect(st.mode & 0o777).toBe(name === APPLY_FILE ? 0o755 : 0o644);
      expect(readFileSync(path.join(out, name), 'utf8')).toBe(expected[name]);
    }
    // No staging directory is left behind.
    expect(readdirSync(out).filter((n) => n.startsWith('.honeywall-firewall-'))).toEqual([]);
  });
});

describe('addresses the restore tools refuse or misread are refused at config time', () => {
  const v6 = (value: string) => `HwIPV6=yes\nHwHPOT_PUBLIC_IP6=2001:db8::20\nHwMANAGER6=${value}\n`;
  it.each([
    [v6('fe80::1%25x'), "HwMANAGER6: 'fe80::1%25x' has a zone id"],
    [v6('fe80::1%eth0'), 'has a zone id'],
    [v6('2001:db8::/032'), 'leading zero, which iptables reads as octal'],
    ['HwMANAGER=10.0.0.1/032\n', "HwMANAGER: '10.0.0.1/032' has a prefix length with a leading zero"],
    ['HwMANAGER=10.0.0.0/08\n', 'leading zero'],
  ])('%s', (text, expected) => {
    const errors = errorsOf(text);
    expect(
      errors.some((e) => e.includes(expected)),
      errors.join('\n'),
    ).toBe(true);
  });

  it.skipIf(!scratch)('every IPv6 form the config accepts, ip6tables-restore accepts', () => {
    const forms = [
      '::ffff:10.0.0.1',
      '1::1.2.3.4',
      '2001:DB8::1',
      '1:2:3:4:5:6:7::',
      '::1:2:3:4:5:6:7',
      '2001:db8::/32',
      '::/0',
      'fe80::1',
      'fe80::1%25x',
      'fe80::1%eth0',
      '2001:db8::/032',
      '2001:db8::/129',
      '2001:db8::1/128',
      '1:2:3:4:5:6:1.2.3.4',
    ];
    let accepted = 0;
    for (const f of forms) {
      const r = parseHoneywallConf(v6(f), 'hw.conf');
      if (!r.config) continue;
      accepted++;
      expect(checkRestore(emitFirewall(r.config).files[RULES6_FILE]!, 6, { netns: scratch!.name }).message, f).toBe('');
    }
    expect(accepted).toBe(10);
  });
});
