/** `npm run diff-snort-lint [-- --rules N --seed S]`: the lint property on generated rules, every finding listed. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lintProperty, lintRules } from './lint-property.js';
import { snortMissing } from './snort.js';

const { values } = parseArgs({ options: { rules: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' } } });
const missing = snortMissing();
if (missing) {
  console.error(`diff-snort-lint: ${missing}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'diff-snort-lint-'));
const t0 = performance.now();
const r = await lintProperty(lintRules(Number(values.seed), Number(values.rules)), dir);
console.log(
  `${r.rules} rules, Snort refused ${r.snortRefused} (${r.snortRuns} Snort runs, ${((performance.now() - t0) / 1000).toFixed(1)} s), ${r.findings.length} disagreement(s) with lint:`,
);
for (const f of r.findings) console.log(`  line ${f.line}: Snort ${f.snort} | honeywall ${f.honeywall}\n    ${f.rule}`);
rmSync(dir, { recursive: true, force: true });
process.exit(r.findings.length === 0 ? 0 : 1);
