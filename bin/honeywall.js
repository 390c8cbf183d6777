#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build). CommonJS (bin/package.json): loading it skips
// Node's ES module loader, which `lint` (a bundle, below) does not otherwise need. V8 flags first (v8-flags.js).
'use strict';
require('./v8-flags.js');

async function start() {
  // `lint` runs from one bundled file with a code cache (start-up is a large part of a lint; see
  // scripts/bundle-lint.js); HONEYWALL_NO_BUNDLE=1 runs it from dist/ like every other command.
  let main;
  if (process.argv[2] === 'lint' && !process.env.HONEYWALL_NO_BUNDLE) main = require('./lint-bundle.js').loadLintBundle()?.lintMain;
  main ??= (await import('../dist/cli/main.js')).main;

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
