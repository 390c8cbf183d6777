/**
 * Capture file reader: classic pcap (both byte orders, microsecond and nanosecond magic) and pcapng
 * (sections of either byte order; IDB with per-interface link type, if_tsresol and if_tsoffset;
 * EPB, SPB and the obsolete OPB; every other block skipped).
 *
 * `readCapture(bytes)` parses a buffer; `openCapture(path)` streams a file in chunks so a capture
 * larger than memory can be read. Both yield records in file order. A truncated or malformed file
 * yields every record before the problem, then throws `CaptureFormatError` naming the file and the
 * byte offset: never any other exception, whatever the bytes.
 *
 * The writer (`PcapWriter`, daily rotation) and the in-memory encoders live in pcap-writer.ts and
 * pcap-encode.ts and are re-exported here.
 */
import type { NativeHandle } from '../native/engine.js';
import { open } from 'node:fs/promises';
import { MAX_TIMESTAMP_SEC } from './time.js';

export { PcapWriter, type PcapWriterOptions, type PacketToWrite } from './pcap-writer.js';
export {
  encodePcap,
  encodePcapHeader,
  encodePcapRecord,
  encodePcapng,
  type PcapEncodeOptions,
  type PcapngEncodeOptions,
  type PcapngInterface,
  type PcapngPacket,
} from './pcap-encode.js';

export interface CaptureRecord {
  /** LINKTYPE_* of the interface the packet was captured on. */
  linktype: number;
  /** Seconds since the epoch. */
  tsSec: number;
  /** Microseconds within the second (0..999999); finer resolutions are truncated. */
  tsUsec: number;
  /** The captured bytes (may be shorter than origLen when the capture was cut at snaplen). */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  origLen: number;
  /**
   * Byte offset in the file of the record (a classic pcap's 16-byte record header, a pcapng packet block): with the
   * capture's CaptureState there, `readRecordAt` reads the record again without reading the file up to it.
   */
  offset: number;
}

/**
 * What a reader needs to know to read a record in the middle of a file: the classic pcap header's fields, or the
 * current pcapng section's byte order and interfaces (bigints as decimal text, so the state is plain JSON). A file
 * has one per pcap header, section header and interface block; a record uses the last one before it.
 */
export type CaptureState =
  | { format: 'pcap'; little: boolean; nano: boolean; snaplen: number; linktype: number }
  | { format: 'pcapng'; little: boolean; interfaces: { linktype: number; snaplen: number; unitsPerSec: string; tsOffset: string }[] };

