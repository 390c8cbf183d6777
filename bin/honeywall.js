#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build). CommonJS (bin/package.json): loading it skips
// Node's ES module loader, which `lint` and `compile` (bundles, below) do not otherwise need. V8 flags first
// (v8-flags.js).
'use strict';
require('./v8-flags.js').applyV8Flags(process.argv[2]);

// `compile` and `update` compile their Hyperscan databases on libuv's thread pool (src/match/prefilter.ts
// buildPrefilterAsync). libuv's default of four threads ran four compiles at once on two cores, each with its own
// working memory to fault in: one thread per core compiled ET Open 4-5% faster (8 interleaved rounds: 1.94 / 2.01 s
// best / median against 2.01 / 2.12 s; 8% fewer page faults, 5% less CPU). Set before the pool starts (libuv reads it
// then); an operator's UV_THREADPOOL_SIZE stands.
if ((process.argv[2] === 'compile' || process.argv[2] === 'update') && process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(require('node:os').availableParallelism());
}
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
