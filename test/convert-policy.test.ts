import { describe, expect, it } from 'vitest';
import type { RuleNode } from '../src/ast.js';
import { parseRules } from '../src/parser/parse.js';
import { printNode } from '../src/parser/print.js';
import { decide } from '../src/transform/decide.js';
import { parsePolicy, PolicyError, readPolicyFile } from '../src/transform/policy.js';
import { convertRule, isFlowbitsNoalert, type ConvertRuleOptions } from '../src/transform/convert-rule.js';
import { DEFAULT_POLICY_PATH } from '../src/transform/convert.js';
import { classifyAddresses, reverseRule } from '../src/transform/reverse.js';
import { contentSlots, replacementBytes } from '../src/transform/replace.js';

function rule(text: string): RuleNode {
  const r = parseRules(text + '\n', { file: 't.rules' });
  const n = r.file.nodes.find((x) => x.kind === 'rule');
  if (n?.kind !== 'rule') throw new Error(`not a rule: ${text}`);
  return n;
}

// One policy exercising every stage; the table below names the line expected to decide.
const POLICY = `# test policy
[classifications]
drop: attempted-admin            # line 3
replace: bad-unknown             # line 4
sdrop: attempted-admin           # line 5: same classtype again, later line wins
[files]
reject: exploit                  # line 7
alert: web.rules                 # line 8
[sids]
pass: 100, 200                   # line 10
log: 3:300                       # line 11
disable: 200                     # line 12: later line wins for sid 200
[rules]
alert: re:MAGIC                  # line 14
drop: group:web*                 # line 15
sdrop: metadata: policy ips      # line 16
reject: classtype:bad-unknown    # line 17
`;

describe('policy: snortconfig precedence (classifications, then files, then sids, then [rules]; last wins)', () => {
  const policy = parsePolicy(POLICY, 'p.conf');
  const table: { name: string; file: string; rule: string; line: number | undefined; type?: string }[] = [
    { name: 'nothing matches', file: 'misc.rules', rule: 'alert tcp any any -> any any (classtype:misc-activity; sid:1;)', line: undefined },
    {
      name: 'classification only; the later line for the same classtype wins',
      file: 'misc.rules',
      rule: 'alert tcp any any -> any any (classtype:attempted-admin; sid:1;)',
      line: 5,
      type: 'sdrop',
    },
    {
      name: 'file beats classification',
      file: 'exploit.rules',
      rule: 'alert tcp any any -> any any (classtype:attempted-admin; sid:1;)',
      line: 7,
      type: 'reject',
    },
    { name: 'file written with .rules matches', file: 'web.rules', rule: 'alert tcp any any -> any any (sid:1;)', line: 15, type: 'drop' },
    {
      name: 'sid beats file and classification',
      file: 'exploit.rules',
      rule: 'alert tcp any any -> any any (classtype:attempted-admin; sid:100;)',
      line: 10,
      type: 'pass',
    },
    { name: 'sid in two lines: the later wins', file: 'misc.rules', rule: 'alert tcp any any -> any any (sid:200;)', line: 12, type: 'disable' },
    { name: 'gid:sid matches its gid', file: 'misc.rules', rule: 'alert tcp any any -> any any (gid:3; sid:300;)', line: 11, type: 'log' },
    { name: 'gid:sid does not match another gid', file: 'misc.rules', rule: 'alert tcp any any -> any any (sid:300;)', line: undefined },
    { name: '[rules] re: beats sids', file: 'misc.rules', rule: 'alert tcp any any -> any any (msg:"MAGIC"; sid:100;)', line: 14, type: 'alert' },
    {
      name: '[rules] later matcher wins over earlier one',
      file: 'web-x.rules',
      rule: 'alert tcp any any -> any any (msg:"MAGIC"; sid:1;)',
      line: 15,
      type: 'drop',
    },
    {
      name: '[rules] metadata',
      file: 'misc.rules',
      rule: 'alert tcp any any -> any any (metadata:created_at 2010, policy ips; sid:1;)',
      line: 16,
      type: 'sdrop',
    },
    {
      name: '[rules] classtype beats [classifications]',
      file: 'misc.rules',
      rule: 'alert tcp any any -> any any (classtype:bad-unknown; sid:1;)',
      line: 17,
      type: 'reject',
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const d = decide(rule(c.rule), { path: `rules/${c.file}`, basename: c.file }, policy);
      expect(d?.line).toBe(c.line);
      if (c.type) expect(d?.type).toBe(c.type);
    });
  }
});

