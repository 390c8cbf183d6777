/**
 * The law of port groups (src/match/port-groups.ts): a scan with a port group's database gives exactly the ids of a
 * scan with the whole group's database and its port filter, in the same order. The gateway scans with whichever is
 * ready when a packet comes (port groups compile on libuv's threads), so this is what keeps its verdicts independent
 * of timing: checked on generated rules, ports and payloads, scan by scan, and matcher by matcher (a matcher with
 * port groups, before and after its databases are ready, raises the same events as one without).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Matcher } from '../src/match/engine.js';
import type { LoadedGroup } from '../src/match/prefilter.js';
import { PortGroups } from '../src/match/port-groups.js';
import { compileText, itemOf, tcpPacket } from './helpers/match.js';
import { payload, pattern, portOf, ruleHeader as header, rulesText } from './helpers/port-rules.js';

const content = fc.tuple(pattern, fc.boolean()).map(([p, nocase]) => `content:"${p}";${nocase ? ' nocase;' : ''}`);

/** Every pattern of a group, one after the other: a payload in which the port filter alone decides the ids. */
function allPatterns(l: LoadedGroup): Uint8Array {
  return l.group.patternBytes;
}

describe('port groups: the same ids as the whole database with its port filter', () => {
  it('scan by scan, on generated rules, ports and payloads', async () => {
    let compared = 0;
    let nonEmpty = 0;
    let groupScans = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(header, content), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(payload, portOf, portOf), { minLength: 1, maxLength: 6 }),
        async (rules, packets) => {
          const compiled = compileText(rulesText(rules), ['HTTP_PORTS=[80,8080]']);
          const m = new Matcher(compiled.plan, undefined, {
            checksumMode: 'none',
            inline: true,
            portGroups: { maxDatabases: 64, maxBytes: 1 << 30 },
          });
          const engine = m.ctx.engine;
          for (const l of m.groups.flat()) {
            const pg = l.ports;
            if (pg === undefined) continue;
            for (const [, sport, dport] of packets) pg.database(sport, dport);
            await pg.settled();
            for (const [p, sport, dport] of packets) {
              for (const bytes of [p, allPatterns(l)]) {
                if (bytes.length === 0) continue; // (the matcher scans no empty buffer; Hyperscan refuses one)
                const whole = l.out.slice(0, engine.hsScan(l.db, bytes, 0, bytes.length, l.out, sport, dport));
                const db = pg.database(sport, dport);
                if (db !== undefined && db !== l.db) groupScans++;
                const mine = db === undefined ? new Int32Array(0) : l.out.slice(0, engine.hsScan(db, bytes, 0, bytes.length, l.out, sport, dport));
                expect(Array.from(mine)).toEqual(Array.from(whole));
                // ascending: the order depends on the set alone
                for (let i = 1; i < whole.length; i++) expect(whole[i]!).toBeGreaterThan(whole[i - 1]!);
                compared++;
                if (whole.length > 0) nonEmpty++;
              }
            }
            expect(pg.stats.failed).toBe(0);
          }
        },
      ),
      { numRuns: 300 },
    );
    // the generator must make scans that find something and port groups that get used, or this says nothing
    expect(nonEmpty).toBeGreaterThan(compared / 4);
    expect(groupScans).toBeGreaterThan(compared / 4);
  });

  it('matcher by matcher, while the databases compile and after', async () => {
    let fired = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            header,
            fc.array(content, { minLength: 1, maxLength: 2 }).map((a) => a.join(' ')),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.tuple(payload, portOf, portOf, fc.boolean()), { minLength: 1, maxLength: 6 }),
        async (rules, packets) => {
          const compiled = compileText(rulesText(rules), ['HTTP_PORTS=[80,8080]']);
          const plain = new Matcher(compiled.plan, undefined, { checksumMode: 'none', inline: true });
          const grouped = new Matcher(compiled.plan, undefined, { checksumMode: 'none', inline: true, portGroups: true });
          const run = (m: Matcher): number[][] =>
            packets.map(([p, sport, dport, udp]) => {
              const packet = udp
                ? tcpPacket(p, { udp: { sport, dport } })
                : tcpPacket(p, { tcp: { sport, dport, flags: 'PA', seq: 1, ack: 1, window: 512 } });
              return m.inspect(itemOf(packet)).map((e) => e.rule.sid);
            });
          const expected = run(plain);
          // first: the whole databases serve while the port groups compile
          expect(run(grouped)).toEqual(expected);
          for (const l of grouped.groups.flat()) await l.ports?.settled();
          expect(run(grouped)).toEqual(expected);
          fired += expected.flat().length;
        },
      ),
      { numRuns: 300 },
    );
    expect(fired).toBeGreaterThan(100);
  });

  it('past its limits a group is served by the whole database, counted', async () => {
    const text = rulesText([
      [{ proto: 'udp', sp: 'any', dp: '80', dir: '->' }, 'content:"ab";'],
      [{ proto: 'udp', sp: 'any', dp: '53', dir: '->' }, 'content:"ba";'],
      [{ proto: 'udp', sp: 'any', dp: '1024:', dir: '->' }, 'content:"aa";'],
      [{ proto: 'udp', sp: 'any', dp: 'any', dir: '->' }, 'content:"bb";'],
    ]);
    const m = new Matcher(compileText(text).plan, undefined, { checksumMode: 'none', inline: true });
    const l = m.groups.flat().find((g) => g.group.proto === 'udp')!;
    const pg = new PortGroups(l.group, l.db, m.ctx.engine, { maxDatabases: 1, maxBytes: 1 << 30 });
    const first = pg.database(1, 80);
    expect(pg.database(1, 53)).toBe(l.db); // a second set: over the limit, the whole database
    await pg.settled();
    expect(first).toBe(l.db); // (compiling when asked)
    expect(pg.database(1, 80)).not.toBe(l.db);
    expect(pg.database(1, 53)).toBe(l.db);
    expect(pg.stats).toMatchObject({ sets: 1, ready: 1, overLimit: 1, pairs: 2, compiling: 0, failed: 0 });
    // not ports (no filter applies): the whole database
    expect(pg.database(-1, 80)).toBe(l.db);
  });
});
