/**
 * A one-honeypot namespace honeynet with `honeywall run` in its gateway: the setup the operations, reject and update
 * honeynet tests share (root only; test/gateway/prereqs.ts says when they skip). The gateway's honeywall.conf starts
 * with the lines they have in common (honeypot 10.0.0.20, rate limits out of the way, no full capture, a status file
 * written only at start and on signals) and ends with each test's own (a shared line the test sets itself is left out);
 * the outside host runs a counter server; the test's directory is removed at the end unless HONEYWALL_KEEP_TEST_DIR
 * is set. Several can run at once (the central store's three-gateway test): each has its own namespaces (Honeynet
 * names them apart), directory (logs, capture, status file) and gateway process.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, spawnGateway, stopChild, waitFor } from '../gateway/prereqs.js';
import { CounterServer } from '../honeynet/agents.js';
import { applyFirewall, type AppliedFirewall } from '../honeynet/firewall.js';
import { Honeynet } from '../honeynet/honeynet.js';

const STREAM = path.join(repoRoot, 'test', 'gateway', 'udp-stream.mjs');

export interface StreamSummary {
  sent: number;
  echoed: number;
  firstSentMs: number;
  lastSentMs: number;
}

export class GatewayNet {
  net!: Honeynet;
  fw!: AppliedFirewall;
  gateway: ChildProcess | undefined;
  outside!: CounterServer;
  /** What the gateway wrote to stderr so far. */
  stderr = '';

  constructor(readonly dir: string) {}

  get statusFile(): string {
    return path.join(this.dir, 'status.json');
  }

  /** honeywall.conf: the shared lines, then `own`; a shared setting `own` sets is left out (no duplicate warning). */
  conf(own: string[]): string {
    const mine = new Set(own.map((l) => l.split('=')[0]));
    return [
      'HwHPOT_PUBLIC_IP=10.0.0.20',
      'HwSCALE=hour',
      'HwTCPRATE=1000',
      'HwUDPRATE=1000',
      `HwLOG_DIR=${path.join(this.dir, 'log')}`,
      'HwCAPTURE=no',
      `HwSTATUS_FILE=${this.statusFile}`,
      // only start and the signals write the status file during a test
      'HwSTATUS_INTERVAL=3600',
    ]
      .filter((l) => !mine.has(l.split('=')[0]))
      .concat(own, [''])
      .join('\n');
  }

  /**
   * The honeynet, the firewall of `confText`, the outside host's counter server (`outside`), then `before` (more
   * listeners, a tcpdump), then the gateway.
   */
  async start(confText: string, outside: Parameters<typeof CounterServer.start>[2], before?: (net: Honeynet) => Promise<void>): Promise<void> {
    const conf = path.join(this.dir, 'honeywall.conf');
    writeFileSync(conf, confText);
    this.net = await Honeynet.create({ honeypots: 1 });
    this.fw = await applyFirewall(this.net, confText);
    this.outside = await CounterServer.start(this.net, 'outside', outside);
    await before?.(this.net);
    this.gateway = await spawnGateway(this.net, conf, (text) => (this.stderr += text));
  }

  /** Stops the gateway (SIGTERM, as an operator does) and starts it again with the same honeywall.conf. */
  async restart(): Promise<void> {
    const old = this.gateway;
    if (old !== undefined && old.exitCode === null) {
      const exited = new Promise((r) => old.once('exit', r));
      old.kill('SIGTERM');
      await exited;
    }
    this.gateway = await spawnGateway(this.net, path.join(this.dir, 'honeywall.conf'), (text) => (this.stderr += text));
  }

  async stop(): Promise<void> {
    if (process.env.HONEYWALL_TEST_VERBOSE) console.log(this.stderr);
    await stopChild(this.gateway);
    await this.net?.destroy();
    this.fw?.cleanup();
    if (!process.env.HONEYWALL_KEEP_TEST_DIR) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The gateway's fast.log so far. */
  fast(): string {
    const f = path.join(this.dir, 'log', 'fast.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** One UDP flow of numbered datagrams from honeypot0 to host:port (udp-stream.mjs); `done` resolves with its summary. */
  stream(host: string, port: number, count: number, gapMs: number, prefix: string): { ready: Promise<unknown>; done: Promise<StreamSummary> } {
    const child = this.net.spawn('honeypot0', [process.execPath, STREAM, host, String(port), String(count), String(gapMs), '--prefix', prefix]);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const ready = waitFor('the stream to start', () => out.includes('"ready"'));
    const done = new Promise<StreamSummary>((resolve, reject) => {
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`udp-stream exited ${code}: ${err}`));
        else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as StreamSummary);
      });
    });
    return { ready, done };
  }

  /** Distinct datagrams with this prefix that reached the outside host on `port`. */
  arrived(port: number, prefix: string): number {
    return new Set(this.outside.events.filter((e) => e.event === 'udp' && e.port === port && e.data?.startsWith(`${prefix}-`)).map((e) => e.data))
      .size;
  }
}
