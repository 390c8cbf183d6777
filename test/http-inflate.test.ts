/**
 * Incremental decompression of HTTP bodies (src/http/inflate.ts): a body's zlib stream is fed each payload's new
 * bytes, and what it hands out must be what inflating everything received so far in one go gives, with the same
 * decompress_depth caps. Held to one-shot inflation over random bodies, split points, gzip / zlib / raw deflate,
 * truncated and corrupt streams, and the one-shot function to zlib's own synchronous functions. Also: the zlib
 * streams are released (body end, new response, corruption, session and flow end) and capped per flow table.
 */
import { constants as zc, deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketPipeline } from '../src/flow/pipeline.js';
import { BodyInflater, type ContentCoding, InflaterPool, inflatePartial } from '../src/http/inflate.js';
import { HttpSession } from '../src/http/session.js';
import { tcpDatagram } from '../src/packet/build.js';
import { LinkType } from '../src/packet/types.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const S = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

type Variant = 'gzip' | 'zlib' | 'raw';
const codingOf = (v: Variant): ContentCoding => (v === 'gzip' ? 'gzip' : 'deflate');

function compress(v: Variant, text: Uint8Array, level: number): Buffer {
  const o = { level };
  return v === 'gzip' ? gzipSync(text, o) : v === 'zlib' ? deflateSync(text, o) : deflateRawSync(text, o);
}

/** zlib's own answer for the whole of `data`, as the one-shot code did it: undefined when zlib throws. */
function zlibWhole(coding: ContentCoding, data: Uint8Array): Buffer | undefined {
  const o = { finishFlush: zc.Z_SYNC_FLUSH };
  const attempts = coding === 'gzip' ? [() => gunzipSync(data, o)] : [() => inflateSync(data, o), () => inflateRawSync(data, o)];
  for (const a of attempts) {
    try {
      return a();
    } catch {}
  }
  return undefined;
}

/** Body text: random bytes, repeated runs (compressible, so the depth cap is reached) or both. */
const textArb = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4000 })).map(([unit, n]) => {
    const out = new Uint8Array(unit.length * n);
    for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
    return out;
  }),
  fc
    .array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 })
    .map((parts) => Buffer.concat(parts.flatMap((p) => [p, Buffer.alloc(p.length * 3, 0x61)]))),
);

/** A compressed stream, then damaged or not: truncated, bytes flipped, garbage appended, two gzip members. */
const streamArb = fc
  .record({
    variant: fc.constantFrom<Variant>('gzip', 'zlib', 'raw'),
    text: textArb,
    level: fc.constantFrom(0, 1, 6, 9),
    damage: fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
      fc.record({ kind: fc.constant('twice' as const) }),
    ),
  })
  .map(({ variant, text, level, damage }) => {
    let data: Uint8Array = compress(variant, text, level);
    if (damage.kind === 'truncate') data = data.subarray(0, damage.at % (data.length + 1));
    else if (damage.kind === 'flip') {
      data = Uint8Array.from(data);
      data[damage.at % data.length] ^= damage.mask;
    } else if (damage.kind === 'garbage') data = Buffer.concat([data, damage.bytes]);
    else if (damage.kind === 'twice') data = Buffer.concat([data, data]);
    return { coding: codingOf(variant), data, label: `${variant} level ${level} ${damage.kind}` };
  });

/** Cut points into pieces (empty pieces included: a payload that adds no compressed byte). */
function pieces(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(last, p));
    last = p;
  }
  return out;
}

