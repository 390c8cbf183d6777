/** Where the shared corpora live (beside the checkout), and a clear note when they are absent. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const etDir = join(sharedDir, 'corpus/rules/et-open-snort-2.9.0-2019-12-04');
export const communityDir = join(sharedDir, 'corpus/rules/snort-community-2.9-2022-03-02/community-rules');
export const svDir = join(sharedDir, 'corpus/suricata-verify');

export const hasCorpus = existsSync(etDir) && existsSync(communityDir);
if (!hasCorpus) {
  // Printed once per test file that imports this: the corpus tests are skipped, not passed.
  console.warn(`[honeywall tests] ${sharedDir}/corpus is absent: corpus tests are SKIPPED (they need ../shared beside the checkout)`);
}

export function ruleFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rules'))
    .sort()
    .map((f) => join(dir, f));
}