describe('policy file errors: file:line:column and the offending text', () => {
  const bad: [string, RegExp][] = [
    ['[sids]\nexplode: 1\n', /^p\.conf:2:1: unknown type .*: 'explode'$/],
    ['[sids]\ndrop: 12, x7\n', /^p\.conf:2:11: not a sid .*: 'x7'$/],
    ['[weird]\n', /^p\.conf:1:1: unknown section .*'\[weird\]'$/],
    ['drop: 1\n', /^p\.conf:1:1: line outside any section/],
    ['[rules]\ndrop: re:(\n', /^p\.conf:2:7: bad regular expression/],
    ['[rules]\ndrop: colour:red\n', /^p\.conf:2:7: unknown matcher/],
    ['[files]\ndrop\n', /^p\.conf:2:1: expected 'type: value, value'/],
    ['[modify]\n1 "a"\n', /^p\.conf:2:\d+: expected a quoted replacement/],
  ];
  for (const [text, re] of bad) {
    it(JSON.stringify(text), () => {
      let err: unknown;
      try {
        parsePolicy(text, 'p.conf');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PolicyError);
      expect((err as Error).message).toMatch(re);
    });
  }

  it('reads the bundled Honeywall policy (HONEYWALL.md section 1, as data)', () => {
    const p = readPolicyFile(DEFAULT_POLICY_PATH);
    expect([...p.files].map(([k, v]) => `${k}=${v.type}`)).toEqual([
      'shellcode=replace_or_drop',
      'exploit=replace_or_drop',
      'rpc=replace_or_drop',
      'attack-responses=drop',
      'tftp=alert',
    ]);
    expect(p.classifications.size).toBe(10 + 5 + 1);
    expect(p.classifications.get('trojan-activity')?.type).toBe('alert');
    expect(p.classifications.get('web-application-attack')?.type).toBe('drop');
    expect([...p.sids.keys()].sort()).toEqual(['1289', '1441', '1442', '1443', '1444', '518', '519', '520']);
    expect(p.rules).toEqual([]);
  });
});

const baseOpts = (policyText: string, extra: Partial<ConvertRuleOptions> = {}): ConvertRuleOptions => ({
  policy: parsePolicy(policyText, 'p.conf'),
  honeynet: false,
  literalAddresses: 'keep',
  dialect: 'snort',
  seed: 7,
  onBadRule: 'keep',
  ...extra,
});

function run(text: string, policyText: string, extra: Partial<ConvertRuleOptions> = {}) {
  const n = rule(text);
  const r = convertRule(
    { rule: n, text: text + '\n', line: 1, error: undefined },
    { path: 'x.rules', basename: 'x.rules' },
    baseOpts(policyText, extra),
  );
  n.edits = r.edits;
  return { out: printNode(n).trimEnd(), outcome: r.outcome };
}

