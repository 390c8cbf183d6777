/**
 * Deployment and operations on a real namespace honeynet (root only), from the shipped systemd units:
 *   - a config with a wildcard or dash-led interface: the firewall unit's command refuses it with file:line:column,
 *     nothing is loaded, no bridge is built, and the gateway unit (which requires the firewall) is not started;
 *   - boot order as the units state it (After=/Requires=), run command by command in the gateway namespace: before
 *     the firewall unit nothing crosses (no bridge); after it and before the gateway, what the firewall queues does
 *     not leave (fail closed); after the gateway starts, the rules decide;
 *   - `honeywall run` with no rules is refused (file:line:column: error no-rules), a capture that cannot start is
 *     reported on stderr and in the status file with tcpdump's own words, `--log-dir` moves the capture, and
 *     retention deletes (and logs) expired captures and logs at start.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewaySkipReason, repoRoot, sleep, stopChild, waitFor } from './gateway/prereqs.js';
import { CounterServer, udpSends } from './honeynet/agents.js';
import { Honeynet } from './honeynet/honeynet.js';
import { haveCommand } from './honeynet/scratch-netns.js';

const NODE = process.execPath;
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');
const reason = gatewaySkipReason('gateway deploy test', { tcpdump: true });

/** What the test needs of a unit file: its ordering, its requirements, its type and its commands. */
interface Unit {
  name: string;
  after: string[];
  requires: string[];
  type: string;
  commands: string[];
}

function parseUnit(name: string, text: string): Unit {
  const unit: Unit = { name, after: [], requires: [], type: 'simple', commands: [] };
  const pre: string[] = [];
  const start: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq === -1) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key === 'After') unit.after.push(...value.split(/\s+/));
    else if (key === 'Requires') unit.requires.push(...value.split(/\s+/));
    else if (key === 'Type') unit.type = value;
    else if (key === 'ExecStartPre') pre.push(value);
    else if (key === 'ExecStart') start.push(value);
  }
  unit.commands = [...pre, ...start];
  return unit;
}

/** The units in the order systemd starts them: each after the ones its After= names (among these units). */
function bootOrder(units: Unit[]): Unit[] {
  const order: Unit[] = [];
  const left = [...units];
  for (let guard = 0; left.length > 0; guard++) {
    if (guard > units.length) throw new Error('ordering cycle');
    const i = left.findIndex((u) => u.after.every((a) => !left.some((o) => o.name === a)));
    order.push(...left.splice(i, 1));
  }
  return order;
}

