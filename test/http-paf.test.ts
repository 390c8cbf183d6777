/**
 * Protocol aware flushing of HTTP: httpMessageLength finds where the first complete message ends, StreamBuffer.peek
 * shows what a flush would hand out, and the flow table flushes a completed message before the packet completing it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowTable, StreamBuffer, type StreamSegment } from '../src/flow/index.js';
import { httpMessageLength, httpPafLength } from '../src/http/paf.js';
import { buildIp, type TcpSpec } from '../src/packet/build.js';
import { decodeIpPacket } from '../src/packet/decode.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('httpMessageLength', () => {
  it('a response with Content-Length ends after its body, known once the headers are complete', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\n';
    expect(httpMessageLength(enc(head + 'hello'), false)).toBe(head.length + 5);
    expect(httpMessageLength(enc(head + 'hello' + 'HTTP/1.1 304 x\r\n\r\n'), false)).toBe(head.length + 5);
    expect(httpMessageLength(enc(head + 'hel'), false)).toBe(head.length + 5);
    expect(httpMessageLength(enc(head.slice(0, -2)), false)).toBe(0);
  });
  it('responses without a known end (close-delimited, chunked) have no boundary; bodiless statuses end at the headers', () => {
    expect(httpMessageLength(enc('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nroot:x:0:0'), false)).toBe(0);
    expect(httpMessageLength(enc('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'), false)).toBe(0);
    const h304 = 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n';
    expect(httpMessageLength(enc(h304 + 'junk'), false)).toBe(h304.length);
  });
  it('requests end at the headers unless they announce a body', () => {
    const get = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
    expect(httpMessageLength(enc(get + 'GET /2 HTTP/1.1\r\n'), true)).toBe(get.length);
    const post = 'POST /x HTTP/1.1\nContent-Length: 3\n\n';
    expect(httpMessageLength(enc(post + 'abc'), true)).toBe(post.length + 3);
    expect(httpMessageLength(enc(post + 'ab'), true)).toBe(post.length + 3);
    expect(httpMessageLength(enc('HTTP/1.1 200 OK\r\n\r\n'), true)).toBe(0);
    expect(httpMessageLength(enc(get), false)).toBe(0);
  });
  it('law: the length of a complete message with Content-Length does not depend on what follows it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (body, tail) => {
        const b = enc(body);
        const msg = enc(`HTTP/1.0 200 OK\r\nContent-Length: ${b.length}\r\n\r\n`);
        const all = new Uint8Array(msg.length + b.length + tail.length);
        all.set(msg);
        all.set(b, msg.length);
        all.set(tail, msg.length + b.length);
        expect(httpMessageLength(all, false)).toBe(msg.length + b.length);
      }),
    );
  });
});

describe('StreamBuffer.peek', () => {
  it('law: peek(n) is what flush(n) hands out, and leaves the buffer as it was', () => {
    const seg = fc.record({ off: fc.integer({ min: 0, max: 30 }), data: fc.uint8Array({ minLength: 1, maxLength: 12 }) });
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 8 }), fc.integer({ min: 1, max: 50 }), (segs, n) => {
        const a = new StreamBuffer();
        const b = new StreamBuffer();
        a.init(1000);
        b.init(1000);
        for (const s of segs) {
          a.insert(1000 + s.off, s.data);
          b.insert(1000 + s.off, s.data);
        }
        const seen = a.peek(n);
        expect(a.contiguous()).toBe(b.contiguous());
        const f = a.flush(n);
        expect(Buffer.from(seen)).toEqual(Buffer.from(f?.data ?? new Uint8Array(0)));
      }),
    );
  });
});

const C = '10.0.0.1';
const S = '10.0.0.2';
function tcp(from: 'c' | 's', t: Omit<TcpSpec, 'sport' | 'dport'>, payload = '') {
  const fromC = from === 'c';
  return decodeIpPacket(
    buildIp({
      ip: { src: fromC ? C : S, dst: fromC ? S : C },
      tcp: { sport: fromC ? 40000 : 80, dport: fromC ? 80 : 40000, ...t },
      payload,
    }),
  );
}
const text = (segs: StreamSegment[]) => segs.map((s) => `${s.reason}:${Buffer.from(s.data).toString()}`);

describe('flow table with protocol aware flushing (IDS: on the ACK, snort_stream_tcp.c flush_pdu_ackd)', () => {
  function session(ft: FlowTable) {
    ft.process(tcp('c', { flags: 'S', seq: 100 }));
    ft.process(tcp('s', { flags: 'SA', seq: 500, ack: 101 }));
    ft.process(tcp('c', { flags: 'A', seq: 101, ack: 501 }));
  }
  const pdu = (_f: unknown, fromClient: boolean, d: Uint8Array) => httpPafLength(d, fromClient, false);
  const opts = { reassembleClientPorts: [80], reassembleServerPorts: [80], pafActive: () => true };

  it('an ACK covering a complete message flushes it (reason pdu); a message acked in part waits', () => {
    const ft = new FlowTable({ ...opts, pduLength: pdu });
    session(ft);
    const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n';
    expect(ft.process(tcp('s', { flags: 'PA', seq: 501, ack: 101 }, resp + 'ab')).flushed).toEqual([]);
    const u = ft.process(tcp('s', { flags: 'PA', seq: 501 + resp.length + 2, ack: 101 }, 'cdHTTP/1.1 200'));
    expect(u.streamInserted).toBe(true);
    expect(u.flushed).toEqual([]);
    const a = ft.process(tcp('c', { flags: 'A', seq: 101, ack: 501 + resp.length + 4 + 12 }));
    expect(text(a.flushed)).toEqual([`pdu:${resp}abcd`]);
  });
  it('a message longer than what is shown to pduLength is still flushed once acked', () => {
    const ft = new FlowTable({ ...opts, pduLength: pdu });
    session(ft);
    const body = 'x'.repeat(40000);
    const resp = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`;
    ft.process(tcp('s', { flags: 'PA', seq: 501, ack: 101 }, resp + body.slice(0, 30000)));
    ft.process(tcp('s', { flags: 'PA', seq: 501 + resp.length + 30000, ack: 101 }, body.slice(30000)));
    const a = ft.process(tcp('c', { flags: 'A', seq: 101, ack: 501 + resp.length + body.length }));
    expect(text(a.flushed)).toEqual([`pdu:${resp}${body}`]);
  });
  it('data that is not HTTP makes PAF give up: footprint flushing with paf_max added (nothing on small ACKs)', () => {
    const ft = new FlowTable({ ...opts, pduLength: pdu });
    session(ft);
    ft.process(tcp('s', { flags: 'PA', seq: 501, ack: 101 }, 'SSH-2.0-x\r\n'));
    expect(ft.process(tcp('c', { flags: 'A', seq: 101, ack: 512 })).flushed).toEqual([]);
    // (the cleanup's 'redecode' marker first: FlushQueuedSegs decodes the first queued packet again)
    expect(text(ft.flushAll())).toEqual(['redecode:', 'end:SSH-2.0-x\r\n']);
  });
});

describe('httpPafLength (hi_paf.c hi_eoh)', () => {
  const n = (t: string, fromClient: boolean, head = false) => httpPafLength(enc(t), fromClient, head);
  it('ends bodiless messages with their headers, adds Content-Length, runs chunks to the last one', () => {
    expect(n('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET', true)).toBe(27);
    expect(n('GET / HTTP/1.1\r\nHost: a\r\n', true)).toBe(0);
    expect(n('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab', false)).toBe(40);
    expect(n('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab', false, true)).toBe(38);
    expect(n('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', false)).toBe(59);
    expect(n('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n', false)).toBe(0);
    expect(n('HTTP/1.1 200 OK\r\n\r\nbody', false)).toBe(19);
  });
  it('gives up on what is not HTTP, and on an HTTP/1.0 response without a length', () => {
    expect(n('SSH-2.0', false)).toBe(-1);
    expect(n('\x16\x03\x01', true)).toBe(-1);
    expect(n('HTTP/1.0 200 OK\r\n\r\nbody', false)).toBe(-1);
  });
});
