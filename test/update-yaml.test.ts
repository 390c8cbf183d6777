/**
 * suricata-update's update.yaml read by `honeywall update` (src/update/update-yaml.ts): the documented example
 * unchanged, errors at file:line:column, and an update run whose local sources mix a Suricata file (read through
 * the Suricata reader, its unmapped rules listed and left out) and a Snort one, with update.yaml's ignore and
 * disable-conf applied; pulledpork's reference matchers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/transform/policy.js';
import { ETOPEN_SURICATA_URL, parseUpdateYaml, type UpdateYamlError } from '../src/update/update-yaml.js';
import { repoRoot } from './helpers/corpus.js';

const BIN = join(repoRoot, 'bin/honeywall.js');

/** suricata-update's shipped example (suricata/update/configs/update.yaml), its comments left out. */
const SU_EXAMPLE = `disable-conf: /etc/suricata/disable.conf
enable-conf: /etc/suricata/enable.conf
drop-conf: /etc/suricata/drop.conf
modify-conf: /etc/suricata/modify.conf
ignore:
  - "*deleted.rules"
#reload-command: sudo systemctl reload suricata
sources:
  - source: etopen
  - source: url
    url: https://sslbl.abuse.ch/blacklist/sslblacklist.rules
local:
  - /etc/suricata/rules
  - /etc/suricata/rules/app-layer-events.rules
  - /etc/suricata/rules/*.rules
`;

describe('update.yaml', () => {
  it("suricata-update's example: sources verified by URL.md5, local paths by kind, ignore; absent filter files skipped and said", () => {
    const y = parseUpdateYaml(SU_EXAMPLE, '/nonexistent/update.yaml');
    expect(y.sources.map((s) => [s.kind, s.location, s.checksum?.kind, s.line])).toEqual([
      ['url', ETOPEN_SURICATA_URL, 'md5-url', 9],
      ['url', 'https://sslbl.abuse.ch/blacklist/sslblacklist.rules', 'md5-url', 10],
      ['dir', '/etc/suricata/rules', undefined, 13],
      ['file', '/etc/suricata/rules/app-layer-events.rules', undefined, 14],
      ['glob', '/etc/suricata/rules/*.rules', undefined, 15],
    ]);
    expect(y.ignore).toEqual(['*deleted.rules']);
    expect(y.policies).toEqual([]);
    expect(y.notes).toHaveLength(4);
    expect(y.notes[0]).toMatch(/^\/nonexistent\/update\.yaml:1:15: disable-conf \/etc\/suricata\/disable\.conf does not exist: skipped/);
  });

  it('a sources entry that cannot be fetched safely or named without the index is an error with its place', () => {
    const bad = (text: string) => {
      try {
        parseUpdateYaml(text, 'u.yaml');
      } catch (e) {
        return (e as UpdateYamlError).lines;
      }
      return [];
    };
    expect(bad('sources:\n  - source: etpro\n    code: x\n')).toEqual([
      "u.yaml:2:5: error invalid-value: named source 'etpro' needs suricata-update's source index: give it as 'source: url' with its URL",
    ]);
    expect(bad('sources:\n  - http://example.org/r.tar.gz\n')[0]).toMatch(/^u\.yaml:2:5: error invalid-value: only https:\/\//);
    expect(bad('sources: [a\n')[0]).toMatch(/^u\.yaml:\d+:\d+: error yaml: /);
    expect(bad('local:\n  - /a/*/b.rules\n')[0]).toMatch(/^u\.yaml:2:5: error invalid-value: a wildcard is read in the last path component only/);
    expect(bad('sources:\n  - source: url\n    url: https://x/r.rules\n    sha256: 12\n')[0]).toMatch(/sha256 must be 64 hex digits/);
  });

  it("pulledpork's reference matchers select the rules with that reference", () => {
    const p = parsePolicy('cve:2009-0233, bugtraq:1234\n', 'disablesid.conf');
    const m = p.state.map((s) => s.matcher as { kind: string; re: RegExp });
    expect(m.map((x) => x.kind)).toEqual(['re', 're']);
    expect(m[0]!.re.test('alert tcp any any -> any any (msg:"x"; reference:cve,2009-0233; sid:1;)')).toBe(true);
    expect(m[0]!.re.test('alert tcp any any -> any any (msg:"x"; reference:cve,2009-02334; sid:1;)')).toBe(false);
    expect(m[1]!.re.test('alert tcp any any -> any any (reference: BUGTRAQ , 1234 ; sid:1;)')).toBe(true);
  });
});

describe('update with update.yaml local sources, Suricata and Snort files side by side', () => {
  it('the Suricata file goes through the Suricata reader (unmapped rules listed, not compiled); ignore and disable-conf apply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-update-yaml-'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'rules', 'suricata-web.rules'),
      'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"web uri"; flow:established,to_server; http.uri; content:"/evil.php"; endswith; sid:9000001; rev:1;)\n' +
        'alert dns $HOME_NET any -> any any (msg:"dns"; dns.query; content:"evil"; sid:9000002; rev:1;)\n' +
        'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"disabled by my-filters"; http.method; content:"PUT"; sid:9000003; rev:1;)\n' +
        'alert dns $HOME_NET any -> any any (msg:"opcode"; dns.opcode:0; sid:9000005; rev:1;)\n',
    );
    writeFileSync(
      join(dir, 'rules', 'snort-local.rules'),
      'alert tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"telnet"; content:"root"; sid:9000004; rev:1;)\n',
    );
    writeFileSync(join(dir, 'rules', 'emerging-deleted.rules'), 'this is not a rule file honeywall should read\n');
    writeFileSync(join(dir, 'my-filters.conf'), '9000003\n');
    writeFileSync(
      join(dir, 'update.yaml'),
      'disable-conf: my-filters.conf\nignore:\n  - "*deleted.rules"\nlocal:\n  - rules\nreload-command: true\n',
    );
    writeFileSync(
      join(dir, 'update.conf'),
      'update-yaml = update.yaml\nartifact = state/rules.hwm\ncache-dir = cache\nhoneynet = no\nresolve-flowbits = no\n',
    );
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile('node', [BIN, 'update', '--config', join(dir, 'update.conf'), '--dry-run', '--report', 'json'], { cwd: dir }, (e, out, err) =>
        resolve({ code: e ? Number(e.code) : 0, out, err }),
      ),
    );
    expect(r.err).toMatch(/note: .*update\.yaml:6:1: 'reload-command' is suricata-update's own setting/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    // 9000001 and 9000002 (Suricata, mapped: dns.query is honeywall's dns_query buffer, which the converted Snort-form
    // file holds and lint only warns about) and 9000004 (Snort); 9000003 disabled; 9000005 refused
    expect(s.compiled).toBe(3);
    expect(s.rules.disabledByPolicy).toBe(1);
    expect(s.rules.untranslated).toBe(1);
    expect(s.untranslated[0]).toMatchObject({ line: 4, column: 7, sid: 9000005 });
    expect(s.untranslated[0].file).toMatch(/suricata-web\.rules$/);
    expect(s.untranslated[0].reason).toMatch(/^dns without a DNS buffer.*; dns\.opcode: /);
  }, 120_000);
});
