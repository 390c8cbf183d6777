/**
 * A sharded replay's threads detach no ArrayBuffer while they inspect. The first ArrayBuffer an isolate detaches (a
 * transfer in postMessage does) invalidates V8's ArrayBufferDetaching protector, and every optimized function that
 * reads a typed array is thrown away then and compiled again with detach checks: nearly all of detection, in each
 * shard thread. When the shards handed their reports over by transfer, that happened at each shard's first post,
 * just after the hot code had been compiled (the bench capture's recompiles 280-300 ms over the threads instead of
 * 120-130; replay-worker.ts's `post`).
 *
 * Seen with V8's --trace-protector-invalidation in a child process whose stdout is unbuffered (stdbuf), which kills
 * itself once the replay has run and before the threads stop: a worker thread's teardown detaches the addon's
 * external buffers (node's Environment cleanup), which is no harm then and must not count here.
 * The sharded replay runs its workers from the compiled dist/ (built by `npm test`'s pretest), as the CLI does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeArtifact } from '../src/match/artifact.js';
import { parseIp } from '../src/packet/bytes.js';
import { repoRoot } from './helpers/corpus.js';
import { compileText } from './helpers/match.js';
import { SessionCapture } from './helpers/sessions.js';

const SESSIONS = 40;

/** SESSIONS TCP sessions, each with a handshake and one segment the rule matches: reports from both shards. */
function capture(dir: string): string {
  const server = parseIp('192.0.2.80')!;
  const c = new SessionCapture();
  for (let i = 0; i < SESSIONS; i++) {
    const client = parseIp(`10.3.${i >> 8}.${i & 255}`)!;
    c.handshake(client, server, 40000, 80);
    c.data(client, server, 40000, 80, 101, 'evil');
  }
  return c.write(join(dir, 'sessions.pcap'));
}

/**
 * The child: a two-thread replay of the capture, its event count written, then SIGKILL before the threads stop.
 * `control`: it also detaches an ArrayBuffer itself first (the trace must then show the invalidation).
 */
const CHILD = `
const [dist, artifact, pcap, control] = process.argv.slice(2);
if (control === 'control') {
  const b = new ArrayBuffer(8);
  structuredClone(b, { transfer: [b] });
}
const { readArtifact } = await import(dist + '/match/artifact.js');
const { ShardedReplay } = await import(dist + '/match/replay.js');
const sharded = await ShardedReplay.start(artifact, readArtifact(artifact), 2, { checksumMode: 'none' });
let events = 0;
await sharded.run(pcap, { onEvent: () => void events++ });
process.stdout.write('events ' + events + '\\n');
process.kill(process.pid, 'SIGKILL');
`;

describe('a sharded replay and V8 protectors', () => {
  it('no shard thread detaches an ArrayBuffer while it inspects (its optimized code kept)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-shard-protectors-'));
    const pcap = capture(dir);
    const artifact = join(dir, 'rules.hwm');
    await writeArtifact(artifact, compileText('alert tcp any any -> any 80 (msg:"evil"; content:"evil"; sid:1;)\n').plan);
    const child = join(dir, 'child.mjs');
    writeFileSync(child, CHILD);
    const run = (mode: string) => {
      const r = spawnSync(
        'stdbuf',
        ['-o0', process.execPath, '--trace-protector-invalidation', child, join(repoRoot, 'dist'), artifact, pcap, mode],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(r.error).toBeUndefined();
      // the replay ran to its end, every report posted and read
      expect(r.stdout).toContain(`events ${SESSIONS}\n`);
      return r.stdout.includes('Invalidating protector cell ArrayBufferDetaching');
    };
    // the trace reaches us here: a detach of the child's own shows
    expect(run('control')).toBe(true);
    expect(run('replay')).toBe(false);
  });
});
