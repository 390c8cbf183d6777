// NFQUEUE benchmark (after `npm run build`, as root): node bench/nfqueue.js [--seconds S] [--size BYTES] [--rounds N]
//
// Builds its own namespace honeynet (outside host -- gateway with br0 over eth0/eth1 -- one honeypot, the same
// layout and the same emitted firewall + apply.sh as the test harness in test/honeynet/, re-done here in plain JS
// because the harness is TypeScript under test/), then measures in one run:
//   0. the bridge with the firewall and no queue (HwQUEUE=no): the path's ceiling without NFQUEUE;
//   a. NFQUEUE with a trivial consumer (the native addon, every packet accepted at once): the NFQUEUE ceiling;
//   b. NFQUEUE served by `honeywall run` with the full ET Open 2019 set loaded (compiled matcher when the build has
//      it, else the basic rule interpreter; it says which).
// Throughput: one UDP flow of fixed-size datagrams from the honeypot to the outside host (established first, so
// every datagram is queued), as fast as the sender can, bounded in count and time; counted at the receiver.
// Latency: ping RTT honeypot -> outside through the bridge, each setup. Everything is torn down at the end, also on
// failure or Ctrl-C. If ../shared/corpus is absent, (b) is skipped with a message.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('--seconds', 3);
const SIZE = arg('--size', 256);
const MAX_PACKETS = 2_000_000;
const HARD_LIMIT_MS = 150_000;

if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  console.log('nfqueue bench SKIPPED: needs root on Linux (network namespaces, NFQUEUE)');
  process.exit(0);
}
if (!existsSync(join(repo, 'native/build/Release/honeywall_nf.node'))) {
  console.log('nfqueue bench SKIPPED: the native addon is not built (npm install; needs libnetfilter-queue-dev libnetfilter-log-dev)');
  process.exit(0);
}
const { parseHoneywallConf, formatDiagnostic } = await import('../dist/config/honeywall-conf.js');
const { emitFirewall, APPLY_FILE } = await import('../dist/emit/firewall/index.js');
const { queueOptions } = await import('../dist/runtime/gateway.js');

const etDir = resolve(repo, '..', 'shared', 'corpus', 'rules', 'et-open-snort-2.9.0-2019-12-04');
const haveEt = existsSync(etDir);
const haveMatcher = existsSync(join(repo, 'dist/runtime/matcher-inspector.js')) && existsSync(join(repo, 'dist/match/artifact.js'));

const tmp = mkdtempSync(join(os.tmpdir(), 'honeywall-nfq-bench-'));
const id = `hwb${process.pid.toString(36)}`;
const NS = { out: `${id}-out`, gw: `${id}-gw`, hp: `${id}-hp` };
const children = new Set();
const created = [];
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) c.kill('SIGKILL');
  for (const ns of created.reverse()) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
setTimeout(() => {
  console.log(`nfqueue bench: over ${HARD_LIMIT_MS / 1000} s, stopped`);
  process.exit(1);
}, HARD_LIMIT_MS).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ipc = (...args) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (ns, argv, opts = {}) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: 'pipe', timeout: 30_000, ...opts });

