/**
 * Frames for properties of code that reads packet headers (test/flow-shard.test.ts, test/capture-walk.test.ts): an
 * IPv4 or IPv6 datagram (TCP, UDP, ICMP, or another protocol: tunnels, extension headers, none) as Ethernet with 0-3
 * VLAN tags or as raw IP, then maybe damaged: bytes changed, cut short or padded.
 */
import fc from 'fast-check';
import { buildIp, type PacketSpec } from '../../src/packet/build.js';

const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `10.0.${a}.${b}`);
const v6 = fc.integer({ min: 0, max: 0xffff }).map((a) => `2001:db8::${a.toString(16)}`);
const spec: fc.Arbitrary<PacketSpec> = fc
  .record({
    six: fc.boolean(),
    a: fc.nat(),
    b: fc.nat(),
    l4: fc.constantFrom('tcp', 'udp', 'icmp', 'raw'),
    payload: fc.uint8Array({ maxLength: 40 }),
    sport: fc.integer({ min: 0, max: 65535 }),
    dport: fc.integer({ min: 0, max: 65535 }),
  })
  .chain(({ six, l4, payload, sport, dport }) =>
    fc.tuple(six ? v6 : v4, six ? v6 : v4, fc.constantFrom(47, 4, 41, 99, 0, 43, 59)).map(([src, dst, proto]) => {
      const s: PacketSpec = { ip: { src, dst, ttl: 64 }, payload };
      if (l4 === 'tcp') s.tcp = { sport, dport, flags: 'PA', seq: 1, ack: 1, window: 100 };
      else if (l4 === 'udp') s.udp = { sport, dport };
      else if (l4 === 'icmp') s.icmp = { type: sport & 0xff, code: 0 };
      else s.proto = proto;
      return s;
    }),
  );

/** `link`: 1 Ethernet, -1 or 101 raw IP. */
export const frame = fc
  .record({
    spec,
    link: fc.constantFrom(1, -1, 101),
    vlans: fc.integer({ min: 0, max: 3 }),
    flips: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })),
    cut: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
    pad: fc.integer({ min: 0, max: 8 }),
  })
  .map(({ spec: s, link, vlans, flips, cut, pad }) => {
    const ip = buildIp(s);
    let bytes: Uint8Array;
    if (link === 1) {
      const tags = Array.from({ length: vlans }, (_, i) => [0x81, 0x00, 0x00, i + 1]).flat();
      const type = ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [0x08, 0x00];
      bytes = Uint8Array.from([...new Array<number>(12).fill(2), ...tags, ...type, ...ip, ...new Array<number>(pad).fill(0)]);
    } else bytes = Uint8Array.from([...ip, ...new Array<number>(pad).fill(0)]);
    for (const [at, v] of flips) bytes[at % bytes.length] = v;
    if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return { link, bytes };
  });
