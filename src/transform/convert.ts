/**
 * `honeywall convert`, the pipeline: find the input rule files (files, directories, or a snort.conf whose `include`s,
 * also `# include`, are followed), convert every rule (convert-rule.ts), and build the report. Reading and converting
 * are here; writing the outputs is `writeConverted` so the pipeline can be tested in memory.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DirectiveNode, Edit, Node, RuleFile } from '../ast.js';
import { LineMap, type Diagnostic } from '../diagnostics/diagnostic.js';
import { findRuleFiles, LoadError } from '../config/ruleset.js';
import { parseRules, scanRules } from '../parser/parse.js';
import { printNode, printRules } from '../parser/print.js';
import { convertRule, type ConvertRuleOptions, type RuleOutcome } from './convert-rule.js';
import type { RuleContext } from './decide.js';
import { resolveFlowbits } from './flowbits.js';
import { BinaryInputError, readTextFile } from '../config/read-text.js';
import { MixedDialectError, readDialectText, type DialectText, type InputDialect } from '../suricata/index.js';
import type { RefusedRule } from '../suricata/translate.js';

/** The bundled files: the Honeywall's default policy and the seed paper's test rules. */
export const RULESETS_DIR = fileURLToPath(new URL('../../rulesets/', import.meta.url));
export const DEFAULT_POLICY_PATH = path.join(RULESETS_DIR, 'honeywall-policy.conf');
export const TEST_RULES_PATH = path.join(RULESETS_DIR, 'honeynet-test.rules');

export class ConvertInputError extends Error {}

export interface ConvertOptions extends ConvertRuleOptions {
  paths: string[];
  /** A snort.conf to follow (snortconfig's -file); PATHs ending in .conf are followed too. */
  conf?: string;
  /** Where outputs will be written (used to rewrite snort.conf include paths); undefined = dry run. */
  outDir?: string;
  /** Add the bundled test rules, enabled. */
  testRules: boolean;
  /** Keep the flowbits setters that enabled rules check enabled (flowbits.ts), as suricata-update does. */
  resolveFlowbits?: boolean;
  cwd?: string;
  /** The dialect of the rule files (src/suricata): Suricata rules are translated, the refused ones written as comments. */
  inputDialect?: InputDialect;
}

export interface ConvertedRules {
  kind: 'rules';
  /** Input path as shown in messages. */
  input: string;
  absPath: string;
  outputName: string;
  text: string;
  outcomes: RuleOutcome[];
  testRules: boolean;
  /** Rules of a Suricata input without a mapping: written as comments, listed here with the reason. */
  untranslated: RefusedRule[];
}

export interface ConvertedConf {
  kind: 'conf';
  input: string;
  absPath: string;
  outputName: string;
  text: string;
}

export type ConvertedFile = ConvertedRules | ConvertedConf;

export interface MissingInclude {
  file: string;
  line: number;
  include: string;
  resolved: string;
}

export interface ConvertResult {
  files: ConvertedFile[];
  missingIncludes: MissingInclude[];
}

function display(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

function readText(p: string): string {
  try {
    return readTextFile(p);
  } catch (e) {
    if (e instanceof BinaryInputError) throw new ConvertInputError(e.message);
    throw new ConvertInputError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Converts the rules of one parsed file; assigns each node's edits and returns the text and outcomes. */
export function convertRuleFile(
  parsed: { file: RuleFile; diagnostics: Diagnostic[] },
  ctx: RuleContext,
  opts: ConvertRuleOptions,
): { text: string; outcomes: RuleOutcome[] } {
  const { file, diagnostics } = parsed;
  const converter = new NodeConverter(file.text, ctx, opts);
  const errors = diagnostics.filter((d) => d.severity === 'error').sort((a, b) => a.offset - b.offset);
  for (const node of file.nodes) converter.convert(node, errorsIn(errors, node.span.start, node.span.end));
  return { text: printRules(file), outcomes: converter.outcomes };
}

/**
 * The same conversion from the file's text, one node at a time: each rule is parsed, converted, printed and let go
 * (nothing of the file's syntax tree is kept, which is what makes converting a large rule set cheap).
 */
export function convertRuleText(
  text: string,
  fileName: string,
  ctx: RuleContext,
  opts: ConvertRuleOptions,
): { text: string; outcomes: RuleOutcome[] } {
  const converter = new NodeConverter(text, ctx, opts);
  const out: string[] = [];
  scanRules(text, { file: fileName, lines: converter.lines }, (node, diagnostics) => {
    converter.convert(node, diagnostics);
    out.push(printNode(node));
  });
  return { text: out.join(''), outcomes: converter.outcomes };
}

/** The error diagnostics among `sorted` (by offset) that lie in [start, end). */
function errorsIn(sorted: readonly Diagnostic[], start: number, end: number): Diagnostic[] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.offset < start) lo = mid + 1;
    else hi = mid;
  }
  const out: Diagnostic[] = [];
  for (let i = lo; i < sorted.length && sorted[i]!.offset < end; i++) out.push(sorted[i]!);
  return out;
}

