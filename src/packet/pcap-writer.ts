/**
 * Append-only pcap writer with daily rotation, for the gateway's full capture.
 *
 * Files are `DIR/PREFIX-YYYY-MM-DD.pcap`, the day taken from an injectable clock (UTC by default,
 * local time with `localTime: true`). At the first write of a new day the current file is flushed and
 * closed and the next one opened. Reopening an existing file of the same day (a restart) appends to
 * it when its header has the same link type and byte order; otherwise a new `-N` suffixed file is
 * started, so nothing already captured is ever overwritten.
 *
 * Writes are buffered (`bufferBytes`, default 64 KiB) and go out with synchronous writes: call
 * `flush()` to push buffered packets to the kernel, `close()` at the end.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { concat, encodePcapHeader, encodePcapRecord } from './pcap-encode.js';

export interface PacketToWrite {
  tsSec: number;
  tsUsec: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLen?: number;
}

export interface PcapWriterOptions {
  dir: string;
  /** File name prefix (default "capture"). */
  prefix?: string;
  linktype: number;
  /** Packets longer than this are cut (origLen keeps the wire length). Default 262144. */
  snaplen?: number;
  /** Milliseconds since the epoch; default Date.now. Decides the day of the file. */
  clock?: () => number;
  /** Day boundaries in local time instead of UTC. */
  localTime?: boolean;
  /** Flush when this many bytes are buffered (default 65536). */
  bufferBytes?: number;
}

const HEADER_LEN = 24;

export class PcapWriter {
  private readonly prefix: string;
  private readonly snaplen: number;
  private readonly clock: () => number;
  private readonly bufferBytes: number;
  private fd: number | undefined;
  private day: string | undefined;
  private currentPath: string | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private closed = false;
  /** Packets and bytes written (including buffered) since construction. */
  packets = 0;
  bytes = 0;

  constructor(private readonly opts: PcapWriterOptions) {
    this.prefix = opts.prefix ?? 'capture';
    this.snaplen = opts.snaplen ?? 262144;
    this.clock = opts.clock ?? Date.now;
    this.bufferBytes = opts.bufferBytes ?? 65536;
    mkdirSync(opts.dir, { recursive: true });
  }

  /** The file being written (undefined before the first packet). */
  get path(): string | undefined {
    return this.currentPath;
  }

  write(p: PacketToWrite): void {
    if (this.closed) throw new Error('PcapWriter: write after close');
    const day = this.dayOf(this.clock());
    if (day !== this.day) this.rotate(day);
    const data = p.data.length > this.snaplen ? p.data.subarray(0, this.snaplen) : p.data;
    const rec = encodePcapRecord({ tsSec: p.tsSec, tsUsec: p.tsUsec, data, origLen: p.origLen ?? p.data.length });
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    this.packets++;
    this.bytes += rec.length;
    if (this.pendingBytes >= this.bufferBytes) this.flush();
  }

  /** Write buffered packets to the file. */
  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0] : concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    writeAll(this.fd, chunk);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.closed = true;
  }

  private dayOf(ms: number): string {
    const d = new Date(ms);
    const [y, m, dd] = this.opts.localTime
      ? [d.getFullYear(), d.getMonth() + 1, d.getDate()]
      : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    return `${y}-${String(m).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
  }

  private rotate(day: string): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const header = encodePcapHeader({ linktype: this.opts.linktype, snaplen: this.snaplen });
    for (let n = 0; ; n++) {
      const path = join(this.opts.dir, `${this.prefix}-${day}${n === 0 ? '' : `-${n}`}.pcap`);
      const fd = openSync(path, 'a+');
      const size = fstatSync(fd).size;
      if (size === 0) {
        writeAll(fd, header);
      } else if (!sameHeader(fd, header) || !endsOnRecord(fd, size)) {
        // Another format, or a record cut short by a crash: leave it as it is, start a new file.
        closeSync(fd);
        continue;
      }
      this.fd = fd;
      this.currentPath = path;
      this.day = day;
      return;
    }
  }
}

/** Does the file start with a header of the same magic, version and link type? (Snaplen may differ.) */
function sameHeader(fd: number, header: Uint8Array): boolean {
  const have = new Uint8Array(HEADER_LEN);
  const n = readSync(fd, have, 0, HEADER_LEN, 0);
  if (n < HEADER_LEN) return false;
  for (let i = 0; i < HEADER_LEN; i++) {
    if (i >= 16 && i < 20) continue; // snaplen
    if (i >= 8 && i < 16) continue; // thiszone, sigfigs
    if (have[i] !== header[i]) return false;
  }
  return true;
}

/** Do the little-endian record headers after the file header add up exactly to the file size? */
function endsOnRecord(fd: number, size: number): boolean {
  const hdr = new Uint8Array(16);
  const view = new DataView(hdr.buffer);
  let o = HEADER_LEN;
  while (o + 16 <= size) {
    if (readSync(fd, hdr, 0, 16, o) < 16) return false;
    o += 16 + view.getUint32(8, true);
  }
  return o === size;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let o = 0;
  while (o < bytes.length) o += writeSync(fd, bytes, o, bytes.length - o);
}