describe('inflatePartial (one shot) against zlib', () => {
  it('gives what zlib gives for the whole stream, cut at the limit; undefined when zlib finds it corrupt', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 1, max: 70_000 }), ({ coding, data }, limit) => {
        const whole = zlibWhole(coding, data);
        const big = inflatePartial(data, coding, 1 << 30);
        if (whole === undefined) expect(big).toBeUndefined();
        else {
          expect(Buffer.from(big!).equals(whole)).toBe(true);
          // under the limit: its first `limit` bytes (a corrupt tail past the limit is not looked at, so only a stream
          // zlib takes whole is compared)
          expect(Buffer.from(inflatePartial(data, coding, limit)!).equals(whole.subarray(0, limit))).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('BodyInflater: incremental equals one shot', () => {
  it('any split, any depth: each push hands out what re-inflating the whole prefix would add, corrupt at the same payload', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 1, max: 5000 }), ({ coding, data }, cuts, depth) => {
        const inc = new BodyInflater(coding);
        // the reference is the code this replaced: the whole prefix inflated again, capped at what was handed out
        // plus the depth, the deflate variant remembered once it is known
        const wrap: { raw?: boolean } = {};
        let produced = 0;
        let corrupt = false;
        const received: Uint8Array[] = [];
        for (const piece of pieces(data, cuts)) {
          received.push(piece);
          const got = inc.push(piece, depth);
          const all = inflatePartial(Buffer.concat(received), coding, produced + depth, wrap);
          if (all === undefined) {
            expect(got).toBeUndefined();
            corrupt = true;
            break;
          }
          expect(got).toBeDefined();
          expect(S(got)).toBe(S(all.subarray(Math.min(produced, all.length))));
          expect(got!.length).toBeLessThanOrEqual(depth);
          produced = all.length;
        }
        expect(inc.status === 'corrupt').toBe(corrupt);
        inc.close();
        expect(inc.push(B('x'), depth)).toEqual(new Uint8Array(0));
      }),
      { numRuns: 600 },
    );
  });

  it('held output comes out on later payloads that add nothing, until the stream is drained', () => {
    const text = Buffer.alloc(100_000, 0x41);
    const inc = new BodyInflater('gzip');
    const out: Uint8Array[] = [inc.push(gzipSync(text), 30_000)!];
    for (let i = 0; i < 5; i++) out.push(inc.push(new Uint8Array(0), 30_000)!);
    expect(out.map((o) => o.length)).toEqual([30_000, 30_000, 30_000, 10_000, 0, 0]);
    expect(Buffer.concat(out).equals(text)).toBe(true);
  });

  it('bytes held back are copies: the caller may reuse its buffer (a Buffer, whose slice() is a view)', () => {
    const text = Buffer.alloc(300_000, 0x41);
    const packet = Buffer.from(gzipSync(text));
    const inc = new BodyInflater('gzip');
    const out = [inc.push(packet, 30_000)!];
    packet.fill(0); // the capture reader reuses its buffer for the next frames
    for (let i = 0; i < 12; i++) out.push(inc.push(new Uint8Array(0), 30_000)!);
    expect(Buffer.concat(out).equals(text)).toBe(true);
    // deflate's first byte, held until the variant is known
    const raw = deflateRawSync(B('abcdef'.repeat(50)));
    const first = Buffer.from(raw.subarray(0, 1));
    const d = new BodyInflater('deflate');
    expect(d.push(first, 1000)!.length).toBe(0);
    first[0] = ~first[0]!;
    expect(S(d.push(raw.subarray(1), 1000))).toBe('abcdef'.repeat(50));
  });

  it('deflate: a raw stream whose first byte comes alone is still found raw (the variant waits for two bytes)', () => {
    const text = B('uid=0(root) gid=0(root) groups=0(root)');
    const raw = deflateRawSync(text);
    const inc = new BodyInflater('deflate');
    const out = [inc.push(new Uint8Array(0), 1000)!, inc.push(raw.subarray(0, 1), 1000)!, inc.push(raw.subarray(1), 1000)!];
    expect(inc.raw).toBe(true);
    expect(S(Buffer.concat(out))).toBe(S(text));
  });
});

