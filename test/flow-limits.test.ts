/**
 * The flow table's limits (stream5_global max_tcp and its kin) are bounds a capture can reach, a scan or a SYN flood
 * from a honeypot: a replay that evicts sessions at them says so in its warnings, in one thread (the native front's
 * table) and with worker threads (each shard's), where it also says that its alerts can then differ from one thread's.
 * So are a direction's reassembly queue limits (stream5_tcp max_queued_bytes, max_queued_segs): segments it refuses,
 * behind a gap it cannot flush, are counted by both tables (the native front's and PacketPipeline's, the same counts)
 * and told in the replay's warnings.
 * The sharded replay runs its workers from the compiled dist/ (built by `npm test`'s pretest), as the CLI does.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NativePipeline } from '../src/flow/native-pipeline.js';
import { PacketPipeline } from '../src/flow/pipeline.js';
import { Matcher } from '../src/match/engine.js';
import { replayCapture, replayPipelineOptions, type CaptureWarning } from '../src/match/replay.js';
import { parseIp } from '../src/packet/bytes.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { repoRoot } from './helpers/corpus.js';
import { compileText } from './helpers/match.js';
import { SessionCapture } from './helpers/sessions.js';

const SESSIONS = 40;

/** SESSIONS TCP sessions from as many clients, opened one after the other and each sending data after all are open. */
function capture(dir: string): string {
  const server = parseIp('192.0.2.80')!;
  const c = new SessionCapture();
  const client = (i: number) => parseIp(`10.1.${i >> 8}.${i & 255}`)!;
  for (let i = 0; i < SESSIONS; i++) c.handshake(client(i), server, 40000, 80);
  for (let i = 0; i < SESSIONS; i++) c.data(client(i), server, 40000, 80, 101, 'evil');
  return c.write(join(dir, 'sessions.pcap'));
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

/** One session whose client sends a first segment that never arrives, then OUT_OF_ORDER segments of 100 bytes after it. */
const OUT_OF_ORDER = 60;
function gapCapture(dir: string): string {
  const client = parseIp('10.2.0.1')!;
  const server = parseIp('192.0.2.80')!;
  const c = new SessionCapture();
  c.handshake(client, server, 40000, 80);
  // bytes 101..200 are the gap; the segments after it cannot be flushed while it lasts
  for (let k = 0; k < OUT_OF_ORDER; k++) c.data(client, server, 40000, 80, 201 + 100 * k, 'x'.repeat(100));
  return c.write(join(dir, 'gap.pcap'));
}

describe('a reassembly queue at its limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-queue-limits-'));
  const pcap = gapCapture(dir);
  const compiled = compileText(RULES);
  const refusals = (ws: CaptureWarning[]) => ws.map((w) => w.text).filter((t) => t.includes('reassembly:'));

  it('both flow tables count the segments refused behind a gap, the same', () => {
    for (const flow of [{ maxQueuedBytes: 2000 }, { maxQueuedSegs: 10 }]) {
      const opts = replayPipelineOptions({ checksumMode: 'none', pipeline: { flow } });
      const js = new PacketPipeline(opts);
      const native = new NativePipeline(opts);
      readCaptureAll(new Uint8Array(readFileSync(pcap))).records.forEach((r, i) => {
        js.push(r.linktype, r.data, r.tsSec, r.tsUsec, i);
        native.push(r.linktype, r.data, r.tsSec, r.tsUsec, i);
      });
      const { refusedSegments, refusedBytes } = js.flowStats;
      // 2000 bytes hold 20 segments of 100, 10 segments hold 10: the rest is refused
      expect(refusedSegments).toBe(flow.maxQueuedBytes !== undefined ? OUT_OF_ORDER - 20 : OUT_OF_ORDER - 10);
      expect(refusedBytes).toBe(100 * refusedSegments);
      expect({ refusedSegments: native.flowStats.refusedSegments, refusedBytes: native.flowStats.refusedBytes }).toEqual({
        refusedSegments,
        refusedBytes,
      });
    }
  });

  it('a replay tells them, in one thread and with two; none at the default limits', async () => {
    const one = async (flow: { maxQueuedBytes: number } | undefined) => {
      const warnings: CaptureWarning[] = [];
      const opts = { checksumMode: 'none' as const, pipeline: flow === undefined ? undefined : { flow } };
      await replayCapture(pcap, new Matcher(compiled.plan, undefined, { checksumMode: 'none' }), opts, () => undefined, undefined, warnings);
      return refusals(warnings);
    };
    expect(await one(undefined)).toEqual([]);
    const small = await one({ maxQueuedBytes: 2000 });
    expect(small).toHaveLength(1);
    expect(small[0]).toContain(`reassembly: ${OUT_OF_ORDER - 20} TCP segment(s) (${100 * (OUT_OF_ORDER - 20)} bytes) not queued`);

    const { writeArtifact, readArtifact } = (await import(join(repoRoot, 'dist/match/artifact.js'))) as typeof import('../src/match/artifact.js');
    const { ShardedReplay } = (await import(join(repoRoot, 'dist/match/replay.js'))) as typeof import('../src/match/replay.js');
    const artifact = join(dir, 'rules.hwm');
    await writeArtifact(artifact, compiled.plan);
    const sharded = await ShardedReplay.start(artifact, readArtifact(artifact), 2, {
      checksumMode: 'none',
      pipeline: { flow: { maxQueuedBytes: 2000 } },
    });
    const warnings: CaptureWarning[] = [];
    try {
      await sharded.run(pcap, { onEvent: () => undefined }, undefined, warnings);
    } finally {
      await sharded.close();
    }
    expect(refusals(warnings)).toEqual(small.map((t) => t));
  });
});
