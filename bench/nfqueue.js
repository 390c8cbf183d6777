// NFQUEUE benchmark (after `npm run build`, as root):
//   node bench/nfqueue.js [--seconds S] [--size BYTES] [--rounds N] [--tcp-mb MB] [--tcp-rounds N] [--no-snort]
//   (--tcp-rounds 0 leaves out the bulk TCP transfers, --no-snort setup c; HW_BENCH_PROFILE=DIR runs `honeywall run`
//   under `node --cpu-prof --cpu-prof-dir DIR`, for a profile of the gateway's packet path: a few % slower;
//   HW_BENCH_NODE_FLAGS='--perf-basic-prof ...' passes other node flags to it)
//
// Builds its own namespace honeynet (outside host 10.0.0.1 -- gateway with br0 over eth0/eth1 -- one honeypot
// 10.0.0.20, the same layout as the test harness in test/honeynet/, re-done here in plain JS), loads the project's
// emitted firewall (`honeywall firewall`, then apply.sh) and measures, in one run, each of these setups:
//   0. the bridge with the firewall and no queue (HwQUEUE=no): the path's ceiling without NFQUEUE;
//   a. NFQUEUE with a trivial consumer (the native addon, every packet accepted at once): the NFQUEUE ceiling;
//   b. NFQUEUE served by `honeywall run` with ET Open 2019 converted for a honeynet (`honeywall convert --honeynet`)
//      and compiled (`honeywall compile --var HOME_NET=10.0.0.20`);
//   c. NFQUEUE served by Snort 2.9.20 inline (the nfq DAQ) with the same converted rule files, on the same queue
//      (when /opt/snort-2.9.20/bin/snort or $SNORT_PREFIX/bin/snort exists; else the recorded figure is printed).
// Measures, each setup:
//   - small packets: one UDP flow of SIZE-byte datagrams honeypot -> outside:9000 (established first, so every
//     datagram is queued), as fast as the sender can, bounded in count and time; counted at the receiver; with the
//     consumer's CPU time per queued packet over the floods (from /proc: steadier than the rate on a shared machine);
//   - bulk TCP: TCP_MB MB (1 MB = 1e6 bytes) of pseudo-random bytes over one TCP connection honeypot ->
//     outside:5001, counted at the receiver, timed from its first to its last byte. Port 5001 on purpose: it is in
//     no HTTP_PORTS list (neither engine runs its HTTP inspection on it) nor in a stream5 ports list, so the
//     bytes meet the generic TCP payload rules of the set;
//   - latency: ping RTT honeypot -> outside.
// The firewall queues without --queue-bypass (HwFAIL_OPEN=no): with no consumer on the queue, the bench checks that
// traffic stops, and it checks again after each consumer is stopped; the kernel's count of queued packets
// (/proc/net/netfilter/nfnetlink_queue) and Snort's own verdict counts show the consumer served the traffic.
// honeywall is driven only through its CLI (bin/honeywall.js). Everything is torn down at the end, also on failure
// or Ctrl-C. If ../shared/corpus is absent, (b) and (c) are skipped with a message.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'bin/honeywall.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('--seconds', 3);
const SIZE = arg('--size', 256);
const ROUNDS = arg('--rounds', 2);
const TCP_MB = arg('--tcp-mb', 100);
const TCP_ROUNDS = arg('--tcp-rounds', 2);
const TCP_DEADLINE_S = 90;
const TCP_PORT = 5001;
const MAX_PACKETS = 2_000_000;
const HARD_LIMIT_MS = 900_000;
const QUEUE = 0;
const QUEUE_MAXLEN = 4096; // honeywall's default HwQUEUE_MAXLEN; the accept-all consumer and Snort get the same
const RECORDED = 'Snort 2.9.20 (recorded): 17.2 MB/s after a 5.2 s rule load on the 91 MB capture; NFQ inline bulk TCP 14.2 MB/s';
const RECORDED_TCP = 14.2;
const META_STRIDE = 17; // words of one packet in a batch's meta array (nf-binding.ts)

