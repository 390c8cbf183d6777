import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIp, type TcpSpec } from '../src/packet/build.js';
import { decode, decodeIpPacket } from '../src/packet/decode.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { FlowTable, StreamBuffer, type StreamSegment } from '../src/flow/index.js';

const C = '10.0.0.1';
const S = '10.0.0.2';
const clock = 0;
function tcp(from: 'c' | 's', t: Omit<TcpSpec, 'sport' | 'dport'> & { sport?: number; dport?: number }, payload = '', cport = 40000, sport = 80) {
  const fromC = from === 'c';
  const p = decodeIpPacket(
    buildIp({
      ip: { src: fromC ? C : S, dst: fromC ? S : C },
      tcp: { sport: fromC ? cport : sport, dport: fromC ? sport : cport, ...t },
      payload,
    }),
  );
  p.tsSec = clock;
  return p;
}
const str = (segs: StreamSegment[]) => segs.map((s) => Buffer.from(s.data).toString()).join('');

describe('TCP session tracking', () => {
  it('3-way handshake: client is the SYN sender, established after the final ACK', () => {
    const ft = new FlowTable();
    const a = ft.process(tcp('c', { flags: 'S', seq: 100 }));
    expect([a.isNew, a.fromClient, a.established, a.flow?.state]).toEqual([true, true, false, 'syn-sent']);
    const b = ft.process(tcp('s', { flags: 'SA', seq: 500, ack: 101 }));
    expect([b.fromClient, b.established, b.flow?.state]).toEqual([false, false, 'syn-received']);
    const c = ft.process(tcp('c', { flags: 'A', seq: 101, ack: 501 }));
    expect([c.fromClient, c.established, c.flow?.state]).toEqual([true, true, 'established']);
    expect(ft.size).toBe(1);
  });
  it('SYN-ACK pickup makes the receiver the client', () => {
    const ft = new FlowTable();
    const b = ft.process(tcp('s', { flags: 'SA', seq: 500, ack: 101 }));
    expect(b.fromClient).toBe(false);
    expect(b.flow?.client.port).toBe(40000);
  });
  it('midstream: higher port is the client; established only once both sides were seen (suricata-verify alert-testmyids-*)', () => {
    const ft = new FlowTable();
    const a = ft.process(tcp('s', { flags: 'PA', seq: 1, ack: 1 }, 'uid=0(root)'));
    expect([a.fromClient, a.established, a.flow?.midstream]).toEqual([false, false, true]);
    const b = ft.process(tcp('c', { flags: 'A', seq: 1, ack: 12 }));
    expect([b.fromClient, b.established]).toEqual([true, true]);
  });
  it('alert-no-3whs-established: data, RST, data: the second data packet is established and to_server', () => {
    const ft = new FlowTable();
    const d = () => tcp('c', { flags: 'PA', seq: 900, ack: 700 }, 'MATCH?', 2443, 1212);
    const r = () => tcp('s', { flags: 'R', seq: 700, ack: 0 }, '', 2443, 1212);
    const u1 = ft.process(d());
    ft.process(r());
    const u3 = ft.process(d());
    expect([u1.fromClient, u1.established]).toEqual([true, false]);
    expect([u3.fromClient, u3.established]).toEqual([true, true]);
  });
  it('RST without a session opens none; requireHandshake refuses midstream', () => {
    const ft = new FlowTable();
    expect(ft.process(tcp('c', { flags: 'R', seq: 1 })).flow).toBeUndefined();
    const strict = new FlowTable({ requireHandshake: true });
    expect(strict.process(tcp('c', { flags: 'PA', seq: 1, ack: 1 }, 'x')).flow).toBeUndefined();
    expect(strict.stats.noSession).toBe(1);
  });
  it('a new SYN after close restarts the session', () => {
    const ft = new FlowTable();
    ft.process(tcp('c', { flags: 'S', seq: 1 }));
    ft.process(tcp('s', { flags: 'R', seq: 0 }));
    const n = ft.process(tcp('c', { flags: 'S', seq: 1000 }));
    expect(n.isNew).toBe(true);
    expect(n.flow?.state).toBe('syn-sent');
  });
});

