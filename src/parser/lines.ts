/**
 * Stage 1: the file's physical lines grouped into entries, as Snort 2.9 reads them.
 *
 * Snort skips blank lines and lines whose first non-blank character is `#` or `;`, and joins a line that ends with
 * a backslash (trailing blanks ignored) to the next non-skipped line. An entry keeps its whole physical range (so
 * printing is lossless) and the pieces that make up its logical text (so parsing sees what Snort sees).
 */
export type EntryKind = 'blank' | 'comment' | 'code';

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
    const nb = firstNonBlank(text, pos, contentEnd);
    if (nb === contentEnd) {
      this.pos = next;
      return { kind: 'blank', start: pos, end: next, text: '', pieces: [] };
    }
    const c = text.charCodeAt(nb);
    if (c === 35 /* # */ || c === 59 /* ; */) {
      this.pos = next;
      return { kind: 'comment', start: pos, end: next, text: text.slice(pos, contentEnd), pieces: [{ logical: 0, physical: pos, length: contentEnd - pos }] };
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
      // Find the next line Snort would read (skipping blank and comment lines).
      let p = lineNext;
      let found = false;
      while (p < text.length) {
        const lb = lineBounds(text, p);
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
    const logical = pieces.length === 1 ? text.slice(pieces[0]!.physical, pieces[0]!.physical + pieces[0]!.length) : pieces.map((pc) => text.slice(pc.physical, pc.physical + pc.length)).join('');
    this.pos = end;
    return { kind: 'code', start, end, text: logical, pieces };
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
