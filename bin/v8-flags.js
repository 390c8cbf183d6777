// V8 flags the launcher sets before anything else runs (it calls this module first; the lint and compile bundles'
// code caches are made and used under the same flags, and V8 takes a cache only under the flags it was made with).
'use strict';
const v8 = require('node:v8');

/** Sets the V8 flags of `command` (the CLI's first argument), process-wide: worker threads run under them too. */
function applyV8Flags(command) {
  // `compile`, `replay` and `lint` allocate hundreds of MB of short-lived objects (rule plans, JSON, packets): letting
  // V8's young generation grow 4x at a time (not 2x) takes it to its full size sooner, with fewer scavenges.
  v8.setFlagsFromString('--semi-space-growth-factor=4');

  // `compile` runs most of its code a few thousand times and then never again: with V8's default budget its optimizing
  // compiler spent about 1.2 s of CPU (a quarter of the compile's, in both threads) on functions that were about done by
  // the time their code was ready, on a machine with two cores to share. Fifteen times the budget (67,584 bytes of
  // bytecode in Node 20) leaves only the really hot functions to it: ET Open 2019 compiles in 2.1 s instead of 2.5-2.6,
  // ET Open three times over in 4.0 s instead of 4.9 (no optimizing compiler at all: 2.1 and 4.3-4.6). `update`
  // converts, lints and compiles once, the same kind of run (ET Open end to end 4.0 s instead of 4.8). Not `replay` nor
  // the gateway: they run the same functions millions of times, where the optimized code pays for itself (a larger
  // budget made the replay slower).
  if (command === 'compile' || command === 'update') v8.setFlagsFromString('--interrupt-budget=1000000');
}

module.exports = { applyV8Flags };
