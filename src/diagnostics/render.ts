/** Diagnostic renderers: text for people, JSON, SARIF 2.1.0 for code scanning, GitHub workflow annotations. */
import { noControls } from '../output/visible.js';
import { LineMap, type Diagnostic } from './diagnostic.js';

export interface LintSummary {
  files: number;
  rules: { total: number; enabled: number; disabled: number };
}

/** What a problem line shows (a Diagnostic has it all; `compile`'s failures have it too). */
export type DiagnosticHead = Pick<Diagnostic, 'file' | 'line' | 'column' | 'severity' | 'code' | 'message' | 'sid'>;

/**
 * `file:line:col: severity code: message [sid N]`: the one form every command prints a problem in (lint's text
 * output, compile's failures, replay's rules not loaded), so that one pattern reads them all.
 */
export function diagnosticLine(d: DiagnosticHead): string {
  // (the file's name and the message, which may quote the rule, as text safe for a terminal)
  return `${noControls(d.file)}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${noControls(d.message)}${d.sid !== undefined ? ` [sid ${d.sid}]` : ''}`;
}

/** `file:line:col: severity code: message`, the source line and a caret (`~` under the rest of the range). */
export function renderText(diags: Diagnostic[], sourceOf: (file: string) => string | undefined): string {
  const maps = new Map<string, LineMap>();
  let out = '';
  for (const d of diags) {
    out += `${diagnosticLine(d)}\n`;
    const text = sourceOf(d.file);
    if (text === undefined) continue;
    let lm = maps.get(d.file);
    if (!lm) maps.set(d.file, (lm = new LineMap(text)));
    const line = lm.lineText(d.line);
    // Long rule lines: show a window around the column.
    const start = Math.max(0, d.column - 1 - 60);
    const end = Math.min(line.length, d.column - 1 + Math.max(d.length, 1) + 40);
    const prefix = start > 0 ? '...' : '';
    // (one character for one: the caret stays under its column)
    const shown = prefix + noControls(line.slice(start, end).replace(/\t/g, ' ')) + (end < line.length ? '...' : '');
    const caretAt = prefix.length + (d.column - 1 - start);
    const width = Math.max(1, Math.min(d.length, end - (d.column - 1)));
    out += `    ${shown}\n    ${' '.repeat(caretAt)}^${'~'.repeat(width - 1)}\n`;
  }
  return out;
}

export function renderJson(summary: LintSummary, diags: Diagnostic[], extra: Record<string, unknown> = {}): string {
  return (
    JSON.stringify({
      files: summary.files,
      rules: summary.rules,
      diagnostics: diags.map((d) => ({
        file: d.file,
        line: d.line,
        column: d.column,
        severity: d.severity,
        code: d.code,
        message: d.message,
        sid: d.sid ?? null,
      })),
      ...extra,
    }) + '\n'
  );
}

export function renderSarif(diags: Diagnostic[], version: string): string {
  const ruleIds = [...new Set(diags.map((d) => d.code))].sort();
  const level = (s: Diagnostic['severity']) => (s === 'info' ? 'note' : s);
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'honeywall',
            version,
            informationUri: 'https://github.com/honeynet/honeywall',
            rules: ruleIds.map((id) => ({ id, name: id, shortDescription: { text: id.replace(/-/g, ' ') } })),
          },
        },
        results: diags.map((d) => ({
          ruleId: d.code,
          ruleIndex: ruleIds.indexOf(d.code),
          level: level(d.severity),
          message: { text: d.sid !== undefined ? `${d.message} [sid ${d.sid}]` : d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: d.file.split('\\').join('/') },
                region: { startLine: d.line, startColumn: d.column, endColumn: d.column + Math.max(1, d.length) },
              },
            },
          ],
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::error file=F,line=L,col=C,title=CODE::message` lines for GitHub Actions. */
export function renderGithub(diags: Diagnostic[]): string {
  const cmd = (s: Diagnostic['severity']) => (s === 'info' ? 'notice' : s);
  return diags
    .map(
      (d) =>
        `::${cmd(d.severity)} file=${escapeProperty(d.file)},line=${d.line},col=${d.column},title=${escapeProperty(d.code)}::${escapeData(d.sid !== undefined ? `${d.message} [sid ${d.sid}]` : d.message)}\n`,
    )
    .join('');
}
