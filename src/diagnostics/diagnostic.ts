/** One message about the input: TypeScript/esbuild style (stable code, severity, message, span). */
export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** Stable kebab-case identifier, e.g. `unknown-keyword`. Users can filter on it. */
  code: string;
  severity: Severity;
  message: string;
  file: string;
  /** 1-based line and column of the first offending character. */
  line: number;
  column: number;
  /** Offset (UTF-16 code units) into the file text and the length of the offending range. */
  offset: number;
  length: number;
  /** The sid of the rule the message is about, when known. */
  sid?: number;
}

/** Maps offsets to 1-based line/column lazily: built once per file, binary search per lookup. */
export class LineMap {
  private readonly starts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    let i = text.indexOf('\n');
    while (i !== -1) {
      starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
    this.starts = starts;
  }

  position(offset: number): { line: number; column: number } {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its terminator. */
  lineText(line: number): string {
    const start = this.starts[line - 1] ?? this.text.length;
    const next = this.starts[line];
    let end = next === undefined ? this.text.length : next - 1;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, Math.max(start, end));
  }
}

/** Sort by file, then position, then code: deterministic output whatever the discovery order. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.offset !== b.offset) return a.offset - b.offset;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}
