/**
 * Policy files read unchanged by their names: suricata-update's enable/disable/drop/modify.conf (the examples of its
 * shipped sample files, uncommented) and pulledpork's *sid.conf, with file:line:column errors; flowbits setters
 * enabled as suricata-update does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convert } from '../src/transform/convert.js';
import { buildReport } from '../src/transform/report.js';
import { parsePolicy, PolicyError, readPolicyFiles, mergePolicy, emptyPolicy } from '../src/transform/policy.js';
import { plainKindOf, pythonReplacement, shlexSplit } from '../src/transform/policy-files.js';

// suricata-update's sample files (suricata/update/configs/*.conf), their example lines uncommented.
const SU_DISABLE = `# suricata-update - disable.conf

# Example of disabling a rule by signature ID (gid is optional).
1:2019401
2019401

# A rule revision can also be provided, but the GID must also be
# specified.
1:3321408:2

# Example of disabling a rule by regular expression.
# - All regular expression matches are case insensitive.
re:heartbleed
re:MS(0[7-9]|10)-\\d+

# Examples of disabling a group of rules.
group:emerging-icmp.rules
group:emerging-dos
group:emerging*

# Disable all rules with a metadata of "deployment perimeter". Note that metadata
# matches are case insensitive.
metadata: deployment perimeter
`;
const SU_DROP = `# suricata-update - drop.conf
#
# Rules matching specifiers in this file will be converted to drop rules.
#
# Examples:
#
1:2019401
2019401

re:heartbleed
re:MS(0[7-9]|10)-\\d+
`;
const SU_MODIFY = `# suricata-update - modify.conf

# Format: <sid> "<from>" "<to>"

# Example changing the seconds for rule 2019401 to 3600.
2019401 "seconds \\d+" "seconds 3600"

# Change all trojan-activity rules to drop. Its better to setup a
# drop.conf for this, but this does show the use of back references.
re:classtype:trojan-activity "(alert)(.*)" "drop\\\\2"

# For compatibility, most Oinkmaster modifysid lines should work as
# well.
modifysid * "^drop(.*)noalert(.*)" | "alert\${1}noalert\${2}"
`;

const R = {
  hb: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 443 (msg:"ET EXPLOIT HeartBleed probe"; content:"|18 03|"; classtype:attempted-recon; sid:2000001; rev:1;)',
  ms: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 445 (msg:"ET NETBIOS ms08-067 exploit"; content:"|ff|SMB"; classtype:attempted-admin; sid:2000002; rev:1;)',
  thr: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 25 (msg:"ET SCAN many"; content:"HELO"; threshold:type both, track by_src, count 5, seconds 60; classtype:attempted-recon; sid:2019401; rev:3;)',
  rev2: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"rev 2"; content:"x"; classtype:attempted-recon; sid:3321408; rev:2;)',
  rev3: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"rev 3"; content:"y"; classtype:attempted-recon; gid:1; sid:3321409; rev:3;)',
  meta: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"perimeter"; content:"z"; metadata:Deployment Perimeter, former_category X; classtype:attempted-recon; sid:2000003; rev:1;)',
  trojan: 'alert tcp $HOME_NET any -> $EXTERNAL_NET 6667 (msg:"ET TROJAN irc"; content:"NICK"; classtype:trojan-activity; sid:2000004; rev:1;)',
  sdropNoalert:
    'drop tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"noalert drop"; content:"q"; flowbits:set,foo; flowbits:noalert; classtype:attempted-recon; sid:2000005; rev:1;)',
  plain: 'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"plain"; content:"p"; classtype:attempted-recon; sid:2000006; rev:1;)',
};

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function setup(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hw-update-policy-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Converts the rule files of `dir` with the policy files named; returns each output line by sid and the report. */
function run(dir: string, rules: string[], policies: string[], resolveFlowbits = false) {
  const policy = readPolicyFiles(policies.map((p) => ({ path: join(dir, p), display: p })));
  const result = convert({
    paths: rules.map((r) => join(dir, r)),
    cwd: dir,
    testRules: false,
    policy,
    honeynet: false,
    literalAddresses: 'keep',
    dialect: 'snort',
    seed: 0,
    onBadRule: 'keep',
    resolveFlowbits,
  });
  const bySid = new Map<number, string>();
  for (const f of result.files) {
    if (f.kind !== 'rules') continue;
    for (const line of f.text.split('\n')) {
      const m = /sid:(\d+);/.exec(line);
      if (m) bySid.set(Number(m[1]), line);
    }
  }
  const report = buildReport(result, { policy: policy.file, honeynet: false, dialect: 'snort', seed: 0, literalAddresses: 'keep' });
  return { bySid, report, policy };
}

