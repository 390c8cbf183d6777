/**
 * `honeywall update` against a running gateway on a real namespace honeynet (root only): the gateway runs from the
 * artifact update.conf installs (HwIPS_MATCHER); while 4,000 numbered datagrams cross the bridge, the source's rule
 * file changes and `honeywall update` compiles, renames the new artifact into place and SIGHUPs the gateway, which
 * confirms in its status file. Every datagram arrives (counted by sequence number at the outside host), the kernel
 * queue drops nothing, and after it the new rule is in force (an outbound test datagram now dropped) and the old
 * one is gone.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaySkipReason, repoRoot, sleep, waitFor } from './gateway/prereqs.js';
import { GatewayNet } from './helpers/gateway-net.js';

const NODE = process.execPath;
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');
const reason = gatewaySkipReason('update honeynet test');

const OLD_RULES = 'drop udp any any -> any 5001 (msg:"UPD old rule"; content:"OLD-BAD"; sid:9300001; rev:1;)\n';
const NEW_RULES = [
  'drop udp any any -> any 5001 (msg:"UPD new rule"; content:"NEW-BAD"; sid:9300002; rev:1;)',
  ...Array.from({ length: 2000 }, (_, i) => `alert tcp any any -> any 9 (msg:"filler ${i}"; content:"filler-${i}"; sid:${9400000 + i}; rev:1;)`),
  '',
].join('\n');

function update(conf: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [BIN, 'update', '--config', conf, '--report', 'json'], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, out: stdout, err: stderr }),
    );
  });
}

describe.skipIf(reason !== undefined)('honeywall update swaps the rules of a running gateway under traffic', () => {
  let g: GatewayNet;
  let dir: string;
  const src = () => path.join(dir, 'src');
  const updateConf = () => path.join(dir, 'update.conf');
  const status = () =>
    JSON.parse(readFileSync(g.statusFile, 'utf8')) as {
      reloads: number;
      reloadErrors: number;
      reloadPending: number;
      totals: { queueDropped: number; userDropped: number };
    };
  const stream = (port: number, count: number, gapMs: number, prefix: string) => g.stream('10.0.0.1', port, count, gapMs, prefix);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-update-net-'));
    g = new GatewayNet(dir);
    mkdirSync(src());
    writeFileSync(path.join(src(), 'local.rules'), OLD_RULES);
    // No policy changes: the rules are written for the outbound direction already.
    writeFileSync(path.join(dir, 'none.conf'), '# no policy\n');
    writeFileSync(
      updateConf(),
      [
        'source = src',
        'var = HOME_NET=10.0.0.20',
        'policy = none.conf',
        'honeynet = no',
        'artifact = rules.hwm',
        `status-file = ${g.statusFile}`,
        'reload-timeout = 20',
        '',
      ].join('\n'),
    );
    // The first update installs the artifact; no gateway runs yet (nothing to signal).
    const first = await update(updateConf());
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).reload).toMatchObject({ outcome: 'not-running' });
    await g.start(g.conf([`HwIPS_MATCHER=${path.join(dir, 'rules.hwm')}`]), { udp: [5000, 5001], echoUdp: true });
  }, 180_000);

  afterAll(() => g?.stop());

  it('4,000 datagrams, none lost, while update swaps the artifact and the gateway reloads; the new rule in force after', async () => {
    await stream(5001, 1, 1, 'OLD-BAD').done;
    await waitFor('the old rule to fire', () => g.fast().includes('UPD old rule'));
    expect(g.arrived(5001, 'OLD-BAD')).toBe(0);

    const COUNT = 4000;
    const s = stream(5000, COUNT, 3, 'upd');
    await s.ready;
    await sleep(500);
    writeFileSync(path.join(src(), 'local.rules'), NEW_RULES);
    const startedAt = Date.now();
    const u = await update(updateConf());
    const updatedAt = Date.now();
    expect(u.code, u.err).toBe(0);
    const summary = JSON.parse(u.out);
    expect(summary.reload).toMatchObject({ outcome: 'reloaded' });
    expect(summary.diff).toMatchObject({ known: true, removed: ['1:9300001'] });
    expect(summary.diff.added).toContain('1:9300002');
    const result = await s.done;
    expect(result.sent).toBe(COUNT);
    // The update (and its reload) ran while the stream was being sent.
    expect(startedAt).toBeGreaterThan(result.firstSentMs);
    expect(updatedAt).toBeLessThan(result.lastSentMs);
    await g.outside.settle(500);
    expect(g.arrived(5000, 'upd')).toBe(COUNT);
    expect(result.echoed).toBe(COUNT);
    const st = status();
    expect(st.reloads).toBe(1);
    expect(st.reloadErrors).toBe(0);
    expect(st.reloadPending).toBe(0);
    expect(st.totals.queueDropped).toBe(0);
    expect(st.totals.userDropped).toBe(0);

    // The new rule drops its test datagram; the old one no longer does.
    await stream(5001, 1, 1, 'NEW-BAD').done;
    await waitFor('the new rule to fire', () => g.fast().includes('UPD new rule'));
    expect(g.arrived(5001, 'NEW-BAD')).toBe(0);
    const old = await stream(5001, 1, 1, 'OLD-BAD').done;
    expect(old.echoed).toBe(1);
    expect(g.arrived(5001, 'OLD-BAD')).toBe(1);
  }, 120_000);

  it('a new artifact the gateway refuses (compiled for another HOME_NET): update says why, puts the previous one back', async () => {
    const art = readFileSync(path.join(dir, 'rules.hwm'));
    const before = status().reloadErrors;
    writeFileSync(
      path.join(dir, 'update-other.conf'),
      readFileSync(updateConf(), 'utf8').replace('var = HOME_NET=10.0.0.20', 'var = HOME_NET=192.0.2.1'),
    );
    writeFileSync(path.join(src(), 'local.rules'), OLD_RULES);
    const u = await update(path.join(dir, 'update-other.conf'));
    expect(u.code).toBe(2);
    expect(u.err).toMatch(
      /the gateway \(pid \d+\) could not load the new rules: .*HOME_NET.*; it kept the old ones; the previous rules\.hwm is back in place/,
    );
    expect(readFileSync(path.join(dir, 'rules.hwm')).equals(art)).toBe(true);
    expect(status().reloadErrors).toBeGreaterThan(before);
    // The gateway kept the rules of the last good update: the new rule still drops, the old one does not.
    await stream(5001, 1, 1, 'NEW-BAD').done;
    await g.outside.settle(300);
    expect(g.arrived(5001, 'NEW-BAD')).toBe(0);
  }, 120_000);
});
