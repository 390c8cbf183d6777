/**
 * The server name of a TLS ClientHello, as Suricata's `tls.sni` buffer holds it (src/app-layer-ssl.c: the handshake
 * gathered from the records that carry it, TLSDecodeHSHelloExtensions, TLSDecodeHSHelloExtensionSni: the first SNI
 * extension's host_name, 1 to 255 bytes). The client's bytes come from the stream in pieces; `TlsHelloReader` holds
 * them until the ClientHello is whole, at most TLS_MAX_HELLO bytes. Hostile input: every length is checked against
 * what is there, nothing throws, malformed input is counted in TlsStats.
 */

import { StreamOrder } from './stream-order.js';

/** The client bytes held for one ClientHello: four full records' worth (a post-quantum key share is ~1.2 KB). */
export const TLS_MAX_HELLO = 4 * (16384 + 5);
const SNI_MAX = 255;
/** Records one ClientHello may span (a hostile client's one-byte records would have it parsed again for each). */
export const TLS_MAX_RECORDS = 64;

export interface TlsStats {
  /** ClientHellos read whole. */
  hellos: number;
  /** ... of which named a server. */
  withSni: number;
  /** Handshakes that are no ClientHello Suricata reads: bad record or handshake lengths, a bad SNI extension. */
  malformed: number;
  /** ClientHellos longer than TLS_MAX_HELLO: given up, no SNI. */
  tooLong: number;
  /** Client streams whose bytes came with a gap before the ClientHello was whole: given up, no SNI. */
  gaps: number;
}

export function newTlsStats(): TlsStats {
  return { hellos: 0, withSni: 0, malformed: 0, tooLong: 0, gaps: 0 };
}

export type HelloResult =
  /** The ClientHello is not whole yet: nothing changes before the stream holds `need` bytes. */
  | { kind: 'more'; need: number }
  /** A whole ClientHello; `sni` undefined when it names no server. */
  | { kind: 'hello'; sni: Uint8Array | undefined }
  /** Not a TLS handshake, or a malformed one: nothing more is read from this stream. */
  | { kind: 'none'; malformed: boolean };

const NOT_TLS: HelloResult = { kind: 'none', malformed: false };
const MALFORMED: HelloResult = { kind: 'none', malformed: true };

/**
 * `data`: the client's stream from its first byte. The handshake messages are the concatenated fragments of the
 * handshake records (content type 22, version 3.x) from the start; the first must be a ClientHello (type 1).
 */
export function clientHelloSni(data: Uint8Array): HelloResult {
  const hs = new Uint8Array(Math.min(data.length, TLS_MAX_HELLO));
  let hsLen = 0;
  let pos = 0;
  for (let records = 0; ; records++) {
    if (records === TLS_MAX_RECORDS) return MALFORMED;
    if (data.length - pos < 5) return { kind: 'more', need: pos + 5 };
    if (data[pos] !== 22) return pos === 0 ? NOT_TLS : MALFORMED;
    if (data[pos + 1] !== 3) return pos === 0 ? NOT_TLS : MALFORMED;
    const recLen = (data[pos + 3]! << 8) | data[pos + 4]!;
    // RFC 8446 5.1: no empty handshake fragment, at most 2^14 bytes (Suricata tolerates 2^14 + 2048, the ciphertext bound)
    if (recLen === 0 || recLen > 16384 + 2048) return MALFORMED;
    const avail = Math.min(recLen, data.length - pos - 5);
    if (hsLen + avail > hs.length) return MALFORMED;
    hs.set(data.subarray(pos + 5, pos + 5 + avail), hsLen);
    hsLen += avail;
    if (hsLen >= 4) {
      if (hs[0] !== 1) return pos === 0 && hsLen === avail ? NOT_TLS : MALFORMED;
      const msgLen = (hs[1]! << 16) | (hs[2]! << 8) | hs[3]!;
      if (4 + msgLen > TLS_MAX_HELLO) return MALFORMED;
      if (hsLen >= 4 + msgLen) return helloSni(hs.subarray(4, 4 + msgLen));
    }
    if (avail < recLen) return { kind: 'more', need: pos + 5 + recLen };
    pos += 5 + recLen;
  }
}

