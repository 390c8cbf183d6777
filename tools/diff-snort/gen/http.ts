/**
 * HTTP/1.x messages as bytes: requests with odd URIs (percent escapes, %u, double slashes, dot segments, query
 * strings), headers in odd case, cookies, bodies by Content-Length or chunked; responses with status lines, bodies
 * plain, chunked or gzip-compressed (node's zlib). The parts are drawn from the token alphabet, so that rules'
 * http_* contents find them.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TOKENS } from './bytes.js';

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');
const printable = TOKENS.map((t) => dec.decode(Uint8Array.from(t))).filter((t) => /^[\x21-\x7e]+$/.test(t));

const word = fc.constantFrom(...printable);
const words = (max: number) => fc.array(word, { minLength: 1, maxLength: max }).map((w) => w.join(''));

const uriArb = fc
  .record({
    segs: fc.array(fc.oneof(words(2), fc.constantFrom('.', '..', '', '%2e', '%2F', '%u0041', '%41%42', 'a%00b', '%zz')), {
      minLength: 1,
      maxLength: 4,
    }),
    query: fc.option(fc.array(fc.tuple(words(1), words(2)), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ segs, query }) => `/${segs.join('/')}${query ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`);

export interface HttpPair {
  request: number[];
  response: number[];
}

function chunked(body: number[], cut: number): number[] {
  const parts: number[][] = [];
  const size = Math.max(1, cut);
  for (let i = 0; i < body.length; i += size) parts.push(body.slice(i, i + size));
  const out: number[] = [];
  for (const p of parts) out.push(...enc.encode(`${p.length.toString(16)}\r\n`), ...p, 13, 10);
  out.push(...enc.encode('0\r\n\r\n'));
  return out;
}

export const httpPairArb: fc.Arbitrary<HttpPair> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD', 'PUT', 'abc'),
    uri: uriArb,
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'),
    hcase: fc.constantFrom('Host', 'host', 'HOST'),
    ua: words(3),
    cookie: fc.option(words(3), { nil: undefined }),
    odd: fc.option(fc.tuple(fc.constantFrom('X-abc', 'x-xyz', 'AAAA'), words(2)), { nil: undefined }),
    reqBody: fc.array(word, { maxLength: 4 }).map((w) => [...enc.encode(w.join(''))]),
    reqChunked: fc.boolean(),
    status: fc.constantFrom('200 OK', '200 OK', '404 Not Found', '302 Found', '500 xyz'),
    ctype: fc.constantFrom('text/html', 'application/x-shockwave-flash', 'application/java-archive'),
    setCookie: fc.option(words(2), { nil: undefined }),
    respBody: fc.array(word, { maxLength: 6 }).map((w) => [...enc.encode(w.join(''))]),
    respEnc: fc.constantFrom('length', 'length', 'chunked', 'gzip', 'gzip-chunked', 'close'),
    chunk: fc.integer({ min: 1, max: 12 }),
  })
  .map((r) => {
    const hasBody = r.method === 'POST' || r.method === 'PUT';
    let req = `${r.method} ${r.uri} ${r.version}\r\n${r.hcase}: abc\r\nUser-Agent: ${r.ua}\r\n`;
    if (r.cookie) req += `Cookie: ${r.cookie}\r\n`;
    if (r.odd) req += `${r.odd[0]}: ${r.odd[1]}\r\n`;
    let reqBody: number[] = [];
    if (hasBody) {
      if (r.reqChunked) {
        req += 'Transfer-Encoding: chunked\r\n';
        reqBody = chunked(r.reqBody, r.chunk);
      } else {
        req += `Content-Length: ${r.reqBody.length}\r\n`;
        reqBody = r.reqBody;
      }
    }
    const request = [...enc.encode(`${req}\r\n`), ...reqBody];
    let resp = `HTTP/1.1 ${r.status}\r\nContent-Type: ${r.ctype}\r\n`;
    if (r.setCookie) resp += `Set-Cookie: ${r.setCookie}\r\n`;
    let body = r.respBody;
    if (r.respEnc === 'gzip' || r.respEnc === 'gzip-chunked') {
      resp += 'Content-Encoding: gzip\r\n';
      body = [...gzipSync(Uint8Array.from(body), { level: 6 })];
    }
    if (r.respEnc === 'chunked' || r.respEnc === 'gzip-chunked') {
      resp += 'Transfer-Encoding: chunked\r\n';
      body = chunked(body, r.chunk);
    } else if (r.respEnc !== 'close') resp += `Content-Length: ${body.length}\r\n`;
    const response = r.method === 'HEAD' ? [...enc.encode(`${resp}\r\n`)] : [...enc.encode(`${resp}\r\n`), ...body];
    return { request, response };
  });
