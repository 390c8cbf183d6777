/**
 * Reading a file a config names, within a size limit: a config or list path may name anything (`/dev/zero`, a FIFO, a
 * 10 GB log), and neither blocking on it nor reading it whole is acceptable. Only regular files are read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type BoundedText = { text: string } | { error: string };

/** The file's text (UTF-8), or why it was not read. Never throws. */
export function readBoundedText(file: string, maxBytes: number): BoundedText {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return { error: reason(err) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: st.isDirectory() ? 'is a directory' : 'is not a regular file' };
    if (st.size > maxBytes) return { error: `is ${st.size} bytes, more than the ${maxBytes} read` };
    // The size may change while reading: read at most maxBytes + 1 to notice growth past the limit.
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(st.size, 4096) + 1));
    let got = 0;
    for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
    if (got > maxBytes) return { error: `is more than the ${maxBytes} bytes read` };
    return { text: buf.toString('utf8', 0, got) };
  } catch (err) {
    return { error: reason(err) };
  } finally {
    closeSync(fd);
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return `cannot read (${code}: permission denied)`;
  return `cannot read (${code})`;
}
