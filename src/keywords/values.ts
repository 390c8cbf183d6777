/** Small value grammars shared by several keywords: integers, quoted strings, comma lists, operators. */
import type { ValueReporter } from './spec.js';

/** A number, or the name of a byte_extract variable (allowed by depth/offset/distance/within/byte_* fields). */
export type NumOrVar = number | { variable: string };

const INT = /^[+-]?\d+$/;
/** byte_extract variable names: Snort takes any word; ET uses dots (`Certs.len`). */
export const BYTE_EXTRACT_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function parseInteger(text: string, report: ValueReporter, what: string, min: number, max: number, at = 0): number | undefined {
  const t = text.trim();
  const lead = text.length - text.trimStart().length;
  if (!INT.test(t)) {
    report.error('bad-number', `${what} must be an integer, got '${t}'`, at + lead, t.length);
    return undefined;
  }
  const n = Number(t);
  if (n < min || n > max) {
    report.error('number-out-of-range', `${what} ${n} is out of range ${min}..${max}`, at + lead, t.length);
    return undefined;
  }
  return n;
}

export function parseNumOrVar(text: string, report: ValueReporter, what: string, min: number, max: number, at = 0): NumOrVar | undefined {
  const t = text.trim();
  if (BYTE_EXTRACT_NAME.test(t)) return { variable: t };
  return parseInteger(text, report, what, min, max, at);
}

/** Splits on commas, keeping each piece's offset in the original value. */
export function splitList(value: string, sep = ','): { text: string; at: number }[] {
  const out: { text: string; at: number }[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value[i] === sep) {
      const raw = value.slice(start, i);
      const lead = raw.length - raw.trimStart().length;
      out.push({ text: raw.trim(), at: start + lead });
      start = i + 1;
    }
  }
  return out;
}

/** `"text"` with Snort's escapes (`\"`, `\\`, `\;`, `\:`) removed; undefined and an error if not quoted. */
export function parseQuoted(value: string, report: ValueReporter, what: string): string | undefined {
  const t = value.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') {
    report.error('expected-quoted-string', `${what} must be a double-quoted string`, 0, value.length);
    return undefined;
  }
  return t.slice(1, -1).replace(/\\([\\";:])/g, '$1');
}

/** Accepts a quoted or bare string (msg, classtype, reference, ...). */
export function unquote(value: string): string {
  const t = value.trim();
  if (t.length >= 2 && t.charCodeAt(0) === 34 && t.charCodeAt(t.length - 1) === 34) {
    const inner = t.slice(1, -1);
    return inner.includes('\\') ? inner.replace(/\\([\\";:])/g, '$1') : inner;
  }
  return t;
}

export type CompareOp = '<' | '>' | '=' | '!' | '<=' | '>=' | '!=' | '&' | '^' | '<>' | '<=>';

/**
 * `N`, `<N`, `>N`, `<=N`, `>=N`, `!N`, `N<>M`, `N<=>M` (dsize, ttl, urilen, icmp_id-style ranges).
 * Returns an operator with one or two operands.
 */
export interface NumericTest {
  op: '=' | '<' | '>' | '<=' | '>=' | '!' | '<>' | '<=>';
  value: number;
  max?: number;
}

export function parseNumericTest(
  value: string,
  report: ValueReporter,
  what: string,
  min: number,
  max: number,
  allow: readonly NumericTest['op'][] = ['=', '<', '>', '<=', '>=', '!', '<>', '<=>'],
): NumericTest | undefined {
  const t = value.trim().replace(/\s+/g, '');
  let m = /^(\d+)(<=>|<>)(\d+)$/.exec(t);
  if (m) {
    const op = m[2] as '<>' | '<=>';
    if (!allow.includes(op)) {
      report.error('bad-operator', `${what} does not take a range`, 0, value.length);
      return undefined;
    }
    const a = Number(m[1]);
    const b = Number(m[3]);
    if (a > max || b > max) {
      report.error('number-out-of-range', `${what} range ${t} exceeds ${max}`, 0, value.length);
      return undefined;
    }
    if (a > b) {
      report.error('bad-range', `${what} range ${t} is empty`, 0, value.length);
      return undefined;
    }
    return { op, value: a, max: b };
  }
  m = /^(<=|>=|<|>|!|=)?(\d+)$/.exec(t);
  if (!m) {
    report.error('bad-number', `${what} must be [<|>|<=|>=|!]N or N<>M, got '${value.trim()}'`, 0, value.length);
    return undefined;
  }
  const op = (m[1] ?? '=') as NumericTest['op'];
  if (!allow.includes(op)) {
    report.error('bad-operator', `${what} does not take operator '${op}'`, 0, value.length);
    return undefined;
  }
  const n = Number(m[2]);
  if (n < min || n > max) {
    report.error('number-out-of-range', `${what} ${n} is out of range ${min}..${max}`, 0, value.length);
    return undefined;
  }
  return { op, value: n };
}
