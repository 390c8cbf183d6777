/** Runs one keyword's value parser and collects what it reported (codes and offsets). */
import { KEYWORDS } from '../../src/keywords/index.js';

export interface Outcome {
  args: unknown;
  errors: string[];
  warnings: string[];
  /** Offsets (relative to the value) of the errors, for caret checks. */
  errorAt: (number | undefined)[];
}

export function parseValue(keyword: string, value: string | undefined): Outcome {
  const spec = KEYWORDS.get(keyword);
  if (!spec) throw new Error(`no keyword ${keyword}`);
  const out: Outcome = { args: undefined, errors: [], warnings: [], errorAt: [] };
  const args = spec.parse(value, {
    error(code, _message, at) {
      out.errors.push(code);
      out.errorAt.push(at);
    },
    warning(code) {
      out.warnings.push(code);
    },
  });
  out.args = out.errors.length ? undefined : args;
  return out;
}

/** A table row: the value and either the expected args (deep-equal, may be partial via objectContaining) or an error code. */
export type Row = [value: string | undefined, expected: { args: unknown } | { error: string }];
