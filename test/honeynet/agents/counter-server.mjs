#!/usr/bin/env node
// Test agent run inside a namespace: counts what arrives. One JSON line per event on stdout.
//   node counter-server.mjs [--tcp 80,21] [--udp 53,1101] [--echo-udp] [--host 0.0.0.0]
// Prints {"event":"ready"} once every socket listens; then {"event":"tcp"|"udp","port":N,"from":"ip","data":"..."}.
import net from 'node:net';
import dgram from 'node:dgram';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const ports = (s) => (s ? s.split(',').filter(Boolean).map(Number) : []);
const host = opt('--host') ?? '0.0.0.0';
const echo = args.includes('--echo-udp');
// Events are written in batches: stdout to a pipe is synchronous in Node, and one write per datagram stalls this
// process whenever the test runner is slow to read, long enough for a burst to overflow the UDP socket buffer.
let out = '';
// biome-ignore lint/correctness/noUnusedVariables: read by ??= below (one timer at a time)
let flushTimer;
const flush = () => {
  flushTimer = undefined;
  if (out === '') return;
  const chunk = out;
  out = '';
  process.stdout.write(chunk);
};
const emit = (o) => {
  out += `${JSON.stringify(o)}\n`;
  if (o.event === 'ready' || out.length > 65536) flush();
  else flushTimer ??= setTimeout(flush, 20);
};

let pending = 0;
const ready = () => {
  if (--pending === 0) emit({ event: 'ready' });
};
for (const port of ports(opt('--tcp'))) {
  pending++;
  const server = net.createServer((sock) => {
    emit({ event: 'tcp', port, from: sock.remoteAddress?.replace(/^::ffff:/, '') });
    sock.on('error', () => {});
    sock.end('hello\n');
  });
  server.listen(port, host, ready);
}
for (const port of ports(opt('--udp'))) {
  pending++;
  // A large receive buffer (capped by net.core.rmem_max): a burst must not overflow it while this process is briefly
  // starved of CPU on a busy machine (what is measured is the gateway, whose own counters the tests check).
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  sock.on('message', (msg, rinfo) => {
    emit({ event: 'udp', port, from: rinfo.address, data: msg.toString() });
    if (echo) sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.bind(port, host, ready);
}
if (pending === 0) emit({ event: 'ready' });
process.on('SIGTERM', () => {
  flush();
  process.exit(0);
});
