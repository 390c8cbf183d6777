import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dechunker, HttpSession, normalizeUri, percentDecode } from '../src/http/index.js';
import { normalizeUriFully } from '../src/http/normalize.js';

const B = (s: string) => Buffer.from(s, 'latin1');
const S = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

describe('URI normalisation', () => {
  const table: [string, string][] = [
    ['/index.html', '/index.html'],
    ['/a%20b', '/a b'],
    ['/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd'],
    ['/foo/fake_dir/../bar', '/foo/bar'],
    ['/foo/./bar', '/foo/bar'],
    ['/foo/////////bar', '/foo/bar'],
    ['/foo\\bar', '/foo/bar'],
    ['/scripts/..%c0%af../winnt/system32/cmd.exe', '/winnt/system32/cmd.exe'],
    ['/%u002e%u002e/x', '/x'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/cgi-bin/x.cgi?p=../../etc//passwd', '/cgi-bin/x.cgi?p=../../etc//passwd'],
    ['/x?q=%41%42', '/x?q=AB'],
    ['/bad%zz', '/bad%zz'],
    ['/100%', '/100%'],
    // hi_norm.c GetDecodedByte: '+' (also from %2B) is a space, in the query and the path
    ['/item.php?id=1+union+select+1', '/item.php?id=1 union select 1'],
    ['/a+b/c%2Bd?x=%2b', '/a b/c d?x= '],
  ];
  for (const [raw, want] of table) it(`${raw} -> ${want}`, () => expect(S(normalizeUri(B(raw)))).toBe(want));
  it('never grows the URI and never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => normalizeUri(b).length <= b.length && percentDecode(b).length <= b.length));
    fc.assert(fc.property(fc.stringMatching(/^[/.a%2eEcC0fF\\?]{0,40}$/), (s) => normalizeUri(B(s)).length <= s.length));
    // the shortcut for URIs that need nothing: the same bytes as the whole normalisation
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[/.a%2eEcC0fFuU\\?]{0,40}$/).map(B), fc.uint8Array({ maxLength: 60 })),
        fc.boolean(),
        fc.boolean(),
        (b, iisBackslash, directory) => {
          const opts = { iisBackslash, directory };
          expect(S(normalizeUri(b, opts))).toBe(S(normalizeUriFully(b, opts)));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('requests', () => {
  it('extracts method, uris, headers, cookies and body', () => {
    const h = new HttpSession();
    const [r] = h.request(B('POST /a/../login.php?u=%61 HTTP/1.1\r\nHost: x\r\nCookie: sid=42; a=b\r\nContent-Length: 7\r\n\r\nuser=mezzz'));
    expect(S(r.method)).toBe('POST');
    expect(S(r.rawUri)).toBe('/a/../login.php?u=%61');
    expect(S(r.uri)).toBe('/login.php?u=a');
    expect(S(r.version)).toBe('HTTP/1.1');
    expect(S(r.header)).toBe('Host: x\r\nCookie: \r\nContent-Length: 7\r\n');
    expect(S(r.cookie)).toBe('sid=42; a=b');
    expect(S(r.clientBody)).toBe('user=me');
    expect(r.complete).toBe(true);
  });
  it('keeps cookies in the header without enableCookie', () => {
    const [r] = new HttpSession({ enableCookie: false }).request(B('GET / HTTP/1.0\r\nCookie: a=b\r\n\r\n'));
    expect(S(r.header)).toBe('Cookie: a=b\r\n');
    expect(r.cookie).toBeUndefined();
  });
  it('pipelined requests, chunked request body, HTTP/0.9 and partial requests', () => {
    const h = new HttpSession();
    const rs = h.request(B('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n'));
    expect(rs.map((r) => S(r.uri))).toEqual(['/1', '/2']);
    const [c] = h.request(B('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n'));
    expect(S(c.clientBody)).toBe('abcde');
    const [old] = h.request(B('GET /old\r\n'));
    expect([S(old.uri), S(old.version)]).toEqual(['/old', '']);
    const [part] = h.request(B('GET /part HTTP/1.1\r\nHost: a\r\nUser-Ag'));
    expect([S(part.uri), part.complete]).toEqual(['/part', false]);
    expect(h.request(B('\x16\x03\x01 not http'))).toEqual([]);
  });
});

describe('responses', () => {
  it('status code and message, Set-Cookie, body as file_data', () => {
    const h = new HttpSession();
    const [r] = h.response(B('HTTP/1.1 404 Not Found\r\nSet-Cookie: x=1\r\nContent-Length: 5\r\n\r\nhello'));
    expect([S(r.statCode), S(r.statMsg), S(r.cookie), S(r.fileData)]).toEqual(['404', 'Not Found', 'x=1', 'hello']);
  });
  it('de-chunks and gunzips across payloads', () => {
    const body = 'uid=0(root) gid=0(root) '.repeat(50);
    const gz = gzipSync(Buffer.from(body));
    const chunked = Buffer.concat([B(`${gz.length.toString(16)}\r\n`), gz, B('\r\n0\r\n\r\n')]);
    const whole = Buffer.concat([B('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'), chunked]);
    // one payload
    const [one] = new HttpSession().response(whole);
    expect(S(one.fileData)).toBe(body);
    // split in three payloads
    const h = new HttpSession();
    const cut1 = 80;
    const cut2 = 140;
    const parts = [whole.subarray(0, cut1), whole.subarray(cut1, cut2), whole.subarray(cut2)];
    const got = parts
      .flatMap((p) => h.response(p))
      .map((x) => S(x.fileData) ?? '')
      .join('');
    expect(got).toBe(body);
  });
  it('HEAD and 304 responses have no body', () => {
    const h = new HttpSession();
    h.request(B('HEAD / HTTP/1.1\r\n\r\n'));
    const rs = h.response(B('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n'));
    expect(rs.map((r) => S(r.statCode))).toEqual(['200', '304']);
  });
  it('dechunker property: any split gives the same data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (chunks, cuts) => {
          const enc = Buffer.concat([...chunks.flatMap((c) => [B(`${c.length.toString(16)}\r\n`), Buffer.from(c), B('\r\n')]), B('0\r\n\r\n')]);
          const points = [...new Set(cuts.map((c) => c % (enc.length + 1)))].sort((a, b) => a - b);
          const d = new Dechunker();
          const out: Uint8Array[] = [];
          let last = 0;
          for (const p of [...points, enc.length]) {
            out.push(d.push(enc.subarray(last, p)).data);
            last = p;
          }
          return d.done && Buffer.concat(out).equals(Buffer.concat(chunks));
        },
      ),
    );
  });
});

