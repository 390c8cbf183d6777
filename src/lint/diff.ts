/**
 * `lint --diff BASE`: what changed between a base (a git ref or a directory) and the current rule set, by gid:sid.
 * A rule whose text changed while its rev did not go up gets a warning.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { RuleNode } from '../ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { LineMap } from '../diagnostics/diagnostic.js';
import { findRuleFiles, LoadError, type LoadedFile, type RuleSet } from '../config/ruleset.js';
import { parseRules } from '../parser/parse.js';

export interface DiffSummary {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface DiffResult {
  summary: DiffSummary;
  diagnostics: Diagnostic[];
}

interface RuleInfo {
  rev: number;
  body: string;
  enabled: boolean;
  file?: LoadedFile;
  rule?: RuleNode;
}

/** The rule's text as Snort reads it, without the disabling comment sign and with blanks collapsed. */
function ruleBody(r: RuleNode): string {
  const raw = r.disabledPrefix ? r.raw.slice(r.disabledPrefix.end - r.span.start) : r.raw;
  return raw
    .replace(/\\\r?\n/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function collect(texts: Iterable<string>): Map<string, RuleInfo> {
  const out = new Map<string, RuleInfo>();
  for (const text of texts) {
    for (const n of parseRules(text).file.nodes) {
      if (n.kind !== 'rule' || n.sid === undefined) continue;
      out.set(`${n.gid}:${n.sid}`, { rev: n.rev ?? 0, body: ruleBody(n), enabled: !n.disabled });
    }
  }
  return out;
}

function git(args: string[], cwd: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

function baseTexts(set: RuleSet, base: string): string[] {
  if (existsSync(base) && statSync(base).isDirectory()) return findRuleFiles(base).map((f) => readFileSync(f, 'utf8'));
  const first = set.ruleFiles[0];
  if (!first) return [];
  const dir = dirname(first.path);
  let root: string;
  try {
    root = git(['rev-parse', '--show-toplevel'], dir).trim();
    git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`], dir);
  } catch {
    throw new LoadError(`--diff: '${base}' is neither a directory nor a git ref of the repository holding ${first.display}`);
  }
  const dirs = [...new Set(set.ruleFiles.map((f) => relative(root, dirname(f.path)) || '.'))];
  const names = git(['ls-tree', '-r', '--name-only', base, '--', ...dirs], root)
    .split('\n')
    .filter((p) => p.endsWith('.rules'));
  return names.map((p) => git(['show', `${base}:${p}`], root));
}

/** The set's rule files, parsed (a set loaded with deferred rule files is parsed here). */
function currentFiles(set: RuleSet): LoadedFile[] {
  if (set.files.length > 0 || set.ruleFiles.length === 0) return set.files;
  return set.ruleFiles.map((f) => {
    const text = readFileSync(f.path, 'utf8');
    const r = parseRules(text, { file: f.display });
    return { path: f.path, display: f.display, file: r.file, diagnostics: r.diagnostics };
  });
}

export function diffRuleSets(set: RuleSet, base: string): DiffResult {
  const before = collect(baseTexts(set, base));
  const now = new Map<string, RuleInfo>();
  for (const f of currentFiles(set))
    for (const n of f.file.nodes)
      if (n.kind === 'rule' && n.sid !== undefined)
        now.set(`${n.gid}:${n.sid}`, { rev: n.rev ?? 0, body: ruleBody(n), enabled: !n.disabled, file: f, rule: n });
  const summary: DiffSummary = { added: [], removed: [], changed: [] };
  const diagnostics: Diagnostic[] = [];
  const lineMaps = new Map<LoadedFile, LineMap>();
  const report = (info: RuleInfo, severity: Diagnostic['severity'], code: string, message: string) => {
    const f = info.file!;
    let lm = lineMaps.get(f);
    if (!lm) lineMaps.set(f, (lm = new LineMap(f.file.text)));
    const opt = info.rule!.options.find((o) => o.keyword === 'rev') ?? info.rule!.options.find((o) => o.keyword === 'sid');
    const offset = opt?.span.start ?? info.rule!.span.start;
    const { line, column } = lm.position(offset);
    diagnostics.push({
      code,
      severity,
      message,
      file: f.display,
      line,
      column,
      offset,
      length: opt ? opt.span.end - opt.span.start : 1,
      sid: info.rule!.sid,
    });
  };
  for (const [key, info] of now) {
    const old = before.get(key);
    if (!old) {
      summary.added.push(key);
      report(info, 'info', 'sid-added', `rule ${key} is new since ${base}`);
      continue;
    }
    if (old.body !== info.body) {
      summary.changed.push(key);
      if (info.rev <= old.rev)
        report(info, 'warning', 'rev-not-bumped', `rule ${key} changed since ${base} but its rev stayed ${info.rev} (was ${old.rev})`);
      else report(info, 'info', 'sid-changed', `rule ${key} changed since ${base} (rev ${old.rev} -> ${info.rev})`);
    }
  }
  for (const key of before.keys()) if (!now.has(key)) summary.removed.push(key);
  const bySid = (a: string, b: string) => Number(a.split(':')[1]) - Number(b.split(':')[1]);
  summary.added.sort(bySid);
  summary.removed.sort(bySid);
  summary.changed.sort(bySid);
  return { summary, diagnostics };
}
