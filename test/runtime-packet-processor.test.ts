/**
 * The gateway's packet path: rules compiled to an artifact (HwIPS_MATCHER) or compiled at load (HwIPS_RULES), loaded
 * by the gateway's loader, and queued datagrams through the PacketProcessor with Snort 2.9 inline verdicts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleSet } from '../src/config/ruleset.js';
import { writeArtifact } from '../src/match/artifact.js';
import { compileRuleSet } from '../src/match/compile.js';
import { buildIp, ipv4 } from '../src/packet/build.js';
import { parseIp } from '../src/packet/bytes.js';
import { communityId } from '../src/flow/community-id.js';
import { transportChecksumOk } from '../src/packet/checksum.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import fc from 'fast-check';
import { loadGatewayMatcher } from '../src/runtime/matcher-loader.js';
import { PacketProcessor, type ProcessResult } from '../src/runtime/packet-processor.js';
import { ethernetFrame, rejectDatagram } from '../src/runtime/reject.js';

/** The decision on one packet that gets its verdict at once (nothing held). */
function one(proc: PacketProcessor<number>, data: Uint8Array, tsSec: number, tsUsec: number): ProcessResult<number> {
  const r = proc.process(data, tsSec, tsUsec, tsSec);
  expect(r).toHaveLength(1);
  return r[0]!;
}

const RULES = [
  'drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"Dropping Telnet connection"; flow:to_server; classtype:attempted-admin; sid:9000001; rev:1;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"Modifying HTTP GET command"; flow:to_server,established; content:"GET"; depth:3; replace:"BET"; classtype:attempted-user; sid:9000002; rev:1;)',
  'sdrop udp $HOME_NET any -> any 53 (msg:"silent"; content:"|07|example"; sid:9000003; rev:1;)',
  'reject tcp $HOME_NET any -> any 8081 (msg:"rejected"; flow:to_server; sid:9000004; rev:1;)',
  '',
].join('\n');

const HP = '10.0.0.20';
const OUT = '10.0.0.1';
const enc = (s: string) => new TextEncoder().encode(s);
const tcp = (src: string, dst: string, sport: number, dport: number, flags: string, seq: number, ack: number, payload = '') =>
  buildIp({ ip: { src, dst }, tcp: { sport, dport, seq, ack, flags }, payload: enc(payload) });

