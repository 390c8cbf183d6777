/**
 * Loading a rule set as Snort would: rule files and directories, or a snort.conf whose variables are defined in
 * order and whose `include`s are followed (with `$RULE_PATH`), plus classification.config and `--var` overrides.
 */
import { existsSync, readdirSync, type Stats, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { RuleFile } from '../ast.js';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DirectiveNode } from '../ast.js';
import { parseRules, readDirectives } from '../parser/parse.js';
import { defaultClassifications, parseClassificationConfig, type Classification } from './classification.js';
import { parseVarOverride, VariableTable } from './variables.js';
import { BinaryInputError, readTextFile } from './read-text.js';
import {
  MixedDialectError,
  readDialectText,
  rewriteDiagnostics,
  translationLines,
  type InputDialect,
  type SuricataTranslation,
} from '../suricata/index.js';

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
  /**
   * The file's text, when the load read it (for its variables) but did not parse it: the caller takes it from here
   * rather than reading the file again, and drops it (`takeText`).
   */
  text?: string;
  /**
   * Set when the file was read as Suricata's (src/suricata): its text is the Snort 2.9 translation, and this maps
   * positions back to the Suricata file and says why refused rules were refused (`dialectLines`, `dialectDiagnostics`).
   */
  suricata?: SuricataTranslation;
}

/** The line map a rule file's diagnostics use: the Suricata file's positions for a translated one. */
export function dialectLines(ref: RuleFileRef, text: string): LineMap {
  return ref.suricata !== undefined ? translationLines(ref.suricata) : new LineMap(text);
}

/** A rule file's parse diagnostics, the refusal markers of a translated one named with their reason. */
export function dialectDiagnostics(ref: RuleFileRef, diags: readonly Diagnostic[], refusal: 'error' | 'warning'): readonly Diagnostic[] {
  return ref.suricata !== undefined ? rewriteDiagnostics(ref.suricata, diags, refusal) : diags;
}

/** A deferred rule file's text: the one the load read, handed over once, else read now. */
export function takeText(ref: RuleFileRef): string {
  const text = ref.text ?? readText(ref.path);
  ref.text = undefined;
  return text;
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
  /** The dialect of the rule files: Snort 2.9 (default), Suricata 5-7, or decided per file (src/suricata/detect.ts). */
  inputDialect?: InputDialect;
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

/** How deep below a directory given as rules `findRuleFiles` looks (ET's and Snort's trees are one level deep). */
export const MAX_RULE_DIR_DEPTH = 32;

/**
 * All `*.rules` files below a directory, sorted for a stable order. Symbolic links are followed, each directory
 * (by device and inode) walked once: a link back up the tree, or two links to one directory, add nothing. A `.rules`
 * entry that cannot be read (a dangling link, no permission), a directory that cannot be listed, or a tree deeper than
 * MAX_RULE_DIR_DEPTH is a LoadError naming the path; other entries that cannot be looked at are passed over.
 */
export function findRuleFiles(dir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const failed = (p: string, e: unknown) => new LoadError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  const walk = (d: string, st: Stats, depth: number) => {
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    if (depth > MAX_RULE_DIR_DEPTH) throw new LoadError(`${d}: directories nested more than ${MAX_RULE_DIR_DEPTH} deep below ${dir}`);
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (e) {
      throw failed(d, e);
    }
    for (const name of names) {
      const p = join(d, name);
      let pst: Stats;
      try {
        pst = statSync(p);
      } catch (e) {
        if (name.endsWith('.rules')) throw failed(p, e);
        continue;
      }
      if (pst.isDirectory()) walk(p, pst, depth + 1);
      else if (name.endsWith('.rules')) out.push(p);
    }
  };
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw failed(dir, e);
  }
  walk(dir, st, 0);
  return out;
}

export function isConfigPath(path: string): boolean {
  return path.endsWith('.conf') || path.endsWith('.config');
}