/** The ClientHello body (after its 4-byte header): version, random, session id, ciphers, compression, extensions. */
function helloSni(b: Uint8Array): HelloResult {
  let p = 2 + 32;
  if (p + 1 > b.length) return MALFORMED;
  p += 1 + b[p]!; // session id
  if (p + 2 > b.length) return MALFORMED;
  p += 2 + ((b[p]! << 8) | b[p + 1]!); // cipher suites
  if (p + 1 > b.length) return MALFORMED;
  p += 1 + b[p]!; // compression methods
  if (p > b.length) return MALFORMED;
  if (p === b.length) return { kind: 'hello', sni: undefined }; // no extensions (SSL 3.0 style)
  if (p + 2 > b.length) return MALFORMED;
  const extEnd = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (extEnd > b.length) return MALFORMED;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (p + len > extEnd) return MALFORMED;
    // the first server_name extension (TLSDecodeHSHelloExtensionSni keeps the first and skips later ones)
    if (type === 0 && len > 0) {
      // list length (2), name type (1: host_name, 0), name length (2), name
      if (len < 5 || b[p + 2] !== 0) return MALFORMED;
      const n = (b[p + 3]! << 8) | b[p + 4]!;
      if (n === 0 || n > SNI_MAX || 5 + n > len) return MALFORMED;
      return { kind: 'hello', sni: b.slice(p + 5, p + 5 + n) };
    }
    p += len;
  }
  return { kind: 'hello', sni: undefined };
}

/**
 * One TLS client direction: its bytes held until the ClientHello is whole (or known not to come), then nothing more.
 * `push` gives the SNI on the call that completes a ClientHello naming one. The bytes are parsed again only once the
 * stream holds what the last parse needed (at most TLS_MAX_RECORDS times), into a buffer that doubles as it fills.
 */
export class TlsHelloReader {
  private buf: Uint8Array | undefined = new Uint8Array(0);
  private len = 0;
  private need = 5;
  /** Where this reader is in its stream (src/app/session.ts). */
  readonly order = new StreamOrder();

  constructor(private readonly stats: TlsStats) {}

  /** The ClientHello was read, or will not be: the reader can go. */
  get done(): boolean {
    return this.buf === undefined;
  }

  push(data: Uint8Array): Uint8Array | undefined {
    let b = this.buf;
    if (b === undefined || data.length === 0) return undefined;
    const take = Math.min(data.length, TLS_MAX_HELLO + 1 - this.len);
    if (this.len + take > b.length) {
      const grown = new Uint8Array(Math.min(TLS_MAX_HELLO + 1, Math.max(2 * b.length, this.len + take, 2048)));
      grown.set(b.subarray(0, this.len), 0);
      this.buf = b = grown;
    }
    b.set(data.subarray(0, take), this.len);
    this.len += take;
    if (this.len < this.need) return this.held();
    const r = clientHelloSni(b.subarray(0, this.len));
    if (r.kind === 'more') {
      this.need = r.need;
      return this.held();
    }
    this.buf = undefined;
    if (r.kind === 'none') {
      if (r.malformed) this.stats.malformed++;
      return undefined;
    }
    this.stats.hellos++;
    if (r.sni !== undefined) this.stats.withSni++;
    return r.sni;
  }

  /** Still waiting: past TLS_MAX_HELLO the ClientHello is given up. */
  private held(): undefined {
    if (this.len > TLS_MAX_HELLO || this.need > TLS_MAX_HELLO) {
      this.stats.tooLong++;
      this.buf = undefined;
    }
    return undefined;
  }
}
