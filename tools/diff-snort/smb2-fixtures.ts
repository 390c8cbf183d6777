/**
 * `npx tsx tools/diff-snort/smb2-fixtures.ts [DIR]`: runs the SMB2 scenarios (gen/smb2.ts) through Snort 2.9.20 and
 * honeywall, and records each as a diff-snort fixture (default test/fixtures/diff-snort): the case, its capture made
 * with the project's pcap encoder, and Snort's alerts. test/diff-snort.test.ts replays every fixture against Snort's
 * recorded answer; test/dce2-smb2.test.ts names these.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatch } from './batch.js';
import { writeFixture } from './fixtures.js';
import { smb2Scenarios } from './gen/smb2.js';
import { snortMissing } from './snort.js';

const missing = snortMissing();
if (missing !== undefined) {
  console.error(`smb2-fixtures: ${missing}`);
  process.exit(2);
}
const root = process.argv[2] ?? 'test/fixtures/diff-snort';
const work = mkdtempSync(join(tmpdir(), 'smb2-fixtures-'));
try {
  // one batch per scenario: a fixture's files and Snort's sids are those of slot 0
  for (const s of smb2Scenarios()) {
    const r = (await runBatch([s.case], work)).results[0]!;
    const name = writeFixture(root, r);
    console.log(`${s.name}\t${name}\t${r.verdict}\tsnort [${r.snort}]\thoneywall [${r.honeywall}]`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
