/**
 * PAF resumes its search for the end of a PDU head where the last ACK left it (table.ts flushOnAck, as Snort's
 * s5_paf_check resumes): the flushed segments must be those of a search over all acked bytes at every ACK.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketPipeline } from '../src/flow/pipeline.js';
import { ethernet, tcpDatagram } from '../src/packet/build.js';
import { parseIp } from '../src/packet/bytes.js';

const C = parseIp('10.0.0.1')!;
const S = parseIp('10.0.0.2')!;
const B = (t: string) => new TextEncoder().encode(t);

/** A session's three-way handshake to `port` (client seq 100, server 500). */
function handshake(port: number): Uint8Array[] {
  return [
    tcpDatagram(C, S, 40000, port, 100, 0, 0x02, B('')),
    tcpDatagram(S, C, port, 40000, 500, 101, 0x12, B('')),
    tcpDatagram(C, S, 40000, port, 101, 501, 0x10, B('')),
  ];
}

/** The rebuilt segments (their bytes, as text) of a request stream to `port` sent in `cuts` pieces, each acked. */
function flushed(stream: Uint8Array, cuts: number[], incremental: boolean, port = 80): string[] {
  const pipe = new PacketPipeline(incremental ? {} : { flow: { pduHeadEnd: undefined } });
  const frames = handshake(port);
  let at = 0;
  const ends = [...new Set([...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  for (const end of ends) {
    if (end <= at) continue;
    frames.push(tcpDatagram(C, S, 40000, port, 101 + at, 501, 0x18, stream.subarray(at, end)));
    frames.push(tcpDatagram(S, C, port, 40000, 501, 101 + end, 0x10, B('')));
    at = end;
  }
  const out: string[] = [];
  frames.forEach((f, i) => {
    for (const item of pipe.push(1, ethernet(f), 1_700_000_000, i, i))
      if (item.kind === 'stream') out.push(new TextDecoder('latin1').decode(item.packet.payload));
  });
  for (const item of pipe.finish()) if (item.kind === 'stream') out.push(new TextDecoder('latin1').decode(item.packet.payload));
  return out;
}

/**
 * Both directions of a session to `port`: `steps` says who sends next (true: the client) and how many bytes; each
 * segment is acked by the other side at once. The rebuilt segments, as `c:` or `s:` and their bytes.
 */
function flushedBoth(client: Uint8Array, server: Uint8Array, steps: [boolean, number][], incremental: boolean, port = 445): string[] {
  const pipe = new PacketPipeline(incremental ? {} : { flow: { pduHeadEnd: undefined } });
  const frames = handshake(port);
  let c = 0;
  let sv = 0;
  const send = (fromClient: boolean, n: number) => {
    if (fromClient && c < client.length) {
      const end = Math.min(client.length, c + n);
      frames.push(tcpDatagram(C, S, 40000, port, 101 + c, 501 + sv, 0x18, client.subarray(c, end)));
      c = end;
      frames.push(tcpDatagram(S, C, port, 40000, 501 + sv, 101 + c, 0x10, B('')));
    } else if (!fromClient && sv < server.length) {
      const end = Math.min(server.length, sv + n);
      frames.push(tcpDatagram(S, C, port, 40000, 501 + sv, 101 + c, 0x18, server.subarray(sv, end)));
      sv = end;
      frames.push(tcpDatagram(C, S, 40000, port, 101 + c, 501 + sv, 0x10, B('')));
    }
  };
  for (const [who, n] of steps) send(who, n);
  send(true, client.length);
  send(false, server.length);
  const out: string[] = [];
  const take = (items: ReturnType<PacketPipeline['push']>) => {
    for (const item of items)
      if (item.kind === 'stream') out.push(`${item.fromClient ? 'c' : 's'}:${new TextDecoder('latin1').decode(item.packet.payload)}`);
  };
  frames.forEach((f, i) => take(pipe.push(1, ethernet(f), 1_700_000_000, i, i)));
  take(pipe.finish());
  return out;
}

describe('PAF over many ACKs', () => {
  it('flushes what a search of all acked bytes at every ACK flushes, however the requests are cut', () => {
    const req = fc.constantFrom(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
      'GET /c HTTP/1.1\n\n',
      'GET /d HTTP/1.1\r\nX: y\r\n\r',
      'GET /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    );
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(400), { maxLength: 40 }), (reqs, cuts) => {
        const stream = B(reqs.join(''));
        expect(flushed(stream, cuts, true)).toEqual(flushed(stream, cuts, false));
      }),
      { numRuns: 300 },
    );
  });
  it('a head that grows one byte per ACK is flushed when its blank line comes (the end straddling two segments)', () => {
    const stream = B('GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\n\r\n');
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    expect(flushed(stream, cuts, true)).toEqual(['GET /x HTTP/1.1\r\nHost: h\r\n\r\n', 'GET /y HTTP/1.1\r\n\r\n']);
  });

  it('SMB (dcerpc2 on 445): messages, junk before a header, lengths longer than the data: the same flushes; with the head search resumed and a known length kept', () => {
    // NetBIOS session message headers and SMB identifiers, as dce2_paf.c reads them (smb-paf.ts)
    const nb = (len: number, type = 0) => [type, len >> 16, (len >> 8) & 0xff, len & 0xff];
    const smb2 = (n: number) => [...nb(n + 4), 0xfe, 0x53, 0x4d, 0x42, ...new Array<number>(n).fill(0x41)];
    const smb1 = (n: number) => [...nb(n + 4), 0xff, 0x53, 0x4d, 0x42, ...new Array<number>(n).fill(0x42)];
    const piece = fc.oneof(
      fc.integer({ min: 0, max: 60 }).map(smb2),
      fc.integer({ min: 0, max: 60 }).map(smb1),
      fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => [...b]),
      fc.constant([0x85, 0, 0, 0]),
      fc.constant([0, 0, 0x10, 0]),
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(600), { maxLength: 60 }), (pieces, cuts) => {
        const stream = Uint8Array.from(pieces.flat());
        expect(flushed(stream, cuts, true, 445)).toEqual(flushed(stream, cuts, false, 445));
      }),
      { numRuns: 300 },
    );
  });

  it('SMB both ways, the server first at times (dcerpc2 then gives the session up: PAF declines): the same flushes as a search at every ACK', () => {
    const nb = (len: number) => [0, len >> 16, (len >> 8) & 0xff, len & 0xff];
    const smb2 = (n: number) => [...nb(n + 4), 0xfe, 0x53, 0x4d, 0x42, ...new Array<number>(n).fill(0x43)];
    const piece = fc.oneof(
      fc.integer({ min: 0, max: 40 }).map(smb2),
      fc.uint8Array({ minLength: 1, maxLength: 10 }).map((b) => [...b]),
    );
    const side = fc.array(piece, { minLength: 1, maxLength: 5 }).map((ps) => Uint8Array.from(ps.flat()));
    fc.assert(
      fc.property(side, side, fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 30 })), { maxLength: 40 }), (client, server, steps) => {
        expect(flushedBoth(client, server, steps, true)).toEqual(flushedBoth(client, server, steps, false));
      }),
      { numRuns: 300 },
    );
  });
});
