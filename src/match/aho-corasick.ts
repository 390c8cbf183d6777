/**
 * Case-folding Aho-Corasick automaton compiled to a full DFA on typed arrays: bytes map to alphabet classes
 * (ASCII letters folded, bytes no pattern uses share one class), `delta[state * classes + class]` gives the next state,
 * and each state's pattern outputs (its own and those reachable by failure links) are a slice of `outIds`.
 * Patterns are found case-insensitively; callers verify case where it matters.
 */

export interface AutomatonTables {
  /** Number of alphabet classes. */
  classes: number;
  /** Byte -> class. */
  classOf: Uint8Array;
  /**
   * Transitions. With fewer than 65536 states (every ET 2019 group): `delta` is a Uint16Array of next-state indexes
   * (row = state * classes) and `hasOut` flags the states with outputs. Otherwise an Int32Array, premultiplied
   * (next state times `classes`), negative (-x - 1) when the next state has outputs.
   */
  delta: Int32Array | Uint16Array;
  hasOut: Uint8Array;
  /** For state s (premultiplied index / classes): outputs outIds[outStart[s] .. outStart[s+1]). */
  outStart: Int32Array;
  outIds: Int32Array;
  /** Number of patterns. */
  patterns: number;
}

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** Builds the automaton; pattern i is `patterns[i]` (searched folded). `wide` forces the 32-bit layout. */
export function buildAutomaton(patterns: Uint8Array[], wide = false): AutomatonTables {
  // alphabet classes: class 0 for bytes unused by every pattern
  const classOf = new Uint8Array(256);
  const used = new Uint8Array(256);
  for (const p of patterns) for (const c of p) used[fold(c)] = 1;
  let classes = 1;
  for (let c = 0; c < 256; c++) {
    const f = fold(c);
    if (f !== c) continue;
    if (used[c]) classOf[c] = classes++;
  }
  for (let c = 65; c <= 90; c++) classOf[c] = classOf[c + 32]!;
  if (classes > 255) throw new Error('too many classes');

  // trie with sparse children during construction
  const children: Map<number, number>[] = [new Map()];
  const outs: number[][] = [[]];
  patterns.forEach((p, id) => {
    let s = 0;
    for (const c of p) {
      const k = classOf[c]!;
      let n = children[s]!.get(k);
      if (n === undefined) {
        n = children.length;
        children.push(new Map());
        outs.push([]);
        children[s]!.set(k, n);
      }
      s = n;
    }
    outs[s]!.push(id);
  });
  const n = children.length;
  const delta = new Int32Array(n * classes);
  const failure = new Int32Array(n);
  // BFS
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let k = 0; k < classes; k++) {
    const c = children[0]!.get(k);
    if (c !== undefined) {
      delta[k] = c * classes;
      failure[c] = 0;
      queue[tail++] = c;
    } else delta[k] = 0;
  }
  while (head < tail) {
    const s = queue[head++]!;
    const f = failure[s]!;
    const fo = outs[f]!;
    if (fo.length) outs[s] = outs[s]!.concat(fo);
    const row = s * classes;
    const frow = f * classes;
    const ch = children[s]!;
    for (let k = 0; k < classes; k++) {
      const c = ch.get(k);
      if (c !== undefined) {
        delta[row + k] = c * classes;
        failure[c] = s === 0 ? 0 : delta[frow + k]! / classes;
        queue[tail++] = c;
      } else delta[row + k] = delta[frow + k]!;
    }
  }
  const outStart = new Int32Array(n + 1);
  let total = 0;
  for (let s = 0; s < n; s++) {
    outStart[s] = total;
    total += outs[s]!.length;
  }
  outStart[n] = total;
  const outIds = new Int32Array(total);
  for (let s = 0; s < n; s++) outIds.set(outs[s]!, outStart[s]!);
  const hasOut = new Uint8Array(n);
  for (let st = 0; st < n; st++) hasOut[st] = outStart[st + 1]! > outStart[st]! ? 1 : 0;
  if (n < 65536 && !wide) {
    const d16 = new Uint16Array(delta.length);
    for (let i = 0; i < delta.length; i++) d16[i] = delta[i]! / classes;
    return { classes, classOf, delta: d16, hasOut, outStart, outIds, patterns: patterns.length };
  }
  // transitions into states with outputs are stored as -(target) - 1, so the scan loop tests a sign, not a table
  for (let i = 0; i < delta.length; i++) {
    const t = delta[i]! / classes;
    if (outStart[t + 1]! > outStart[t]!) delta[i] = -delta[i]! - 1;
  }
  return { classes, classOf, delta, hasOut, outStart, outIds, patterns: patterns.length };
}

/**
 * Scans `b`, calling `hit(patternId)` once per pattern found (the first time only, tracked with `seen`/`stamp`).
 * `stateSeen` (one slot per state, same stamp) skips the output list of a state already visited in this scan: short
 * patterns put outputs on most states, and re-walking their lists at every byte would dominate the scan.
 */
export function scanAutomaton(
  a: AutomatonTables, b: Uint8Array, seen: Int32Array, stamp: number, hit: (id: number) => void,
  stateSeen: Int32Array = new Int32Array(a.hasOut.length),
): void {
  if (a.delta instanceof Uint16Array) return scan16(a, a.delta, b, seen, stamp, hit, stateSeen);
  const delta = a.delta;
  const classOf = a.classOf;
  const outStart = a.outStart;
  const outIds = a.outIds;
  const k = a.classes;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    const v = delta[s + classOf[b[i]!]!]!;
    if (v >= 0) {
      s = v;
      continue;
    }
    s = -v - 1;
    const st = s / k;
    if (stateSeen[st] === stamp) continue;
    stateSeen[st] = stamp;
    const o0 = outStart[st]!;
    const o1 = outStart[st + 1]!;
    for (let j = o0; j < o1; j++) {
      const id = outIds[j]!;
      if (seen[id] !== stamp) {
        seen[id] = stamp;
        hit(id);
      }
    }
  }
}

function scan16(
  a: AutomatonTables, delta: Uint16Array, b: Uint8Array, seen: Int32Array, stamp: number, hit: (id: number) => void, stateSeen: Int32Array,
): void {
  const classOf = a.classOf;
  const hasOut = a.hasOut;
  const outStart = a.outStart;
  const outIds = a.outIds;
  const k = a.classes;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    s = delta[s * k + classOf[b[i]!]!]!;
    if (hasOut[s] === 0 || stateSeen[s] === stamp) continue;
    stateSeen[s] = stamp;
    const o1 = outStart[s + 1]!;
    for (let j = outStart[s]!; j < o1; j++) {
      const id = outIds[j]!;
      if (seen[id] !== stamp) {
        seen[id] = stamp;
        hit(id);
      }
    }
  }
}
