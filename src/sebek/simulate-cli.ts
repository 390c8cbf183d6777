#!/usr/bin/env node
/**
 * Send a simulated Sebek v3 session over UDP (for the end-to-end test and demos):
 *
 *   node dist/sebek/simulate-cli.js --dst IP --magic N [--port P] [--src-port P] [--bind ADDR]
 *        [--drop I,J,...] [--garbage N] [--interval MS] [--client-ip IP]
 *
 * The kernel fills the IP header: the socket's TTL is set with setTTL(32) as the Sebek client does.
 * The source port is bound to the Sebek port too (default 1101, both sides). The one difference from
 * a real client: Linux computes the UDP checksum of a datagram socket, so it is not 0 on the wire
 * (the decoder does not depend on it). `--drop` leaves records out (counter gaps = loss), `--garbage`
 * sends N non-Sebek datagrams to the port first. Prints one JSON line describing what was sent.
 */
import { parseArgs } from 'node:util';
import { SEBEK_DEFAULT_PORT } from './format.js';
import { sendSession } from './simulate-send.js';

function fail(msg: string): never {
  process.stderr.write(`sebek-simulate: ${msg}\n`);
  process.exit(2);
}

function num(text: string, what: string, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text.slice(2), 16) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) fail(`${what}: "${text}" is not a number in 0..${max}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dst: { type: 'string' },
        magic: { type: 'string' },
        port: { type: 'string', default: String(SEBEK_DEFAULT_PORT) },
        'src-port': { type: 'string' },
        bind: { type: 'string' },
        drop: { type: 'string', default: '' },
        garbage: { type: 'string', default: '0' },
        interval: { type: 'string', default: '2' },
        'client-ip': { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.dst === undefined) fail('--dst IP is required');
  if (values.magic === undefined) fail('--magic N is required');
  const dst = values.dst;
  const magic = num(values.magic, '--magic', 0xffffffff);
  const port = num(values.port, '--port', 65535);
  const srcPort = values['src-port'] === undefined ? port : num(values['src-port'], '--src-port', 65535);
  const interval = num(values.interval, '--interval', 10_000);
  const garbage = num(values.garbage, '--garbage', 1000);
  const drop = new Set(values.drop === '' ? [] : values.drop.split(',').map((s) => num(s, '--drop', 1_000_000)));

  const summary = await sendSession({
    dst,
    port,
    srcPort,
    magic,
    interval,
    garbage,
    drop: [...drop],
    bind: values.bind,
    clientIp: values['client-ip'] ?? values.bind,
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
