/**
 * Real traffic against Snort 2.9.20 (tools/diff-snort/real.ts): curl, wget, python http.server, socat, dig, ping, ssh,
 * openssl and nmap talk inside a namespace honeynet, each scenario is captured by tcpdump, and both engines read every capture
 * with ET Open 2019 and the community rules. Needs root (network namespaces), Snort at /opt/snort-2.9.20 and
 * ../shared; it says it is skipped otherwise. The connections kept from such runs as fixtures
 * (test/fixtures/diff-snort-real, each with Snort's recorded alerts) are replayed through honeywall without any of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countEvents, loadMatcher, multiset, replayEvents } from '../tools/diff-snort/honeywall.js';
import { agreementOf, formatRealReport, realMissing, realRun } from '../tools/diff-snort/real.js';
import { readRealFixtures } from '../tools/diff-snort/real-fixtures.js';
import { repoRoot } from './helpers/corpus.js';

const missing = realMissing(true);
if (missing) console.warn(`[diff-snort-real] ${missing}: the real-traffic comparison against Snort is SKIPPED`);
else console.log('[diff-snort-real] root, Snort 2.9.20 and the corpus are present: running the real-traffic comparison');

const EVENT_QUEUE =
  'one request matches 8 rules (item.php?id=1+union+select+...+mysql.user--): Snort keeps the first 5 its detection reaches (fpdetect.c fpAddMatch, max_queue_events 5) in an order that changes from run to run (its hash seeds), and logs at most 5 (event_queue log 5); honeywall logs its own choice';

/**
 * Differences seen on real traffic, `scenario gid:sid` -> why. Snort itself is not deterministic on some of them (its
 * random flush points and hash seeds), so a listed difference may be absent from a run; an unlisted one fails.
 */
/** Unlisted differences one run may show (seen: one, ET 2017034's file_data count on the chunked response, in one run). */
const MAX_UNLISTED = 2;

const KNOWN_REAL_DIFFERENCES: Record<string, string> = {
  'http-attacks 1:2013028': EVENT_QUEUE,
  'http-attacks 1:2017807': EVENT_QUEUE,
  'http-attacks 1:2004930': EVENT_QUEUE,
  'http-attacks 1:2004931': EVENT_QUEUE,
  'http-attacks 1:2011042': EVENT_QUEUE,
  'http-attacks 1:2010963': EVENT_QUEUE,
  'http-attacks 1:2006446': EVENT_QUEUE,
  'http-attacks 1:2006445': EVENT_QUEUE,
  'http-attacks 1:2022028':
    "shellshock pcre /^[^\\r\\n]*?HTTP\\/1(?:(?!\\r?\\n\\r?\\n)[\\x20-\\x7e\\s]){1,500}\\n.../s takes 630 match() calls in Snort's PCRE 8.39 and 5,292 in PCRE2: honeywall's pcre_match_limit 3500 gives up where Snort's does not (fixture pcre-match-limit-shellshock)",
};

describe.skipIf(missing !== undefined)('diff-snort-real: real clients and servers in a namespace honeynet, Snort 2.9.20 against honeywall', () => {
  it('agrees on every capture but for the listed differences', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'diff-snort-real-test-'));
    try {
      // realRun destroys its honeynet (namespaces and processes) in a finally, also when a scenario throws
      const r = await realRun({ workDir, log: (l) => console.log(l) });
      console.log(formatRealReport(r));
      const ran = r.scenarios.filter((s) => !s.skipped);
      // the captures are whole and hold the traffic; the engines have alerts to compare
      expect(ran.length).toBeGreaterThanOrEqual(4);
      for (const s of ran) {
        expect(s.packets, s.name).toBeGreaterThan(0);
        expect(s.droppedByKernel, s.name).toBe(0);
      }
      expect(r.unassigned).toEqual([]);
      expect(r.ruleFailures).toBe(0);
      let keys = 0;
      let same = 0;
      let snortAlerts = 0;
      for (const s of ran) {
        const a = agreementOf(s);
        keys += a.keys;
        same += a.same;
        snortAlerts += a.alertsSnort;
      }
      expect(snortAlerts).toBeGreaterThan(60);
      const seen = ran.flatMap((s) => s.differences.map((d) => `${s.name} ${d.key}`));
      const notSeen = Object.keys(KNOWN_REAL_DIFFERENCES).filter((k) => !seen.includes(k));
      if (notSeen.length) console.log(`listed differences not seen in this run: ${notSeen.join(', ')}`);
      // Snort is not deterministic on real traffic (footprint flush points drawn with srand(time), detection order
      // from hash seeds): on the same captures a run can show a difference the last did not. Every unlisted
      // difference is printed; more than MAX_UNLISTED of them fails, as does agreement under the floor.
      const unlisted = seen.filter((k) => !(k in KNOWN_REAL_DIFFERENCES));
      if (unlisted.length) console.log(`UNLISTED differences in this run: ${unlisted.join(', ')}`);
      expect(unlisted.length, unlisted.join(', ')).toBeLessThanOrEqual(MAX_UNLISTED);
      // 84% measured (47 of 56); the 9 listed differences and MAX_UNLISTED others at once would leave 44 of 56
      expect(same / keys).toBeGreaterThanOrEqual(0.75);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 300_000);
});

/** Fixtures whose honeywall output still differs from Snort's recorded one, with the reason. */
const KNOWN_REAL_FIXTURE_DISAGREEMENTS: Record<string, string> = {
  'pcre-match-limit-shellshock': KNOWN_REAL_DIFFERENCES['http-attacks 1:2022028']!,
};

describe("diff-snort-real fixtures: connections of real captures with Snort 2.9.20's recorded alerts", () => {
  const fixtures = readRealFixtures(join(repoRoot, 'test/fixtures/diff-snort-real'));
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', async (name, f) => {
    const loaded = loadMatcher({ paths: [f.rules] });
    expect(loaded.failures).toEqual([]);
    const got = multiset(countEvents(await replayEvents(f.pcap, loaded.matcher)));
    if (name in KNOWN_REAL_FIXTURE_DISAGREEMENTS) expect(got, KNOWN_REAL_FIXTURE_DISAGREEMENTS[name]).not.toBe(f.snort);
    else expect(got).toBe(f.snort);
  });
});
