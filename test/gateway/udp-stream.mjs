#!/usr/bin/env node
// Test agent run inside a namespace: one UDP flow of numbered datagrams, sent at a steady pace.
//   node udp-stream.mjs HOST PORT COUNT GAP_MS [--prefix TEXT]
// Sends "<prefix>-<i>" for i = 0..COUNT-1 from one socket (one flow), one every GAP_MS (a few per
// timer tick when GAP_MS < 1), prints {"event":"ready"} when it starts and, at the end (after a
// grace period for echoes), {"sent":N,"echoed":M,"firstSentMs":T0,"lastSentMs":T1} with wall-clock times.
import dgram from 'node:dgram';

const [host, portText, countText, gapText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const gap = Number(gapText);
const i = rest.indexOf('--prefix');
const prefix = i === -1 ? 'stream' : rest[i + 1];

// A large receive buffer for the echoes (capped by net.core.rmem_max), as in the counter agent.
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
const echoed = new Set();
sock.on('message', (msg) => echoed.add(msg.toString()));
sock.on('error', (err) => {
  process.stderr.write(`udp-stream: ${err.message}\n`);
  process.exit(1);
});

let sent = 0;
let firstSentMs = 0;
let lastSentMs = 0;
const start = Date.now();
const sendOne = () =>
  new Promise((resolve) => {
    sock.send(`${prefix}-${sent}`, port, host, () => resolve());
  });

sock.bind(0, async () => {
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  firstSentMs = Date.now();
  while (sent < count) {
    // Keep the pace against the clock, not against timer drift.
    const due = start + sent * gap;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await sendOne();
    sent++;
  }
  lastSentMs = Date.now();
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ sent, echoed: echoed.size, firstSentMs, lastSentMs })}\n`);
    sock.close();
  }, 1500);
});
