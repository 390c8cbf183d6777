/**
 * A sharded replay selects events as one thread does: its reading thread decides them in capture order with one
 * EventDecider over every flow, so that rules with a threshold, a detection_filter, an event_filter or a suppress
 * count across the shards as in one process. Here such rules and rules without them are mixed over flows from
 * several sources to several servers (so over both shards), and on the same packets: `honeywall replay` (the built
 * CLI) with --workers 0 and --workers 2 must write the same alerts, byte for byte, and the filters must have kept
 * some back (else the test would not see them).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../src/packet/bytes.js';
import { repoRoot } from './helpers/corpus.js';
import { SessionCapture } from './helpers/sessions.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'bin', 'honeywall.js');

const CONF = [
  'alert tcp any any -> any 80 (msg:"plain"; content:"alpha"; sid:1;)',
  'alert tcp any any -> any 80 (msg:"threshold"; content:"beta"; threshold:type limit, track by_src, count 1, seconds 60; sid:2;)',
  'alert tcp any any -> any 80 (msg:"detection_filter"; content:"gamma"; detection_filter:track by_src, count 3, seconds 60; sid:3;)',
  'alert tcp any any -> any 80 (msg:"event_filter"; content:"delta"; sid:4;)',
  'alert tcp any any -> any 80 (msg:"suppress"; content:"epsilon"; sid:5;)',
  'alert tcp any any -> any 80 (msg:"plain too"; content:"zeta"; sid:6;)',
  'event_filter gen_id 1, sig_id 4, type both, track by_dst, count 2, seconds 60',
  'suppress gen_id 1, sig_id 5, track by_src, ip 10.5.0.1',
  '',
].join('\n');

/** Sessions from 6 sources to 3 servers, each sending the payloads in turn (some with two rules' contents). */
function capture(dir: string): string {
  const payloads = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'alpha beta', 'zeta gamma', 'zeta delta', 'epsilon zeta'];
  // all within the filters' 60 s
  const c = new SessionCapture((n) => ({ tsSec: 1_700_000_000 + Math.floor(n / 100), tsUsec: n % 1_000_000 }));
  let port = 40000;
  for (let round = 0; round < 4; round++) {
    for (let k = 0; k < 6; k++) {
      for (let s = 0; s < 3; s++) {
        const client = parseIp(`10.5.0.${k + 1}`)!;
        const server = parseIp(`192.0.2.${s + 1}`)!;
        const sp = port++;
        c.handshake(client, server, sp, 80);
        let seq = 101;
        for (const p of payloads) {
          c.data(client, server, sp, 80, seq, p);
          seq += p.length;
        }
      }
    }
  }
  return c.write(join(dir, 'mixed.pcap'));
}

/** Compiles `conf`, replays the mixed capture in one thread and in two, and counts the one-thread alerts by sid. */
async function alertsOf(conf: string): Promise<{ one: string; sharded: string; sids: (sid: number) => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-sharded-events-'));
  const path = join(dir, 'snort.conf');
  writeFileSync(path, conf);
  const artifact = join(dir, 'rules.hwm');
  await run(process.execPath, [BIN, 'compile', '--conf', path, '--out', artifact], { maxBuffer: 16 << 20 });
  const pcap = capture(dir);
  const replay = async (workers: string) => {
    const out = join(dir, `alerts-${workers}.txt`);
    await run(process.execPath, [BIN, 'replay', pcap, '--matcher', artifact, '--checksum-mode', 'none', '--workers', workers, '--out', out]);
    return readFileSync(out, 'utf8');
  };
  const one = await replay('0');
  return { one, sharded: await replay('2'), sids: (sid) => one.split('\n').filter((l) => l.includes(`[1:${sid}:`)).length };
}

describe('a sharded replay selects events as one thread does', () => {
  it('thresholds, detection and event filters and suppressions mixed with rules without them', async () => {
    const { one, sharded, sids } = await alertsOf(CONF);
    // 72 sessions, each sending every payload once
    expect(sids(1)).toBe(72 * 2);
    expect(sids(6)).toBe(72 * 3);
    // kept back: one threshold event per source, detection_filter from the fourth match of a source on, event_filter
    // (both, count 2) once per server, every suppressed source's
    expect(sids(2)).toBe(6);
    expect(sids(3)).toBe(6 * (24 - 3));
    expect(sids(4)).toBe(3);
    expect(sids(5)).toBe(5 * 12 * 2);
    expect(sharded).toBe(one);
  }, 120_000);

  it('an event_filter of a whole gid (sig_id 0) beside a suppression of one sid', async () => {
    const conf = [
      'alert tcp any any -> any 80 (msg:"plain"; content:"alpha"; sid:1;)',
      'alert tcp any any -> any 80 (msg:"suppress"; content:"epsilon"; sid:5;)',
      'alert tcp any any -> any 80 (msg:"plain too"; content:"zeta"; sid:6;)',
      'event_filter gen_id 1, sig_id 0, type limit, track by_src, count 1, seconds 60',
      'suppress gen_id 1, sig_id 5, track by_src, ip 10.5.0.1',
      '',
    ].join('\n');
    const { one, sharded, sids } = await alertsOf(conf);
    // the gid's filter limits each rule to one event a source; sid 5's suppression keeps one source's back first
    expect(sids(1)).toBe(6);
    expect(sids(6)).toBe(6);
    expect(sids(5)).toBe(5);
    expect(sharded).toBe(one);
  }, 120_000);
});
