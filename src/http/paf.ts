/**
 * Protocol aware flushing (Snort 2.9 http_inspect PAF): where the first complete HTTP message of a stream ends, so
 * the stream can be flushed at the message boundary. Only messages whose end is known from the data itself count:
 * a request without a body, or with Content-Length; a response without a body (1xx, 204, 304) or with
 * Content-Length. A chunked message or a response running to the close of the connection has no boundary here.
 */

const CR = 0x0d;
const LF = 0x0a;
const latin1 = new TextDecoder('latin1');

/** Whether `b` holds the blank line that ends a header block (httpPafLength is 0 without it). */
export function hasHeaderEnd(b: Uint8Array): boolean {
  return headerEnd(b) >= 0;
}

/** Offset just past the blank line ending the header block that starts at 0, or -1 when it is not complete. */
function headerEnd(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== LF) continue;
    if (i + 1 < b.length && b[i + 1] === LF) return i + 2;
    if (i + 2 < b.length && b[i + 1] === CR && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * Each field's pattern, compiled once (the callers name a few fixed fields): a RegExp made per message took about 15%
 * of the time of a flow of small pipelined requests.
 */
const FIELD_PATTERNS = new Map<string, RegExp>();

function fieldValue(head: string, name: string): string | undefined {
  let field = FIELD_PATTERNS.get(name);
  if (field === undefined) FIELD_PATTERNS.set(name, (field = new RegExp(`\\n${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i')));
  const m = field.exec(head);
  return m === null ? undefined : m[1]!.trim();
}

/**
 * Length of the HTTP message at the start of `b` (a request when `fromClient`, else a response) once its header block
 * is complete in `b` and tells where it ends; it may exceed `b.length` (body not all there yet). 0 when `b` does not
 * start with such a message.
 */
export function httpMessageLength(b: Uint8Array, fromClient: boolean): number {
  const end = headerEnd(b);
  if (end < 0) return 0;
  const head = latin1.decode(b.subarray(0, end));
  const first = head.slice(0, head.indexOf('\n'));
  if (fromClient) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+\S+[ \t]+HTTP\/\d/.test(first)) return 0;
  } else {
    const m = /^HTTP\/\d\.\d[ \t]+(\d{3})/.exec(first);
    if (m === null) return 0;
    const code = Number(m[1]);
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) return end;
  }
  const te = fieldValue(head, 'transfer-encoding');
  if (te !== undefined && /chunked/i.test(te)) return 0;
  const cl = fieldValue(head, 'content-length');
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return 0;
    return end + Number(cl);
  }
  return fromClient ? end : 0;
}

function isTokenByte(c: number): boolean {
  // RFC 2616 token characters (hi_paf.c class_map CLASS_TOK)
  return c > 0x20 && c < 0x7f && !'()<>@,;:\\"/[]?={}'.includes(String.fromCharCode(c));
}

/** Offset just past the chunked body starting at `at` (the last chunk and its blank line), 0 while incomplete. */
function chunkedEnd(b: Uint8Array, at: number): number {
  let i = at;
  for (;;) {
    const eol = b.indexOf(LF, i);
    if (eol < 0) return 0;
    const m = /^\s*([0-9a-fA-F]+)/.exec(latin1.decode(b.subarray(i, eol)));
    if (m === null) return 0;
    const size = parseInt(m[1]!, 16);
    i = eol + 1;
    if (size === 0) {
      // trailer lines up to the blank one
      for (;;) {
        const e = b.indexOf(LF, i);
        if (e < 0) return 0;
        const blank = e === i || (e === i + 1 && b[i] === CR);
        i = e + 1;
        if (blank) return i;
      }
    }
    i += size;
    const e = b.indexOf(LF, i);
    if (e < 0) return 0;
    i = e + 1;
  }
}

/**
 * Snort 2.9.20 http_inspect's PAF (hi_paf.c) on the acked data of one direction: where the first message ends (its
 * length), 0 while that is not known yet, -1 when the data is no HTTP message (PAF_ABORT: the stream is then flushed
 * by footprint). At the end of the headers (hi_eoh): a response without a body (1xx, 204, 304, or to a HEAD request:
 * `head`) or a request without Content-Length or chunks ends there; Content-Length adds the body; chunks run to the
 * last one; an HTTP/1.1 response without either ends with its headers, an HTTP/1.0 one with Content-Encoding too, other
 * responses abort.
 */
export function httpPafLength(b: Uint8Array, fromClient: boolean, head: boolean): number {
  if (b.length === 0) return 0;
  if (fromClient) {
    if (!isTokenByte(b[0]!)) return -1;
  } else {
    const want = 'HTTP/1.';
    for (let i = 0; i < Math.min(want.length, b.length); i++) if (b[i] !== want.charCodeAt(i)) return -1;
  }
  const end = headerEnd(b);
  if (end < 0) return 0;
  const head0 = latin1.decode(b.subarray(0, end));
  const first = head0.slice(0, head0.indexOf('\n'));
  const te = fieldValue(head0, 'transfer-encoding');
  const chunked = te !== undefined && /^chunked/i.test(te);
  const cl = fieldValue(head0, 'content-length');
  const len = cl !== undefined && /^\d+/.test(cl) ? parseInt(cl, 10) : undefined;
  if (fromClient) {
    if (!/^\S+[ \t]+\S+[ \t]+HTTP\/1\.[01]/.test(first)) return end; // an HTTP/0.9 simple request: its line
    if (chunked) return chunkedEnd(b, end);
    if (len !== undefined) return end + len;
    return end;
  }
  const m = /^HTTP\/1\.(\d)[ \t]+(\d{3})/.exec(first);
  if (m === null) return -1;
  const code = Number(m[2]);
  if (head || code === 204 || code === 304 || (code >= 100 && code < 200)) return end;
  if (chunked) return chunkedEnd(b, end);
  if (len !== undefined) return end + len;
  if (m[1] === '1') return end;
  if (fieldValue(head0, 'content-encoding') !== undefined) return end;
  return -1;
}