describe('file names say what a section-less policy file is', () => {
  it('suricata-update and pulledpork names, and prefixed copies', () => {
    expect(plainKindOf('disable.conf')).toBe('disable');
    expect(plainKindOf('disablesid.conf')).toBe('disable');
    expect(plainKindOf('enablesid.conf')).toBe('enable');
    expect(plainKindOf('dropsid.conf')).toBe('drop');
    expect(plainKindOf('modifysid.conf')).toBe('modify');
    expect(plainKindOf('local-drop.conf')).toBe('drop');
    expect(plainKindOf('honeywall-policy.conf')).toBeUndefined();
  });

  it('a plain disable.conf is read (it used to be refused with "line outside any section"); INI files keep their form', () => {
    const p = parsePolicy('1:2019401\n', 'disable.conf');
    expect(p.state).toHaveLength(1);
    expect(p.state[0]).toMatchObject({ type: 'disable', line: 1, matcher: { kind: 'sid', gid: 1, sid: 2019401 } });
    const ini = parsePolicy('[sids]\ndisable: 5\n', 'disable.conf');
    expect(ini.sids.get('5')?.type).toBe('disable');
    expect(() => parsePolicy('1:2019401\n', 'policy.conf')).toThrow(/policy\.conf:1:1: line outside any section .*disable\.conf/);
  });

  it('every problem has file:line:column and the offending text', () => {
    const cases: [string, string, RegExp][] = [
      ['disable.conf', '\n  re:(unclosed\n', /^disable\.conf:2:3: bad regular expression .*: '\(unclosed'$/],
      ['disablesid.conf', '1:1, 1:x2\n', /^disablesid\.conf:1:6: unknown matcher .*: '1:x2'$/],
      ['dropsid.conf', '1:20-1:10\n', /^dropsid\.conf:1:1: a sid range must go from low to high: '1:20-1:10'$/],
      ['enablesid.conf', 'web iis\n', /^enablesid\.conf:1:1: unknown matcher .*: 'web iis'$/],
      ['disablesid.conf', 'MS09-(008\n', /^disablesid\.conf:1:1: bad regular expression .*: 'MS09-\(008'$/],
      ['modify.conf', '2019401 "a"\n', /^modify\.conf:1:1: expected MATCHER "from" "to" \(2 words\)/],
      ['modify.conf', '\n\n2019401 "a "b"\n', /^modify\.conf:3:14: unterminated quoted string/],
      ['disable.conf', 'metadata: lonely\n', /^disable\.conf:1:1: metadata matcher is 'metadata: key value'/],
    ];
    for (const [file, text, re] of cases) {
      let err: unknown;
      try {
        parsePolicy(text, file);
      } catch (e) {
        err = e;
      }
      expect(err, `${file}: ${JSON.stringify(text)}`).toBeInstanceOf(PolicyError);
      expect((err as Error).message).toMatch(re);
    }
  });

  it('shlex quoting as suricata-update reads modify.conf, and Python/Perl back-references', () => {
    expect(shlexSplit('re:x "(alert)(.*)" "drop\\\\2"').words.map((w) => w.text)).toEqual(['re:x', '(alert)(.*)', 'drop\\2']);
    expect(shlexSplit('2020757 "\\|0d 0a\\|" "|ff ff|"').words.map((w) => w.text)).toEqual(['2020757', '\\|0d 0a\\|', '|ff ff|']);
    expect(pythonReplacement('drop\\2')).toBe('drop$2');
    expect(pythonReplacement('a\\g<1>${2}$')).toBe('a$1$2$$');
  });
});

