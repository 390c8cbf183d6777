#!/usr/bin/env node
// Test agent run inside a namespace: a TCP listener that records every byte it receives, per connection.
//   node tcp-recorder.mjs PORT[,PORT...]
// Prints JSON lines: {"event":"ready"} once every port listens; then per connection
// {"event":"accept","port","peer","peerPort"}, {"event":"data","port","peerPort","hex"} for each chunk as it
// arrives, {"event":"close","port","peerPort"}. It never writes to a connection (the tests only look at what
// arrives), and it keeps connections open until the peer ends them.
import net from 'node:net';

const ports = (process.argv[2] ?? '').split(',').filter(Boolean).map(Number);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let listening = 0;
for (const port of ports) {
  const server = net.createServer((sock) => {
    const peerPort = sock.remotePort;
    out({ event: 'accept', port, peer: sock.remoteAddress, peerPort });
    sock.on('data', (d) => out({ event: 'data', port, peerPort, hex: d.toString('hex') }));
    sock.on('error', () => undefined);
    sock.on('close', () => out({ event: 'close', port, peerPort }));
  });
  server.on('error', (err) => {
    process.stderr.write(`tcp-recorder: port ${port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '0.0.0.0', () => {
    if (++listening === ports.length) out({ event: 'ready' });
  });
}
