#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build). CommonJS (bin/package.json): loading it skips
// Node's ES module loader, which `lint` and `compile` (bundles, below) do not otherwise need. V8 flags first
// (v8-flags.js).
'use strict';
require('./v8-flags.js').applyV8Flags(process.argv[2]);
const { join } = require('node:path');

/**
 * `lint` and `compile` run from one bundled file each, with a code cache (start-up is a large part of a lint, and of
 * a compile, whose worker thread starts the same way: see scripts/bundle.js); HONEYWALL_NO_BUNDLE=1 runs them from
 * dist/ like every other command.
 */
function bundled(command) {
  if (process.env.HONEYWALL_NO_BUNDLE) return undefined;
  if (command === 'lint') return require('./bundles.js').loadBundle('lint')?.exports.lintMain;
  if (command !== 'compile') return undefined;
  const compileMain = require('./bundles.js').loadBundle('compile')?.exports.compileMain;
  return compileMain && ((argv) => compileMain(argv, join(__dirname, 'compile-worker.js')));
}

async function start() {
  const main = bundled(process.argv[2]) ?? (await import('../dist/cli/main.js')).main;

  // A closed pipe (`honeywall lint ... | head`) ends the process quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  process.exitCode = await main(process.argv);
}

start().catch((err) => {
  process.stderr.write(`honeywall: internal error: ${err?.message ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
