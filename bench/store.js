// Store and console benchmark (after `npm run build`): node bench/store.js [--flows N] [--alerts N] [--gb G] [--packets N]
//   [--parts 1,2,3,4] [--rounds N]
// 1. `honeywall import` of the match bench's capture (/tmp/honeywall-bench/big.pcap, built by bench/big-capture.mjs
//    when absent: >= 90 MB of frames) with the whole ET Open 2019 set (compiled first), wall time and MB/s;
// 2. a synthetic store of 1 M flows and 100 k alerts (inserted directly, over 30 days, 40 honeypots; the per-minute
//    and per-hour counts rebuilt from them): the console's queries as the API runs them (query.ts): the first page
//    of the connection list, filtered by host, by port and by sid, the alert list, and the month's and a day's
//    timeline; best of 5 (target < 200 ms each);
// 3. one flow's pcap cut out of 10 GB of captures: 10 sparse files of 1 GB (a pcap header, the flow's 50 frames
//    written at offsets spread over every file, holes between: the cut reads by the recorded offsets, as it does for
//    any flow of up to 4,096 frames a file, so the holes are never read), deleted after (target < 1 s);
// 4. the gateway's added cost of storing flows: an in-process harness on the gateway's packet path (PacketProcessor
//    with ET Open 2019, the IP datagrams of the big capture's first N packets), which also writes the frames to a
//    capture file as tcpdump does; with the store, the gateway's store worker (StoreFeed: its own thread) follows
//    that file into a store and takes the alerts. Packets per second of the packet path, without and with (target:
//    the store costs < 10%). On a 2-core machine the worker competes with the packet path for the second core (it
//    runs at nice 19: store-worker.ts). Also the CPU time of the packet path's thread (Linux: /proc/self/task/PID/stat)
//    and of the whole process: the wall rate on a shared machine moves with its load, the thread's CPU a packet does not.
// Every figure is printed; nothing is asserted.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBigCapture, globalHeader } from './big-capture.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const cli = join(repo, 'bin/honeywall.js');
const shared = resolve(repo, '..', 'shared');
const etDir = join(shared, 'corpus/rules/et-open-snort-2.9.0-2019-12-04');
const svTests = join(shared, 'corpus/suricata-verify/tests');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FLOWS = arg('--flows', 1_000_000);
const ALERTS = arg('--alerts', 100_000);
const GB = arg('--gb', 10);
const PACKETS = arg('--packets', 150_000);
const ROUNDS = arg('--rounds', 2);
const partsArg = process.argv.indexOf('--parts');
const PARTS = new Set((partsArg > 0 ? process.argv[partsArg + 1] : '1,2,3,4').split(',').map(Number));
/** CPU seconds of this process's main thread (utime + stime of /proc/self/task/PID/stat, in clock ticks of 10 ms). */
const mainCpu = () => {
  const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const loadavg = () =>
  `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`;
const tmp = '/tmp/honeywall-bench';
mkdirSync(tmp, { recursive: true });
const work = join(tmp, `store-${process.pid}`);
mkdirSync(work, { recursive: true });
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const target = (ok, text) => `(target ${text}: ${ok ? 'met' : 'not met'})`;
const ms = (x) => `${x.toFixed(1)} ms`;

const { openStore } = await import('../dist/store/db.js');
const { rebuildCounts } = await import('../dist/store/import.js');
const { listFlows, listAlerts, timeline } = await import('../dist/store/query.js');
const { cutFlow } = await import('../dist/store/pcap-cut.js');
const { encodeOffsets } = await import('../dist/store/offsets.js');
const { encodePcapRecord, openCaptureBatches } = await import('../dist/packet/pcap.js');
const HOME_NET = '[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]';
const haveCorpus = existsSync(etDir) && existsSync(svTests);

// ---------------------------------------------------------------- 1. import of the big capture with ET Open
let artifact;
let big;
if (!haveCorpus) console.log(`1. import and 4. gateway cost SKIPPED: ${shared}/corpus is absent`);
else if (PARTS.has(1) || PARTS.has(4)) {
  big = join(tmp, 'big.pcap');
  if (!existsSync(big)) buildBigCapture(svTests, tmp, 90e6, 150);
  artifact = join(work, 'et2019.hwm');
  const c = spawnSync(process.execPath, [cli, 'compile', etDir, '--var', `HOME_NET=${HOME_NET}`, '--var', 'EXTERNAL_NET=any', '--out', artifact], {
    encoding: 'utf8',
  });
  if (![0, 1].includes(c.status)) throw new Error(`compile exited ${c.status}: ${c.stderr}`);
}
if (artifact !== undefined && PARTS.has(1)) {
  const db = join(work, 'import.sqlite');
  console.log(`   (${loadavg()})`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'import', big, '--db', db, '--matcher', artifact, '--checksum-mode', 'none', '--format', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const s = (performance.now() - t0) / 1000;
  if (![0, 1].includes(r.status)) throw new Error(`import exited ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const cap = (out.captures ?? out)[0] ?? out;
  const mb = statSync(big).size / 1e6;
  console.log(
    `1. honeywall import ${big} (${mb.toFixed(1)} MB file) --matcher ET Open 2019 --checksum-mode none (as the match bench): ${s.toFixed(1)} s, ${(mb / s).toFixed(1)} MB/s` +
      ` (${cap.flows?.toLocaleString('en')} flows, ${cap.alerts?.toLocaleString('en')} alerts, store ${(statSync(db).size / 1e6).toFixed(0)} MB)`,
  );
}

// ---------------------------------------------------------------- 2. a synthetic store of 1 M flows and 100 k alerts
if (PARTS.has(2)) {
  const file = join(work, 'synthetic.sqlite');
  const db = openStore(file);
  const t0 = performance.now();
  const START = 1_700_000_000 * 1e6;
  const SPAN = 30 * 86400 * 1e6;
  const insFlow = db.prepare(`INSERT INTO flows (id, flow_id, community_id, proto, vlan, client_ip, client_port, server_ip, server_port, first_us,
    last_us, pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, payload_bytes, tcp_flags_ts, tcp_flags_tc, state, reason, midstream,
    alerts, honeypot, direction, sensor) VALUES (?, ?, ?, 6, 0, ?, ?, ?, ?, ?, ?, 5, 4, 600, 3000, 2000, 27, 27, 'closed', 'timeout', 0, ?, ?, ?, 'gw')`);
  const insAlert = db.prepare(`INSERT INTO alerts (flow_id, ts_us, gid, sid, rev, msg, priority, action, blocked, replaced, proto, src_ip, src_port,
    dst_ip, dst_port, honeypot, sensor) VALUES (?, ?, 1, ?, 1, ?, 2, 'alert', 0, 0, 'TCP', ?, ?, ?, ?, ?, 'gw')`);
  const hp = (i) => `10.0.0.${20 + (i % 40)}`;
  const remote = (i) => `198.51.${(i >> 8) & 255}.${i & 255}`;
  const PORTS = [22, 23, 25, 80, 443, 445, 3389, 6667, 8080, 53];
  db.transaction(() => {
    for (let i = 1; i <= FLOWS; i++) {
      const t = START + Math.floor((i / FLOWS) * SPAN);
      const inbound = i % 3 === 0;
      const port = PORTS[i % PORTS.length];
      const a = i % Math.floor(FLOWS / ALERTS) === 0 ? 1 : 0;
      if (inbound) insFlow.run(i, i, `1:${i}`, remote(i), 30000 + (i % 30000), hp(i), port, t, t + 5e6, a, hp(i), 'inbound');
      else insFlow.run(i, i, `1:${i}`, hp(i), 30000 + (i % 30000), remote(i), port, t, t + 5e6, a, hp(i), 'outbound');
      if (a) insAlert.run(i, t + 1e6, 2_000_000 + (i % 500), `ET TEST rule ${i % 500}`, hp(i), 30000 + (i % 30000), remote(i), port, hp(i));
    }
  })();
  rebuildCounts(db);
  db.exec('ANALYZE');
  const fill = (performance.now() - t0) / 1000;
  console.log(
    `2. synthetic store: ${FLOWS.toLocaleString('en')} flows, ${ALERTS.toLocaleString('en')} alerts over 30 days, 40 honeypots, in ${fill.toFixed(1)} s (${(statSync(file).size / 1e6).toFixed(0)} MB)`,
  );
  const best = (f) => {
    let b = Number.POSITIVE_INFINITY;
    let rows = 0;
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      rows = f();
      b = Math.min(b, performance.now() - t);
    }
    return { b, rows };
  };
  const q = [
    ['connection list, first page (100, newest first)', () => listFlows(db, {}, { limit: 100 }).rows.length],
    ['connection list, host 10.0.0.33', () => listFlows(db, { host: '10.0.0.33' }, { limit: 100 }).rows.length],
    ['connection list, port 6667 inbound', () => listFlows(db, { port: 6667, direction: 'inbound' }, { limit: 100 }).rows.length],
    ['connection list, sid 2000120', () => listFlows(db, { sid: 2_000_120 }, { limit: 100 }).rows.length],
    [
      'connection list, alerted only, one day',
      () => listFlows(db, { alerted: true, from: START + 10 * 86400e6, to: START + 11 * 86400e6 }, { limit: 100 }).rows.length,
    ],
    ['alert list, first page', () => listAlerts(db, {}, { limit: 100 }).rows.length],
    ['timeline, the month, all honeypots', () => timeline(db, { from: START, to: START + SPAN }).buckets.length],
    [
      'timeline, one day, one honeypot',
      () => timeline(db, { from: START + 5 * 86400e6, to: START + 6 * 86400e6, honeypot: '10.0.0.33' }).buckets.length,
    ],
  ];
  let worst = 0;
  for (const [name, f] of q) {
    const { b, rows } = best(f);
    worst = Math.max(worst, b);
    console.log(`   ${name}: ${ms(b)} (${rows} rows)`);
  }
  console.log(`   slowest query: ${ms(worst)} ${target(worst < 200, '< 200 ms')}`);
  db.close();
}

// ---------------------------------------------------------------- 3. one flow's pcap cut out of 10 GB of captures
if (PARTS.has(3)) {
  const file = join(work, 'cut.sqlite');
  const db = openStore(file);
  const FILE_BYTES = 1e9;
  const PER_FILE = 5;
  const frame = Buffer.alloc(1514, 0x41);
  const offsets = [];
  const ins = db.prepare(`INSERT INTO captures (path, sha256, size, status, sensor, imported_at, format, states, first_us)
    VALUES (?, ?, ?, 'done', 'gw', 0, 'pcap', ?, ?)`);
  const states = JSON.stringify([[24, { format: 'pcap', little: true, nano: false, snaplen: 262144, linktype: 1 }]]);
  for (let f = 0; f < GB; f++) {
    const path = join(work, `honeywall-20240101-${String(f).padStart(6, '0')}.pcap`);
    const fd = openSync(path, 'w');
    writeSync(fd, globalHeader());
    const offs = [];
    for (let k = 0; k < PER_FILE; k++) {
      const at = 24 + Math.floor(((k + 0.5) / PER_FILE) * (FILE_BYTES - 4096));
      writeSync(fd, encodePcapRecord({ tsSec: 1_700_000_000 + f * 100 + k, tsUsec: 0, data: frame }), 0, undefined, at);
      offs.push(at);
    }
    ftruncateSync(fd, FILE_BYTES);
    closeSync(fd);
    const id = Number(ins.run(path, `x${f}`, FILE_BYTES, states, f).lastInsertRowid);
    offsets.push([id, offs]);
  }
  db.prepare(`INSERT INTO flows (id, flow_id, community_id, proto, vlan, client_ip, client_port, server_ip, server_port, first_us, last_us,
    pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, payload_bytes, tcp_flags_ts, tcp_flags_tc, state, midstream, direction, sensor)
    VALUES (1, 1, '1:x', 6, 0, '10.0.0.20', 40000, '198.51.100.7', 80, 0, 1, 1, 1, 1, 1, 1, 0, 0, 'new', 0, 'outbound', 'gw')`).run();
  const ff = db.prepare('INSERT INTO flow_files (flow_id, capture_id, first_offset, last_offset, packets, offsets) VALUES (1, ?, ?, ?, ?, ?)');
  for (const [id, offs] of offsets) ff.run(id, offs[0], offs[offs.length - 1], offs.length, encodeOffsets(offs));
  let best = Number.POSITIVE_INFINITY;
  let packets = 0;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const r = await cutFlow(db, 1, () => undefined);
    best = Math.min(best, performance.now() - t);
    packets = r.packets;
  }
  console.log(
    `3. pcap cut: one flow's ${packets} frames out of ${GB} capture files of 1 GB (${GB} GB, sparse: only the flow's frames are written): ${ms(best)} ${target(best < 1000, '< 1 s')}`,
  );
  db.close();
  for (let f = 0; f < GB; f++) rmSync(join(work, `honeywall-20240101-${String(f).padStart(6, '0')}.pcap`), { force: true });
}

// ---------------------------------------------------------------- 4. the gateway's added cost of storing flows
if (artifact !== undefined && PARTS.has(4)) {
  const { loadGatewayMatcher } = await import('../dist/runtime/matcher-loader.js');
  const { PacketProcessor } = await import('../dist/runtime/packet-processor.js');
  const { StoreFeed } = await import('../dist/runtime/store-feed.js');
  // the first PACKETS IPv4/IPv6 datagrams of the big capture, with their frames
  const pkts = [];
  for await (const batch of openCaptureBatches(big)) {
    for (const r of batch) {
      const et = r.data.length > 14 ? (r.data.readUInt16BE?.(12) ?? (r.data[12] << 8) | r.data[13]) : 0;
      if (et === 0x0800 || et === 0x86dd) pkts.push(r);
    }
    if (pkts.length >= PACKETS) break;
  }
  pkts.length = Math.min(pkts.length, PACKETS);
  const run = async (withStore) => {
    const dir = join(work, withStore ? 'pcap-store' : 'pcap-plain');
    mkdirSync(dir, { recursive: true });
    const capFile = join(dir, 'honeywall-20240101-000000.pcap');
    const fd = openSync(capFile, 'w');
    writeSync(fd, globalHeader());
    const loaded = await loadGatewayMatcher({ rules: [], matcher: artifact, vars: { HOME_NET, EXTERNAL_NET: 'any' } });
    const proc = new PacketProcessor(loaded);
    let feed;
    if (withStore) {
      feed = new StoreFeed(
        {
          store: join(work, 'gateway.sqlite'),
          honeypots: '10.0.0.0/8 172.16.0.0/12 192.168.0.0/16',
          live: { dir, sensor: 'bench', since: Date.now() - 5000 },
          flushMs: 500,
          pollMs: 100,
        },
        (line) => console.log(`   store: ${line}`),
      );
      await feed.start();
    }
    const t0 = performance.now();
    const c0 = mainCpu();
    const p0 = process.cpuUsage();
    let pending = [];
    let alerts = 0;
    for (let i = 0; i < pkts.length; i++) {
      const r = pkts[i];
      const d = r.data.subarray(14);
      const res = proc.process(new Uint8Array(d), r.tsSec, r.tsUsec, i);
      for (const x of res)
        if (x.events.length) {
          alerts += x.events.length;
          feed?.alerts(x.events);
        }
      // tcpdump's side: every frame to the capture file (written in batches, as -U with a busy link does)
      pending.push(encodePcapRecord(r));
      if (pending.length === 256) {
        writeSync(fd, Buffer.concat(pending));
        pending = [];
      }
      // the gateway's event loop turns between NFQUEUE batches: let the feed's acknowledgements in
      if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
    }
    writeSync(fd, Buffer.concat(pending));
    const secs = (performance.now() - t0) / 1000;
    const cpu = mainCpu() - c0;
    const p1 = process.cpuUsage(p0);
    const all = (p1.user + p1.system) / 1e6;
    closeSync(fd);
    let status;
    if (feed) {
      await feed.refresh();
      const t1 = performance.now();
      await feed.stop();
      status = { ...feed.status(), drainSeconds: (performance.now() - t1) / 1000 };
    }
    // CPU a packet: the packet path's thread, and what the rest of the process (the store worker) used meanwhile
    return {
      pps: pkts.length / secs,
      secs,
      alerts,
      status,
      usMain: (cpu / pkts.length) * 1e6,
      usOther: (Math.max(0, all - cpu) / pkts.length) * 1e6,
    };
  };
  // a warm-up pass first (the JIT, the port-group databases compiled on first use), then the two alternated
  await run(false);
  const rounds = [];
  for (let k = 0; k < ROUNDS; k++) {
    const a = k % 2 === 0 ? await run(true) : undefined;
    const plain = await run(false);
    const store = a ?? (await run(true));
    rounds.push([plain, store]);
    console.log(
      `   round ${k + 1} (${loadavg()}): without ${Math.round(plain.pps).toLocaleString('en')} packets/s, ${plain.usMain.toFixed(0)} µs CPU a packet + ${plain.usOther.toFixed(1)} µs elsewhere (V8's helper threads); ` +
        `with ${Math.round(store.pps).toLocaleString('en')} packets/s, ${store.usMain.toFixed(0)} µs CPU a packet on the packet path + ${store.usOther.toFixed(1)} µs elsewhere (the store worker)`,
    );
  }
  const bestPlain = Math.max(...rounds.map((r) => r[0].pps));
  const bestStore = Math.max(...rounds.map((r) => r[1].pps));
  const cost = (1 - bestStore / bestPlain) * 100;
  const cpuPlain = Math.min(...rounds.map((r) => r[0].usMain));
  const cpuStore = Math.min(...rounds.map((r) => r[1].usMain));
  // the worker's own: what the process used beyond the packet path's thread, less what it used so without the store
  const worker = Math.min(...rounds.map((r) => r[1].usOther - r[0].usOther));
  const last = rounds[rounds.length - 1][1];
  const w = last.status.worker;
  console.log(
    `4. gateway packet path (in-process harness: PacketProcessor, ET Open 2019, ${pkts.length.toLocaleString('en')} datagrams of the big capture, frames written to a capture file as tcpdump does), best of ${ROUNDS}:`,
  );
  console.log(
    `   without the store: ${Math.round(bestPlain).toLocaleString('en')} packets/s; with the store worker following the capture: ${Math.round(bestStore).toLocaleString('en')} packets/s`,
  );
  console.log(`   added cost: ${cost.toFixed(1)}% ${target(cost < 10, '< 10%')}`);
  console.log(
    `   CPU a packet on the packet path's thread: ${cpuPlain.toFixed(1)} µs without, ${cpuStore.toFixed(1)} µs with the store (${((cpuStore / cpuPlain - 1) * 100).toFixed(1)}%); ` +
      `the store worker's thread: ${worker.toFixed(1)} µs a packet (${((worker / cpuPlain) * 100).toFixed(1)}% of the packet path's, on the other core, at nice 19)`,
  );
  console.log(
    `   the store: ${w?.live.flows.toLocaleString('en')} flows, ${w?.live.alerts} alerts (${w?.live.alertsLinked} linked), ${w?.writer.written.toLocaleString('en')} rows written in ${w?.writer.batches} transactions, ` +
      `drops ${JSON.stringify(w?.writer.dropped)} + ${JSON.stringify(last.status.droppedBeforeWorker)} before the worker; it finished reading ${last.status.drainSeconds.toFixed(1)} s after the packet path`,
  );
}
