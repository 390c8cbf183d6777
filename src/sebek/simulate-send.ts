/**
 * Sends the scripted Sebek v3 session (simulate.ts) over a UDP socket, as a Sebek client on a
 * honeypot would: source and destination port the Sebek port, TTL 32 (setTTL), the site magic.
 * The kernel builds the IP header and, on Linux, fills in the UDP checksum (a real client sends 0).
 */
import { createSocket } from 'node:dgram';
import { encodeSebekRecord, SEBEK_DEFAULT_PORT } from './format.js';
import { scriptedSession } from './simulate.js';

export interface SendSessionOptions {
  dst: string;
  magic: number;
  /** Destination port (default 1101). */
  port?: number;
  /** Source port (default: the destination port; 0 = any). */
  srcPort?: number;
  /** Local address to bind. */
  bind?: string;
  /** Address written into the session's socket records (default 10.0.0.5). */
  clientIp?: string;
  /** Indexes of records not sent (counter gaps). */
  drop?: readonly number[];
  /** Garbage datagrams sent to the port before the session. */
  garbage?: number;
  /** Milliseconds between datagrams (default 2). */
  interval?: number;
  /** Time of the first record (default now). */
  startSec?: number;
}

export interface SendSessionSummary {
  dst: string;
  port: number;
  srcPort: number;
  magic: number;
  records: number;
  sent: number;
  dropped: number;
  garbage: number;
  /** Counters of the records sent, in order. */
  counters: number[];
}

export async function sendSession(o: SendSessionOptions): Promise<SendSessionSummary> {
  const port = o.port ?? SEBEK_DEFAULT_PORT;
  const interval = o.interval ?? 2;
  const drop = new Set(o.drop ?? []);
  const records = scriptedSession({ clientIp: o.clientIp ?? '10.0.0.5', startSec: o.startSec ?? Math.floor(Date.now() / 1000) });
  const sock = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port: o.srcPort ?? port, address: o.bind }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.setTTL(32);
    const send = (b: Uint8Array): Promise<void> =>
      new Promise((resolve, reject) => sock.send(b, port, o.dst, (err) => (err ? reject(err) : resolve())));
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, interval));
    for (let i = 0; i < (o.garbage ?? 0); i++) {
      await send(new TextEncoder().encode(`not sebek ${i}`));
      await pause();
    }
    const counters: number[] = [];
    for (let i = 0; i < records.length; i++) {
      if (drop.has(i)) continue;
      await send(encodeSebekRecord(records[i], o.magic));
      counters.push(records[i].counter);
      await pause();
    }
    const srcPort = sock.address().port;
    return {
      dst: o.dst,
      port,
      srcPort,
      magic: o.magic,
      records: records.length,
      sent: counters.length,
      dropped: records.length - counters.length,
      garbage: o.garbage ?? 0,
      counters,
    };
  } finally {
    sock.close();
  }
}