/** Converts one node (a rule by the policy, an unreadable line by --on-bad-rule), setting its edits. */
class NodeConverter {
  readonly outcomes: RuleOutcome[] = [];
  /** The file's line map (convertRuleText shares it with the parser's diagnostics). */
  readonly lines: LineMap;

  constructor(
    private readonly text: string,
    private readonly ctx: RuleContext,
    private readonly opts: ConvertRuleOptions,
  ) {
    this.lines = new LineMap(text);
  }

  convert(node: Node, diagnostics: readonly Diagnostic[]): void {
    if (node.kind === 'rule') {
      const line = this.lines.position(node.header.action.span.start).line;
      const error = !node.disabled && node.invalid ? firstError(diagnostics) : undefined;
      const r = convertRule({ rule: node, text: this.text, line, error }, this.ctx, this.opts);
      node.edits = r.edits.length > 0 ? r.edits : undefined;
      this.outcomes.push(r.outcome);
    } else if (node.kind === 'unparsed') {
      const line = this.lines.position(node.span.start).line;
      const error = firstError(diagnostics);
      const reason = error ? `${error.code}: ${error.message}` : node.reason;
      const disable = this.opts.onBadRule === 'disable';
      if (disable) node.edits = [{ start: node.span.start, end: node.span.start, text: '# ' }];
      this.outcomes.push({
        line,
        gid: 1,
        sid: error?.sid,
        status: 'skipped',
        result: disable ? 'disabled' : 'unparsed',
        decidedBy: undefined,
        replaced: 0,
        notes: [],
        reason,
      });
    }
  }
}

function firstError(diagnostics: readonly Diagnostic[]): Diagnostic | undefined {
  let first: Diagnostic | undefined;
  for (const d of diagnostics) if (d.severity === 'error' && (first === undefined || d.offset < first.offset)) first = d;
  return first;
}

/** The bundled test rules, enabled: their `# ` prefix removed; no policy, no reversal (they are written outbound). */
export function enableTestRules(parsed: { file: RuleFile; diagnostics: Diagnostic[] }): { text: string; outcomes: RuleOutcome[] } {
  const lines = new LineMap(parsed.file.text);
  const outcomes: RuleOutcome[] = [];
  for (const node of parsed.file.nodes) {
    if (node.kind !== 'rule') continue;
    const line = lines.position(node.header.action.span.start).line;
    if (node.disabled && node.disabledPrefix) node.edits = [{ ...node.disabledPrefix, text: '' }];
    outcomes.push({
      line,
      gid: node.gid,
      sid: node.sid,
      status: node.disabled ? 'converted' : 'unchanged',
      result: node.header.action.value,
      decidedBy: undefined,
      replaced: 0,
      notes: [],
    });
  }
  return { text: printRules(parsed.file), outcomes };
}

interface RuleInputFile {
  absPath: string;
  display: string;
  testRules: boolean;
}

function isConf(p: string): boolean {
  return p.endsWith('.conf') || p.endsWith('.config');
}

