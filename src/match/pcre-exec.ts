/**
 * Rule `pcre` options on PCRE2 (the native addon), as Snort 2.9's sp_pcre.c runs them on PCRE: the pattern compiled
 * with the rule's flags, searched with Snort's match limits, and a step budget over the whole call (see budget.ts).
 */
import {
  loadEngine, PCRE_ANCHORED, PCRE_CHECK_ONLY, PCRE_CASELESS, PCRE_DOLLAR_ENDONLY, PCRE_DOTALL, PCRE_EXTENDED, PCRE_MULTILINE, PCRE_UNGREEDY,
  type NativeEngine, type NativeHandle,
} from '../native/engine.js';
import { PCRE_DEFAULT_MATCH_LIMIT, PCRE_DEPTH_LIMIT, PCRE_MATCH_LIMIT } from './budget.js';
import type { PcreOp } from './plan.js';

/** PCRE compile options of Snort's pcre flag letters (i s m x A E G; the others are Snort's own). */
export function pcreOptions(flags: string): number {
  let o = 0;
  for (let i = 0; i < flags.length; i++) {
    switch (flags[i]) {
      case 'i':
        o |= PCRE_CASELESS;
        break;
      case 's':
        o |= PCRE_DOTALL;
        break;
      case 'm':
        o |= PCRE_MULTILINE;
        break;
      case 'x':
        o |= PCRE_EXTENDED;
        break;
      case 'A':
        o |= PCRE_ANCHORED;
        break;
      case 'E':
        o |= PCRE_DOLLAR_ENDONLY;
        break;
      case 'G':
        o |= PCRE_UNGREEDY;
        break;
      default:
        break;
    }
  }
  return o;
}

export class PcreCompileError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A pcre ready to run in this thread. */
export interface CompiledPcre {
  handle: NativeHandle;
  /** Anchored by its structure or /A: Snort searches it once, never again at a later offset. */
  anchored: boolean;
  jit: boolean;
}

/**
 * Compiles a pattern as Snort would load it; throws PcreCompileError with PCRE2's message and offset. `checkOnly`:
 * the load-time check of `honeywall compile` (no JIT code made).
 */
export function compilePcre(op: Pick<PcreOp, 'pattern' | 'options' | 'overrideLimit'>, engine: NativeEngine = loadEngine(), checkOnly = false): CompiledPcre {
  const limit = op.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_MATCH_LIMIT;
  const depth = op.overrideLimit ? PCRE_DEFAULT_MATCH_LIMIT : PCRE_DEPTH_LIMIT;
  let handle: NativeHandle;
  try {
    handle = engine.pcreCompile(Buffer.from(op.pattern, 'utf8'), op.options | (checkOnly ? PCRE_CHECK_ONLY : 0), limit, depth);
  } catch (e) {
    const err = e as Error & { offset?: number };
    throw new PcreCompileError(`pcre does not compile: ${err.message}${err.offset !== undefined ? ` at offset ${err.offset}` : ''}`, err.offset ?? 0);
  }
  const info = engine.pcreInfo(handle);
  return { handle, anchored: info.anchored, jit: info.jit };
}
