/**
 * The law of the index of rules without a fast pattern (no-fast-pattern-index.ts): whatever the rules' address and
 * port sets (IPv4 and IPv6 hosts and networks of any length, lists long and short, nested, negated, `any`), a packet's
 * candidates hold every rule whose header matches it. The index may name more (the header check follows), never fewer.
 */
import { buildIp } from '../src/packet/build.js';
import { formatIp } from '../src/packet/bytes.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildNoFastPatternIndex, NoFastPatternIndex } from '../src/match/no-fast-pattern-index.js';
import { PROTO_CLASSES } from '../src/match/prefilter.js';
import { RuleList, RuleTable } from '../src/match/rule-table.js';
import { compileText } from './helpers/match.js';

// a few neighbourhoods, so that sets and packets meet: IPv4 /16s in one /8, in two /4s, IPv6 /32s in one /16
const v4 = fc.tuple(fc.constantFrom('10.1', '10.2', '11.1', '192.168'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }));
const v6 = fc.tuple(fc.constantFrom('2001:470', '2001:db8'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }));
const v4Text = v4.map(([a, b, c]) => `${a}.${b}.${c}`);
const v6Text = v6.map(([a, b, c]) => `${a}:${b}::${c}`);
const cidr = fc.oneof(
  fc.tuple(v4Text, fc.constantFrom('', '/32', '/24', '/16', '/12', '/8', '/4')).map(([a, p]) => a + p),
  fc.tuple(v6Text, fc.constantFrom('', '/128', '/64', '/32', '/16', '/12', '/8', '/4')).map(([a, p]) => a + p),
);
const item = fc.tuple(fc.integer({ min: 0, max: 9 }), cidr).map(([neg, c]) => (neg === 0 ? `!${c}` : c));
const addressText = fc.oneof(
  fc.constant('any'),
  cidr,
  fc.array(item, { minLength: 1, maxLength: 12 }).map((l) => `[${l.join(',')}]`),
  fc.array(cidr, { minLength: 8, maxLength: 20 }).map((l) => `[${l.join(',')}]`),
  fc.tuple(cidr, fc.array(cidr, { minLength: 1, maxLength: 3 })).map(([c, l]) => `[${c},[${l.join(',')}]]`),
);
const portText = fc.constantFrom('any', '80', '[80,443]', '1024:', '!22', '[53,5353]');
const portOf = fc.constantFrom(22, 53, 80, 443, 1024, 5353, 40000);

const v4Bytes = v4.map(([a, b, c]) => Uint8Array.from([...a.split('.').map(Number), b, c]));
const v6Bytes = v6.map(([a, b, c]) => {
  const out = new Uint8Array(16);
  const [h0, h1] = a.split(':').map((h) => Number.parseInt(h, 16));
  out.set([h0! >> 8, h0! & 255, h1! >> 8, h1! & 255, 0, b], 0);
  out[15] = c;
  return out;
});
const packet = fc.oneof(fc.tuple(v4Bytes, v4Bytes), fc.tuple(v6Bytes, v6Bytes));

describe('index of the rules without a fast pattern', () => {
  it('holds every rule whose header matches a packet (IPv4 and IPv6 sets, lists, nesting, negation)', () => {
    let matched = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(addressText, portText, addressText, portText, fc.constantFrom('->', '->', '<>')), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(packet, portOf, portOf), { minLength: 1, maxLength: 6 }),
        (rules, packets) => {
          const text = rules.map(([s, sp, d, dp, dir], i) => `alert tcp ${s} ${sp} ${dir} ${d} ${dp} (msg:"r"; sid:${i + 1};)`).join('\n') + '\n';
          const compiled = compileText(text);
          fc.pre(compiled.plan.rules.length === rules.length);
          const table = RuleTable.fromRules(compiled.plan.rules);
          const index = new NoFastPatternIndex(buildNoFastPatternIndex(table)[PROTO_CLASSES.indexOf('tcp')]!);
          for (const [[src, dst], sport, dport] of packets) {
            const ip = decodeIpPacket(
              buildIp({ ip: { src: formatIp(src), dst: formatIp(dst), ttl: 64 }, tcp: { sport, dport, flags: 'A', seq: 1, ack: 1, window: 9 } }),
            ).ip!;
            const found = new RuleList(16);
            index.candidates(ip, sport, dport, found);
            const named = new Set(found.ids.subarray(0, found.n));
            for (let i = 0; i < table.count; i++) {
              // (the header's check on an IPv4 header's 32-bit addresses is the check on its bytes)
              expect(table.endpointsMatchIp(i, ip, sport, dport)).toBe(table.endpointsMatch(i, src, dst, sport, dport));
              if (!table.endpointsMatch(i, src, dst, sport, dport)) continue;
              matched++;
              expect(named.has(i), `rule ${i + 1} (${text.split('\n')[i]}) on ${src.join('.')} -> ${dst.join('.')}`).toBe(true);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
    // the law is not held by packets that match nothing
    expect(matched).toBeGreaterThan(1000);
  });
});
