import { concat } from '../packet/bytes.js';
import { anyObjectFields, settleShape } from '../shapes.js';
import { BodyInflater, type ContentCoding, type InflaterPool } from './inflate.js';
import { normalizeUri, type UriNormalizeOptions } from './normalize.js';

/**
 * HTTP/1.x parsing per flow direction, producing the buffers Snort's http_inspect hands to rules.
 * Defaults follow the http_inspect settings of the snort.conf shipped with Snort 2.9
 * (`profile all`, enable_cookie, extended_response_inspection, inspect_gzip, unlimited_decompress,
 * post_depth 65495, server_flow_depth 0 / client_flow_depth 0 i.e. whole payloads).
 *
 * Feed each payload the matcher inspects (a packet payload, or a rebuilt stream segment) to
 * `request()` (client to server) or `response()` (server to client). A payload that starts a
 * request / status line is parsed as one (pipelined requests give several results); a response
 * payload that does not start with "HTTP/" continues the body of the previous response
 * (file_data only), with de-chunking and gzip/deflate decompression carried across payloads.
 */

export interface HttpConfig {
  uri?: UriNormalizeOptions;
  /** Separate Cookie / Set-Cookie values from http_header into http_cookie (enable_cookie). Default true. */
  enableCookie?: boolean;
  /** Bytes of request body given as http_client_body (post_depth; 0 = all, -1 = none). Default 65495. */
  postDepth?: number;
  /** Bytes of decompressed response body kept per response (decompress_depth with unlimited_decompress). Default 65535 per payload. */
  decompressDepth?: number;
  /**
   * Compressed bytes of a response given to its decompressor; a payload that would go over is skipped (not fed).
   * Default 1 MiB.
   */
  maxCompressed?: number;
  /**
   * The cap on decompressors open at once, shared by the sessions of one flow table (PacketPipeline passes its own).
   * Without one, a session's decompressor is not counted: for a session used on one payload and then closed.
   */
  inflaters?: InflaterPool;
}

/** Buffers of one HTTP message (or of a body continuation). Absent buffers are undefined. */
export interface HttpBuffers {
  kind: 'request' | 'response' | 'body';
  /** http_method */
  method?: Uint8Array;
  /** http_uri (normalised) and http_raw_uri */
  uri?: Uint8Array;
  rawUri?: Uint8Array;
  /** HTTP version text ("HTTP/1.1"), empty for HTTP/0.9 requests. */
  version?: Uint8Array;
  /** http_header (header lines after the start line, each with its CRLF; cookie values removed when enableCookie) */
  header?: Uint8Array;
  /** http_raw_header (the same block as sent: before any normalisation, cookie values kept) */
  rawHeader?: Uint8Array;
  /** http_cookie / http_raw_cookie: Cookie (requests) or Set-Cookie (responses) values */
  cookie?: Uint8Array;
  rawCookie?: Uint8Array;
  /** http_client_body (de-chunked, limited to postDepth) */
  clientBody?: Uint8Array;
  /** http_stat_code / http_stat_msg */
  statCode?: Uint8Array;
  statMsg?: Uint8Array;
  /** file_data: response body in this payload, de-chunked and decompressed */
  fileData?: Uint8Array;
  /** Header fields, names lower-cased, values trimmed (latin1), in order. */
  headers?: [string, string][];
  /** True when the start line and headers were complete in this payload. */
  complete: boolean;
}

/**
 * A message's buffers with every field present (undefined until the parse sets it) in one order: one V8 map for every
 * message. Literals of each kind, with fields added as the parse found them, made the matcher's reads of them
 * polymorphic, and its optimized code was thrown away at the first message of a new kind.
 */
function httpBuffers(kind: HttpBuffers['kind']): HttpBuffers {
  return {
    kind,
    method: undefined,
    uri: undefined,
    rawUri: undefined,
    version: undefined,
    header: undefined,
    rawHeader: undefined,
    cookie: undefined,
    rawCookie: undefined,
    clientBody: undefined,
    statCode: undefined,
    statMsg: undefined,
    fileData: undefined,
    headers: undefined,
    complete: false,
  };
}

