/**
 * commander, loaded with require: importing it as an ES module goes through Node's CommonJS export detection,
 * which doubles its load time (about 30 ms against 13 ms here), and every command pays it at start.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const commander = require('commander') as typeof import('commander');

export const Command = commander.Command;
export type Command = import('commander').Command;
export const Option = commander.Option;
export type Option = import('commander').Option;
export const CommanderError = commander.CommanderError;
export type CommanderError = import('commander').CommanderError;
