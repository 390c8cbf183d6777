/**
 * Value helpers shared by the keyword families beyond content: Snort 2.9's way of reading a comma-separated
 * argument list (`mSplit(data, ",")` then trimmed tokens), numbers that may name a byte_extract variable, and
 * `key value` pairs (threshold, detection_filter, base64_decode, byte_math).
 */
import type { ValueReporter } from './spec.js';
import { BYTE_EXTRACT_NAME, parseInteger, splitList, type NumOrVar } from './values.js';

export type Piece = { text: string; at: number };

/** Comma-separated tokens with their offsets (an empty value gives no tokens). */
export function tokens(value: string | undefined, sep = ','): Piece[] {
  const v = value ?? '';
  if (v.trim() === '') return [];
  return splitList(v, sep);
}

/**
 * Snort's rule for fields that take a number or a byte_extract variable: a token starting with a digit or '-' is a
 * number (and must be one), anything else names a variable.
 */
export function numberOrVariable(p: Piece, report: ValueReporter, what: string, min: number, max: number): NumOrVar | undefined {
  const t = p.text;
  const c = t[0];
  if (c === undefined) {
    report.error('missing-argument', `${what} is missing`, p.at, 1);
    return undefined;
  }
  if ((c >= '0' && c <= '9') || c === '-' || c === '+') return parseInteger(t, report, what, min, max, p.at);
  if (!BYTE_EXTRACT_NAME.test(t)) {
    report.error('bad-variable', `${what} '${t}' is neither a number nor a byte_extract variable name`, p.at, t.length);
    return undefined;
  }
  return { variable: t };
}

/** Collects the variable names used by a set of NumOrVar fields (the binder checks them: `args.variables`). */
export function variablesOf(...fields: (NumOrVar | undefined)[]): string[] {
  const out: string[] = [];
  for (const f of fields) if (f !== undefined && typeof f === 'object') out.push(f.variable);
  return out;
}

const BLANK = /\s+/;

/** `key value` (or a bare `key`) inside one comma-separated token. */
export function keyValue(p: Piece): { key: string; value: string | undefined; valueAt: number } {
  const t = p.text;
  const m = BLANK.exec(t);
  if (!m) return { key: t, value: undefined, valueAt: p.at + t.length };
  const rest = t.slice(m.index + m[0].length);
  return { key: t.slice(0, m.index), value: rest, valueAt: p.at + m.index + m[0].length };
}

/** An identifier-like name list check: one of `allowed`, else an error listing them. */
export function oneOf<T extends string>(p: Piece, allowed: readonly T[], report: ValueReporter, what: string): T | undefined {
  if ((allowed as readonly string[]).includes(p.text)) return p.text as T;
  report.error('bad-argument', `${what} must be one of ${allowed.join(', ')}; got '${p.text}'`, p.at, Math.max(1, p.text.length));
  return undefined;
}

/** Reports arguments beyond `max` as errors; returns false when there were any. */
export function noMoreThan(parts: Piece[], max: number, report: ValueReporter, what: string): boolean {
  if (parts.length <= max) return true;
  const extra = parts[max]!;
  report.error(
    'too-many-arguments',
    `${what} takes at most ${max} argument${max === 1 ? '' : 's'}; '${extra.text}' is extra`,
    extra.at,
    Math.max(1, extra.text.length),
  );
  return false;
}
