/** Shared checks for the convert tests: what makes Snort 2.9 inline load a converted rule file. */
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import type { ContentArgs } from '../../src/keywords/content.js';
import { KEYWORDS } from '../../src/keywords/index.js';
import type { RuleFile } from '../../src/ast.js';

/**
 * Error diagnostics, minus `unknown-keyword` for keywords honeywall does not implement YET (the keyword work is in
 * progress elsewhere). As soon as a keyword is registered in src/keywords, its errors count again: this relaxation
 * tightens by itself. Returns the errors and the names of the keywords exempted.
 */
export function realErrors(diags: Diagnostic[]): { errors: Diagnostic[]; pendingKeywords: Set<string> } {
  const pendingKeywords = new Set<string>();
  // Rules (by file and sid) with a keyword not implemented yet: their other errors may follow from it
  // (a byte_extract variable unknown because byte_extract itself is unknown).
  const pendingRules = new Set<string>();
  for (const d of diags) {
    if (d.severity !== 'error' || d.code !== 'unknown-keyword') continue;
    const kw = /'([^']+)'/.exec(d.message)?.[1];
    if (kw && !KEYWORDS.has(kw)) {
      pendingKeywords.add(kw);
      pendingRules.add(`${d.file} ${d.sid}`);
    }
  }
  const errors = diags.filter(
    (d) =>
      d.severity === 'error' &&
      !(d.sid !== undefined && pendingRules.has(`${d.file} ${d.sid}`)) &&
      !(d.code === 'unknown-keyword' && pendingKeywords.has(/'([^']+)'/.exec(d.message)?.[1] ?? '')),
  );
  return { errors, pendingKeywords };
}

const SNORT_INLINE_ACTIONS = new Set(['alert', 'log', 'pass', 'drop', 'sdrop', 'reject', 'activate', 'dynamic']);
export const SURICATA_ACTIONS = new Set(['alert', 'pass', 'drop', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth']);

/** Violations of the rules Snort 2.9 inline applies when it loads replace and actions (empty = loads). */
export function inlineLoadViolations(file: RuleFile, actions: ReadonlySet<string> = SNORT_INLINE_ACTIONS): string[] {
  const out: string[] = [];
  for (const n of file.nodes) {
    if (n.kind !== 'rule' || n.disabled) continue;
    const where = `${file.file} sid ${n.sid}`;
    if (!actions.has(n.header.action.text)) out.push(`${where}: action '${n.header.action.text}'`);
    const perContent = new Map<number, number>();
    let lastContent = -1;
    n.options.forEach((o, i) => {
      if (o.keyword === 'content' || o.keyword === 'uricontent') lastContent = i;
      if (o.keyword === 'replace') {
        if (lastContent === -1) out.push(`${where}: replace without content`);
        perContent.set(lastContent, (perContent.get(lastContent) ?? 0) + 1);
      }
    });
    for (const [i, count] of perContent) if (count > 1) out.push(`${where}: ${count} replaces on content #${i}`);
    for (const o of n.options) {
      if (o.keyword !== 'content' && o.keyword !== 'uricontent') continue;
      const c = o.args as ContentArgs | undefined;
      if (!c?.mods.replace) continue;
      if (c.mods.replace.length !== c.bytes.length) out.push(`${where}: replace ${c.mods.replace.length} bytes on a ${c.bytes.length}-byte content`);
      if (c.negated) out.push(`${where}: replace on a negated content`);
      if (c.uricontent || c.mods.buffer) out.push(`${where}: replace on ${c.mods.buffer ?? 'uricontent'}`);
      if (c.mods.fastPattern?.only) out.push(`${where}: replace on fast_pattern:only content`);
    }
  }
  return out;
}
