/** Reading a rule or configuration file as text. */
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * A file that is not text (a capture, an artifact, an executable given where rules were expected): refused whole,
 * with where the binary data starts, instead of a diagnostic for every "line" of it.
 */
export class BinaryInputError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly what: string,
  ) {
    super(`${file}: byte ${offset}: ${what}, not a text file of rules or settings`);
    this.name = 'BinaryInputError';
  }
}

/** The first four bytes of the captures honeywall reads (pcap in both byte orders, µs and ns; pcapng). */
const CAPTURE_MAGICS = new Set([0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1, 0x0a0d0d0a]);

export function isCaptureMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && CAPTURE_MAGICS.has(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0);
}

/** Why these bytes are not text, and where that shows (a capture's magic, or the first NUL byte), or undefined. */
export function binaryContent(bytes: Buffer): { offset: number; what: string } | undefined {
  if (isCaptureMagic(bytes)) return { offset: 0, what: 'a pcap/pcapng capture' };
  // no text file of Snort's has a NUL byte (Snort's own reader stops at one); nearly every binary format has many
  const nul = bytes.indexOf(0);
  return nul >= 0 ? { offset: nul, what: 'binary data (a NUL byte)' } : undefined;
}

/**
 * The file's text (UTF-8). Rule sets are nearly always plain ASCII, which is copied as is: about twice as fast as
 * decoding UTF-8 over the 20 MB of a large set. Throws BinaryInputError for a file that is not text, what the file
 * system's reads throw, and an Error for a file that tells no size and runs past `maxStreamBytes`.
 */
export function readTextFile(path: string, maxStreamBytes = MAX_STREAM_BYTES): string {
  const bytes = readBytes(path, maxStreamBytes);
  const binary = binaryContent(bytes);
  if (binary !== undefined) throw new BinaryInputError(path, binary.offset, binary.what);
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

/**
 * Regular files are read into one buffer kept for the next (the text is a copy of its bytes): a fresh buffer per file,
 * as readFileSync makes, cost ET Open's 47 files 2,100 more page faults on first touch and 120-130 ms instead of
 * 85 ms on this machine, in the thread that loads a rule set before any of it compiles. Files above the kept size
 * are read by readFileSync; pipes, devices and other files that do not tell their size by readStream.
 */
const KEPT_READ_BUFFER = 16 << 20;
let readBuffer = Buffer.alloc(0);

/**
 * What is read of a file that tells no size (a pipe, a device, /proc) before it is refused: twelve times ET Open's
 * 20 MB. Such a file is also read no further than a NUL byte or a capture's magic number, which binaryContent refuses
 * (`/dev/zero` given as rules was read until Node's 2 GiB limit).
 */
export const MAX_STREAM_BYTES = 256 << 20;
const STREAM_CHUNK = 64 << 10;

function readBytes(path: string, maxStreamBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0) return readStream(fd, maxStreamBytes);
    if (st.size > KEPT_READ_BUFFER) return readFileSync(fd);
    if (readBuffer.length < st.size) readBuffer = Buffer.allocUnsafe(Math.min(KEPT_READ_BUFFER, Math.max(st.size, 2 * readBuffer.length)));
    let n = 0;
    // (a file cut short while it is read gives what was there; one that grew, its first `size` bytes, as readFileSync)
    while (n < st.size) {
      const k = readSync(fd, readBuffer, n, st.size - n, n);
      if (k === 0) break;
      n += k;
    }
    return readBuffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function readStream(fd: number, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(STREAM_CHUNK);
    const k = readSync(fd, chunk, 0, STREAM_CHUNK, null);
    if (k === 0) break;
    const got = chunk.subarray(0, k);
    chunks.push(got);
    total += k;
    // (what binaryContent refuses is known already: read no further)
    if (got.indexOf(0) >= 0 || (chunks.length === 1 && isCaptureMagic(got))) break;
    if (total > maxBytes) throw new Error(`more than ${maxBytes} bytes, no file of rules or settings`);
  }
  return Buffer.concat(chunks, total);
}
