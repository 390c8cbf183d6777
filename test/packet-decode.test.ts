import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../src/packet/bytes.js';
import { buildIcmpUnreachable, buildIp, buildTcpReset, concat, ethernet, linuxSll, linuxSll2, nullLoopback } from '../src/packet/build.js';
import { fixChecksums } from '../src/packet/checksum.js';
import { decode, decodeIpPacket, DecodeStats } from '../src/packet/decode.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { LinkType, TcpFlag } from '../src/packet/types.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('link layers', () => {
  const dgram = buildIp({
    ip: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 33 },
    tcp: { sport: 1234, dport: 80, seq: 7, flags: 'PA' },
    payload: 'GET / HTTP/1.0\r\n\r\n',
  });
  const cases: [string, number, Uint8Array][] = [
    ['ethernet', LinkType.ETHERNET, ethernet(dgram)],
    ['ethernet + 2 vlans', LinkType.ETHERNET, ethernet(dgram, { vlans: [100, 200] })],
    ['linux sll', LinkType.LINUX_SLL, linuxSll(dgram)],
    ['linux sll2', LinkType.LINUX_SLL2, linuxSll2(dgram)],
    ['raw 101', LinkType.RAW, dgram],
    ['raw ipv4 228', LinkType.IPV4, dgram],
    ['null loopback', LinkType.NULL, nullLoopback(dgram)],
    ['ethernet + padding', LinkType.ETHERNET, concat([ethernet(dgram), new Uint8Array(20)])],
  ];
  for (const [name, lt, frame] of cases) {
    it(`decodes TCP over ${name}`, () => {
      const p = decode(lt, frame);
      expect(p.error).toBeUndefined();
      expect(p.ip?.version).toBe(4);
      expect(formatIp(p.ip!.src)).toBe('10.0.0.1');
      expect(p.ip!.ttl).toBe(33);
      expect(p.tcp?.dstPort).toBe(80);
      expect(p.tcp?.flags).toBe(TcpFlag.PSH | TcpFlag.ACK);
      expect(p.tcp?.checksumOk).toBe(true);
      expect(p.ip4?.checksumOk).toBe(true);
      expect(text(p.payload)).toBe('GET / HTTP/1.0\r\n\r\n');
      // offsets point into the original frame
      expect(frame[p.ip!.offset] >> 4).toBe(4);
      expect(p.payloadOffset).toBe(p.tcp!.offset + 20);
    });
  }
  it('records vlan ids and ethernet offset', () => {
    const p = decode(LinkType.ETHERNET, ethernet(dgram, { vlans: [100, 200] }));
    expect(p.vlans?.map((v) => v.vid)).toEqual([100, 200]);
    expect(p.eth?.etherType).toBe(0x8100);
    expect(p.ip!.offset).toBe(22);
  });
  it('non-IP frames are not errors', () => {
    const arp = ethernet(new Uint8Array(28), { etherType: 0x0806 });
    const s = new DecodeStats();
    const p = decode(LinkType.ETHERNET, arp, s);
    expect(p.ip).toBeUndefined();
    expect(p.error).toBeUndefined();
    expect(s.nonIp).toBe(1);
  });
  it('unknown link type is an error', () => {
    expect(decode(999, new Uint8Array(40)).error).toBe('link-unsupported');
  });
});

