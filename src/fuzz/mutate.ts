/**
 * Mutation fuzzing: a seeded random source and byte-level mutations of seed inputs (flips, interesting values,
 * inserted tokens, deleted, duplicated and spliced ranges, and a chunk repeated thousands of times, which is how a
 * parser's size and depth limits are reached). Deterministic for a seed, so a run can be replayed from its seed.
 */

/** xorshift32: small, fast and reproducible (Math.random cannot be seeded). */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  chance(oneIn: number): boolean {
    return this.below(oneIn) === 0;
  }
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x0d, 0x5c, 0x3b, 0x22, 0x5b, 0x5d, 0x24, 0x21, 0x2c, 0x3a, 0x7c];
/** The largest input a mutation may make (bigger inputs are cut): bounds the cost of one run of a target. */
export const MAX_INPUT = 256 * 1024;

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(Math.min(n, MAX_INPUT));
  let o = 0;
  for (const p of parts) {
    if (o >= out.length) break;
    const take = Math.min(p.length, out.length - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out;
}

/**
 * One to eight mutations of `input`. `tokens` are byte strings worth inserting for this reader (keywords,
 * separators, magic numbers); `others` are seeds to splice from.
 */
export function mutate(input: Uint8Array, rng: Rng, tokens: readonly Uint8Array[], others: readonly Uint8Array[]): Uint8Array {
  let b = input;
  const rounds = 1 + rng.below(8);
  for (let r = 0; r < rounds; r++) {
    const at = rng.below(b.length + 1);
    switch (rng.below(9)) {
      case 0: {
        if (b.length === 0) break;
        const c = Uint8Array.from(b);
        c[rng.below(c.length)]! ^= 1 << rng.below(8);
        b = c;
        break;
      }
      case 1: {
        if (b.length === 0) break;
        const c = Uint8Array.from(b);
        c[rng.below(c.length)] = rng.pick(INTERESTING);
        b = c;
        break;
      }
      case 2:
        if (tokens.length > 0) b = concat([b.subarray(0, at), rng.pick(tokens), b.subarray(at)]);
        break;
      case 3: {
        const len = rng.below(Math.min(64, b.length - at) + 1);
        b = concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 4: {
        const len = rng.below(Math.min(256, b.length - at) + 1);
        b = concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
      case 5: {
        if (others.length === 0) break;
        const o = rng.pick(others);
        const from = rng.below(o.length + 1);
        const len = rng.below(o.length - from + 1);
        b = concat([b.subarray(0, at), o.subarray(from, from + len), b.subarray(at)]);
        break;
      }
      case 6: {
        // A chunk (or a token) repeated many times: deep nesting, long lines, many entries.
        const chunk = tokens.length > 0 && rng.chance(2) ? rng.pick(tokens) : b.subarray(at, at + 1 + rng.below(8));
        if (chunk.length === 0) break;
        const times = 1 + rng.below(rng.chance(4) ? 20_000 : 64);
        const rep = new Uint8Array(Math.min(chunk.length * times, MAX_INPUT));
        for (let o = 0; o < rep.length; o += chunk.length) rep.set(chunk.subarray(0, Math.min(chunk.length, rep.length - o)), o);
        b = concat([b.subarray(0, at), rep, b.subarray(at)]);
        break;
      }
      case 7: {
        // A 16- or 32-bit field set to an edge value (lengths, counts, offsets in binary formats).
        if (b.length < 4) break;
        const c = Uint8Array.from(b);
        const o = rng.below(c.length - 3);
        const v = rng.pick([0, 1, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x8000, 0x10000, c.length, c.length + 1]);
        c[o] = v >>> 24;
        c[o + 1] = (v >>> 16) & 0xff;
        if (rng.chance(2)) {
          c[o + 2] = (v >>> 8) & 0xff;
          c[o + 3] = v & 0xff;
        }
        b = c;
        break;
      }
      default:
        b = b.subarray(0, rng.below(b.length + 1));
    }
  }
  return b;
}
