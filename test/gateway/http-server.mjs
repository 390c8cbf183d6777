#!/usr/bin/env node
// A raw TCP server that records the first line of each request: prints {"event":"ready"} then {"event":"request","line":"..."}.
import net from 'node:net';
const port = Number(process.argv[2] ?? 80);
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
net
  .createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl !== -1) {
        emit({ event: 'request', line: buf.slice(0, nl) });
        s.end('HTTP/1.0 200 OK\r\n\r\nok');
        buf = '';
      }
    });
    s.on('error', () => {});
  })
  .listen(port, '0.0.0.0', () => emit({ event: 'ready' }));
