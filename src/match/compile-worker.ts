/**
 * The worker thread of a parallel compile (compile-parallel.ts; its entry scripts: compile-worker-entry.ts, and
 * bin/compile-worker.js for the bundle): takes rule files from the shared counter until
 * none is left, compiles and packs each as the main thread would, and posts each pack as it is made. It is given
 * its set by its first message (it may start before the set is loaded: CompileWorkerLink). The rule set is
 * rebuilt from what the main thread's load found (the files and their texts, the variables, the classifications):
 * nothing is read or resolved differently here. Messages out: file (one per file), done, error.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { Classification } from '../config/classification.js';
import type { RuleFileRef, RuleSet } from '../config/ruleset.js';
import { VariableTable, type Variable } from '../config/variables.js';
import { compileContext } from './compile.js';
import { packFile, textKeys, type FilePack } from './compile-parallel.js';
import { StringTable } from './stored-rule.js';

export interface CompileWorkerData {
  /** The files the counter shares out, in the order it does. */
  files: RuleFileRef[];
  /** Int32Array[1]: the next file to take (Atomics.add, as the main thread does). */
  counter: SharedArrayBuffer;
  vars: Variable[];
  classifications: [string, Classification][];
  /** The fixed string table (compile-parallel.ts ruleSetStrings). */
  strings: string[];
}

/** `claim`: the file's place in `files`. */
export type CompileWorkerMessage = ({ type: 'file'; claim: number } & FilePack) | { type: 'done' } | { type: 'error'; message: string };

/** Waits for its set (the first message: CompileWorkerData, compile-parallel.ts CompileWorkerLink), then compiles. */
export function runCompileWorker(): void {
  const port = parentPort;
  if (!port) throw new Error('the compile worker must run in a worker thread');
  port.once('message', (data: CompileWorkerData) => compileFiles(port, data));
}

function compileFiles(port: MessagePort, data: CompileWorkerData): void {
  const post = (m: CompileWorkerMessage) => port.postMessage(m);
  try {
    const set: RuleSet = {
      files: [],
      ruleFiles: data.files,
      configs: [],
      vars: VariableTable.fromEntries(data.vars),
      classifications: new Map(data.classifications),
      diagnostics: [],
    };
    const counter = new Int32Array(data.counter);
    const strings = StringTable.fixed(data.strings);
    const cc = compileContext(set);
    const keys = textKeys(cc);
    for (let k = Atomics.add(counter, 0, 1); k < data.files.length; k = Atomics.add(counter, 0, 1)) {
      const { packed, report } = packFile(cc, strings, keys, data.files[k]!, undefined);
      // the sets as JSON only (packed-rules.ts PackedSet says why)
      const sets = packed.sets.map(({ key, json }) => ({ key, json }));
      post({ type: 'file', claim: k, packed: { ...packed, sets }, report });
    }
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}
