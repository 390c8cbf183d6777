#!/usr/bin/env node
// Sends "GET / HTTP/1.0" to HOST:PORT and prints {"sent":true,"reply":"..."} (reply may be empty).
import net from 'node:net';
const [host, port] = [process.argv[2], Number(process.argv[3] ?? 80)];
const sock = net.connect({ host, port, timeout: 3000 }, () => sock.write('GET /index.html HTTP/1.0\r\nHost: test\r\n\r\n'));
let reply = '';
sock.on('data', (d) => (reply += d.toString()));
const done = (ok) => {
  process.stdout.write(JSON.stringify({ sent: ok, reply }) + '\n');
  process.exit(0);
};
sock.on('end', () => done(true));
sock.on('timeout', () => {
  sock.destroy();
  done(false);
});
sock.on('error', () => done(false));
