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

  // `replay` with worker threads runs one isolate per shard, and each compiles the same hot functions again: the
  // optimizing compiler took 1.4 s of CPU in a two-worker replay of the bench capture (0.7 s an isolate), a quarter of
  // the inspection's, on the same two cores. Inlining functions of at most 230 bytes of bytecode (V8's default 460)
  // gives it smaller graphs: the two-worker inspection of the bench capture took 1-5% less in interleaved runs of 3 to
  // 10 rounds (2.62 s against 2.76 s; 3.20 s against 3.32 s when the host was slower), one thread the same 3.2 s (its
  // compiler has a core of its own, and the code is as fast).
  // (Where the shards take every core, their threads also compile their own hot functions: src/match/replay.ts
  // startingShards, which knows how many threads it starts.)
  if (command === 'replay') v8.setFlagsFromString('--max-inlined-bytecode-size=230');
}

module.exports = { applyV8Flags };
