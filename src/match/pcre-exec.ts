/**
 * Rule `pcre` options on PCRE2 (the native addon), as Snort 2.9's sp_pcre.c runs them on PCRE: the pattern compiled
 * with the rule's flags, searched with Snort's match limits, and a step budget over the whole call (see budget.ts).
 */
import {
  loadEngine,
  PCRE_ANCHORED,
  PCRE_CHECK_ONLY,
  PCRE_CASELESS,
  PCRE_DOLLAR_ENDONLY,
  PCRE_DOTALL,
  PCRE_EXTENDED,
  PCRE_MULTILINE,
  PCRE_UNGREEDY,
  type NativeEngine,
  type NativeHandle,
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
  /**
   * Whether a match in a subject depends only on the bytes from where the match starts to the subject's end: no `^`,
   * `\A`, `\G`, lookbehind, `\b`/`\B` or backtracking verb. Then a search of buf[p, end) that finds nothing means
   * no later start finds anything either, and verify.ts answers those searches without running PCRE again
   * (`content:"a"; pcre:"/.../R"` tried at every "a" of a long run would otherwise rescan the rest each time).
   */
  suffixClosed: boolean;
  /** verify.ts: where, in which buffer of which item, a search was found empty (suffixClosed patterns only). */
  emptyFrom: number;
  emptyIn: Uint8Array | undefined;
  emptyItem: number;
}

/**
 * Whether the pattern text can look before where a match starts or at where the subject starts: `^` outside a
 * character class, `\A`, `\G`, a `(*VERB)`, or `\Q...\E`/comments the scan does not model (all taken as yes).
 * Lookbehinds and `\b` are PCRE2's PCRE2_INFO_MAXLOOKBEHIND (pcreInfo). Errs only towards yes: a POSIX class
 * `[[:alpha:]]` ends the class early for it, so what follows is looked at as outside a class.
 */
export function looksAtStart(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === 'A' || n === 'G' || n === 'Q') return true;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // a ] (or ^]) right after the opening bracket is a literal
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '^') return true;
    if (c === '(' && (pattern[i + 1] === '*' || (pattern[i + 1] === '?' && pattern[i + 2] === '#'))) return true;
  }
  return false;
}

/**
 * Compiles a pattern as Snort would load it; throws PcreCompileError with PCRE2's message and offset. `checkOnly`:
 * the load-time check of `honeywall compile` (no JIT code made).
 */
export function compilePcre(
  op: Pick<PcreOp, 'pattern' | 'options' | 'overrideLimit'>,
  engine: NativeEngine = loadEngine(),
  checkOnly = false,
): CompiledPcre {
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
  // with /x (or (?x)) a comment may hold a bracket the scan would take for a class: not looked into
  const extended = (op.options & PCRE_EXTENDED) !== 0 || /\(\?[a-zA-Z^-]*x/.test(op.pattern);
  const suffixClosed = !info.anchored && info.maxLookbehind === 0 && !extended && !looksAtStart(op.pattern);
  return { handle, anchored: info.anchored, jit: info.jit, suffixClosed, emptyFrom: 0, emptyIn: undefined, emptyItem: -1 };
}
