/** honeywall's library API. The CLI (`src/cli`) only turns arguments into calls to these. */
export type * from './ast.js';
export type { Diagnostic, Severity } from './diagnostics/diagnostic.js';
export { parseRules, scanRules, type ParseOptions, type ParseResult } from './parser/parse.js';
export { printRules, printNode } from './parser/print.js';
