/**
 * The honeywall program around its commands: options shared by all, exit codes, and how failures end the process.
 * `main.ts` runs it with every command; `lint-main.ts` with `lint` alone (the bundle the launcher loads for lint).
 */
import { noControls } from '../output/visible.js';
import { Command, CommanderError } from './commander.js';

/** Exit codes shared by every command: 0 ok, 1 findings (errors in input), 2 could not run. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

/** A failure the user caused (bad path, bad flag value): printed as one line, exit 2, no stack. */
export class UsageError extends Error {}

export interface CommandContext {
  /** Set by a command's action: the process exit code. */
  exitCode: number;
}

/** Adds commands to the program (all of them, or the one `argv` names). */
export type RegisterCommands = (program: Command, ctx: CommandContext, argv: string[]) => void | Promise<void>;

export async function runProgram(argv: string[], register: RegisterCommands): Promise<number> {
  const ctx: CommandContext = { exitCode: EXIT_OK };
  const program = new Command();
  program
    .name('honeywall')
    .description('Snort 2.9 rules toolchain and inline gateway for research honeynets')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  await register(program, ctx, argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT_OK;
      }
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`honeywall: ${noControls(err.message)}\n`);
      return EXIT_USAGE;
    }
    // (a message may name a file or quote input: as text safe for a terminal, as the launcher prints what escapes here)
    process.stderr.write(`honeywall: internal error: ${noControls(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT_USAGE;
  }
  return ctx.exitCode;
}
