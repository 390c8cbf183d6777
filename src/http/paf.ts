/**
 * Protocol aware flushing (Snort 2.9 http_inspect PAF): where the first complete HTTP message of a stream ends, so
 * the stream can be flushed at the message boundary. Only messages whose end is known from the data itself count:
 * a request without a body, or with Content-Length; a response without a body (1xx, 204, 304) or with
 * Content-Length. A chunked message or a response running to the close of the connection has no boundary here.
 */

const CR = 0x0d;
const LF = 0x0a;
const latin1 = new TextDecoder('latin1');

/** Offset just past the blank line ending the header block that starts at 0, or -1 when it is not complete. */
function headerEnd(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== LF) continue;
    if (i + 1 < b.length && b[i + 1] === LF) return i + 2;
    if (i + 2 < b.length && b[i + 1] === CR && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

function fieldValue(head: string, name: string): string | undefined {
  const m = new RegExp(`\\n${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i').exec(head);
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