describe('HttpSession decompression', () => {
  const header = (coding: string, length: number) => B(`HTTP/1.1 200 OK\r\nContent-Encoding: ${coding}\r\nContent-Length: ${length}\r\n\r\n`);

  it('the body split into payloads anywhere gives the one-shot bytes, within the depth and compressed caps', () => {
    fc.assert(
      fc.property(
        streamArb,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 1, max: 6000 }),
        ({ coding, data }, cuts, decompressDepth, maxCompressed) => {
          const h = new HttpSession({ decompressDepth, maxCompressed });
          const parts = pieces(data, cuts);
          const got = [h.response(Buffer.concat([header(coding, data.length), parts[0]!]))[0]!.fileData!];
          for (const p of parts.slice(1)) if (p.length > 0) got.push(...h.response(p).map((r) => r.fileData!));
          // the reference: the old session's arithmetic over inflatePartial
          const wrap: { raw?: boolean } = {};
          const fed: Uint8Array[] = [];
          let fedBytes = 0;
          let produced = 0;
          const want: string[] = [];
          for (const p of [parts[0]!, ...parts.slice(1).filter((x) => x.length > 0)]) {
            if (fedBytes + p.length <= maxCompressed) {
              fed.push(p);
              fedBytes += p.length;
            }
            const all = inflatePartial(Buffer.concat(fed), coding, produced + decompressDepth, wrap);
            if (all === undefined) {
              want.push('');
              break;
            }
            want.push(S(all.subarray(Math.min(produced, all.length)))!);
            produced = all.length;
          }
          expect(got.slice(0, want.length).map(S)).toEqual(want);
          // after a corrupt payload, nothing more comes out
          for (const g of got.slice(want.length)) expect(g.length).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a raw deflate body whose first bytes come after the header payload is decoded (it was taken as zlib-wrapped)', () => {
    const text = 'hello world hello world hello';
    const raw = deflateRawSync(B(text));
    const h = new HttpSession();
    const first = h.response(header('deflate', raw.length));
    const second = h.response(raw);
    expect([S(first[0]!.fileData), S(second[0]!.fileData)]).toEqual(['', text]);
  });

  it('a corrupt stream stops decompression and throws nothing, now or on a later tick', async () => {
    const gz = gzipSync(B('x'.repeat(5000)));
    const bad = Buffer.from(gz);
    bad.fill(0xff, 10, 30);
    const h = new HttpSession();
    const [r] = h.response(Buffer.concat([header('gzip', bad.length * 2), bad]));
    expect(r!.fileData!.length).toBe(0);
    expect(h.response(gz)[0]!.fileData!.length).toBe(0);
    // zlib's own error handler would destroy the stream and emit 'error' on a later tick: vitest fails on it
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('zlib streams are released and capped', () => {
  const gzBody = (text: string) => gzipSync(B(text));
  const open = (pool: InflaterPool) => pool.open;

  it('at the body end, a new response, corruption and HttpSession.close()', () => {
    const pool = new InflaterPool();
    const h = new HttpSession({ inflaters: pool });
    const gz = gzBody('a'.repeat(2000));
    // Content-Length body: released by the payload that ends it
    h.response(Buffer.concat([B(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz.subarray(0, 20)]));
    expect(open(pool)).toBe(1);
    h.response(gz.subarray(20));
    expect(open(pool)).toBe(0);
    // a body read to the close: released by the next response, or by close()
    h.response(Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), gz.subarray(0, 20)]));
    expect(open(pool)).toBe(1);
    h.response(B('HTTP/1.1 204 No Content\r\n\r\n'));
    expect(open(pool)).toBe(0);
    h.response(Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), gz.subarray(0, 20)]));
    expect(open(pool)).toBe(1);
    h.close();
    expect(open(pool)).toBe(0);
    // corrupt: released at once (a gzip member whose deflate data starts with an invalid block type)
    const bad = Buffer.from(gz);
    bad[10] = 0xff;
    h.response(Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), bad.subarray(0, 8)]));
    expect(open(pool)).toBe(1);
    h.response(bad.subarray(8, 40));
    expect(open(pool)).toBe(0);
    expect(pool.peak).toBe(1);
  });

  it('at the stream end: bytes after it are dropped, not held, and the stream is closed', () => {
    const pool = new InflaterPool();
    const inc = new BodyInflater('deflate', pool);
    const z = deflateSync(B('abc'.repeat(100)));
    expect(S(inc.push(z.subarray(0, z.length - 1), 1000))).toBe('abc'.repeat(100));
    expect([inc.status, pool.open]).toEqual(['open', 1]);
    // the last byte of the checksum, then what a server sends after the stream
    expect(inc.push(Buffer.concat([z.subarray(z.length - 1), B('trailing bytes')]), 1000)!.length).toBe(0);
    expect([inc.status, pool.open]).toEqual(['ended', 0]);
  });

  it('a full pool closes the least recently fed stream; that body gives no more file_data', () => {
    const pool = new InflaterPool(2);
    const text = 'z'.repeat(3000);
    const gz = gzBody(text);
    const sessions = [0, 1, 2].map(() => new HttpSession({ inflaters: pool }));
    const start = (h: HttpSession) => h.response(Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), gz.subarray(0, 15)]))[0]!;
    start(sessions[0]!);
    start(sessions[1]!);
    sessions[0]!.response(gz.subarray(15, 16)); // session 0 fed last: session 1 is the least recent
    start(sessions[2]!);
    expect([pool.open, pool.peak, pool.evicted]).toEqual([2, 2, 1]);
    const rest = (h: HttpSession) => S(h.response(gz.subarray(16))[0]!.fileData);
    expect(rest(sessions[1]!)).toBe('');
    expect(S(Buffer.concat([B(rest(sessions[0]!)!)])).length).toBeGreaterThan(0);
  });

  it('PacketPipeline closes the sessions of flows that time out, and of every flow at finish()', () => {
    const c = Uint8Array.of(10, 0, 0, 1);
    const s = Uint8Array.of(10, 0, 0, 2);
    const pipe = new PacketPipeline({ decode: { verifyChecksums: false }, flow: { tcpTimeout: 30 } });
    const gz = gzBody('q'.repeat(4000));
    const flow = (port: number, t: number) => {
      const send = (fromServer: boolean, seq: number, ack: number, flags: number, payload: Uint8Array) =>
        pipe.push(
          LinkType.RAW,
          fromServer ? tcpDatagram(s, c, 80, port, seq, ack, flags, payload) : tcpDatagram(c, s, port, 80, seq, ack, flags, payload),
          t,
        );
      send(false, 99, 0, 0x02, new Uint8Array(0));
      send(true, 499, 100, 0x12, new Uint8Array(0));
      send(false, 100, 500, 0x10, new Uint8Array(0));
      const req = B('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      send(false, 100, 500, 0x18, req);
      const res = Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), gz.subarray(0, 40)]);
      send(true, 500, 100 + req.length, 0x18, res);
      send(false, 100 + req.length, 500 + res.length, 0x10, new Uint8Array(0));
    };
    flow(40000, 1000);
    flow(40001, 1001);
    expect(pipe.inflaters.open).toBe(2);
    flow(40002, 1100); // the first two time out on this flow's first packet
    expect(pipe.inflaters.open).toBe(1);
    pipe.finish();
    expect(pipe.inflaters.open).toBe(0);
  });
});

