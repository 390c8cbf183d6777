/** Big-endian readers on Uint8Array (faster than a DataView per frame) and address formatting. */

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Uint8Array, o: number): number {
  return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Dotted quad or RFC 5952 text for 4 or 16 address bytes. */
export function formatIp(a: Uint8Array): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  // longest run of zero words (length >= 2) becomes "::"
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Parse an IPv4 dotted quad or IPv6 text address into bytes; undefined if invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) {
    let s = text;
    const lastColon = s.lastIndexOf(':');
    const last = s.slice(lastColon + 1);
    if (last.includes('.')) {
      const v4 = parseIp(last);
      if (v4 === undefined || v4.length !== 4) return undefined;
      s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
    }
    const halves = s.split('::');
    if (halves.length > 2) return undefined;
    const parse = (h: string): number[] | undefined => {
      if (h === '') return [];
      const out: number[] = [];
      for (const part of h.split(':')) {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
        out.push(parseInt(part, 16));
      }
      return out;
    };
    const head = parse(halves[0]);
    const rest = halves.length === 2 ? parse(halves[1]) : [];
    if (head === undefined || rest === undefined) return undefined;
    let words: number[];
    if (halves.length === 2) {
      const fill = 8 - head.length - rest.length;
      if (fill < 1) return undefined;
      words = [...head, ...new Array<number>(fill).fill(0), ...rest];
    } else words = head;
    if (words.length !== 8) return undefined;
    const out = new Uint8Array(16);
    words.forEach((w, i) => {
      out[i * 2] = w >> 8;
      out[i * 2 + 1] = w & 0xff;
    });
    return out;
  }
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** The parts one after the other, in a new array (the part itself when there is only one). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
