/**
 * http_inspect URI normalisation with Snort 2.9's default server settings: %XX (ASCII) decoding,
 * UTF-8 decoding of overlong %-encoded sequences that stand for ASCII (%c0%af -> "/"), IIS %uXXXX
 * decoding (code points below 0x100 become that byte, others become "?", as without an IIS map),
 * IIS backslash ("\" -> "/"), multi-slash ("//" -> "/") and directory normalisation ("/./" and
 * "/x/../" removed; ".." above the root stays at the root). Slash and directory rules stop at the
 * first "?" (the query is only decoded), as in http_inspect. Every "+" of the result, literal or decoded (%2B), is a
 * space, in the path and the query alike (see normalizeUri).
 */
export interface UriNormalizeOptions {
  /** %uXXXX decoding (profile all / iis). Default true. */
  uEncode?: boolean;
  /** Decode overlong UTF-8 %-sequences. Default true. */
  utf8?: boolean;
  /** "\" -> "/". Default true. */
  iisBackslash?: boolean;
  /** Collapse repeated slashes. Default true. */
  multiSlash?: boolean;
  /** Remove "./" and "x/../" segments. Default true. */
  directory?: boolean;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** The byte %XX at i stands for, or -1 when b[i] does not start a valid %XX. */
function pctValue(b: Uint8Array, i: number): number {
  if (b[i] !== 0x25 || i + 2 >= b.length) return -1;
  const h = hexVal(b[i + 1]);
  const l = hexVal(b[i + 2]);
  return h >= 0 && l >= 0 ? (h << 4) | l : -1;
}

/** Decode %XX, %uXXXX and overlong UTF-8 sequences into a new byte array. */
export function percentDecode(b: Uint8Array, opts: UriNormalizeOptions = {}): Uint8Array {
  const uEncode = opts.uEncode ?? true;
  const utf8 = opts.utf8 ?? true;
  const out = new Uint8Array(b.length);
  let o = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c === 0x25 && uEncode && i + 5 < b.length + 0 && (b[i + 1] | 0x20) === 0x75) {
      const a = hexVal(b[i + 2]),
        bb = hexVal(b[i + 3]),
        cc = hexVal(b[i + 4]),
        d = hexVal(b[i + 5]);
      if (a >= 0 && bb >= 0 && cc >= 0 && d >= 0) {
        const cp = (a << 12) | (bb << 8) | (cc << 4) | d;
        out[o++] = cp < 0x100 ? cp : 0x3f;
        i += 6;
        continue;
      }
    }
    // the byte's value and width (3 for %XX, else 1) without an array per byte
    const pv = pctValue(b, i);
    const v = pv >= 0 ? pv : c;
    const w = pv >= 0 ? 3 : 1;
    if (utf8 && w === 3 && (v & 0xe0) === 0xc0 && i + w < b.length) {
      // two-byte UTF-8 sequence, second byte possibly %-encoded too
      const pv2 = pctValue(b, i + w);
      const v2 = pv2 >= 0 ? pv2 : b[i + w];
      const w2 = pv2 >= 0 ? 3 : 1;
      if ((v2 & 0xc0) === 0x80) {
        const cp = ((v & 0x1f) << 6) | (v2 & 0x3f);
        if (cp < 0x80) {
          out[o++] = cp;
          i += w + w2;
          continue;
        }
      }
    }
    out[o++] = v;
    i += w;
  }
  return out.subarray(0, o);
}

/**
 * Whether normalizeUri can change `raw`: a "%" or a "+" anywhere, or before the query a "\\", "//" or "/.". Without
 * them every rule leaves every byte as it is, and the URI is its own normal form (most URIs: no decoding pass for them).
 */
function mayChange(raw: Uint8Array): boolean {
  let path = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x25 || c === 0x2b) return true;
    if (!path) continue;
    if (c === 0x3f) path = false;
    else if (c === 0x5c) return true;
    else if (c === 0x2f && (raw[i + 1] === 0x2f || raw[i + 1] === 0x2e)) return true;
  }
  return false;
}

/**
 * Full URI normalisation: decoding, then backslash / multi-slash / directory rules on the path. A "+" becomes a space:
 * Snort 2.9.20 HttpInspect normalization/hi_norm.c GetDecodedByte turns every byte that decodes to '+' (so "%2B" too)
 * into 0x20 after the %-, %u- and UTF-8 decoding, whatever the server profile; hi_client.c's SetPlusNorm makes a "+"
 * anywhere in the URI start normalisation, so a URI with one is never handed out raw as http_uri.
 */
export function normalizeUri(raw: Uint8Array, opts: UriNormalizeOptions = {}): Uint8Array {
  // a copy all the same: callers may keep the URI while the bytes it was read from are reused (the gateway's window)
  return mayChange(raw) ? normalizeUriFully(raw, opts) : new Uint8Array(raw);
}

/** Whether the path segment that starts at k ends there: "/", a backslash (iisBackslash), the query or the end. */
function segEnd(d: Uint8Array, k: number, q: number, backslash: boolean): boolean {
  return k >= q || d[k] === 0x2f || (backslash && d[k] === 0x5c);
}

/** normalizeUri without the shortcut for URIs it leaves as they are (exported for the test that holds the two equal). */
export function normalizeUriFully(raw: Uint8Array, opts: UriNormalizeOptions = {}): Uint8Array {
  const d = percentDecode(raw, opts);
  for (let k = 0; k < d.length; k++) if (d[k] === 0x2b) d[k] = 0x20;
  const backslash = opts.iisBackslash ?? true;
  const multi = opts.multiSlash ?? true;
  const dir = opts.directory ?? true;
  let q = d.indexOf(0x3f);
  if (q < 0) q = d.length;
  const out = new Uint8Array(d.length);
  let o = 0;
  /** Offsets in `out` where each path segment starts (after its "/"). */
  const segStarts: number[] = [];
  let i = 0;
  while (i < q) {
    let c = d[i];
    if (backslash && c === 0x5c) c = 0x2f;
    if (c === 0x2f) {
      if (multi && o > 0 && out[o - 1] === 0x2f) {
        i++;
        continue;
      }
      if (dir) {
        // look at the segment that follows: "." or ".." followed by "/", "\", "?" or the end
        if (d[i + 1] === 0x2e && segEnd(d, i + 2, q, backslash)) {
          i += 2;
          if (i >= q && (o === 0 || out[o - 1] !== 0x2f)) out[o++] = 0x2f;
          continue;
        }
        if (d[i + 1] === 0x2e && d[i + 2] === 0x2e && segEnd(d, i + 3, q, backslash)) {
          // drop the last segment written (stay at root when there is none)
          if (segStarts.length > 0) o = segStarts.pop()! - 1;
          i += 3;
          if (i >= q) out[o++] = 0x2f;
          continue;
        }
      }
      out[o++] = 0x2f;
      segStarts.push(o);
      i++;
      continue;
    }
    out[o++] = c;
    i++;
  }
  // a leading "/" lost by collapsing is restored
  out.set(d.subarray(q), o);
  o += d.length - q;
  return out.subarray(0, o);
}
