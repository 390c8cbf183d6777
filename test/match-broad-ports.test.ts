/**
 * The law of broad-port databases (src/match/broad-ports.ts): for a packet neither of whose ports a narrow port set
 * names, a scan with a database's broad-port database gives exactly the ids of a scan with the database itself, both
 * with the port filter. Checked on generated rules (narrow and broad port sets on both sides, bidirectional ones,
 * `flow` so that flow classes get databases of their own), ports and payloads, in every flow class; a streaming
 * database scanned as blocks (how these are scanned) against the block one; a stored database this machine cannot
 * load, rebuilt; and the table of which ports are narrow, case by case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { narrowPorts, NARROW_PORT_SET_MAX } from '../src/match/broad-ports.js';
import { Matcher } from '../src/match/engine.js';
import { PrefilterLoader } from '../src/match/prefilter.js';
import { HS_CASELESS, HS_SINGLEMATCH, loadEngine } from '../src/native/engine.js';
import { compileText } from './helpers/match.js';
import { flowOption, payload, pattern, portOf, ruleHeader as header, rulesText } from './helpers/port-rules.js';

const options = fc.tuple(pattern, fc.boolean(), flowOption).map(([p, nocase, f]) => `content:"${p}";${nocase ? ' nocase;' : ''} ${f}`);

describe('broad-port databases: the same ids as their database on ports no narrow set names', () => {
  it('scan by scan, in every flow class, on generated rules, ports and payloads', () => {
    let compared = 0;
    let broadScans = 0;
    let skipped = 0;
    let found = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(header, options), { minLength: 1, maxLength: 10 }),
        fc.array(fc.tuple(payload, portOf, portOf), { minLength: 1, maxLength: 6 }),
        (rules, packets) => {
          const m = new Matcher(compileText(rulesText(rules), ['HTTP_PORTS=[80,8080]']).plan, undefined, { checksumMode: 'none' });
          const engine = m.ctx.engine;
          for (const l of m.groups.flat()) {
            if (l.narrow === undefined) continue;
            for (let c = 0; c < l.classDb.length; c++) {
              const base = l.classDb[c];
              const broad = l.broadDb[c];
              if (base === undefined) {
                expect(broad).toBeUndefined();
                continue;
              }
              for (const [p, sport, dport] of packets) {
                if (l.narrow[sport] === 1 || l.narrow[dport] === 1) continue;
                // the payload, and every pattern of the group at once (the port filter alone decides the ids)
                for (const bytes of [p, l.group.patternBytes]) {
                  if (bytes.length === 0) continue; // (the matcher scans no empty buffer; Hyperscan refuses one)
                  const whole = l.out.slice(0, engine.hsScan(base, bytes, 0, bytes.length, l.out, sport, dport));
                  const mine =
                    broad === undefined ? new Int32Array(0) : l.out.slice(0, engine.hsScan(broad, bytes, 0, bytes.length, l.out, sport, dport));
                  expect(Array.from(mine)).toEqual(Array.from(whole));
                  compared++;
                  if (broad === undefined) skipped++;
                  else if (broad !== base) broadScans++;
                  if (whole.length > 0) found++;
                }
              }
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // the generator must make broad-port databases that get used, empty ones, and scans that find something
    expect(broadScans).toBeGreaterThan(compared / 8);
    expect(skipped).toBeGreaterThan(0);
    expect(found).toBeGreaterThan(compared / 4);
  });

  it('a streaming database scanned as blocks: the ids of the block one, scan after scan, also after one cut short', () => {
    const engine = loadEngine();
    const text = new TextEncoder();
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            pattern.map((p) => p.replaceAll('|00|', '\0')),
            fc.boolean(),
          ),
          { minLength: 1, maxLength: 12, selector: ([p]) => p },
        ),
        fc.array(fc.tuple(payload, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 8 }),
        (patterns, scans) => {
          const bytes = patterns.map(([p]) => text.encode(p));
          const flags = Uint32Array.from(patterns, ([, nocase]) => (nocase ? HS_CASELESS : 0) | HS_SINGLEMATCH);
          const ids = Uint32Array.from(patterns, (_, i) => i);
          const block = engine.hsLoad(engine.hsCompile(bytes, flags, ids, false), patterns.length - 1);
          const stream = engine.hsLoad(engine.hsCompile(bytes, flags, ids, true), patterns.length - 1);
          const all = new Int32Array(patterns.length);
          for (const [p, cap] of scans) {
            if (p.length === 0) continue;
            const expected = Array.from(all.subarray(0, engine.hsScan(block, p, 0, p.length, all)));
            // a scan into too small an array stops when it is full (the stream is left terminated, then reset)
            const short = new Int32Array(cap);
            expect(engine.hsScan(stream, p, 0, p.length, short)).toBe(Math.min(cap, expected.length));
            const got = new Int32Array(patterns.length);
            expect(Array.from(got.subarray(0, engine.hsScan(stream, p, 0, p.length, got)))).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a stored database this machine cannot load is rebuilt from its patterns: the same ids, counted', () => {
    const text = rulesText([
      [{ proto: 'tcp', sp: 'any', dp: '80', dir: '->' }, 'content:"abc"; flow:to_server;'],
      [{ proto: 'tcp', sp: 'any', dp: '1024:', dir: '->' }, 'content:"bca"; flow:to_server;'],
      [{ proto: 'tcp', sp: 'any', dp: 'any', dir: '->' }, 'content:"cab"; flow:to_client;'],
      [{ proto: 'tcp', sp: '[139,445]', dp: 'any', dir: '->' }, 'content:"|00|b"; flow:to_client;'],
      [{ proto: 'tcp', sp: 'any', dp: 'any', dir: '->' }, 'content:"a|00|";'],
      // (most patterns narrow, so that the broad ones get databases of their own)
      ...['abd', 'abe', 'abf', 'abg', 'abh'].map((p) => [{ proto: 'tcp', sp: 'any', dp: '[80,8080]', dir: '<>' }, `content:"${p}";`] as const),
    ]);
    const m = new Matcher(compileText(text).plan, undefined, { checksumMode: 'none' });
    const engine = m.ctx.engine;
    const g = m.prefilter.find((x) => x.proto === 'tcp' && x.buf === 'pkt')!;
    expect(g.broad.some((b) => b instanceof Uint8Array)).toBe(true);
    // every stored database refused as made for another CPU (what hsLoad says of one)
    const stored = new Set<Uint8Array>([g.block, ...g.byClass, ...g.broad].filter((b): b is Uint8Array => b instanceof Uint8Array));
    const foreign: typeof engine = Object.create(engine);
    foreign.hsLoad = (bytes, maxId) => {
      if (stored.has(bytes as Uint8Array)) throw Object.assign(new Error('hyperscan: cannot load the database (platform)'), { code: 'platform' });
      return engine.hsLoad(bytes, maxId);
    };
    const rebuilder = new PrefilterLoader(foreign);
    const rebuilt = rebuilder.load(g);
    const original = new PrefilterLoader(engine).load(g);
    expect(rebuilder.rebuilt).toBeGreaterThan(2);
    const out = new Int32Array(g.nocase.length);
    const bytes = new TextEncoder().encode('xxabc bca cab a\0 \0b ab');
    for (let c = 0; c < original.broadDb.length; c++) {
      for (const [a, b] of [
        [original.broadDb[c], rebuilt.broadDb[c]],
        [original.classDb[c], rebuilt.classDb[c]],
      ] as const) {
        expect(a === undefined).toBe(b === undefined);
        if (a === undefined || b === undefined) continue;
        const ids = Array.from(out.subarray(0, engine.hsScan(a, bytes, 0, bytes.length, out, 40000, 40001)));
        expect(Array.from(out.subarray(0, engine.hsScan(b, bytes, 0, bytes.length, out, 40000, 40001)))).toEqual(ids);
      }
    }
  });

  // the ports a narrow set names, per rule header: [header, ports expected narrow, ports expected broad]
  const TABLE: [string, number[], number[]][] = [
    ['any any -> any 80', [80], [0, 79, 81, 40000]],
    ['any :1023 -> any any', [0, 1023], [1024, 65535]],
    ['any any -> any 1024:', [], [0, 1024, 65535]],
    ['any any -> any !80', [], [0, 80, 65535]],
    ['any any <> any [53,5000:5010]', [53, 5000, 5010], [54, 4999, 5011]],
    [`any any -> any 1:${NARROW_PORT_SET_MAX}`, [1, NARROW_PORT_SET_MAX], [0, NARROW_PORT_SET_MAX + 1]],
    [`any any -> any 1:${NARROW_PORT_SET_MAX + 1}`, [], [1, NARROW_PORT_SET_MAX + 1]],
    ['any 27020:27050 -> any any', [27020, 27050], [27019, 27051]],
  ];
  for (const [h, narrow, broad] of TABLE) {
    it(`narrow ports of ${h}`, () => {
      const m = new Matcher(compileText(`alert tcp ${h} (content:"abc"; sid:1;)\n`).plan, undefined, { checksumMode: 'none' });
      const g = m.groups[0]!.find((l) => l.group.buf === 'pkt')!;
      const table = narrowPorts(g.group);
      for (const p of narrow) expect([p, table[p]]).toEqual([p, 1]);
      for (const p of broad) expect([p, table[p]]).toEqual([p, 0]);
    });
  }
});
