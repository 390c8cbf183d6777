/**
 * The shard plan (src/flow/shard.ts ShardPlan, native/src/honeywall_shard.c): which shard of a sharded replay
 * inspects a frame. Its laws: the kind it gives is decode()'s (tcp, udp, icmp, ip) and it says "no IP" exactly when
 * decode() finds no IP layer, on well-formed frames and on any corruption or truncation of them; a flow, its replies
 * and its fragments get one shard; two plans fed the same frames give the same answers (every shard asks its own);
 * a pair seen first goes to the shard given the fewest bytes; past its pairs a plan places new pairs by their hash,
 * the same every time, and counts their frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHARD_KINDS, SHARD_NO_IP, ShardPlan } from '../src/flow/shard.js';
import { buildIp } from '../src/packet/build.js';
import { decode, decodeIpPacket } from '../src/packet/decode.js';
import type { Packet } from '../src/packet/packet.js';
import { frame } from './helpers/frames.js';

function kindOf(p: Packet): string {
  return p.tcp !== undefined ? 'tcp' : p.udp !== undefined ? 'udp' : p.icmp !== undefined || p.icmp6 !== undefined ? 'icmp' : 'ip';
}

const syn = (src: string, dst: string, sport: number, dport: number, payload = 0) =>
  buildIp({ ip: { src, dst, ttl: 64 }, tcp: { sport, dport, flags: 'S', seq: 1, ack: 0, window: 100 }, payload: new Uint8Array(payload) });

describe('the shard plan', () => {
  it('gives decode’s kind, and no IP exactly where decode finds none', () => {
    let ip = 0;
    let noIp = 0;
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 5 }), (frames, shards) => {
        const plan = new ShardPlan(shards);
        const again = new ShardPlan(shards);
        for (const { link, bytes } of frames) {
          const p =
            link === -1 ? decodeIpPacket(bytes, undefined, { verifyChecksums: false }) : decode(link, bytes, undefined, { verifyChecksums: false });
          const r = plan.frame(link, bytes);
          // every shard asks its own plan: the same frames, the same answers
          expect(again.frame(link, bytes)).toBe(r);
          if (r === SHARD_NO_IP) {
            noIp++;
            expect(p.ip).toBeUndefined();
          } else {
            ip++;
            expect(p.ip).toBeDefined();
            expect(r >> 2).toBeLessThan(shards);
            expect(SHARD_KINDS[r & 3]).toBe(kindOf(p));
          }
        }
      }),
      { numRuns: 1500 },
    );
    expect(ip).toBeGreaterThan(1500);
    expect(noIp).toBeGreaterThan(100);
  });

  it('gives a flow, its replies and its fragments one shard, and a new pair to the shard given the fewest bytes', () => {
    const plan = new ShardPlan(4);
    const shardOf = (b: Uint8Array) => plan.frame(-1, b) >> 2;
    // 32 pairs, one frame each of the same size: round robin
    const first = Array.from({ length: 32 }, (_, i) => shardOf(syn(`10.0.0.${i}`, '192.168.1.1', 1000 + i, 80)));
    expect(first).toEqual(Array.from({ length: 32 }, (_, i) => i % 4));
    // replies, other ports, fragments of the pair: the pair's shard
    for (let i = 0; i < 32; i++) {
      expect(shardOf(syn('192.168.1.1', `10.0.0.${i}`, 80, 1000 + i))).toBe(i % 4);
      expect(shardOf(syn(`10.0.0.${i}`, '192.168.1.1', 5, 443))).toBe(i % 4);
      const frag = buildIp({
        ip: { src: `10.0.0.${i}`, dst: '192.168.1.1', ttl: 64, id: 9, fragOffset: 3, mf: false },
        proto: 17,
        payload: new Uint8Array(16),
      });
      expect(plan.frame(-1, frag)).toBe((i % 4) * 4 + SHARD_KINDS.indexOf('ip'));
    }
    // a heavy pair on shard 0: the next new pairs go to the others until they have as many bytes
    const heavy = new ShardPlan(2);
    const big = syn('10.1.0.1', '10.1.0.2', 1, 2, 1000);
    expect(heavy.frame(-1, big) >> 2).toBe(0);
    for (let k = 0; k < 5; k++) expect(heavy.frame(-1, big) >> 2).toBe(0);
    const small = Array.from({ length: 20 }, (_, i) => heavy.frame(-1, syn(`10.2.0.${i}`, '10.1.0.2', 1, 2, 200)) >> 2);
    expect(small).toEqual(Array.from({ length: 20 }, () => 1));
    const bytes = heavy.stats.bytes;
    expect(bytes[1]).toBeGreaterThan(bytes[0]! * 0.6);
  });

  it('places the pairs past its limit by their hash, the same each time, and counts their frames', () => {
    const plan = new ShardPlan(3, 2);
    const answers = Array.from({ length: 10 }, (_, i) => plan.frame(-1, syn(`10.0.0.${i}`, '10.9.9.9', 7, 80)));
    expect(plan.stats.pairs).toBe(2);
    expect(plan.stats.hashed).toBe(8);
    // the same pairs again (and their replies): the same shards
    for (let i = 0; i < 10; i++) expect(plan.frame(-1, syn('10.9.9.9', `10.0.0.${i}`, 80, 7))).toBe(answers[i]);
    expect(plan.stats.hashed).toBe(16);
    // the hash spreads them
    expect(new Set(answers.slice(2).map((r) => r >> 2)).size).toBeGreaterThan(1);
  });
});
