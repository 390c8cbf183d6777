#!/usr/bin/env node
// Test agent run inside a namespace: makes connections, prints one JSON result line.
//   node client.mjs tcp HOST PORT COUNT TIMEOUT_MS [--source IP]
//     sequential connects; {"ok":N,"fail":M}
//   node client.mjs udp HOST PORT COUNT [--reply-ms MS] [--gap-ms MS]
//     COUNT datagrams, each from a fresh socket (a new flow); with --reply-ms waits for an echo:
//     {"sent":N,"replies":M}
import net from 'node:net';
import dgram from 'node:dgram';

const [mode, host, portText, countText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const opt = (name) => {
  const i = rest.indexOf(name);
  return i === -1 ? undefined : rest[i + 1];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function tcpOnce(timeoutMs, source) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, ...(source ? { localAddress: source } : {}) });
    const done = (ok) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => done(true));
    sock.on('error', () => done(false));
  });
}

async function udpOnce(i, replyMs) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let timer;
    const done = (got) => {
      clearTimeout(timer);
      sock.close();
      resolve(got);
    };
    sock.on('error', () => done(false));
    sock.on('message', () => done(true));
    sock.send(`probe-${process.pid}-${i}`, port, host, (err) => {
      if (err) return done(false);
      if (!replyMs) return done(false);
      timer = setTimeout(() => done(false), replyMs);
    });
  });
}

if (mode === 'tcp') {
  const timeoutMs = Number(rest[0] ?? 800);
  let ok = 0;
  let fail = 0;
  for (let i = 0; i < count; i++) {
    if (await tcpOnce(timeoutMs, opt('--source'))) ok++;
    else fail++;
  }
  process.stdout.write(`${JSON.stringify({ ok, fail })}\n`);
} else if (mode === 'udp') {
  const replyMs = Number(opt('--reply-ms') ?? 0);
  const gap = Number(opt('--gap-ms') ?? 20);
  let replies = 0;
  for (let i = 0; i < count; i++) {
    if (await udpOnce(i, replyMs)) replies++;
    await sleep(gap);
  }
  process.stdout.write(`${JSON.stringify({ sent: count, replies })}\n`);
} else {
  process.stderr.write('usage: client.mjs tcp|udp HOST PORT COUNT ...\n');
  process.exit(2);
}
