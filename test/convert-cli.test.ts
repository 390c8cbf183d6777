import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRules } from '../src/parser/parse.js';
import { repoRoot } from './helpers/corpus.js';
import { inlineLoadViolations, realErrors } from './helpers/convert.js';

// The CLI as users run it: the built binary (`npm test` builds first).
const bin = join(repoRoot, 'bin', 'honeywall.js');
const run = (args: string[], cwd: string) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'hw-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const A_RULES = `# a.rules
alert tcp $EXTERNAL_NET any -> $HOME_NET 23 (msg:"telnet login"; content:"login"; nocase; classtype:suspicious-login; sid:1001; rev:1;)

alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"web"; content:"/etc/passwd"; http_uri; classtype:web-application-attack; sid:1002; rev:1;)
alert udp $EXTERNAL_NET any -> $HOME_NET 111 (msg:"rpc"; content:"|00 01 86 A0|"; offset:12; depth:4; classtype:rpc-portmap-decode; sid:1003; rev:1;)
alert icmp $EXTERNAL_NET any -> $HOME_NET any (msg:"ping"; classtype:misc-activity; sid:1289; rev:1;)
alert tcp $EXTERNAL_NET any -> $HOME_NET 21 (msg:"bad"; content:"abc"; depth:1; sid:1004; rev:1;)
`;
const B_RULES = `alert tcp $EXTERNAL_NET any -> $HOME_NET 25 (msg:"smtp"; content:"EXPN"; classtype:attempted-admin; sid:2001; rev:1;)
# alert tcp $EXTERNAL_NET any -> $HOME_NET 25 (msg:"off"; sid:2002; rev:1;)
`;

function setup(): string {
  const dir = join(tmp, 'in');
  mkdirSync(join(dir, 'rules'), { recursive: true });
  writeFileSync(join(dir, 'rules', 'a.rules'), A_RULES);
  writeFileSync(join(dir, 'rules', 'b.rules'), B_RULES);
  writeFileSync(
    join(dir, 'snort.conf'),
    'var RULE_PATH rules\nipvar HOME_NET 10.0.0.0/8\ninclude classification.config\ninclude $RULE_PATH/a.rules\n# include $RULE_PATH/b.rules\ninclude $RULE_PATH/missing.rules\n',
  );
  return dir;
}

describe('honeywall convert (CLI)', () => {
  const dir = setup();

  it('follows snort.conf includes (also "# include"), writes one file per input and a rewritten snort.conf', () => {
    const out = join(tmp, 'out1');
    const r = run(['convert', 'snort.conf', '--honeynet', '--out', out, '--report', 'json'], dir);
    expect(r.err).toBe('');
    // exit 1: a bad rule (sid 1004) was skipped and an include is missing
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.out);
    // converted: 1001 drop, 1002 drop, 1003 replace, 1289 alert (addresses swapped), 2001 replace
    expect(rep.totals).toEqual({ rules: 7, converted: 5, unchanged: 0, disabledInInput: 1, skipped: 1 });
    expect(rep.skipped).toEqual([
      { file: join('rules', 'a.rules'), line: 7, sid: 1004, reason: expect.stringMatching(/^depth-shorter-than-content: /) },
    ]);
    expect(rep.missingIncludes).toEqual([
      { file: 'snort.conf', line: 6, include: '$RULE_PATH/missing.rules', resolved: join(dir, 'rules', 'missing.rules') },
    ]);
    expect(rep.byAction).toEqual({ drop: 2, alert: 3 });
    expect(rep.replaced).toEqual({ rules: 2, contents: 2 });

    const a = readFileSync(join(out, 'a.rules'), 'utf8').split('\n');
    expect(a[0]).toBe('# a.rules');
    expect(a[1]).toBe(
      'drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"telnet login"; content:"login"; nocase; classtype:suspicious-login; sid:1001; rev:1;)',
    );
    expect(a[3]).toBe(
      'drop tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"web"; content:"/etc/passwd"; http_uri; classtype:web-application-attack; sid:1002; rev:1;)',
    );
    expect(a[4]).toMatch(
      /^alert udp \$HOME_NET any -> \$EXTERNAL_NET 111 \(msg:"rpc"; content:"\|00 01 86 A0\|"; offset:12; depth:4; replace:"\|[0-9A-F]{2}( [0-9A-F]{2}){3}\|"; classtype:rpc-portmap-decode;/,
    );
    expect(a[5]).toBe('alert icmp $HOME_NET any -> $EXTERNAL_NET any (msg:"ping"; classtype:misc-activity; sid:1289; rev:1;)');
    expect(a[6]).toBe(A_RULES.split('\n')[6]);
    const b = readFileSync(join(out, 'b.rules'), 'utf8');
    expect(b.split('\n')[1]).toBe(B_RULES.split('\n')[1]);

    const conf = readFileSync(join(out, 'snort.conf'), 'utf8');
    expect(conf).toContain(`\ninclude ${join(out, 'a.rules')}\n`);
    expect(conf).toContain(`\n# include ${join(out, 'b.rules')}\n`);
    expect(conf).toContain('\ninclude classification.config\n');
    expect(conf).toContain('\ninclude $RULE_PATH/missing.rules\n');

    for (const f of ['a.rules', 'b.rules']) {
      const p = parseRules(readFileSync(join(out, f), 'utf8'), { file: f });
      expect(inlineLoadViolations(p.file)).toEqual([]);
    }
  });

  it('is deterministic for a seed, and --seed changes the replace bytes', () => {
    const text = (seed: string) => {
      const out = join(tmp, `seed-${seed}-${Math.random().toString(36).slice(2)}`);
      run(['convert', 'rules/a.rules', '--out', out, '--seed', seed], dir);
      return readFileSync(join(out, 'a.rules'), 'utf8');
    };
    expect(text('5')).toBe(text('5'));
    expect(text('5')).not.toBe(text('6'));
  });

  it('--test-rules adds the seed paper test rules, enabled, and includes them from the rewritten snort.conf', () => {
    const out = join(tmp, 'out-test');
    const r = run(['convert', '--conf', 'snort.conf', '--test-rules', '--out', out], dir);
    expect(r.code).toBe(1);
    const t = parseRules(readFileSync(join(out, 'honeynet-test.rules'), 'utf8'), { file: 'honeynet-test.rules' });
    const rules = t.file.nodes.filter((n) => n.kind === 'rule');
    expect(rules.map((n) => n.kind === 'rule' && `${n.disabled} ${n.header.action.text} ${n.msg}`)).toEqual([
      'false drop Dropping Telnet connection',
      'false alert Modifying HTTP GET command',
    ]);
    expect(realErrors(t.diagnostics).errors).toEqual([]);
    expect(inlineLoadViolations(t.file)).toEqual([]);
    expect(readFileSync(join(out, 'snort.conf'), 'utf8')).toContain(`\ninclude ${join(out, 'honeynet-test.rules')}\n`);
    // Off by default
    const out2 = join(tmp, 'out-notest');
    run(['convert', 'rules/a.rules', '--out', out2], dir);
    expect(existsSync(join(out2, 'honeynet-test.rules'))).toBe(false);
  });

  it('--dialect suricata writes drop + noalert for sdrop', () => {
    writeFileSync(join(tmp, 'sdrop.conf'), '[sids]\nsdrop: 1001\n');
    const out = join(tmp, 'out-suri');
    const r = run(['convert', 'rules/a.rules', '--policy', join(tmp, 'sdrop.conf'), '--dialect', 'suricata', '--out', out, '--report', 'json'], dir);
    expect(JSON.parse(r.out).dialectChanges).toEqual({ 'sdrop -> drop + noalert': 1 });
    expect(readFileSync(join(out, 'a.rules'), 'utf8').split('\n')[1]).toBe(
      'drop tcp $EXTERNAL_NET any -> $HOME_NET 23 (msg:"telnet login"; content:"login"; nocase; classtype:suspicious-login; sid:1001; rev:1; noalert;)',
    );
  });

  it('exit 0 when nothing is skipped; the text report names the deciding policy lines', () => {
    writeFileSync(join(tmp, 'ok.rules'), B_RULES);
    const r = run(['convert', join(tmp, 'ok.rules')], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rules: 2 \(1 converted, 0 unchanged, 1 disabled in input, 0 skipped\)/);
    expect(r.out).toMatch(/ 1 {2}rulesets\/honeywall-policy\.conf:\d+ {2}replace_or_drop: attempted-admin/);
    expect(r.out).toContain('(dry run: no --out, nothing written)');
  });

  it('usage errors: exit 2, one line, file:line:column for policy errors', () => {
    writeFileSync(join(tmp, 'bad.conf'), '[sids]\nexplode: 1\n');
    const r = run(['convert', 'rules/a.rules', '--policy', join(tmp, 'bad.conf')], dir);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `honeywall: policy: ${join(tmp, 'bad.conf')}:2:1: unknown type (expected one of alert, log, pass, disable, drop, sdrop, reject, replace, replace_or_drop): 'explode'\n`,
    );
    const m = run(['convert', 'nope.rules'], dir);
    expect(m.code).toBe(2);
    expect(m.err).toBe('honeywall: convert: nope.rules does not exist\n');
    const s = run(['convert', 'rules/a.rules', '--seed', 'x'], dir);
    expect(s.code).toBe(2);
  });
});
