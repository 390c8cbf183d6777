/** The honeywall CLI with every command (each command module is imported only when it runs). */
import { registerCommands } from './commands/index.js';
import { runProgram } from './program.js';

export { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, type CommandContext } from './program.js';

export function main(argv: string[]): Promise<number> {
  return runProgram(argv, registerCommands);
}