describe('IPv4', () => {
  it('decodes header fields, fragbits and options', () => {
    const d = buildIp({
      ip: { src: '1.2.3.4', dst: '5.6.7.8', tos: 0x10, id: 4242, df: true, rb: true, ttl: 5, options: Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 1) },
      udp: { sport: 53, dport: 9999 },
      payload: 'x',
    });
    const p = decodeIpPacket(d);
    const ip = p.ip4!;
    expect([ip.tos, ip.id, ip.df, ip.rb, ip.mf, ip.ttl, ip.headerLength]).toEqual([0x10, 4242, true, true, false, 5, 28]);
    expect(ip.options.map((o) => [o.type, o.length])).toEqual([
      [7, 7],
      [1, 1],
    ]);
    expect(ip.checksumOk).toBe(true);
    expect(p.udp?.srcPort).toBe(53);
    expect(p.udp?.checksumOk).toBe(true);
  });
  it("decodes a fragment's transport only in the first fragment of a UDP datagram (decode.c DecodeIP)", () => {
    // the first fragment: its UDP header, the rest of the fragment as payload (not uh_len's whole datagram)
    const d = buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8', mf: true, id: 9 }, udp: { sport: 1, dport: 2 }, payload: 'abcdefgh' });
    d[24] = 0; // uh_len says 400 (the whole datagram); a fragment's UDP length is what it holds
    d[25] = 200;
    const p = decodeIpPacket(d);
    expect(p.ip!.isFragment).toBe(true);
    expect(p.udp?.srcPort).toBe(1);
    expect(p.payloadLength).toBe(8);
    expect(p.badChecksum).toBe(false);
    // a later fragment, and a first fragment of another protocol: IP payload only
    const later = buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8', id: 9, fragOffset: 2 }, proto: 17, payload: 'abcdefgh' });
    const q = decodeIpPacket(later);
    expect(q.udp).toBeUndefined();
    expect(q.payloadLength).toBe(8);
    const tcp = decodeIpPacket(
      buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8', mf: true, id: 9 }, tcp: { sport: 1, dport: 2 }, payload: 'abcdefgh' }),
    );
    expect(tcp.tcp).toBeUndefined();
    expect(tcp.payloadLength).toBe(28);
    // too short for a UDP header: an IP packet
    const short = decodeIpPacket(buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8', mf: true, id: 9 }, proto: 17, payload: 'abcd' }));
    expect(short.udp).toBeUndefined();
  });
  it('detects a bad header checksum', () => {
    const d = buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8' }, icmp: { type: 8, id: 1, seq: 2 } });
    d[10] ^= 0xff;
    const p = decodeIpPacket(d);
    expect(p.ip4!.checksumOk).toBe(false);
    expect(p.badChecksum).toBe(true);
    expect(p.icmp?.checksumOk).toBe(true);
  });
  const bad: [string, (d: Uint8Array) => Uint8Array, string][] = [
    ['short', (d) => d.subarray(0, 12), 'ip-truncated'],
    [
      'bad version',
      (d) => {
        d[0] = 0x55;
        return d;
      },
      'ip-bad-version',
    ],
    [
      'ihl < 5',
      (d) => {
        d[0] = 0x44;
        return d;
      },
      'ip4-bad-header-length',
    ],
    [
      'total < ihl',
      (d) => {
        d[2] = 0;
        d[3] = 10;
        return d;
      },
      'ip4-bad-total-length',
    ],
    [
      'total > captured',
      (d) => {
        d[2] = 0x10;
        return d;
      },
      'ip-truncated',
    ],
    [
      'bad option length',
      (d) => {
        d[0] = 0x46;
        d[20] = 7;
        d[21] = 0;
        return d;
      },
      'ip4-bad-options',
    ],
    [
      'tcp data offset too big',
      (d) => {
        d[20 + 12] = 0xf0;
        return d;
      },
      'tcp-bad-offset',
    ],
    [
      'tcp data offset < 5',
      (d) => {
        d[20 + 12] = 0x40;
        return d;
      },
      'tcp-bad-offset',
    ],
  ];
  for (const [name, mutate, kind] of bad) {
    it(`reports ${name} as ${kind}`, () => {
      const d = buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8' }, tcp: { sport: 1, dport: 2 }, payload: 'hello world, some payload' });
      const s = new DecodeStats();
      const p = decodeIpPacket(mutate(d), s);
      expect(p.error).toBe(kind);
      expect(s.malformed).toBe(1);
      expect(s.errors[kind as keyof typeof s.errors]).toBe(1);
    });
  }
  it('keeps the IP layer when the TCP header is bad (as Snort)', () => {
    const d = buildIp({ ip: { src: '1.2.3.4', dst: '5.6.7.8' }, tcp: { sport: 1, dport: 2 } });
    d[32] = 0xf0;
    const p = decodeIpPacket(d);
    expect(p.ip?.proto).toBe(6);
    expect(p.tcp).toBeUndefined();
  });
});