describe('rule conversion', () => {
  it('drop changes only the action word', () => {
    const { out } = run('alert tcp $EXTERNAL_NET any -> $HOME_NET 23 (msg:"x";  sid:5; )', '[sids]\ndrop: 5\n');
    expect(out).toBe('drop tcp $EXTERNAL_NET any -> $HOME_NET 23 (msg:"x";  sid:5; )');
  });

  it('disable writes the rule behind "# " and it still parses as a disabled rule', () => {
    const { out, outcome } = run('alert tcp any any -> any any (sid:5;)', '[sids]\ndisable: 5\n');
    expect(out).toBe('# alert tcp any any -> any any (sid:5;)');
    expect(outcome.result).toBe('disabled');
    expect(rule(out).disabled).toBe(true);
  });

  it('replace goes after the content and its modifiers, same length, only on rewritable contents', () => {
    const text =
      'alert tcp any any -> any any (content:"GET"; nocase; depth:3; content:!"x"; uricontent:"/a"; content:"abc"; http_header; content:"zz"; fast_pattern:only; content:"|00 01|"; sid:9;)';
    const { out, outcome } = run(text, '[sids]\nreplace: 9\n');
    expect(outcome.replaced).toBe(2);
    const back = rule(out);
    const slots = contentSlots(back.options);
    const replaced = slots.filter((s) => s.args?.mods.replace);
    expect(replaced.map((s) => s.contentIndex)).toEqual([0, 5]);
    for (const s of replaced) expect(s.args!.mods.replace!.length).toBe(s.args!.bytes.length);
    // position: right after depth:3 (the last modifier of the first content)
    expect(out).toMatch(/content:"GET"; nocase; depth:3; replace:"\|[0-9A-F]{2} [0-9A-F]{2} [0-9A-F]{2}\|"; content:!"x";/);
    expect(out.startsWith('alert ')).toBe(true);
  });

  it('replacement bytes differ from the original at every position, and from the other case for nocase letters', () => {
    const orig = Uint8Array.from(Buffer.from('GETabcXYZ09'));
    for (let seed = 0; seed < 200; seed++) {
      const b = replacementBytes(seed, 1, 1000 + seed, 0, orig, true);
      expect(b.length).toBe(orig.length);
      for (let i = 0; i < orig.length; i++) {
        expect(b[i]).not.toBe(orig[i]);
        expect(String.fromCharCode(b[i]!).toLowerCase()).not.toBe(String.fromCharCode(orig[i]!).toLowerCase());
      }
    }
    expect(replacementBytes(1, 1, 5, 0, orig, false)).toEqual(replacementBytes(1, 1, 5, 0, orig, false));
    expect(replacementBytes(1, 1, 5, 0, orig, false)).not.toEqual(replacementBytes(2, 1, 5, 0, orig, false));
  });

  it('replace with nothing rewritable keeps the action and says so; replace_or_drop drops', () => {
    const text = 'alert tcp any any -> any any (uricontent:"/x"; sid:9;)';
    const a = run(text, '[sids]\nreplace: 9\n');
    expect(a.out).toBe(text);
    expect(a.outcome.notes).toContainEqual({ kind: 'replace-nothing', wanted: 'replace' });
    const b = run(text, '[sids]\nreplace_or_drop: 9\n');
    expect(b.out).toBe(text.replace(/^alert/, 'drop'));
    expect(b.outcome.notes).toContainEqual({ kind: 'replace-fallback-drop' });
  });

  it('a flowbits:noalert rule keeps a non-blocking action whatever the policy says (raw value, no flowbits args needed)', () => {
    const text = 'alert tcp any any -> any any (content:"abc"; flowbits:set,x; flowbits:noalert; sid:9;)';
    const n = rule(text);
    expect(isFlowbitsNoalert(n)).toBe(true);
    // Until the flowbits keyword exists the parser reports it as unknown; the guard must work on the raw value.
    n.invalid = false;
    for (const type of ['drop', 'sdrop', 'reject', 'replace', 'replace_or_drop']) {
      const r = convertRule(
        { rule: n, text: text + '\n', line: 1, error: undefined },
        { path: 'x', basename: 'x.rules' },
        baseOpts(`[sids]\n${type}: 9\n`),
      );
      expect(r.edits).toEqual([]);
      expect(r.outcome.notes).toContainEqual({ kind: 'flowbits-noalert', wanted: type });
    }
  });

  it('an invalid rule is skipped with its reason and passed through, or disabled by option', () => {
    const text = 'alert tcp any any -> any any (content:"abc"; depth:1; sid:9;)';
    const n = rule(text);
    expect(n.invalid).toBe(true);
    const a = run(text, '[sids]\ndrop: 9\n');
    expect(a.outcome.status).toBe('skipped');
    expect(a.out).toBe(text);
    const b = run(text, '[sids]\ndrop: 9\n', { onBadRule: 'disable' });
    expect(b.out).toBe('# ' + text);
  });

  it('modify edits the rule before the decision (suricata-update and oinkmaster forms)', () => {
    const p =
      '[modify]\n9 "classtype:[a-z-]+" "classtype:attempted-admin"\nmodifysid 9 "msg:\\"(\\w+)" | "msg:\\"OUT ${1}"\n[classifications]\ndrop: attempted-admin\n';
    const { out, outcome } = run('alert tcp any any -> any any (msg:"hello"; classtype:misc-activity; sid:9;)', p);
    expect(out).toBe('drop tcp any any -> any any (msg:"OUT hello"; classtype:attempted-admin; sid:9;)');
    expect(outcome.notes[0]).toEqual({ kind: 'modified', by: ['p.conf:2', 'p.conf:3'] });
  });

  it('suricata dialect: sdrop becomes drop + noalert, log becomes alert', () => {
    const a = run('alert tcp any any -> any any (sid:9;)', '[sids]\nsdrop: 9\n', { dialect: 'suricata' });
    expect(a.out).toBe('drop tcp any any -> any any (sid:9; noalert;)');
    const b = run('alert tcp any any -> any any (sid:9)', '[sids]\nlog: 9\n', { dialect: 'suricata' });
    expect(b.out).toBe('alert tcp any any -> any any (sid:9)');
    const c = run('alert tcp any any -> any any (sid:9)', '[sids]\nsdrop: 9\n', { dialect: 'suricata' });
    expect(c.out).toBe('drop tcp any any -> any any (sid:9; noalert;)');
  });
});

