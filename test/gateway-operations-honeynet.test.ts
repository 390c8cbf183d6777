/**
 * Gateway operations on a real namespace honeynet (root only), with `honeywall run` (the built
 * binary) serving two NFQUEUE queues (HwQUEUE_BALANCE=0:1, one worker thread each):
 *   - the kernel spreads flows over both queues and both workers give verdicts;
 *   - SIGHUP with a changed rule file while a steady UDP stream crosses the bridge: every datagram
 *     arrives (counted by sequence number at the outside host), the kernel queues drop nothing, and
 *     the new rule is in force afterwards (the old one is not);
 *   - SIGUSR1 rewrites the status file with current, growing counters.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaySkipReason, sleep, waitFor } from './gateway/prereqs.js';
import { GatewayNet } from './helpers/gateway-net.js';
import { tcpConnects, udpSends } from './honeynet/agents.js';

const reason = gatewaySkipReason('gateway operations test');

interface QueueStats {
  queue: number;
  verdicts: { packets: number; accepted: number; dropped: number };
}
interface Status {
  updatedAt: string;
  reloads: number;
  reloadErrors: number;
  queues: QueueStats[];
  kernelQueues: { queue: number; queueDropped: number; userDropped: number }[];
  totals: { packets: number; accepted: number; dropped: number; alerts: number; queueDropped: number; userDropped: number };
}

/** Sixteen extra outside addresses: --queue-balance hashes on the address pair, so several pairs are needed to reach both queues. */
const EXTRA_OUTSIDE = Array.from({ length: 16 }, (_, i) => `10.0.0.${100 + i}`);

const OLD_RULES = 'drop udp any any -> any 5001 (msg:"HUP old rule"; content:"OLD-BAD"; sid:9100001; rev:1;)\n';
/** The new rule, among enough others that loading them takes a while (packets wait in the kernel queue meanwhile). */
const NEW_RULES = [
  'drop udp any any -> any 5001 (msg:"HUP new rule"; content:"NEW-BAD"; sid:9100002; rev:1;)',
  ...Array.from({ length: 5000 }, (_, i) => `alert tcp any any -> any 9 (msg:"filler ${i}"; content:"filler-${i}"; sid:${9200000 + i}; rev:1;)`),
  '',
].join('\n');

