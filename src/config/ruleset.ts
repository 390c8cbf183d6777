/**
 * Loading a rule set as Snort would: rule files and directories, or a snort.conf whose variables are defined in
 * order and whose `include`s are followed (with `$RULE_PATH`), plus classification.config and `--var` overrides.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { RuleFile } from '../ast.js';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import { parseRules } from '../parser/parse.js';
import { defaultClassifications, parseClassificationConfig, type Classification } from './classification.js';
import { parseVarOverride, VariableTable } from './variables.js';
import { BinaryInputError, readTextFile } from './read-text.js';

export interface LoadedFile {
  /** Absolute path. */
  path: string;
  /** How the file is named in messages (relative to the working directory when below it). */
  display: string;
  file: RuleFile;
  diagnostics: Diagnostic[];
}

export interface RuleFileRef {
  path: string;
  display: string;
}

export interface RuleSet {
  /** Rule files, in load order (empty when the load was asked to leave them unparsed). */
  files: LoadedFile[];
  /** Every rule file of the set, in load order, parsed or not. */
  ruleFiles: RuleFileRef[];
  /** Configuration files read (snort.conf and what it includes that is not a rule file). */
  configs: LoadedFile[];
  vars: VariableTable;
  classifications: Map<string, Classification>;
  /** Problems of the set as a whole (missing includes, bad --var, ...). */
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  paths: string[];
  conf?: string;
  vars?: string[];
  cwd?: string;
  /** Find the rule files but do not read them (the caller parses them, e.g. in worker threads). */
  deferRuleFiles?: boolean;
}

export class LoadError extends Error {}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** A rule or configuration file's text; a failure is a LoadError naming the file (the command exits 2). */
export function readText(path: string): string {
  try {
    return readTextFile(path);
  } catch (e) {
    if (e instanceof BinaryInputError) throw new LoadError(e.message);
    throw new LoadError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** All `*.rules` files below a directory, sorted for a stable order. */
export function findRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.rules')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function isConfigPath(path: string): boolean {
  return path.endsWith('.conf') || path.endsWith('.config');
}

export function loadRuleSet(opts: LoadOptions): RuleSet {
  const cwd = opts.cwd ?? process.cwd();
  const set: RuleSet = { files: [], ruleFiles: [], configs: [], vars: VariableTable.withDefaults(), classifications: defaultClassifications(), diagnostics: [] };
  const seenFiles = new Set<string>();
  let classificationsFromFile = false;

  const loadRules = (path: string) => {
    if (seenFiles.has(path)) return;
    seenFiles.add(path);
    const shown = display(path, cwd);
    set.ruleFiles.push({ path, display: shown });
    if (opts.deferRuleFiles) return;
    const r = parseRules(readText(path), { file: shown });
    set.files.push({ path, display: shown, file: r.file, diagnostics: r.diagnostics });
  };

  const loadClassifications = (path: string, from: LoadedFile | undefined) => {
    const text = readText(path);
    const { entries, bad } = parseClassificationConfig(text);
    if (!classificationsFromFile) {
      set.classifications = new Map();
      classificationsFromFile = true;
    }
    for (const c of entries) set.classifications.set(c.name, c);
    for (const b of bad)
      set.diagnostics.push({ code: 'bad-classification', severity: 'error', message: `cannot read classification '${b.text.trim()}'`, file: display(path, cwd), line: b.line, column: 1, offset: 0, length: b.text.length });
    void from;
  };

  const loadConfig = (path: string, depth: number) => {
    if (depth > 16) throw new LoadError(`includes nested too deeply at ${path}`);
    if (seenFiles.has(path)) return;
    seenFiles.add(path);
    const text = readText(path);
    const shown = display(path, cwd);
    const r = parseRules(text, { file: shown });
    const loaded: LoadedFile = { path, display: shown, file: r.file, diagnostics: r.diagnostics };
    set.configs.push(loaded);
    const lines = new LineMap(text);
    for (const node of r.file.nodes) {
      if (node.kind === 'rule' && !node.disabled) {
        // Rules written directly in a config file are part of the set.
        if (!set.files.includes(loaded)) {
          set.files.push(loaded);
          set.ruleFiles.push({ path, display: shown });
        }
        continue;
      }
      if (node.kind !== 'directive' || node.disabled) continue;
      const { line, column } = lines.position(node.keyword.span.start);
      if (node.directive === 'var' || node.directive === 'ipvar' || node.directive === 'portvar') {
        if (!node.name || !node.value) {
          set.diagnostics.push({ code: 'bad-variable', severity: 'error', message: `${node.directive} needs a name and a value`, file: shown, line, column, offset: node.keyword.span.start, length: node.raw.trimEnd().length });
          continue;
        }
        set.vars.set({ kind: node.directive, name: node.name.value, value: node.value.value, origin: `${shown}:${line}` });
      } else if (node.directive === 'include' && node.name) {
        const target = set.vars.substitute(node.name.value);
        const full = isAbsolute(target) ? target : resolve(dirname(path), target);
        if (!existsSync(full)) {
          set.diagnostics.push({ code: 'include-not-found', severity: 'error', message: `include '${node.name.value}' (${full}) does not exist`, file: shown, line, column, offset: node.name.span.start, length: node.name.text.length });
          continue;
        }
        const name = basename(full);
        if (name === 'classification.config') loadClassifications(full, loaded);
        else if (name === 'reference.config' || name === 'unicode.map' || name.endsWith('.map')) continue;
        else if (full.endsWith('.rules')) loadRules(full);
        else loadConfig(full, depth + 1);
      }
    }
  };

  if (opts.conf) {
    const conf = resolve(cwd, opts.conf);
    if (!existsSync(conf)) throw new LoadError(`configuration ${opts.conf} does not exist`);
    loadConfig(conf, 0);
  }
  for (const p of opts.paths) {
    const full = resolve(cwd, p);
    if (!existsSync(full)) throw new LoadError(`${p} does not exist`);
    const st = statSync(full);
    if (st.isDirectory()) {
      const cls = join(full, 'classification.config');
      if (!classificationsFromFile && existsSync(cls)) loadClassifications(cls, undefined);
      for (const f of findRuleFiles(full)) loadRules(f);
    } else if (isConfigPath(full)) loadConfig(full, 0);
    else loadRules(full);
  }
  for (const v of opts.vars ?? []) {
    const o = parseVarOverride(v);
    if (!o) throw new LoadError(`--var '${v}' is not NAME=VALUE`);
    const existing = set.vars.get(o.name);
    set.vars.set({ kind: existing?.kind ?? 'var', name: o.name, value: o.value, origin: '--var' });
  }
  return set;
}