describe('direction reversal', () => {
  const cases: [string, string, string][] = [
    ['$EXTERNAL_NET any -> $HOME_NET 80', 'variables', '$HOME_NET any -> $EXTERNAL_NET 80'],
    ['!$HOME_NET any <> [$HTTP_SERVERS,$SMTP_SERVERS] 25', 'variables', '[$HTTP_SERVERS,$SMTP_SERVERS] any <> !$HOME_NET 25'],
    ['any any -> any 53', 'same', 'any any -> any 53'],
    ['any any -> $HOME_NET 53', 'mixed', 'any any -> $HOME_NET 53'],
    ['[1.2.3.4,5.6.7.8] any -> $HOME_NET any', 'literal', '[1.2.3.4,5.6.7.8] any -> $HOME_NET any'],
  ];
  for (const [hdr, kind, expected] of cases) {
    it(`${hdr} is ${kind}`, () => {
      const text = `alert tcp ${hdr} (sid:1;)`;
      const n = rule(text);
      expect(classifyAddresses(n, text)).toBe(kind);
      const { out } = run(text, '[sids]\n', { honeynet: true });
      expect(out).toBe(`alert tcp ${expected} (sid:1;)`);
    });
  }
  it('--literal-addresses swap swaps mixed and literal; error skips them', () => {
    const text = 'alert tcp any 1 -> 10.0.0.0/8 2 (sid:1;)';
    expect(run(text, '[sids]\n', { honeynet: true, literalAddresses: 'swap' }).out).toBe('alert tcp 10.0.0.0/8 1 -> any 2 (sid:1;)');
    const e = run(text, '[sids]\n', { honeynet: true, literalAddresses: 'error' });
    expect(e.outcome.status).toBe('skipped');
    expect(e.outcome.reason).toMatch(/literal addresses \(any -> 10\.0\.0\.0\/8\)/);
    expect(reverseRule(rule(text), text, 'keep').swapped).toBe(false);
  });
});