/** A capture file that cannot be read further. `offset` is the byte where the problem starts. */
export class CaptureFormatError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${file}: byte ${offset}: ${detail}`);
    this.name = 'CaptureFormatError';
  }
}

/** copyFrame's slab size, and the size from which a frame gets an ArrayBuffer of its own (as in Node's buffer pool). */
const SLAB = 8192;
const SLAB_MAX_FRAME = SLAB >>> 1;
let slab = new ArrayBuffer(SLAB);
let slabUsed = 0;

/**
 * A copy of a frame's bytes, as a plain Uint8Array. Frames under 4 KiB are copied into 8 KiB slabs shared by the
 * frames that follow, instead of an ArrayBuffer of their own: allocating one per frame cost 1.5 µs, a third of
 * decoding the frame. (Node's buffer pool does the same, but hands out a Buffer, and a plain view of it was a second
 * object per frame.) A frame kept by a flow (a queued segment) keeps its slab; the flow table's limits bound how
 * many are kept.
 */
export function copyFrame(view: Uint8Array, start = 0, end = view.length): Uint8Array {
  const n = end - start;
  if (n >= SLAB_MAX_FRAME) return view.slice(start, end);
  if (slabUsed + n > SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  out.set(start === 0 && end === view.length ? view : view.subarray(start, end));
  // (8-byte aligned, as the pool aligns its buffers)
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/** The largest store a parser keeps between records (CaptureParser.store): four read chunks' worth. */
const STORE_KEEP_MAX = 4 << 20;

/** Magic numbers (as read big-endian from the first four bytes). */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const BT_IDB = 0x00000001;
const BT_OPB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;

/**
 * libpcap's MAXIMUM_SNAPLEN: no link type's frame is larger. A record larger than this and than the file's snaplen is
 * garbage (an error); a larger one the snaplen allows is cut to its first MAX_RECORD bytes and the rest skipped as it
 * is read (counted in CaptureNotes), so a file claiming snaplen 0xffffffff never makes the reader hold a huge record.
 */
export const MAX_RECORD = 262144;
/** Largest pcapng block accepted (guards against a garbage length asking for gigabytes). */
const MAX_BLOCK = 64 * 1024 * 1024;
/** pcapng blocks larger than this are not held whole: a packet block's first MAX_RECORD bytes are read, the rest skipped. */
const MAX_HELD_BLOCK = MAX_RECORD + 4096;
/**
 * Capture times past MAX_TIMESTAMP_SEC (9999-12-31T23:59:59Z: a pcapng timestamp in the wrong unit, or garbage) are
 * clamped to it, and times before 1970 (a negative if_tsoffset) to 0, counted in CaptureNotes: alerts and Sebek
 * records keep a printable time, and nothing else of the capture is lost.
 */

/**
 * What the reader changed without stopping, counted, with the byte offset of the first record of each kind: the
 * commands print one line per kind (`file: byte N: ...`), never one per record.
 */
export class CaptureNotes {
  clampedTimestamps = 0;
  firstClamped = -1;
  clampedDetail = '';
  cutRecords = 0;
  firstCut = -1;
  firstCutLength = 0;
  /** Bytes skipped beyond MAX_RECORD (cut records) or in skipped oversized blocks. */
  skippedBytes = 0;

  get any(): boolean {
    return this.clampedTimestamps > 0 || this.cutRecords > 0;
  }

  clamped(offset: number, detail: string): void {
    if (this.clampedTimestamps++ === 0) {
      this.firstClamped = offset;
      this.clampedDetail = detail;
    }
  }

  cut(offset: number, length: number, skipped: number): void {
    if (this.cutRecords++ === 0) {
      this.firstCut = offset;
      this.firstCutLength = length;
    }
    this.skippedBytes += skipped;
  }

  /** One line per kind of change, `file: byte N: ...` (no prefix, no newline). */
  lines(file: string): string[] {
    const out: string[] = [];
    const more = (n: number) => (n > 1 ? `; ${n} records in all` : '');
    if (this.clampedTimestamps > 0) {
      out.push(
        `${file}: byte ${this.firstClamped}: timestamp ${this.clampedDetail} is out of range, clamped to 1970..9999${more(this.clampedTimestamps)}`,
      );
    }
    if (this.cutRecords > 0) {
      out.push(
        `${file}: byte ${this.firstCut}: record of ${this.firstCutLength} bytes cut to its first ${MAX_RECORD} (no frame is larger)${more(this.cutRecords)}, ` +
          `${this.skippedBytes} bytes skipped`,
      );
    }
    return out;
  }
}

interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSec: bigint;
  /** if_tsoffset, seconds. */
  tsOffset: bigint;
}

/** What one parsing step found: more input needed, a header or block without a packet, or a packet (in `rec*`). */
const MORE = 0;
const SKIP = 1;
const RECORD = 2;
type Step = typeof MORE | typeof SKIP | typeof RECORD;

/**
 * Incremental parser: feed bytes with `push`, take records with `next`, call `finish` at end of
 * input. Offsets in errors are absolute in the file.
 */
export class CaptureParser {
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(this.buf.buffer);
  /** Absolute file offset of buf[0]. */
  private base = 0;
  /** Parse position within buf. */
  private pos = 0;
  private format: 'unknown' | 'pcap' | 'pcapng' = 'unknown';
  private little = false;
  // pcap
  private pcapLinktype = 0;
  private pcapSnaplen = 0;
  private pcapNano = false;
  // pcapng
  private interfaces: Interface[] = [];
  // the packet the last step found (no object per packet: the fields are read by next() or nextView())
  private recLinktype = 0;
  private recTsSec = 0;
  private recTsUsec = 0;
  private recStart = 0;
  private recLength = 0;
  private recOrigLen = 0;
  private recOffset = 0;
  /** Bytes still to be skipped (the rest of a cut record or of a skipped block), as they arrive. */
  private skipLeft = 0;
  /**
   * Bytes carried from one push to the next live in `store` (buf is then store[storeStart, storeEnd), `inStore`):
   * appended in place and reallocated at twice the size, so a record arriving over many chunks is copied a bounded
   * number of times (a merge per push copied a 200 MB record 200 times). Once the store is full the bytes left are
   * moved to its front, and it is kept while buf is a chunk: one store for the whole file, not a fresh 2 MB array
   * every other megabyte (each a page fault per 4 KB, and external memory that hastens V8's collections). Nothing
   * handed out keeps a view of it: `next` copies, `bytes()` is valid until the next push.
   */
  private store: Uint8Array | undefined;
  private inStore = false;
  private storeStart = 0;
  private storeEnd = 0;

  /** Told each new CaptureState with the byte offset where it starts to apply: just after the header or block that set it. */
  onState: ((offset: number, state: CaptureState) => void) | undefined = undefined;

  constructor(
    readonly file: string,
    readonly notes: CaptureNotes = new CaptureNotes(),
  ) {}

  /**
   * A parser that reads on from `offset`, a record's or block's start in a file whose state there is `state` (what
   * onState reported before that offset): bytes pushed are the file's from `offset`.
   */
  static resume(file: string, state: CaptureState, offset: number): CaptureParser {
    const p = new CaptureParser(file);
    p.base = offset;
    p.format = state.format;
    p.little = state.little;
    if (state.format === 'pcap') {
      p.pcapNano = state.nano;
      p.pcapSnaplen = state.snaplen;
      p.pcapLinktype = state.linktype;
    } else {
      p.interfaces = state.interfaces.map((i) => ({
        linktype: i.linktype,
        snaplen: i.snaplen,
        unitsPerSec: BigInt(i.unitsPerSec),
        tsOffset: BigInt(i.tsOffset),
      }));
    }
    return p;
  }

  /** The state records from here on are read with (after the file header). */
  state(): CaptureState | undefined {
    if (this.format === 'pcap')
      return { format: 'pcap', little: this.little, nano: this.pcapNano, snaplen: this.pcapSnaplen, linktype: this.pcapLinktype };
    if (this.format === 'pcapng')
      return {
        format: 'pcapng',
        little: this.little,
        interfaces: this.interfaces.map((i) => ({
          linktype: i.linktype,
          snaplen: i.snaplen,
          unitsPerSec: String(i.unitsPerSec),
          tsOffset: String(i.tsOffset),
        })),
      };
    return undefined;
  }

  private stateChanged(at: number): void {
    if (this.onState !== undefined) this.onState(this.base + at, this.state()!);
  }

  /** Append bytes read from the file. */
  push(chunk: Uint8Array): void {
    const rest = this.buf.length - this.pos;
    this.base += this.pos;
    if (rest === 0) {
      this.buf = chunk;
      this.inStore = false;
      // a store grown for one huge record is let go (kept, it would hold that memory for the rest of the file)
      if (this.store !== undefined && this.store.length > STORE_KEEP_MAX) this.store = undefined;
    } else {
      let store = this.store;
      if (this.inStore && store !== undefined && store.length - this.storeEnd >= chunk.length) {
        store.set(chunk, this.storeEnd);
        this.storeStart += this.pos;
        this.storeEnd += chunk.length;
      } else if (store !== undefined && store.length >= rest + chunk.length) {
        // the bytes left to the front (copyWithin: they may overlap where they go), then the chunk after them
        if (this.inStore) store.copyWithin(0, this.storeStart + this.pos, this.storeEnd);
        else store.set(this.buf.subarray(this.pos), 0);
        store.set(chunk, rest);
        this.storeStart = 0;
        this.storeEnd = rest + chunk.length;
      } else {
        const next = new Uint8Array(Math.max(2 * (rest + chunk.length), 65536));
        next.set(this.buf.subarray(this.pos), 0);
        next.set(chunk, rest);
        store = next;
        this.store = next;
        this.storeStart = 0;
        this.storeEnd = rest + chunk.length;
      }
      this.inStore = true;
      this.buf = store.subarray(this.storeStart, this.storeEnd);
    }
    this.pos = 0;
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Next record from the bytes pushed so far (its bytes a copy, safe to keep), or undefined if more input is needed. */
  next(): CaptureRecord | undefined {
    if (!this.nextView()) return undefined;
    return {
      linktype: this.recLinktype,
      tsSec: this.recTsSec,
      tsUsec: this.recTsUsec,
      data: copyFrame(this.bytes()),
      origLen: this.recOrigLen,
      offset: this.recOffset,
    };
  }

  /**
   * Moves to the next record without making one: false if more input is needed; else its fields are `linktype`,
   * `tsSec`, `tsUsec`, `origLen` and `bytes()`, a view of its bytes valid until the next push (for a reader that
   * copies them elsewhere at once).
   */
  nextView(): boolean {
    for (;;) {
      const step = this.step();
      if (step === RECORD) return true;
      if (step === MORE) return false;
    }
  }

  get linktype(): number {
    return this.recLinktype;
  }

  get tsSec(): number {
    return this.recTsSec;
  }

  get tsUsec(): number {
    return this.recTsUsec;
  }

  get origLen(): number {
    return this.recOrigLen;
  }

  /** Where the record starts in the file (CaptureRecord.offset). */
  get offset(): number {
    return this.recOffset;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(this.recStart, this.recStart + this.recLength);
  }

  /**
   * The bytes pushed and not yet parsed, and those of the records walkPcap last walked (valid until the next push):
   * their starts and lengths in `out` are offsets in it.
   */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /**
   * A classic pcap's next records, walked by `walk` (the addon's captureWalk) instead of one step each: as many
   * ordinary records as follow (whole in the bytes pushed, at most MAX_RECORD bytes, a fraction of a second under
   * one second: those `step` reads without a note or an error), up to `out`'s capacity, their fields and the shard
   * plan's answer for each (src/flow/shard.ts) in `out` (6 numbers each, CaptureWalk). Returns how many; 0 when the next
   * record is another (nextView reads it) or the file is not a classic pcap. The parser then stands after them.
   */
  walkPcap(walk: CaptureWalk, plan: NativeHandle, out: Int32Array): number {
    if (this.format !== 'pcap' || this.skipLeft > 0) return 0;
    const n = walk(this.buf, this.pos, (this.little ? 1 : 0) | (this.pcapNano ? 2 : 0), MAX_RECORD, this.pcapLinktype, plan, out);
    if (n > 0) this.pos = out[6 * n - 6]! + out[6 * n - 5]!;
    return n;
  }

  /** The link type of a classic pcap's records. */
  get pcapLinkType(): number {
    return this.pcapLinktype;
  }

  /** `at`: where the record (pcap) or block (pcapng) starts in buf. */
  private found(linktype: number, tsSec: number, tsUsec: number, start: number, length: number, origLen: number, at: number): Step {
    if (!(tsSec >= 0 && tsSec <= MAX_TIMESTAMP_SEC && tsUsec >= 0 && tsUsec < 1_000_000)) {
      this.notes.clamped(this.base + at, `${tsSec}.${String(tsUsec).padStart(6, '0')}`);
      if (tsUsec >= 1_000_000) {
        // a classic pcap's fraction of a second at or past one second: carried into the seconds
        tsSec += Math.floor(tsUsec / 1_000_000);
        tsUsec %= 1_000_000;
      }
      if (!(tsSec >= 0)) {
        tsSec = 0;
        tsUsec = 0;
      } else if (tsSec > MAX_TIMESTAMP_SEC) {
        tsSec = MAX_TIMESTAMP_SEC;
        tsUsec = 999_999;
      }
    }
    this.recLinktype = linktype;
    this.recTsSec = tsSec;
    this.recTsUsec = tsUsec;
    this.recStart = start;
    this.recLength = length;
    this.recOrigLen = origLen;
    this.recOffset = this.base + at;
    return RECORD;
  }

  /** End of input: throws if a header or record was cut short (or the file is empty). */
  finish(): void {
    const left = this.buf.length - this.pos;
    if (this.format === 'unknown') {
      throw this.fail(0, left === 0 ? 'empty file: no capture header' : `truncated: ${left} bytes, too short for a capture header`);
    }
    if (this.skipLeft > 0) throw this.fail(this.pos, `truncated: the file ends ${this.skipLeft} bytes before the end of the record being skipped`);
    if (left > 0) {
      throw this.fail(this.pos, `truncated: ${left} trailing bytes do not make a whole ${this.format === 'pcap' ? 'record' : 'block'}`);
    }
  }

  private fail(pos: number, detail: string): CaptureFormatError {
    return new CaptureFormatError(this.file, this.base + pos, detail);
  }

  private avail(n: number): boolean {
    return this.buf.length - this.pos >= n;
  }

  private u16(at: number): number {
    return this.dv.getUint16(at, this.little);
  }

  private u32(at: number): number {
    return this.dv.getUint32(at, this.little);
  }

  private step(): Step {
    if (this.skipLeft > 0) {
      const n = Math.min(this.skipLeft, this.buf.length - this.pos);
      this.pos += n;
      this.skipLeft -= n;
      return this.skipLeft > 0 ? MORE : SKIP;
    }
    if (this.format === 'unknown') return this.readFileHeader();
    if (this.format === 'pcap') return this.readPcapRecord();
    return this.readBlock();
  }

  private readFileHeader(): Step {
    if (!this.avail(4)) return MORE;
    const magic = this.dv.getUint32(this.pos, false);
    if (magic === PCAPNG_SHB) {
      this.format = 'pcapng';
      return SKIP;
    }
    let little: boolean;
    let nano: boolean;
    switch (magic) {
      case PCAP_MAGIC_US:
        little = false;
        nano = false;
        break;
      case PCAP_MAGIC_NS:
        little = false;
        nano = true;
        break;
      case PCAP_MAGIC_US_SWAPPED:
        little = true;
        nano = false;
        break;
      case PCAP_MAGIC_NS_SWAPPED:
        little = true;
        nano = true;
        break;
      default:
        throw this.fail(this.pos, `not a pcap or pcapng file (magic 0x${hex32(magic)})`);
    }
    if (!this.avail(24)) return MORE;
    this.little = little;
    this.pcapNano = nano;
    const p = this.pos;
    const major = this.u16(p + 4);
    if (major !== 2) throw this.fail(p + 4, `unsupported pcap version ${major}.${this.u16(p + 6)} (expected 2.x)`);
    this.pcapSnaplen = this.u32(p + 16);
    this.pcapLinktype = this.u32(p + 20) & 0xffff;
    this.format = 'pcap';
    this.stateChanged(p + 24);
    this.pos += 24;
    return SKIP;
  }

  private readPcapRecord(): Step {
    if (!this.avail(16)) return MORE;
    const p = this.pos;
    const tsSec = this.u32(p);
    const frac = this.u32(p + 4);
    const inclLen = this.u32(p + 8);
    const origLen = this.u32(p + 12);
    const limit = Math.max(this.pcapSnaplen, MAX_RECORD);
    if (inclLen > limit) {
      throw this.fail(p + 8, `record captured length ${inclLen} exceeds the snaplen ${limit} (garbage or corrupt record header)`);
    }
    const held = Math.min(inclLen, MAX_RECORD);
    if (!this.avail(16 + held)) return MORE;
    if (held < inclLen) {
      this.notes.cut(this.base + p, inclLen, inclLen - held);
      this.skipLeft = inclLen - held;
    }
    this.pos += 16 + held;
    return this.found(this.pcapLinktype, tsSec, this.pcapNano ? Math.floor(frac / 1000) : frac, p + 16, held, origLen, p);
  }

  private readBlock(): Step {
    if (!this.avail(8)) return MORE;
    const p = this.pos;
    const rawType = this.dv.getUint32(p, false);
    if (rawType === PCAPNG_SHB) {
      // A new section: its byte-order magic sets the endianness of everything up to the next SHB.
      if (!this.avail(12)) return MORE;
      const bom = this.dv.getUint32(p + 8, false);
      if (bom === PCAPNG_BOM) this.little = false;
      else if (bom === 0x4d3c2b1a) this.little = true;
      else throw this.fail(p + 8, `pcapng section header: bad byte-order magic 0x${hex32(bom)}`);
      this.interfaces = [];
    }
    const type = this.u32(p);
    const total = this.u32(p + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
      throw this.fail(p + 4, `pcapng block length ${total} is invalid (must be a multiple of 4, 12..${MAX_BLOCK})`);
    }
    if (total > MAX_HELD_BLOCK && type !== PCAPNG_SHB && type !== BT_IDB) return this.readLargeBlock(p, type, total);
    if (!this.avail(total)) return MORE;
    const trailer = this.u32(p + total - 4);
    if (trailer !== total) {
      throw this.fail(p + total - 4, `pcapng block length mismatch: header says ${total}, trailer says ${trailer}`);
    }
    const body = p + 8;
    const bodyLen = total - 12;
    let step: Step = SKIP;
    switch (type) {
      case PCAPNG_SHB:
        if (bodyLen < 16) throw this.fail(p, `pcapng section header block too short (${total} bytes)`);
        {
          const major = this.u16(body + 4);
          if (major !== 1) throw this.fail(body + 4, `unsupported pcapng version ${major}.${this.u16(body + 6)} (expected 1.x)`);
        }
        this.stateChanged(p + total);
        break;
      case BT_IDB:
        this.readIdb(p, body, bodyLen);
        this.stateChanged(p + total);
        break;
      case BT_EPB:
        step = this.readEpb(p, body, bodyLen, false);
        break;
      case BT_OPB:
        step = this.readEpb(p, body, bodyLen, true);
        break;
      case BT_SPB:
        step = this.readSpb(p, body, bodyLen);
        break;
      default:
        break; // unknown, custom, name resolution, statistics...: skipped
    }
    this.pos += total;
    return step;
  }

  /**
   * A block too large to hold: a packet block gives its first MAX_RECORD bytes of data (its options and trailer are
   * skipped unread), any other block is skipped; either way the rest is skipped as it is read, and counted.
   */
  private readLargeBlock(p: number, type: number, total: number): Step {
    const isPacket = type === BT_EPB || type === BT_OPB || type === BT_SPB;
    const head = type === BT_SPB ? 12 : 28;
    if (!isPacket) {
      this.notes.cut(this.base + p, total, total);
      this.skipLeft = total;
      return SKIP;
    }
    if (!this.avail(head + MAX_RECORD)) return MORE;
    const body = p + 8;
    const bodyLen = total - 12;
    const step = type === BT_SPB ? this.readSpb(p, body, bodyLen) : this.readEpb(p, body, bodyLen, type === BT_OPB);
    const held = Math.min(this.recLength, MAX_RECORD);
    if (held < this.recLength) this.notes.cut(this.base + p, this.recLength, this.recLength - held);
    this.recLength = held;
    this.pos = this.recStart + held;
    this.skipLeft = p + total - this.pos;
    return step;
  }

  private readIdb(p: number, body: number, bodyLen: number): void {
    if (bodyLen < 8) throw this.fail(p, `pcapng interface description block too short (${bodyLen + 12} bytes)`);
    const iface: Interface = {
      linktype: this.u16(body),
      snaplen: this.u32(body + 4),
      unitsPerSec: 1_000_000n,
      tsOffset: 0n,
    };
    const end = body + bodyLen;
    let o = body + 8;
    while (o + 4 <= end) {
      const code = this.u16(o);
      const len = this.u16(o + 2);
      const val = o + 4;
      if (code === 0) break; // opt_endofopt
      if (val + len > end) throw this.fail(o, `pcapng interface option ${code} length ${len} runs past the block`);
      if (code === 9 && len >= 1) {
        const r = this.buf[val];
        const exp = BigInt(r & 0x7f);
        if ((r & 0x80) === 0) {
          if (exp > 18n) throw this.fail(val, `pcapng if_tsresol 10^-${exp} is not supported`);
          iface.unitsPerSec = 10n ** exp;
        } else {
          if (exp > 63n) throw this.fail(val, `pcapng if_tsresol 2^-${exp} is not supported`);
          iface.unitsPerSec = 1n << exp;
        }
      } else if (code === 14 && len >= 8) {
        iface.tsOffset = this.little ? this.dv.getBigInt64(val, true) : this.dv.getBigInt64(val, false);
      }
      o = val + ((len + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  private iface(id: number, at: number): Interface {
    const i = this.interfaces[id];
    if (i === undefined) {
      throw this.fail(at, `pcapng packet names interface ${id}, but only ${this.interfaces.length} interface(s) are described in this section`);
    }
    return i;
  }

  private timestamp(i: Interface, hi: number, lo: number): { tsSec: number; tsUsec: number } {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = units / i.unitsPerSec + i.tsOffset;
    const frac = units % i.unitsPerSec;
    return { tsSec: Number(sec), tsUsec: Number((frac * 1_000_000n) / i.unitsPerSec) };
  }

  private readEpb(p: number, body: number, bodyLen: number, obsolete: boolean): Step {
    if (bodyLen < 20) throw this.fail(p, `pcapng ${obsolete ? 'packet' : 'enhanced packet'} block too short (${bodyLen + 12} bytes)`);
    const id = obsolete ? this.u16(body) : this.u32(body);
    const i = this.iface(id, body);
    const { tsSec, tsUsec } = this.timestamp(i, this.u32(body + 4), this.u32(body + 8));
    const capLen = this.u32(body + 12);
    const origLen = this.u32(body + 16);
    if (capLen > bodyLen - 20) {
      throw this.fail(body + 12, `pcapng packet captured length ${capLen} runs past the block (${bodyLen - 20} bytes of data)`);
    }
    return this.found(i.linktype, tsSec, tsUsec, body + 20, capLen, origLen, p);
  }

  private readSpb(p: number, body: number, bodyLen: number): Step {
    if (bodyLen < 4) throw this.fail(p, `pcapng simple packet block too short (${bodyLen + 12} bytes)`);
    const i = this.iface(0, body);
    const origLen = this.u32(body);
    let capLen = Math.min(origLen, bodyLen - 4);
    if (i.snaplen > 0) capLen = Math.min(capLen, i.snaplen);
    return this.found(i.linktype, 0, 0, body + 4, capLen, origLen, p);
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Records of a capture held in memory. Throws `CaptureFormatError` (after yielding every record
 * before the problem) on a truncated or malformed file. `file` names the source in errors.
 */
export function* readCapture(bytes: Uint8Array, file = '<buffer>', notes?: CaptureNotes): Generator<CaptureRecord, void, undefined> {
  const parser = new CaptureParser(file, notes);
  parser.push(bytes);
  for (let r = parser.next(); r !== undefined; r = parser.next()) yield r;
  parser.finish();
}

/**
 * The addon's walk of classic pcap records (native/src/honeywall_capture.c captureWalk): (buf, pos, flags: 1 little-
 * endian, 2 nanoseconds, maxRecord, linktype, plan, out) -> records walked, each as [start in buf, length, seconds
 * (unsigned, read with >>> 0), microseconds, length on the wire (unsigned), the shard plan's answer (ShardPlan)].
 */
export type CaptureWalk = (
  buf: Uint8Array,
  pos: number,
  flags: number,
  maxRecord: number,
  linktype: number,
  plan: NativeHandle,
  out: Int32Array,
) => number;

/** Read chunk size of `openCapture`. */
const CHUNK = 1 << 20;

/**
 * A capture file's bytes a chunk at a time, read into two arrays in turn: a chunk is pushed to the parser before the
 * next is read, and the parser keeps a view of the chunk before at most until that push (it copies what it carries
 * over), so the array read into is never one the parser still reads. (A fresh array per chunk cost a page fault per
 * 4 KB and external memory that hastens V8's collections.) Errors opening or reading the file are thrown as
 * `CaptureFormatError` (offset 0 or where reading stopped). The one file reader of openCaptureBatches and
 * visitCapture, whose parsers push each chunk at once.
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new CaptureFormatError(path, 0, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    let offset = 0;
    const arrays = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
    for (let turn = 0; ; turn ^= 1) {
      const chunk = arrays[turn]!;
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(chunk, 0, CHUNK, offset));
      } catch (err) {
        throw new CaptureFormatError(path, offset, `read failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      if (n === 0) return;
      offset += n;
      yield chunk.subarray(0, n);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Stream the records of a capture file without loading it whole, a chunk's worth at a time (an array per chunk of
 * the file: one await per megabyte, not per record). Errors opening or reading the file are also reported as
 * `CaptureFormatError` (offset 0 or where reading stopped); records before the error are handed out first.
 */