describe('IPv6', () => {
  it('walks extension headers and reads the fragment header', () => {
    const hbh = { type: 0, body: new Uint8Array(7) };
    const dst = { type: 60, body: new Uint8Array(7) };
    const d = buildIp({
      ip: { src: '2001:db8::1', dst: '2001:db8::2', ttl: 9, tos: 0xb8, ext: [hbh, dst] },
      tcp: { sport: 5, dport: 6, flags: 'S' },
    });
    const p = decodeIpPacket(d);
    const ip = p.ip6!;
    expect(ip.ext.map((e) => e.type)).toEqual([0, 60]);
    expect(ip.headerLength).toBe(56);
    expect(ip.proto).toBe(6);
    expect(ip.ttl).toBe(9);
    expect(ip.tos).toBe(0xb8);
    expect(p.tcp?.flags).toBe(TcpFlag.SYN);
    expect(p.tcp?.checksumOk).toBe(true);
    const f = decodeIpPacket(
      buildIp({ ip: { src: '::1', dst: '::2', fragment: true, mf: true, id: 77, fragOffset: 3 }, udp: { sport: 1, dport: 2 } }),
    );
    expect([f.ip!.isFragment, f.ip!.id, f.ip!.mf, f.ip!.fragOffset]).toEqual([true, 77, true, 3]);
    expect(f.udp).toBeUndefined();
  });
  it('decodes ICMPv6 echo with pseudo-header checksum', () => {
    const p = decodeIpPacket(buildIp({ ip: { src: 'fe80::1', dst: 'ff02::1' }, icmp: { type: 128, id: 0x1234, seq: 7 }, payload: 'ping' }));
    expect([p.icmp6?.type, p.icmp6?.id, p.icmp6?.seq, p.icmp6?.checksumOk]).toEqual([128, 0x1234, 7, true]);
    expect(text(p.payload)).toBe('ping');
  });
  it('reports truncated extension headers', () => {
    const d = buildIp({ ip: { src: '::1', dst: '::2', ext: [{ type: 0, body: new Uint8Array(7) }] }, udp: { sport: 1, dport: 2 } });
    d[41] = 200; // hop-by-hop length far beyond the datagram
    expect(decodeIpPacket(d).error).toBe('ip6-ext-truncated');
  });
});

describe('tunnels', () => {
  const inner4 = buildIp({ ip: { src: '192.168.0.1', dst: '192.168.0.2' }, udp: { sport: 1000, dport: 53 }, payload: 'inner' });
  const inner6 = buildIp({ ip: { src: '2001::1', dst: '2001::2' }, tcp: { sport: 1, dport: 2 }, payload: 'six' });
  it('IPv4 in IPv4', () => {
    const p = decodeIpPacket(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, proto: 4, payload: inner4 }));
    expect(formatIp(p.ip!.src)).toBe('192.168.0.1');
    expect(p.outer?.map((o) => formatIp(o.src))).toEqual(['1.1.1.1']);
    expect(text(p.payload)).toBe('inner');
    expect(p.udp?.dstPort).toBe(53);
  });
  it('IPv6 in IPv4 and IPv6 in IPv6', () => {
    const a = decodeIpPacket(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, proto: 41, payload: inner6 }));
    expect(a.ip?.version).toBe(6);
    expect(a.tcp?.dstPort).toBe(2);
    const b = decodeIpPacket(buildIp({ ip: { src: '::1', dst: '::2' }, proto: 41, payload: inner6 }));
    expect(b.outer?.length).toBe(1);
    expect(text(b.payload)).toBe('six');
  });
  it('GRE carrying IPv4', () => {
    const gre = concat([Uint8Array.of(0, 0, 0x08, 0x00), inner4]);
    const p = decodeIpPacket(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, proto: 47, payload: gre }));
    expect(p.gre?.protocol).toBe(0x0800);
    expect(p.udp?.srcPort).toBe(1000);
  });
  it('limits nesting depth', () => {
    let d = inner4;
    for (let i = 0; i < 10; i++) d = buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, proto: 4, payload: d });
    expect(decodeIpPacket(d).error).toBe('tunnel-too-deep');
  });
});

describe('ICMP and UDP', () => {
  it('echo id/seq and unreachable embedded header', () => {
    const e = decodeIpPacket(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, icmp: { type: 8, id: 5, seq: 6 }, payload: 'abc' }));
    expect([e.icmp?.id, e.icmp?.seq, text(e.payload)]).toEqual([5, 6, 'abc']);
    const orig = decodeIpPacket(buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { sport: 4000, dport: 161 }, payload: 'q' }));
    const u = decodeIpPacket(buildIcmpUnreachable(orig)!);
    expect([u.icmp?.type, u.icmp?.code, u.icmp?.checksumOk, u.icmp?.id]).toEqual([3, 3, true, -1]);
    expect(formatIp(u.ip!.dst)).toBe('10.0.0.1');
    const inner = decodeIpPacket(u.data.subarray(u.icmp!.embeddedOffset));
    expect(inner.udp?.dstPort).toBe(161);
  });
  it('udp bad length', () => {
    const d = buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, udp: { sport: 1, dport: 2 }, payload: 'abc' });
    d[24] = 0;
    d[25] = 200;
    expect(decodeIpPacket(d).error).toBe('udp-bad-length');
  });
  it('UDP checksum 0 over IPv4 is valid, over IPv6 it is not', () => {
    const d4 = buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, udp: { sport: 1, dport: 2 } });
    d4[26] = 0;
    d4[27] = 0;
    expect(decodeIpPacket(d4).udp?.checksumOk).toBe(true);
    const d6 = buildIp({ ip: { src: '::1', dst: '::2' }, udp: { sport: 1, dport: 2 } });
    d6[46] = 0;
    d6[47] = 0;
    expect(decodeIpPacket(d6).udp?.checksumOk).toBe(false);
  });
});

