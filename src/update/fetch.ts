/**
 * HTTPS downloads with a cache, as suricata-update keeps one: each URL's last good body and its validators (ETag,
 * Last-Modified) in the cache directory; a conditional request (If-None-Match / If-Modified-Since) that gets 304
 * downloads nothing. A new body is written to a temporary file and only becomes the cached copy when the caller
 * commits it, after verifying it: a body that fails its checksum never replaces the last good one. `offline` uses the
 * cache alone. Bounded: https only (also after redirects, at most 5), a size cap, a time limit per request.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { escapeName } from './tarball.js';

export interface FetchOptions {
  cacheDir: string;
  offline: boolean;
  /** Extra trusted CA certificates (PEM), e.g. a local mirror's. */
  ca?: string;
  maxBytes: number;
  timeoutMs: number;
}

interface CacheMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  size: number;
  fetchedAt: string;
}

export interface Fetched {
  url: string;
  /** The body to verify and use: the cached copy (304, offline) or the new download. */
  file: string;
  /** 200: downloaded; 304: not modified, the cached copy; offline: the cached copy, no request made. */
  how: 200 | 304 | 'offline';
  bytes: number;
  /** Makes a new download the cached copy (after it was verified); returns the cached copy's path. */
  commit(): string;
  /** Removes a new download that was not committed. */
  discard(): void;
}

export class FetchError extends Error {}

/** A URL fit for a message: credentials and query removed, escaped. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    return escapeName(`${u.protocol}//${u.host}${u.pathname}`);
  } catch {
    return escapeName(url);
  }
}

function cacheKey(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 40);
}

function readMeta(file: string): CacheMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as CacheMeta;
    return typeof m.url === 'string' && typeof m.size === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}

interface Response {
  status: number;
  etag?: string;
  lastModified?: string;
  bytes: number;
}

function request(url: string, headers: Record<string, string>, dest: string, o: FetchOptions, redirects = 0): Promise<Response> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new FetchError(`not a URL: ${escapeName(url)}`));
      return;
    }
    if (u.protocol !== 'https:') {
      reject(new FetchError(`${showUrl(url)}: only https URLs are fetched`));
      return;
    }
    const req = https.get(u, { headers: { 'user-agent': 'honeywall-update/0.1', ...headers }, ca: o.ca, timeout: o.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
        res.resume();
        if (redirects >= 5) {
          reject(new FetchError(`${showUrl(url)}: more than 5 redirects`));
          return;
        }
        const next = new URL(res.headers.location, u).toString();
        request(next, headers, dest, o, redirects + 1).then(resolve, reject);
        return;
      }
      const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
      const lastModified = typeof res.headers['last-modified'] === 'string' ? res.headers['last-modified'] : undefined;
      if (status === 304) {
        res.resume();
        resolve({ status, etag, lastModified, bytes: 0 });
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new FetchError(`${showUrl(url)}: HTTP ${status}`));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > o.maxBytes) {
        res.destroy();
        reject(new FetchError(`${showUrl(url)}: ${declared} bytes announced, more than the limit of ${o.maxBytes}`));
        return;
      }
      const out = createWriteStream(dest, { mode: 0o600 });
      let bytes = 0;
      let failed = false;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > o.maxBytes && !failed) {
          failed = true;
          res.destroy();
          out.destroy();
          reject(new FetchError(`${showUrl(url)}: more than the limit of ${o.maxBytes} bytes`));
        }
      });
      res.on('error', (e) => {
        if (failed) return;
        failed = true;
        out.destroy();
        reject(new FetchError(`${showUrl(url)}: ${e.message}`));
      });
      res.pipe(out);
      out.on('finish', () => {
        if (!failed) resolve({ status, etag, lastModified, bytes });
      });
      out.on('error', (e) => {
        if (failed) return;
        failed = true;
        reject(new FetchError(`cannot write ${dest}: ${e.message}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${o.timeoutMs} ms`)));
    req.on('error', (e) => reject(new FetchError(`${showUrl(url)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
  });
}

/** The URL's body: from the server when it changed, else (304, or offline) the cached copy. */
export async function fetchCached(url: string, o: FetchOptions): Promise<Fetched> {
  mkdirSync(o.cacheDir, { recursive: true, mode: 0o700 });
  const key = cacheKey(url);
  const body = path.join(o.cacheDir, `${key}.body`);
  const metaFile = path.join(o.cacheDir, `${key}.json`);
  const meta = existsSync(body) ? readMeta(metaFile) : undefined;
  const cached = (how: 304 | 'offline'): Fetched => ({
    url,
    file: body,
    how,
    bytes: meta!.size,
    commit: () => body,
    discard() {},
  });
  if (o.offline) {
    if (!meta) throw new FetchError(`${showUrl(url)}: --offline and nothing in the cache (${o.cacheDir})`);
    return cached('offline');
  }
  const headers: Record<string, string> = {};
  if (meta?.etag) headers['if-none-match'] = meta.etag;
  if (meta?.lastModified) headers['if-modified-since'] = meta.lastModified;
  const partial = path.join(o.cacheDir, `${key}.partial-${process.pid}`);
  let r: Response;
  try {
    r = await request(url, headers, partial, o);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  if (r.status === 304) {
    if (!meta) throw new FetchError(`${showUrl(url)}: 304 Not Modified but nothing in the cache`);
    return cached(304);
  }
  return {
    url,
    file: partial,
    how: 200,
    bytes: r.bytes,
    commit() {
      renameSync(partial, body);
      const m: CacheMeta = { url, etag: r.etag, lastModified: r.lastModified, size: r.bytes, fetchedAt: new Date().toISOString() };
      writeFileSync(metaFile, `${JSON.stringify(m)}\n`, { mode: 0o600 });
      return body;
    },
    discard() {
      rmSync(partial, { force: true });
    },
  };
}
