/**
 * The `honeywall` command (bin/honeywall, package.json "bin") as the tests run it: its path, the flags it starts the
 * batch commands with (test/command-launcher.test.ts holds the script to them; the bundles' code caches are made under
 * them: test/bundles.test.ts), and a PATH that finds this Node first.
 */
import { dirname, join } from 'node:path';
import { repoRoot } from './corpus.js';

export const honeywallCommand = join(repoRoot, 'bin/honeywall');
export const COMMAND_START_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=4'];
export const pathWithThisNode = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
