/**
 * JSON as the artifact stores it (artifact.ts): plain JSON in which every byte array (a Uint8Array, a Buffer
 * included) is written as {"$b": base64}, and `revive`, which makes the byte arrays again.
 *
 * Why it is made this way: the rules' plans are 22 MB of such JSON for ET Open, and how it is made was a large part
 * of `honeywall compile`. JSON.stringify's replacer is called back for every key (slower than the stringifying), a
 * walk in JavaScript that copies the objects holding byte arrays cost as much again, and one JSON.stringify call per
 * rule costs half as much as the stringifying itself. So byte arrays are given a `toJSON` for the duration of one
 * synchronous JSON.stringify call (JSON.stringify looks `toJSON` up on every object anyway; no other code runs in
 * between), and a list of values is stringified as JSON arrays of many values at a time, each array then cut into
 * its elements at its top-level commas.
 */

interface ToJson {
  toJSON?: () => unknown;
}

function bytesToJson(this: Uint8Array): { $b: string } {
  return { $b: Buffer.from(this.buffer, this.byteOffset, this.length).toString('base64') };
}

/** Restores byte arrays ({"$b": base64}) in place, walking only objects and arrays. */
export function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === 'object') value[i] = revive(v);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') o[k] = revive(v);
  }
  return o;
}

/** JSON.stringify(value) with byte arrays as {"$b": base64}. */
export function storedJson(value: unknown): string {
  // Buffer.prototype has a toJSON of its own, found before Uint8Array's: both are set, then put back.
  const u8 = Uint8Array.prototype as ToJson;
  const buf = Buffer.prototype as ToJson;
  const bufOwn = Object.getOwnPropertyDescriptor(Buffer.prototype, 'toJSON');
  u8.toJSON = bytesToJson;
  buf.toJSON = bytesToJson;
  try {
    return JSON.stringify(value);
  } finally {
    delete u8.toJSON;
    if (bufOwn) Object.defineProperty(Buffer.prototype, 'toJSON', bufOwn);
    else delete buf.toJSON;
  }
}

/**
 * Values stringified per call. JSON.stringify gives its text as pieces joined (a cons string), which Buffer.from
 * copies into one flat string first: with 4,096 rules' plans a call (about 4 MB) that copy was a fresh large object
 * each time, whose pages faulted in (ET Open: 3,800 faults, 40-45 ms of the compile's CPU here); 64 plans (an ET
 * rule's is about 1 KB, the largest 7 KB) keep it in the young generation's pages, touched already. The compile of ET
 * Open 1.69 / 1.92 s best / median against 1.76 / 1.95 (8 interleaved rounds), 4,000 fewer faults, the same artifact.
 */
const VALUES_PER_CALL = 64;

/**
 * Values as JSON texts (storedJson) one after the other, and where each starts (one more offset: the end).
 * `elementStart`: a text every value's JSON starts with, and that no value holds inside at a place where a `,` may
 * come before it (a stored rule's `{"gid":`, which no object inside a rule starts with and no string can hold
 * unescaped): elements are then found by a native search for `,` + it (elementsByStart).
 */
export function jsonBlob(values: readonly unknown[], elementStart?: string): { blob: Buffer; offsets: Uint32Array } {
  const w = new JsonBlobWriter(elementStart);
  for (const v of values) w.add(v);
  return w.finish();
}

/**
 * jsonBlob a value at a time: each VALUES_PER_CALL values are stringified as they come, so that a caller that makes
 * them one by one (the compile's rule plans, RulePacker) lets each go at once instead of keeping a file's worth alive
 * until the end (kept, they were copied by the young generation's collections and moved to the old one).
 */
export class JsonBlobWriter {
  private readonly chunks: Buffer[] = [];
  private readonly bounds: Uint32Array[] = [];
  private readonly start: Buffer | undefined;
  private pending: unknown[] = [];
  private count = 0;
  private total = 0;

  constructor(elementStart?: string) {
    this.start = elementStart === undefined ? undefined : Buffer.from(elementStart, 'utf8');
  }

  add(value: unknown): void {
    this.pending.push(value);
    if (this.pending.length === VALUES_PER_CALL) this.flush();
  }