/** A long-running process in a namespace; its stdout/stderr collected. */
function start(ns, argv) {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.err += d));
  child.on('exit', () => children.delete(child));
  return child;
}
async function until(what, probe, ms = 20_000) {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
async function stop(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([done, sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

// ------------------------------------------------------------------ the honeynet (as test/honeynet/honeynet.ts)
function build() {
  try {
    execFileSync('modprobe', ['br_netfilter'], { stdio: 'ignore' });
  } catch {
    /* built in */
  }
  for (const ns of Object.values(NS)) {
    ipc('netns', 'add', ns);
    created.push(ns);
    ipc('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ipc('link', 'add', 'name', 'eth0', 'netns', NS.gw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.out);
  ipc('link', 'add', 'name', 'eth1', 'netns', NS.gw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.hp);
  ipc('-n', NS.gw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  for (const dev of ['eth0', 'eth1']) ipc('-n', NS.gw, 'link', 'set', dev, 'master', 'br0', 'up');
  ipc('-n', NS.gw, 'link', 'set', 'br0', 'up');
  ipc('-n', NS.out, 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
  ipc('-n', NS.out, 'link', 'set', 'eth0', 'up');
  ipc('-n', NS.hp, 'addr', 'add', '10.0.0.20/24', 'dev', 'eth0');
  ipc('-n', NS.hp, 'link', 'set', 'eth0', 'up');
}

/** honeywall.conf text for a setup; the firewall emitted from it and loaded with apply.sh (as test/honeynet/firewall.ts). */
function confText(extra) {
  return ['HwHPOT_PUBLIC_IP=10.0.0.20', 'HwSCALE=hour', 'HwUDPRATE=10000', 'HwICMPRATE=10000', 'HwTCPRATE=10000', 'HwCAPTURE=no',
    `HwLOG_DIR=${join(tmp, 'log')}`, `HwSTATUS_FILE=${join(tmp, 'status.json')}`, 'HwSTATUS_INTERVAL=3600', ...extra, ''].join('\n');
}
function applyFirewall(text) {
  const file = join(tmp, 'honeywall.conf');
  writeFileSync(file, text);
  const { config, diagnostics } = parseHoneywallConf(text, file);
  if (!config) throw new Error(diagnostics.map(formatDiagnostic).join('\n'));
  const dir = join(tmp, 'fw');
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  for (const [name, body] of Object.entries(emitFirewall(config).files)) writeFileSync(join(dir, name), body);
  chmodSync(join(dir, APPLY_FILE), 0o755);
  inNs(NS.gw, ['sh', join(dir, APPLY_FILE)]);
  // Every flow starts afresh in each setup.
  try {
    inNs(NS.gw, ['conntrack', '-F'], { stdio: 'ignore' });
  } catch {
    /* conntrack tool absent: flows from a previous setup are established already, which is what we measure anyway */
  }
  return file;
}

// ------------------------------------------------------------------ agents
const RECEIVER = join(tmp, 'receiver.mjs');
writeFileSync(RECEIVER, `import dgram from 'node:dgram';
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
let n = 0, first = 0, last = 0, bytes = 0;
s.on('message', (m, r) => {
  if (m[0] === 0x48) { s.send(m, r.port, r.address); return; }   // 'H': hello, echoed: the flow is established
  if (n === 0) first = performance.now();
  n++; bytes += m.length; last = performance.now();
});
s.bind(9000, () => process.stdout.write('ready\\n'));
process.on('SIGUSR2', () => { process.stdout.write(JSON.stringify({ n, bytes, seconds: (last - first) / 1000 }) + '\\n'); n = 0; bytes = 0; });
process.on('SIGTERM', () => process.exit(0));
`);
const SENDER = join(tmp, 'sender.mjs');
writeFileSync(SENDER, `import dgram from 'node:dgram';
const [host, size, max, seconds] = process.argv.slice(2);
const s = dgram.createSocket('udp4');
let echoed = false;
s.on('message', () => (echoed = true));
await new Promise((r) => s.bind(0, r));
for (let i = 0; i < 25 && !echoed; i++) { s.send(Buffer.from('H'), 9000, host); await new Promise((r) => setTimeout(r, 200)); }
if (!echoed) { process.stdout.write(JSON.stringify({ error: 'no echo: the flow could not be established' }) + '\\n'); process.exit(1); }
const buf = Buffer.alloc(Number(size), 0x46);
const t0 = performance.now(), end = t0 + Number(seconds) * 1000;
let sent = 0;
while (sent < Number(max) && performance.now() < end) {
  for (let i = 0; i < 64; i++) s.send(buf, 9000, host);
  sent += 64;
  if ((sent & 1023) === 0) await new Promise((r) => setImmediate(r));
}
const sendSeconds = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(JSON.stringify({ sent, sendSeconds }) + '\\n');
s.close();
`);
const ACCEPTOR = join(tmp, 'accept-all.cjs');
writeFileSync(ACCEPTOR, `const { createRequire } = require('node:module');
const { binding } = createRequire(${JSON.stringify(join(repo, 'package.json'))})('honeywall-native');
const opts = JSON.parse(process.argv[2]);
let n = 0;
const h = binding.openQueue(0, opts, (packets) => { for (const p of packets) binding.setVerdict(h, p.id, 1); n += packets.length; });
process.stdout.write('ready\\n');
process.on('SIGTERM', () => { binding.close(h); process.stdout.write(JSON.stringify({ verdicts: n, netlink: binding.stats(h) }) + '\\n'); process.exit(0); });
`);

// ------------------------------------------------------------------ measurements
function kernelQueue() {
  const text = inNs(NS.gw, ['cat', '/proc/net/netfilter/nfnetlink_queue']);
  const f = text.trim().split(/\s+/).map(Number);
  return f.length >= 8 ? { queueDropped: f[5], userDropped: f[6] } : { queueDropped: 0, userDropped: 0 };
}

/** The best of ROUNDS floods (the CPUs are shared with the sender and the receiver: single runs vary). */
const ROUNDS = arg('--rounds', 2);
async function flood(receiver) {
  let best;
  for (let i = 0; i < ROUNDS; i++) {
    const f = await floodOnce(receiver);
    if (best === undefined || f.pps > best.pps) best = f;
  }
  return best;
}

async function floodOnce(receiver) {
  const r = JSON.parse(inNs(NS.hp, [process.execPath, SENDER, '10.0.0.1', String(SIZE), String(MAX_PACKETS), String(SECONDS)], { timeout: (SECONDS + 15) * 1000 }).trim());
  const before = receiver.out.length;
  receiver.kill('SIGUSR2');
  await until('the receiver count', () => receiver.out.slice(before).includes('\n'));
  const got = JSON.parse(receiver.out.slice(before).trim().split('\n')[0]);
  return { sent: r.sent, sendPps: r.sent / r.sendSeconds, delivered: got.n, pps: got.n / Math.max(got.seconds, 1e-3), seconds: got.seconds };
}

function pingRtt() {
  const out = inNs(NS.hp, ['ping', '-n', '-q', '-c', '200', '-i', '0.005', '-s', String(SIZE), '10.0.0.1'], { timeout: 30_000 });
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(out);
  return m ? { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]), loss: Number(loss?.[1] ?? NaN) } : { min: NaN, avg: NaN, max: NaN, loss: 100 };
}

const rows = [];
function report(name, f, rtt, extra = '') {
  rows.push({ name, f, rtt });
  console.log(`${name.padEnd(34)} ${Math.round(f.pps).toLocaleString('en').padStart(9)} pkt/s delivered (${f.delivered.toLocaleString('en')} of ${f.sent.toLocaleString('en')} sent at ${Math.round(f.sendPps).toLocaleString('en')}/s, ${(100 * (1 - f.delivered / f.sent)).toFixed(1)}% lost)  ping RTT avg ${rtt.avg.toFixed(3)} ms (min ${rtt.min.toFixed(3)})${extra}`);
}

try {
  let artifact;
  let etNote;
  if (!haveEt) {
    console.log(`${resolve(repo, '..', 'shared', 'corpus')} is absent: measuring the bridge and the accept-all consumer only (no ET Open set for the gateway)`);
  } else if (haveMatcher) {
    artifact = join(tmp, 'et2019.hwm');
    const t0 = performance.now();
    const out = execFileSync(process.execPath, [join(repo, 'bin/honeywall.js'), 'compile', etDir, '--var', 'HOME_NET=10.0.0.20', '--var', 'EXTERNAL_NET=any', '--out', artifact], { encoding: 'utf8', timeout: 90_000 });
    etNote = `compiled matcher (${out.trim().split('\n').pop()}; compile ${((performance.now() - t0) / 1000).toFixed(1)} s)`;
  } else {
    etNote = 'basic rule interpreter (this build has no compiled matcher): ET rules with unsupported keywords are skipped';
  }
  console.log(`NFQUEUE bench: ${SIZE}-byte UDP payloads, one flow honeypot -> outside, up to ${SECONDS} s / ${MAX_PACKETS.toLocaleString('en')} packets per flood, best of ${ROUNDS} floods per setup; ${os.availableParallelism()} CPUs shared by sender, receiver and consumer`);
  build();
  const receiver = start(NS.out, [process.execPath, RECEIVER]);
  await until('the receiver', () => receiver.out.includes('ready'));

  // 0. no queue
  applyFirewall(confText(['HwQUEUE=no']));
  const base = await flood(receiver);
  const baseRtt = pingRtt();
  report('0. bridge + firewall, no NFQUEUE', base, baseRtt);
  if (base.delivered === base.sent) console.log('   (nothing lost: this is the sender\'s rate, so a lower bound of the bridge\'s ceiling, not the ceiling itself)');

  // a. accept-all consumer
  const conf = applyFirewall(confText(['HwQUEUE=yes', 'HwQUEUE_NUM=0']));
  const opts = queueOptions({ queueMaxLen: 4096, firewall: { failOpen: false } });
  const acceptor = start(NS.gw, [process.execPath, ACCEPTOR, JSON.stringify(opts)]);
  await until('the accept-all consumer', () => acceptor.out.includes('ready'));
  const kq0 = kernelQueue();
  const acc = await flood(receiver);
  const accRtt = pingRtt();
  const kq1 = kernelQueue();
  await stop(acceptor);
  report('a. NFQUEUE, accept-all consumer', acc, accRtt, `; kernel queue drops (all ${ROUNDS} floods and the pings) ${kq1.queueDropped - kq0.queueDropped}, socket drops ${kq1.userDropped - kq0.userDropped}`);

  // b. the gateway with ET Open 2019
  if (haveEt) {
    const rulesSetting = artifact ? [`HwIPS_MATCHER=${artifact}`] : [`HwIPS_RULES=${readdirSync(etDir).filter((f) => f.endsWith('.rules')).map((f) => join(etDir, f)).join(' ')}`];
    writeFileSync(conf, confText(['HwQUEUE=yes', 'HwQUEUE_NUM=0', ...rulesSetting]));
    const t0 = performance.now();
    const gw = start(NS.gw, [process.execPath, join(repo, 'bin/honeywall.js'), 'run', '--config', conf, '--no-capture']);
    await until('the gateway to load the rules', () => gw.err.includes('running (pid') || gw.exitCode !== null, 90_000);
    if (gw.exitCode !== null) throw new Error(`the gateway exited: ${gw.err}`);
    const loadS = (performance.now() - t0) / 1000;
    const ips = /IPS on queue [^\n]*/.exec(gw.err)?.[0] ?? '';
    const kq2 = kernelQueue();
    const g = await flood(receiver);
    const gRtt = pingRtt();
    const kq3 = kernelQueue();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    await stop(gw);
    console.log(`   gateway: ${ips}; started in ${loadS.toFixed(1)} s, RSS ${rss.toFixed(0)} MiB; ${etNote}`);
    report('b. honeywall run, ET Open 2019', g, gRtt, `; kernel queue drops (all ${ROUNDS} floods and the pings) ${kq3.queueDropped - kq2.queueDropped}, socket drops ${kq3.userDropped - kq2.userDropped}`);
    console.log(`ratios: gateway / accept-all ${(g.pps / acc.pps).toFixed(2)}, accept-all / no queue ${(acc.pps / base.pps).toFixed(2)}, gateway / no queue ${(g.pps / base.pps).toFixed(2)}`);
    console.log(`added latency per round trip (ping avg): NFQUEUE accept-all +${(accRtt.avg - baseRtt.avg).toFixed(3)} ms, gateway with ET Open +${(gRtt.avg - baseRtt.avg).toFixed(3)} ms (one queued packet per round trip: the echo request; the reply is inbound, never queued)`);
  } else {
    console.log(`ratio: accept-all / no queue ${(acc.pps / base.pps).toFixed(2)}; added latency per round trip (ping avg): +${(accRtt.avg - baseRtt.avg).toFixed(3)} ms`);
  }
  await stop(receiver);
} catch (err) {
  console.log(`nfqueue bench FAILED: ${err.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
