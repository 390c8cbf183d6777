/**
 * The checksum sum (src/packet/checksum.ts) reads long segments 32 bits at a time in the machine's byte order; this
 * holds it to RFC 1071's definition (big-endian 16-bit words, an odd last byte padded with zero) at every
 * alignment, length and starting sum, folded as every caller folds it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tcpDatagram } from '../src/packet/build.js';
import { fixChecksums, fold, sumWords, transportChecksumOk } from '../src/packet/checksum.js';
import { decode, decodeIpPacket } from '../src/packet/decode.js';

function definition(b: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  for (let i = start; i < end; i += 2) s += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  return s;
}

describe('checksum sum', () => {
  it('equals the definition, folded, at any offset in any buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(7), fc.nat(), fc.nat(), fc.nat(0xfffff), (bytes, shift, a, z, acc) => {
        // a view that starts `shift` bytes into its buffer: every alignment of the wide loop
        const backing = new Uint8Array(bytes.length + shift);
        backing.set(bytes, shift);
        const b = backing.subarray(shift);
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === start ? 0 : z % (bytes.length - start + 1));
        expect(fold(sumWords(b, start, end, acc))).toBe(fold(definition(b, start, end, acc)));
      }),
      { numRuns: 3000 },
    );
  });

  it('all ones and all zeros (the two representations of zero)', () => {
    for (const v of [0, 0xff]) {
      for (const n of [64, 65, 1500, 1501]) {
        const b = new Uint8Array(n + 2).fill(v).subarray(2);
        expect(fold(sumWords(b, 0, n, 0))).toBe(fold(definition(b, 0, n, 0)));
      }
    }
  });

  it('a real TCP segment checks, and one flipped bit fails', () => {
    // Ethernet + IPv4 + TCP with 200 bytes of payload; checksum computed by the definition
    const payload = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff);
    const f = new Uint8Array(14 + 20 + 20 + payload.length);
    f[12] = 0x08;
    f.set([0x45, 0, 0, 20 + 20 + payload.length, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
    f.set([0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0], 34);
    f.set(payload, 54);
    const seg = f.length - 34;
    const pseudo = definition(f, 26, 34, 0) + 6 + seg;
    const sum = ~fold(definition(f, 34, f.length, pseudo)) & 0xffff;
    f[50] = sum >>> 8;
    f[51] = sum & 0xff;
    const p = decode(1, f);
    expect(p.ip).toBeDefined();
    expect(transportChecksumOk(f, p.ip!, 6, 34, seg)).toBe(true);
    f[100] ^= 4;
    expect(transportChecksumOk(f, p.ip!, 6, 34, seg)).toBe(false);
  });
});

describe('tcpDatagram', () => {
  it('writes the checksums fixChecksums writes on the decoded datagram (IPv4 and IPv6, odd and long payloads)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.tuple(fc.nat(0xffff), fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xff), fc.nat(0xff)),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 65_400, max: 65_600 }).map((n) => new Uint8Array(n).fill(0xa5)),
        ),
        (v6, s16, d16, [sport, dport, seq, ack, flags, ttl], payload) => {
          const src = v6 ? s16 : s16.subarray(0, 4);
          const dst = v6 ? d16 : d16.subarray(0, 4);
          const b = tcpDatagram(src, dst, sport, dport, seq, ack, flags, payload, ttl);
          const expected = b.slice();
          // the reference: checksums zeroed, then set where the decoder finds the headers
          if (!v6) expected.fill(0, 10, 12);
          expected.fill(0, (v6 ? 40 : 20) + 16, (v6 ? 40 : 20) + 18);
          fixChecksums(expected, decodeIpPacket(expected, undefined, { verifyChecksums: false }));
          expect(Buffer.from(b).equals(Buffer.from(expected))).toBe(true);
          if (b.length <= 0xffff) expect(decodeIpPacket(b).tcp).toBeDefined();
        },
      ),
      { numRuns: 400 },
    );
  });
});
