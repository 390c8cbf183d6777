/**
 * The native front's protocol aware flushing (native/src/honeywall_paf.c) against src/http/paf.ts and
 * src/dce2/smb-paf.ts, on bytes made of the pieces their decisions turn on (methods, versions, status codes, header
 * names in either case, colons, every byte JavaScript's \s and trim() take for white space, line ends, Content-Length
 * values short, odd and past 2^53, chunk sizes and extensions, trailers; NetBIOS headers of every type, flag bit and
 * length, SMB1 and SMB2 identifiers, junk) and on whole messages with a byte changed, cut or added: the same message
 * length, the same answer to "is a header's end here".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smbPafLength, smbPduHeadIn } from '../src/dce2/smb-paf.js';
import { hasHeaderEnd, httpPafLength } from '../src/http/paf.js';
import { loadEngine } from '../src/native/engine.js';

const engine = loadEngine();
const bytesOf = (t: string) => Uint8Array.from(t, (ch) => ch.charCodeAt(0) & 0xff);

const HTTP_PIECES = [
  'GET',
  'POST',
  'HEAD',
  'get',
  ' ',
  ' ',
  '\t',
  '\v',
  '\f',
  '\xa0',
  '\x85',
  '/x',
  '/',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/1.x',
  'HTTP/2.0',
  'HTTP/1.',
  '\r\n',
  '\r\n',
  '\n',
  '\n',
  '\r',
  'Content-Length',
  'content-LENGTH',
  'Transfer-Encoding',
  'transfer-encoding',
  'Content-Encoding',
  ':',
  ' : ',
  'chunked',
  'Chunked',
  'chunkedx',
  '5',
  '12',
  '0',
  '00',
  'a',
  'fF',
  '99999999999999999999',
  '3x',
  '200',
  '204',
  '304',
  '100',
  '199',
  '301',
  'abc',
  ';ext',
  'hello',
  '\xff',
  '(',
  'X-Other: v',
].map(bytesOf);

const httpish = fc
  .array(fc.constantFrom(...HTTP_PIECES), { maxLength: 40, size: 'large' })
  .map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])));

const MESSAGES = [
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nTrailer: y\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody',
  'HTTP/1.1 304 Not Modified\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\nzz',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5;x=y\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
].map(bytesOf);

/** A message with a few bytes changed, removed or added (from the pieces' bytes). */
const damagedMessage = fc
  .tuple(
    fc.constantFrom(...MESSAGES),
    fc.array(fc.tuple(fc.constantFrom('flip', 'cut', 'add'), fc.nat(), fc.constantFrom(...HTTP_PIECES)), { maxLength: 3 }),
  )
  .map(([m, edits]) => {
    let b = [...m];
    for (const [what, at, piece] of edits) {
      const i = at % (b.length + 1);
      if (what === 'flip' && b.length > 0) b[i % b.length] = piece[0] ?? 0;
      else if (what === 'cut') b = b.slice(0, i);
      else b.splice(i, 0, ...piece);
    }
    return Uint8Array.from(b);
  });

const nbssHeader = fc
  .record({
    type: fc.constantFrom(0x00, 0x81, 0x82, 0x83, 0x84, 0x85, 0x01, 0x86),
    bit: fc.constantFrom(0, 1, 2, 0xff),
    len: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffff })),
    id: fc.constantFrom('\xffSMB', '\xfeSMB', '\xfdSMB', 'abcd', ''),
  })
  .map(({ type, bit, len, id }) => [type, bit, len >> 8, len & 0xff, ...bytesOf(id)]);
const smbish = fc
  .array(
    fc.oneof(
      nbssHeader,
      fc.uint8Array({ maxLength: 12 }).map((b) => [...b]),
    ),
    { maxLength: 6 },
  )
  .map((parts) => Uint8Array.from(parts.flat()));

function same(b: Uint8Array): void {
  for (const fromClient of [true, false])
    for (const head of [true, false]) expect(engine.pafRun(0, b, +fromClient, +head)).toBe(httpPafLength(b, fromClient, head));
  expect(engine.pafRun(1, b, 0, 0)).toBe(+hasHeaderEnd(b));
  expect(engine.pafRun(2, b, 0, 0)).toBe(smbPafLength(b));
  for (const atStart of [true, false]) expect(engine.pafRun(3, b, 0, +atStart)).toBe(+smbPduHeadIn(b, atStart));
}

describe('the native PAF (honeywall_paf.c)', () => {
  it('finds the HTTP message lengths http/paf.ts finds, on bytes made of what they turn on', () => {
    let lengths = 0;
    fc.assert(
      fc.property(httpish, (b) => {
        same(b);
        if (httpPafLength(b, true, false) > 0 || httpPafLength(b, false, false) > 0) lengths++;
      }),
      { numRuns: 20_000 },
    );
    expect(lengths).toBeGreaterThan(500);
  });

  it('agrees on whole messages, damaged', () => {
    fc.assert(fc.property(damagedMessage, same), { numRuns: 10_000 });
  });

  it('finds the SMB message lengths smb-paf.ts finds', () => {
    let found = 0;
    fc.assert(
      fc.property(smbish, (b) => {
        same(b);
        if (smbPafLength(b) > 0) found++;
      }),
      { numRuns: 20_000 },
    );
    expect(found).toBeGreaterThan(5000);
  });
});