export async function* openCaptureBatches(
  path: string,
  notes?: CaptureNotes,
  onState?: CaptureParser['onState'],
): AsyncGenerator<CaptureRecord[], void, undefined> {
  const parser = new CaptureParser(path, notes);
  parser.onState = onState;
  for await (const chunk of fileChunks(path)) {
    parser.push(chunk);
    const batch: CaptureRecord[] = [];
    try {
      for (let r = parser.next(); r !== undefined; r = parser.next()) batch.push(r);
    } catch (err) {
      if (batch.length > 0) yield batch;
      throw err;
    }
    if (batch.length > 0) yield batch;
  }
  parser.finish();
}

/**
 * Streams a capture's records to `visit` without copying them or making an object per record: during the call the
 * parser's `linktype`, `tsSec`, `tsUsec`, `origLen` and `bytes()` are the record's (a reader that moves the bytes
 * elsewhere at once, like a sharded replay). `visit` may return a promise to pause reading. Resolves with the error
 * that ended reading early, if any (the records before it were visited).
 */
export async function visitCapture(
  path: string,
  visit: (r: CaptureParser) => void | Promise<void>,
  notes?: CaptureNotes,
  walked?: WalkedVisit,
): Promise<CaptureFormatError | undefined> {
  const parser = new CaptureParser(path, notes);
  try {
    for await (const chunk of fileChunks(path)) {
      parser.push(chunk);
      for (;;) {
        if (walked !== undefined) {
          const n = parser.walkPcap(walked.walk, walked.plan, walked.out);
          if (n > 0) {
            walked.visit(parser.buffer, parser.pcapLinkType, n);
            continue;
          }
        }
        if (!parser.nextView()) break;
        const r = visit(parser);
        if (r !== undefined) await r;
      }
    }
    parser.finish();
  } catch (err) {
    if (err instanceof CaptureFormatError) return err;
    throw err;
  }
  return undefined;
}

