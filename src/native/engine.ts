/**
 * The detection engine's native half (native/src/honeywall_engine.c): PCRE2 for `pcre`, Hyperscan for the fast-pattern
 * prefilter. Loaded on first use, so that `lint`, `convert`, `firewall` and `sebek` never need it; `compile`, `replay`
 * and `run` call `loadEngine()`, which says which Debian packages to install when the addon is missing.
 */
import { createRequire } from 'node:module';
import type { CaptureWalk } from '../packet/pcap.js';

declare const handleBrand: unique symbol;
/** A compiled pattern, database or stream living in the addon (owned by the thread that made it). */
export interface NativeHandle {
  readonly [handleBrand]: true;
}

export interface NativeEngine {
  pcreCompile(pattern: Uint8Array, options: number, matchLimit: number, depthLimit: number): NativeHandle;
  pcreExec(handle: NativeHandle, buf: Uint8Array, base: number, end: number, start: number, budget: number): number;
  pcreInfo(handle: NativeHandle): { jit: boolean; captures: number; backrefMax: number; anchored: boolean; maxLookbehind: number };
  lastMatch(): Int32Array;
  hsCompile(patterns: Uint8Array[], flags: Uint32Array, ids: Uint32Array, stream: boolean): Buffer;
  hsCompileAsync(patterns: Uint8Array[], flags: Uint32Array, ids: Uint32Array, stream: boolean): Promise<Buffer>;
  hsLoad(serialized: Uint8Array, maxId: number): NativeHandle;
  hsInfo(db: NativeHandle): { bytes: number; streamBytes: number; info: string };
  /**
   * Per pattern id, the ports its rules can match: src and dst map numbers (-1: any port) into `maps` (8192 bytes,
   * 65536 bits, each), and whether one of them is bidirectional. Scans given ports then leave the others out.
   */
  hsPortFilter(db: NativeHandle, src: Int32Array, dst: Int32Array, bidir: Uint8Array, maps: Uint8Array): void;
  /** db gets from's port filter itself (no copy); both must number the same patterns alike. */
  hsPortFilterShare(db: NativeHandle, from: NativeHandle): void;
  /** A block database's patterns of one and two bytes, found by the addon's table (src/match/short-patterns.ts). */
  hsShortPatterns(db: NativeHandle, bytes: Uint8Array, starts: Int32Array, nocase: Uint8Array, ids: Int32Array): void;
  /** Block mode; `sport`/`dport` (TCP and UDP packets) apply the database's port filter. */
  hsScan(db: NativeHandle, buf: Uint8Array, start: number, end: number, out: Int32Array, sport?: number, dport?: number): number;
  hsStreamOpen(db: NativeHandle): NativeHandle;
  hsStreamScan(
    stream: NativeHandle,
    buf: Uint8Array,
    start: number,
    end: number,
    out: Int32Array,
    streamOffset: number,
    sport?: number,
    dport?: number,
  ): number;
  hsStreamClose(stream: NativeHandle): void;
  /** A classic pcap's ordinary records and their shards (src/packet/pcap.ts CaptureWalk, CaptureParser.walkPcap). */
  captureWalk: CaptureWalk;
  /** A sharded replay's plan of which shard inspects a frame (native/src/honeywall_shard.c; src/flow/shard.ts ShardPlan). */
  shardPlanOpen(shards: number, maxPairs: number): NativeHandle;
  shardPlanFrame(plan: NativeHandle, linktype: number, frame: Uint8Array): number;
  shardPlanStats(plan: NativeHandle): Float64Array;
  /**
   * The native front's decoder on one frame (linktype -1: a bare IP datagram; flags 1 verify checksums, 2 length from
   * data): the packet as a record (native/src/honeywall_decode.c), for the test holding it to src/packet/decode.ts.
   */
  decodeFrame(linktype: number, bytes: Uint8Array, flags: number, maxLayers: number): Int32Array;
  /**
   * The native front's flow table (native/src/honeywall_flow.c), for the test holding it to src/flow/table.ts:
   * opened with its configuration, fed frames, finished (its layouts are in the C file's header).
   */
  flowTableOpen(
    config: Float64Array,
    clientPorts?: Uint8Array,
    serverPorts?: Uint8Array,
    httpPorts?: Uint8Array,
    smbPorts?: Uint8Array,
  ): NativeHandle;
  flowTableProcess(table: NativeHandle, linktype: number, frame: Uint8Array, tsSec: number, tsUsec: number, index: number): Int32Array;
  flowTableFinish(table: NativeHandle): Int32Array;
  /** The native front's StreamBuffer (native/src/honeywall_stream.c) run through a script, for its test. */
  streamRun(policy: number, maxBytes: number, maxSegs: number, ops: Int32Array, bytes: Uint8Array): Int32Array;
  /** The native front's PAF (native/src/honeywall_paf.c) on bytes, for its test: 0 HTTP length, 1 HTTP head end, 2 SMB length, 3 SMB head. */
  pafRun(which: number, bytes: Uint8Array, fromClient: number, head: number): number;
  /** The native front so far (decode, flows, reassembly) over a classic pcap in memory, for bench/native-front.mjs. */
  frontMeasure(capture: Uint8Array, table: NativeHandle): Float64Array;
  /** The native front's defragmenter (native/src/honeywall_defrag.c) over datagrams at their times, for its test. */
  defragRun(config: Float64Array, frames: Uint8Array[], times: Float64Array): (Uint8Array | Float64Array | null)[];
  /**
   * The native front as the replay uses it (native/src/honeywall_front.c; src/flow/native-pipeline.ts reads its
   * records): opened with the flow table's configuration and port maps (as flowTableOpen), the defragmenter's (as
   * defragRun) and [verify, maxLayers] of the decoder for frames and for rebuilt datagrams; each call answers the
   * number of record values written times two, plus one when frontViews must be asked for the arrays again.
   */
  frontOpen(
    flow: Float64Array,
    clientPorts: Uint8Array | undefined,
    serverPorts: Uint8Array | undefined,
    httpPorts: Uint8Array,
    smbPorts: Uint8Array,
    defrag: Float64Array,
    decode: Float64Array,
  ): NativeHandle;
  frontPush(front: NativeHandle, linktype: number, frame: Uint8Array, tsSec: number, tsUsec: number, index: number): number;
  frontAdvance(front: NativeHandle, kind: number, tsSec: number, tsUsec: number): number;
  frontPushWalked(front: NativeHandle, buf: Uint8Array, walked: Int32Array, n: number, shard: number, linktype: number, firstIndex: number): number;
  frontFinish(front: NativeHandle): number;
  /** Views of the arrays that moved since the last call (null: the one JavaScript has is still the array). */
  frontViews(front: NativeHandle): [Float64Array | null, Uint8Array | null];
  /** [flow table stats (created tcp, udp, icmp, ip, timed out, evicted, no session, flushed segments and bytes, flows), defrag stats (fragments, reassembled, timeouts, evicted, datagramMemcap, overlaps, bad), trackers, bytes held] */
  frontStats(front: NativeHandle): Float64Array;
  /**
   * A regular file's bytes as a private (copy-on-write) mapping: faulted in as touched, from the page cache. Throws
   * with `code` (ENOENT, EACCES, EISDIR, ...); 'ENOTREG' for a pipe, a device or a file that tells no size (read those).
   */
  mapFile(path: string): ArrayBuffer;
  readonly hyperscanVersion: string;
  readonly pcreVersion: string;
  /** Whether this PCRE2 has a JIT compiler for this machine. */
  readonly pcreJit: boolean;
}