if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  console.log('nfqueue bench SKIPPED: needs root on Linux (network namespaces, NFQUEUE)');
  process.exit(0);
}
// The accept-all consumer uses the native addon the way `honeywall run` finds it (the honeywall-native package).
let nativeOk = false;
try {
  nativeOk = Boolean(createRequire(join(repo, 'package.json'))('honeywall-native').binding);
} catch {
  /* not installed */
}
if (!nativeOk) {
  console.log('nfqueue bench SKIPPED: the native addon is not built (npm install; needs libnetfilter-queue-dev libnetfilter-log-dev)');
  process.exit(0);
}

const etDir = resolve(repo, '..', 'shared', 'corpus', 'rules', 'et-open-snort-2.9.0-2019-12-04');
const haveEt = existsSync(etDir);
const snortPrefix = process.env.SNORT_PREFIX || '/opt/snort-2.9.20';
const snortBin = join(snortPrefix, 'bin/snort');
const snortBase = join(snortPrefix, 'etc/base.conf');
const haveSnort = existsSync(snortBin) && existsSync(snortBase) && !process.argv.includes('--no-snort');
const PROFILE_DIR = process.env.HW_BENCH_PROFILE;
const NODE_FLAGS = (process.env.HW_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

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
const inNs = (ns, argv, opts = {}) =>
  execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', stdio: 'pipe', timeout: 30_000, ...opts });
const honeywall = (args, timeout = 120_000) =>
  execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: 'pipe', timeout, maxBuffer: 64 << 20 });

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
  await Promise.race([done, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.race([done, sleep(2000)]);
}
const exited = (c) => c.exitCode !== null || c.signalCode !== null;
/** Waits for a started process to print `ready`; if it exits first, the error says why. */
async function ready(what, child, ms = 20_000) {
  await until(what, () => child.out.includes('ready') || exited(child), ms);
  if (exited(child)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${child.err.trim().split('\n').slice(-5).join(' | ')}`);
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

/** honeywall.conf text for a setup; the firewall emitted from it by `honeywall firewall` and loaded with apply.sh. */
const CONF = join(tmp, 'honeywall.conf');
function confText(extra) {
  return [
    'HwHPOT_PUBLIC_IP=10.0.0.20',
    'HwSCALE=hour',
    'HwUDPRATE=10000',
    'HwICMPRATE=10000',
    'HwTCPRATE=10000',
    'HwCAPTURE=no',
    `HwLOG_DIR=${join(tmp, 'log')}`,
    `HwSTATUS_FILE=${join(tmp, 'status.json')}`,
    'HwSTATUS_INTERVAL=3600',
    'HwFAIL_OPEN=no',
    `HwQUEUE_MAXLEN=${QUEUE_MAXLEN}`,
    ...extra,
    '',
  ].join('\n');
}
function applyFirewall(text) {
  writeFileSync(CONF, text);
  const dir = join(tmp, 'fw');
  rmSync(dir, { recursive: true, force: true });
  honeywall(['firewall', '--config', CONF, '--out', dir]);
  inNs(NS.gw, ['sh', join(dir, 'apply.sh')]);
  flushConntrack();
  return CONF;
}
/** Every flow starts afresh in each setup. */
function flushConntrack() {
  try {
    inNs(NS.gw, ['conntrack', '-F'], { stdio: 'ignore' });
  } catch {
    /* conntrack tool absent: flows from a previous setup are established already, which is what we measure anyway */
  }
}

// ------------------------------------------------------------------ agents
const RECEIVER = join(tmp, 'receiver.mjs');
writeFileSync(
  RECEIVER,
  `import dgram from 'node:dgram';
import net from 'node:net';
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
let n = 0, first = 0, last = 0, bytes = 0;
s.on('message', (m, r) => {
  if (m[0] === 0x48) { s.send(m, r.port, r.address); return; }   // 'H': hello, echoed: the flow is established
  if (n === 0) first = performance.now();
  n++; bytes += m.length; last = performance.now();
});
let bound = 0;
const ready = () => { if (++bound === 2) process.stdout.write('ready\\n'); };
s.bind(9000, ready);
// bulk TCP: one line per connection when it closes: bytes received, seconds from the first to the last byte
net.createServer((c) => {
  let got = 0, t0 = 0, t1 = 0;
  c.on('data', (d) => { const t = performance.now(); if (got === 0) t0 = t; got += d.length; t1 = t; });
  c.on('error', () => {});
  c.on('close', () => process.stdout.write('tcp ' + JSON.stringify({ bytes: got, seconds: (t1 - t0) / 1000 }) + '\\n'));
}).listen(${TCP_PORT}, '0.0.0.0', ready);
process.on('SIGUSR2', () => { process.stdout.write('udp ' + JSON.stringify({ n, bytes, seconds: (last - first) / 1000 }) + '\\n'); n = 0; bytes = 0; });
process.on('SIGTERM', () => process.exit(0));
`,
);
const SENDER = join(tmp, 'sender.mjs');
writeFileSync(
  SENDER,
  `import dgram from 'node:dgram';
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
`,
);
const TCP_SENDER = join(tmp, 'tcp-sender.mjs');
writeFileSync(
  TCP_SENDER,
  `import net from 'node:net';
import { once } from 'node:events';
const [host, port, total, deadline] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
// 1 MiB of pseudo-random bytes (xorshift32, fixed seed), sent over and over: no long runs of one byte
const chunk = Buffer.alloc(1 << 20);
let x = 0x2545f491;
for (let i = 0; i < chunk.length; i += 4) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; chunk.writeInt32LE(x | 0, i); }
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const sock = net.connect({ host, port });
let sent = 0, failed;
sock.on('error', (e) => { failed = e.message; });
const timer = setTimeout(() => { out({ sent, error: 'deadline: the transfer did not finish in ' + deadline + ' s' }); process.exit(1); }, deadline * 1000);
try {
  await once(sock, 'connect');
  const t0 = performance.now();
  while (sent < total) {
    const n = Math.min(chunk.length, total - sent);
    const ok = sock.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    sent += n;
    if (!ok) await once(sock, 'drain');
  }
  sock.end();
  await once(sock, 'close');
  clearTimeout(timer);
  out({ sent, seconds: (performance.now() - t0) / 1000, error: failed });
} catch (e) {
  out({ sent, error: failed ?? e.message });
  process.exit(1);
}
`,
);
const ACCEPTOR = join(tmp, 'accept-all.cjs');
writeFileSync(
  ACCEPTOR,
  `const { createRequire } = require('node:module');
const { binding } = createRequire(${JSON.stringify(join(repo, 'package.json'))})('honeywall-native');
const opts = JSON.parse(process.argv[2]);
let n = 0;
// the addon hands over each batch packed: META_STRIDE words a packet, the packet id first (native/src/honeywall_nf.c)
const h = binding.openQueue(${QUEUE}, opts, (count, meta) => { for (let i = 0; i < count; i++) binding.setVerdict(h, meta[i * ${META_STRIDE}], 1); n += count; });
process.stdout.write('ready\\n');
process.on('SIGTERM', () => { binding.close(h); process.stdout.write(JSON.stringify({ verdicts: n, netlink: binding.stats(h) }) + '\\n'); process.exit(0); });
`,
);
// the queue options `honeywall run` uses for HwQUEUE_MAXLEN=4096, HwFAIL_OPEN=no (socket buffer 4 KiB a packet; GSO
// super-packets queued whole)
const ACCEPTOR_OPTS = { maxLen: QUEUE_MAXLEN, failOpen: false, rcvBuf: QUEUE_MAXLEN * 4096, gso: true };

// ------------------------------------------------------------------ measurements
/** Queue QUEUE's line of /proc/net/netfilter/nfnetlink_queue (absent when nothing is bound to it). */
function kernelQueue() {
  const text = inNs(NS.gw, ['cat', '/proc/net/netfilter/nfnetlink_queue']);
  for (const line of text.trim().split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length >= 8 && f[0] === QUEUE) return { bound: true, portid: f[1], queueDropped: f[5], userDropped: f[6], queued: f[7] };
  }
  return { bound: false, portid: 0, queueDropped: 0, userDropped: 0, queued: 0 };
}
/** What the kernel did with queued packets between two readings (id_sequence counts packets that found room in the queue). */
const kqDelta = (a, b) => {
  const d = {
    sent: b.queued - a.queued - (b.userDropped - a.userDropped),
    full: b.queueDropped - a.queueDropped,
    sock: b.userDropped - a.userDropped,
  };
  return `kernel: ${d.sent.toLocaleString('en')} packets to the consumer, ${d.full.toLocaleString('en')} dropped queue full, ${d.sock.toLocaleString('en')} dropped socket full`;
};
/**
 * CPU seconds (user + system, all threads) a process has used, from /proc/PID/stat (10 ms ticks). Read before and
 * after the floods, and divided by the packets the queue handed over meanwhile, it says what each packet costs the
 * consumer (its reads, verdicts and the kernel work they do, plus its own processing): a figure the other processes
 * on the machine disturb much less than the rate.
 */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}
const cpuPerPacket = (c0, c1, k0, k1) => {
  const n = k1.queued - k0.queued - (k1.userDropped - k0.userDropped);
  return n > 0 && Number.isFinite(c1 - c0) ? `consumer CPU ${((1e6 * (c1 - c0)) / n).toFixed(2)} us a packet` : 'consumer CPU n/a';
};

/** What the addon counted on a queue: packets, GSO super-packets and the largest, verdict messages sent. */
function netlinkSummary(n) {
  if (!n || n.received === undefined) return 'no queue counters';
  const num = (v) => Number(v ?? 0).toLocaleString('en');
  return (
    `${num(n.received)} packets read in ${num(n.dispatches)} batches; GSO ${n.gso ? 'on' : 'off'}: ${num(n.gsoPackets)} super-packets ` +
    `(${(Number(n.gsoBytes ?? 0) / 1e6).toFixed(1)} MB), largest packet ${num(n.largestPacket)} bytes, ${num(n.truncated)} truncated, ` +
    `${num(n.csumNotReady)} with checksum not ready; ${num(n.verdicts)} verdicts in ${num(n.verdictSends)} sends`
  );
}

/** Alert count of a fast-format log and its most frequent rules. */
function alertSummary(file) {
  if (!existsSync(file)) return 'no alert log';
  const counts = new Map();
  let n = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /\[(\d+):(\d+):\d+\]/.exec(line);
    if (!m) continue;
    n++;
    counts.set(`${m[1]}:${m[2]}`, (counts.get(`${m[1]}:${m[2]}`) ?? 0) + 1);
  }
  const top = [...counts]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} x${v}`);
  return `${n} alerts${top.length ? ` (most: ${top.join(', ')})` : ''}`;
}

