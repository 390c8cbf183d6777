/**
 * The CLI with `compile` alone: the entry of the bundle `dist/compile.cjs` that the launcher loads for `honeywall
 * compile` (scripts/bundle.js says why), and the compile worker's code, which bin/compile-worker.js runs from the same
 * bundle. Same program, same options, same output as `main.ts` running `compile`.
 */
import { pathToFileURL } from 'node:url';
import { useCompileWorker } from '../match/compile-parallel.js';
import { registerCompile } from './commands/compile.js';
import { runProgram } from './program.js';

export { runCompileWorker } from '../match/compile-worker.js';

/** `workerScript`: the worker's script that loads this bundle (bin/compile-worker.js). */
export function compileMain(argv: string[], workerScript: string): Promise<number> {
  useCompileWorker(pathToFileURL(workerScript));
  return runProgram(argv, (program, ctx) => registerCompile(program, ctx));
}