settleShape(httpBuffers('request'), (h) => {
  anyObjectFields(h, [
    'method',
    'uri',
    'rawUri',
    'version',
    'header',
    'rawHeader',
    'cookie',
    'rawCookie',
    'clientBody',
    'statCode',
    'statMsg',
    'fileData',
    'headers',
  ]);
  h.kind = 'body';
  h.complete = true;
});

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const latin1 = new TextDecoder('latin1');

/**
 * `latin1.decode(b.subarray(from, to))` (the WHATWG "latin1" decoder, which is windows-1252): short ASCII runs, what
 * header names, values and methods nearly always are, by String.fromCharCode, since a TextDecoder call costs about a
 * microsecond (a quarter of the time of a flow of small pipelined requests went into these and the PAF's).
 */
function latin1Text(b: Uint8Array, from: number, to: number): string {
  if (to - from > 64) return latin1.decode(b.subarray(from, to));
  let s = '';
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c >= 0x80) return latin1.decode(b.subarray(from, to));
    s += String.fromCharCode(c);
  }
  return s;
}
const EMPTY = new Uint8Array(0);

function isTokenChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f;
}

/** Index of the end of the line starting at i (position of CR/LF), or -1 when no line end. */
function lineEnd(b: Uint8Array, i: number): number {
  const n = b.indexOf(LF, i);
  if (n < 0) return -1;
  return n > i && b[n - 1] === CR ? n - 1 : n;
}

/** Position after the line end at e (skips CRLF or LF). */
function afterEol(b: Uint8Array, e: number): number {
  return b[e] === CR ? e + 2 : e + 1;
}

function startsWithHttp(b: Uint8Array, i: number): boolean {
  return (
    b.length - i >= 5 &&
    (b[i] | 0x20) === 0x68 &&
    (b[i + 1] | 0x20) === 0x74 &&
    (b[i + 2] | 0x20) === 0x74 &&
    (b[i + 3] | 0x20) === 0x70 &&
    b[i + 4] === 0x2f
  );
}

interface HeaderBlock {
  header: Uint8Array;
  /** The header lines as sent, cookies included (http_raw_header keeps them; hi_client.c leaves only http_header without). */
  raw: Uint8Array;
  cookie: Uint8Array | undefined;
  headers: [string, string][];
  /** Offset just after the blank line, or -1 if the block did not end in this payload. */
  bodyStart: number;
}

/** Parse header lines from i; cookieName is "cookie" or "set-cookie". */
function parseHeaders(b: Uint8Array, i: number, cookieName: string, enableCookie: boolean): HeaderBlock {
  // the header block is one copy of its range of `b` unless a cookie value is taken out of it: then its pieces, from
  // that line on (a copy, as before: the gateway keeps a window's buffers while the window's bytes move)
  let headerParts: Uint8Array[] | undefined;
  const cookieParts: Uint8Array[] = [];
  const headers: [string, string][] = [];
  let pos = i;
  let bodyStart = -1;
  for (;;) {
    if (pos >= b.length) break;
    const e = lineEnd(b, pos);
    if (e < 0) {
      headerParts?.push(b.subarray(pos));
      pos = b.length;
      break;
    }
    if (e === pos) {
      bodyStart = afterEol(b, e);
      break;
    }
    const next = afterEol(b, e);
    // The colon is looked for in this line only: b.indexOf(':', pos) ran on to the end of the payload for every line
    // without one, quadratic in a header block of colon-less lines (fuzzing found 2.7 s for 137 KB).
    let colon = -1;
    for (let k = pos; k < e; k++)
      if (b[k] === 0x3a) {
        colon = k;
        break;
      }
    if (colon > pos) {
      const name = latin1Text(b, pos, colon).trim().toLowerCase();
      let vs = colon + 1;
      while (vs < e && (b[vs] === SP || b[vs] === TAB)) vs++;
      headers.push([name, latin1Text(b, vs, e).trim()]);
      if (enableCookie && name === cookieName) {
        headerParts ??= [b.subarray(i, pos)];
        headerParts.push(b.subarray(pos, vs));
        headerParts.push(b.subarray(e, next));
        cookieParts.push(b.subarray(vs, e));
        pos = next;
        continue;
      }
    }
    headerParts?.push(b.subarray(pos, next));
    pos = next;
  }
  const raw = b.subarray(i, pos);
  return {
    header: headerParts === undefined ? new Uint8Array(raw) : concat(headerParts),
    raw,
    cookie: cookieParts.length ? concat(cookieParts) : undefined,
    headers,
    bodyStart,
  };
}

