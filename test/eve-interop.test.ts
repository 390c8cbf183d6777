/**
 * EVE output that joins other tools' records: alerts carry flow_id (their flow event's), community_id (Community ID
 * v1 of their packet), pcap_cnt (the packet number of the frame that raised them), app_proto (http once the HTTP
 * inspector recognised the flow); one flow event per flow with Suricata's counts, times, state, reason and TCP
 * flags; `--no-flow-events` leaves them out; the fast format is unchanged. A rule message that tries to break out of
 * its JSON string stays a string. Sharded over worker threads, the EVE output (flow events included) is the
 * single-threaded one byte for byte.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { repoRoot, svDir } from './helpers/corpus.js';

const { main } = await import('../src/cli/main.js');
const { buildIp } = await import('../src/packet/build.js');
const { ethernet } = await import('../src/packet/build.js');
const { parseIp } = await import('../src/packet/bytes.js');
const { encodePcap } = await import('../src/packet/pcap.js');
const { communityId } = await import('../src/flow/community-id.js');

let out = '';
beforeEach(() => {
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'hw-eve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = `quote " backslash \\\\ </script><script>alert(1)</script> \\; semicolon`;
const RULES = join(dir, 'eve.rules');
writeFileSync(
  RULES,
  [
    'alert tcp any any -> any 80 (msg:"GET seen"; flow:to_server,established; content:"GET "; depth:4; sid:1; rev:1;)',
    'alert udp any any -> any 53 (msg:"DNS query"; content:"|07|example"; sid:2; rev:1;)',
    'alert icmp any any -> any any (msg:"ping"; itype:8; sid:3; rev:1;)',
    `alert tcp any 80 -> any any (msg:"${HOSTILE}"; content:"HTTP/1.0 200"; sid:4; rev:1;)`,
    '',
  ].join('\n'),
);

const C = '10.0.0.5';
const S = '198.51.100.7';
const enc = (s: string) => new TextEncoder().encode(s);
const tcp = (src: string, dst: string, sport: number, dport: number, flags: string, seq: number, ack: number, payload = '') =>
  buildIp({ ip: { src, dst }, tcp: { sport, dport, seq, ack, flags }, payload: enc(payload) });
const REQ = 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n';
const RESP = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi';
// frame numbers (pcap_cnt) in comments
const DATAGRAMS = [
  tcp(C, S, 40001, 80, 'S', 100, 0), // 1
  tcp(S, C, 80, 40001, 'SA', 500, 101), // 2
  tcp(C, S, 40001, 80, 'A', 101, 501), // 3
  tcp(C, S, 40001, 80, 'PA', 101, 501, REQ), // 4
  buildIp({ ip: { src: C, dst: '192.0.2.53' }, udp: { sport: 5353, dport: 53 }, payload: enc('\x00\x01\x07example\x03com') }), // 5
  tcp(S, C, 80, 40001, 'PA', 501, 101 + REQ.length, RESP), // 6
  tcp(C, S, 40001, 80, 'A', 101 + REQ.length, 501 + RESP.length), // 7
  buildIp({ ip: { src: C, dst: S }, icmp: { type: 8, id: 7, seq: 1 } }), // 8
  tcp(C, S, 40001, 80, 'FA', 101 + REQ.length, 501 + RESP.length), // 9
  tcp(S, C, 80, 40001, 'FA', 501 + RESP.length, 102 + REQ.length), // 10
  tcp(C, S, 40001, 80, 'A', 102 + REQ.length, 502 + RESP.length), // 11
];
const FRAMES = DATAGRAMS.map((d, i) => ({ tsSec: 1_700_000_000 + i, tsUsec: 250_000, data: ethernet(d) }));
const PCAP = join(dir, 'eve.pcap');
writeFileSync(PCAP, encodePcap(FRAMES, { linktype: 1 }));

// biome-ignore lint/suspicious/noExplicitAny: EVE lines as parsed, their fields checked one by one below
type Json = Record<string, any>;
const lines = (text: string): Json[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);

describe('replay --format eve', () => {
  it('alerts carry flow_id, community_id, pcap_cnt and app_proto; one flow event per flow', async () => {
    expect(await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES, '--format', 'eve'])).toBe(0);
    const ev = lines(out);
    const alerts = ev.filter((e) => e.event_type === 'alert');
    const flows = ev.filter((e) => e.event_type === 'flow');
    const sid = (n: number) => alerts.find((a) => a.alert.signature_id === n)!;
    expect(alerts.map((a) => a.alert.signature_id).sort()).toEqual([1, 2, 3, 4]);
    // pcap_cnt: the packet number of the frame whose processing raised the alert
    expect(sid(1).pcap_cnt).toBe(4);
    expect(sid(2).pcap_cnt).toBe(5);
    expect(sid(3).pcap_cnt).toBe(8);
    expect(sid(4).pcap_cnt).toBeGreaterThanOrEqual(6);
    // community_id: the spec's, from the packet's tuple (the same both ways)
    const cHttp = communityId(6, parseIp(C)!, parseIp(S)!, 40001, 80);
    expect(sid(1).community_id).toBe(cHttp);
    expect(sid(4).community_id).toBe(cHttp);
    expect(sid(2).community_id).toBe(communityId(17, parseIp(C)!, parseIp('192.0.2.53')!, 5353, 53));
    expect(sid(3).community_id).toBe(communityId(1, parseIp(C)!, parseIp(S)!, 8, 0));
    // flow_id: the flow event's; ICMP is not tracked by the flow table (stream5's default), so its alert has none
    const http = flows.find((f) => f.dest_port === 80)!;
    const dns = flows.find((f) => f.dest_port === 53)!;
    expect(sid(1).flow_id).toBe(http.flow_id);
    expect(sid(4).flow_id).toBe(http.flow_id);
    expect(sid(2).flow_id).toBe(dns.flow_id);
    expect(http.flow_id).not.toBe(dns.flow_id);
    expect(sid(3).flow_id).toBeUndefined();
    expect(Number.isSafeInteger(http.flow_id)).toBe(true);
    // app_proto: http once the request was recognised, which is when stream5 flushes it (the response acknowledges
    // it, packet 6): the GET packet's own alert comes before that; the DNS flow carried data nobody recognised
    expect(sid(1).app_proto).toBeUndefined();
    expect(sid(4).app_proto).toBe('http');
    expect(sid(2).app_proto).toBeUndefined();
    expect(flows).toHaveLength(2);
    expect(http).toMatchObject({
      src_ip: C,
      src_port: 40001,
      dest_ip: S,
      dest_port: 80,
      proto: 'TCP',
      community_id: cHttp,
      app_proto: 'http',
      flow: {
        pkts_toserver: 6,
        pkts_toclient: 3,
        bytes_toserver: [0, 2, 3, 6, 8, 10].reduce((n, i) => n + FRAMES[i]!.data.length, 0),
        bytes_toclient: [1, 5, 9].reduce((n, i) => n + FRAMES[i]!.data.length, 0),
        state: 'closed',
        reason: 'shutdown',
        alerted: true,
        age: 10,
      },
      tcp: { tcp_flags: '1b', tcp_flags_ts: '1b', tcp_flags_tc: '1b', syn: true, fin: true, psh: true, ack: true, state: 'closed' },
    });
    expect(http.timestamp).toBe(http.flow.start);
    expect(http.flow.start).toMatch(/\.250000[+-]\d{4}$/);
    expect(dns).toMatchObject({ app_proto: 'failed', flow: { pkts_toserver: 1, pkts_toclient: 0, state: 'new', alerted: true } });
    expect(dns.tcp).toBeUndefined();
  });

  it('a rule message that tries to leave its JSON string stays a string; fast is as before', async () => {
    await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES, '--format', 'eve', '--no-flow-events']);
    const ev = lines(out);
    expect(ev.every((e) => e.event_type === 'alert')).toBe(true);
    const hostile = ev.find((e) => e.alert.signature_id === 4)!;
    expect(hostile.alert.signature).toBe(HOSTILE.replace('\\\\', '\\').replace('\\;', ';'));
    for (const line of out.split('\n').filter(Boolean)) expect(line).not.toMatch(/[\x00-\x1f]/);
    out = '';
    await main(['node', 'honeywall', 'replay', PCAP, '--rules', RULES]);
    expect(out).not.toMatch(/flow_id|community_id|pcap_cnt/);
    expect(out.split('\n').filter(Boolean)).toHaveLength(4);
  });
});

const BIN = join(repoRoot, 'bin', 'honeywall.js');
const built = existsSync(join(repoRoot, 'dist', 'match', 'replay-worker.js'));
const corpus = join(svDir, 'tests');
describe.skipIf(!built || !existsSync(corpus))('sharded replay, EVE with flow events', () => {
  it('is the single-threaded output byte for byte', async () => {
    const pcaps: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.pcap')) pcaps.push(p);
      }
    };
    walk(corpus);
    const run = async (workers: string) =>
      (
        await promisify(execFile)(
          process.execPath,
          [BIN, 'replay', ...pcaps, '--rules', RULES, '--format', 'eve', '--checksum-mode', 'none', '--workers', workers],
          {
            maxBuffer: 64 << 20,
          },
        ).catch((e: { code?: number; stdout?: string }) => {
          if (e.code === 1 && e.stdout !== undefined) return { stdout: e.stdout };
          throw e;
        })
      ).stdout;
    const single = await run('0');
    expect(lines(single).filter((e) => e.event_type === 'flow').length).toBeGreaterThan(60);
    expect(await run('2')).toBe(single);
    expect(await run('3')).toBe(single);
  }, 120_000);
});
