/**
 * A bounded list of diagnostics. A hostile or simply huge input (ET Open eight times over gave 120,000+; a 50 MB
 * file of junk lines gives millions) must not hold every diagnostic in memory, so past the limit they are counted
 * per severity and not kept: the exit code and the summary still count them, and the output says how many more
 * there were.
 */
import type { Diagnostic, Severity } from './diagnostic.js';

/** Diagnostics kept per run (what `lint` prints at most); the others are counted. */
export const MAX_DIAGNOSTICS = 100_000;

export type SeverityCounts = Record<Severity, number>;

export class CappedDiagnostics {
  readonly kept: Diagnostic[] = [];
  /** Diagnostics not kept, per severity. */
  readonly omitted: SeverityCounts = { error: 0, warning: 0, info: 0 };

  constructor(readonly limit: number = MAX_DIAGNOSTICS) {}

  push(d: Diagnostic): void {
    if (this.kept.length < this.limit) this.kept.push(d);
    else this.omitted[d.severity]++;
  }

  /** Every diagnostic of a list, one at a time (never `push(...list)`: a spread of 120,000 overflows the stack). */
  pushAll(list: readonly Diagnostic[]): void {
    for (let i = 0; i < list.length; i++) this.push(list[i]!);
  }

  get omittedTotal(): number {
    return this.omitted.error + this.omitted.warning + this.omitted.info;
  }

  /** Kept and omitted diagnostics of one severity. */
  count(severity: Severity): number {
    let n = this.omitted[severity];
    for (let i = 0; i < this.kept.length; i++) if (this.kept[i]!.severity === severity) n++;
    return n;
  }
}

/** The line that ends an output whose diagnostics were capped (empty when none was left out). */
export function omittedNote(omitted: SeverityCounts, limit: number): string {
  const total = omitted.error + omitted.warning + omitted.info;
  if (total === 0) return '';
  return `${total} more diagnostics not shown (${omitted.error} errors, ${omitted.warning} warnings, ${omitted.info} notes; at most ${limit.toLocaleString('en-US')} are kept)\n`;
}