function header(h: [string, string][], name: string): string | undefined {
  for (const [k, v] of h) if (k === name) return v;
  return undefined;
}

/** Incremental de-chunker ("Transfer-Encoding: chunked"), state kept across payloads. */
export class Dechunker {
  private state: 'size' | 'ext' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private size = 0;
  private sawDigit = false;
  private left = 0;
  private trailerLineEmpty = true;

  get done(): boolean {
    return this.state === 'done';
  }

  /** De-chunk b; returns the data bytes and how many input bytes were consumed. */
  push(b: Uint8Array): { data: Uint8Array; consumed: number } {
    const parts: Uint8Array[] = [];
    let i = 0;
    while (i < b.length && this.state !== 'done') {
      const c = b[i];
      switch (this.state) {
        case 'size': {
          const hv = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : -1;
          if (hv >= 0) {
            this.size = this.size * 16 + hv;
            this.sawDigit = true;
            i++;
          } else if (c === LF) {
            i++;
            if (this.size === 0 && this.sawDigit) {
              this.state = 'trailer';
              this.trailerLineEmpty = true;
            } else if (this.sawDigit) {
              this.left = this.size;
              this.state = 'data';
            }
          } else if (c === CR || c === SP || c === TAB) i++;
          else {
            this.state = 'ext';
            i++;
          }
          break;
        }
        case 'ext':
          if (c === LF) {
            this.state = 'size';
            continue;
          }
          i++;
          break;
        case 'data': {
          const n = Math.min(this.left, b.length - i);
          parts.push(b.subarray(i, i + n));
          i += n;
          this.left -= n;
          if (this.left === 0) this.state = 'data-end';
          break;
        }
        case 'data-end':
          i++;
          if (c === LF) {
            this.state = 'size';
            this.size = 0;
            this.sawDigit = false;
          }
          break;
        case 'trailer':
          i++;
          if (c === LF) {
            if (this.trailerLineEmpty) this.state = 'done';
            this.trailerLineEmpty = true;
          } else if (c !== CR) this.trailerLineEmpty = false;
          break;
        default:
          break;
      }
    }
    return { data: concat(parts.length ? parts : [EMPTY]), consumed: i };
  }
}

interface BodyState {
  mode: 'length' | 'chunked' | 'close';
  remaining: number;
  dechunker: Dechunker | undefined;
  encoding: ContentCoding | undefined;
  /** Compressed bytes fed to the inflater (at most maxCompressed). */
  compressedBytes: number;
  /** The body's decompressor (made by its first payload; it holds a zlib stream until closed). */
  inflater: BodyInflater | undefined;
  /** The compressed stream is corrupt: nothing more comes out of it. */
  corrupt?: boolean;
}

/**
 * Whether parsed buffers show the flow speaks HTTP (its `app_proto`): a response's status line, or a request line
 * that names an HTTP version. The request parser takes any token and a space for a method (Snort's non_strict), so a
 * request alone without a version is not enough: `USER anonymous` on an HTTP port is not HTTP.
 */
export function showsHttp(buffers: readonly HttpBuffers[]): boolean {
  for (const b of buffers) {
    if (b.kind === 'response') return true;
    if (b.kind === 'request' && b.version !== undefined && startsWithHttp(b.version, 0)) return true;
  }
  return false;
}

/** HTTP state of one flow (both directions). Store it in `Flow.app` under "http". */
export class HttpSession {
  private readonly cfg: Required<Omit<HttpConfig, 'uri' | 'inflaters'>> & { uri: UriNormalizeOptions; inflaters: InflaterPool | undefined };
  private body: BodyState | undefined = undefined;
  /** Method of the last request (a HEAD response has no body). */
  private lastMethod = '';

  /** The last request was a HEAD: its response has no body (PAF ends it with its headers, hi_paf.c HIF_NOB). */
  get lastRequestWasHead(): boolean {
    return this.lastMethod === 'HEAD';
  }