describe.skipIf(reason !== undefined)('honeywall run operations: queue balance, SIGHUP under load, SIGUSR1', () => {
  let g: GatewayNet;
  let dir: string;
  const rulesFile = () => path.join(dir, 'ips.rules');
  const status = () => JSON.parse(readFileSync(g.statusFile, 'utf8')) as Status;
  const countIn = (text: string, needle: string) => text.split(needle).length - 1;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-ops-'));
    g = new GatewayNet(dir);
    writeFileSync(rulesFile(), OLD_RULES);
    await g.start(g.conf(['HwQUEUE_BALANCE=0:1', `HwIPS_RULES=${rulesFile()}`]), { tcp: [8080], udp: [5000, 5001], echoUdp: true }, async (net) => {
      for (const a of EXTRA_OUTSIDE) await net.addAddress('outside', `${a}/24`);
    });
  }, 120_000);

  afterAll(() => g?.stop());

  it('two queues, two workers: flows to many addresses are spread over both, and both give verdicts', async () => {
    // The firewall sends to both queues, and one worker serves each.
    expect(readFileSync(path.join(g.fw.dir, 'honeywall.rules'), 'utf8')).toContain('-j NFQUEUE --queue-balance 0:1');
    expect(g.stderr).toMatch(/IPS worker on queue 0: /);
    expect(g.stderr).toMatch(/IPS worker on queue 1: /);
    const before = g.outside.events.length;
    for (const host of EXTRA_OUTSIDE) {
      expect((await udpSends(g.net, 'honeypot0', host, 5000, 2, { replyMs: 1000 })).replies).toBe(2);
    }
    expect((await tcpConnects(g.net, 'honeypot0', '10.0.0.1', 8080, 3)).ok).toBe(3);
    await g.outside.settle();
    expect(g.outside.events.slice(before).filter((e) => e.event === 'udp' && e.port === 5000 && e.from === '10.0.0.20')).toHaveLength(
      2 * EXTRA_OUTSIDE.length,
    );
    g.gateway!.kill('SIGUSR1');
    await waitFor('the status after SIGUSR1', () => countIn(g.stderr, '{"totals"') >= 1);
    const s = status();
    expect(s.queues.map((q) => q.queue).sort()).toEqual([0, 1]);
    for (const q of s.queues) expect(q.verdicts.packets).toBeGreaterThan(0);
    // each worker's session table: the sessions it made, none evicted at these loads
    for (const q of s.queues) {
      expect(q.flows.created.tcp + q.flows.created.udp).toBeGreaterThan(0);
      expect(q.flows.evicted).toBe(0);
    }
    expect(s.kernelQueues.map((q) => q.queue).sort()).toEqual([0, 1]);
  }, 60_000);

  it('SIGHUP with a changed rule file while traffic flows: no datagram lost, the new rule in force', async () => {
    // The old rule is in force before the reload.
    await g.stream('10.0.0.1', 5001, 1, 1, 'OLD-BAD').done;
    await waitFor('the old rule to fire', () => g.fast().includes('HUP old rule'));
    expect(g.arrived(5001, 'OLD-BAD')).toBe(0);

    const COUNT = 4000;
    // 3 ms apart (12 s of traffic): two reloads of a rule file fit inside the stream even on a loaded machine
    const s = g.stream('10.0.0.1', 5000, COUNT, 3, 'hup');
    await s.ready;
    await sleep(800);
    writeFileSync(rulesFile(), NEW_RULES);
    const hupAt = Date.now();
    const reloadedBefore = countIn(g.stderr, ' reloaded: ');
    g.gateway!.kill('SIGHUP');
    await waitFor('both workers to reload', () => countIn(g.stderr, ' reloaded: ') >= reloadedBefore + 2);
    const reloadedAt = Date.now();
    // And once more, back to the same file: two reloads inside one stream.
    g.gateway!.kill('SIGHUP');
    await waitFor('both workers to reload again', () => countIn(g.stderr, ' reloaded: ') >= reloadedBefore + 4);
    const result = await s.done;
    expect(result.sent).toBe(COUNT);
    // The reloads happened while the stream was being sent.
    expect(hupAt).toBeGreaterThan(result.firstSentMs);
    expect(reloadedAt).toBeLessThan(result.lastSentMs);
    await g.outside.settle(500);
    // The gateway's own counters first: if something was lost, they say whether the kernel queue dropped it.
    {
      g.gateway!.kill('SIGUSR1');
      const n0 = countIn(g.stderr, '{"totals"');
      await waitFor('the status after the stream', () => countIn(g.stderr, '{"totals"') > n0);
      const st0 = status();
      expect(st0.reloads).toBe(2);
      expect(st0.totals.queueDropped).toBe(0);
      expect(st0.totals.userDropped).toBe(0);
    }
    expect(g.arrived(5000, 'hup')).toBe(COUNT);
    expect(result.echoed).toBe(COUNT);
    expect(g.stderr).not.toMatch(/reload failed/);

    // The new rule is in force, the old one is gone.
    await g.stream('10.0.0.1', 5001, 1, 1, 'NEW-BAD').done;
    await waitFor('the new rule to fire', () => g.fast().includes('HUP new rule'));
    expect(g.arrived(5001, 'NEW-BAD')).toBe(0);
    const old = await g.stream('10.0.0.1', 5001, 1, 1, 'OLD-BAD').done;
    expect(old.echoed).toBe(1);
    expect(g.arrived(5001, 'OLD-BAD')).toBe(1);

    g.gateway!.kill('SIGUSR1');
    const n = countIn(g.stderr, '{"totals"');
    await waitFor('the status after SIGUSR1', () => countIn(g.stderr, '{"totals"') > n);
    const st = status();
    expect(st.reloads).toBe(2);
    expect(st.reloadErrors).toBe(0);
    // Nothing was dropped by the kernel queues (queue full or socket overrun) during the reloads.
    expect(st.totals.queueDropped).toBe(0);
    expect(st.totals.userDropped).toBe(0);
  }, 90_000);

  it('SIGUSR1 rewrites the status file with current, growing counters', async () => {
    const lines = () => g.stderr.split('\n').filter((l) => l.startsWith('{"totals"'));
    const usr1 = async (): Promise<{ file: Status; mtimeMs: number; printed: Status['totals'] }> => {
      const n = lines().length;
      g.gateway!.kill('SIGUSR1');
      await waitFor('the SIGUSR1 status line', () => lines().length > n);
      const printed = (JSON.parse(lines()[n]!) as { totals: Status['totals'] }).totals;
      return { file: status(), mtimeMs: statSync(g.statusFile).mtimeMs, printed };
    };
    const a = await usr1();
    expect(a.printed).toEqual(a.file.totals);
    const r = await g.stream('10.0.0.1', 5000, 200, 2, 'usr1').done;
    expect(r.echoed).toBe(200);
    await sleep(200);
    const b = await usr1();
    expect(b.printed).toEqual(b.file.totals);
    expect(b.mtimeMs).toBeGreaterThan(a.mtimeMs);
    expect(Date.parse(b.file.updatedAt)).toBeGreaterThan(Date.parse(a.file.updatedAt));
    // Every one of the 200 datagrams went through a queue (each is queued: the flow is established after the first echo).
    expect(b.file.totals.packets - a.file.totals.packets).toBeGreaterThanOrEqual(200);
    expect(b.file.totals.accepted - a.file.totals.accepted).toBeGreaterThanOrEqual(200);
    const perQueue = (s: Status) => s.queues.reduce((n, q) => n + q.verdicts.packets, 0);
    expect(perQueue(b.file)).toBe(b.file.totals.packets);
  }, 60_000);
});
