#!/usr/bin/env node
// Test agent run inside a honeypot: one TCP connection through the kernel's own stack, the data written in
// the given pieces, each its own segment.
//   node segmented-client.mjs HOST PORT PAUSE_MS LINGER_MS HEX [HEX...]
// TCP_NODELAY (Nagle off) sends each write at once, and PAUSE_MS between writes lets the previous segment
// leave and be acknowledged, so the kernel has nothing to coalesce (autocorking only holds a write while an
// earlier one is still queued on the device). The caller checks the segmentation on the wire anyway. After
// LINGER_MS it resets the connection (a dropped segment would otherwise be retransmitted for minutes) and
// prints {"localPort":N,"wrote":[len...]} or {"error":"..."}.
import net from 'node:net';

const [host, portText, pauseText, lingerText, ...pieces] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sock = net.connect({ host, port: Number(portText), noDelay: true });
sock.on('error', (err) => {
  process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
  process.exit(1);
});
sock.on('connect', async () => {
  sock.setNoDelay(true);
  const wrote = [];
  // Let the handshake's last ACK leave before the first data segment.
  await sleep(Number(pauseText));
  for (const hex of pieces) {
    const b = Buffer.from(hex, 'hex');
    sock.write(b);
    wrote.push(b.length);
    await sleep(Number(pauseText));
  }
  await sleep(Number(lingerText));
  process.stdout.write(`${JSON.stringify({ localPort: sock.localPort, wrote })}\n`);
  sock.resetAndDestroy();
  process.exit(0);
});
