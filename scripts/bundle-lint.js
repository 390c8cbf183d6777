// Builds dist/lint.cjs (the `honeywall lint` program in one CommonJS file) and its V8 code cache, after tsc.
//
// Why: lint is what CI runs on every rule change, so its whole-process time counts, start-up included. Loaded as
// ~40 ES modules, start-up costs Node's ES module loader (resolution, its own internal modules) and the parsing and
// compiling of every function the lint runs. One CommonJS file skips the loader; V8's code cache (vm.Script
// cachedData, made here by running the lint once) skips the compiling: together about 0.1 s of a lint of ET Open
// (bench/parse.js measures the launcher). Node 20 has no built-in compile cache (module.enableCompileCache is 22+).
//
// The bundle is the same code as dist/: esbuild only joins the modules, with three substitutions: chevrotain and
// commander, which dist/ loads in ways that are cheap for ES modules (a file URL import, createRequire), are
// imported statically here, and node:child_process is required when first used. bin/honeywall.js loads the bundle for `lint` (HONEYWALL_NO_BUNDLE=1 runs dist/ instead;
// test/lint-bundle.test.ts checks that both print the same).
//
// The cache file starts with a build id that is also the bundle's first line: a cache from another build is never
// used (V8 itself only compares source lengths). A cache V8 rejects (another Node or V8 version) is ignored, and the
// lint then runs as fast as without it. dist/lint.cjs.inputs.json lists the files of dist/ the bundle was made from,
// with their sizes, times and SHA-1: when one has changed since (tsc run alone), the launcher runs dist/ instead of a
// stale bundle (it compares sizes and times, and hashes a file only when its time differs: npm pack resets times).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const bundle = join(dist, 'lint.cjs');
const cache = join(dist, 'lint.cjs.cache');
const require = createRequire(import.meta.url);
const chevrotainBundle = join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.min.mjs');
const commanderEntry = require.resolve('commander');

const buildId = randomBytes(8).toString('hex');
const { metafile } = await esbuild.build({
  metafile: true,
  entryPoints: [join(dist, 'cli/lint-main.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: bundle,
  banner: { js: `// honeywall lint bundle ${buildId} (scripts/bundle-lint.js; do not edit)` },
  logLevel: 'warning',
  plugins: [
    {
      name: 'static-loaders',
      setup(build) {
        build.onLoad({ filter: /[\\/]dist[\\/]parser[\\/]chevrotain\.js$/ }, () => ({
          contents: `export { createToken, Lexer } from ${JSON.stringify(chevrotainBundle)};`,
          loader: 'js',
        }));
        // node:child_process (commander requires it for executable subcommands, lint for `--diff` against a git
        // ref) loads about 35 of Node's internal modules: loaded when first used, not at every start.
        build.onResolve({ filter: /^node:child_process$/ }, () => ({ path: 'lazy-child-process', namespace: 'lazy' }));
        // (The two functions they call, forwarded. `child_process` without `node:` is not caught by the filter.)
        build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
          contents: [
            `const load = () => require('child_process');`,
            `export const spawn = (...args) => load().spawn(...args);`,
            `export const execFileSync = (...args) => load().execFileSync(...args);`,
          ].join('\n'),
          loader: 'js',
        }));
        build.onLoad({ filter: /[\\/]dist[\\/]cli[\\/]commander\.js$/ }, () => ({
          contents: `export { Command, Option, CommanderError } from ${JSON.stringify(commanderEntry)};`,
          loader: 'js',
        }));
      },
    },
  ],
});
const text = readFileSync(bundle, 'utf8');
// What the launcher checks before it trusts the bundle: the modules of dist/ it was made from, as they are now.
const inputs = Object.keys(metafile.inputs)
  .map((p) => resolve(p))
  .filter((p) => p.startsWith(dist + '/'))
  .map((p) => {
    const st = statSync(p);
    return { file: relative(dist, p), size: st.size, mtimeMs: st.mtimeMs, sha1: createHash('sha1').update(readFileSync(p)).digest('hex') };
  });
if (inputs.length < 20) throw new Error(`the bundle was made from only ${inputs.length} modules of dist/`);
writeFileSync(join(dist, 'lint.cjs.inputs.json'), JSON.stringify(inputs));
if (/\bimport\.meta\b|\bimport\(/.test(text)) throw new Error(`${bundle}: import.meta or import() left in the CommonJS bundle`);

// The code cache: the launcher compiles the bundle, runs a lint over the bundled rule sets and the lint fixtures
// (their errors run the reporting paths too), and writes what V8 compiled.
rmSync(cache, { force: true });
const trainingInputs = [join(root, 'rulesets'), join(root, 'fixtures/lint')].filter((p) => existsSync(p));
const run = spawnSync(process.execPath, [join(root, 'bin/honeywall.js'), 'lint', ...trainingInputs, '--format', 'json'], {
  env: { ...process.env, HONEYWALL_WRITE_CODE_CACHE: cache, HONEYWALL_NO_BUNDLE: '' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (run.status !== 0 && run.status !== 1) throw new Error(`lint for the code cache exited ${run.status}`);
if (!existsSync(cache)) throw new Error(`no code cache was written to ${cache}`);
console.log(`bundle-lint: ${bundle} (${(text.length / 1024).toFixed(0)} KiB), code cache ${(readFileSync(cache).length / 1024).toFixed(0)} KiB`);