export function loadRuleSet(opts: LoadOptions): RuleSet {
  const cwd = opts.cwd ?? process.cwd();
  const set: RuleSet = {
    files: [],
    ruleFiles: [],
    configs: [],
    vars: VariableTable.withDefaults(),
    classifications: defaultClassifications(),
    diagnostics: [],
  };
  const seenFiles = new Set<string>();
  let classificationsFromFile = false;

  /**
   * A rule file joins the set. Snort reads every included file twice: a first pass defines variables (and follows
   * includes) in include order before any rule is read, so a `var`/`ipvar`/`portvar` line in a .rules file counts
   * for every rule of the set, as the same line in snort.conf at that place would (parser.c: ParseConfigFile with
   * parse_rules 0, then 1). Those lines are read here, when the file is reached.
   */
  const loadRules = (path: string, depth: number) => {
    if (depth > 16) throw new LoadError(`includes nested too deeply at ${path}`);
    if (seenFiles.has(path)) return;
    seenFiles.add(path);
    const shown = display(path, cwd);
    const ref: RuleFileRef = { path, display: shown };
    set.ruleFiles.push(ref);
    let text = readText(path);
    try {
      const d = readDialectText(text, shown, opts.inputDialect);
      text = d.text;
      if (d.suricata !== undefined) ref.suricata = d.suricata;
    } catch (e) {
      if (e instanceof MixedDialectError) throw new LoadError(e.message);
      throw e;
    }
    const directives = readDirectives(text);
    if (directives.length > 0) {
      const lines = new LineMap(text);
      for (const node of directives) applyDirective(node, path, shown, lines, depth);
    }
    if (opts.deferRuleFiles) {
      ref.text = text;
      return;
    }
    const r = parseRules(text, { file: shown, lines: dialectLines(ref, text) });
    set.files.push({ path, display: shown, file: r.file, diagnostics: [...dialectDiagnostics(ref, r.diagnostics, 'error')] });
  };

  /** A `var`/`ipvar`/`portvar` defines a variable; an `include` loads its file (snort.conf and rule files alike). */
  const applyDirective = (node: DirectiveNode, path: string, shown: string, lines: LineMap, depth: number) => {
    const { line, column } = lines.position(node.keyword.span.start);
    if (node.directive === 'var' || node.directive === 'ipvar' || node.directive === 'portvar') {
      if (!node.name || !node.value) {
        set.diagnostics.push({
          code: 'bad-variable',
          severity: 'error',
          message: `${node.directive} needs a name and a value`,
          file: shown,
          line,
          column,
          offset: node.keyword.span.start,
          length: node.raw.trimEnd().length,
        });
        return;
      }
      set.vars.set({ kind: node.directive, name: node.name.value, value: node.value.value, origin: `${shown}:${line}` });
    } else if (node.directive === 'include' && node.name) {
      const target = set.vars.substitute(node.name.value);
      const full = isAbsolute(target) ? target : resolve(dirname(path), target);
      if (!existsSync(full)) {
        set.diagnostics.push({
          code: 'include-not-found',
          severity: 'error',
          message: `include '${node.name.value}' (${full}) does not exist`,
          file: shown,
          line,
          column,
          offset: node.name.span.start,
          length: node.name.text.length,
        });
        return;
      }
      const name = basename(full);
      if (name === 'classification.config') loadClassifications(full, undefined);
      else if (name === 'reference.config' || name === 'unicode.map' || name.endsWith('.map')) return;
      else if (full.endsWith('.rules')) loadRules(full, depth + 1);
      else loadConfig(full, depth + 1);
    }
  };

  const loadClassifications = (path: string, from: LoadedFile | undefined): void => {
    const text = readText(path);
    const { entries, bad } = parseClassificationConfig(text);
    if (!classificationsFromFile) {
      set.classifications = new Map();
      classificationsFromFile = true;
    }
    for (const c of entries) set.classifications.set(c.name, c);
    for (const b of bad)
      set.diagnostics.push({
        code: 'bad-classification',
        severity: 'error',
        message: `cannot read classification '${b.text.trim()}'`,
        file: display(path, cwd),
        line: b.line,
        column: 1,
        offset: 0,
        length: b.text.length,
      });
    void from;
  };

  // (A function declaration: applyDirective, above, calls it and loadRules, and they call it.)
  function loadConfig(path: string, depth: number): void {
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
      applyDirective(node, path, shown, lines, depth);
    }
  }

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
      for (const f of findRuleFiles(full)) loadRules(f, 0);
    } else if (isConfigPath(full)) loadConfig(full, 0);
    else loadRules(full, 0);
  }
  for (const v of opts.vars ?? []) {
    const o = parseVarOverride(v);
    if (!o) throw new LoadError(`--var '${v}' is not NAME=VALUE`);
    const existing = set.vars.get(o.name);
    set.vars.set({ kind: existing?.kind ?? 'var', name: o.name, value: o.value, origin: '--var' });
  }
  return set;
}
