import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIp, fragmentDatagram } from '../src/packet/build.js';
import { decodeIpPacket, DecodeStats } from '../src/packet/decode.js';
import { Defragmenter, type OverlapPolicy } from '../src/packet/defrag.js';

const POLICIES: OverlapPolicy[] = ['first', 'last', 'bsd', 'bsd-right', 'linux', 'windows', 'solaris'];

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
    const orig = buildIp({
      ip: { src: '2001::1', dst: '2001::2', ext: [{ type: 0, body: new Uint8Array(7) }] },
      tcp: { sport: 1, dport: 2 },
      payload: 'B'.repeat(77),
    });
    const frags = fragmentDatagram(orig, 32, 7);
    const f0 = decodeIpPacket(frags[0]);
    expect(f0.ip6!.ext.map((e) => e.type)).toEqual([0, 44]);
    const out = feed(new Defragmenter(), frags);
    expect(out[0].data).toEqual(orig);
    expect(out[0].tcp?.checksumOk).toBe(true);
  });
  it("overlaps by frag3's policies (the property against Snort itself for all seven is in diff-snort.test.ts)", () => {
    // payload 24 bytes: frag A [8,16) "AAAAAAAA", frag B [8,24) "BBBB.." last, frag C [0,16) "CCCC.."
    const mk = (off: number, fill: string, len: number, mf: boolean) =>
      buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 5, fragOffset: off / 8, mf }, proto: 253, payload: fill.repeat(len) });
    const run = (order: Uint8Array[], policy?: OverlapPolicy) => Buffer.from(feed(new Defragmenter({ policy }), order)[0].payload).toString();
    const A = mk(8, 'A', 8, true);
    const B = mk(8, 'B', 16, false);
    const C = mk(0, 'C', 16, true);
    const D = mk(0, 'D', 8, true);
    // bsd: a new fragment wholly over a held one that ends where it ends, starting before it, takes its bytes
    expect(run([A, B, C], 'bsd')).toBe('CCCCCCCCCCCCCCCCBBBBBBBB');
    expect(run([B, A, C], 'bsd')).toBe('CCCCCCCCCCCCCCCCBBBBBBBB');
    expect(run([A, B, D], 'bsd')).toBe('DDDDDDDDAAAAAAAABBBBBBBB');
    // windows (the default, the shipped snort.conf's): the held bytes stay
    expect(run([A, B, C])).toBe('CCCCCCCCAAAAAAAABBBBBBBB');
    // last: the new fragment's bytes win
    expect(run([A, B, D], 'last')).toBe('DDDDDDDDBBBBBBBBBBBBBBBB');
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
      feed(
        d,
        fragmentDatagram(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id: 1000 + i }, proto: 253, payload: new Uint8Array(200) }), 64).slice(0, 2),
        100,
      );
    }
    expect(d.memory).toBeLessThanOrEqual(1000);
    expect(d.stats.evicted).toBeGreaterThan(0);
  });
  it('property: fragments in any order (with duplicates) reassemble to the original', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.integer({ min: 8, max: 200 }),
        fc.nat(),
        fc.boolean(),
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
        },
      ),
      { numRuns: 500 },
    );
  });
});

const frag = (off: number, data: Uint8Array, mf: boolean, id = 5) =>
  buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id, fragOffset: off / 8, mf }, proto: 253, payload: data });

