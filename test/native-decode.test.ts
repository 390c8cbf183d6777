/**
 * The native front's decoder (native/src/honeywall_decode.c) against src/packet/decode.ts: the same packet, field
 * for field (layers, offsets, first error and its offset, checksum verdicts, payload), on generated frames of every
 * link type the decoder reads (damaged or not, tunnels included), on random bytes, and on every frame of the
 * suricata-verify captures in ../shared (said when absent). The JavaScript decoder stays for the commands that run
 * without the addon (sebek, import, the console); this is what holds the two together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIp, type IpSpec, type PacketSpec } from '../src/packet/build.js';
import { decode, decodeIpPacket, type Packet } from '../src/packet/decode.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { DECODE_ERRORS, type IpHeader } from '../src/packet/types.js';
import { loadEngine } from '../src/native/engine.js';
import { svDir } from './helpers/corpus.js';
import { frame } from './helpers/frames.js';

const engine = loadEngine();

/** A JavaScript packet as the native record lays it out (honeywall_decode.c decodeFrame). */
function recordOf(p: Packet): number[] {
  const ips: IpHeader[] = p.ip === undefined ? [] : [...(p.outer ?? []), p.ip];
  const vlans = p.vlans ?? [];
  const mpls = p.mplsLabels ?? [];
  const r = [
    p.error === undefined ? -1 : DECODE_ERRORS.indexOf(p.error),
    p.errorOffset,
    p.badChecksum ? 1 : 0,
    p.payloadOffset,
    p.payloadLength,
    p.eth?.offset ?? -1,
    p.eth?.etherType ?? 0,
    vlans.length,
    mpls.length,
    ips.length,
    p.gre ? 1 : 0,
    p.tcp ? 1 : 0,
    p.udp ? 1 : 0,
    p.icmp ? 1 : 0,
    p.icmp6 ? 1 : 0,
    0,
  ];
  for (const v of vlans) r.push(v.offset, v.tpid, (v.pcp << 13) | (v.dei ? 0x1000 : 0) | v.vid);
  r.push(...mpls);
  const tri = (ok: boolean | undefined) => (ok === undefined ? -1 : ok ? 1 : 0);
  for (const ip of ips) {
    const v6 = ip.version === 6;
    r.push(ip.version, ip.offset, ip.headerLength, ip.totalLength, ip.ttl, ip.tos, ip.proto, ip.id | 0, +ip.rb, +ip.df, +ip.mf, ip.fragOffset);
    r.push(+ip.isFragment, v6 ? 0 : ip.checksum, v6 ? -1 : tri(ip.checksumOk), v6 ? ip.flowLabel : 0, v6 ? ip.nextHeader : 0);
    r.push(v6 ? ip.fragHeaderOffset : -1, v6 ? ip.ext.length : 0, v6 ? 0 : ip.options.length);
    if (v6) for (const e of ip.ext) r.push(e.type, e.offset, e.length);
    else for (const o of ip.options) r.push(o.type, o.length, o.offset);
  }
  if (p.gre) r.push(p.gre.offset, p.gre.headerLength, p.gre.flags, p.gre.version, p.gre.protocol);
  if (p.tcp) {
    const t = p.tcp;
    r.push(
      t.offset,
      t.headerLength,
      t.srcPort,
      t.dstPort,
      t.seq | 0,
      t.ack | 0,
      t.flags,
      t.reserved,
      t.window,
      t.checksum,
      t.urgentPointer,
      tri(t.checksumOk),
    );
  }
  if (p.udp) r.push(p.udp.offset, p.udp.srcPort, p.udp.dstPort, p.udp.length, p.udp.checksum, tri(p.udp.checksumOk));
  for (const h of [p.icmp, p.icmp6]) if (h) r.push(h.offset, h.type, h.code, h.checksum, tri(h.checksumOk), h.id, h.seq, h.embeddedOffset);
  return r;
}

/** Both decoders on one frame: [JavaScript's record, the native one]. */
function both(linktype: number, bytes: Uint8Array, verify: boolean, lengthFromData = false, maxLayers = 8): [number[], number[]] {
  const opts = { verifyChecksums: verify, lengthFromData, maxIpLayers: maxLayers };
  const p = linktype === -1 ? decodeIpPacket(bytes, undefined, opts) : decode(linktype, bytes, undefined, opts);
  const native = engine.decodeFrame(linktype, bytes, (verify ? 1 : 0) | (lengthFromData ? 2 : 0), maxLayers);
  return [recordOf(p), Array.from(native)];
}

