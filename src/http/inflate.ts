import { constants as zc, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { concat } from '../packet/bytes.js';

/**
 * Incremental decompression of HTTP bodies (`Content-Encoding: gzip` or `deflate`), one zlib stream per body.
 *
 * A body used to be inflated again from its first byte for every payload that added to it (quadratic: fuzzing found
 * 5 s for a 113 KB input). Here each body keeps one zlib stream, is given only the new compressed bytes, and hands
 * out only the new output, at most `room` bytes a payload (http_inspect's decompress_depth). The output is the same
 * as inflating everything received so far in one go with the same cap: zlib's inflate goes as far as its input and
 * output space allow, wherever the calls were split (the property test in test/http-inflate.test.ts holds this
 * module to one-shot inflation over random streams, corrupt and truncated ones included, and random splits).
 *
 * Node has no public synchronous incremental zlib API (`zlib.inflateSync` is one-shot; `_processChunk` without a
 * callback closes its handle after one call), so this drives the native handle under a zlib stream the way
 * `zlibBufferSync` in Node's lib/zlib.js does: `handle.writeSync(...)`, then the bytes left in `_writeState`. Errors
 * come to `handle.onerror` as a message, so a corrupt stream builds no Error and no stack trace.
 */

export type ContentCoding = 'gzip' | 'deflate';
/** gzip, zlib-wrapped deflate, raw deflate. */
type Variant = 'gzip' | 'zlib' | 'raw';

/** The native handle under a zlib stream (src/node_zlib.cc), as lib/zlib.js uses it. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  close(): void;
  onerror: (message: string, errno: number, code: string) => void;
}

interface ZlibStreamInternals {
  _handle: ZlibHandle | null;
  /** [output bytes left free, input bytes left unread] after each write. */
  _writeState: Uint32Array;
}

const EMPTY = new Uint8Array(0);
/** The handler of a kept handle between bodies (nothing is written to it then). */
const NO_ERROR_HANDLER = (): void => {};
/**
 * Output space for every write (everything here is synchronous, so one buffer serves all streams); what zlib writes
 * into it is copied out at once.
 */
const SCRATCH = new Uint8Array(1 << 16);

/** A native inflate handle with its write state, as a zlib stream of Node's made it. */
interface NativeInflate {
  handle: ZlibHandle & { reset(): void };
  state: Uint32Array;
}

/**
 * Handles of closed streams kept for the next body, per variant, after `reset()` (zlib's inflateReset: the state of a
 * new stream, its memory kept). Making a zlib stream costs far more than inflating a small body (a Node stream object,
 * its native handle, zlib's 32 KB window allocated): a flood of small compressed responses spent most of its time
 * there. At most FREE_MAX a variant are kept (about 40 KB each), so this holds at most a few MB.
 */
const FREE_MAX = 32;
const free: Record<Variant, NativeInflate[]> = { gzip: [], zlib: [], raw: [] };

function makeNative(variant: Variant): NativeInflate {
  const reused = free[variant].pop();
  if (reused !== undefined) return reused;
  // the smallest chunk: the stream's own output buffer is never used, SCRATCH is
  const opts = { chunkSize: zc.Z_MIN_CHUNK };
  const s = (variant === 'gzip'
    ? createGunzip(opts)
    : variant === 'zlib'
      ? createInflate(opts)
      : createInflateRaw(opts)) as unknown as ZlibStreamInternals;
  const handle = s._handle as (ZlibHandle & { reset?: unknown }) | null;
  if (handle === null || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !(s._writeState instanceof Uint32Array)) {
    throw new Error(`HTTP decompression needs the zlib handle of Node.js 20 (_handle.writeSync, reset); this is Node.js ${process.version}`);
  }
  return { handle: handle as NativeInflate['handle'], state: s._writeState };
}

/** One native zlib inflate stream, written to synchronously. */
class ZlibStream {
  private native: NativeInflate | null;
  private readonly state: Uint32Array;
  /** zlib reported an error (the stream is then unusable: Node's own code closes it too). */
  failed = false;
  /** zlib stopped with input left and output space free: the stream ended and the rest is trailing bytes. */
  ended = false;

  constructor(private readonly variant: Variant) {
    this.native = makeNative(variant);
    this.state = this.native.state;
    // replaces lib/zlib.js's handler, which would destroy the stream and emit 'error' on a later tick
    this.native.handle.onerror = () => {
      this.failed = true;
    };
  }