describe('compiled matcher as the gateway inspector (HwIPS_MATCHER)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-matcher-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rules = path.join(dir, 'test.rules');
  writeFileSync(rules, RULES);
  const artifact = path.join(dir, 'test.hwm');
  const compiled = compileRuleSet(loadRuleSet({ paths: [rules], vars: [`HOME_NET=${HP}`, 'EXTERNAL_NET=any'] }));
  const written = writeArtifact(artifact, compiled.plan);

  it('loads through the gateway loader and describes itself', async () => {
    await written;
    expect(compiled.plan.rules).toHaveLength(4);
    const loaded = await loadGatewayMatcher({ rules: [], matcher: artifact, vars: { HOME_NET: HP } });
    expect(loaded.matcher.rules.count).toBe(4);
    expect(loaded.description).toBe(`compiled matcher: 4 rules from ${artifact}, 1 with replace`);
  });

  it('drop (and the rest of the session), replace with fixed checksums, sdrop, reject, clean traffic', async () => {
    await written;
    const proc = new PacketProcessor<number>(await loadGatewayMatcher({ rules: [], matcher: artifact, vars: {} }));
    // Telnet: the SYN is dropped with an event, and so is the retransmission (blocked session).
    const syn23 = one(proc, tcp(HP, OUT, 40000, 23, 'S', 1, 0), 1, 0);
    expect(syn23.verdict).toBe('drop');
    expect(syn23.events.map((e) => [e.sid, e.msg, e.blocked])).toEqual([[9000001, 'Dropping Telnet connection', true]]);
    expect(one(proc, tcp(HP, OUT, 40000, 23, 'S', 1, 0), 2, 0)).toMatchObject({ verdict: 'drop', reason: 'blocked-session', events: [] });

    // HTTP: handshake passes clean; the GET leaves as BET with valid checksums.
    expect(one(proc, tcp(HP, OUT, 40001, 80, 'S', 100, 0), 3, 0).reason).toBe('clean');
    expect(one(proc, tcp(OUT, HP, 80, 40001, 'SA', 500, 101), 3, 0).reason).toBe('clean');
    expect(one(proc, tcp(HP, OUT, 40001, 80, 'A', 101, 501), 3, 0).reason).toBe('clean');
    const get = one(proc, tcp(HP, OUT, 40001, 80, 'PA', 101, 501, 'GET /index.html HTTP/1.0\r\n\r\n'), 4, 0);
    expect(get.verdict).toBe('accept');
    expect(get.reason).toBe('replace');
    expect(get.events.map((e) => [e.sid, e.replaced])).toEqual([[9000002, true]]);
    // the gateway's events carry their session's EVE flow_id, community_id and app_proto (no pcap_cnt: no capture file)
    const [ev] = get.events;
    expect(ev).toMatchObject({ appProto: 'http', communityId: communityId(6, parseIp(HP)!, parseIp(OUT)!, 40001, 80) });
    expect(Number.isSafeInteger(ev!.flowId)).toBe(true);
    expect(ev!.pcapCnt).toBeUndefined();
    expect(syn23.events[0]!.flowId).not.toBe(ev!.flowId);
    const out = decodeIpPacket(get.modified!);
    expect(Buffer.from(out.payload).toString('latin1')).toBe('BET /index.html HTTP/1.0\r\n\r\n');
    expect(transportChecksumOk(get.modified!, out.ip!, 6, out.tcp!.offset, out.ip!.totalLength - out.ip!.headerLength)).toBe(true);
    // A GET that is not at the start of the payload (depth:3) is left alone.
    const later = one(proc, tcp(HP, OUT, 40001, 80, 'PA', 129, 501, 'xGET /'), 5, 0);
    expect(later.reason).toBe('clean');

    // What the gateway really sees: the honeypot's side only (inbound is never queued). With the SYN seen, and midstream.
    expect(one(proc, tcp(HP, OUT, 40005, 80, 'S', 700, 0), 5, 0).reason).toBe('clean');
    expect(one(proc, tcp(HP, OUT, 40005, 80, 'A', 701, 9001), 5, 0).reason).toBe('clean');
    const oneSided = one(proc, tcp(HP, OUT, 40005, 80, 'PA', 701, 9001, 'GET / HTTP/1.0\r\n\r\n'), 5, 0);
    expect(oneSided.reason).toBe('replace');
    expect(Buffer.from(decodeIpPacket(oneSided.modified!).payload).toString('latin1')).toBe('BET / HTTP/1.0\r\n\r\n');
    expect(one(proc, tcp(HP, OUT, 40006, 80, 'PA', 5000, 77, 'GET / HTTP/1.0\r\n\r\n'), 5, 0).reason).toBe('replace');
    // flow:established holds: a bare SYN carrying "GET" is not rewritten.
    expect(one(proc, tcp(HP, OUT, 40007, 80, 'S', 1, 0, 'GET'), 5, 0).reason).toBe('clean');

    // sdrop: dropped, no event.
    const dns = one(proc, buildIp({ ip: { src: HP, dst: OUT }, udp: { sport: 5353, dport: 53 }, payload: enc('\x00\x01\x07example\x03com') }), 6, 0);
    expect(dns).toMatchObject({ verdict: 'drop', reason: 'sdrop', events: [] });
    // reject: dropped, logged, the packet kept to answer.
    const rej = one(proc, tcp(HP, OUT, 40002, 8081, 'S', 1, 0), 7, 0);
    expect(rej.verdict).toBe('drop');
    expect(rej.reason).toBe('reject');
    expect(rej.reject).toBeDefined();
    // Other traffic: clean.
    expect(one(proc, tcp(HP, OUT, 40003, 443, 'S', 1, 0), 8, 0).reason).toBe('clean');
    expect(proc.counters).toMatchObject({ dropped: 4, replaced: 3, rejected: 1, sdropped: 1 });
  });

  it('refuses an artifact compiled for other addresses, and a file that is not an artifact, with one-line errors', async () => {
    const withVars = path.join(dir, 'vars.hwm');
    await written;
    await writeArtifact(withVars, compiled.plan, { vars: { HOME_NET: HP } });
    await expect(loadGatewayMatcher({ rules: [], matcher: withVars, vars: { HOME_NET: '10.9.9.9' } })).rejects.toThrow(
      `HwIPS_MATCHER: ${withVars} was compiled with HOME_NET=${HP}, the config says 10.9.9.9 (recompile with --var HOME_NET=10.9.9.9)`,
    );
    await expect(loadGatewayMatcher({ rules: [], matcher: rules, vars: {} })).rejects.toThrow(
      `HwIPS_MATCHER: ${rules} is not a honeywall matcher artifact`,
    );
  });

  it('HwIPS_RULES: the same rules compiled at load decide the same, and say what did not compile', async () => {
    const bad = path.join(dir, 'with-bad.rules');
    writeFileSync(bad, `${RULES}alert tcp any any -> any any (msg:"broken"; dsize:>=3; sid:5;)\n`);
    const loaded = await loadGatewayMatcher({ rules: [bad], vars: { HOME_NET: HP, EXTERNAL_NET: 'any' } });
    expect(loaded.description).toContain(`rules compiled at load: 4 rules from ${bad}, 1 with replace, 1 not loaded (`);
    expect(loaded.description).toContain('with-bad.rules:5: ');
    const proc = new PacketProcessor<number>(loaded);
    expect(one(proc, tcp(HP, OUT, 40000, 23, 'S', 1, 0), 1, 0)).toMatchObject({ verdict: 'drop', reason: 'drop' });
    const r = one(proc, tcp(HP, OUT, 40004, 8081, 'S', 555, 0), 2, 0);
    const rst = decodeIpPacket(rejectDatagram(r.reject!)!);
    expect(rst.tcp).toMatchObject({ srcPort: 8081, dstPort: 40004, ack: 556 });
    expect(rst.tcp!.flags & 0x04).toBe(4);
    const frame = ethernetFrame(new Uint8Array([1, 2, 3, 4, 5, 6]), new Uint8Array([7, 8, 9, 10, 11, 12]), rejectDatagram(r.reject!)!);
    expect([...frame.subarray(0, 14)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0]);
  });

  it('never throws on arbitrary bytes (malformed packets are counted and passed)', async () => {
    const proc = new PacketProcessor<number>(await loadGatewayMatcher({ rules: [], matcher: artifact, vars: {} }));
    let n = 0;
    await written;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const r = proc.process(b, 0, 0, ++n);
        return r.every((x) => x.verdict === 'accept' || x.verdict === 'drop');
      }),
    );
    expect(proc.counters.malformed).toBeGreaterThan(0);
  });

  it('a caller that reuses its buffer (the queue reads each batch into one): held segments and fragments keep their bytes', async () => {
    // rules on bytes of packets that wait: a segment held for a gap, the first fragment of a datagram
    const held = path.join(dir, 'held.rules');
    writeFileSync(
      held,
      `${RULES}alert tcp any any -> any 80 (msg:"held segment"; content:"HTTP/1.0"; sid:9000005;)\nalert udp any any -> any 5000 (msg:"fragment"; content:"fragged"; sid:9000006;)\n`,
    );
    const spec = { rules: [held], vars: { HOME_NET: HP, EXTERNAL_NET: 'any' } };
    const udp = buildIp({ ip: { src: HP, dst: OUT }, udp: { sport: 4000, dport: 5000 }, payload: enc('fragged datagram, in two pieces') });
    const body = udp.subarray(20);
    const packets = [
      tcp(HP, OUT, 40010, 80, 'S', 100, 0),
      tcp(HP, OUT, 40010, 80, 'A', 101, 501),
      tcp(HP, OUT, 40010, 80, 'PA', 105, 501, '/ HTTP/1.0\r\n\r\n'), // before its gap is filled: held
      ipv4({ src: HP, dst: OUT, id: 77, mf: true }, 17, body.subarray(0, 16)), // first fragment: held
      tcp(HP, OUT, 40010, 80, 'PA', 101, 501, 'GET '), // fills the gap: both leave
      ipv4({ src: HP, dst: OUT, id: 77, fragOffset: 2 }, 17, body.subarray(16)), // completes the datagram
    ];
    const fresh = new PacketProcessor<number>(await loadGatewayMatcher(spec));
    const reused = new PacketProcessor<number>(await loadGatewayMatcher(spec));
    const batch = new Uint8Array(2048);
    const summary = (r: ProcessResult<number>[]) =>
      r.map((x) => [x.handle, x.verdict, x.reason, x.events.map((e) => e.sid), x.modified && Buffer.from(x.modified).toString('latin1')]);
    const sids: number[] = [];
    packets.forEach((d, i) => {
      const expected = summary(fresh.process(d.slice(), 1, i, i));
      for (const x of expected) sids.push(...(x[3] as number[]));
      const view = batch.subarray(64, 64 + d.length);
      view.set(d);
      const got = summary(reused.process(view, 1, i, i));
      batch.fill(0x58); // the next batch overwrites it
      expect(got).toEqual(expected);
    });
    // (the test says something only if the bytes waited and matched)
    expect(sids).toEqual(expect.arrayContaining([9000005, 9000006]));
    expect(fresh.counters).toMatchObject({ replaced: 1, accepted: 6 });
    expect(reused.counters).toEqual(fresh.counters);
  });

  describe('GSO/GRO super-packets (a queue opened with NFQA_CFG_F_GSO)', () => {
    /** The TCP checksum as a sender leaves it for the NIC (CHECKSUM_PARTIAL): the pseudo-header sum only. */
    function partialChecksum(d: Uint8Array): void {
      const p = decodeIpPacket(d, undefined, { verifyChecksums: false });
      const o = p.tcp!.offset;
      const len = p.ip!.totalLength - p.ip!.headerLength;
      let sum = 6 + len;
      for (let i = 12; i < 20; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      d[o + 16] = sum >> 8;
      d[o + 17] = sum & 0xff;
    }
    const big = (prefix: string, n: number) => {
      const b = new Uint8Array(n).fill(0x2e);
      b.set(enc(prefix));
      return b;
    };

    it('a 60 KB TCP super-packet with its checksum not filled in: inspected, rewritten, given full checksums', async () => {
      await written;
      const proc = new PacketProcessor<number>(await loadGatewayMatcher({ rules: [], matcher: artifact, vars: {} }));
      expect(one(proc, tcp(HP, OUT, 41000, 80, 'S', 100, 0), 1, 0).reason).toBe('clean');
      const d = buildIp({
        ip: { src: HP, dst: OUT },
        tcp: { sport: 41000, dport: 80, seq: 101, ack: 501, flags: 'A' },
        payload: big('GET /x HTTP/1.0\r\n', 60_000),
      });
      partialChecksum(d);
      const r = proc.process(d, 2, 0, 2, { gso: true, truncatedFrom: 0 });
      expect(r.map((x) => [x.verdict, x.reason])).toEqual([['accept', 'replace']]);
      const out = decodeIpPacket(r[0]!.modified!);
      expect(Buffer.from(out.payload.subarray(0, 6)).toString('latin1')).toBe('BET /x');
      expect(out.payloadLength).toBe(60_000);
      expect(out.badChecksum).toBe(false);
      expect(transportChecksumOk(r[0]!.modified!, out.ip!, 6, out.tcp!.offset, out.ip!.totalLength - out.ip!.headerLength)).toBe(true);
      expect(proc.counters).toMatchObject({ gso: 1, replaced: 1 });
    });

    it('one copied only in part (its IP total length 0, as over 64 KB) is dropped and logged, its session left alone', async () => {
      await written;
      const proc = new PacketProcessor<number>(await loadGatewayMatcher({ rules: [], matcher: artifact, vars: {} }));
      const d = buildIp({ ip: { src: HP, dst: OUT }, tcp: { sport: 41001, dport: 5001, seq: 1, ack: 1, flags: 'A' }, payload: big('', 65_491) });
      d[2] = 0;
      d[3] = 0;
      const r = proc.process(d, 1, 0, 1, { gso: true, truncatedFrom: 90_000 });
      expect(r.map((x) => [x.verdict, x.reason])).toEqual([['drop', 'truncated']]);
      expect(r[0]!.events.map((e) => [e.gid, e.sid, e.blocked])).toEqual([[1000, 6, true]]);
      expect(r[0]!.events[0]!.src).toBe(HP);
      expect(proc.counters).toMatchObject({ truncated: 1, dropped: 1, streamDropped: 1 });
      // the next packet of that session is inspected as usual
      expect(one(proc, tcp(HP, OUT, 41001, 5001, 'A', 1, 1, 'hello'), 2, 0)).toMatchObject({ verdict: 'accept', reason: 'clean' });
    });

    it('a UDP super-packet (several datagrams in one) is dropped and logged', async () => {
      await written;
      const proc = new PacketProcessor<number>(await loadGatewayMatcher({ rules: [], matcher: artifact, vars: {} }));
      const d = buildIp({ ip: { src: HP, dst: OUT }, udp: { sport: 4433, dport: 443 }, payload: big('', 12_000) });
      const r = proc.process(d, 1, 0, 1, { gso: true, truncatedFrom: 0 });
      expect(r.map((x) => [x.verdict, x.reason])).toEqual([['drop', 'gso-not-tcp']]);
      expect(r[0]!.events.map((e) => [e.gid, e.sid])).toEqual([[1000, 7]]);
      expect(proc.counters.gsoNotTcp).toBe(1);
      // the same datagram not flagged GSO is one datagram, inspected
      expect(one(proc, d, 2, 0)).toMatchObject({ verdict: 'accept', reason: 'clean' });
    });
  });
});
