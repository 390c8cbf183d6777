/**
 * JSON as the artifact stores it (artifact.ts): plain JSON in which every byte array (a Uint8Array, a Buffer
 * included) is written as {"$b": base64}. Compile time only; the artifact's reader revives the byte arrays.
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
 * Values stringified per call: enough that the per-call cost vanishes, few enough that one call's text stays far
 * below V8's longest string (~512 MB) whatever the rule set (an ET rule's plan is about 1 KB, the largest 7 KB).
 */
const VALUES_PER_CALL = 4096;

/** Values as JSON texts (storedJson) one after the other, and where each starts (one more offset: the end). */
export function jsonBlob(values: readonly unknown[]): { blob: Buffer; offsets: Uint32Array } {
  const chunks: Buffer[] = [];
  const bounds: Uint32Array[] = [];
  let total = 0;
  for (let from = 0; from < values.length; from += VALUES_PER_CALL) {
    const part = values.slice(from, from + VALUES_PER_CALL);
    const text = Buffer.from(storedJson(part), 'utf8');
    const b = elementBounds(text, part.length);
    chunks.push(text);
    bounds.push(b);
    for (let i = 0; i < part.length; i++) total += b[2 * i + 1]! - b[2 * i]!;
  }
  const blob = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(values.length + 1);
  let at = 0;
  let n = 0;
  chunks.forEach((text, c) => {
    const b = bounds[c]!;
    for (let i = 0; i < b.length; i += 2) {
      offsets[n++] = at;
      at += text.copy(blob, at, b[i]!, b[i + 1]!);
    }
  });
  offsets[n] = at;
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
