/**
 * The native front's defragmenter (native/src/honeywall_defrag.c) against src/packet/defrag.ts Defragmenter (which
 * test/packet-defrag.test.ts and the Snort differential tests hold to frag3): the same datagram rebuilt, byte for
 * byte, from every fragment that completes one, and the same figures (fragments, datagrams rebuilt, timeouts,
 * evictions, memcap drops, overlaps, fragments refused, datagrams pending, bytes held), over fragments of any offset,
 * length and order that overlap, repeat and carry different bytes, of IPv4 (with options) and IPv6 (with extension
 * headers) datagrams interleaved, under the seven overlap policies, with TTLs under min_ttl, times past the timeout,
 * overlap limits, and tracker and memory limits small enough to be hit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../src/native/engine.js';
import { buildIp } from '../src/packet/build.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import { Defragmenter, type OverlapPolicy } from '../src/packet/defrag.js';

const engine = loadEngine();
/** In honeywall_defrag.h's order (hw_overlap_policy). */
const POLICIES: OverlapPolicy[] = ['first', 'last', 'bsd', 'bsd-right', 'linux', 'windows', 'solaris'];

const fragment = fc.record({
  datagram: fc.integer({ min: 0, max: 2 }),
  offset: fc.integer({ min: 0, max: 12 }),
  length: fc.integer({ min: 0, max: 40 }),
  mf: fc.boolean(),
  fill: fc.integer({ min: 0x41, max: 0x5a }),
  ttl: fc.oneof({ weight: 12, arbitrary: fc.constant(64) }, { weight: 1, arbitrary: fc.constant(0) }),
  gap: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) }),
});

type Fragment = typeof fragment extends fc.Arbitrary<infer T> ? T : never;

/** A datagram's fragments covering it from 0 to its end (the last without MF), each with its own bytes. */
const cover = fc
  .record({
    datagram: fc.integer({ min: 0, max: 2 }),
    pieces: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
    end: fc.integer({ min: 1, max: 20 }),
  })
  .map(({ datagram, pieces, end }) => {
    const out: Fragment[] = [];
    let offset = 0;
    for (const [k, units] of pieces.entries())
      out.push({ datagram, offset, length: 8 * units, mf: true, fill: 0x61 + k, ttl: 64, gap: 0 }), (offset += units);
    out.push({ datagram, offset, length: end, mf: false, fill: 0x7a, ttl: 64, gap: 0 });
    return out;
  });

const datagram = fc.record({
  six: fc.boolean(),
  proto: fc.constantFrom(17, 6, 253),
  options: fc.option(fc.constantFrom(Uint8Array.from([7, 7, 4, 1, 2, 3, 4, 0]), Uint8Array.from([1, 1, 1, 0]))),
  ext: fc.boolean(),
});

const config = fc.record({
  policy: fc.integer({ min: 0, max: 6 }),
  timeout: fc.constantFrom(180, 60),
  memcap: fc.constantFrom(4 * 1024 * 1024, 600, 300),
  datagramMemcap: fc.constantFrom(1024 * 1024, 400),
  maxTrackers: fc.constantFrom(65536, 2, 1),
  overlapLimit: fc.constantFrom(10, 0, 2),
  detectAnomalies: fc.boolean(),
  minTtl: fc.constantFrom(1, 0),
  holeFill: fc.constantFrom(0, 0x2e),
});

function frameOf(d: { six: boolean; proto: number; options: Uint8Array | null; ext: boolean }, k: number, f: Fragment): Uint8Array {
  const ip = d.six
    ? {
        src: '2001:db8::1',
        dst: `2001:db8::${k + 2}`,
        ttl: f.ttl,
        id: 7 + k,
        fragOffset: f.offset,
        mf: f.mf,
        fragment: true,
        ...(d.ext ? { ext: [{ type: 0, body: new Uint8Array(6) }] } : {}),
      }
    : {
        src: '10.0.0.1',
        dst: `10.0.0.${k + 2}`,
        ttl: f.ttl,
        id: 7 + k,
        fragOffset: f.offset,
        mf: f.mf,
        ...(d.options ? { options: d.options } : {}),
      };
  return buildIp({ ip, proto: d.proto, payload: new Uint8Array(f.length).fill(f.fill) });
}

describe('the native defragmenter (honeywall_defrag.c)', () => {
  it('rebuilds what Defragmenter rebuilds, from any fragments, under every policy and limit', () => {
    let rebuilt = 0;
    let refused = 0;
    let overlaps = 0;
    fc.assert(
      fc.property(
        config,
        fc.array(datagram, { minLength: 3, maxLength: 3 }),
        fc.array(fragment, { maxLength: 30, size: 'large' }),
        fc.array(cover, { maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
        (c, datagrams, random, covers, order) => {
          // the covering fragments shuffled among the others
          const frags = [...random];
          for (const f of covers.flat()) frags.splice(order[frags.length % order.length]! % (frags.length + 1), 0, f);
          if (frags.length === 0) return;
          const frames: Uint8Array[] = [];
          const times: number[] = [];
          let now = 1000;
          for (const f of frags) {
            now += f.gap;
            frames.push(frameOf(datagrams[f.datagram]!, f.datagram, f));
            times.push(now + 0.25);
          }
          const js = new Defragmenter({
            policy: POLICIES[c.policy],
            timeoutSec: c.timeout,
            memcap: c.memcap,
            datagramMemcap: c.datagramMemcap,
            maxTrackers: c.maxTrackers,
            overlapLimit: c.overlapLimit,
            detectAnomalies: c.detectAnomalies,
            minTtl: c.minTtl,
            holeFill: c.holeFill,
          });
          const want: (number[] | null)[] = frames.map((b, i) => {
            const p = decodeIpPacket(b, undefined, { verifyChecksums: false });
            const r = js.add(p, undefined, times[i]);
            return r === undefined ? null : Array.from(r.data);
          });
          const s = js.stats;
          const wantStats = [s.fragments, s.reassembled, s.timeouts, s.evicted, s.datagramMemcap, s.overlaps, s.bad, js.pending, js.memory];
          const config = Float64Array.from([
            c.timeout,
            c.memcap,
            c.datagramMemcap,
            c.maxTrackers,
            c.policy,
            c.overlapLimit,
            c.detectAnomalies ? 1 : 0,
            c.minTtl,
            c.holeFill,
          ]);
          const out = engine.defragRun(config, frames, Float64Array.from(times));
          const got = out.slice(0, frames.length).map((r) => (r === null ? null : Array.from(r)));
          expect(got).toEqual(want);
          expect(Array.from(out[frames.length] as Float64Array)).toEqual(wantStats);
          rebuilt += s.reassembled;
          refused += s.bad;
          overlaps += s.overlaps;
        },
      ),
      { numRuns: 4000 },
    );
    expect(rebuilt).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
    expect(overlaps).toBeGreaterThan(2000);
  });
});
