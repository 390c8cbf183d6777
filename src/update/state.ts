/**
 * The small state file that lets the summary say what changed since the last update (suricata-update's added /
 * removed / modified): for every enabled rule of the installed set, its gid:sid, rev and a hash of its text.
 * Written atomically, and only once the new rules are in force.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LineMap } from '../diagnostics/diagnostic.js';
import { scanRules } from '../parser/parse.js';

export interface RuleState {
  rev: number | undefined;
  hash: string;
}

export interface UpdateState {
  version: 1;
  updatedAt: string;
  rules: Record<string, RuleState>;
}

/** The enabled rules of these texts, keyed gid:sid (the last one wins, as the engine's duplicate rule does). */
export function rulesOf(texts: readonly { text: string; file: string }[]): Map<string, RuleState> {
  const out = new Map<string, RuleState>();
  for (const { text, file } of texts) {
    scanRules(text, { file, lines: new LineMap(text) }, (node) => {
      if (node.kind !== 'rule' || node.disabled || node.sid === undefined) return;
      out.set(`${node.gid}:${node.sid}`, { rev: node.rev, hash: createHash('sha256').update(node.raw.trim()).digest('hex').slice(0, 16) });
    });
  }
  return out;
}

export function readState(file: string): UpdateState | undefined {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as UpdateState;
    return j.version === 1 && typeof j.rules === 'object' && j.rules !== null ? j : undefined;
  } catch {
    return undefined;
  }
}

export function writeState(file: string, rules: Map<string, RuleState>): void {
  const s: UpdateState = { version: 1, updatedAt: new Date().toISOString(), rules: Object.fromEntries(rules) };
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(s)}\n`);
  renameSync(tmp, file);
}

export interface RuleDiff {
  /** False on the first update (no state file): nothing is called added. */
  known: boolean;
  added: string[];
  removed: string[];
  changed: string[];
}

export function diffRules(prev: UpdateState | undefined, next: Map<string, RuleState>): RuleDiff {
  if (!prev) return { known: false, added: [], removed: [], changed: [] };
  const added: string[] = [];
  const changed: string[] = [];
  for (const [k, v] of next) {
    const p = prev.rules[k];
    if (!p) added.push(k);
    else if (p.hash !== v.hash) changed.push(k);
  }
  const removed = Object.keys(prev.rules).filter((k) => !next.has(k));
  return { known: true, added, removed, changed };
}
