/**
 * Suricata's xbits (match/xbits.ts): the keyword's grammar (detect-xbits.c's good and bad inputs), bits on hosts and
 * address pairs across flows with packet-time expiry, run end to end from Suricata rules on captures built here (each
 * rule matching and not), and the bounded table's evictions counted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/config/ruleset.js';
import { compileRuleSet } from '../src/match/compile.js';
import { Matcher } from '../src/match/engine.js';
import { replayCapture } from '../src/match/replay.js';
import { XbitStore } from '../src/match/xbits.js';
import { buildIp, ethernet } from '../src/packet/build.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import { encodePcap } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import { makeSubject } from '../src/match/subject.js';
import { parseRules } from '../src/parser/parse.js';
import { translateSuricata } from '../src/suricata/translate.js';
import { repoRoot } from './helpers/corpus.js';

describe('xbits grammar', () => {
  const rows: [string, string | RegExp][] = [
    ['set,abc,track ip_pair', 'ok'],
    ['set,abc,track ip_pair, expire 3600', 'ok'],
    ['set,abc,track ip_src, expire 1234', 'ok'],
    ['isnotset,abc,track ip_dst', 'ok'],
    ['noalert', 'ok'],
    ['set,abc,track nonsense, expire 3600', /tracks ip_src, ip_dst or ip_pair/],
    ['set,abc,track ip_source, expire 3600', /tracks ip_src, ip_dst or ip_pair/],
    ['set,abc,track ip_src, expire -1', /expire needs 1 to/],
    ['set,abc,track ip_src, expire 0', /expire needs 1 to/],
    ['set,abc', /needs track/],
    ['!set,abc,track ip_dst', /needs set, unset, toggle/],
  ];
  for (const [value, want] of rows)
    it(value, () => {
      const r = parseRules(`alert ip any any -> any any (xbits:${value}; sid:1;)\n`);
      const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
      if (want === 'ok') expect(errors).toEqual([]);
      else expect(errors.join('; ')).toMatch(want);
    });

  it('the Suricata reader writes xbits through', () => {
    const tr = translateSuricata('alert ip any any -> any any (xbits:set,ET.x,track ip_src,expire 10; sid:1;)\n', 'f');
    expect(tr.refusedRules).toEqual([]);
    expect(tr.text).toBe('alert ip any any -> any any (xbits:set,ET.x,track ip_src,expire 10; sid:1;)\n');
  });
});

describe('xbits across flows, end to end', () => {
  const T0 = 1_700_000_000;
  const dgram = (src: string, dst: string, sport: number, payload: string, dt: number) => ({
    tsSec: T0 + dt,
    tsUsec: 0,
    data: ethernet(buildIp({ ip: { src, dst }, udp: { sport, dport: 9999 }, payload })),
  });
  const A = '10.0.0.1';
  const B = '10.0.0.2';
  const C = '10.0.0.3';
  const D = '10.0.0.4';
  /** Each datagram its own flow (its own source port); `dt` seconds after T0. */
  const frames = [
    dgram(A, B, 1001, 'LOGIN', 0), // sets host bit on A (ip_src), pair bit on A-B, host bit on B (ip_dst)
    dgram(A, C, 1002, 'GETFILE', 1), // A's host bit: set
    dgram(D, C, 1003, 'GETFILE', 2), // D has none
    dgram(B, A, 1004, 'PAIRCHECK', 3), // the pair A-B, the other way
    dgram(A, C, 1005, 'PAIRCHECK', 4), // the pair A-C: none
    dgram(B, D, 1006, 'HOSTB', 5), // B's host bit, set through ip_dst
    dgram(D, A, 1007, 'TOGGLE', 6), // toggles D's bit on (was off)
    dgram(D, A, 1008, 'TOGGLE', 7), // toggles it off
    dgram(D, B, 1009, 'DCHECK', 8), // D's toggle bit: off
    dgram(A, C, 1010, 'GETFILE', 61), // A's host bit expired (set at 0, expire 60)
    dgram(A, C, 1011, 'NOTSET', 62), // isnotset after expiry
  ];
  const rules: [number, string, number][] = [
    [1, 'content:"LOGIN"; xbits:set,logged,track ip_src,expire 60; xbits:set,pair,track ip_pair; xbits:set,peer,track ip_dst; noalert;', 0],
    [2, 'content:"GETFILE"; xbits:isset,logged,track ip_src;', 1], // the A->C at 1 s; D->C and A->C at 61 s not
    [3, 'content:"PAIRCHECK"; xbits:isset,pair,track ip_pair;', 1], // B->A only
    [4, 'content:"HOSTB"; xbits:isset,peer,track ip_src;', 1],
    [5, 'content:"TOGGLE"; xbits:toggle,tog,track ip_src;', 2],
    [6, 'content:"DCHECK"; xbits:isset,tog,track ip_src;', 0],
    [7, 'content:"NOTSET"; xbits:isnotset,logged,track ip_src;', 1],
  ];

  it('each rule fires where its bit is set (across flows, hosts and pairs, until its expiry) and nowhere else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-xbits-'));
    const pcap = join(dir, 'x.pcap');
    writeFileSync(pcap, encodePcap(frames, { linktype: LinkType.ETHERNET }));
    const f = join(dir, 'x.rules');
    writeFileSync(f, rules.map(([sid, body]) => `alert udp any any -> any any (msg:"${sid}"; ${body} sid:${sid}; rev:1;)\n`).join(''));
    const compiled = compileRuleSet(loadRuleSet({ paths: [f], inputDialect: 'suricata' }));
    expect(compiled.failures).toEqual([]);
    const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
    const got = new Map<number, number[]>();
    await replayCapture(pcap, matcher, { checksumMode: 'none' }, (e) => {
      const l = got.get(e.rule.sid) ?? [];
      l.push(e.packet.tsSec - T0);
      got.set(e.rule.sid, l);
    });
    const counts = rules.map(([sid]) => got.get(sid)?.length ?? 0);
    expect(counts).toEqual(rules.map((r) => r[2]));
    expect(got.get(2)).toEqual([1]);
    expect(got.get(3)).toEqual([3]);
    // a second replay after resetState starts with no bits: the same alerts
    matcher.resetState();
    const again: number[] = [];
    await replayCapture(pcap, matcher, { checksumMode: 'none' }, (e) => void again.push(e.rule.sid));
    expect(again.length).toBe(counts.reduce((a, b) => a + b, 0));

    // `replay --workers 2` (dist/, as the CLI runs it): host bits cross the shards, so one thread replays, said so;
    // the alerts are the same
    const bin = join(repoRoot, 'bin', 'honeywall.js');
    const args = ['replay', pcap, '--rules', f, '--input-dialect', 'suricata', '--checksum-mode', 'none'];
    const one = execFileSync('node', [bin, ...args, '--workers', '0'], { encoding: 'utf8' });
    const two = spawnSync('node', [bin, ...args, '--workers', '2'], { encoding: 'utf8' });
    expect(two.stderr).toMatch(/6 rule\(s\) with xbits on a host \(track ip_src\/ip_dst\): replayed in one thread/);
    expect(two.stdout).toBe(one);
    expect(one.split('\n').filter((l) => l.length > 0).length).toBe(counts.reduce((a, b) => a + b, 0));
  });
});

