import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import {
  CaptureFormatError,
  CaptureParser,
  PcapWriter,
  encodePcap,
  encodePcapng,
  encodePcapRecord,
  openCapture,
  readCapture,
  readCaptureAll,
  type CaptureRecord,
  type PcapngInterface,
} from '../src/packet/pcap.js';

const repoRoot = resolve(import.meta.dirname, '..');
const corpusDir = resolve(repoRoot, '..', 'shared', 'corpus', 'suricata-verify', 'tests');

const arbPacket = fc.record({
  tsSec: fc.integer({ min: 0, max: 0xffffffff }),
  tsUsec: fc.integer({ min: 0, max: 999_999 }),
  data: fc.uint8Array({ maxLength: 300 }),
  extra: fc.integer({ min: 0, max: 2000 }),
});

function strip(r: CaptureRecord): object {
  return { linktype: r.linktype, tsSec: r.tsSec, tsUsec: r.tsUsec, data: Buffer.from(r.data).toString('hex'), origLen: r.origLen };
}

async function collect(it: AsyncIterable<CaptureRecord>): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'hw-pcap-'));
}

describe('pcap encode/read round trip', () => {
  it('classic pcap, all four magics', () => {
    fc.assert(
      fc.property(fc.array(arbPacket, { maxLength: 20 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 300 }), (pkts, le, ns, linktype) => {
        const packets = pkts.map((p) => ({ tsSec: p.tsSec, tsUsec: p.tsUsec, data: p.data, origLen: p.data.length + p.extra }));
        const bytes = encodePcap(packets, { linktype, littleEndian: le, nanosecond: ns });
        const got = [...readCapture(bytes)].map(strip);
        expect(got).toEqual(packets.map((p) => strip({ ...p, linktype })));
      }),
    );
  });

  it('pcapng, both endians, several interfaces with their own link type and resolution, SPB, unknown blocks', () => {
    const arbIface = fc.record({
      linktype: fc.integer({ min: 0, max: 0xffff }),
      tsresol: fc.constantFrom(6, 9, 3, 0, 0x80 | 20, 0x80 | 30),
    });
    fc.assert(
      fc.property(
        fc.array(arbIface, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ p: arbPacket, iface: fc.nat(), simple: fc.boolean() }), { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.record({ type: fc.constantFrom(4, 5, 0x0bad, 0x40000bad), body: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 3 }),
        (ifaces: PcapngInterface[], pkts, le, unknownBlocks) => {
          const packets = pkts.map(({ p, iface, simple }) => ({
            tsSec: p.tsSec,
            tsUsec: p.tsUsec,
            data: p.data,
            origLen: p.data.length + (simple ? 0 : p.extra),
            iface: iface % ifaces.length,
            simple,
          }));
          const bytes = encodePcapng(packets, { interfaces: ifaces, littleEndian: le, unknownBlocks });
          const got = [...readCapture(bytes)].map(strip);
          const expected = packets.map((p) => {
            if (p.simple) return strip({ linktype: ifaces[0].linktype, tsSec: 0, tsUsec: 0, data: p.data, origLen: p.origLen });
            const r = ifaces[p.iface].tsresol ?? 6;
            const per = (r & 0x80) === 0 ? 10n ** BigInt(r) : 1n << BigInt(r & 0x7f);
            // The timestamp, stored in the interface's unit, read back in microseconds.
            const units = (BigInt(p.tsUsec) * per) / 1_000_000n;
            const usec = Number((units * 1_000_000n) / per);
            return strip({ linktype: ifaces[p.iface].linktype, tsSec: p.tsSec, tsUsec: usec, data: p.data, origLen: p.origLen });
          });
          expect(got).toEqual(expected);
        },
      ),
    );
  });

  it('a new section resets interfaces and byte order', () => {
    const a = encodePcapng([{ tsSec: 1, tsUsec: 2, data: new Uint8Array([1]) }], { interfaces: [{ linktype: 1 }], littleEndian: true });
    const b = encodePcapng([{ tsSec: 3, tsUsec: 4, data: new Uint8Array([2, 3]) }], {
      interfaces: [{ linktype: 101, tsresol: 9 }],
      littleEndian: false,
    });
    const both = new Uint8Array([...a, ...b]);
    expect([...readCapture(both)].map(strip)).toEqual([
      strip({ linktype: 1, tsSec: 1, tsUsec: 2, data: new Uint8Array([1]), origLen: 1 }),
      strip({ linktype: 101, tsSec: 3, tsUsec: 4, data: new Uint8Array([2, 3]), origLen: 2 }),
    ]);
  });

  it('streaming reader gives the same records as the buffer reader across chunk boundaries', async () => {
    const dir = tmp();
    try {
      // ~3 MiB so the 1 MiB chunks split records.
      const packets = Array.from({ length: 3000 }, (_, i) => ({ tsSec: i, tsUsec: i * 7, data: new Uint8Array(1000 + (i % 97)).fill(i & 0xff) }));
      for (const [name, bytes] of [
        ['a.pcap', encodePcap(packets, { linktype: 1 })],
        ['a.pcapng', encodePcapng(packets, { interfaces: [{ linktype: 1, tsresol: 9 }], littleEndian: false })],
      ] as const) {
        const file = join(dir, name);
        writeFileSync(file, bytes);
        const streamed = await collect(openCapture(file));
        expect(streamed.length).toBe(3000);
        expect(streamed.map(strip)).toEqual([...readCapture(bytes)].map(strip));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pcap errors', () => {
  const good = encodePcap(
    [1, 2, 3].map((i) => ({ tsSec: i, tsUsec: 0, data: new Uint8Array(10).fill(i) })),
    { linktype: 1 },
  );

  it('a truncated file keeps the records before the cut and names file and offset', () => {
    const cut = good.subarray(0, good.length - 4);
    const { records, error } = readCaptureAll(cut, 'x.pcap');
    expect(records.length).toBe(2);
    expect(error).toBeInstanceOf(CaptureFormatError);
    expect(error?.message).toBe(`x.pcap: byte ${24 + 2 * 26}: truncated: 22 trailing bytes do not make a whole record`);
  });

  it('garbage magic, empty file, bogus record length', () => {
    expect(readCaptureAll(new TextEncoder().encode('hello world, not a capture'), 'g').error?.message).toBe(
      'g: byte 0: not a pcap or pcapng file (magic 0x68656c6c)',
    );
    expect(readCaptureAll(new Uint8Array(0), 'e').error?.message).toBe('e: byte 0: empty file: no capture header');
    const bogus = good.slice();
    new DataView(bogus.buffer).setUint32(24 + 26 + 8, 0x7fffffff, true);
    const r = readCaptureAll(bogus, 'b');
    expect(r.records.length).toBe(1);
    expect(r.error?.offset).toBe(24 + 26 + 8);
    expect(r.error?.message).toMatch(/exceeds the snaplen/);
  });

  it('pcapng: trailer mismatch and unknown interface are reported with offsets', () => {
    const ng = encodePcapng([{ tsSec: 1, tsUsec: 0, data: new Uint8Array(4) }], { interfaces: [{ linktype: 1 }] });
    const bad = ng.slice();
    new DataView(bad.buffer).setUint32(bad.length - 4, 999, true);
    expect(readCaptureAll(bad, 'n').error?.message).toMatch(/^n: byte \d+: pcapng block length mismatch: header says 36, trailer says 999$/);
    const noIface = encodePcapng([{ tsSec: 1, tsUsec: 0, data: new Uint8Array(4), iface: 3 }], { interfaces: [{ linktype: 1 }] });
    expect(readCaptureAll(noIface, 'n').error?.message).toMatch(/interface 3, but only 1 interface/);
  });

  it('missing file is a CaptureFormatError too', async () => {
    await expect(collect(openCapture('/nonexistent/x.pcap'))).rejects.toThrow('/nonexistent/x.pcap: byte 0: cannot open: ENOENT');
  });

  it('property: corrupt inputs never throw anything but CaptureFormatError, and keep a prefix of the records', () => {
    const base = [
      encodePcap(
        [1, 2, 3, 4].map((i) => ({ tsSec: i, tsUsec: i, data: new Uint8Array(i * 5).fill(i) })),
        { linktype: 1, littleEndian: false },
      ),
      encodePcapng(
        [1, 2, 3, 4].map((i) => ({ tsSec: i, tsUsec: i, data: new Uint8Array(i * 5).fill(i), simple: i === 3 })),
        { interfaces: [{ linktype: 1, tsresol: 9 }] },
      ),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, flips, cutAt) => {
          const bytes = base[which].slice();
          for (const f of flips) bytes[f.at % bytes.length] = f.value;
          const input = cutAt === undefined ? bytes : bytes.subarray(0, cutAt % (bytes.length + 1));
          const out: CaptureRecord[] = [];
          try {
            for (const r of readCapture(input, 'fuzz')) out.push(r);
          } catch (err) {
            expect(err).toBeInstanceOf(CaptureFormatError);
            expect((err as CaptureFormatError).message.startsWith('fuzz: byte ')).toBe(true);
          }
          expect(out.length).toBeLessThanOrEqual(8);
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          for (const _ of readCapture(bytes, 'rand'));
        } catch (err) {
          expect(err).toBeInstanceOf(CaptureFormatError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the parser over chunks read into reused arrays', () => {
  // fileChunks reads the file into two arrays in turn and the parser keeps its own store across pushes: a view kept
  // past the push it is valid until would read bytes of a later chunk (every array is scribbled over before it is
  // read into again, so such a view sees garbage, not the same bytes by luck).
  it('gives the records of the whole file, whatever the chunk sizes (property)', () => {
    // (lengths drawn as integers: fast-check keeps generated arrays short, and the store fills only past 64 KB)
    const arbData = fc
      .tuple(fc.integer({ min: 0, max: 6000 }), fc.nat(255))
      .map(([n, seed]) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255));
    const arbBig = fc.record({ tsSec: fc.nat(), tsUsec: fc.integer({ min: 0, max: 999_999 }), data: arbData });
    fc.assert(
      fc.property(
        fc.array(arbBig, { minLength: 10, maxLength: 60 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 8 }),
        (pkts, ng, sizes) => {
          const packets = pkts.map((p) => ({ ...p, origLen: p.data.length }));
          const bytes = ng ? encodePcapng(packets, { interfaces: [{ linktype: 1 }] }) : encodePcap(packets, { linktype: 1 });
          const want = [...readCapture(bytes)].map(strip);
          const max = Math.max(...sizes);
          const arrays = [new Uint8Array(max), new Uint8Array(max)];
          const parser = new CaptureParser('chunks');
          const got: object[] = [];
          for (let at = 0, k = 0; at < bytes.length; k++) {
            const n = Math.min(sizes[k % sizes.length]!, bytes.length - at);
            const array = arrays[k % 2]!;
            array.fill(0xee);
            array.set(bytes.subarray(at, at + n));
            parser.push(array.subarray(0, n));
            at += n;
            while (parser.nextView()) {
              got.push(
                strip({
                  linktype: parser.linktype,
                  tsSec: parser.tsSec,
                  tsUsec: parser.tsUsec,
                  data: parser.bytes().slice(),
                  origLen: parser.origLen,
                  offset: 0,
                }),
              );
            }
          }
          parser.finish();
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('PcapWriter', () => {
  it('write then read gives back the same records (property), and origLen survives snaplen', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbPacket, { maxLength: 30 }), fc.integer({ min: 1, max: 400 }), async (pkts, bufferBytes) => {
        const dir = tmp();
        try {
          const w = new PcapWriter({ dir, linktype: 1, snaplen: 200, clock: () => Date.UTC(2024, 0, 2, 12), bufferBytes });
          for (const p of pkts) w.write({ tsSec: p.tsSec, tsUsec: p.tsUsec, data: p.data, origLen: p.data.length + p.extra });
          w.close();
          if (pkts.length === 0) {
            expect(readdirSync(dir)).toEqual([]);
            return;
          }
          const got = await collect(openCapture(join(dir, 'capture-2024-01-02.pcap')));
          expect(got.map(strip)).toEqual(
            pkts.map((p) =>
              strip({ linktype: 1, tsSec: p.tsSec, tsUsec: p.tsUsec, data: p.data.subarray(0, 200), origLen: p.data.length + p.extra }),
            ),
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rotates daily by the injected clock, appends on restart, never appends after a torn record', () => {
    const dir = tmp();
    try {
      let now = Date.UTC(2024, 5, 30, 23, 59, 59);
      const clock = (): number => now;
      const pkt = (n: number) => ({ tsSec: n, tsUsec: 0, data: new Uint8Array([n]) });
      const w = new PcapWriter({ dir, prefix: 'hp', linktype: 1, clock });
      w.write(pkt(1));
      w.flush();
      expect(w.path).toBe(join(dir, 'hp-2024-06-30.pcap'));
      now += 2000; // next day
      w.write(pkt(2));
      w.write(pkt(3));
      expect(w.path).toBe(join(dir, 'hp-2024-07-01.pcap'));
      w.close();
      expect([...readCapture(readFileSync(join(dir, 'hp-2024-06-30.pcap')))].map((r) => r.tsSec)).toEqual([1]);
      expect([...readCapture(readFileSync(join(dir, 'hp-2024-07-01.pcap')))].map((r) => r.tsSec)).toEqual([2, 3]);

      // Restart the same day: appends.
      const w2 = new PcapWriter({ dir, prefix: 'hp', linktype: 1, clock });
      w2.write(pkt(4));
      w2.close();
      expect([...readCapture(readFileSync(join(dir, 'hp-2024-07-01.pcap')))].map((r) => r.tsSec)).toEqual([2, 3, 4]);

      // A torn last record (crash mid-write): the file is left untouched, a -1 file is started.
      const p = join(dir, 'hp-2024-07-01.pcap');
      const torn = readFileSync(p).subarray(0, statSync(p).size - 1);
      writeFileSync(p, torn);
      const w3 = new PcapWriter({ dir, prefix: 'hp', linktype: 1, clock });
      w3.write(pkt(5));
      w3.close();
      expect(readFileSync(p)).toEqual(torn);
      expect(w3.path).toBe(join(dir, 'hp-2024-07-01-1.pcap'));
      // Another link type the same day: a new file too.
      const w4 = new PcapWriter({ dir, prefix: 'hp', linktype: 101, clock });
      w4.write(pkt(6));
      w4.close();
      expect(w4.path).toBe(join(dir, 'hp-2024-07-01-2.pcap'));
      expect([...readCapture(readFileSync(w4.path!))].map((r) => [r.linktype, r.tsSec])).toEqual([[101, 6]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const corpusExists = existsSync(corpusDir);
if (!corpusExists) console.warn(`pcap corpus test skipped: ${corpusDir} is absent`);

describe.skipIf(!corpusExists)('every capture in the suricata-verify corpus', () => {
  function* walk(dir: string): Generator<string> {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) yield* walk(p);
      else if (/\.(pcap|pcapng|cap)$/i.test(e.name)) yield p;
    }
  }
  const knownCorrupt: Record<string, { records: number; error: RegExp }> = {
    'bug-6875-01/fuzz.pcap': { records: 1, error: /fuzz\.pcap: byte 236: record captured length 1409179648 exceeds the snaplen/ },
  };
  const files = corpusExists ? [...walk(corpusDir)] : [];

  it('finds the captures', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('reads each one completely; records re-encode to the exact file bytes; streaming agrees', async () => {
    let total = 0;
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      const { records, error } = readCaptureAll(bytes, f);
      const known = knownCorrupt[f.slice(corpusDir.length + 1)];
      if (known) {
        // A fuzzed capture: libpcap (and so Suricata's test, pcap_cnt 1) stops at the same record.
        expect(records.length, f).toBe(known.records);
        expect(error?.message, f).toMatch(known.error);
        continue;
      }
      expect(error, f).toBeUndefined();
      // Microsecond pcap files: the records re-encode byte for byte.
      if (bytes[0] === 0xd4 || (bytes[0] === 0xa1 && bytes[2] === 0xc3)) {
        const le = bytes[0] !== 0xa1;
        const reencoded = records.map((r) => encodePcapRecord(r, { littleEndian: le }));
        const body = Buffer.concat(reencoded);
        expect(Buffer.compare(body, Buffer.from(bytes.subarray(24))), f).toBe(0);
      }
      const streamed = await collect(openCapture(f));
      expect(streamed.length, f).toBe(records.length);
      total += records.length;
    }
    console.log(`corpus: ${files.length} captures, ${total} records`);
    expect(total).toBeGreaterThan(files.length);
  });
});
