/**
 * A rule read back from the artifact is the rule compiled in process: every rule of ET Open 2019 and of the Snort
 * community set (../shared/corpus, when present) and a table of rules made to exercise what stored-rule.ts leaves
 * out or numbers (false flags, fast patterns that are a whole content or part of one, class descriptions, files).
 * Equal values and the same keys in the same order, down to the content ops (one object shape for the engine).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/config/ruleset.js';
import { readArtifact, writeArtifact } from '../src/match/artifact.js';
import { compileRuleSet } from '../src/match/compile.js';
import { storedJson } from '../src/match/stored-json.js';
import type { RulePlan } from '../src/match/plan.js';
import { changeNodesOf, sharingTable } from '../src/match/rule-tree.js';
import { portRangeTable } from '../src/match/header-sets.js';
import { compileText } from './helpers/match.js';

const dir = mkdtempSync(join(tmpdir(), 'hw-stored-rule-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CORPUS = join(import.meta.dirname, '..', '..', 'shared', 'corpus', 'rules');
const SETS = ['et-open-snort-2.9.0-2019-12-04', 'snort-community-2.9-2022-03-02'].map((s) => join(CORPUS, s));

/** Keys of the rule and of each op, in order (toEqual ignores the order). */
function shape(r: RulePlan): string[] {
  return [Object.keys(r).join(','), ...r.ops.map((o) => Object.keys(o).join(','))];
}

async function roundTrip(rules: RulePlan[], name: string): Promise<void> {
  const path = join(dir, `${name}.hwm`);
  await writeArtifact(path, { ...compileText('').plan, rules });
  const a = readArtifact(path);
  // the shared flowbits nodes as the matcher makes them from plans in memory
  expect(a.sharing).toEqual(sharingTable(changeNodesOf(rules)));
  // each port set's runs as the rule table makes them from the set
  const ports = new Set([...a.table.columns.srcPorts, ...a.table.columns.dstPorts]);
  expect(a.portRanges).toEqual(portRangeTable(a.table.setCount, (i) => (ports.has(i) ? a.table.portSet(i) : undefined)));
  for (let i = 0; i < rules.length; i++) {
    const back = a.table.get(i);
    const want = rules[i]!;
    // the JSON (byte arrays as base64) compares values in key order fast; the shape adds the keys JSON leaves out
    if (storedJson(back) !== storedJson(want) || shape(back).join(';') !== shape(want).join(';')) {
      expect({ sid: want.sid, keys: shape(back) }).toEqual({ sid: want.sid, keys: shape(want) });
      expect(back).toEqual(want);
      expect(storedJson(back)).toBe(storedJson(want));
    }
  }
}

if (!SETS.every(existsSync)) console.warn(`${CORPUS} is absent: the stored-rule round trip runs on the table only`);

describe('stored rules', () => {
  it('a table of rules comes back as compiled', async () => {
    const r = compileText(
      [
        'alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"a"; flow:to_server,established; content:"GET"; http_method; content:"/x"; http_uri; fast_pattern; pcre:"/x+/U"; classtype:bad-unknown; threshold:type limit, track by_src, count 1, seconds 60; sid:1; rev:2;)',
        'alert udp any any <> any 53 (msg:"b"; flowbits:set,x; flowbits:noalert; byte_test:1,>,3,0; dsize:>10; detection_filter:track by_dst, count 5, seconds 10; sid:2;)',
        'alert ip any any -> any any (msg:"c"; ttl:<3; sid:3;)',
        'alert tcp any any -> any any (msg:"d"; content:"abcdefgh"; fast_pattern:2,4; content:!"zz"; nocase; distance:1; within:9; sid:4;)',
        'alert tcp any any -> any any (msg:"e"; content:"only-this"; fast_pattern:only; content:"x"; offset:3; depth:5; classtype:trojan-activity; sid:5;)',
        'drop tcp any any -> any any (msg:"f"; content:"bad"; replace:"ok!"; sid:6;)',
        'alert tcp any any -> any any (msg:"g"; content:"AB"; nocase; content:"ab"; fast_pattern; sid:7;)',
      ].join('\n'),
    );
    expect(r.plan.rules).toHaveLength(7);
    await roundTrip(r.plan.rules, 'table');
  });

  for (const set of SETS) {
    it.runIf(existsSync(set))(
      `every rule of ${set.split('/').pop()} comes back as compiled`,
      async () => {
        const r = compileRuleSet(loadRuleSet({ paths: [set], vars: ['HOME_NET=[10.0.0.0/8,192.168.0.0/16]', 'EXTERNAL_NET=any'] }));
        expect(r.plan.rules.length).toBeGreaterThan(500);
        await roundTrip(r.plan.rules, set.split('/').pop()!);
      },
      120_000,
    );
  }
});