describe('the xbits table is bounded', () => {
  it('past its size the least recently set bit goes, counted', () => {
    const store = new XbitStore(2);
    const s = (src: string, t: number) => {
      const p = decodeIpPacket(buildIp({ ip: { src, dst: '10.9.9.9' }, udp: { sport: 1, dport: 2 }, payload: 'x' }));
      p.tsSec = t;
      return makeSubject(p);
    };
    const set = { cmd: 'set' as const, bits: ['xbits:host:a'], any: false, track: 'ip_src' as const, expire: 100 };
    const isset = { ...set, cmd: 'isset' as const };
    store.apply(set, s('10.0.0.1', 0));
    store.apply(set, s('10.0.0.2', 1));
    store.apply(set, s('10.0.0.1', 2)); // set again: now the most recent
    store.apply(set, s('10.0.0.3', 3)); // evicts 10.0.0.2
    expect(store.evicted).toBe(1);
    expect(store.size).toBe(2);
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => store.check(isset, s(ip, 4)))).toEqual([true, false, true]);
    // packet time, not the wall clock: at 102 s the bit set at 2 s with expire 100 is gone
    expect(store.check(isset, s('10.0.0.1', 102))).toBe(false);
    expect(store.check(isset, s('10.0.0.3', 102))).toBe(true);
  });
});
