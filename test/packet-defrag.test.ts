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

/**
 * The per-byte algorithm the defragmenter used before its interval structure, kept as the reference: every held
 * fragment in arrival order, each byte owned by the fragment the policy prefers. One change: bytes held past the
 * total a later last fragment sets are ignored (the old code then never completed the datagram, or threw under bsd).
 */
function referenceDefrag(policy: 'bsd' | 'first' | 'last') {
  const frags: { start: number; end: number; data: Uint8Array }[] = [];
  let total = -1;
  let header = false;
  return (start: number, data: Uint8Array, mf: boolean): Uint8Array | undefined | 'bad' => {
    const end = start + data.length;
    if (mf && data.length === 0) return 'bad';
    if (!mf) {
      if (total >= 0 && total !== end) return 'bad';
      total = end;
    } else if (total >= 0 && end > total) return 'bad';
    if (start === 0) header = true;
    frags.push({ start, end, data });
    if (total < 0 || !header) return undefined;
    const sorted = frags.slice().sort((a, b) => a.start - b.start);
    let reach = 0;
    for (const f of sorted) {
      if (f.start >= total) break;
      if (f.start > reach) return undefined;
      reach = Math.max(reach, f.end);
    }
    if (reach < total) return undefined;
    const out = new Uint8Array(total);
    const owner = new Int32Array(total).fill(-1);
    frags.forEach((f, i) => {
      for (let x = f.start; x < Math.min(f.end, total); x++) {
        const o = owner[x];
        const take = o < 0 || policy === 'last' || (policy === 'bsd' && f.start < frags[o].start);
        if (take) {
          owner[x] = i;
          out[x] = f.data[x - f.start];
        }
      }
    });
    frags.length = 0;
    total = -1;
    header = false;
    return out;
  };
}

const frag = (off: number, data: Uint8Array, mf: boolean, id = 5) =>
  buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2', id, fragOffset: off / 8, mf }, proto: 253, payload: data });

describe('defrag: the interval structure and its limits', () => {
  it('property: overlapping fragments give the bytes the per-byte reference gives, for every policy', () => {
    const fragArb = fc.record({
      cell: fc.integer({ min: 0, max: 12 }),
      len: fc.integer({ min: 0, max: 40 }),
      mf: fc.boolean(),
      fill: fc.integer({ min: 1, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('bsd' as const, 'first' as const, 'last' as const),
        fc.array(fragArb, { minLength: 1, maxLength: 30 }),
        (policy, list) => {
          const d = new Defragmenter({ policy });
          const ref = referenceDefrag(policy);
          list.forEach((f0, i) => {
            const f = f0.cell === 0 && !f0.mf ? { ...f0, mf: true } : f0; // offset 0 without MF is no fragment
            // distinct bytes per fragment and position, so any byte taken from the wrong fragment shows
            const data = Uint8Array.from({ length: f.len }, (_, k) => (f.fill + i * 7 + k) & 0xff);
            const want = ref(f.cell * 8, data, f.mf);
            const before = d.stats.bad;
            const got = d.add(decodeIpPacket(frag(f.cell * 8, data, f.mf)));
            if (want === 'bad') expect(d.stats.bad).toBe(before + 1);
            else if (want === undefined) expect(got).toBeUndefined();
            else expect(got && Buffer.from(got.payload).toString('hex')).toBe(Buffer.from(want).toString('hex'));
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('a fragment held past the total a later last fragment sets is cut, not a crash', () => {
    const d = new Defragmenter();
    expect(d.add(decodeIpPacket(frag(0, new Uint8Array(24).fill(0x41), true)))).toBeUndefined();
    const whole = d.add(decodeIpPacket(frag(8, new Uint8Array(8).fill(0x42), false)));
    expect(Buffer.from(whole!.payload).toString()).toBe('AAAAAAAAAAAAAAAA');
  });
  it('60,000 tiny overlapping fragments in a hole hold a few hundred bytes, and the datagram still completes', () => {
    const d = new Defragmenter();
    d.add(decodeIpPacket(frag(0, new Uint8Array(8).fill(0x41), true)));
    d.add(decodeIpPacket(frag(8000, new Uint8Array(8).fill(0x5a), false)));
    // each copy of an 8-byte fragment at 16..80 overlaps the ones held: the one held before wins (bsd)
    const tiny = decodeIpPacket(frag(16 + 8 * (0 % 8), new Uint8Array(16).fill(0x43), true));
    for (let i = 0; i < 60_000; i++)
      d.add(i % 8 === 0 ? tiny : decodeIpPacket(frag(16 + 8 * (i % 8), new Uint8Array(16).fill(0x43 + (i % 8)), true)));
    expect(d.memory).toBeLessThan(20_000); // the buffer (8,008 bytes) and a few pieces; every copy held before: 960 kB
    expect(d.stats.overlaps).toBeGreaterThan(59_000);
    const whole = d.add(decodeIpPacket(frag(8, new Uint8Array(8000 - 8).fill(0x44), true)));
    const payload = Buffer.from(whole!.payload);
    expect(payload.length).toBe(8008);
    // bsd: the filler starts before every tiny fragment, so it wins over all of them
    expect(payload.toString()).toBe(`AAAAAAAA${'D'.repeat(7992)}ZZZZZZZZ`);
    expect(d.memory).toBe(0);
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