describe('defrag: the interval structure and its limits', () => {
  it('property: whatever the fragments, no throw, and the memory held is what the datagrams hold', () => {
    const fragArb = fc.record({
      cell: fc.integer({ min: 0, max: 12 }),
      len: fc.integer({ min: 0, max: 40 }),
      mf: fc.boolean(),
      id: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.constantFrom(...POLICIES), fc.array(fragArb, { minLength: 1, maxLength: 40 }), (policy, list) => {
        const d = new Defragmenter({ policy });
        list.forEach((f0, i) => {
          const f = f0.cell === 0 && !f0.mf ? { ...f0, mf: true } : f0; // offset 0 without MF is no fragment
          const data = Uint8Array.from({ length: f.len }, (_, k) => (i * 7 + k) & 0xff);
          const whole = d.add(decodeIpPacket(frag(f.cell * 8, data, f.mf, f.id)));
          if (whole !== undefined) expect(whole.ip!.isFragment).toBe(false);
        });
        if (d.pending === 0) expect(d.memory).toBe(0);
        d.expire(1e9);
        expect(d.pending).toBe(0);
        expect(d.memory).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });
  it('property: fragments that do not overlap reassemble to the original, in any order, under every policy', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...POLICIES),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.integer({ min: 8, max: 64 }),
        fc.nat(),
        (policy, payload, size, seed) => {
          const orig = buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 77 }, proto: 253, payload });
          const frags = fragmentDatagram(orig, size, 3);
          if (frags.length === 1) return true;
          let s = seed;
          for (let i = frags.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) >>> 0;
            const j = s % (i + 1);
            [frags[i], frags[j]] = [frags[j]!, frags[i]!];
          }
          const out = feed(new Defragmenter({ policy }), frags);
          return out.length === 1 && Buffer.from(out[0].payload).equals(Buffer.from(payload));
        },
      ),
      { numRuns: 500 },
    );
  });
  it('a last fragment inside a held one is cut away (frag3 moves it past the held bytes); another last one completes', () => {
    const d = new Defragmenter();
    expect(d.add(decodeIpPacket(frag(0, new Uint8Array(24).fill(0x41), true)))).toBeUndefined();
    // its size becomes the datagram's (16), but nothing is left of it past [0,24): refused
    expect(d.add(decodeIpPacket(frag(8, new Uint8Array(8).fill(0x42), false)))).toBeUndefined();
    expect(d.stats.bad).toBe(1);
    const whole = d.add(decodeIpPacket(frag(24, new Uint8Array(8).fill(0x43), false)));
    expect(Buffer.from(whole!.payload).toString()).toBe(`${'A'.repeat(24)}${'C'.repeat(8)}`);
  });
  it('a teardrop (a last fragment over held bytes, ending before the size) makes the datagram bad: never rebuilt', () => {
    const d = new Defragmenter();
    d.add(decodeIpPacket(frag(0, new Uint8Array(16).fill(0x41), true)));
    d.add(decodeIpPacket(frag(24, new Uint8Array(8).fill(0x5a), false)));
    expect(d.add(decodeIpPacket(frag(8, new Uint8Array(8).fill(0x42), false)))).toBeUndefined();
    // the hole filled: complete, but bad
    expect(d.add(decodeIpPacket(frag(16, new Uint8Array(8).fill(0x43), true)))).toBeUndefined();
    expect(d.stats.reassembled).toBe(0);
    expect(d.pending).toBe(0);
  });
  it('60,000 tiny overlapping fragments: past the overlap limit none is taken, memory stays small, time linear', () => {
    const d = new Defragmenter();
    d.add(decodeIpPacket(frag(0, new Uint8Array(8).fill(0x41), true)));
    d.add(decodeIpPacket(frag(8000, new Uint8Array(8).fill(0x5a), false)));
    const t0 = performance.now();
    for (let i = 0; i < 60_000; i++) d.add(decodeIpPacket(frag(16 + 8 * (i % 8), new Uint8Array(16).fill(0x43 + (i % 8)), true)));
    expect(performance.now() - t0).toBeLessThan(5_000);
    // (a fragment around held ones is added in pieces before the limit refuses the rest, as in frag3: the
    // per-datagram memcap bounds what that holds)
    expect(d.memory).toBeLessThanOrEqual(1024 * 1024);
    expect(d.stats.bad).toBeGreaterThan(59_900);
    // frag3's overlap_limit 10 (the shipped snort.conf): the datagram takes no more fragments, the filler included
    expect(d.add(decodeIpPacket(frag(8, new Uint8Array(8000 - 8).fill(0x44), true)))).toBeUndefined();
  });
  it('8,000 fragments in a random order: placed by bisection, not a walk of the list', () => {
    const payload = new Uint8Array(64_000).map((_, i) => i & 0xff);
    const frags = fragmentDatagram(buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 9 }, proto: 253, payload }), 8, 9);
    let s = 7;
    for (let i = frags.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) >>> 0;
      const j = s % (i + 1);
      [frags[i], frags[j]] = [frags[j]!, frags[i]!];
    }
    const t0 = performance.now();
    const out = feed(new Defragmenter(), frags);
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(Buffer.from(out[0].payload).equals(Buffer.from(payload))).toBe(true);
  });
  it('a datagram over the per-datagram memcap is dropped and counted, even when it is the only one', () => {
    const d = new Defragmenter({ datagramMemcap: 4096 });
    // 100 fragments of 8 bytes at distinct offsets: 100 pieces (6,400 bytes of pieces alone)
    for (let i = 1; i <= 100; i++) d.add(decodeIpPacket(frag(8 * i, new Uint8Array(8).fill(i), true)));
    expect(d.stats.datagramMemcap).toBe(1);
    expect(d.memory).toBeLessThanOrEqual(4096);
  });
  it('the total memcap applies while a single datagram is tracked', () => {
    const d = new Defragmenter({ memcap: 2000 });
    for (let i = 1; i <= 100; i++) d.add(decodeIpPacket(frag(8 * i, new Uint8Array(8).fill(i), true)));
    expect(d.stats.evicted).toBeGreaterThan(0);
    expect(d.memory).toBeLessThanOrEqual(2000);
  });
});

describe('defrag: bounded work under hostile overlaps (issue 12)', () => {
  // 200,000 tiny fragments at pseudo-random 8-byte offsets of one datagram, overlapping each other, with frag3's
  // overlap_limit off (0): each policy's overlap handling (moving past held bytes, dropping, trimming and splitting
  // them, the unsorted lists bsd-right and last make) runs on every fragment. The per-datagram memcap bounds how many
  // pieces one datagram holds (the datagram is dropped and the next fragment starts it again), so the work per fragment
  // is bounded and the whole linear in the fragments; memory stays under the memcaps.
  const hostile = (n: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const off = (s >>> 8) % 1000;
      const len = 8 + 8 * ((s >>> 4) % 3);
      out.push(frag(off * 8, new Uint8Array(len).fill(i & 0xff), true, 7));
    }
    return out;
  };
  for (const policy of POLICIES) {
    it(`${policy}: 200,000 overlapping tiny fragments, no overlap limit: bounded memory, linear time`, () => {
      const frags = hostile(200_000);
      const d = new Defragmenter({ policy, overlapLimit: 0, datagramMemcap: 256 * 1024 });
      const t0 = performance.now();
      let peak = 0;
      for (let i = 0; i < frags.length; i++) {
        d.add(decodeIpPacket(frags[i]!));
        if ((i & 1023) === 0) peak = Math.max(peak, d.memory);
      }
      const ms = performance.now() - t0;
      expect(peak).toBeLessThanOrEqual(256 * 1024);
      expect(d.memory).toBeLessThanOrEqual(256 * 1024);
      expect(d.stats.overlaps).toBeGreaterThan(100_000);
      // (2-4 s here, decoding included, on 2 loaded cores; a quadratic walk would take minutes)
      expect(ms).toBeLessThan(15_000);
    }, 60_000);
  }
});
