import type { Command } from 'commander';
import type { CommandContext } from '../program.js';

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Every subcommand, one line each, in the order `--help` lists them. Each is imported only when it runs (the gateway,
 * the matcher and Sebek storage bring native modules and large graphs that `lint` does not need): startup cost
 * matters for the commands CI runs on every change.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  lint: () => import('./lint.js').then((m) => m.registerLint),
  convert: () => import('./convert.js').then((m) => m.registerConvert),
  firewall: () => import('./firewall.js').then((m) => m.registerFirewall),
  compile: () => import('./compile.js').then((m) => m.registerCompile),
  update: () => import('./update.js').then((m) => m.registerUpdate),
  replay: () => import('./replay.js').then((m) => m.registerReplay),
  run: () => import('./run.js').then((m) => m.registerRun),
  sebek: () => import('./sebek.js').then((m) => m.registerSebek),
  import: () => import('./import.js').then((m) => m.registerImport),
  console: () => import('./console.js').then((m) => m.registerConsole),
  ship: () => import('./ship.js').then((m) => m.registerShip),
};

/** Registers the command named in `argv` (or every command, for help and unknown names). */
export async function registerCommands(program: Command, ctx: CommandContext, argv: string[]): Promise<void> {
  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  const names = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const n of names) (await COMMANDS[n]!())(program, ctx);
}
