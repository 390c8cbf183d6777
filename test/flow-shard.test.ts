/**
 * frameShard reads a frame's shard and kind from its headers without decoding it; the law: whenever it answers, the
 * answer is what decode() gives (the shard of the decoded addresses, the flow kind of the decoded transport, or no IP
 * layer at all), on well-formed frames and on any corruption or truncation of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameShard, SHARD_KINDS, SHARD_NO_IP, SHARD_UNKNOWN, shardOf } from '../src/flow/shard.js';
import { buildIp } from '../src/packet/build.js';
import { decode, decodeIpPacket } from '../src/packet/decode.js';
import type { Packet } from '../src/packet/packet.js';
import { frame } from './helpers/frames.js';

function kindOf(p: Packet): string {
  return p.tcp !== undefined ? 'tcp' : p.udp !== undefined ? 'udp' : p.icmp !== undefined || p.icmp6 !== undefined ? 'icmp' : 'ip';
}

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
