/**
 * A real test honeynet out of network namespaces (root only), reusable by every namespace test.
 *
 *   outside (10.0.0.1) --eth0==eth0-- gateway [br0 = eth0 + eth1, eth2 = 10.10.10.66] --eth1==up0-- switch [sw0]
 *                                        |                                                         |-- honeypot0 (10.0.0.20)
 *                                      eth2==eth0 manager (10.10.10.5, 10.10.20.5)                 |-- honeypot1 (10.0.0.21) ...
 *
 * Inside the gateway namespace the interfaces are named like the Honeywall's defaults (eth0 INET,
 * eth1 LAN, eth2 management, br0), so the default honeywall.conf applies unchanged. Namespace names
 * carry a per-process prefix (`hwt<pid>-<n>-`), so parallel test files do not collide; namespaces
 * left behind by dead processes are removed on the next create. Nothing here changes a global
 * sysctl: bridge-netfilter and forwarding switches are per namespace on the kernels we support.
 *
 *   const net = await Honeynet.create({ honeypots: 1 });
 *   try { await net.exec('honeypot0', ['ping', '-c1', net.addr.outside]); } finally { await net.destroy(); }
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export type NodeName = 'outside' | 'gateway' | 'switch' | 'manager' | `honeypot${number}`;

export interface HoneynetOptions {
  /** Number of honeypots (default 1), addresses 10.0.0.20, .21, ... */
  honeypots?: number;
  /** Build br0 over eth0 and eth1 in the gateway (default true). False leaves the ports unbridged (e.g. to test `apply.sh --bridge`). */
  bridge?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit status. */
  allowFail?: boolean;
}

export interface HoneynetAddresses {
  subnet: string;
  prefixLength: number;
  broadcast: string;
  outside: string;
  honeypots: string[];
  /** Manager host on the management network (HwMANAGER 10.10.10.0/24). */
  manager: string;
  /** A second address of the manager host, outside HwMANAGER. */
  managerForeign: string;
  gatewayManage: string;
}

const PREFIX = 'hwt';
let counter = 0;
const live = new Set<Honeynet>();
let exitHookInstalled = false;