/**
 * visitCapture's batches of a classic pcap's ordinary records (CaptureParser.walkPcap): `visit` gets the parser's
 * buffer, the link type and how many records `out` holds; records walkPcap leaves to the parser go to the plain visit.
 */
export interface WalkedVisit {
  walk: CaptureWalk;
  /** The shard plan asked about every walked record (src/flow/shard.ts ShardPlan.handle). */
  plan: NativeHandle;
  out: Int32Array;
  visit: (buf: Uint8Array, linktype: number, n: number) => void;
}

/** The records of a capture file one by one (see openCaptureBatches). */
export async function* openCapture(path: string, notes?: CaptureNotes): AsyncGenerator<CaptureRecord, void, undefined> {
  for await (const batch of openCaptureBatches(path, notes)) yield* batch;
}

/** Every record that could be read, and the error that stopped reading (if any). Never throws. */
export function readCaptureAll(bytes: Uint8Array, file = '<buffer>', notes?: CaptureNotes): { records: CaptureRecord[]; error?: CaptureFormatError } {
  const records: CaptureRecord[] = [];
  try {
    for (const r of readCapture(bytes, file, notes)) records.push(r);
  } catch (err) {
    if (err instanceof CaptureFormatError) return { records, error: err };
    throw err;
  }
  return { records };
}
