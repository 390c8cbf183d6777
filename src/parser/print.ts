/** The printer: a RuleFile back to text. It makes no decisions: each node's source, with any edits applied. */
import type { Node, RuleFile } from '../ast.js';

export function printNode(node: Node): string {
  const edits = node.edits;
  if (!edits || edits.length === 0) return node.raw;
  const base = node.span.start;
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let pos = 0;
  for (const e of sorted) {
    const s = e.start - base;
    if (s < pos) throw new Error(`overlapping edits at offset ${e.start}`);
    out += node.raw.slice(pos, s) + e.text;
    pos = e.end - base;
  }
  return out + node.raw.slice(pos);
}

export function printRules(file: RuleFile): string {
  let out = '';
  for (const n of file.nodes) out += printNode(n);
  return out;
}