  constructor(cfg: HttpConfig = {}) {
    this.cfg = {
      uri: cfg.uri ?? {},
      enableCookie: cfg.enableCookie ?? true,
      postDepth: cfg.postDepth ?? 65495,
      decompressDepth: cfg.decompressDepth ?? 65535,
      maxCompressed: cfg.maxCompressed ?? 1 << 20,
      inflaters: cfg.inflaters,
    };
  }

  /**
   * Ends the response body being read, closing its decompressor: call it when the session is dropped (its flow
   * ended) so the zlib stream is freed now, not when it is collected. Data after it is parsed as new messages.
   */
  close(): void {
    this.body?.inflater?.close();
    this.body = undefined;
  }

  /** Parse client-to-server data. Returns one entry per request line found (none if the payload is not HTTP). */
  request(b: Uint8Array): HttpBuffers[] {
    const out: HttpBuffers[] = [];
    let i = 0;
    while (i < b.length) {
      const r = this.parseRequest(b, i);
      if (r === undefined) break;
      out.push(r.buffers);
      if (r.next <= i || r.next >= b.length) break;
      i = r.next;
    }
    return out;
  }

  private parseRequest(b: Uint8Array, start: number): { buffers: HttpBuffers; next: number } | undefined {
    // method token
    let i = start;
    while (i < b.length && isTokenChar(b[i]) && i - start < 256) i++;
    if (i === start || i >= b.length || (b[i] !== SP && b[i] !== TAB)) return undefined;
    const method = b.subarray(start, i);
    while (i < b.length && (b[i] === SP || b[i] === TAB)) i++;
    const eol = lineEnd(b, i);
    const lineStop = eol < 0 ? b.length : eol;
    // URI runs to the next space or tab (non_strict, tab_uri_delimiter)
    let u = i;
    while (u < lineStop && b[u] !== SP && b[u] !== TAB) u++;
    const rawUri = b.subarray(i, u);
    let v = u;
    while (v < lineStop && (b[v] === SP || b[v] === TAB)) v++;
    const version = b.subarray(v, lineStop);
    const buffers = httpBuffers('request');
    buffers.method = method;
    buffers.rawUri = rawUri;
    buffers.uri = normalizeUri(rawUri, this.cfg.uri);
    buffers.version = version;
    this.lastMethod = latin1Text(method, 0, method.length).toUpperCase();
    if (eol < 0) return { buffers, next: b.length };
    const hb = parseHeaders(b, afterEol(b, eol), 'cookie', this.cfg.enableCookie);
    setHeaderBuffers(buffers, hb);
    if (hb.bodyStart < 0) return { buffers, next: b.length };
    buffers.complete = true;
    // body
    let next = hb.bodyStart;
    const te = header(hb.headers, 'transfer-encoding');
    const cl = header(hb.headers, 'content-length');
    let body: Uint8Array = EMPTY;
    if (te !== undefined && /chunked/i.test(te)) {
      const d = new Dechunker();
      const r = d.push(b.subarray(hb.bodyStart));
      body = r.data;
      next = hb.bodyStart + r.consumed;
    } else if (cl !== undefined && /^\d+$/.test(cl)) {
      const n = Math.min(Number(cl), b.length - hb.bodyStart);
      body = b.subarray(hb.bodyStart, hb.bodyStart + n);
      next = hb.bodyStart + n;
    } else if (this.lastMethod === 'POST' || this.lastMethod === 'PUT') {
      body = b.subarray(hb.bodyStart);
      next = b.length;
    }
    const pd = this.cfg.postDepth;
    if (pd >= 0 && body.length > 0) buffers.clientBody = pd === 0 ? body : body.subarray(0, pd);
    return { buffers, next };
  }

  /** Parse server-to-client data: a response (status line, headers, body start) or a body continuation. */
  response(b: Uint8Array): HttpBuffers[] {
    const out: HttpBuffers[] = [];
    let i = 0;
    if (!startsWithHttp(b, 0)) {
      if (this.body === undefined) return out;
      const r = this.continueBody(b, 0);
      const body = httpBuffers('body');
      body.fileData = r.data;
      body.complete = true;
      out.push(body);
      if (r.next >= b.length || !startsWithHttp(b, r.next)) return out;
      i = r.next;
    }
    while (i < b.length && startsWithHttp(b, i)) {
      const r = this.parseResponse(b, i);
      out.push(r.buffers);
      if (r.next <= i) break;
      i = r.next;
    }
    return out;
  }