describe.skipIf(reason !== undefined)('deploy units and gateway operations on a namespace honeynet', () => {
  let net: Honeynet;
  let dir: string;
  let outside: CounterServer;
  let units: Unit[];
  const conf = () => path.join(dir, 'honeywall.conf');
  const fwDir = () => path.join(dir, 'lib', 'firewall');
  const running: ChildProcess[] = [];

  /** A unit command with the deployment's paths pointed at this test's. */
  const localize = (cmd: string) =>
    cmd
      .replaceAll('/usr/bin/node', NODE)
      .replaceAll('/opt/honeywall', repoRoot)
      .replaceAll('/etc/honeywall/honeywall.conf', conf())
      .replaceAll('/var/lib/honeywall', path.join(dir, 'lib'));

  /**
   * Start the units as systemd would, in boot order: a unit whose Requires= failed is not started; '-' before a
   * command ignores its failure; oneshot commands run to their end, a simple unit's last command is the daemon.
   * `between` runs after each unit started.
   */
  async function boot(between: (u: Unit) => Promise<void> = async () => undefined): Promise<{ started: string[]; failed: Record<string, string> }> {
    const started: string[] = [];
    const failed: Record<string, string> = {};
    for (const u of bootOrder(units)) {
      if (u.requires.some((r) => failed[r] !== undefined || !started.includes(r))) continue;
      let ok = true;
      for (const [i, raw] of u.commands.entries()) {
        const ignore = raw.startsWith('-');
        const argv = localize(ignore ? raw.slice(1) : raw).split(/\s+/);
        if (u.type === 'simple' && i === u.commands.length - 1) {
          const child = net.spawn('gateway', argv);
          running.push(child);
          let err = '';
          child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
          await waitFor(`${u.name} to run`, () => err.includes('running (pid') || (child.exitCode !== null && 'exited'), 30_000);
          if (child.exitCode !== null) {
            ok = false;
            failed[u.name] = err;
          }
          break;
        }
        const r = await net.exec('gateway', argv, { allowFail: true, timeoutMs: 60_000 });
        if (r.code !== 0 && !ignore) {
          ok = false;
          failed[u.name] = r.stderr;
          break;
        }
      }
      if (!ok) continue;
      started.push(u.name);
      await between(u);
    }
    return { started, failed };
  }

  const arrived = (port: number) => outside.count('udp', port, '10.0.0.20');
  async function send(port: number, n: number): Promise<number> {
    const before = arrived(port);
    await udpSends(net, 'honeypot0', '10.0.0.1', port, n);
    await outside.settle(500);
    return arrived(port) - before;
  }

  const baseConf = (extra: string[]) =>
    [
      'HwHPOT_PUBLIC_IP=10.0.0.20',
      'HwUDPRATE=1000',
      'HwTCPRATE=1000',
      `HwLOG_DIR=${path.join(dir, 'log')}`,
      `HwSTATUS_FILE=${path.join(dir, 'status.json')}`,
      'HwSTATUS_INTERVAL=3600',
      ...extra,
      '',
    ].join('\n');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-deploy-'));
    writeFileSync(path.join(dir, 'ips.rules'), 'drop udp any any -> any 5001 (msg:"deploy test drop"; sid:9300001; rev:1;)\n');
    units = ['honeywall-firewall.service', 'honeywall.service'].map((n) => parseUnit(n, readFileSync(path.join(repoRoot, 'deploy', n), 'utf8')));
    // A machine just booted: no bridge, empty tables.
    net = await Honeynet.create({ honeypots: 1, bridge: false });
    outside = await CounterServer.start(net, 'outside', { udp: [5000, 5001] });
  }, 120_000);

  // A gateway left running by a failed test would hold queue 0 and fail every later one.
  afterEach(async () => {
    for (const c of running.splice(0)) await stopChild(c);
  });

  afterAll(async () => {
    await net?.destroy();
    if (dir && !process.env.HONEYWALL_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('the units are valid for systemd, and the gateway unit requires the firewall unit and starts after it', () => {
    if (haveCommand('systemd-analyze')) {
      execFileSync('systemd-analyze', ['verify', ...units.map((u) => path.join(repoRoot, 'deploy', u.name))], { stdio: 'pipe' });
    }
    expect(bootOrder(units).map((u) => u.name)).toEqual(['honeywall-firewall.service', 'honeywall.service']);
    const gw = units.find((u) => u.name === 'honeywall.service')!;
    expect(gw.requires).toContain('honeywall-firewall.service');
    expect(gw.after).toContain('honeywall-firewall.service');
  });

  it.each([
    ['HwINET_IFACE=eth+', 2, 14, "HwINET_IFACE: interface name 'eth+' contains '+'"],
    ['HwLAN_IFACE=-eth1', 2, 13, "HwLAN_IFACE: interface name '-eth1' starts with '-'"],
  ])(
    'a config with %s: refused at file:line:column, nothing loaded, no bridge, no gateway',
    async (setting, line, column, message) => {
      writeFileSync(conf(), `# site config\n${setting}\n${baseConf([`HwIPS_RULES=${path.join(dir, 'ips.rules')}`])}`);
      const { started, failed } = await boot();
      expect(started).toEqual([]);
      expect(failed['honeywall-firewall.service']).toContain(`${conf()}:${line}:${column}: error invalid-value: ${message}`);
      expect(failed['honeywall-firewall.service']).not.toMatch(/\n\s+at |internal error/);
      expect(existsSync(path.join(fwDir(), 'apply.sh'))).toBe(false);
      const rules = await net.exec('gateway', ['iptables', '-S', 'FORWARD']);
      expect(rules.stdout.trim()).toBe('-P FORWARD ACCEPT');
      expect((await net.exec('gateway', ['ip', 'link', 'show', 'br0'], { allowFail: true })).code).not.toBe(0);
      expect(await send(5000, 3)).toBe(0);
    },
    60_000,
  );

  it('boot: firewall first (nothing leaves until the gateway runs), then the gateway, whose rules decide', async () => {
    writeFileSync(conf(), baseConf(['HwCAPTURE=no', `HwIPS_RULES=${path.join(dir, 'ips.rules')}`]));
    // Before boot: no bridge, nothing crosses.
    expect(await send(5000, 2)).toBe(0);
    const seen: Record<string, number> = {};
    const { started, failed } = await boot(async (u) => {
      if (u.name === 'honeywall-firewall.service') {
        // The firewall is loaded and the bridge built, and the gateway is not running yet: queued traffic waits.
        const fwd = (await net.exec('gateway', ['iptables', '-S', 'FORWARD'])).stdout;
        expect(fwd).toContain('-P FORWARD DROP');
        expect(fwd).toMatch(/NFQUEUE --queue-num 0/);
        expect((await net.exec('gateway', ['ip', 'link', 'show', 'br0'])).code).toBe(0);
        seen.betweenUnits = await send(5000, 3);
      }
    });
    expect(failed).toEqual({});
    expect(started).toEqual(['honeywall-firewall.service', 'honeywall.service']);
    expect(seen.betweenUnits).toBe(0);
    expect(readdirSync(fwDir()).sort()).toEqual(['apply.sh', 'honeywall.rules', 'honeywall6.rules']);
    // The gateway is up: its rule drops port 5001, the rest passes.
    expect(await send(5000, 3)).toBe(3);
    expect(await send(5001, 3)).toBe(0);
    await waitFor(
      'the drop alert',
      () => existsSync(path.join(dir, 'log', 'fast.log')) && readFileSync(path.join(dir, 'log', 'fast.log'), 'utf8').includes('deploy test drop'),
    );
    for (const c of running.splice(0)) await stopChild(c);
  }, 120_000);

  it('run with no rules is refused at the config, and --allow-empty runs it on purpose', async () => {
    writeFileSync(conf(), baseConf(['HwCAPTURE=no']));
    const r = await net.exec('gateway', [NODE, BIN, 'run', '--config', conf()], { allowFail: true, timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${conf()}:1:1: error no-rules: HwIPS_RULES: HwQUEUE=yes and no rules are set`);
    expect(r.stderr).not.toContain('running (pid');
    const empty = path.join(dir, 'empty.rules');
    writeFileSync(empty, '# no rules yet\n');
    writeFileSync(conf(), baseConf(['HwCAPTURE=no', `HwIPS_RULES=${empty}`]));
    const r2 = await net.exec('gateway', [NODE, BIN, 'run', '--config', conf()], { allowFail: true, timeoutMs: 30_000 });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(
      `${conf()}:8:13: error no-rules: HwIPS_RULES: ${empty}: no rules: every packet the firewall queues would be accepted`,
    );
    expect(r2.stderr).not.toMatch(/\n\s+at |internal error/);
    const child = net.spawn('gateway', [NODE, BIN, 'run', '--config', conf(), '--allow-empty']);
    running.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('the gateway with --allow-empty', () => err.includes('running (pid'), 30_000);
    expect(err).toContain(`0 rules from ${empty} (--allow-empty): every packet is accepted`);
    expect(await send(5001, 2)).toBe(2);
    for (const c of running.splice(0)) await stopChild(c);
  }, 90_000);

  it("a full capture that cannot run is reported on stderr and in the status file, with tcpdump's stderr", async () => {
    writeFileSync(
      conf(),
      baseConf([
        `HwIPS_RULES=${path.join(dir, 'ips.rules')}`,
        'HwCAPTURE=yes',
        'HwCAPTURE_IFACE=nosuch0',
        `HwCAPTURE_DIR=${path.join(dir, 'pcap-bad')}`,
      ]),
    );
    const child = net.spawn('gateway', [NODE, BIN, 'run', '--config', conf()]);
    running.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('the gateway', () => err.includes('running (pid'), 30_000);
    await waitFor('a crash loop report', () => err.includes('CRASH LOOP'), 20_000);
    const report = err.split('\n').find((l) => l.includes('full capture (tcpdump) exited'))!;
    expect(report).toMatch(/^honeywall: full capture \(tcpdump\) exited 1: restarting in \d+\.\d s; its last stderr: .*nosuch0/);
    child.kill('SIGUSR1');
    await waitFor('the status', () => {
      const s = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as {
        supervised: { name: string; crashLoop: boolean; stderrTail: string[]; crashes: number }[];
      };
      const cap = s.supervised.find((x) => x.name === 'full capture');
      return cap?.crashLoop === true && cap.crashes >= 3 && cap.stderrTail.some((l) => l.includes('nosuch0'));
    });
    for (const c of running.splice(0)) await stopChild(c);
  }, 90_000);

  it('--log-dir moves the capture; retention deletes expired captures and logs at start and logs each', async () => {
    const logDir = path.join(dir, 'moved');
    const old = (Date.now() - 40 * 86_400_000) / 1000;
    const young = (Date.now() - 2 * 86_400_000) / 1000;
    mkdirSync(path.join(logDir, 'pcap'), { recursive: true });
    const plant = (rel: string, t: number) => {
      writeFileSync(path.join(logDir, rel), 'x'.repeat(100));
      utimesSync(path.join(logDir, rel), t, t);
    };
    plant('pcap/honeywall-20200101-000000.pcap', old);
    plant('pcap/honeywall-20200102-000000.pcap', young);
    plant('fast.log.2020-01-01', old);
    plant('eve.json.2020-01-05', young);
    plant('pcap/keep-me.pcap', old);
    writeFileSync(
      conf(),
      baseConf([
        `HwIPS_RULES=${path.join(dir, 'ips.rules')}`,
        'HwCAPTURE=yes',
        'HwCAPTURE_IFACE=eth1',
        'HwCAPTURE_KEEP_DAYS=30',
        'HwLOG_KEEP_DAYS=7',
      ]),
    );
    const child = net.spawn('gateway', [NODE, BIN, 'run', '--config', conf(), '--log-dir', logDir]);
    running.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('the gateway', () => err.includes('running (pid'), 30_000);
    expect(err).toContain(`capture in ${path.join(logDir, 'pcap')}`);
    expect(err).toContain(
      `retention: deleted capture file ${path.join(logDir, 'pcap', 'honeywall-20200101-000000.pcap')} (100 bytes, last written 40.0 days ago, over 30)`,
    );
    expect(err).toContain(`retention: deleted log file ${path.join(logDir, 'fast.log.2020-01-01')} (100 bytes, last written 40.0 days ago, over 7)`);
    expect(existsSync(path.join(logDir, 'pcap', 'honeywall-20200102-000000.pcap'))).toBe(true);
    expect(existsSync(path.join(logDir, 'pcap', 'keep-me.pcap'))).toBe(true);
    expect(existsSync(path.join(logDir, 'eve.json.2020-01-05'))).toBe(true);
    // tcpdump writes its files in the moved directory.
    await waitFor(
      'a capture file in the moved directory',
      () => readdirSync(path.join(logDir, 'pcap')).filter((n) => /^honeywall-\d{8}-\d{6}\.pcap$/.test(n)).length >= 2,
      15_000,
    );
    expect(await send(5000, 2)).toBe(2);
    await sleep(200);
    child.kill('SIGUSR1');
    await waitFor(
      'the status',
      () => (JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { retention: { deletedFiles: number } }).retention.deletedFiles === 2,
    );
    for (const c of running.splice(0)) await stopChild(c);
  }, 90_000);
});