  /**
   * Inflates `input` with at most `room` bytes of output, appended to `out` (copies). Returns how many input bytes
   * zlib took, or -1 when the stream is corrupt.
   */
  write(input: Uint8Array, room: number, out: Uint8Array[]): number {
    const h = this.native?.handle;
    if (h === undefined) return -1;
    let off = 0;
    let left = input.length;
    while (room > 0) {
      const space = Math.min(SCRATCH.length, room);
      h.writeSync(zc.Z_SYNC_FLUSH, input, off, left, SCRATCH, 0, space);
      if (this.failed) return -1;
      const freeOut = this.state[0]!;
      const leftIn = this.state[1]!;
      const made = space - freeOut;
      if (made > 0) out.push(SCRATCH.slice(0, made));
      room -= made;
      off += left - leftIn;
      left = leftIn;
      // output space left over: zlib went as far as its input allows (all of it taken, or the stream ended)
      if (freeOut !== 0) {
        if (left > 0) this.ended = true;
        break;
      }
    }
    return off;
  }

  /**
   * Done with the stream: reset and kept for the next body (free list), a failed one too (zlib's inflateReset
   * clears an error state: the deflate variant is found by trying the zlib wrapper on raw bodies, which fails every
   * time), or closed when the list is full.
   */
  close(): void {
    const n = this.native;
    if (n === null) return;
    this.native = null;
    n.handle.onerror = NO_ERROR_HANDLER;
    const list = free[this.variant];
    if (list.length < FREE_MAX) {
      n.handle.reset();
      list.push(n);
    } else n.handle.close();
  }
}

/**
 * A cap on the zlib streams open at once, shared by the HTTP sessions of one flow table (PacketPipeline makes one).
 * Each open stream holds about 40 KB outside the JavaScript heap (zlib's inflate state and its 32 KB window), and a
 * body costs its sender only a response header and a few bytes of gzip: without a cap, the flow table's 262,144 TCP
 * flows could hold 10 GB. Snort caps the same thing (http_inspect's max_gzip_mem: "the number of concurrent sessions
 * that can be decompressed"), refusing new bodies when full; here the least recently fed stream is closed instead
 * (its body gives no more file_data, counted in `evicted`), so that whoever opens many compressed bodies cannot keep
 * the next one from being decompressed.
 */
export class InflaterPool {
  /** Streams open now. */
  open = 0;
  /** Most open at once. */
  peak = 0;
  /** Streams closed to make room for a newer body. */
  evicted = 0;
  /** @internal most recently fed first */
  head: BodyInflater | undefined = undefined;
  /** @internal */
  tail: BodyInflater | undefined = undefined;

  /** 2,048 streams: about 80 MB of zlib state at most. */
  constructor(readonly max = 2048) {}

  /** @internal A stream of `b` is opening: make room, then list it as the most recent. */
  add(b: BodyInflater): void {
    while (this.open >= this.max && this.tail !== undefined) {
      this.evicted++;
      this.tail.evict();
    }
    this.link(b);
    this.open++;
    if (this.open > this.peak) this.peak = this.open;
  }

  /** @internal */
  touch(b: BodyInflater): void {
    if (this.head === b) return;
    this.unlink(b);
    this.link(b);
  }

  /** @internal `b`'s stream closed. */
  remove(b: BodyInflater): void {
    this.unlink(b);
    this.open--;
  }

  private link(b: BodyInflater): void {
    b.poolPrev = undefined;
    b.poolNext = this.head;
    if (this.head !== undefined) this.head.poolPrev = b;
    else this.tail = b;
    this.head = b;
  }

  private unlink(b: BodyInflater): void {
    if (b.poolPrev !== undefined) b.poolPrev.poolNext = b.poolNext;
    else this.head = b.poolNext;
    if (b.poolNext !== undefined) b.poolNext.poolPrev = b.poolPrev;
    else this.tail = b.poolPrev;
    b.poolPrev = undefined;
    b.poolNext = undefined;
  }
}

/** Where a body's decompression stands. */
export type InflaterStatus = 'open' | 'corrupt' | 'ended' | 'evicted' | 'closed';

/**
 * The decompression of one body: give it each payload's compressed bytes with `push`, get the new output back.
 * `deflate` is tried zlib-wrapped, then raw, from the body's first two bytes on (zlib's header is two bytes: with
 * fewer, the wrapped stream cannot have failed yet); the choice is kept in `raw`. Call `close()` when the body ends
 * (the zlib stream is also closed by itself on corruption, at the stream's end, and when its pool evicts it).
 */