describe('UDP / ICMP pseudo-flows and limits', () => {
  it('UDP: first sender is the client; established after a reply', () => {
    const ft = new FlowTable();
    const q = decodeIpPacket(buildIp({ ip: { src: C, dst: S }, udp: { sport: 5555, dport: 53 }, payload: 'q' }));
    const r = decodeIpPacket(buildIp({ ip: { src: S, dst: C }, udp: { sport: 53, dport: 5555 }, payload: 'r' }));
    const a = ft.process(q);
    const b = ft.process(r);
    expect([a.fromClient, a.established, b.fromClient, b.established]).toEqual([true, false, false, true]);
    expect(b.flow).toBe(a.flow);
  });
  it('ICMP is not tracked by default (stream5 track_icmp no), tracked on request', () => {
    const e = decodeIpPacket(buildIp({ ip: { src: C, dst: S }, icmp: { type: 8, id: 3, seq: 1 } }));
    expect(new FlowTable().process(e).flow).toBeUndefined();
    const ft = new FlowTable({ trackIcmp: true });
    const a = ft.process(e);
    const b = ft.process(decodeIpPacket(buildIp({ ip: { src: S, dst: C }, icmp: { type: 0, id: 3, seq: 1 } })));
    expect(b.flow).toBe(a.flow);
    expect(b.fromClient).toBe(false);
  });
  it('bounds the number of flows (LRU) and expires idle ones', () => {
    const ft = new FlowTable({ maxUdp: 10, udpTimeout: 30 });
    for (let i = 0; i < 25; i++) {
      const p = decodeIpPacket(buildIp({ ip: { src: C, dst: S }, udp: { sport: 1000 + i, dport: 53 } }));
      p.tsSec = 100;
      ft.process(p);
    }
    expect(ft.size).toBe(10);
    expect(ft.stats.evicted).toBe(15);
    const late = decodeIpPacket(buildIp({ ip: { src: C, dst: S }, udp: { sport: 9, dport: 53 } }));
    late.tsSec = 200;
    ft.process(late);
    expect(ft.size).toBe(1);
    expect(ft.stats.timedOut).toBe(10);
  });
  it('stream_size counts sequence space per side', () => {
    const ft = new FlowTable();
    ft.process(tcp('c', { flags: 'S', seq: 1000 }));
    ft.process(tcp('s', { flags: 'SA', seq: 5000, ack: 1001 }));
    ft.process(tcp('c', { flags: 'A', seq: 1001, ack: 5001 }));
    const u = ft.process(tcp('c', { flags: 'PA', seq: 1001, ack: 5001 }, 'hello'));
    expect(u.flow!.client.streamSize).toBe(6);
    expect(u.flow!.server.streamSize).toBe(1);
  });
});

describe('TCP reassembly', () => {
  it('flushes acked client data in order once the footprint reaches the flush point (snort_stream_tcp.c CheckFlushPolicyOnAck)', () => {
    const ft = new FlowTable();
    ft.process(tcp('c', { flags: 'S', seq: 99 }));
    ft.process(tcp('s', { flags: 'SA', seq: 499, ack: 100 }));
    ft.process(tcp('c', { flags: 'A', seq: 100, ack: 500 }));
    const big = 'x'.repeat(200);
    const x = ft.process(tcp('c', { flags: 'PA', seq: 106, ack: 500 }, big));
    expect(x.streamInserted).toBe(true);
    expect(x.flushed).toEqual([]);
    ft.process(tcp('c', { flags: 'PA', seq: 100, ack: 500 }, 'hello '));
    // 6 bytes acked: below the flush point, nothing yet
    expect(ft.process(tcp('s', { flags: 'A', seq: 500, ack: 106 })).flushed).toEqual([]);
    const a2 = ft.process(tcp('s', { flags: 'A', seq: 500, ack: 306 }));
    expect(str(a2.flushed)).toBe('hello ' + big);
    expect(a2.flushed[0].fromClient).toBe(true);
    expect(a2.flushed[0].reason).toBe('ack');
    expect(a2.flushed[0].seq).toBe(100);
    // the rebuilt packet's header: the flushing packet's flags, the server's ack and window
    expect(a2.flushed[0].flags).toBe(0x10);
    expect(a2.flushed[0].ack).toBe(500);
  });
  it('does not reassemble ports outside the client list unless configured', () => {
    const off = new FlowTable();
    expect(off.process(tcp('c', { flags: 'PA', seq: 1, ack: 1 }, 'x', 40000, 9999)).streamInserted).toBe(false);
    const on = new FlowTable({ reassembleClientPorts: 'all', reassembleServerPorts: 'all' });
    expect(on.process(tcp('c', { flags: 'PA', seq: 1, ack: 1 }, 'x', 40000, 9999)).streamInserted).toBe(true);
    expect(on.process(tcp('s', { flags: 'PA', seq: 1, ack: 2 }, 'y', 40000, 9999)).streamInserted).toBe(true);
  });
  it('flushes what was acked when the session ends or at the end, never data not acked', () => {
    const ft = new FlowTable();
    ft.process(tcp('c', { flags: 'S', seq: 0 }));
    ft.process(tcp('s', { flags: 'SA', seq: 0, ack: 1 }));
    ft.process(tcp('c', { flags: 'PA', seq: 1, ack: 1 }, 'abc'));
    ft.process(tcp('c', { flags: 'PA', seq: 4, ack: 1 }, 'def'));
    expect(ft.process(tcp('s', { flags: 'A', seq: 1, ack: 7 })).flushed).toEqual([]);
    ft.process(tcp('c', { flags: 'FA', seq: 7, ack: 1 }));
    ft.process(tcp('s', { flags: 'FA', seq: 1, ack: 8 }));
    const end = ft.process(tcp('c', { flags: 'A', seq: 8, ack: 2 }));
    expect(str(end.flushed)).toBe('abcdef');
    expect(end.flushed[0].reason).toBe('fin');
    const g = new FlowTable();
    g.process(tcp('c', { flags: 'PA', seq: 1, ack: 1 }, 'zzz'));
    // nothing acked, nothing flushed; but the cleanup decodes the first queued packet again (FlushQueuedSegs): marked
    expect(g.flushAll().map((s) => [s.reason, s.fromClient, s.data.length])).toEqual([['redecode', true, 0]]);
    g.process(tcp('s', { flags: 'A', seq: 1, ack: 4 }));
    const rest = g.flushAll();
    expect(str(rest)).toBe('zzz');
    expect(rest.map((s) => s.reason)).toEqual(['redecode', 'end']);
    // a session's cleanup rebuilds from the first queued segment's own packet
    expect(rest[1].flags).toBe(0x18);
  });
  it('bsd overlap policy keeps held data unless the new segment starts earlier', () => {
    const sb = new StreamBuffer('bsd');
    sb.init(0);
    sb.insert(4, Buffer.from('AAAA'));
    sb.insert(4, Buffer.from('BBBBBB'));
    sb.insert(0, Buffer.from('CCCCCC'));
    expect(Buffer.from(sb.flush()!.data).toString()).toBe('CCCCCCAABB');
    const first = new StreamBuffer('first');
    first.init(0);
    first.insert(4, Buffer.from('AAAA'));
    first.insert(0, Buffer.from('CCCCCC'));
    expect(Buffer.from(first.flush()!.data).toString()).toBe('CCCCAAAA');
  });
  it('handles sequence wrap-around', () => {
    const sb = new StreamBuffer();
    sb.insert(0xfffffffe, Buffer.from('ab'));
    sb.insert(0, Buffer.from('cd'));
    const r = sb.flush()!;
    expect(Buffer.from(r.data).toString()).toBe('abcd');
    expect(r.seq).toBe(0xfffffffe);
    expect(sb.base).toBe(2);
  });
  it('property: any segmentation, order and duplication reassembles to the original stream', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, sizes, seed, isn) => {
          const segs: [number, Uint8Array][] = [];
          let off = 0;
          for (let i = 0; off < data.length; i++) {
            const n = sizes[i % sizes.length];
            segs.push([off, data.subarray(off, off + n)]);
            off += n;
          }
          segs.push(segs[seed % segs.length]);
          let s = seed;
          for (let i = segs.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) >>> 0;
            const j = s % (i + 1);
            [segs[i], segs[j]] = [segs[j], segs[i]];
          }
          const sb = new StreamBuffer();
          sb.init(isn);
          const out: Uint8Array[] = [];
          for (const [o, d] of segs) {
            sb.insert((isn + o) >>> 0, d);
            const r = sb.flush(); // flush whatever is in order, as ACKs would
            if (r) out.push(r.data);
          }
          return Buffer.concat(out).equals(Buffer.from(data));
        },
      ),
      { numRuns: 300 },
    );
  });
});