describe('replay says when bodies met the cap on open zlib streams', () => {
  it('2,100 responses each holding a gzip body open: the ones closed for newer ones are a warning with the file', async () => {
    const { main } = await import('../src/cli/main.js');
    const { encodePcap } = await import('../src/packet/pcap.js');
    const { ethernet } = await import('../src/packet/build.js');
    const { parseIp } = await import('../src/packet/bytes.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'hw-inflate-cap-'));
    const gz = gzipSync(B('q'.repeat(20_000)));
    const frames: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];
    const FLOWS = 2100;
    const s = parseIp('192.0.2.80')!;
    for (let i = 0; i < FLOWS; i++) {
      const c = parseIp(`10.0.${i >> 8}.${i & 255}`)!;
      const req = B('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      // the response header and the first bytes of its gzip body; the client acknowledges it (stream5 then flushes it)
      const resp = Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n'), gz.subarray(0, 40)]);
      const t = [
        tcpDatagram(c, s, 40000, 80, 100, 0, 0x02, B('')),
        tcpDatagram(s, c, 80, 40000, 500, 101, 0x12, B('')),
        tcpDatagram(c, s, 40000, 80, 101, 501, 0x10, B('')),
        tcpDatagram(c, s, 40000, 80, 101, 501, 0x18, req),
        tcpDatagram(s, c, 80, 40000, 501, 101 + req.length, 0x18, resp),
        tcpDatagram(c, s, 40000, 80, 101 + req.length, 501 + resp.length, 0x10, B('')),
      ];
      for (const d of t) frames.push({ tsSec: 1_700_000_000 + Math.floor(frames.length / 1000), tsUsec: frames.length % 1000, data: ethernet(d) });
    }
    const pcap = join(dir, 'many-gzip.pcap');
    writeFileSync(pcap, encodePcap(frames, { linktype: LinkType.ETHERNET }));
    const rules = join(dir, 'r.rules');
    writeFileSync(rules, 'alert tcp any 80 -> any any (msg:"q"; file_data; content:"qqqq"; sid:1;)\n');
    let out = '';
    const w = process.stdout.write;
    process.stdout.write = ((x: string) => ((out += x), true)) as typeof process.stdout.write;
    const ew = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'honeywall', 'replay', pcap, '--rules', rules, '--format', 'json', '--workers', '0'])).toBe(0);
    } finally {
      process.stdout.write = w;
      process.stderr.write = ew;
    }
    const doc = JSON.parse(out);
    // each body's zlib stream opens with its response header (flushed at the header's end by the PAF); its first bytes
    // stay queued until the session ends, when the 52 oldest streams have been closed for newer ones: their file_data
    // is empty (no alert), and the warning says so
    const evicted = FLOWS - 2048;
    expect(doc.alerts).toHaveLength(FLOWS - evicted);
    expect(doc.alerts.some((a: { dest_ip: string }) => a.dest_ip === '10.0.0.0')).toBe(false);
    expect(doc.alerts.some((a: { dest_ip: string }) => a.dest_ip === '10.0.0.52')).toBe(true);
    expect(doc.warnings).toEqual([
      `${pcap}: HTTP: ${evicted} compressed bodies left undecompressed from where they met the cap of 2048 open zlib streams (file_data ends there)`,
    ]);
  }, 60_000);
});
