/** Helpers that run the small Node agents (agents/*.mjs) inside honeynet nodes and count at the receiver. */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Honeynet, NodeName } from './honeynet.js';

const AGENTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'agents');
const NODE = process.execPath;

export interface ServerEvent {
  event: 'tcp' | 'udp';
  port: number;
  from: string;
  data?: string;
}

/** A counting server (TCP accepts and UDP datagrams) running in a node. */
export class CounterServer {
  readonly events: ServerEvent[] = [];
  private constructor(private readonly child: ChildProcess) {}

  static start(net: Honeynet, node: NodeName, opts: { tcp?: number[]; udp?: number[]; echoUdp?: boolean; host?: string }): Promise<CounterServer> {
    const args = [NODE, path.join(AGENTS, 'counter-server.mjs')];
    if (opts.tcp?.length) args.push('--tcp', opts.tcp.join(','));
    if (opts.udp?.length) args.push('--udp', opts.udp.join(','));
    if (opts.echoUdp) args.push('--echo-udp');
    if (opts.host) args.push('--host', opts.host);
    const child = net.spawn(node, args);
    const server = new CounterServer(child);
    return new Promise((resolve, reject) => {
      let buf = '';
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`counter server in ${node} not ready: ${stderr}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => reject(new Error(`counter server in ${node} exited ${code}: ${stderr}`)));
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const msg = JSON.parse(line) as ServerEvent | { event: 'ready' };
          if (msg.event === 'ready') {
            clearTimeout(timer);
            resolve(server);
          } else server.events.push(msg);
        }
      });
    });
  }

  count(event: 'tcp' | 'udp', port: number, from?: string): number {
    return this.events.filter((e) => e.event === event && e.port === port && (from === undefined || e.from === from)).length;
  }

  /** Events are reported asynchronously: give in-flight ones a moment to arrive. */
  async settle(ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** Sequential TCP connects from a node; returns how many completed the handshake. */
export async function tcpConnects(
  net: Honeynet,
  node: NodeName,
  host: string,
  port: number,
  count: number,
  opts: { timeoutMs?: number; source?: string } = {},
): Promise<{ ok: number; fail: number }> {
  const args = [NODE, path.join(AGENTS, 'client.mjs'), 'tcp', host, String(port), String(count), String(opts.timeoutMs ?? 700)];
  if (opts.source) args.push('--source', opts.source);
  const r = await net.exec(node, args, { timeoutMs: 20_000 + count * (opts.timeoutMs ?? 700) });
  return JSON.parse(r.stdout) as { ok: number; fail: number };
}

/** UDP datagrams from a node, each a new flow; with replyMs, counts echoed replies. */
export async function udpSends(
  net: Honeynet,
  node: NodeName,
  host: string,
  port: number,
  count: number,
  opts: { replyMs?: number } = {},
): Promise<{ sent: number; replies: number }> {
  const args = [NODE, path.join(AGENTS, 'client.mjs'), 'udp', host, String(port), String(count)];
  if (opts.replyMs) args.push('--reply-ms', String(opts.replyMs));
  const r = await net.exec(node, args, { timeoutMs: 20_000 + count * (opts.replyMs ?? 50) });
  return JSON.parse(r.stdout) as { sent: number; replies: number };
}

/** Single-echo pings (each a new ICMP flow); returns how many got their reply, i.e. reached the target. */
export async function pings(net: Honeynet, node: NodeName, host: string, count: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const r = await net.exec(node, ['ping', '-n', '-q', '-c', '1', '-W', '1', host], { allowFail: true });
    if (r.code === 0) ok++;
  }
  return ok;
}
