/**
 * Stage 1: the file's physical lines grouped into entries, as Snort 2.9 reads them.
 *
 * Snort skips blank lines and lines whose first non-blank character is `#` or `;`, and joins a line that ends with
 * a backslash (trailing blanks ignored) to the next non-skipped line. An entry keeps its whole physical range (so
 * printing is lossless) and the pieces that make up its logical text (so parsing sees what Snort sees).
 */
export type EntryKind = 'blank' | 'comment' | 'code';

/**
 * Snort 2.9 reads a line with `fgets` into a 32,768-byte buffer and refuses a line that fills it (parser.c
 * ParseConfigFile: "Line greater than or equal to 32768 characters"): a line of 32,767 characters or more, its
 * newline included, whatever it holds. honeywall refuses the same lines (counted in UTF-16 units, which is bytes for
 * rule text) and goes on with the next one. Besides fidelity this bounds what one entry can cost: a 50 MB line of
 * `x;` options ran lint and convert out of memory.
 */
export const MAX_LINE_LENGTH = 32_767;
/** parser.c: a rule joined from continued lines must stay under PARSERULE_SIZE (65,535) characters. */
export const MAX_ENTRY_LENGTH = 65_535;
/**
 * Lines one entry may be continued over. Snort has no such bound, but lines holding a lone backslash add nothing to
 * the length, and millions of them would each cost a piece here; real rules continue over a few dozen lines.
 */
export const MAX_ENTRY_LINES = 65_535;

export interface Piece {
  /** Offset of the piece in the logical text. */
  logical: number;
  /** Offset of the piece in the file. */
  physical: number;
  length: number;
}

export interface Entry {
  kind: EntryKind;
  /** Physical range, terminators included. */
  start: number;
  end: number;
  /** The logical text (continuations joined) for code and comment entries. */
  text: string;
  /** Mapping back to the file; a single piece for one-line entries. */
  pieces: Piece[];
  /**
   * Set when Snort would refuse the entry for its size: the file offset of the first line of MAX_LINE_LENGTH or
   * more, or the entry's start when its continued lines join to MAX_ENTRY_LENGTH or more (`line` / `entry`) or are
   * more than MAX_ENTRY_LINES (`lines`, `length` is then the count). The entry's text is then empty and its pieces
   * are not kept.
   */
  tooLong?: { kind: 'line' | 'entry' | 'lines'; at: number; length: number };
}

function lineBounds(text: string, pos: number): { contentEnd: number; next: number } {
  const nl = text.indexOf('\n', pos);
  if (nl === -1) return { contentEnd: text.length, next: text.length };
  return { contentEnd: nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl, next: nl + 1 };
}

function firstNonBlank(text: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 11 && c !== 12 && c !== 13) break;
    i++;
  }
  return i;
}

/** Index just past the last non-blank character in [from, to). */
function trimEnd(text: string, from: number, to: number): number {
  let i = to;
  while (i > from) {
    const c = text.charCodeAt(i - 1);
    if (c !== 32 && c !== 9 && c !== 11 && c !== 12 && c !== 13) break;
    i--;
  }
  return i;
}