describe("suricata-update's documented examples, applied", () => {
  it('disable.conf: sid, gid:sid, gid:sid:rev, re: (case-insensitive), group:, metadata: (case-insensitive)', () => {
    const dir = setup({
      'disable.conf': SU_DISABLE,
      'emerging-exploit.rules': [R.hb, R.ms, R.thr, R.rev2, R.rev3, R.meta, R.plain].join('\n') + '\n',
      'emerging-dos.rules': R.trojan.replace('sid:2000004', 'sid:2000104') + '\n',
      'other-icmp.rules': R.plain.replace('sid:2000006', 'sid:2000206') + '\n',
    });
    const { bySid, report } = run(dir, ['emerging-exploit.rules', 'emerging-dos.rules', 'other-icmp.rules'], ['disable.conf']);
    // group:emerging* disables both emerging files entirely; the other file is untouched.
    for (const sid of [2000001, 2000002, 2019401, 3321408, 3321409, 2000003, 2000006, 2000104])
      expect(bySid.get(sid), String(sid)).toMatch(/^# alert/);
    expect(bySid.get(2000206)).toMatch(/^alert/);
    const by = new Map(report.stateDisabled.map((r) => [r.sid, r.by]));
    expect(by.get(2019401)).toBe('disable.conf:4'); // the first matching line is named
    expect(by.get(3321408)).toBe('disable.conf:9');
    expect(by.get(2000001)).toBe('disable.conf:13'); // re:heartbleed matches "HeartBleed"
    expect(by.get(2000002)).toBe('disable.conf:14'); // re:MS(0[7-9]|10)-\d+ matches "ms08-067"
    expect(by.get(2000003)).toBe('disable.conf:19'); // group:emerging* (before the metadata line)
  });

  it('rev and metadata matchers on their own', () => {
    const dir = setup({
      'disable.conf': '1:3321408:2\n1:3321409:2\nmetadata: deployment perimeter\n',
      'x.rules': [R.rev2, R.rev3, R.meta, R.plain].join('\n') + '\n',
    });
    const { bySid } = run(dir, ['x.rules'], ['disable.conf']);
    expect(bySid.get(3321408)).toMatch(/^# alert/);
    expect(bySid.get(3321409)).toMatch(/^alert/); // rev 3, the line asks for rev 2
    expect(bySid.get(2000003)).toMatch(/^# alert/); // "Deployment Perimeter"
    expect(bySid.get(2000006)).toMatch(/^alert/);
  });

  it('drop.conf: drops enabled rules and leaves disabled ones disabled (suricata-update keeps the state)', () => {
    const dir = setup({ 'drop.conf': SU_DROP, 'x.rules': [R.hb, `# ${R.ms}`, R.thr, R.plain].join('\n') + '\n' });
    const { bySid, report } = run(dir, ['x.rules'], ['drop.conf']);
    expect(bySid.get(2000001)).toMatch(/^drop tcp/);
    expect(bySid.get(2019401)).toMatch(/^drop tcp/);
    expect(bySid.get(2000002)).toMatch(/^# alert/);
    expect(bySid.get(2000006)).toMatch(/^alert/);
    expect(report.byAction.drop).toBe(2);
  });

  it('enable.conf wins over disable.conf, then drop.conf applies', () => {
    const dir = setup({
      'disable.conf': 'group:x.rules\n',
      'enable.conf': '2000002\n',
      'drop.conf': 're:ms08\n',
      'x.rules': [R.hb, `# ${R.ms}`].join('\n') + '\n',
    });
    const { bySid, report } = run(dir, ['x.rules'], ['disable.conf', 'enable.conf', 'drop.conf']);
    expect(bySid.get(2000001)).toMatch(/^# alert/);
    expect(bySid.get(2000002)).toMatch(/^drop tcp/);
    expect(report.enabled).toEqual([{ file: 'x.rules', line: 2, sid: 2000002, by: 'enable.conf:1' }]);
  });

  it('modify.conf: seconds, back-references through shlex quoting, oinkmaster modifysid with ${1}', () => {
    const dir = setup({ 'modify.conf': SU_MODIFY, 'x.rules': [R.thr, R.trojan, R.sdropNoalert, R.plain].join('\n') + '\n' });
    const { bySid, report } = run(dir, ['x.rules'], ['modify.conf']);
    expect(bySid.get(2019401)).toContain('seconds 3600;');
    // "(alert)(.*)" -> "drop\2": the action becomes drop, the rest kept.
    expect(bySid.get(2000004)).toBe(R.trojan.replace(/^alert/, 'drop'));
    // "^drop(.*)noalert(.*)" -> "alert${1}noalert${2}"
    expect(bySid.get(2000005)).toBe(R.sdropNoalert.replace(/^drop/, 'alert'));
    expect(bySid.get(2000006)).toBe(R.plain);
    expect(report.modified.map((m) => m.sid).sort()).toEqual([2000004, 2000005, 2019401]);
  });

  it("pulledpork's files: lists, ranges, pcre:, trailing comments, modifysid.conf", () => {
    const dir = setup({
      'disablesid.conf': '1:2000001,1:2000002 # two at once\n1:2000003-1:2000004\n',
      'enablesid.conf': 'pcre:PLAIN\n',
      'dropsid.conf': '1:2000006\n',
      'modifysid.conf': '1:2000006 "content:\\"p\\"" "content:\\"pp\\""\n',
      'x.rules': [R.hb, R.ms, R.meta, R.trojan, `# ${R.plain}`, R.thr].join('\n') + '\n',
    });
    const { bySid } = run(dir, ['x.rules'], ['disablesid.conf', 'enablesid.conf', 'dropsid.conf', 'modifysid.conf']);
    for (const sid of [2000001, 2000002, 2000003, 2000004]) expect(bySid.get(sid), String(sid)).toMatch(/^# alert/);
    expect(bySid.get(2000006)).toBe(R.plain.replace(/^alert/, 'drop').replace('content:"p"', 'content:"pp"'));
    expect(bySid.get(2019401)).toBe(R.thr);
  });

  it("pulledpork's categories (the rule file's name) and MS bulletins (the rule text), as pulledpork.pl reads them", () => {
    const dir = setup({
      'disablesid.conf': 'emerging-dos # the whole file\n',
      'dropsid.conf': 'MS08-\\d+\n',
      'emerging-exploit.rules': [R.hb, R.ms.replace('MS', 'ms')].join('\n') + '\n',
      'emerging-dos.rules': R.trojan + '\n',
    });
    const { bySid } = run(dir, ['emerging-exploit.rules', 'emerging-dos.rules'], ['disablesid.conf', 'dropsid.conf']);
    expect(bySid.get(2000004)).toMatch(/^# alert/);
    expect(bySid.get(2000002)).toMatch(/^drop /);
    expect(bySid.get(2000001)).toMatch(/^alert /);
  });

  it('several files merge with honeywall INI policies', () => {
    const p = mergePolicy(emptyPolicy(), parsePolicy('[classifications]\ndrop: trojan-activity\n', 'hw.conf'));
    mergePolicy(p, parsePolicy('2000004\n', 'disable.conf'));
    expect(p.classifications.get('trojan-activity')?.type).toBe('drop');
    expect(p.state).toHaveLength(1);
  });
});

describe('flowbits resolved as suricata-update does', () => {
  const setter =
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"setter"; content:"login"; flowbits:set,ET.login; flowbits:noalert; classtype:attempted-recon; sid:2100001; rev:1;)';
  const setter2 =
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"setter2"; content:"sess"; flowbits:isset,ET.pre; flowbits:set,ET.login; classtype:attempted-recon; sid:2100002; rev:1;)';
  const pre =
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"pre"; content:"hello"; flowbits:set,ET.pre; classtype:attempted-recon; sid:2100003; rev:1;)';
  const checker =
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"checker"; content:"admin"; flowbits:isset,ET.login; classtype:attempted-admin; sid:2100004; rev:1;)';
  const unrelated =
    'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"unrelated"; content:"u"; flowbits:set,ET.other; classtype:attempted-recon; sid:2100005; rev:1;)';

  it('a disabled setter an enabled rule checks is enabled (noalert added when missing), transitively; reported', () => {
    const dir = setup({
      'disable.conf': '2100002\n2100003\n',
      'x.rules': [`# ${setter}`, setter2, pre, checker, `# ${unrelated}`].join('\n') + '\n',
    });
    const off = run(dir, ['x.rules'], ['disable.conf'], false);
    expect(off.bySid.get(2100001)).toMatch(/^# alert/);
    expect(off.bySid.get(2100002)).toMatch(/^# alert/);
    const on = run(dir, ['x.rules'], ['disable.conf'], true);
    // written disabled, already noalert: enabled as it is
    expect(on.bySid.get(2100001)).toBe(setter);
    // disabled by disable.conf, needed: enabled with flowbits:noalert; and the bit it checks makes 2100003 needed too
    expect(on.bySid.get(2100002)).toBe(setter2.replace('rev:1;)', 'rev:1; flowbits:noalert;)'));
    expect(on.bySid.get(2100003)).toBe(pre.replace('rev:1;)', 'rev:1; flowbits:noalert;)'));
    expect(on.bySid.get(2100005)).toMatch(/^# alert/);
    const fb = new Map(on.report.flowbitsEnabled.map((r) => [r.sid, r]));
    expect([...fb.keys()].sort()).toEqual([2100001, 2100002, 2100003]);
    expect(fb.get(2100001)).toMatchObject({ bits: ['ET.login'], checkedBy: ['1:2100004'], noalertAdded: false });
    expect(fb.get(2100003)).toMatchObject({ bits: ['ET.pre'], checkedBy: ['1:2100002'], noalertAdded: true });
  });

  it('a needed setter is never given a blocking action (it has noalert now)', () => {
    const dir = setup({
      'drop.conf': 'group:x.rules\n',
      'x.rules':
        [`# ${pre}`, pre.replace('msg:"pre"', 'msg:"chk"').replace('flowbits:set', 'flowbits:isset').replace('2100003', '2100013')].join('\n') + '\n',
    });
    const { bySid } = run(dir, ['x.rules'], ['drop.conf'], true);
    expect(bySid.get(2100003)).toMatch(/^alert .*flowbits:noalert;\)$/);
    expect(bySid.get(2100013)).toMatch(/^drop /);
  });
});