/** The best of ROUNDS floods (the CPUs are shared with the sender and the receiver: single runs vary). */
async function flood(receiver) {
  let best;
  for (let i = 0; i < ROUNDS; i++) {
    const f = await floodOnce(receiver);
    if (best === undefined || f.pps > best.pps) best = f;
  }
  return best;
}
function nextLine(child, tag, from) {
  const lines = child.out
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith(`${tag} `));
  return lines.length ? JSON.parse(lines[0].slice(tag.length + 1)) : undefined;
}
async function floodOnce(receiver) {
  const r = JSON.parse(
    inNs(NS.hp, [process.execPath, SENDER, '10.0.0.1', String(SIZE), String(MAX_PACKETS), String(SECONDS)], {
      timeout: (SECONDS + 15) * 1000,
    }).trim(),
  );
  const before = receiver.out.length;
  receiver.kill('SIGUSR2');
  await until('the receiver count', () => nextLine(receiver, 'udp', before) !== undefined);
  const got = nextLine(receiver, 'udp', before);
  return { sent: r.sent, sendPps: r.sent / r.sendSeconds, delivered: got.n, pps: got.n / Math.max(got.seconds, 1e-3), seconds: got.seconds };
}

/** TCP_ROUNDS transfers of TCP_MB MB honeypot -> outside:TCP_PORT, one connection each; the best and all rates. */
async function bulk(receiver) {
  if (TCP_ROUNDS <= 0) return undefined;
  const runs = [];
  for (let i = 0; i < TCP_ROUNDS; i++) {
    const before = receiver.out.length;
    let s;
    try {
      s = JSON.parse(
        inNs(NS.hp, [process.execPath, TCP_SENDER, '10.0.0.1', String(TCP_PORT), String(TCP_MB * 1e6), String(TCP_DEADLINE_S)], {
          timeout: (TCP_DEADLINE_S + 15) * 1000,
        }).trim(),
      );
    } catch (err) {
      s = JSON.parse(String(err.stdout || '{}').trim() || '{}');
      s.error ??= err.message.split('\n')[0];
    }
    await until('the receiver to close the connection', () => nextLine(receiver, 'tcp', before) !== undefined, 15_000).catch(() => {});
    const got = nextLine(receiver, 'tcp', before) ?? { bytes: 0, seconds: 0 };
    runs.push({
      bytes: got.bytes,
      seconds: got.seconds,
      mbps: got.bytes / 1e6 / Math.max(got.seconds, 1e-6),
      complete: got.bytes === TCP_MB * 1e6,
      error: s.error,
    });
  }
  const best = runs.reduce((a, b) => (b.complete && (!a.complete || b.mbps > a.mbps) ? b : a));
  return { ...best, all: runs };
}