describe('hostile header blocks (fuzzing found these)', () => {
  it('30,000 header lines without a colon parse in linear time, requests and responses (15 s each before)', () => {
    const lines = 'ffffffff\r\n'.repeat(30_000);
    for (const [start, parse] of [
      ['HTTP/1.1 200 OK\r\n', (s: HttpSession, b: Uint8Array) => s.response(b)],
      ['GET / HTTP/1.1\r\n', (s: HttpSession, b: Uint8Array) => s.request(b)],
    ] as const) {
      const b = new TextEncoder().encode(start + lines + '\r\n');
      const t0 = performance.now();
      const out = parse(new HttpSession(), b);
      expect(performance.now() - t0).toBeLessThan(2_000);
      expect(out[0]!.header!.length).toBe(lines.length);
    }
  });
});

describe('inflatePartial', () => {
  // little to compress, so that half the stream holds whole deflate blocks
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join(''));
  it('a truncated stream gives what it has; a corrupt one gives undefined; deflate remembers raw', async () => {
    const { gzipSync, deflateRawSync } = await import('node:zlib');
    const { inflatePartial } = await import('../src/http/inflate.js');
    const gz = gzipSync(text);
    const part = inflatePartial(gz.subarray(0, gz.length >> 1), 'gzip', 1 << 20)!;
    expect(part.length).toBeGreaterThan(0);
    expect(Buffer.from(part).toString()).toBe(text.subarray(0, part.length).toString());
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 10, 40);
    expect(inflatePartial(corrupt, 'gzip', 1 << 20)).toBeUndefined();
    const wrap: { raw?: boolean } = {};
    expect(Buffer.from(inflatePartial(deflateRawSync(text), 'deflate', 1 << 20, wrap)!).toString()).toBe(text.toString());
    expect(wrap.raw).toBe(true);
    // over the limit: cut at it
    expect(inflatePartial(gz, 'gzip', 100)!.length).toBe(100);
  });
});
