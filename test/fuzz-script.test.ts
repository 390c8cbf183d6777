/**
 * `npm run fuzz` (scripts/fuzz.js, over dist/): a child whose memory stays over --restart-rss-mb after a collection
 * is ended and another runs the rest of the target's time; the restarts are counted in the summary.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'hw-fuzz-script-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fuzz(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'fuzz.js'), ...args], {
    encoding: 'utf8',
    // findings (if any) go to a scratch directory, not into the repository's fixtures
    env: { ...process.env, HW_FUZZ_FIXTURES: tmp },
  });
  const json = r.stdout.split('\n').find((l) => l.startsWith('json: '));
  return { code: r.status, out: r.stdout, err: r.stderr, results: json === undefined ? [] : JSON.parse(json.slice(6)) };
}

describe('scripts/fuzz.js', () => {
  it('restarts a child whose RSS stays over the limit, runs on in a new one and counts it', () => {
    // every child is over 1 MB: each ends at its first memory check (64 inputs) and the next one takes over
    const r = fuzz(['--seconds', '3', '--targets', 'sebek', '--seed', '1', '--restart-rss-mb', '1']);
    expect(r.err).toBe('');
    expect(r.results).toHaveLength(1);
    const [s] = r.results;
    expect(s.restarts).toBeGreaterThan(0);
    expect(s.inputs).toBeGreaterThanOrEqual(64 * (s.restarts + 1) - 64);
    expect(r.out).toMatch(new RegExp(`${s.restarts} restarts`));
    expect(r.out).toMatch(new RegExp(`total: .* ${s.restarts} child restarts \\(memory\\)`));
  }, 60_000);

  it('with the default limit, no restart', () => {
    const r = fuzz(['--seconds', '2', '--targets', 'sebek', '--seed', '1']);
    expect(r.results.map((s: { restarts: number }) => s.restarts)).toEqual([0]);
  }, 60_000);
});
