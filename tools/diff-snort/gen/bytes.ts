/**
 * Payload bytes and the rule strings that look for them. Payloads are made of a few tokens and rules' contents of the
 * same tokens (or their pieces), so that generated rules match generated traffic often, near misses included (case,
 * offsets, a token split across segments): random bytes would almost never match and test nothing.
 */
import fc from 'fast-check';

const enc = new TextEncoder();
const b = (s: string) => [...enc.encode(s)];

export const TOKENS: readonly number[][] = [
  b('abc'),
  b('ab'),
  b('ABC'),
  b('xyz'),
  b('GET '),
  b('1234'),
  b('0x1f'),
  b('\r\n'),
  b('/'),
  b('%41'),
  b('AAAA'),
  [0x00, 0x01],
  [0x00],
  [0xff, 0x10],
  [0x00, 0x00, 0x00, 0x08],
  b('777'),
  b('zz=1&'),
  b(' '),
];

/** 0..max tokens, concatenated. */
export function tokenBytes(maxTokens: number, minTokens = 0): fc.Arbitrary<number[]> {
  return fc.array(fc.constantFrom(...TOKENS), { minLength: minTokens, maxLength: maxTokens }).map((ts) => ts.flat());
}

/** A short run of payload-like bytes: tokens, with now and then a random byte between them. */
export function payloadBytes(maxTokens: number, minTokens = 0): fc.Arbitrary<number[]> {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...TOKENS) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 3 }) },
  );
  return fc.array(piece, { minLength: minTokens, maxLength: maxTokens }).map((ts) => ts.flat());
}

/** A content's bytes: a token, two tokens, or a piece of one. */
export const contentBytes: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TOKENS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(...TOKENS)).map(([x, y]) => [...x, ...y]) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...TOKENS.filter((t) => t.length > 1)), fc.nat(), fc.nat()).map(([t, i, j]) => {
      const a = i % t.length;
      const e = a + 1 + (j % (t.length - a));
      return t.slice(a, e);
    }),
  },
);

/** Snort's content string syntax for bytes: printable letters and digits as text, everything else as |hex|. */
export function contentText(bytes: readonly number[]): string {
  let out = '';
  let hex: string[] = [];
  const flush = () => {
    if (hex.length) out += `|${hex.join(' ')}|`;
    hex = [];
  };
  for (const x of bytes) {
    if (
      (x >= 0x30 && x <= 0x39) ||
      (x >= 0x41 && x <= 0x5a) ||
      (x >= 0x61 && x <= 0x7a) ||
      x === 0x20 ||
      x === 0x2f ||
      x === 0x25 ||
      x === 0x3d ||
      x === 0x26
    ) {
      flush();
      out += String.fromCharCode(x);
    } else hex.push(x.toString(16).padStart(2, '0'));
  }
  flush();
  return out;
}

/** PCRE source for bytes: letters and digits as they are, everything else as \xHH. */
export function pcreText(bytes: readonly number[]): string {
  return bytes
    .map((x) =>
      (x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a)
        ? String.fromCharCode(x)
        : `\\x${x.toString(16).padStart(2, '0')}`,
    )
    .join('');
}
