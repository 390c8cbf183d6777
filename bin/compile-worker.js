// The compile worker's script when `honeywall compile` runs from its bundle (bin/honeywall.js): the same bundle,
// loaded with its code cache, runs the worker (src/match/compile-worker.ts). Should the bundle have gone out of date
// since the main thread loaded it, the modules of dist/ run it instead: the same code.
'use strict';
const bundle = require('./bundles.js').loadBundle('compile');
if (bundle !== undefined) bundle.exports.runCompileWorker();
else import('../dist/match/compile-worker-entry.js');
