/** Worker thread of the parallel lint: lints its share of the rule files and posts the results back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { RuleFileRef } from '../config/ruleset.js';
import { VariableTable, type Variable } from '../config/variables.js';
import { lintFile, type FileLintResult } from './file-lint.js';

export interface LintJob {
  files: RuleFileRef[];
  vars: Variable[];
  classifications: string[];
}

export type LintJobResult = { ok: true; results: FileLintResult[] } | { ok: false; message: string };

const job = workerData as LintJob;
const ctx = { vars: VariableTable.fromEntries(job.vars), classifications: new Set(job.classifications) };
const cache = new Map<object, string | undefined>();
let reply: LintJobResult;
try {
  reply = { ok: true, results: job.files.map((f) => lintFile(f, ctx, cache)) };
} catch (e) {
  reply = { ok: false, message: (e as Error).message };
}
parentPort!.postMessage(reply);