/** The entries of a text one at a time (a caller that lets each go keeps no list of the file's entries). */
export class EntryReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  next(): Entry | undefined {
    const text = this.text;
    const pos = this.pos;
    if (pos >= text.length) return undefined;
    const { contentEnd, next } = lineBounds(text, pos);
    if (next - pos >= MAX_LINE_LENGTH) return this.refuse(pos, next, { kind: 'line', at: pos, length: next - pos });
    const nb = firstNonBlank(text, pos, contentEnd);
    if (nb === contentEnd) {
      this.pos = next;
      return { kind: 'blank', start: pos, end: next, text: '', pieces: [] };
    }
    const c = text.charCodeAt(nb);
    if (c === 35 /* # */ || c === 59 /* ; */) {
      this.pos = next;
      return {
        kind: 'comment',
        start: pos,
        end: next,
        text: text.slice(pos, contentEnd),
        pieces: [{ logical: 0, physical: pos, length: contentEnd - pos }],
      };
    }
    // Code, possibly continued over several lines.
    const start = pos;
    const pieces: Piece[] = [];
    let logicalLen = 0;
    let lineStart = pos;
    let lineContentEnd = contentEnd;
    let lineNext = next;
    let end = next;
    for (;;) {
      const te = trimEnd(text, lineStart, lineContentEnd);
      const continued = te > lineStart && text.charCodeAt(te - 1) === 92 /* \ */;
      const pieceEnd = continued ? te - 1 : lineContentEnd;
      pieces.push({ logical: logicalLen, physical: lineStart, length: pieceEnd - lineStart });
      logicalLen += pieceEnd - lineStart;
      end = lineNext;
      if (!continued) break;
      if (logicalLen + 1 >= MAX_ENTRY_LENGTH)
        return this.refuse(start, this.continuationEnd(lineNext), { kind: 'entry', at: start, length: logicalLen });
      if (pieces.length >= MAX_ENTRY_LINES)
        return this.refuse(start, this.continuationEnd(lineNext), { kind: 'lines', at: start, length: pieces.length });
      // Find the next line Snort would read (skipping blank and comment lines).
      let p = lineNext;
      let found = false;
      while (p < text.length) {
        const lb = lineBounds(text, p);
        if (lb.next - p >= MAX_LINE_LENGTH) return this.refuse(start, this.continuationEnd(p), { kind: 'line', at: p, length: lb.next - p });
        const fnb = firstNonBlank(text, p, lb.contentEnd);
        if (fnb !== lb.contentEnd && text[fnb] !== '#' && text[fnb] !== ';') {
          lineStart = p;
          lineContentEnd = lb.contentEnd;
          lineNext = lb.next;
          found = true;
          break;
        }
        p = lb.next;
      }
      if (!found) {
        end = p;
        break;
      }
    }
    if (pieces.length > 1 && logicalLen + 1 >= MAX_ENTRY_LENGTH) return this.refuse(start, end, { kind: 'entry', at: start, length: logicalLen });
    const logical =
      pieces.length === 1
        ? text.slice(pieces[0]!.physical, pieces[0]!.physical + pieces[0]!.length)
        : pieces.map((pc) => text.slice(pc.physical, pc.physical + pc.length)).join('');
    this.pos = end;
    return { kind: 'code', start, end, text: logical, pieces };
  }

  /** An entry Snort refuses for its size: the reader moves past it, keeping none of its text. */
  private refuse(start: number, end: number, tooLong: NonNullable<Entry['tooLong']>): Entry {
    this.pos = end;
    return { kind: 'code', start, end, text: '', pieces: [], tooLong };
  }

  /**
   * Where the continued entry that reaches `from` ends: past every line that ends with a backslash, and the line
   * after the last one (blank and comment lines between them skipped, as Snort skips them). Nothing is kept, so a
   * hostile chain of millions of continued lines costs one pass.
   */
  private continuationEnd(from: number): number {
    const text = this.text;
    let p = from;
    while (p < text.length) {
      const { contentEnd, next } = lineBounds(text, p);
      const nb = firstNonBlank(text, p, contentEnd);
      if (nb === contentEnd || text[nb] === '#' || text[nb] === ';') {
        p = next;
        continue;
      }
      const te = trimEnd(text, p, contentEnd);
      p = next;
      if (text.charCodeAt(te - 1) !== 92 /* \ */) break;
    }
    return p;
  }
}

/** Maps an offset in an entry's logical text to the file offset. */
export function toPhysical(entry: Entry, logical: number): number {
  const pieces = entry.pieces;
  if (pieces.length === 1) return pieces[0]!.physical + logical;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const pc = pieces[i]!;
    if (logical >= pc.logical) return pc.physical + (logical - pc.logical);
  }
  return entry.start + logical;
}

/** Maps an exclusive end offset: just past the last character it covers (never onto the next line's start). */
export function toPhysicalEnd(entry: Entry, logicalEnd: number): number {
  return logicalEnd <= 0 ? toPhysical(entry, 0) : toPhysical(entry, logicalEnd - 1) + 1;
}
