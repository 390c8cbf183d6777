/**
 * The central console fetching a flow's pcap from the gateway that holds it: `GET <gateway>/api/flows/ID/pcap` with
 * the gateway's API token, over TLS verified against the configured CA (or pinned certificate) only, never the system's
 * roots. Node's https client (no dependency): a connect timeout (until the TLS handshake is done), an idle timeout
 * (no byte for that long, before or during the body), and a byte limit on the body, counted as it streams. The caller
 * gets the body as a stream only once the gateway answered 200, so every failure before that (unreachable, TLS, the
 * gateway's 401, 404 or 409) is a message naming the gateway and nothing of a pcap is written; a failure after (the
 * limit, the link cut) ends the stream with an error.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import { printable } from '../config/iface-name.js';
import type { Gateway } from './gateways.js';

export interface FetchLimits {
  /** Until the TLS session is up (ms). */
  connectMs: number;
  /** No byte from the gateway for this long ends the fetch (ms). */
  idleMs: number;
  /** A pcap larger than this is refused (before it starts when the gateway says its length) or cut (bytes). */
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { connectMs: 10_000, idleMs: 60_000, maxBytes: 2 * 1024 ** 3 };

export type GatewayFailure = 'unreachable' | 'tls' | 'timeout' | 'refused' | 'not-found' | 'answer' | 'too-large';

export class GatewayError extends Error {
  constructor(
    readonly kind: GatewayFailure,
    message: string,
  ) {
    super(message);
  }
}

/** What the fetches did, by outcome (the console keeps one per process). */
export class FetchStats {
  fetched = 0;
  bytes = 0;
  /** Fetches that ended in a failure, by kind (too-large: refused or cut at the limit). */
  readonly failed: Record<GatewayFailure, number> = {
    unreachable: 0,
    tls: 0,
    timeout: 0,
    refused: 0,
    'not-found': 0,
    answer: 0,
    'too-large': 0,
  };
  /** Analysts who went away mid-download (the gateway's request aborted). */
  abandoned = 0;
}

/** An error answer's body is read up to this (its JSON message), no further. */
const MAX_ERROR_BODY = 4096;

const TLS_CODE = /CERT|SSL|TLS|SIGNATURE|ISSUER|EPROTO|HANDSHAKE/i;

function name(gw: Gateway): string {
  return `gateway ${gw.sensor} (${gw.url})`;
}

function classify(gw: Gateway, e: Error & { code?: string }): GatewayError {
  if (e instanceof GatewayError) return e;
  const what = printable(`${e.code !== undefined ? `${e.code}: ` : ''}${e.message}`, 200);
  if (e.code !== undefined && TLS_CODE.test(e.code)) return new GatewayError('tls', `${name(gw)}: TLS failure: ${what}`);
  return new GatewayError('unreachable', `${name(gw)}: unreachable: ${what}`);
}

/** The gateway's own message from an error answer (`{"error": "..."}`), bounded and escaped. */
async function errorMessage(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size >= MAX_ERROR_BODY) break;
  }
  res.destroy();
  const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return printable(j.error, 200);
  } catch {
    // not JSON: the text itself, escaped
  }
  return printable(text, 200);
}

export interface GatewayPcap {
  /** The pcap as it arrives: errors (the limit, a cut link) end it with a GatewayError. */
  body: Readable;
  /** Bytes passed on so far. */
  readonly bytes: () => number;
  /** Settles when the body has ended: undefined when whole, else why not (also when it failed before anyone read it). */
  done: Promise<Error | undefined>;
  /** Stops the fetch (the analyst went away); false when it had already ended. */
  abort(): boolean;
}

/**
 * Asks `gw` for flow `id`'s pcap. Resolves once the gateway answered 200; rejects with a GatewayError naming the
 * gateway otherwise.
 */
export function fetchGatewayPcap(gw: Gateway, id: number, limits: FetchLimits, stats: FetchStats): Promise<GatewayPcap> {
  const url = new URL(`api/flows/${id}/pcap`, gw.url);
  return new Promise<GatewayPcap>((resolve, reject) => {
    let settled = false;
    // before the answer: one failure counted and reported (later errors of the same request are its echoes)
    const fail = (e: GatewayError) => {
      if (settled) return;
      settled = true;
      stats.failed[e.kind]++;
      reject(e);
    };
    const req = https.request(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${gw.token}`, accept: 'application/vnd.tcpdump.pcap' },
      // the configured CA (or the gateway's own certificate) only: not the system's roots
      ca: gw.ca,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // one connection per fetch: nothing of another fetch's session is reused, and aborting ends it
      agent: false,
    });
    const connect = setTimeout(
      () => req.destroy(new GatewayError('unreachable', `${name(gw)}: unreachable: no TLS session within ${limits.connectMs / 1000} s`)),
      limits.connectMs,
    );
    req.on('socket', (s) => {
      s.once('secureConnect', () => clearTimeout(connect));
      s.once('close', () => clearTimeout(connect));
    });
    // the body being passed on, once the gateway answered 200: a timeout then ends it with its own reason
    let body: Transform | undefined;
    req.setTimeout(limits.idleMs, () => {
      const e = new GatewayError('timeout', `${name(gw)}: no data for ${limits.idleMs / 1000} s: the fetch was stopped`);
      body?.destroy(e);
      req.destroy(e);
    });
    req.on('error', (e) => {
      clearTimeout(connect);
      fail(classify(gw, e));
    });
    req.on('response', (res) => {
      clearTimeout(connect);
      if (res.statusCode !== 200) {
        const status = res.statusCode ?? 0;
        void errorMessage(res).then(
          (msg) => {
            const said = msg === '' ? '' : `: ${msg}`;
            if (status === 401 || status === 403)
              fail(new GatewayError('refused', `${name(gw)} refused the token (HTTP ${status}${said}): revoked, wrong, or of another scope?`));
            else if (status === 404) fail(new GatewayError('not-found', `${name(gw)} has no flow ${id} (HTTP 404${said})`));
            else fail(new GatewayError('answer', `${name(gw)} answered HTTP ${status}${said}`));
          },
          (e: Error) => fail(classify(gw, e)),
        );
        return;
      }
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length) && length > limits.maxBytes) {
        res.destroy();
        fail(new GatewayError('too-large', `${name(gw)}: the pcap is ${length} bytes, more than the ${limits.maxBytes} this console passes on`));
        return;
      }
      let bytes = 0;
      let finished = false;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (bytes + chunk.length > limits.maxBytes) {
            done(new GatewayError('too-large', `${name(gw)}: the pcap is more than the ${limits.maxBytes} bytes this console passes on: cut`));
            return;
          }
          bytes += chunk.length;
          stats.bytes += chunk.length;
          done(null, chunk);
        },
      });
      body = counter;
      // an error on either side ends both: the gateway's request is aborted when the analyst's stream is destroyed
      let ended: (e: Error | undefined) => void = () => undefined;
      const done = new Promise<Error | undefined>((r) => (ended = r));
      pipeline(res, counter, (e) => {
        finished = true;
        if (e === undefined || e === null) {
          stats.fetched++;
          ended(undefined);
          return;
        }
        if (e instanceof GatewayError) stats.failed[e.kind]++;
        req.destroy();
        ended(e);
      });
      settled = true;
      resolve({
        body: counter,
        bytes: () => bytes,
        done,
        abort: () => {
          if (finished) return false;
          stats.abandoned++;
          counter.destroy();
          req.destroy();
          return true;
        },
      });
    });
    req.end();
  });
}