function nsPids(): Map<string, number> {
  const out = new Map<string, number>();
  let text = '';
  try {
    text = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}([0-9a-z]+)-`).exec(name);
    if (m) out.set(name, parseInt(m[1]!, 36));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove namespaces left by test processes that no longer exist. */
function reapStale(): void {
  for (const [name, pid] of nsPids()) {
    if (pid !== process.pid && !alive(pid)) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const net of live) net.destroySync();
  });
}

export class Honeynet {
  readonly addr: HoneynetAddresses;
  private readonly children = new Set<ChildProcess>();
  private readonly created: string[] = [];
  private destroyed = false;

  private constructor(
    readonly id: string,
    readonly honeypotCount: number,
  ) {
    this.addr = {
      subnet: '10.0.0.0/24',
      prefixLength: 24,
      broadcast: '10.0.0.255',
      outside: '10.0.0.1',
      honeypots: Array.from({ length: honeypotCount }, (_, i) => `10.0.0.${20 + i}`),
      manager: '10.10.10.5',
      managerForeign: '10.10.20.5',
      gatewayManage: '10.10.10.66',
    };
  }

  /** Whether this machine can build a honeynet (root, iproute2, network namespaces). Synchronous for `describe.skipIf`. */
  static availability(): { ok: true } | { ok: false; reason: string } {
    if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not root (network namespaces need root)' };
    const probe = `${PREFIX}${process.pid.toString(36)}-probe`;
    try {
      execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    } catch (err) {
      return { ok: false, reason: `cannot create a network namespace: ${(err as Error).message.split('\n')[0]}` };
    }
    return { ok: true };
  }

  static async create(opts: HoneynetOptions = {}): Promise<Honeynet> {
    installExitHook();
    reapStale();
    const count = opts.honeypots ?? 1;
    if (count < 1 || count > 200) throw new Error('honeypots: 1..200');
    const id = `${PREFIX}${process.pid.toString(36)}-${counter++}-`;
    const net = new Honeynet(id, count);
    live.add(net);
    try {
      await net.build(opts.bridge ?? true);
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /** The namespace name of a node. */
  ns(node: NodeName): string {
    const short: Record<string, string> = { outside: 'out', gateway: 'gw', switch: 'sw', manager: 'mgr' };
    const m = /^honeypot(\d+)$/.exec(node);
    if (m) {
      if (Number(m[1]) >= this.honeypotCount) throw new Error(`no ${node} in this honeynet`);
      return `${this.id}hp${m[1]}`;
    }
    return `${this.id}${short[node]}`;
  }

  get honeypots(): NodeName[] {
    return Array.from({ length: this.honeypotCount }, (_, i) => `honeypot${i}` as NodeName);
  }

  private async ip(...args: string[]): Promise<void> {
    await execFileP('ip', args);
  }

  private async build(bridge: boolean): Promise<void> {
    try {
      execFileSync('modprobe', ['br_netfilter'], { stdio: 'ignore' });
    } catch {
      /* built in, or unavailable: the firewall's apply.sh reports the latter */
    }
    const nodes: NodeName[] = ['outside', 'gateway', 'switch', 'manager', ...this.honeypots];
    for (const node of nodes) {
      await this.ip('netns', 'add', this.ns(node));
      this.created.push(this.ns(node));
      await this.ip('-n', this.ns(node), 'link', 'set', 'lo', 'up');
    }
    const veth = (a: NodeName, an: string, b: NodeName, bn: string) =>
      this.ip('link', 'add', 'name', an, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', bn, 'netns', this.ns(b));
    await veth('gateway', 'eth0', 'outside', 'eth0');
    await veth('gateway', 'eth1', 'switch', 'up0');
    await veth('gateway', 'eth2', 'manager', 'eth0');
    for (let i = 0; i < this.honeypotCount; i++) await veth(`honeypot${i}`, 'eth0', 'switch', `hp${i}`);

    const gw = this.ns('gateway');
    const sw = this.ns('switch');
    // The LAN switch (a plain bridge, no filtering).
    await this.ip('-n', sw, 'link', 'add', 'sw0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    await this.exec('switch', ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0'], {
      allowFail: true,
    });
    for (const port of ['up0', ...this.honeypots.map((_, i) => `hp${i}`)]) {
      await this.ip('-n', sw, 'link', 'set', port, 'master', 'sw0', 'up');
    }
    await this.ip('-n', sw, 'link', 'set', 'sw0', 'up');

    // The gateway: bridge ports without addresses, management with one.
    if (bridge) {
      await this.ip('-n', gw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
      await this.ip('-n', gw, 'link', 'set', 'eth0', 'master', 'br0');
      await this.ip('-n', gw, 'link', 'set', 'eth1', 'master', 'br0');
      await this.ip('-n', gw, 'link', 'set', 'br0', 'up');
    }
    for (const dev of ['eth0', 'eth1', 'eth2']) await this.ip('-n', gw, 'link', 'set', dev, 'up');
    await this.ip('-n', gw, 'addr', 'add', `${this.addr.gatewayManage}/24`, 'dev', 'eth2');
    await this.ip('-n', gw, 'route', 'add', '10.10.20.0/24', 'dev', 'eth2');

    const out = this.ns('outside');
    await this.ip('-n', out, 'addr', 'add', `${this.addr.outside}/24`, 'dev', 'eth0');
    await this.ip('-n', out, 'link', 'set', 'eth0', 'up');

    const mgr = this.ns('manager');
    await this.ip('-n', mgr, 'addr', 'add', `${this.addr.manager}/24`, 'dev', 'eth0');
    await this.ip('-n', mgr, 'addr', 'add', `${this.addr.managerForeign}/24`, 'dev', 'eth0');
    await this.ip('-n', mgr, 'link', 'set', 'eth0', 'up');

    for (let i = 0; i < this.honeypotCount; i++) {
      const hp = this.ns(`honeypot${i}`);
      await this.ip('-n', hp, 'addr', 'add', `${this.addr.honeypots[i]}/24`, 'dev', 'eth0');
      await this.ip('-n', hp, 'link', 'set', 'eth0', 'up');
    }
  }

  /** Add an address to a node's eth0 (e.g. a second outside address such as the Sebek collector's). */
  async addAddress(node: NodeName, cidr: string, dev = 'eth0'): Promise<void> {
    await this.ip('-n', this.ns(node), 'addr', 'add', cidr, 'dev', dev);
  }

  private argv(node: NodeName, cmd: string | string[]): string[] {
    const inner = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
    return ['netns', 'exec', this.ns(node), ...inner];
  }

  /** Run a command inside a node and wait for it. A string is run with `sh -c`. Throws on non-zero exit unless allowFail. */
  exec(node: NodeName, cmd: string | string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', this.argv(node, cmd), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
        if (result.code !== 0 && !opts.allowFail) {
          reject(
            new Error(`${node}: ${JSON.stringify(cmd)} exited ${result.code}${signal ? ` (${signal})` : ''}: ${stderr.trim() || stdout.trim()}`),
          );
        } else resolve(result);
      });
      // a command that exits before reading its input closes the pipe: that is its business, not an error here
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Start a long-running process inside a node; it is killed by destroy() if still running. */
  spawn(node: NodeName, cmd: string | string[]): ChildProcess {
    if (this.destroyed) throw new Error('honeynet destroyed');
    const child = spawn('ip', this.argv(node, cmd), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Kill our processes, delete our namespaces (which removes their interfaces). Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
    for (const name of this.created.reverse()) {
      await execFileP('ip', ['netns', 'del', name]).catch(() => undefined);
    }
    live.delete(this);
  }

  /** For the process exit hook. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) child.kill('SIGKILL');
    for (const name of this.created.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
    live.delete(this);
  }
}
