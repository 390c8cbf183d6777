/**
 * The law of a shard's report buffer (src/match/shard-reports.ts): what a ReportWriter takes, readReports gives back
 * field for field, as the structured clone of the objects gave it before (the event packet as eventPacketOf makes
 * it); on generated reports (IPv4, IPv6 and no IP header; TCP, UDP, ICMP and ICMPv6; flow ids up to 2^53, app
 * protocols repeated or absent; any number of rules), over several takes of one writer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventPacketOf, type EventPacket } from '../src/match/decide.js';
import { ReportWriter, readReports, type ShardMatch } from '../src/match/shard-reports.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const ipArb = fc.oneof(
  fc.constant(undefined),
  fc.record({ src: bytes(4), dst: bytes(4), proto: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ src: bytes(16), dst: bytes(16), proto: fc.integer({ min: 0, max: 255 }) }),
);
const icmpArb = fc.option(fc.record({ type: fc.integer({ min: 0, max: 255 }), code: fc.integer({ min: 0, max: 255 }) }), { nil: undefined });
const packetArb: fc.Arbitrary<EventPacket> = fc.record({
  tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  tsUsec: fc.integer({ min: 0, max: 999_999 }),
  srcPort: fc.integer({ min: -1, max: 65535 }),
  dstPort: fc.integer({ min: -1, max: 65535 }),
  ip: ipArb,
  tcp: fc.constantFrom(undefined, {}),
  udp: fc.constantFrom(undefined, {}),
  icmp: icmpArb,
  icmp6: icmpArb,
});
const reportArb = fc.record({
  index: fc.nat(),
  phase: fc.constantFrom(0 as const, 1 as const),
  key: fc.nat(),
  seq: fc.nat(),
  rules: fc.array(fc.nat({ max: 100_000 }), { maxLength: 12 }),
  flagBits: fc.array(fc.nat({ max: 2 ** 20 }), { minLength: 12, maxLength: 12 }),
  packet: packetArb,
  pcapCnt: fc.nat(),
  flowId: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
  appProto: fc.option(fc.constantFrom('http', 'tls', 'dns', 'smb', 'failed'), { nil: undefined }),
});

describe('shard reports: a buffer read back is what was written', () => {
  it('on generated reports, over several takes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(reportArb, { maxLength: 20 }), { minLength: 1, maxLength: 4 }), (batches) => {
        const w = new ReportWriter();
        for (const batch of batches) {
          const expected: ShardMatch[] = [];
          for (const r of batch) {
            const flags = r.flagBits.slice(0, r.rules.length);
            w.add(
              { index: r.index, phase: r.phase, key: r.key, key2: 0, seq: r.seq },
              r.rules.map((index) => ({ index })),
              flags,
              r.packet,
              r.pcapCnt,
              r.flowId,
              r.appProto,
            );
            expected.push({
              kind: 'match',
              index: r.index,
              phase: r.phase,
              key: r.key,
              key2: 0,
              seq: r.seq,
              rules: r.rules,
              flags,
              packet: eventPacketOf(r.packet),
              pcapCnt: r.pcapCnt,
              flowId: r.flowId,
              appProto: r.appProto,
            });
          }
          const taken = w.take();
          expect(taken.count).toBe(batch.length);
          expect(readReports(taken)).toEqual(expected);
        }
      }),
      { numRuns: 300, seed: 20261205 },
    );
  });

  it('a large batch grows the buffer and loses nothing', () => {
    const w = new ReportWriter();
    const p: EventPacket = {
      tsSec: 1,
      tsUsec: 2,
      srcPort: 3,
      dstPort: 4,
      ip: { src: new Uint8Array(16).fill(7), dst: new Uint8Array(16), proto: 6 },
      tcp: true,
      udp: undefined,
      icmp: undefined,
      icmp6: undefined,
    };
    const rules = Array.from({ length: 50 }, (_, index) => ({ index }));
    const flags = rules.map((r) => r.index * 3);
    for (let k = 0; k < 2000; k++) w.add({ index: k, phase: 1, key: 0, key2: 0, seq: k }, rules, flags, p, k + 1, undefined, 'http');
    const got = readReports(w.take());
    expect(got).toHaveLength(2000);
    expect(got[1999]!.seq).toBe(1999);
    expect(got[1999]!.flags).toEqual(flags);
    expect(got[1999]!.packet.ip!.src).toEqual(p.ip!.src);
    expect(readReports(w.take())).toEqual([]);
  });
});
