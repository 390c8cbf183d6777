#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build).
import { main } from '../dist/cli/main.js';

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
