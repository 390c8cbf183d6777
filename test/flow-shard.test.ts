/**
 * frameShard reads a frame's shard and kind from its headers without decoding it; the law: whenever it answers, the
 * answer is what decode() gives (the shard of the decoded addresses, the flow kind of the decoded transport, or no IP
 * layer at all), on well-formed frames and on any corruption or truncation of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameShard, SHARD_KINDS, SHARD_NO_IP, SHARD_UNKNOWN, shardOf } from '../src/flow/shard.js';
import { buildIp, type PacketSpec } from '../src/packet/build.js';
import { decode, decodeIpPacket } from '../src/packet/decode.js';
import type { Packet } from '../src/packet/packet.js';

function kindOf(p: Packet): string {
  return p.tcp !== undefined ? 'tcp' : p.udp !== undefined ? 'udp' : p.icmp !== undefined || p.icmp6 !== undefined ? 'icmp' : 'ip';
}

const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `10.0.${a}.${b}`);
const v6 = fc.integer({ min: 0, max: 0xffff }).map((a) => `2001:db8::${a.toString(16)}`);
const spec: fc.Arbitrary<PacketSpec> = fc
  .record({
    six: fc.boolean(),
    a: fc.nat(),
    b: fc.nat(),
    l4: fc.constantFrom('tcp', 'udp', 'icmp', 'raw'),
    payload: fc.uint8Array({ maxLength: 40 }),
    sport: fc.integer({ min: 0, max: 65535 }),
    dport: fc.integer({ min: 0, max: 65535 }),
  })
  .chain(({ six, l4, payload, sport, dport }) =>
    fc.tuple(six ? v6 : v4, six ? v6 : v4, fc.constantFrom(47, 4, 41, 99, 0, 43, 59)).map(([src, dst, proto]) => {
      const s: PacketSpec = { ip: { src, dst, ttl: 64 }, payload };
      if (l4 === 'tcp') s.tcp = { sport, dport, flags: 'PA', seq: 1, ack: 1, window: 100 };
      else if (l4 === 'udp') s.udp = { sport, dport };
      else if (l4 === 'icmp') s.icmp = { type: sport & 0xff, code: 0 };
      else s.proto = proto;
      return s;
    }),
  );

/** A datagram as Ethernet (0-2 VLAN tags) or raw IP, then maybe damaged: bytes changed, cut short or padded. */
const frame = fc
  .record({
    spec,
    link: fc.constantFrom(1, -1, 101),
    vlans: fc.integer({ min: 0, max: 3 }),
    flips: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })),
    cut: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
    pad: fc.integer({ min: 0, max: 8 }),
  })
  .map(({ spec: s, link, vlans, flips, cut, pad }) => {
    const ip = buildIp(s);
    let bytes: Uint8Array;
    if (link === 1) {
      const tags = Array.from({ length: vlans }, (_, i) => [0x81, 0x00, 0x00, i + 1]).flat();
      const type = ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [0x08, 0x00];
      bytes = Uint8Array.from([...new Array<number>(12).fill(2), ...tags, ...type, ...ip, ...new Array<number>(pad).fill(0)]);
    } else bytes = Uint8Array.from([...ip, ...new Array<number>(pad).fill(0)]);
    for (const [at, v] of flips) bytes[at % bytes.length] = v;
    if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return { link, bytes };
  });

describe('frameShard', () => {
  it('agrees with decode whenever it answers', () => {
    const answered = { yes: 0, unknown: 0, noIp: 0 };
    fc.assert(
      fc.property(frame, fc.integer({ min: 1, max: 5 }), ({ link, bytes }, shards) => {
        const p =
          link === -1 ? decodeIpPacket(bytes, undefined, { verifyChecksums: false }) : decode(link, bytes, undefined, { verifyChecksums: false });
        const r = frameShard(link, bytes, shards);
        if (r === SHARD_UNKNOWN) answered.unknown++;
        else if (r === SHARD_NO_IP) {
          answered.noIp++;
          expect(p.ip).toBeUndefined();
        } else {
          answered.yes++;
          expect(p.ip).toBeDefined();
          expect(r >> 2).toBe(shardOf(p.ip!.src, p.ip!.dst, shards));
          expect(SHARD_KINDS[r & 3]).toBe(kindOf(p));
        }
      }),
      { numRuns: 5000 },
    );
    // the generator reaches all three answers
    expect(answered.yes).toBeGreaterThan(1500);
    expect(answered.noIp).toBeGreaterThan(100);
    expect(answered.unknown).toBeGreaterThan(50);
  });

  it('gives a flow, its replies and its fragments one shard', () => {
    const out = (src: string, dst: string, sport: number, dport: number) =>
      frameShard(-1, buildIp({ ip: { src, dst, ttl: 64 }, tcp: { sport, dport, flags: 'S', seq: 1, ack: 0, window: 100 } }), 4) >> 2;
    for (let i = 0; i < 50; i++) expect(out(`10.0.0.${i}`, '192.168.1.1', 1000 + i, 80)).toBe(out('192.168.1.1', `10.0.0.${i}`, 80, 1000 + i));
    // neighbouring addresses spread over the shards
    const seen = new Set(Array.from({ length: 32 }, (_, i) => out(`10.0.0.${i}`, '192.168.1.1', 5, 80)));
    expect(seen.size).toBe(4);
  });
});
