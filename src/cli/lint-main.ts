/**
 * The CLI with `lint` alone: the entry of the bundle `dist/lint.cjs` that the launcher loads for `honeywall lint`
 * (scripts/bundle.js says why). Same program, same options, same output as `main.ts` running `lint`.
 */
import { registerLint } from './commands/lint.js';
import { runProgram } from './program.js';

export function lintMain(argv: string[]): Promise<number> {
  return runProgram(argv, (program, ctx) => registerLint(program, ctx));
}