describe('reject helpers', () => {
  it('buildTcpReset answers the sender with RST|ACK at the right sequence', () => {
    const p = decodeIpPacket(
      buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { sport: 3333, dport: 80, seq: 1000, ack: 5000, flags: 'PA' }, payload: 'hello' }),
    );
    const r = decodeIpPacket(buildTcpReset(p)!);
    expect(formatIp(r.ip!.src)).toBe('10.0.0.2');
    expect([r.tcp?.srcPort, r.tcp?.dstPort, r.tcp?.seq, r.tcp?.ack, r.tcp?.flags]).toEqual([80, 3333, 5000, 1005, TcpFlag.RST | TcpFlag.ACK]);
    expect(r.tcp?.checksumOk).toBe(true);
    const f = decodeIpPacket(buildTcpReset(p, 'destination')!);
    expect([f.tcp?.srcPort, f.tcp?.seq, f.tcp?.ack]).toEqual([3333, 1005, 5000]);
    expect(buildTcpReset(decodeIpPacket(buildIp({ ip: { src: '1.1.1.1', dst: '2.2.2.2' }, udp: { sport: 1, dport: 2 } })))).toBeUndefined();
  });
  it('IPv6 unreachable quotes the datagram', () => {
    const p = decodeIpPacket(buildIp({ ip: { src: '2001::1', dst: '2001::2' }, udp: { sport: 1, dport: 2 }, payload: 'zz' }));
    const u = decodeIpPacket(buildIcmpUnreachable(p)!);
    expect([u.icmp6?.type, u.icmp6?.code, u.icmp6?.checksumOk]).toEqual([1, 4, true]);
    expect(u.payloadLength).toBe(p.data.length);
  });
});

describe('address helpers', () => {
  it('parse/format round trip', () => {
    for (const a of ['1.2.3.4', '::1', '2001:db8::1:0:0:1', 'fe80::', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8']) {
      const b = parseIp(a)!;
      expect(parseIp(formatIp(b))).toEqual(b);
    }
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('1::2::3')).toBeUndefined();
  });
});

const linktypes = [0, 1, 9, 101, 108, 113, 228, 229, 276, 12];