const LINK_TYPES = [0, 1, 9, 12, 14, 101, 108, 113, 228, 229, 276, 7, -1];

/** Link headers put before an IP datagram (or anything) for each link type. */
function linkHeader(linktype: number, inner: Uint8Array, etherType: number, pick: number): number[] {
  switch (linktype) {
    case 0:
      return pick & 1 ? [inner[0]! >> 4 === 6 ? 24 : 2, 0, 0, 0] : [0, 0, 0, inner[0]! >> 4 === 6 ? 10 : 2];
    case 108:
      return [0, 0, 0, inner[0]! >> 4 === 6 ? 30 : 2];
    case 9:
      return pick & 1 ? [0xff, 0x03, 0x00, inner[0]! >> 4 === 6 ? 0x57 : 0x21] : [inner[0]! >> 4 === 6 ? 0x57 : 0x21];
    case 113:
      return [...new Array<number>(14).fill(1), etherType >> 8, etherType & 0xff];
    case 276:
      return [etherType >> 8, etherType & 0xff, ...new Array<number>(18).fill(3)];
    case 1: {
      // Ethernet, sometimes with MPLS or PPPoE in front of the datagram
      const v6 = inner[0]! >> 4 === 6;
      if (pick % 5 === 1) return [...new Array<number>(12).fill(2), 0x88, 0x47, 0, 0, 0x11, 0x40, 0, 0, 0x21, 0x40];
      if (pick % 5 === 2) return [...new Array<number>(12).fill(2), 0x88, 0x64, 0x11, 0, 0, 1, 0, 20, 0, v6 ? 0x57 : 0x21];
      return [...new Array<number>(12).fill(2), etherType >> 8, etherType & 0xff];
    }
    default:
      return [];
  }
}

/** IP datagrams whose protocol is a tunnel (GRE, IPIP, 6in4) around another datagram, or plain ones. */
const spec: fc.Arbitrary<PacketSpec> = fc
  .record({
    six: fc.boolean(),
    l4: fc.constantFrom('tcp', 'udp', 'icmp', 'gre', 'ipip', 'frag'),
    payload: fc.uint8Array({ maxLength: 48 }),
    port: fc.integer({ min: 0, max: 65535 }),
    greFlags: fc.constantFrom(0, 0x2000, 0x3000, 0x8000, 0x3081, 0x4000, 0x0008),
    greProto: fc.constantFrom(0x0800, 0x86dd, 0x6558, 0x880b, 0x88be, 0x22eb, 0x1234),
    options: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    ext: fc.array(fc.record({ type: fc.constantFrom(0, 43, 60, 135, 51), body: fc.uint8Array({ minLength: 6, maxLength: 6 }) }), { maxLength: 3 }),
    noChecksums: fc.boolean(),
  })
  .map(({ six, l4, payload, port, greFlags, greProto, options, ext, noChecksums }) => {
    const frag = l4 === 'frag' ? { mf: (port & 1) === 1, fragOffset: (port >> 1) & 3, fragment: six, id: port } : {};
    const ip: IpSpec = six
      ? { src: '2001:db8::1', dst: '2001:db8::2', ttl: 9, ext, flowLabel: port, ...frag }
      : { src: '10.1.2.3', dst: '10.3.2.1', ttl: 9, ...(options ? { options } : {}), ...frag };
    const inner = buildIp({ ip: { src: '192.168.0.1', dst: '192.168.0.2', ttl: 5 }, udp: { sport: port, dport: 53 }, payload });
    if (l4 === 'tcp') return { ip, tcp: { sport: port, dport: 80, flags: 'PA', seq: 7, ack: 9, window: 512 }, payload, noChecksums };
    if (l4 === 'udp' || l4 === 'frag') return { ip, udp: { sport: port, dport: 53 }, payload, noChecksums };
    if (l4 === 'icmp') return { ip, icmp: { type: port & 0xff, code: port >> 8 }, payload, noChecksums };
    if (l4 === 'ipip') return { ip, proto: six ? 41 : 4, payload: inner };
    const gre = [greFlags >> 8, greFlags & 0xff, greProto >> 8, greProto & 0xff, ...new Array<number>(16).fill(0)];
    return { ip, proto: 47, payload: Uint8Array.from([...gre, ...inner]) };
  });

