/**
 * suricata-verify read as Suricata rules (`--input-dialect suricata`): every test's rules compile or are reported
 * with their reason (file:line), and replaying the tests whose rules all map gives the tests' own expected alert
 * counts (test.yaml `filter` checks on alert fields). The agreement is printed; the test fails if it drops below
 * AGREEMENT_FLOOR (the figure in the README) or if a rule is refused without a place and a reason.
 * Needs ../shared/corpus/suricata-verify (skipped, said, when absent).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { svDir } from './helpers/corpus.js';
import { readManifest, runSvTest, SV_VARS, type SvOutcome } from './helpers/suricata-verify.js';
import { lintRuleSet } from '../src/lint/lint.js';

const exists = existsSync(join(svDir, 'manifest.json'));
if (!exists) console.warn(`[suricata-verify-agreement] ${svDir}/manifest.json is absent: the Suricata agreement test is SKIPPED`);

/**
 * Lint errors on rules Suricata loads: none. Values Suricata's grammar takes and Snort 2.9's does not (a byte_jump
 * byte count from a variable, a byte_test offset past 65535: detect-bytejump-02, detect-bytetest-02) are refusals of
 * the Suricata reader, warnings in lint, as every unmapped Suricata extension is.
 */
const KNOWN_LINT_ERRORS = new Set<string>();

/**
 * Tests that agree with Suricata's expectations today (of those whose rules all map and whose checks replay can
 * evaluate). 37 before the engine followed Snort 2.9.20's second detection of HTTP packets queued for reassembly:
 * flowbits-prefilter-04/-11 now log sid 22 twice as Snort does, where Suricata logs it once. Mapping dns.query,
 * tls.sni and xbits left it at 35: no test of the corpus has those keywords (test/app-dns-tls.test.ts and
 * test/xbits.test.ts replay them on the corpus's DNS and TLS captures and on built ones).
 */
const AGREEMENT_FLOOR = 35;

describe.skipIf(!exists)("suricata-verify's expectations with the tests' rules read as Suricata rules", () => {
  it('every rule compiles or is reported with its reason; the mapped tests give the expected alerts', async () => {
    const tests = readManifest(svDir);
    expect(tests.length).toBeGreaterThan(80);
    const outcomes: SvOutcome[] = [];
    for (const t of tests) outcomes.push(await runSvTest(svDir, t));
    const by = (k: SvOutcome['kind']) => outcomes.filter((o) => o.kind === k);
    const lines: string[] = [];
    for (const o of outcomes) {
      if (o.kind === 'refused') for (const f of o.failures) lines.push(`  refused ${o.test}: ${f.file}:${f.line}:${f.column} ${f.code}: ${f.reason}`);
      if (o.kind === 'disagree')
        lines.push(`  disagree ${o.test}: ${o.checks.map((c) => `${JSON.stringify(c.match)} want ${c.want} got ${c.got}`).join('; ')}`);
      if (o.kind === 'not-evaluable' || o.kind === 'no-input') lines.push(`  not compared ${o.test}: ${o.why}`);
    }
    const agree = by('agree').length;
    const compared = agree + by('disagree').length;
    console.log(
      `suricata-verify as Suricata rules: ${tests.length} tests; ${by('refused').length} with a refused rule; ` +
        `${compared} compared: ${agree} agree (${compared ? ((100 * agree) / compared).toFixed(1) : '0'}%); ` +
        `${by('not-evaluable').length + by('no-input').length} not comparable\n${lines.join('\n')}`,
    );
    // every refused rule is named with a place and a reason
    for (const o of by('refused'))
      for (const f of (o as Extract<SvOutcome, { kind: 'refused' }>).failures) {
        expect(f.line).toBeGreaterThan(0);
        expect(f.reason.length).toBeGreaterThan(0);
      }
    expect(agree).toBeGreaterThanOrEqual(AGREEMENT_FLOOR);
    // lint: Suricata's extensions are warnings (the rule is valid Suricata); errors only where listed
    const lintErrors = new Set<string>();
    const tdir = join(svDir, 'tests');
    for (const t of tests) {
      if (t.rules_files.length === 0) continue;
      const r = lintRuleSet({ paths: t.rules_files.map((f) => join(tdir, f)), vars: SV_VARS, inputDialect: 'suricata' });
      for (const d of r.diagnostics) if (d.severity === 'error') lintErrors.add(`${t.name}: ${d.code}`);
    }
    console.log(`lint --input-dialect suricata errors: ${[...lintErrors].join(', ') || 'none'}`);
    expect(lintErrors).toEqual(KNOWN_LINT_ERRORS);
  }, 600_000);
});
