/**
 * Fast patterns of one and two bytes in block scans: the addon finds them with a table look-up per byte
 * (hsShortPatterns; native/src/honeywall_engine.c scan_short) and the Hyperscan database is compiled without them.
 *
 * Why: such a pattern occurs in most packets, often many times (ET Open's TCP payload group has `|00 00|`, `|03|`
 * and `|05|` in nine packets of ten), and Hyperscan confirms every occurrence although SINGLEMATCH reports only the
 * first; without its 120 short patterns the group's scan of the bench capture's TCP payloads took 40% less time. A
 * scan reports the same set of ids either way (test/prefilter-short.test.ts). Streaming databases (the gateway's
 * inline inspection) keep every pattern: a two-byte pattern may span segments there.
 */
import { HS_CASELESS, HS_SINGLEMATCH, type NativeEngine, type NativeHandle } from '../native/engine.js';

/** The longest pattern the table takes. */
export const SHORT_PATTERN_MAX = 2;

/** What the split reads of a prefilter group: its patterns and their case. */
export interface PatternList {
  patternBytes: Uint8Array;
  patternStart: Int32Array;
  nocase: Uint8Array;
}

/**
 * Of some pattern ids of a group, those Hyperscan is given and those the table finds. When none is longer than
 * SHORT_PATTERN_MAX all go to Hyperscan (a database needs a pattern): compile and load both decide by this.
 */
export function splitShort(g: PatternList, ids: ArrayLike<number>): { long: number[]; short: number[] } {
  const long: number[] = [];
  const short: number[] = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    if (g.patternStart[id + 1]! - g.patternStart[id]! <= SHORT_PATTERN_MAX) short.push(id);
    else long.push(id);
  }
  return long.length === 0 ? { long: short, short: [] } : { long, short };
}

/** hsCompile's arguments for a block database of these ids (each reported once, with its case). */
export function blockInputs(g: PatternList, ids: readonly number[]): [Uint8Array[], Uint32Array, Uint32Array] {
  const patterns: Uint8Array[] = [];
  const flags = new Uint32Array(ids.length);
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    patterns.push(g.patternBytes.subarray(g.patternStart[id]!, g.patternStart[id + 1]!));
    flags[k] = (g.nocase[id] ? HS_CASELESS : 0) | HS_SINGLEMATCH;
  }
  return [patterns, flags, Uint32Array.from(ids)];
}

/** Gives a loaded block database the short patterns it was compiled without. */
export function attachShort(engine: NativeEngine, db: NativeHandle, g: PatternList, short: readonly number[]): void {
  if (short.length === 0) return;
  const starts = new Int32Array(short.length + 1);
  for (let k = 0; k < short.length; k++) starts[k + 1] = starts[k]! + g.patternStart[short[k]! + 1]! - g.patternStart[short[k]!]!;
  const bytes = new Uint8Array(starts[short.length]!);
  const nocase = new Uint8Array(short.length);
  for (let k = 0; k < short.length; k++) {
    const id = short[k]!;
    bytes.set(g.patternBytes.subarray(g.patternStart[id]!, g.patternStart[id + 1]!), starts[k]!);
    nocase[k] = g.nocase[id]!;
  }
  engine.hsShortPatterns(db, bytes, starts, nocase, Int32Array.from(short));
}
