/**
 * The law: on any rule set and packet, the compiled matcher (prefilter, indexOf search, period jumps) raises the
 * same events as the reference evaluator (every rule, byte-by-byte search, every occurrence).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Endpoint, Flow } from '../src/flow/flow.js';
import { Matcher } from '../src/match/engine.js';
import type { Packet } from '../src/packet/packet.js';
import { ReferenceMatcher } from './helpers/reference-matcher.js';
import { compileText, itemOf, tcpPacket } from './helpers/match.js';

const ALPHABET = ['a', 'b', 'A', 'c', '|00|'];
const pattern = fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
const byteLen = (p: string) => p.replace(/\|00\|/g, '.').length;

const contentOpt = fc
  .record({
    p: pattern,
    neg: fc.boolean(),
    nocase: fc.boolean(),
    pos: fc.constantFrom('none', 'offset', 'depth', 'both', 'distance', 'within', 'dw'),
    off: fc.integer({ min: -3, max: 6 }),
    len: fc.integer({ min: 0, max: 8 }),
    fp: fc.constantFrom(false, false, false, true),
  })
  .map(({ p, neg, nocase, pos, off, len, fp }) => {
    const n = byteLen(p);
    const d = Math.max(n, len);
    let s = `content:${neg ? '!' : ''}"${p}";`;
    if (nocase) s += ' nocase;';
    if (pos === 'offset' || pos === 'both') s += ` offset:${Math.max(0, off)};`;
    if (pos === 'depth' || pos === 'both') s += ` depth:${d};`;
    if (pos === 'distance' || pos === 'dw') s += ` distance:${off};`;
    if (pos === 'within' || pos === 'dw') s += ` within:${d};`;
    if (fp && !neg && pos === 'none') s += ' fast_pattern;';
    return s;
  });

const otherOpt = fc.oneof(
  fc.constantFrom('pcre:"/a.?b/";', 'pcre:"/^b/R";', 'pcre:"/[ab]{2}/i";', 'pcre:!"/cc/";', 'pcre:"/(a)\\1/";', 'pcre:"/c(?=a)/";'),
  // relative pcres retried after a later option fails; some look before where they start (\b, lookbehind, ^ with
  // /m, a backtracking verb), the others let the matcher skip searches it knows find nothing (pcre-exec.ts)
  fc.constantFrom(
    'pcre:"/(a|b)c/R";',
    'pcre:"/\\bab/R";',
    'pcre:"/(?<=a)b/R";',
    'pcre:"/b$/R";',
    'pcre:"/^a/mR";',
    'pcre:"/a(*COMMIT)c|ab/R";',
    'pcre:"/[^b]a/R";',
    'pcre:!"/ca/R";',
  ),
  fc.constantFrom('isdataat:1,relative;', 'isdataat:!2,relative;', 'isdataat:3;'),
  fc.constantFrom(
    'byte_test:1,>,97,0,relative;',
    'byte_test:1,=,98,0;',
    'byte_jump:1,0,relative;',
    'byte_extract:1,0,v,relative; content:"a"; distance:v;',
  ),
  fc.constantFrom('dsize:>4;', 'dsize:<10;', 'flags:PA;'),
);

const ruleText = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: contentOpt }, { weight: 1, arbitrary: otherOpt }), { minLength: 1, maxLength: 4 }),
    fc.constantFrom('alert', 'drop', 'pass'),
  )
  .map(([opts, action]) => ({ opts: opts.join(' '), action }));

const payload = fc.array(fc.constantFrom(0x61, 0x61, 0x62, 0x62, 0x41, 0x63, 0x00, 0x01, 0x02), { maxLength: 24 }).map((a) => Uint8Array.from(a));

describe('compiled matcher == reference evaluator', () => {
  it('agree on generated rules and packets', () => {
    let compiledRules = 0;
    fc.assert(
      fc.property(fc.array(ruleText, { minLength: 1, maxLength: 4 }), fc.array(payload, { minLength: 1, maxLength: 4 }), (rules, payloads) => {
        const text = rules.map((r, i) => `${r.action} tcp any any -> any any (${r.opts} sid:${i + 1};)`).join('\n') + '\n';
        const compiled = compileText(text);
        compiledRules += compiled.plan.rules.length;
        const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
        const ref = new ReferenceMatcher(compiled.plan);
        for (const p of payloads) {
          const packet = tcpPacket(p);
          const a = m.inspect(itemOf(packet)).map((e) => e.rule.sid);
          const b = ref.inspect(itemOf(packet)).map((e) => e.rule.sid);
          expect(a).toEqual(b);
        }
      }),
      { numRuns: 1500 },
    );
    // the generator must produce rules the compiler accepts, or the property says nothing
    expect(compiledRules).toBeGreaterThan(400);
  });

  // The prefilter leaves out patterns whose rules cannot match the packet's ports (hsPortFilter, the union of the
  // port sets of the rules sharing a pattern): rules on ports, both ways, of tcp, udp and ip, on packets of any ports.
  const ports = fc.constantFrom('any', '80', '!80', '[80,443]', '1024:', ':1023', '[53,5000:5010]', '!$HTTP_PORTS', '$HTTP_PORTS');
  const header = fc.record({ proto: fc.constantFrom('tcp', 'udp', 'ip'), sp: ports, dp: ports, dir: fc.constantFrom('->', '->', '<>') });
  const portOf = fc.constantFrom(80, 443, 53, 1023, 1024, 5005, 8080, 40000);
  const shared = fc.constantFrom('content:"ab";', 'content:"a";', 'content:"abc"; nocase;', 'content:"b"; depth:2;');
  it('agree on rules with port sets, on packets of any ports (the port filter)', () => {
    let fired = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(header, fc.oneof(shared, contentOpt)), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(payload, portOf, portOf, fc.boolean()), { minLength: 1, maxLength: 4 }),
        (rules, packets) => {
          const text = rules.map(([h, opts], i) => `alert ${h.proto} any ${h.sp} ${h.dir} any ${h.dp} (${opts} sid:${i + 1};)`).join('\n') + '\n';
          const compiled = compileText(text, ['HTTP_PORTS=[80,8080]']);
          const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
          const ref = new ReferenceMatcher(compiled.plan);
          for (const [p, sport, dport, udp] of packets) {
            const packet = udp
              ? tcpPacket(p, { udp: { sport, dport } })
              : tcpPacket(p, { tcp: { sport, dport, flags: 'PA', seq: 1, ack: 1, window: 512 } });
            const a = m.inspect(itemOf(packet)).map((e) => e.rule.sid);
            const b = ref.inspect(itemOf(packet)).map((e) => e.rule.sid);
            expect(a).toEqual(b);
            fired += a.length;
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(fired).toBeGreaterThan(300);
  });

  // The payload groups hold the file_data rules' patterns too (prefilter.ts groupPatterns): a subject without file
  // data has its file_data rules found by the payload's scan, one with file data by the file_data group's, and the
  // payload's finds of them passed over. Rules on the payload and on file_data sharing patterns; packets with no file
  // data, an empty one (file_data is then the payload) and file data of their own (dcerpc2's).
  const bufOpt = fc.constantFrom('', '', 'file_data; ');
  // (one file data: dcerpc2's detections per file data are the matcher's, not the reference evaluator's)
  const fileData = fc.option(
    payload.map((f) => [f]),
    { nil: undefined },
  );
  it('agree where the order decides: a payload pattern also in the file data is searched there first', () => {
    // (found by the property below after 995 runs: the reference placed every payload pattern by its end in the
    // payload, where fpEvalHeaderSW's content search finds it in file_data_ptr first; six matches, five logged)
    const text = ['content:"ab";', 'content:"ab";', 'content:"ab";', 'content:"b"; depth:2;', 'content:"a";', 'content:"a";']
      .map((o, i) => `alert tcp any any -> any any (${o} sid:${i + 1};)`)
      .join('\n');
    const compiled = compileText(`${text}\n`);
    const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
    const ref = new ReferenceMatcher(compiled.plan);
    for (const fileData of [undefined, [Uint8Array.from([97, 98])], [Uint8Array.from([120])]]) {
      const item = () => itemOf(tcpPacket(Uint8Array.from([98, 97, 98])), fileData === undefined ? {} : { fileData });
      const a = m.inspect(item()).map((e) => e.rule.sid);
      expect(a).toHaveLength(5);
      expect(ref.inspect(item()).map((e) => e.rule.sid)).toEqual(a);
    }
  });

  it('agree on rules on the payload and on file_data, on packets with and without file data (the payload scan)', () => {
    let fired = 0;
    let fromFileData = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(bufOpt, fc.oneof(shared, contentOpt)), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(payload, fileData), { minLength: 1, maxLength: 4 }),
        (rules, packets) => {
          const text = rules.map(([buf, opts], i) => `alert tcp any any -> any any (${buf}${opts} sid:${i + 1};)`).join('\n') + '\n';
          const compiled = compileText(text);
          const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
          const ref = new ReferenceMatcher(compiled.plan);
          const fileDataSids = new Set(rules.flatMap(([buf], i) => (buf === '' ? [] : [i + 1])));
          for (const [p, files] of packets) {
            const packet = tcpPacket(p);
            const a = m.inspect(itemOf(packet, { fileData: files })).map((e) => e.rule.sid);
            const b = ref.inspect(itemOf(packet, { fileData: files })).map((e) => e.rule.sid);
            expect(a).toEqual(b);
            fired += a.length;
            fromFileData += a.filter((sid) => fileDataSids.has(sid)).length;
          }
        },
      ),
      { numRuns: 1500 },
    );
    // both kinds of rule must fire, or the property says nothing of the shared scan
    expect(fired - fromFileData).toBeGreaterThan(200);
    expect(fromFileData).toBeGreaterThan(200);
  });

  // A group whose patterns mostly belong to rules of one flow class gets a database per class (prefilter.ts), with
  // the group's port filter: a subject `flow` holds to a direction (a packet of a session, or a TCP packet) is scanned
  // with the patterns of its class only (to a server or a client, in an established session or not), the rules of a
  // pattern found that flowMatches refuses it are passed over; a UDP datagram without a session is scanned with all.
  // Rules with and without flow directions and states, on port sets; packets both ways, with and without a session.
  const flowOpt = fc.constantFrom(
    '',
    '',
    'flow:to_server;',
    'flow:to_client;',
    'flow:from_server;',
    'flow:from_client;',
    'flow:to_server,established;',
    'flow:established,to_client;',
    'flow:established;',
    'flow:not_established;',
    'flow:stateless;',
  );
  const sessionOf = (packet: Packet, fromClient: boolean, established: boolean): Flow => {
    const ip = packet.ip!;
    const [client, server] = fromClient ? [ip.src, ip.dst] : [ip.dst, ip.src];
    const [cport, sport] = fromClient ? [packet.srcPort, packet.dstPort] : [packet.dstPort, packet.srcPort];
    const f = new Flow(packet.tcp ? 'tcp' : 'udp', ip.proto, 0, 0, new Endpoint(client, cport), new Endpoint(server, sport), 0, 'established', false);
    f.established = established;
    return f;
  };
  it('agree on rules of each flow class, on packets both ways, in sessions and not (the flow classes databases)', () => {
    let fired = 0;
    let byClass = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(header, flowOpt, fc.oneof(shared, contentOpt)), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(payload, portOf, portOf, fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 4 }),
        (rules, packets) => {
          const text =
            rules.map(([h, flow, opts], i) => `alert ${h.proto} any ${h.sp} ${h.dir} any ${h.dp} (${flow} ${opts} sid:${i + 1};)`).join('\n') + '\n';
          const compiled = compileText(text, ['HTTP_PORTS=[80,8080]']);
          const m = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
          for (const g of m.prefilter) byClass += g.byClass.filter((d) => d !== undefined).length;
          const ref = new ReferenceMatcher(compiled.plan);
          for (const [p, sport, dport, fromClient, udp, session, established] of packets) {
            const packet = udp
              ? tcpPacket(p, { udp: { sport, dport } })
              : tcpPacket(p, { tcp: { sport, dport, flags: 'PA', seq: 1, ack: 1, window: 512 } });
            // a session of its own per packet (a session's tuple is fixed: the matcher keeps lists per session)
            const item = () => itemOf(packet, { fromClient, established, flow: session ? sessionOf(packet, fromClient, established) : undefined });
            const a = m.inspect(item()).map((e) => e.rule.sid);
            const b = ref.inspect(item()).map((e) => e.rule.sid);
            expect(a).toEqual(b);
            fired += a.length;
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(fired).toBeGreaterThan(300);
    // the generator must make groups with flow classes' databases, or the property says nothing of them
    expect(byClass).toBeGreaterThan(300);
  });
});
