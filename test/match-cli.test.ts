/**
 * `honeywall compile` and `honeywall replay` end to end (library main(), no subprocess), the artifact round trip,
 * the output formats, and the deterministic limits on pcre work.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { svDir } from './helpers/corpus.js';

const { main } = await import('../src/cli/main.js');
const { PCRE_MATCH_LIMIT, PCRE_STEPS_BASE, PCRE_STEPS_PER_BYTE } = await import('../src/match/budget.js');
const { readArtifact, writeArtifact } = await import('../src/match/artifact.js');
const { Matcher } = await import('../src/match/engine.js');
const { compileText, itemOf, tcpPacket } = await import('./helpers/match.js');
const { alertOf, formatFastAlert, formatEveAlert } = await import('../src/output/alert.js');

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'hw-match-'));
const RULES = join(dir, 'test.rules');
writeFileSync(
  RULES,
  [
    'alert tcp any any -> any any (msg:"GPL ATTACK_RESPONSE id check returned root"; content:"uid=0|28|root|29|"; classtype:bad-unknown; sid:2100498; rev:7;)',
    'alert tcp any any -> any any (msg:"broken"; dsize:>=3; sid:5;)',
    'alert tcp any any -> any any (msg:"pcre"; pcre:"/(a|aa)+(?=b)/"; sid:6;)',
    '',
  ].join('\n'),
);

describe('honeywall compile', () => {
  it('writes an artifact, reports the rule it cannot compile, exits 1', async () => {
    const art = join(dir, 'm.hwm');
    const code = await main(['node', 'honeywall', 'compile', RULES, '--out', art, '--report', 'json']);
    expect(code).toBe(1);
    const rep = JSON.parse(out);
    expect(rep.rules).toEqual({ total: 3, compiled: 2, failed: 1 });
    expect(rep.failures).toHaveLength(1);
    expect(rep.failures[0]).toMatchObject({ sid: 5, file: expect.stringContaining('test.rules'), line: 2, column: 51, code: 'bad-operator' });
    expect(rep.failures[0].reason).toMatch(/dsize/);
    expect(rep.pcre).toMatchObject({ engine: expect.stringMatching(/^PCRE2 10\./), patterns: 1, limits: { matchLimit: 3500, depthLimit: 1500 } });
    expect(rep.pcre.list[0]).toMatchObject({ sid: 6, pattern: '/(a|aa)+(?=b)/', matchLimit: 3500 });
    expect(existsSync(art)).toBe(true);
  });
  it('prints each failure as lint prints a problem, file:line:column: error code: message [sid N]', async () => {
    const rules = join(dir, 'fail.rules');
    writeFileSync(
      rules,
      [
        'alert tcp any any -> any any (msg:"broken"; dsize:>=3; sid:5;)',
        'alert tcp $NOPE any -> any any (msg:"var"; sid:8;)',
        'alert tcp any any -> any any (msg:"ct"; classtype:nope; sid:9;)',
        'alert tcp any any -> any any (msg:"x"; content:"a"; rpc:100000,*,*; sid:7;)',
        'alert tcp any any -> any any (msg:"ok"; content:"a"; sid:1;)',
        '',
      ].join('\n'),
    );
    expect(await main(['node', 'honeywall', 'compile', rules, '--out', join(dir, 'f.hwm')])).toBe(1);
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      `${rules}:1:51: error bad-operator: dsize: dsize does not take operator '>=' [sid 5]`,
      `${rules}:2:11: error unknown-variable: undefined variable $NOPE [sid 8]`,
      `${rules}:3:41: error unknown-classtype: unknown classtype 'nope' [sid 9]`,
      `${rules}:4:53: error unsupported-keyword: unknown rule option 'rpc' [sid 7]`,
    ]);
    expect(lines[4]).toMatch(/^5 rules: 1 compiled, 4 failed;/);
    // the same formatter as lint's: lint's line for the problem both report is compile's
    out = '';
    await main(['node', 'honeywall', 'lint', rules]);
    const lint = out.split('\n').filter((l) => l.startsWith(rules));
    expect(lint).toContain(lines[0]);
    for (const l of lint) expect(l).toMatch(/^.+:\d+:\d+: (error|warning|info) [a-z0-9-]+: .+$/);
  });
  it("the load's own errors are failures too: an include that does not exist loses its rules, and says so", async () => {
    for (const [name, text, line] of [
      ['include-missing.rules', `alert tcp any any -> any any (msg:"ok"; content:"a"; sid:1;)\ninclude ${join(dir, 'typo.rules')}\n`, 2],
      ['include-only.rules', `include ${join(dir, 'typo.rules')}\n`, 1],
      ['bad-var.rules', 'ipvar X\nalert tcp any any -> any any (msg:"ok"; content:"a"; sid:1;)\n', 1],
    ] as const) {
      const rules = join(dir, name);
      writeFileSync(rules, text);
      out = '';
      expect(await main(['node', 'honeywall', 'compile', rules, '--out', join(dir, 'l.hwm')]), name).toBe(1);
      expect(out.split('\n')[0], name).toMatch(new RegExp(`^${rules}:${line}:1: error (include-not-found|bad-variable): `));
      out = '';
      expect(await main(['node', 'honeywall', 'compile', rules, '--out', join(dir, 'l.hwm'), '--report', 'json']), name).toBe(1);
      expect(JSON.parse(out).failures, name).toEqual([expect.objectContaining({ sid: null, file: rules, line, column: 1 })]);
    }
  });
  it('usage errors exit 2 with one line', async () => {
    expect(await main(['node', 'honeywall', 'compile', join(dir, 'nope.rules'), '--out', join(dir, 'x')])).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});

describe('artifact', () => {
  it('round-trips: the loaded matcher decides as the compiled one', async () => {
    const r = compileText(
      'alert tcp any any -> any 80 (content:"abc"; nocase; content:"d"; distance:0; sid:1;)\nalert tcp 10.0.0.0/8 any -> any any (dsize:3; sid:2;)\n',
    );
    const path = join(dir, 'rt.hwm');
    await writeArtifact(path, r.plan);
    const a = readArtifact(path);
    expect([0, 1].map((i) => a.table.get(i).sid)).toEqual([1, 2]);
    expect(a.table.get(0)).toEqual(r.plan.rules[0]);
    const loaded = new Matcher(a, undefined, { checksumMode: 'none' });
    const fresh = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    for (const p of ['xABCd', 'abc', 'zzz', 'abd']) {
      const pk = tcpPacket(p);
      expect(loaded.inspect(itemOf(pk)).map((e) => e.rule.sid)).toEqual(fresh.inspect(itemOf(pk)).map((e) => e.rule.sid));
    }
  });
  it('rejects files that are not artifacts, or of another version', async () => {
    const bad = join(dir, 'bad.hwm');
    writeFileSync(bad, 'hello');
    expect(() => readArtifact(bad)).toThrow(/not a honeywall matcher/);
    const r = compileText('alert tcp any any -> any any (sid:1;)\n');
    await writeArtifact(bad, r.plan);
    const b = readFileSync(bad);
    b.writeUInt32LE(99, 8);
    writeFileSync(bad, b);
    expect(() => readArtifact(bad)).toThrow(/version 99/);
  });
});

describe('artifact file', () => {
  // readArtifact maps the file (native/src/honeywall_map.c) and unpacks rules as they are first needed
  it('is replaced, not rewritten in place: a matcher loaded before a new compile to its path still reads its own rules', async () => {
    const path = join(dir, 'replaced.hwm');
    await writeArtifact(path, compileText('alert tcp any any -> any 80 (msg:"first"; content:"abcd"; sid:1;)\n').plan);
    const before = readArtifact(path);
    // (the same layout, other bytes: written in place, the old mapping would read these)
    await writeArtifact(path, compileText('alert tcp any any -> any 80 (msg:"other"; content:"wxyz"; sid:2;)\n').plan);
    expect(before.table.get(0)).toMatchObject({ sid: 1, msg: 'first' });
    expect(readArtifact(path).table.get(0)).toMatchObject({ sid: 2, msg: 'other' });
    // no temporary file is left beside it
    expect(readdirSync(dir).filter((f) => f.includes('replaced.hwm'))).toEqual(['replaced.hwm']);
  });
  it('a link to a matcher has its target replaced; a device is written to, not replaced', async () => {
    const target = join(dir, 'target.hwm');
    const link = join(dir, 'link.hwm');
    const plan = compileText('alert tcp any any -> any 80 (content:"abcd"; sid:3;)\n').plan;
    await writeArtifact(target, plan);
    symlinkSync(target, link);
    await writeArtifact(link, plan);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readArtifact(target).table.get(0).sid).toBe(3);
    await writeArtifact('/dev/null', plan);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
  it('is read from a pipe too; a directory, a missing or empty file are refused with the path', async () => {
    const path = join(dir, 'piped.hwm');
    await writeArtifact(path, compileText('alert tcp any any -> any 80 (content:"abcd"; sid:4;)\n').plan);
    const fifo = join(dir, 'matcher.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', path, fifo]);
    const done = new Promise((resolve) => writer.on('close', resolve));
    expect(readArtifact(fifo).table.get(0).sid).toBe(4);
    await done;
    expect(() => readArtifact(dir)).toThrow(`cannot read matcher ${dir}: EISDIR`);
    expect(() => readArtifact(join(dir, 'absent.hwm'))).toThrow(`cannot read matcher ${join(dir, 'absent.hwm')}: ENOENT`);
    // (a NUL would have the mapping open the path before it: refused, as Node's fs refuses it)
    expect(() => readArtifact(`${path}\0.x`)).toThrow(/cannot read matcher .*: EINVAL/);
    const empty = join(dir, 'empty.hwm');
    writeFileSync(empty, '');
    expect(() => readArtifact(empty)).toThrow(`${empty} is not a honeywall matcher artifact`);
  });
});

describe('output formats', () => {
  const r = compileText('alert tcp any any -> any any (msg:"M"; content:"x"; classtype:bad-unknown; sid:9; rev:3;)\n');
  const pk = tcpPacket('x');
  pk.tsSec = 1_600_000_000;
  pk.tsUsec = 42;
  const rec = alertOf(new Matcher(r.plan).inspect(itemOf(pk))[0]!);
  it('fast: Snort 2.9 alert_fast layout (two spaces before [**])', () => {
    expect(formatFastAlert(rec, true)).toBe(
      '09/13-12:26:40.000042  [**] [1:9:3] M [**] [Classification: Potentially Bad Traffic] [Priority: 2] {TCP} 10.0.0.1:40000 -> 192.168.1.2:80',
    );
  });
  it("fast: a rule's msg and classification reach the line without a control character, one stand-in for each", () => {
    const hostile = { ...rec, msg: 'a\x1b[2Jb\nc\u202ed\x9be', classification: 'x\ry' };
    const line = formatFastAlert(hostile, true);
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(line).toContain('] a\u241b[2Jb\u240ac\ufffdd\ufffde [**] [Classification: x\u240dy] ');
    // text without one is left as it is
    expect(formatFastAlert(rec, true)).toContain('] M [**] [Classification: Potentially Bad Traffic] ');
  });
  it('eve: one JSON object with the alert fields', () => {
    const j = JSON.parse(formatEveAlert(rec));
    expect(j).toMatchObject({ event_type: 'alert', src_ip: '10.0.0.1', src_port: 40000, dest_ip: '192.168.1.2', dest_port: 80, proto: 'TCP' });
    expect(j.alert).toMatchObject({ gid: 1, signature_id: 9, rev: 3, signature: 'M', category: 'Potentially Bad Traffic', severity: 2 });
  });
});

const PCAP = join(svDir, 'tests/alert-testmyids-midstream/input.pcap');
describe.skipIf(!existsSync(PCAP))('honeywall replay', () => {
  it('a prefilter database that is no Hyperscan database is told with the file, exit 2, in one thread and two', async () => {
    const bad = join(dir, 'bad-db.hwm');
    await writeArtifact(bad, compileText('alert tcp any any -> any 80 (content:"abcd"; sid:1;)\n').plan);
    const b = readFileSync(bad);
    const jlen = b.readUInt32LE(12);
    const header = JSON.parse(b.toString('utf8', 16, 16 + jlen)) as { prefilter: { tables: { block: { offset: number; length: number } } }[] };
    const block = header.prefilter[0]!.tables.block;
    const dataStart = (16 + jlen + 7) & ~7;
    b.fill(0x5a, dataStart + block.offset, dataStart + block.offset + block.length);
    writeFileSync(bad, b);
    // (the command as a user runs it, dist/ built: a sharded replay's threads load their matcher from dist/)
    for (const workers of ['1', '2']) {
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, '../bin/honeywall.js'), 'replay', '--matcher', bad, '--workers', workers, PCAP],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${bad}: damaged prefilter database`);
      expect(r.stderr).not.toContain('internal error');
    }
  });

  it('--rules and --matcher give the same alerts; fast format', async () => {
    const art = join(dir, 'm2.hwm');
    await main(['node', 'honeywall', 'compile', RULES, '--out', art]);
    out = '';
    const c1 = await main(['node', 'honeywall', 'replay', PCAP, '--matcher', art, '--checksum-mode', 'none']);
    const viaMatcher = out;
    out = '';
    const c2 = await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES, '--checksum-mode', 'none']);
    expect(c1).toBe(0);
    expect(c2).toBe(1); // one rule of the file does not compile
    expect(out).toBe(viaMatcher);
    expect(out).toMatch(
      /^\d\d\/\d\d-\d\d:\d\d:\d\d\.\d{6} {2}\[\*\*\] \[1:2100498:7\] GPL ATTACK_RESPONSE id check returned root \[\*\*\] \[Classification: Potentially Bad Traffic\] \[Priority: 2\] \{TCP\} 82\.165\.177\.154:80 -> 10\.16\.1\.11:54186\n$/,
    );
  });
  it('--format json carries alerts and stats; both --rules and --matcher is a usage error', async () => {
    await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES, '--format', 'json', '--checksum-mode', 'none']);
    const j = JSON.parse(out);
    expect(j.alerts).toHaveLength(1);
    expect(j.stats.packets).toBeGreaterThan(0);
    expect(await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES, '--matcher', 'x'])).toBe(2);
  });
  it('--timing tells on stderr the time the packets took, with the packets and bytes of the json stats; the alerts stay as they are', async () => {
    const art = join(dir, 'm-timing.hwm');
    await main(['node', 'honeywall', 'compile', RULES, '--out', art]);
    out = '';
    err = '';
    await main(['node', 'honeywall', 'replay', PCAP, '--matcher', art, '--checksum-mode', 'none', '--format', 'json']);
    const { packets, bytes } = JSON.parse(out).stats as { packets: number; bytes: number };
    expect(err).toBe('');
    out = '';
    await main(['node', 'honeywall', 'replay', PCAP, '--matcher', art, '--checksum-mode', 'none']);
    const plain = out;
    out = '';
    await main(['node', 'honeywall', 'replay', PCAP, PCAP, '--matcher', art, '--checksum-mode', 'none', '--timing']);
    expect(out).toBe(plain + plain);
    // one line for the whole run (both captures), after them
    expect(err).toMatch(
      new RegExp(
        `^honeywall: packet processing took \\d+\\.\\d{3} s: ${2 * packets} packets, ${2 * bytes} bytes of frames( \\([\\d.]+ MB/s\\))?\\n$`,
      ),
    );
    // (the command as a user runs it, dist/ built: the threads' packets are summed the same way)
    const r = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../bin/honeywall.js'), 'replay', '--matcher', art, '--checksum-mode', 'none', '--workers', '2', '--timing', PCAP],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(plain);
    expect(r.stderr).toMatch(new RegExp(`^honeywall: packet processing took \\d+\\.\\d{3} s: ${packets} packets, ${bytes} bytes of frames`));
  });
});

describe('pcre limits: counted work, never time', () => {
  it("PCRE's match limit ends a catastrophic pattern: no match, counted for the rule, the same answer every time", () => {
    const r = compileText('alert tcp any any -> any any (pcre:"/^(a+)+$/"; sid:1;)\nalert tcp any any -> any any (pcre:"/(a)\\1b/"; sid:2;)\n');
    expect(r.failures).toEqual([]);
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    for (let round = 1; round <= 3; round++) {
      expect(m.inspect(itemOf(tcpPacket('a'.repeat(40) + 'c'))).map((e) => e.rule.sid)).toEqual([]);
      expect(m.limits.total.pcreMatchLimit).toBe(round);
      expect(m.limits.byRule.get('1:1')?.pcreMatchLimit).toBe(round);
    }
    expect(m.inspect(itemOf(tcpPacket('xaab'))).map((e) => e.rule.sid)).toEqual([2]);
    expect(PCRE_MATCH_LIMIT).toBe(3500);
  });
  it('the step budget bounds a call over many start positions (each under the match limit)', () => {
    // Every start position of a 14-a run costs a few hundred steps, under the match limit; 1,400 runs would cost
    // about 10^6 steps in one call. The item's budget stops it, whatever the machine's load.
    const r = compileText('alert tcp any any -> any any (pcre:"/(a|aa)+[bc]/"; sid:7;)\n');
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    const payload = ('a'.repeat(14) + 'z').repeat(1400);
    expect(m.inspect(itemOf(tcpPacket(payload))).map((e) => e.rule.sid)).toEqual([]);
    expect(m.limits.total.pcreSteps).toBe(1);
    expect(m.stats.pcreSteps).toBeLessThanOrEqual(PCRE_STEPS_BASE + PCRE_STEPS_PER_BYTE * payload.length);
    // a real match at the start is found before the budget matters
    expect(m.inspect(itemOf(tcpPacket('aab' + payload))).map((e) => e.rule.sid)).toEqual([7]);
  });
});