const framed = fc
  .record({
    spec,
    linktype: fc.constantFrom(...LINK_TYPES),
    pick: fc.nat(),
    flips: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })),
    cut: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
    // a length field set near the bytes there are (where off-by-one decisions are): TCP data offset, UDP length,
    // IPv4 total length or IPv6 payload length
    near: fc.option(fc.tuple(fc.constantFrom('tcp', 'udp', 'ip'), fc.integer({ min: -5, max: 5 }))),
  })
  .map(({ spec: s, linktype, pick, flips, cut, near }) => {
    const ip = buildIp(s);
    if (near !== null) nearLength(ip, near[0], near[1]);
    const etherType = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
    let bytes = Uint8Array.from([...linkHeader(linktype, ip, etherType, pick), ...ip]);
    for (const [at, v] of flips) bytes[at % bytes.length] = v;
    if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return { linktype, bytes };
  });

/** Sets one length field of a datagram to the length there is plus `delta` (located with decode.ts, not trusted). */
function nearLength(ip: Uint8Array, field: 'tcp' | 'udp' | 'ip', delta: number): void {
  const p = decodeIpPacket(ip, undefined, { verifyChecksums: false });
  const h = p.ip;
  if (h === undefined) return;
  const set16 = (at: number, v: number) => {
    ip[at] = (v >> 8) & 0xff;
    ip[at + 1] = v & 0xff;
  };
  if (field === 'tcp' && p.tcp !== undefined) {
    const words = Math.max(0, Math.min(15, ((h.offset + h.totalLength - p.tcp.offset) >> 2) + delta));
    ip[p.tcp.offset + 12] = (words << 4) | (ip[p.tcp.offset + 12]! & 0x0f);
  } else if (field === 'udp' && p.udp !== undefined) set16(p.udp.offset + 4, Math.max(0, h.offset + h.totalLength - p.udp.offset + delta));
  else if (field === 'ip') set16(h.offset + (h.version === 4 ? 2 : 4), Math.max(0, ip.length - h.offset - (h.version === 4 ? 0 : 40) + delta));
}

describe('the native decoder (honeywall_decode.c)', () => {
  it('decodes generated frames of every link type as decode.ts does', () => {
    fc.assert(
      fc.property(framed, fc.boolean(), ({ linktype, bytes }, verify) => {
        const [js, native] = both(linktype, bytes, verify);
        expect(native).toEqual(js);
      }),
      { numRuns: 20_000 },
    );
  });

  it('decodes the header-reading properties’ frames, and random bytes, as decode.ts does', () => {
    fc.assert(
      fc.property(frame, fc.boolean(), ({ link, bytes }, verify) => {
        const [js, native] = both(link, bytes, verify);
        expect(native).toEqual(js);
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 120 }), fc.boolean(), (linktype, bytes, verify) => {
        const [js, native] = both(linktype, bytes, verify);
        expect(native).toEqual(js);
      }),
      { numRuns: 10_000 },
    );
  });

  it('takes the length from the data, and limits the layers, as decodeIpPacket does', () => {
    fc.assert(
      fc.property(framed, fc.integer({ min: 0, max: 16 }), ({ bytes }, maxLayers) => {
        const [js, native] = both(-1, bytes, true, true, maxLayers);
        expect(native).toEqual(js);
      }),
      { numRuns: 5_000 },
    );
  });

  it.skipIf(!readdirSafe(join(svDir, 'tests')))('decodes every frame of the suricata-verify captures as decode.ts does', () => {
    let frames = 0;
    for (const test of readdirSafe(join(svDir, 'tests'))!) {
      const dir = join(svDir, 'tests', test);
      for (const f of readdirSafe(dir) ?? []) {
        if (!f.endsWith('.pcap') && !f.endsWith('.pcapng')) continue;
        const { records } = readCaptureAll(readFileSync(join(dir, f)), f);
        for (const r of records) {
          const [js, native] = both(r.linktype, r.data, true);
          if (native.join() !== js.join())
            expect({ file: `${test}/${f}`, offset: r.offset, native }).toEqual({ file: `${test}/${f}`, offset: r.offset, native: js });
          frames++;
        }
      }
    }
    expect(frames).toBeGreaterThan(3000);
  });
});

function readdirSafe(dir: string): string[] | undefined {
  try {
    return readdirSync(dir).sort();
  } catch {
    return undefined;
  }
}
