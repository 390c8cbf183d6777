import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIp, fragmentDatagram } from '../src/packet/build.js';
import { decodeIpPacket, DecodeStats } from '../src/packet/decode.js';
import { Defragmenter } from '../src/packet/defrag.js';

const feed = (d: Defragmenter, frags: Uint8Array[], ts = 0) => {
  const out = [];
  for (const f of frags) {
    const p = decodeIpPacket(f);
    p.tsSec = ts;
    const r = d.add(p);
    if (r) out.push(r);
  }
  return out;
};

describe('defrag', () => {
  it('reassembles IPv4 UDP and decodes the transport', () => {
    const orig = buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 99 }, udp: { sport: 1, dport: 53 }, payload: 'A'.repeat(100) });
    const frags = fragmentDatagram(orig, 24);
    expect(frags.length).toBe(5);
    for (const f of frags) expect(decodeIpPacket(f).ip!.isFragment).toBe(true);
    const stats = new DecodeStats();
    const out = feed(new Defragmenter(), frags.reverse());
    expect(out.length).toBe(1);
    expect(out[0].data).toEqual(orig);
    expect(out[0].origin).toBe('defrag');
    expect(out[0].udp?.checksumOk).toBe(true);
    expect(Buffer.from(out[0].payload).toString()).toBe('A'.repeat(100));
    void stats;
  });
  it('reassembles IPv6 with a hop-by-hop header and removes the fragment header', () => {
    const orig = buildIp({ ip: { src: '2001::1', dst: '2001::2', ext: [{ type: 0, body: new Uint8Array(7) }] }, tcp: { sport: 1, dport: 2 }, payload: 'B'.repeat(77) });
    const frags = fragmentDatagram(orig, 32, 7);
    const f0 = decodeIpPacket(frags[0]);
    expect(f0.ip6!.ext.map((e) => e.type)).toEqual([0, 44]);
    const out = feed(new Defragmenter(), frags);
    expect(out[0].data).toEqual(orig);
    expect(out[0].tcp?.checksumOk).toBe(true);
  });
  it('bsd policy: old data wins unless the new fragment starts earlier', () => {
    // payload 24 bytes: frag A [8,16) "AAAAAAAA", frag B [8,24) "BBBB.." (same start: A wins), frag C [0,16) "CCCC.." (starts earlier: C wins on [8,16))
    const base = buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 5 }, proto: 253, payload: new Uint8Array(24) });
    const mk = (off: number, fill: string, len: number, mf: boolean) =>
      buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 5, fragOffset: off / 8, mf }, proto: 253, payload: fill.repeat(len) });
    void base;
    const run = (order: Uint8Array[]) => Buffer.from(feed(new Defragmenter(), order)[0].payload).toString();
    const A = mk(8, 'A', 8, true);
    const B = mk(8, 'B', 16, false);
    const C = mk(0, 'C', 16, true);
    expect(run([A, B, C])).toBe('CCCCCCCCCCCCCCCCBBBBBBBB');
    expect(run([B, A, C])).toBe('CCCCCCCCCCCCCCCCBBBBBBBB');
    const D = mk(0, 'D', 8, true);
    expect(run([A, B, D])).toBe('DDDDDDDDAAAAAAAABBBBBBBB');
    const d = new Defragmenter({ policy: 'last' });
    expect(Buffer.from(feed(d, [A, B, D])[0].payload).toString()).toBe('DDDDDDDDBBBBBBBBBBBBBBBB');
  });
  it('times out incomplete datagrams and bounds memory', () => {
    const d = new Defragmenter({ timeoutSec: 60, memcap: 1000 });
    const frags = fragmentDatagram(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 1 }, proto: 253, payload: new Uint8Array(64) }), 16);
    feed(d, frags.slice(1), 0);
    expect(d.pending).toBe(1);
    feed(d, frags.slice(0, 1), 100); // too late: the old tracker expired, this starts a new one
    expect(d.stats.timeouts).toBe(1);
    expect(d.stats.reassembled).toBe(0);
    for (let i = 0; i < 50; i++) {
      feed(d, fragmentDatagram(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 1000 + i }, proto: 253, payload: new Uint8Array(200) }), 64).slice(0, 2), 100);
    }
    expect(d.memory).toBeLessThanOrEqual(1000);
    expect(d.stats.evicted).toBeGreaterThan(0);
  });
  it('property: fragments in any order (with duplicates) reassemble to the original', () => {
    fc.assert(fc.property(
      fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.integer({ min: 8, max: 200 }), fc.nat(), fc.boolean(),
      (v6, payload, size, seed, dup) => {
        const ip = v6 ? { src: '2001::1', dst: '2001::2' } : { src: '10.0.0.1', dst: '10.0.0.2', id: 77 };
        const orig = buildIp({ ip, udp: { sport: 9, dport: 10 }, payload });
        const frags = fragmentDatagram(orig, size, 3);
        const whole = frags.length === 1 && !decodeIpPacket(frags[0]).ip!.isFragment;
        if (dup) frags.push(frags[seed % frags.length]);
        // deterministic shuffle from seed
        let s = seed;
        for (let i = frags.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) >>> 0;
          const j = s % (i + 1);
          [frags[i], frags[j]] = [frags[j], frags[i]];
        }
        const out = feed(new Defragmenter(), frags);
        if (whole) return out.length === 0;
        return out.length >= 1 && Buffer.from(out[0].data).equals(Buffer.from(orig)) && out[0].udp?.checksumOk === true;
      }), { numRuns: 500 });
  });
});