describe('properties', () => {
  it('decoding random bytes never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...linktypes), fc.uint8Array({ maxLength: 200 }), (lt, b) => {
        const s = new DecodeStats();
        const p = decode(lt, b, s);
        return s.packets === 1 && p.payloadOffset + p.payloadLength <= b.length;
      }),
      { numRuns: 5000 },
    );
  });
  it('decoding mutated valid packets never throws and keeps payload inside the frame', () => {
    const base = [
      ethernet(
        buildIp({
          ip: { src: '10.0.0.1', dst: '10.0.0.2', options: Uint8Array.of(1, 1, 1, 0) },
          tcp: { sport: 1, dport: 2, options: Uint8Array.of(2, 4, 5, 180, 1, 3, 3, 7) },
          payload: 'abcdef',
        }),
      ),
      ethernet(buildIp({ ip: { src: '::1', dst: '::2', ext: [{ type: 0, body: new Uint8Array(7) }] }, udp: { sport: 1, dport: 2 }, payload: 'xyz' })),
      ethernet(
        buildIp({
          ip: { src: '1.1.1.1', dst: '2.2.2.2' },
          proto: 41,
          payload: buildIp({ ip: { src: '::1', dst: '::2' }, icmp: { type: 128, id: 1, seq: 1 } }),
        }),
      ),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...base),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (frame, muts, cut) => {
          const b = frame.slice(0, frame.length - (cut % 8));
          for (const [i, v] of muts) b[i % b.length] = v;
          const p = decode(1, b);
          if (p.tcp) void p.tcp.options;
          return p.payloadOffset + p.payloadLength <= b.length;
        },
      ),
      { numRuns: 5000 },
    );
  });
  const specArb = fc.record({
    v6: fc.boolean(),
    kind: fc.constantFrom('tcp', 'udp', 'icmp'),
    payload: fc.uint8Array({ maxLength: 300 }),
    port: fc.integer({ min: 0, max: 65535 }),
  });
  it('fixChecksums yields valid checksums and keeps the length after any payload rewrite', () => {
    fc.assert(
      fc.property(specArb, fc.uint8Array({ minLength: 1, maxLength: 300 }), ({ v6, kind, payload, port }, repl) => {
        const ip = v6 ? { src: '2001:db8::5', dst: '2001:db8::6' } : { src: '10.1.2.3', dst: '10.3.2.1' };
        const frame = ethernet(
          buildIp({
            ip,
            payload,
            tcp: kind === 'tcp' ? { sport: port, dport: 80, seq: 1, ack: 2 } : undefined,
            udp: kind === 'udp' ? { sport: port, dport: 53 } : undefined,
            icmp: kind === 'icmp' ? { type: v6 ? 128 : 8, id: port, seq: 1 } : undefined,
          }),
        );
        const p = decode(1, frame);
        const len = frame.length;
        // rewrite payload bytes in place, as the replace verdict does
        for (let i = 0; i < p.payloadLength; i++) frame[p.payloadOffset + i] = repl[i % repl.length];
        fixChecksums(frame, p);
        const q = decode(1, frame);
        return frame.length === len && !q.badChecksum && q.error === undefined;
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- real captures ----
const repoRoot = path.resolve(__dirname, '..');
const corpus = path.resolve(repoRoot, '..', 'shared', 'corpus', 'suricata-verify', 'tests');
const haveCorpus = existsSync(corpus);
if (!haveCorpus) console.warn(`suricata-verify corpus absent at ${corpus}: corpus decode test skipped`);

function* pcaps(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const f = path.join(dir, e);
    if (statSync(f).isDirectory()) yield* pcaps(f);
    else if (/\.pcap(ng)?$/.test(e)) yield f;
  }
}

describe.skipIf(!haveCorpus)('suricata-verify captures', () => {
  it('decodes every packet of every capture without throwing', () => {
    const total = new DecodeStats();
    let files = 0;
    for (const f of pcaps(corpus)) {
      files++;
      const { records } = readCaptureAll(readFileSync(f), f);
      for (const r of records) {
        const p = decode(r.linktype, r.data, total);
        if (p.tcp) void p.tcp.options;
      }
    }
    console.log(`decoded ${files} captures: ${JSON.stringify(total)}`);
    expect(files).toBeGreaterThan(40);
    expect(total.packets).toBeGreaterThan(1000);
    expect(total.tcp + total.udp).toBeGreaterThan(total.packets / 2);
    const errorSum = Object.values(total.errors).reduce((a, b) => a + (b ?? 0), 0);
    expect(errorSum).toBe(total.malformed);
  });
});

describe('decodeIpPacket lengthFromData (queued GSO super-packets)', () => {
  const datagram = () =>
    buildIp({
      ip: { src: '10.0.0.20', dst: '10.0.0.1' },
      tcp: { sport: 40000, dport: 5001, seq: 1, ack: 1, flags: 'A' },
      payload: new Uint8Array(65_000).fill(0x41),
    });

  it('decodes a 64 KB TCP segment as it is', () => {
    const p = decodeIpPacket(datagram(), undefined, { verifyChecksums: true });
    expect(p.error).toBeUndefined();
    expect(p.badChecksum).toBe(false);
    expect(p.payloadLength).toBe(65_000);
  });

  it('an IPv4 total length of 0 (BIG TCP) or beyond the copy: the data is the datagram', () => {
    const zero = datagram();
    zero[2] = 0;
    zero[3] = 0;
    expect(decodeIpPacket(zero, undefined, { verifyChecksums: false }).error).toBe('ip4-bad-total-length');
    const p = decodeIpPacket(zero, undefined, { verifyChecksums: false, lengthFromData: true });
    expect(p.error).toBeUndefined();
    expect(p.ip!.totalLength).toBe(zero.length);
    expect(p.tcp!.dstPort).toBe(5001);
    expect(p.payloadLength).toBe(65_000);
    const cut = datagram().subarray(0, 40_000);
    expect(decodeIpPacket(cut, undefined, { verifyChecksums: false }).error).toBe('ip-truncated');
    expect(decodeIpPacket(cut, undefined, { verifyChecksums: false, lengthFromData: true }).payloadLength).toBe(40_000 - 40);
  });

  it('IPv6: a payload length of 0 likewise', () => {
    const d = buildIp({
      ip: { src: 'fd00::20', dst: 'fd00::1' },
      tcp: { sport: 40000, dport: 5001, flags: 'A' },
      payload: new Uint8Array(3000).fill(0x42),
    });
    d[4] = 0;
    d[5] = 0;
    const p = decodeIpPacket(d, undefined, { verifyChecksums: false, lengthFromData: true });
    expect(p.error).toBeUndefined();
    expect(p.payloadLength).toBe(3000);
  });
});