const corpus = path.resolve(__dirname, '..', '..', 'shared', 'corpus', 'suricata-verify', 'tests');
const have = existsSync(corpus);
if (!have) console.warn(`suricata-verify corpus absent at ${corpus}: flow capture tests skipped`);

describe.skipIf(!have)('flows on real captures', () => {
  const run = (rel: string) => {
    const ft = new FlowTable({ reassembleClientPorts: 'all', reassembleServerPorts: 'all' });
    const ups = [];
    for (const r of readCaptureAll(readFileSync(path.join(corpus, rel))).records) {
      const p = decode(r.linktype, r.data);
      p.tsSec = r.tsSec;
      p.tsUsec = r.tsUsec;
      ups.push({ p, u: ft.process(p) });
    }
    return { ft, ups, end: ft.flushAll() };
  };
  it('alert-testmyids-not-established: the lone server packet is to_client and not established', () => {
    const { ups } = run('alert-testmyids-not-established/input.pcap');
    expect(ups.length).toBe(1);
    expect([ups[0].u.fromClient, ups[0].u.established]).toEqual([false, false]);
  });
  it('no-3whs: the alerting packet is to_server and established', () => {
    const { ups } = run('alert-no-3whs-established/no-3whs.pcap');
    const data = ups.filter((x) => x.p.payloadLength > 0);
    expect(data.map((x) => [x.u.fromClient, x.u.established])).toEqual([
      [true, false],
      [true, true],
    ]);
  });
  it('an HTTP capture reassembles into request and response text', () => {
    const { ft, ups, end } = run('http-all-headers/input.pcap');
    const segs = [...ups.flatMap((x) => x.u.flushed), ...end];
    const client = Buffer.concat(segs.filter((s) => s.fromClient).map((s) => s.data)).toString('latin1');
    const server = Buffer.concat(segs.filter((s) => !s.fromClient).map((s) => s.data)).toString('latin1');
    expect(client).toMatch(/^(GET|POST|HEAD) \S+ HTTP\/1\.[01]\r\n/);
    expect(server).toMatch(/^HTTP\/1\.[01] \d{3} /);
    expect(ft.stats.created.tcp).toBeGreaterThan(0);
    // every server payload byte appears once, in order
    const sent = Buffer.concat(ups.filter((x) => !x.u.fromClient && x.p.tcp && x.p.payloadLength > 0).map((x) => x.p.payload)).toString('latin1');
    expect(server).toBe(sent);
  });
});
