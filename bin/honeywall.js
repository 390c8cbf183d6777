#!/usr/bin/env node
// Thin launcher: the CLI lives in the built library (npm run build).
// V8's linear-time regexp engine (pcre from attackers' traffic must not stall the matcher) is switched on before
// any regular expression exists, hence before the library is imported (dynamically, below). Tested on Node 20:
// v8.setFlagsFromString works here; the `l` flag and the excessive-backtracks fallback are then available.
import v8 from 'node:v8';
v8.setFlagsFromString('--enable-experimental-regexp-engine');
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString('--regexp-backtracks-before-fallback=10000');
const { main } = await import('../dist/cli/main.js');

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