  private parseResponse(b: Uint8Array, start: number): { buffers: HttpBuffers; next: number } {
    const eol = lineEnd(b, start);
    const lineStop = eol < 0 ? b.length : eol;
    let i = start;
    while (i < lineStop && b[i] !== SP) i++;
    const version = b.subarray(start, i);
    while (i < lineStop && b[i] === SP) i++;
    let c = i;
    while (c < lineStop && b[c] !== SP) c++;
    const statCode = b.subarray(i, c);
    while (c < lineStop && b[c] === SP) c++;
    const buffers = httpBuffers('response');
    buffers.version = version;
    buffers.statCode = statCode;
    buffers.statMsg = b.subarray(c, lineStop);
    this.close();
    if (eol < 0) return { buffers, next: b.length };
    const hb = parseHeaders(b, afterEol(b, eol), 'set-cookie', this.cfg.enableCookie);
    setHeaderBuffers(buffers, hb);
    if (hb.bodyStart < 0) return { buffers, next: b.length };
    buffers.complete = true;
    const code = Number(latin1Text(statCode, 0, statCode.length));
    const noBody = this.lastMethod === 'HEAD' || code === 204 || code === 304 || (code >= 100 && code < 200);
    if (noBody) return { buffers, next: hb.bodyStart };
    const te = header(hb.headers, 'transfer-encoding');
    const cl = header(hb.headers, 'content-length');
    const ce = (header(hb.headers, 'content-encoding') ?? '').toLowerCase();
    const chunked = te !== undefined && /chunked/i.test(te);
    this.body = {
      mode: chunked ? 'chunked' : cl !== undefined && /^\d+$/.test(cl) ? 'length' : 'close',
      remaining: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : Infinity,
      dechunker: chunked ? new Dechunker() : undefined,
      encoding: ce.includes('gzip') ? 'gzip' : ce.includes('deflate') ? 'deflate' : undefined,
      compressedBytes: 0,
      inflater: undefined,
    };
    const r = this.continueBody(b, hb.bodyStart);
    buffers.fileData = r.data;
    return { buffers, next: r.next };
  }

  private continueBody(b: Uint8Array, start: number): { data: Uint8Array; next: number } {
    const st = this.body!;
    let raw: Uint8Array;
    let next: number;
    if (st.mode === 'chunked') {
      const r = st.dechunker!.push(b.subarray(start));
      raw = r.data;
      next = start + r.consumed;
      if (st.dechunker!.done) this.body = undefined;
    } else if (st.mode === 'length') {
      const n = Math.min(st.remaining, b.length - start);
      raw = b.subarray(start, start + n);
      next = start + n;
      st.remaining -= n;
      if (st.remaining === 0) this.body = undefined;
    } else {
      raw = b.subarray(start);
      next = b.length;
    }
    if (st.encoding === undefined) return { data: raw, next };
    if (st.corrupt) return { data: EMPTY, next };
    // a payload that would take the body over maxCompressed is skipped; the call still hands out what output the
    // depth held back before
    const fits = st.compressedBytes + raw.length <= this.cfg.maxCompressed;
    if (fits) st.compressedBytes += raw.length;
    st.inflater ??= new BodyInflater(st.encoding, this.cfg.inflaters);
    const data = st.inflater.push(fits ? raw : EMPTY, this.cfg.decompressDepth);
    // the body ended with this payload: its zlib stream is not needed any more
    if (this.body !== st) st.inflater.close();
    if (data === undefined) {
      st.corrupt = true;
      return { data: EMPTY, next };
    }
    return { data, next };
  }
}

/** The header and cookie buffers of a message (normalisation is off by default: they differ by the cookie values only). */
function setHeaderBuffers(buffers: HttpBuffers, hb: ReturnType<typeof parseHeaders>): void {
  buffers.rawHeader = hb.raw;
  buffers.header = hb.header;
  buffers.headers = hb.headers;
  if (hb.cookie !== undefined) {
    buffers.cookie = hb.cookie;
    buffers.rawCookie = hb.cookie;
  }
}
