/**
 * `honeywall update` against a running gateway on a real namespace honeynet (root only): the gateway runs from the
 * artifact update.conf installs (HwIPS_MATCHER); while 4,000 numbered datagrams cross the bridge, the source's rule
 * file changes and `honeywall update` compiles, renames the new artifact into place and SIGHUPs the gateway, which
 * confirms in its status file. Every datagram arrives (counted by sequence number at the outside host), the kernel
 * queue drops nothing, and after it the new rule is in force (an outbound test datagram now dropped) and the old
 * one is gone.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaySkipReason, repoRoot, sleep, spawnGateway, stopChild, waitFor } from './gateway/prereqs.js';
import { CounterServer } from './honeynet/agents.js';
import { type AppliedFirewall, applyFirewall } from './honeynet/firewall.js';
import { Honeynet } from './honeynet/honeynet.js';

const NODE = process.execPath;
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');
const STREAM = path.join(repoRoot, 'test', 'gateway', 'udp-stream.mjs');
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
  let net: Honeynet;
  let fw: AppliedFirewall;
  let dir: string;
  let gateway: ChildProcess;
  let gatewayErr = '';
  let outside: CounterServer;
  const src = () => path.join(dir, 'src');
  const statusFile = () => path.join(dir, 'status.json');
  const updateConf = () => path.join(dir, 'update.conf');
  const fast = () => (existsSync(path.join(dir, 'log', 'fast.log')) ? readFileSync(path.join(dir, 'log', 'fast.log'), 'utf8') : '');
  const status = () =>
    JSON.parse(readFileSync(statusFile(), 'utf8')) as {
      reloads: number;
      reloadErrors: number;
      reloadPending: number;
      totals: { queueDropped: number; userDropped: number };
    };

  function stream(port: number, count: number, gapMs: number, prefix: string) {
    const child = net.spawn('honeypot0', [NODE, STREAM, '10.0.0.1', String(port), String(count), String(gapMs), '--prefix', prefix]);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const ready = waitFor('the stream to start', () => out.includes('"ready"'));
    const done = new Promise<{ sent: number; echoed: number; firstSentMs: number; lastSentMs: number }>((resolve, reject) => {
      child.on('exit', (code) =>
        code !== 0 ? reject(new Error(`udp-stream exited ${code}: ${err}`)) : resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')),
      );
    });
    return { ready, done };
  }
  const arrived = (port: number, prefix: string) =>
    new Set(outside.events.filter((e) => e.event === 'udp' && e.port === port && e.data?.startsWith(`${prefix}-`)).map((e) => e.data)).size;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-update-net-'));
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
        `status-file = ${statusFile()}`,
        'reload-timeout = 20',
        '',
      ].join('\n'),
    );
    // The first update installs the artifact; no gateway runs yet (nothing to signal).
    const first = await update(updateConf());
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).reload).toMatchObject({ outcome: 'not-running' });
    const confText = [
      'HwHPOT_PUBLIC_IP=10.0.0.20',
      'HwSCALE=hour',
      'HwTCPRATE=1000',
      'HwUDPRATE=1000',
      `HwLOG_DIR=${path.join(dir, 'log')}`,
      'HwCAPTURE=no',
      `HwSTATUS_FILE=${statusFile()}`,
      'HwSTATUS_INTERVAL=3600',
      `HwIPS_MATCHER=${path.join(dir, 'rules.hwm')}`,
      '',
    ].join('\n');
    const conf = path.join(dir, 'honeywall.conf');
    writeFileSync(conf, confText);
    net = await Honeynet.create({ honeypots: 1 });
    fw = await applyFirewall(net, confText);
    outside = await CounterServer.start(net, 'outside', { udp: [5000, 5001], echoUdp: true });
    gateway = await spawnGateway(net, conf, (text) => (gatewayErr += text));
  }, 180_000);

  afterAll(async () => {
    if (process.env.HONEYWALL_TEST_VERBOSE) console.log(gatewayErr);
    await stopChild(gateway);
    await net?.destroy();
    fw?.cleanup();
    if (dir && !process.env.HONEYWALL_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('4,000 datagrams, none lost, while update swaps the artifact and the gateway reloads; the new rule in force after', async () => {
    await stream(5001, 1, 1, 'OLD-BAD').done;
    await waitFor('the old rule to fire', () => fast().includes('UPD old rule'));
    expect(arrived(5001, 'OLD-BAD')).toBe(0);

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
    await outside.settle(500);
    expect(arrived(5000, 'upd')).toBe(COUNT);
    expect(result.echoed).toBe(COUNT);
    const st = status();
    expect(st.reloads).toBe(1);
    expect(st.reloadErrors).toBe(0);
    expect(st.reloadPending).toBe(0);
    expect(st.totals.queueDropped).toBe(0);
    expect(st.totals.userDropped).toBe(0);

    // The new rule drops its test datagram; the old one no longer does.
    await stream(5001, 1, 1, 'NEW-BAD').done;
    await waitFor('the new rule to fire', () => fast().includes('UPD new rule'));
    expect(arrived(5001, 'NEW-BAD')).toBe(0);
    const old = await stream(5001, 1, 1, 'OLD-BAD').done;
    expect(old.echoed).toBe(1);
    expect(arrived(5001, 'OLD-BAD')).toBe(1);
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
    await outside.settle(300);
    expect(arrived(5001, 'NEW-BAD')).toBe(0);
  }, 120_000);
});