export class BodyInflater {
  /** deflate: whether the stream is raw, once known (or as given). */
  raw: boolean | undefined;
  status: InflaterStatus = 'open';
  /** @internal the pool's list */
  poolPrev: BodyInflater | undefined = undefined;
  /** @internal */
  poolNext: BodyInflater | undefined = undefined;
  private z: ZlibStream | undefined = undefined;
  /**
   * Input zlib has not taken: the first byte of a deflate body (the variant not known yet), or what was left when
   * the output reached `room` (at most what the caller gives: HttpSession stops at maxCompressed).
   */
  private held: Uint8Array = EMPTY;

  constructor(
    readonly coding: ContentCoding,
    private readonly pool?: InflaterPool,
    raw?: boolean,
  ) {
    this.raw = raw;
  }

  /**
   * Inflates `data` after what came before, handing out at most `room` new bytes (what is over stays for the next
   * call, which may give no data). Undefined when the stream is found corrupt (by this call; later calls give
   * nothing); after the stream's end, eviction or close, nothing.
   */
  push(data: Uint8Array, room: number): Uint8Array | undefined {
    if (this.status !== 'open') return EMPTY;
    const owned = this.held.length > 0;
    const input = !owned ? data : data.length === 0 ? this.held : concat([this.held, data]);
    this.held = EMPTY;
    if (this.z !== undefined) {
      this.pool?.touch(this);
      const out = this.run(input, owned, room);
      if (out === undefined) this.status = 'corrupt';
      return out;
    }
    if (this.coding === 'deflate' && this.raw === undefined && input.length < 2) {
      this.held = owned ? input : new Uint8Array(input);
      return EMPTY;
    }
    const variants: Variant[] = this.coding === 'gzip' ? ['gzip'] : this.raw === undefined ? ['zlib', 'raw'] : [this.raw ? 'raw' : 'zlib'];
    for (const v of variants) {
      this.open(v);
      const out = this.run(input, owned, room);
      if (out !== undefined) {
        if (this.coding === 'deflate') this.raw = v === 'raw';
        return out;
      }
    }
    this.status = 'corrupt';
    return undefined;
  }

  /** Closes the zlib stream (the body ended, or its flow did). */
  close(): void {
    if (this.status === 'open') this.status = 'closed';
    this.release();
  }

  /** @internal its pool needs the room */
  evict(): void {
    this.status = 'evicted';
    this.held = EMPTY;
    this.release();
  }

  private open(v: Variant): void {
    this.z = new ZlibStream(v);
    this.pool?.add(this);
  }

  private release(): void {
    if (this.z === undefined) return;
    this.z.close();
    this.z = undefined;
    this.pool?.remove(this);
  }

  /**
   * Writes `input` to the open stream; undefined (and the stream closed) when it is corrupt. `owned`: `input` is a
   * buffer of this inflater's own (not a view of the caller's packet), so what zlib leaves of it is kept without a copy;
   * otherwise that is copied with `new Uint8Array` (a Buffer's slice() would be a view of the packet).
   */
  private run(input: Uint8Array, owned: boolean, room: number): Uint8Array | undefined {
    const z = this.z!;
    const parts: Uint8Array[] = [];
    const took = z.write(input, room, parts);
    if (took < 0) {
      this.release();
      return undefined;
    }
    if (z.ended) {
      this.status = 'ended';
      this.release();
    } else if (took < input.length) this.held = owned ? input.subarray(took) : new Uint8Array(input.subarray(took));
    return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : concat(parts);
  }
}

/**
 * Decompresses as much of a (possibly incomplete) gzip / zlib / raw deflate stream as possible, up to `limit` output
 * bytes: what a BodyInflater given all of `data` at once hands out. A truncated stream is not an error; a corrupt one
 * (before the output reached the limit) gives undefined. `deflate` is tried zlib-wrapped, then raw; `wrap.raw` tells
 * which one to use, and is set to the one that worked once `data` has two bytes or more.
 */
export function inflatePartial(data: Uint8Array, encoding: ContentCoding, limit: number, wrap: { raw?: boolean } = {}): Uint8Array | undefined {
  const b = new BodyInflater(encoding, undefined, wrap.raw);
  try {
    const out = b.push(data, limit);
    if (out !== undefined && b.raw !== undefined) wrap.raw = b.raw;
    return out;
  } finally {
    b.close();
  }
}
