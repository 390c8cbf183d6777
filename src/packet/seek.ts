/**
 * Reading records of a capture file by their byte offset (CaptureRecord.offset), without reading the file up to
 * them: the store's pcap cut reads a flow's few packets out of gigabytes of captures. The file's states
 * (CaptureState: its pcap header, or its pcapng sections and interfaces, each with the offset it starts at) are
 * those the reader reported when the file was first read; a record is parsed with the last state before it, by the
 * same parser as a whole read, so it comes out exactly as it did then.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CaptureFormatError, CaptureParser, type CaptureRecord, type CaptureState } from './pcap.js';

/** Bytes a scan reads at a time. */
const WINDOW = 256 * 1024;
/** Bytes first read for one record: an Ethernet frame and its record header fit (a larger record reads more). */
const RECORD_READ = 2048;
/** Largest record or block read whole (pcapng's block limit in the reader, and some room). */
const MAX_READ = 64 * 1024 * 1024 + 4096;

export class CaptureSeeker {
  private handle: FileHandle | undefined;
  private winStart = 0;
  private win: Uint8Array = new Uint8Array(0);
  private size = 0;

  /**
   * `states`: [offset, state] in file order; `complete` false when states after the last one given were not kept
   * (records past it are then found by reading on from it).
   */
  constructor(
    readonly path: string,
    private readonly states: readonly (readonly [number, CaptureState])[],
    private readonly complete = true,
  ) {}

  async open(): Promise<void> {
    try {
      this.handle = await open(this.path, 'r');
      this.size = (await this.handle.stat()).size;
    } catch (err) {
      throw new CaptureFormatError(this.path, 0, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }

  /** The state a record at `offset` is read with: the last one at or before it. */
  private stateAt(offset: number): readonly [number, CaptureState] {
    let lo = 0;
    let hi = this.states.length - 1;
    if (hi < 0 || this.states[0]![0] > offset) throw new CaptureFormatError(this.path, offset, 'no capture header before this offset');
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.states[mid]![0] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.states[lo]!;
  }

  /**
   * `length` bytes from `offset` (fewer at the end of the file), from the window when it holds them; else a new
   * window of `ahead` bytes at least, so records read next are in it.
   */
  private async bytes(offset: number, length: number, ahead = WINDOW): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    if (offset >= this.winStart && end <= this.winStart + this.win.length) {
      return this.win.subarray(offset - this.winStart, end - this.winStart);
    }
    const n = Math.max(ahead, end - offset);
    const buf = new Uint8Array(Math.min(n, Math.max(0, this.size - offset)));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.handle!.read(buf, got, buf.length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.winStart = offset;
    this.win = buf.subarray(0, got);
    return this.win.subarray(0, Math.min(got, end - offset));
  }

  /**
   * The record that starts at `offset` (as the whole read gave it). `ahead`: bytes from `offset` worth reading at
   * once because the next records asked for are there (a flow's packets close together are then one read; far apart,
   * each is a small read, not a window of other flows' packets).
   */
  async readAt(offset: number, ahead = RECORD_READ): Promise<CaptureRecord> {
    if (this.handle === undefined) throw new Error('CaptureSeeker: open() first');
    const [from, state] = this.stateAt(offset);
    const last = this.states[this.states.length - 1]!;
    if (!this.complete && from === last[0] && offset > from) {
      // states past the last kept one are unknown: read on from it
      for await (const r of this.scan(from, offset)) if (r.offset === offset) return r;
      throw new CaptureFormatError(this.path, offset, 'no record starts at this offset');
    }
    for (let want = RECORD_READ; ; want *= 8) {
      const parser = CaptureParser.resume(this.path, state, offset);
      const b = await this.bytes(offset, Math.min(want, MAX_READ), Math.max(ahead, want));
      parser.push(b);
      const r = parser.next();
      if (r !== undefined) {
        if (r.offset !== offset) throw new CaptureFormatError(this.path, offset, 'no record starts at this offset');
        return r;
      }
      if (b.length < want || want >= MAX_READ) throw new CaptureFormatError(this.path, offset, 'truncated: the record runs past the end of the file');
    }
  }

  /** The records whose offsets are in [from, to], read on from `from` (a record's or header's start). */
  async *scan(from: number, to: number): AsyncGenerator<CaptureRecord, void, undefined> {
    if (this.handle === undefined) throw new Error('CaptureSeeker: open() first');
    const [, state] = this.stateAt(from);
    const parser = CaptureParser.resume(this.path, state, from);
    let at = from;
    while (at < this.size) {
      const b = await this.bytes(at, WINDOW);
      if (b.length === 0) break;
      // a window is never written again once read (each read makes a new one), so the parser may keep views of it
      parser.push(b);
      at += b.length;
      for (let r = parser.next(); r !== undefined; r = parser.next()) {
        if (r.offset > to) return;
        if (r.offset >= from) yield r;
      }
    }
  }
}
