/**
 * The flow table's limits (stream5_global max_tcp and its kin) are bounds a capture can reach, a scan or a SYN flood
 * from a honeypot: a replay that evicts sessions at them says so in its warnings, in one thread (the native front's
 * table) and with worker threads (each shard's), where it also says that its alerts can then differ from one thread's.
 * The sharded replay runs its workers from the compiled dist/ (built by `npm test`'s pretest), as the CLI does.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Matcher } from '../src/match/engine.js';
import { replayCapture, type CaptureWarning } from '../src/match/replay.js';
import { ethernet, tcpDatagram } from '../src/packet/build.js';
import { parseIp } from '../src/packet/bytes.js';
import { encodePcap } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import { repoRoot } from './helpers/corpus.js';
import { compileText } from './helpers/match.js';

const SESSIONS = 40;
const B = (s: string) => Buffer.from(s, 'latin1');

/** SESSIONS TCP sessions from as many clients, opened one after the other and each sending data after all are open. */
function capture(dir: string): string {
  const server = parseIp('192.0.2.80')!;
  const frames: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];
  const add = (d: Uint8Array) => frames.push({ tsSec: 1_700_000_000, tsUsec: frames.length, data: ethernet(d) });
  const client = (i: number) => parseIp(`10.1.${i >> 8}.${i & 255}`)!;
  for (let i = 0; i < SESSIONS; i++) {
    add(tcpDatagram(client(i), server, 40000, 80, 100, 0, 0x02, B('')));
    add(tcpDatagram(server, client(i), 80, 40000, 500, 101, 0x12, B('')));
    add(tcpDatagram(client(i), server, 40000, 80, 101, 501, 0x10, B('')));
  }
  for (let i = 0; i < SESSIONS; i++) add(tcpDatagram(client(i), server, 40000, 80, 101, 501, 0x18, B('evil')));
  const path = join(dir, 'sessions.pcap');
  writeFileSync(path, encodePcap(frames, { linktype: LinkType.ETHERNET }));
  return path;
}

const RULES = 'alert tcp any any -> any 80 (msg:"evil"; content:"evil"; sid:1;)\n';
const evictions = (ws: CaptureWarning[]) => ws.map((w) => w.text).filter((t) => t.includes('flows:'));

describe('the flow table at its limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-flow-limits-'));
  const pcap = capture(dir);
  const compiled = compileText(RULES);

  it('one thread: the evictions are a warning with their count; none at the default limits', async () => {
    const run = async (maxTcp: number | undefined) => {
      const warnings: CaptureWarning[] = [];
      let events = 0;
      const opts = { checksumMode: 'none' as const, pipeline: maxTcp === undefined ? undefined : { flow: { maxTcp } } };
      await replayCapture(pcap, new Matcher(compiled.plan, undefined, { checksumMode: 'none' }), opts, () => void events++, undefined, warnings);
      return { events, flows: evictions(warnings) };
    };
    const full = await run(undefined);
    expect(full.flows).toEqual([]);
    expect(full.events).toBe(SESSIONS);
    const small = await run(4);
    expect(small.flows).toHaveLength(1);
    const n = Number(/flows: (\d+) session\(s\) evicted/.exec(small.flows[0]!)?.[1]);
    // each of the first 36 sessions is evicted when the fifth after it opens, and the data packets reopen sessions
    expect(n).toBeGreaterThanOrEqual(SESSIONS - 4);
    expect(small.flows[0]).toContain(pcap);
  });

  it('two worker threads: the evictions summed over the shards, and the note that the alerts can differ from one thread', async () => {
    const { writeArtifact, readArtifact } = (await import(join(repoRoot, 'dist/match/artifact.js'))) as typeof import('../src/match/artifact.js');
    const { ShardedReplay } = (await import(join(repoRoot, 'dist/match/replay.js'))) as typeof import('../src/match/replay.js');
    const artifact = join(dir, 'rules.hwm');
    await writeArtifact(artifact, compiled.plan);
    const sharded = await ShardedReplay.start(artifact, readArtifact(artifact), 2, { checksumMode: 'none', pipeline: { flow: { maxTcp: 2 } } });
    const warnings: CaptureWarning[] = [];
    try {
      await sharded.run(pcap, { onEvent: () => undefined }, undefined, warnings);
    } finally {
      await sharded.close();
    }
    const flows = evictions(warnings);
    expect(flows).toHaveLength(2);
    expect(Number(/flows: (\d+) session\(s\) evicted/.exec(flows[0]!)?.[1])).toBeGreaterThan(0);
    expect(flows[1]).toMatch(/each of the 2 worker threads has a flow table of these limits/);
  });
});
