/**
 * Is a path a capture file at all? Asked before a command that reads captures starts, so that a directory or a
 * rules file given in place of a capture is a usage error (exit 2) with a clear message, and a damaged capture
 * (exit 1, read up to the damage) stays a different thing.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isCaptureMagic } from '../config/read-text.js';

/** Why `path` cannot be read as a capture (missing, a directory, not pcap/pcapng), or undefined. */
export function captureInputProblem(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return `${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (st.isDirectory()) return `${path} is a directory, not a capture file`;
  // a pipe or a device is read as it comes (its first bytes cannot be looked at twice); an empty file is a damaged
  // capture, reported by the reader
  if (!st.isFile() || st.size < 4) return undefined;
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, head, 0, 4, 0);
  } catch (e) {
    return `${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (isCaptureMagic(head)) return undefined;
  const text = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  return `${path}: byte 0: not a pcap or pcapng capture (magic 0x${head.toString('hex')}${text ? ': text, a rules or configuration file?' : ''})`;
}
