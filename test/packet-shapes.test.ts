/**
 * The packet classes keep one V8 map each through a replay (settleShape, src/shapes.ts): a map that changes
 * under optimized code throws that code away, and every function of detection that reads packets is compiled again.
 * A child Node with V8's natives syntax pushes every suricata-verify capture through the replay's pipeline (the
 * compiled dist/, built by `npm test`'s pretest) and compares each packet, IP header and TCP header with the first of
 * its class made: the same map, or the map changed. It fails when a record's integer is stored as a double (the
 * first decode error's offset made the Packet field a boxed double). (It does not catch a settled object let go:
 * whether V8 then forgets the map depends on when it collects, which this child does not reproduce.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, svDir } from './helpers/corpus.js';

const captures: string[] = [];
if (existsSync(join(svDir, 'tests')))
  for (const test of readdirSync(join(svDir, 'tests')).sort())
    for (const f of readdirSync(join(svDir, 'tests', test)).sort()) if (f.endsWith('.pcap')) captures.push(join(svDir, 'tests', test, f));

/** Run in the child: prints one JSON line, the classes' map changes and what was seen. */
const CHECK = `
import { readFileSync } from 'node:fs';
import { NativePipeline } from ${JSON.stringify(join(repoRoot, 'dist/flow/native-pipeline.js'))};
import { replayPipelineOptions } from ${JSON.stringify(join(repoRoot, 'dist/match/replay.js'))};
import { readCaptureAll } from ${JSON.stringify(join(repoRoot, 'dist/packet/pcap.js'))};
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
const collect = new Function('%CollectGarbage(0)');
const first = new Map();
const changes = [];
const seen = {};
const check = (kind, o, where) => {
  if (o === undefined) return;
  seen[kind] = (seen[kind] ?? 0) + 1;
  const f = first.get(kind);
  if (f === undefined) first.set(kind, o);
  else if (!sameMap(f, o) && changes.length < 20) changes.push(kind + ' at ' + where);
};
const files = JSON.parse(process.argv[1]);
// (a collection before the first packet, and after each capture: the settled maps must outlive them)
collect();
for (const [k, file] of files.entries()) {
  const pipe = new NativePipeline(replayPipelineOptions({ checksumMode: 'none', pipeline: undefined }));
  const { records } = readCaptureAll(readFileSync(file), file);
  const look = (items, where) => {
    for (const it of items) {
      const p = it.packet;
      check('packet', p, where);
      check(p.ip?.version === 6 ? 'ip6' : 'ip4', p.ip, where);
      for (const o of p.outer ?? []) check(o.version === 6 ? 'ip6' : 'ip4', o, where);
      check('tcp', p.tcp, where);
    }
  };
  records.forEach((r, i) => look(pipe.push(r.linktype, r.data, r.tsSec, r.tsUsec, i), file + ' frame ' + i));
  look(pipe.finish(), file + ' end');
  collect();
}
console.log(JSON.stringify({ changes, seen }));
`;

describe.skipIf(captures.length === 0)('packet shapes', () => {
  it('one map per packet class through every suricata-verify capture', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', CHECK, JSON.stringify(captures)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(r.stderr).toBe('');
    const { changes, seen } = JSON.parse(r.stdout) as { changes: string[]; seen: Record<string, number> };
    expect(changes).toEqual([]);
    // the corpus must reach each class (its few IPv6 packets include extension headers, and its frames decode errors)
    expect(seen.packet).toBeGreaterThan(3000);
    expect(seen.ip6).toBeGreaterThan(5);
    expect(seen.tcp).toBeGreaterThan(1000);
  }, 120_000);
});