/** Reads and converts everything; writes nothing. */
export function convert(opts: ConvertOptions): ConvertResult {
  const cwd = opts.cwd ?? process.cwd();
  const inputs: RuleInputFile[] = [];
  const seen = new Set<string>();
  const confs: { absPath: string; display: string; file: RuleFile; includes: { node: DirectiveNode; target: RuleInputFile }[] }[] = [];
  const missingIncludes: MissingInclude[] = [];

  const addRules = (absPath: string, testRules = false): RuleInputFile => {
    const existing = inputs.find((i) => i.absPath === absPath);
    if (existing) return existing;
    const f = { absPath, display: display(absPath, cwd), testRules };
    inputs.push(f);
    seen.add(absPath);
    return f;
  };

  const followConf = (absPath: string) => {
    if (confs.some((c) => c.absPath === absPath)) return;
    const shown = display(absPath, cwd);
    const parsed = parseRules(readText(absPath), { file: shown });
    const conf = { absPath, display: shown, file: parsed.file, includes: [] as { node: DirectiveNode; target: RuleInputFile }[] };
    confs.push(conf);
    const vars = new Map<string, string>();
    const lines = new LineMap(parsed.file.text);
    for (const node of parsed.file.nodes) {
      if (node.kind !== 'directive') continue;
      if (!node.disabled && (node.directive === 'var' || node.directive === 'ipvar' || node.directive === 'portvar') && node.name && node.value)
        vars.set(node.name.value, node.value.value);
      if (node.directive !== 'include' || !node.name) continue;
      // snortconfig substitutes variables only on include lines, with the values defined above them.
      const target = node.name.value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => vars.get(name) ?? m);
      if (!target.endsWith('.rules')) continue;
      const full = path.isAbsolute(target) ? target : path.resolve(path.dirname(absPath), target);
      if (!existsSync(full)) {
        missingIncludes.push({ file: shown, line: lines.position(node.name.span.start).line, include: node.name.value, resolved: full });
        continue;
      }
      conf.includes.push({ node, target: addRules(full) });
    }
  };

  const all = opts.conf ? [opts.conf, ...opts.paths] : opts.paths;
  all.forEach((p, i) => {
    const full = path.resolve(cwd, p);
    if (!existsSync(full)) throw new ConvertInputError(`${p} does not exist`);
    const st = statSync(full);
    if (st.isDirectory()) {
      let files: string[];
      try {
        files = findRuleFiles(full);
      } catch (e) {
        if (e instanceof LoadError) throw new ConvertInputError(e.message);
        throw e;
      }
      for (const f of files) addRules(f);
    } else if ((opts.conf && i === 0) || isConf(full)) followConf(full);
    else addRules(full);
  });
  if (opts.testRules) addRules(TEST_RULES_PATH, true);

  // One output per input basename: two inputs with the same basename would overwrite each other.
  const byName = new Map<string, RuleInputFile>();
  for (const f of inputs) {
    const name = path.basename(f.absPath);
    const other = byName.get(name);
    if (other) throw new ConvertInputError(`${other.display} and ${f.display} would both be written as ${name}`);
    byName.set(name, f);
  }

  const files: ConvertedFile[] = [];
  const ctxOf = (f: RuleInputFile): RuleContext => ({ path: f.display, basename: path.basename(f.absPath) });
  // Each rule file's text in honeywall's dialect (a Suricata file translated once, for the flowbits pass and the
  // conversion alike).
  const texts = new Map<string, DialectText>();
  const rulesText = (f: RuleInputFile): DialectText => {
    let d = texts.get(f.absPath);
    if (d === undefined) {
      try {
        d = f.testRules ? { text: readText(f.absPath) } : readDialectText(readText(f.absPath), f.display, opts.inputDialect, { refused: 'comment' });
      } catch (e) {
        if (e instanceof MixedDialectError) throw new ConvertInputError(e.message);
        throw e;
      }
      texts.set(f.absPath, d);
    }
    return d;
  };
  let ruleOpts: ConvertRuleOptions = opts;
  if (opts.resolveFlowbits) {
    const sources = inputs.filter((f) => !f.testRules).map((f) => ({ text: rulesText(f).text, ctx: ctxOf(f) }));
    ruleOpts = { ...opts, flowbitsEnable: resolveFlowbits(sources, opts.policy) };
  }
  for (const f of inputs) {
    const dialect = rulesText(f);
    texts.delete(f.absPath);
    const text = dialect.text;
    const ctx = ctxOf(f);
    const r = f.testRules ? enableTestRules(parseRules(text, { file: f.display })) : convertRuleText(text, f.display, ctx, ruleOpts);
    files.push({
      kind: 'rules',
      input: f.display,
      absPath: f.absPath,
      outputName: path.basename(f.absPath),
      text: r.text,
      outcomes: r.outcomes,
      testRules: f.testRules,
      untranslated: dialect.suricata?.refusedRules ?? [],
    });
  }
  for (const c of confs) {
    const outDir = opts.outDir ? path.resolve(cwd, opts.outDir) : undefined;
    for (const { node, target } of c.includes) {
      const name = node.name!;
      const newPath = outDir ? path.join(outDir, path.basename(target.absPath)) : path.basename(target.absPath);
      const edit: Edit = { start: name.span.start, end: name.span.end, text: newPath };
      node.edits = [edit];
    }
    let text = printRules(c.file);
    if (opts.testRules && c === confs[0]) {
      const testPath = outDir ? path.join(outDir, path.basename(TEST_RULES_PATH)) : path.basename(TEST_RULES_PATH);
      text += `${text === '' || text.endsWith('\n') ? '' : '\n'}# honeywall convert --test-rules: the test plan's rules (disable them after the test)\ninclude ${testPath}\n`;
    }
    files.push({ kind: 'conf', input: c.display, absPath: c.absPath, outputName: path.basename(c.absPath), text });
  }
  return { files, missingIncludes };
}

/** Writes every converted file into `outDir` (created when missing); returns the paths written. */
export function writeConverted(result: ConvertResult, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const f of result.files) {
    const target = path.join(outDir, f.outputName);
    if (path.resolve(target) === path.resolve(f.absPath))
      throw new ConvertInputError(`refusing to overwrite the input ${f.input}: choose another --out directory`);
    writeFileSync(target, f.text);
    written.push(target);
  }
  return written;
}
