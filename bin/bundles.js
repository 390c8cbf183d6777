// Loads a command's bundle, dist/<name>.cjs (`lint`, `compile`: the command in one CommonJS file), with its V8 code
// cache when that cache belongs to this build (scripts/bundle.js explains both). Returns undefined when there is no
// bundle or when a module of dist/ it was made from has changed since (then the launcher runs dist/), else the
// bundle's exports and what became of the cache: 'used', 'rejected' (by V8: another Node) or 'absent' (none for this
// build).
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

const ID_LENGTH = 16;

function loadBundle(name, dist = join(__dirname, '..', 'dist')) {
  const bundle = join(dist, `${name}.cjs`);
  const cachePath = join(dist, `${name}.cjs.cache`);
  let source;
  try {
    if (!madeFromCurrentModules(dist, name)) {
      if (process.env.HONEYWALL_DEBUG_BUNDLE)
        process.stderr.write(`honeywall: ${name} bundle out of date (dist/ changed since it was made); running dist/\n`);
      return undefined;
    }
    source = readFileSync(bundle, 'utf8');
  } catch {
    return undefined;
  }
  // The first line names the build: `// honeywall <name> bundle <id> ...`.
  const id = /^\/\/ honeywall \w+ bundle ([0-9a-f]{16}) /.exec(source)?.[1];
  let cachedData;
  try {
    const file = readFileSync(cachePath);
    if (id !== undefined && file.subarray(0, ID_LENGTH).toString('latin1') === id) cachedData = file.subarray(ID_LENGTH);
  } catch {
    cachedData = undefined;
  }
  // The V8 flags (bin/v8-flags.js) are set for every command before this script is compiled, in the main thread and
  // (process-wide) in the compile worker: the code cache is made under the same flags.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dist);
  const status = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used';
  if (process.env.HONEYWALL_DEBUG_BUNDLE) process.stderr.write(`honeywall: ${name} bundle ${id ?? '(no id)'}, code cache ${status}\n`);
  const out = process.env.HONEYWALL_WRITE_CODE_CACHE;
  if (out && require('node:worker_threads').isMainThread) {
    // scripts/bundle.js: after the command has run, so that every function it used is in the cache.
    process.on('exit', () => writeFileSync(out, Buffer.concat([Buffer.from(id ?? '', 'latin1'), script.createCachedData()])));
  }
  return { exports: module.exports, cache: status };
}

/**
 * Whether every module of dist/ the bundle was made from is as it was then: same size and time (~40 stat calls), or,
 * when only the time differs (an installed package: npm pack resets file times), the same SHA-1.
 */
function madeFromCurrentModules(dist, name) {
  const inputs = JSON.parse(readFileSync(join(dist, `${name}.cjs.inputs.json`), 'utf8'));
  for (const { file, size, mtimeMs, sha1 } of inputs) {
    const path = join(dist, file);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || st.size !== size) return false;
    if (st.mtimeMs !== mtimeMs && require('node:crypto').createHash('sha1').update(readFileSync(path)).digest('hex') !== sha1) return false;
  }
  return inputs.length > 0;
}

module.exports = { loadBundle };