function pingRtt() {
  const out = inNs(NS.hp, ['ping', '-n', '-q', '-c', '200', '-i', '0.005', '-s', String(SIZE), '10.0.0.1'], { timeout: 30_000 });
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
  const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(out);
  return m
    ? { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]), loss: Number(loss?.[1] ?? NaN) }
    : { min: NaN, avg: NaN, max: NaN, loss: 100 };
}
/** Does anything get from the honeypot to the outside? (3 pings, 1 s wait each) */
function passes() {
  try {
    inNs(NS.hp, ['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '10.0.0.1'], { timeout: 15_000 });
    return true;
  } catch {
    return false; // ping exits 1 when no reply came
  }
}

function reportUdp(name, f, rtt, extra = '') {
  console.log(
    `${name.padEnd(38)} ${Math.round(f.pps).toLocaleString('en').padStart(9)} pkt/s delivered (${f.delivered.toLocaleString('en')} of ${f.sent.toLocaleString('en')} sent at ${Math.round(f.sendPps).toLocaleString('en')}/s, ${(100 * (1 - f.delivered / f.sent)).toFixed(1)}% lost)  ping RTT avg ${rtt.avg.toFixed(3)} ms (min ${rtt.min.toFixed(3)})${extra}`,
  );
}
function reportTcp(name, t, extra = '') {
  if (t === undefined) return;
  const all = t.all
    .map((r) => `${r.mbps.toFixed(1)}${r.complete ? '' : ` (incomplete: ${(r.bytes / 1e6).toFixed(1)} MB${r.error ? `, ${r.error}` : ''})`}`)
    .join(', ');
  console.log(
    `${name.padEnd(38)} ${t.mbps.toFixed(1).padStart(7)} MB/s bulk TCP (${(t.bytes / 1e6).toFixed(1)} MB in ${t.seconds.toFixed(2)} s; all runs: ${all} MB/s)${extra}`,
  );
}
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
const target = (a, b, min) => `(target >= ${min}: ${b > 0 && a / b >= min ? 'met' : 'not met'})`;

/** Snort's exit statistics (DAQ packet and verdict counts). */
function snortCounts(text) {
  const n = (label) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    received: n('Received'),
    analyzed: n('Analyzed'),
    allow: n('Allow'),
    block: n('Block'),
    replace: n('Replace'),
    blacklist: n('Blacklist'),
    whitelist: n('Whitelist'),
  };
}

const udp = {};
const tcp = {};
try {
  // ---- the rules: ET Open 2019 converted for a honeynet, compiled for honeywall, included for Snort
  let artifact;
  let etNote = '';
  let snortConf;
  if (!haveEt) {
    console.log(
      `${resolve(repo, '..', 'shared', 'corpus')} is absent: measuring the bridge and the accept-all consumer only (no ET Open set for the gateway)`,
    );
  } else {
    const convDir = join(tmp, 'et-honeynet');
    let t0 = performance.now();
    const convOut = honeywall(['convert', '--honeynet', '--out', convDir, etDir]);
    const convS = (performance.now() - t0) / 1000;
    const convLine = /^rules: [^\n]*/m.exec(convOut)?.[0] ?? '';
    artifact = join(tmp, 'et2019-honeynet.hwm');
    t0 = performance.now();
    const rep = JSON.parse(
      honeywall(['compile', convDir, '--var', 'HOME_NET=10.0.0.20', '--var', 'EXTERNAL_NET=any', '--out', artifact, '--report', 'json']),
    );
    const compS = (performance.now() - t0) / 1000;
    etNote =
      `ET Open 2019 for the honeynet: \`honeywall convert --honeynet\` ${convS.toFixed(1)} s (${convLine}); ` +
      `\`honeywall compile\` (HOME_NET=10.0.0.20, EXTERNAL_NET=any) ${compS.toFixed(1)} s: ${rep.rules.compiled} of ${rep.rules.total} rules compiled, ${rep.rules.failed} failed`;
    if (haveSnort) {
      // the shipped snort.conf (base.conf) with HOME_NET the honeypot, plus the converted rule files
      snortConf = join(tmp, 'snort-inline.conf');
      const base = readFileSync(snortBase, 'utf8').replace(/^ipvar HOME_NET .*$/m, 'ipvar HOME_NET 10.0.0.20');
      const includes = readdirSync(convDir)
        .filter((f) => f.endsWith('.rules'))
        .sort()
        .map((f) => `include ${join(convDir, f)}`);
      writeFileSync(snortConf, `${base}\n${includes.join('\n')}\n`);
    }
  }
  console.log(
    `NFQUEUE bench: ${os.availableParallelism()} CPUs shared by senders, receiver and consumer; queue ${QUEUE}, length ${QUEUE_MAXLEN}, no --queue-bypass`,
  );
  console.log(
    `  small packets: ${SIZE}-byte UDP payloads, one flow honeypot -> outside:9000, up to ${SECONDS} s / ${MAX_PACKETS.toLocaleString('en')} packets per flood, best of ${ROUNDS} floods`,
  );
  console.log(
    `  bulk TCP: ${TCP_MB} MB (1 MB = 1e6 bytes) of pseudo-random bytes over one connection honeypot -> outside:${TCP_PORT} (not an HTTP port: no HTTP inspection in either engine), timed at the receiver from first to last byte, best of ${TCP_ROUNDS}`,
  );
  if (etNote) console.log(`  ${etNote}`);
  build();
  const receiver = start(NS.out, [process.execPath, RECEIVER]);
  await ready('the receiver', receiver);

  // 0. no queue
  applyFirewall(confText(['HwQUEUE=no']));
  udp.base = await flood(receiver);
  const baseRtt = pingRtt();
  tcp.base = await bulk(receiver);
  reportUdp('0. bridge + firewall, no NFQUEUE', udp.base, baseRtt);
  if (udp.base.delivered === udp.base.sent)
    console.log("   (nothing lost: this is the sender's rate, so a lower bound of the bridge's ceiling, not the ceiling itself)");
  reportTcp('0. bridge + firewall, no NFQUEUE', tcp.base);

  // the queued firewall; with no consumer, traffic must stop (no --queue-bypass): whatever serves the queue is in the path
  applyFirewall(confText(['HwQUEUE=yes', `HwQUEUE_NUM=${QUEUE}`]));
  const openWithout = passes();
  console.log(
    `   firewall with HwQUEUE=yes, nothing on queue ${QUEUE}: traffic ${openWithout ? 'PASSES (the queue is bypassed: the figures below do not measure the consumers)' : 'stops (as it must: the consumer is in the packet path)'}`,
  );
  if (openWithout) process.exitCode = 1;
  const afterStop = (who) => {
    const p = passes();
    if (p) process.exitCode = 1;
    return `; after ${who} stopped: traffic ${p ? 'PASSES (it was not in the packet path: its figures do not count)' : 'stops'}`;
  };

  // a. accept-all consumer
  {
    flushConntrack();
    const acceptor = start(NS.gw, [process.execPath, ACCEPTOR, JSON.stringify(ACCEPTOR_OPTS)]);
    await ready('the accept-all consumer', acceptor);
    const k0 = kernelQueue();
    const c0 = cpuSeconds(acceptor.pid);
    udp.acc = await flood(receiver);
    const rtt = pingRtt();
    const k1 = kernelQueue();
    udp.acc.cpu = cpuPerPacket(c0, cpuSeconds(acceptor.pid), k0, k1);
    tcp.acc = await bulk(receiver);
    const k2 = kernelQueue();
    await stop(acceptor);
    console.log(`   accept-all consumer: ${netlinkSummary(JSON.parse(acceptor.out.split('\n').find((l) => l.startsWith('{')) ?? '{}').netlink)}`);
    reportUdp('a. NFQUEUE, accept-all consumer', udp.acc, rtt, `; ${kqDelta(k0, k1)} (all floods and pings); ${udp.acc.cpu}`);
    reportTcp('a. NFQUEUE, accept-all consumer', tcp.acc, `; ${kqDelta(k1, k2)}${afterStop('the consumer')}`);
    udp.accRtt = rtt;
  }

  // b. honeywall run with ET Open 2019 (converted, compiled)
  if (haveEt) {
    flushConntrack();
    writeFileSync(CONF, confText(['HwQUEUE=yes', `HwQUEUE_NUM=${QUEUE}`, `HwIPS_MATCHER=${artifact}`]));
    const t0 = performance.now();
    const prof = [...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', resolve(PROFILE_DIR)] : []), ...NODE_FLAGS];
    const gw = start(NS.gw, [process.execPath, ...prof, cli, 'run', '--config', CONF, '--no-capture']);
    await until('honeywall run to load the rules', () => gw.err.includes('running (pid') || exited(gw), 120_000);
    if (exited(gw)) throw new Error(`honeywall run exited: ${gw.err}`);
    const loadS = (performance.now() - t0) / 1000;
    const ips = /IPS on queue [^\n]*/.exec(gw.err)?.[0] ?? '';
    const k0 = kernelQueue();
    const c0 = cpuSeconds(gw.pid);
    udp.hw = await flood(receiver);
    const rtt = pingRtt();
    const k1 = kernelQueue();
    udp.hw.cpu = cpuPerPacket(c0, cpuSeconds(gw.pid), k0, k1);
    tcp.hw = await bulk(receiver);
    const k2 = kernelQueue();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    // SIGUSR1 rewrites the status file with the queue's counters (after the stop the queue is closed)
    const statusFile = join(tmp, 'status.json');
    const statusBefore = existsSync(statusFile) ? readFileSync(statusFile, 'utf8') : '';
    gw.kill('SIGUSR1');
    await until('the status file', () => existsSync(statusFile) && readFileSync(statusFile, 'utf8') !== statusBefore, 5000).catch(() => {});
    let gwNetlink;
    try {
      gwNetlink = JSON.parse(readFileSync(statusFile, 'utf8')).queues?.[0]?.netlink;
    } catch {
      /* no status file */
    }
    await stop(gw);
    console.log(`   honeywall run queue: ${netlinkSummary(gwNetlink)}`);
    console.log(
      `   honeywall run: ${ips}; started in ${loadS.toFixed(1)} s${Number.isFinite(rss) ? `, RSS ${rss.toFixed(0)} MiB` : ''}; queue ${QUEUE} ${k0.bound ? 'bound' : 'NOT bound'}; ` +
        `${kqDelta(k0, k2).replace('kernel: ', 'kernel over the setup: ')}; ${alertSummary(join(tmp, 'log', 'fast.log'))}`,
    );
    reportUdp('b. honeywall run, ET Open 2019', udp.hw, rtt, `; ${kqDelta(k0, k1)} (all floods and pings); ${udp.hw.cpu}`);
    reportTcp('b. honeywall run, ET Open 2019', tcp.hw, `; ${kqDelta(k1, k2)}${afterStop('honeywall run')}`);
    udp.hwRtt = rtt;
  }

  // c. Snort 2.9.20 inline on the same queue with the same converted rules
  if (haveEt && haveSnort) {
    flushConntrack();
    const logDir = join(tmp, 'snort-log');
    mkdirSync(logDir, { recursive: true });
    const argv = [
      snortBin,
      '-Q',
      '--daq',
      'nfq',
      '--daq-mode',
      'inline',
      '--daq-var',
      `queue=${QUEUE}`,
      '--daq-var',
      `queue_len=${QUEUE_MAXLEN}`,
      '-k',
      'none',
      '-c',
      snortConf,
      '-A',
      'fast',
      '-l',
      logDir,
      '-N',
    ];
    console.log(`   Snort: ip netns exec <gateway> ${argv.join(' ').replaceAll(tmp, '$TMP')}`);
    const t0 = performance.now();
    const sn = start(NS.gw, argv);
    const text = () => sn.out + sn.err;
    await until('Snort to load the rules', () => text().includes('Commencing packet processing') || exited(sn), 120_000);
    if (exited(sn)) throw new Error(`snort exited (${sn.exitCode}): ${text().split('\n').slice(-15).join('\n')}`);
    const loadS = (performance.now() - t0) / 1000;
    const k0 = kernelQueue();
    const c0 = cpuSeconds(sn.pid);
    udp.snort = await flood(receiver);
    const rtt = pingRtt();
    const k1 = kernelQueue();
    udp.snort.cpu = cpuPerPacket(c0, cpuSeconds(sn.pid), k0, k1);
    tcp.snort = await bulk(receiver);
    const k2 = kernelQueue();
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${sn.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024; // `ip netns exec` execs snort: same pid
    await stop(sn, 'SIGINT');
    const c = snortCounts(text());
    console.log(
      `   Snort inline: started in ${loadS.toFixed(1)} s${Number.isFinite(rss) ? `, RSS ${rss.toFixed(0)} MiB` : ''}; ${kqDelta(k0, k2).replace('kernel: ', 'kernel over the setup: ')}; ` +
        `Snort's DAQ counts: received ${c.received.toLocaleString('en')}, analyzed ${c.analyzed.toLocaleString('en')}, verdicts allow ${c.allow.toLocaleString('en')} block ${c.block} replace ${c.replace}; ${alertSummary(join(logDir, 'alert'))}`,
    );
    reportUdp('c. Snort 2.9.20 NFQ inline, ET Open', udp.snort, rtt, `; ${kqDelta(k0, k1)} (all floods and pings); ${udp.snort.cpu}`);
    reportTcp('c. Snort 2.9.20 NFQ inline, ET Open', tcp.snort, `; ${kqDelta(k1, k2)}${afterStop('Snort')}`);
    udp.snortRtt = rtt;
  } else if (haveEt) {
    console.log(`c. ${process.argv.includes('--no-snort') ? 'Snort left out (--no-snort)' : `${snortBin} is absent`}: ${RECORDED}`);
  }
  await stop(receiver);

  // ---- ratios
  console.log('ratios:');
  console.log(
    `  small packets: accept-all / no queue ${ratio(udp.acc.pps, udp.base.pps)}` +
      (udp.hw ? `; honeywall run / accept-all ${ratio(udp.hw.pps, udp.acc.pps)} ${target(udp.hw.pps, udp.acc.pps, 0.8)}` : '') +
      (udp.snort
        ? `; Snort NFQ / accept-all ${ratio(udp.snort.pps, udp.acc.pps)}; honeywall run / Snort NFQ ${ratio(udp.hw.pps, udp.snort.pps)}`
        : ''),
  );
  const snortTcp = tcp.snort ? tcp.snort.mbps : RECORDED_TCP;
  if (tcp.acc)
    console.log(
      `  bulk TCP: accept-all / no queue ${ratio(tcp.acc.mbps, tcp.base.mbps)}` +
        (tcp.hw
          ? `; honeywall run / accept-all ${ratio(tcp.hw.mbps, tcp.acc.mbps)}; honeywall run / Snort NFQ ${ratio(tcp.hw.mbps, snortTcp)} ${target(tcp.hw.mbps, snortTcp, 2)}${tcp.snort ? '' : ` (against the recorded ${RECORDED_TCP} MB/s)`}`
          : ''),
    );
  const rtts = [
    udp.hwRtt && `honeywall run +${(udp.hwRtt.avg - baseRtt.avg).toFixed(3)} ms`,
    udp.snortRtt && `Snort NFQ +${(udp.snortRtt.avg - baseRtt.avg).toFixed(3)} ms`,
  ].filter(Boolean);
  console.log(
    `  added latency per round trip (ping avg): NFQUEUE accept-all +${(udp.accRtt.avg - baseRtt.avg).toFixed(3)} ms${rtts.length ? `, ${rtts.join(', ')}` : ''} (one queued packet per round trip: the echo request; the reply is inbound, never queued)`,
  );
} catch (err) {
  console.log(`nfqueue bench FAILED: ${err.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
