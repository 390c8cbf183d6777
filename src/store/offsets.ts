/**
 * A flow's frame offsets in one capture file, stored as unsigned LEB128 varints of the differences between
 * consecutive offsets (they only grow within a file): two or three bytes a packet instead of eight.
 */

export function encodeOffsets(offsets: readonly number[]): Buffer {
  const out: number[] = [];
  let prev = 0;
  for (const o of offsets) {
    let d = o - prev;
    if (!(d >= 0) || !Number.isSafeInteger(o)) throw new RangeError(`offsets must grow: ${o} after ${prev}`);
    prev = o;
    // division, not shifts: offsets past 2^31 (captures over 2 GiB) stay exact
    while (d >= 0x80) {
      out.push((d % 0x80) | 0x80);
      d = Math.floor(d / 0x80);
    }
    out.push(d);
  }
  return Buffer.from(out);
}

export function decodeOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  let prev = 0;
  let i = 0;
  while (i < b.length) {
    let d = 0;
    let scale = 1;
    for (;;) {
      if (i >= b.length) throw new RangeError('offsets: truncated varint');
      const byte = b[i++]!;
      d += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('offsets: varint too long');
    }
    prev += d;
    out.push(prev);
  }
  return out;
}