  private flush(): void {
    const part = this.pending;
    if (part.length === 0) return;
    this.pending = [];
    const text = Buffer.from(storedJson(part), 'utf8');
    const b = (this.start && elementsByStart(text, part.length, this.start)) ?? elementBounds(text, part.length);
    this.chunks.push(text);
    this.bounds.push(b);
    for (let i = 0; i < part.length; i++) this.total += b[2 * i + 1]! - b[2 * i]!;
    this.count += part.length;
  }

  /** The blob and offsets of the values added (the writer is done). */
  finish(): { blob: Buffer; offsets: Uint32Array } {
    this.flush();
    const blob = Buffer.allocUnsafe(this.total);
    const offsets = new Uint32Array(this.count + 1);
    let at = 0;
    let n = 0;
    this.chunks.forEach((text, c) => {
      const b = this.bounds[c]!;
      for (let i = 0; i < b.length; i += 2) {
        offsets[n++] = at;
        at += text.copy(blob, at, b[i]!, b[i + 1]!);
      }
    });
    offsets[n] = at;
    return { blob, offsets };
  }
}

/** JSON texts one after the other, and where each starts (one more offset: the end), as jsonBlob makes them. */
export function textBlob(texts: readonly string[]): { blob: Buffer; offsets: Uint32Array } {
  const offsets = new Uint32Array(texts.length + 1);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    offsets[i] = total;
    total += Buffer.byteLength(texts[i]!, 'utf8');
  }
  offsets[texts.length] = total;
  const blob = Buffer.allocUnsafe(total);
  for (let i = 0; i < texts.length; i++) blob.write(texts[i]!, offsets[i]!, 'utf8');
  return { blob, offsets };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * Where each element of a JSON array text made by JSON.stringify starts and ends ([start, end) pairs). Inside a
 * string JSON.stringify escapes `"` and `\`, and UTF-8 bytes of other characters are all >= 0x80, so a byte-wise
 * walk that skips strings finds the top-level commas. Throws when the text does not hold `count` elements.
 */
export function elementBounds(text: Uint8Array, count: number): Uint32Array {
  const out = new Uint32Array(2 * count);
  const n = text.length;
  if (count === 0) {
    if (n !== 2) throw new Error('stored JSON: an empty array expected');
    return out;
  }
  let depth = 0;
  let k = 0;
  out[0] = 1;
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (c === QUOTE) {
      // to the closing quote (an escaped character is skipped with its backslash)
      for (i++; i < n; i++) {
        const d = text[i]!;
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (--depth === 0) {
        if (i === out[2 * k]) throw new Error('stored JSON: an empty element');
        out[2 * k + 1] = i;
        k++;
        break;
      }
    } else if (c === COMMA && depth === 1) {
      out[2 * k + 1] = i;
      k++;
      if (k >= count) throw new Error('stored JSON: more elements than values');
      out[2 * k] = i + 1;
    }
  }
  if (k !== count) throw new Error(`stored JSON: ${k} elements for ${count} values`);
  return out;
}

/**
 * elementBounds for an array whose every element starts with `start`, by searching for `,` + `start` (Buffer's
 * indexOf: a twentieth of the byte walk's time over a rule set's 22 MB). Each element after the first is preceded by
 * such a match, so there are count - 1 matches or more; exactly count - 1 means there is none elsewhere. Undefined
 * when the text is not so (the caller walks it then).
 */
export function elementsByStart(text: Buffer, count: number, start: Buffer): Uint32Array | undefined {
  const n = text.length;
  if (
    count === 0 ||
    n < 2 + start.length ||
    text[n - 1] !== 0x5d /* ] */ ||
    text[0] !== 0x5b /* [ */ ||
    text.compare(start, 0, start.length, 1, 1 + start.length) !== 0
  ) {
    return undefined;
  }
  const sep = Buffer.concat([Buffer.from(','), start]);
  const out = new Uint32Array(2 * count);
  out[0] = 1;
  let k = 0;
  for (let i = text.indexOf(sep, 1); i >= 0; i = text.indexOf(sep, i + sep.length)) {
    if (++k >= count) return undefined;
    out[2 * k - 1] = i;
    out[2 * k] = i + 1;
  }
  if (k !== count - 1) return undefined;
  out[2 * count - 1] = n - 1;
  return out;
}