/** pcreCompile options (Snort's pcre flags i s m x A E G). */
export const PCRE_CASELESS = 1;
export const PCRE_DOTALL = 2;
export const PCRE_MULTILINE = 4;
export const PCRE_EXTENDED = 8;
export const PCRE_ANCHORED = 16;
export const PCRE_DOLLAR_ENDONLY = 32;
export const PCRE_UNGREEDY = 64;
/** Compile only, as a load-time check (no JIT code). */
export const PCRE_CHECK_ONLY = 256;

/** pcreExec results below zero. */
export const PCRE_NO_MATCH = -1;
export const PCRE_MATCH_LIMIT = -2;
export const PCRE_DEPTH_LIMIT = -3;
export const PCRE_ERROR = -4;
export const PCRE_BUDGET = -5;

/** Hyperscan literal flags. */
export const HS_CASELESS = 1;
export const HS_SINGLEMATCH = 8;

/** The Debian packages the addon is built against (`.ci/run` and the quick start install them). */
export const ENGINE_PACKAGES = 'libhyperscan-dev libpcre2-dev';

export class EngineUnavailableError extends Error {}

let cached: NativeEngine | undefined;

/** The addon, or an EngineUnavailableError that says what to install. */
export function loadEngine(): NativeEngine {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  let mod: { engine?: NativeEngine; engineError?: Error };
  try {
    mod = require('honeywall-native') as typeof mod;
  } catch (err) {
    throw new EngineUnavailableError(
      `the detection engine's native addon (honeywall-native) is not installed (${(err as Error).message.split('\n')[0]}); ` +
        `install the Debian packages ${ENGINE_PACKAGES}, then run npm ci`,
    );
  }
  if (mod.engine === undefined) {
    throw new EngineUnavailableError(
      `the detection engine's native addon is not built (${mod.engineError?.message.split('\n')[0] ?? 'unknown error'}); ` +
        `install the Debian packages ${ENGINE_PACKAGES}, then run npm rebuild honeywall-native`,
    );
  }
  cached = mod.engine;
  return cached;
}
