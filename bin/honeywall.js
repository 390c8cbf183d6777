#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build). V8 flags first (see v8-flags.js).
import './v8-flags.js';

// `lint` runs from one bundled file with a code cache (start-up is a large part of a lint; see
// scripts/bundle-lint.js); HONEYWALL_NO_BUNDLE=1 runs it from dist/ like every other command.
let main;
if (process.argv[2] === 'lint' && !process.env.HONEYWALL_NO_BUNDLE) main = (await import('./lint-bundle.js')).loadLintBundle()?.lintMain;
main ??= (await import('../dist/cli/main.js')).main;

// A closed pipe (`honeywall lint ... | head`) ends the process quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`honeywall: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
