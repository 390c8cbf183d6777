/**
 * Regular expressions at run time. Patterns the translator marks 'linear' run on V8's linear-time engine (the `l`
 * flag, available when Node runs with `--enable-experimental-regexp-engine`, which `bin/honeywall.js` sets before
 * anything else loads), and so do those whose only lookaround is the translation of PCRE's `$`. The others
 * ('backtrack': backreferences, lookarounds, atomic-group rewrites) are marked `guarded`: the matcher runs them in a
 * worker with a time budget (`regex-guard.ts`), so a hostile packet cannot make them run long.
 */
import type { PcreOp } from './plan.js';
import type { CompiledPcre } from './verify.js';


/** Whether this process can create linear-engine regular expressions. */
export const LINEAR_ENGINE = (() => {
  try {
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
})();

/** How the translator spells PCRE's `$` (end, or before a final newline): a lookahead the linear engine refuses. */
const DOLLAR = '(?=\\n?$)';

export function compileRegex(op: Pick<PcreOp, 'source' | 'flags' | 'engine'>): CompiledPcre {
  const flags = op.flags.includes('y') ? op.flags : op.flags + 'g';
  if (op.engine === 'linear' && LINEAR_ENGINE) {
    try {
      return { re: new RegExp(op.source, flags + 'l'), guarded: false };
    } catch {
      // too large for the linear engine: bounded backtracking below
    }
  }
  if (op.engine === 'backtrack' && LINEAR_ENGINE && op.source.includes(DOLLAR)) {
    // When `$` is the only lookaround, `\n?$` (consuming the final newline) decides the same matches; only the end
    // of a match that stops before a final newline moves past it (the cursor of a following relative option).
    try {
      return { re: new RegExp(op.source.split(DOLLAR).join('\\n?$'), flags + 'l'), guarded: false };
    } catch {
      // other lookarounds or backreferences: bounded backtracking below
    }
  }
  // 'linear' patterns land here only when the linear engine is off in this process (no V8 flags): guarded as well
  return { re: new RegExp(op.source, flags), guarded: true };
}

/** Which engine a pcre op really runs with in this process. */
export function engineOf(op: Pick<PcreOp, 'source' | 'flags' | 'engine'>): 'linear' | 'backtrack-bounded' {
  return compileRegex(op).guarded ? 'backtrack-bounded' : 'linear';
}
