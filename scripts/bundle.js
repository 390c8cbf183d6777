// Builds the command bundles after tsc: dist/lint.cjs and dist/compile.cjs (each the `honeywall lint` or `honeywall
// compile` program in one CommonJS file) and their V8 code caches.
//
// Why: lint is what CI runs on every rule change, so its whole-process time counts, start-up included; `compile`'s
// target is a fraction of Snort's rule load, and its worker thread starts the same way again (bin/compile-worker.js).
// Loaded as ~40-60 ES modules, start-up costs Node's ES module loader (resolution, its own internal modules) and the
// parsing and compiling of every function the command runs. One CommonJS file skips the loader; V8's code cache
// (vm.Script cachedData, made here by running the command once) skips the compiling: together about 0.1 s of a lint
// of ET Open (bench/parse.js measures the launcher) and of a compile's main thread, and half of its worker's start.
// Node 20 has no built-in compile cache (module.enableCompileCache is 22+).
//
// A bundle is the same code as dist/: esbuild only joins the modules, with these substitutions: chevrotain and
// commander, which dist/ loads in ways that are cheap for ES modules (a file URL import, createRequire), are imported
// statically; node:child_process is required when first used; `import.meta.url` (which a CommonJS file has not)
// becomes the URL of the module of dist/ it was in, so that what it locates (the native addon, the compile worker's
// script) is found as from dist/. bin/honeywall.js loads the bundles (HONEYWALL_NO_BUNDLE=1 runs dist/ instead;
// test/bundles.test.ts checks that both print and write the same).
//
// Each cache file starts with a build id that is also its bundle's first line: a cache from another build is never
// used (V8 itself only compares source lengths). A cache V8 rejects (another Node or V8 version) is ignored, and the
// command then runs as fast as without it. dist/<name>.cjs.inputs.json lists the files of dist/ a bundle was made
// from, with their sizes, times and SHA-1: when one has changed since (tsc run alone), the launcher runs dist/
// instead of a stale bundle (it compares sizes and times, and hashes a file only when its time differs: npm pack
// resets times).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
const chevrotainBundle = join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.min.mjs');
const commanderEntry = require.resolve('commander');
const scratch = mkdtempSync(join(tmpdir(), 'hw-bundle-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const trainingInputs = [join(root, 'rulesets'), join(root, 'fixtures/lint')].filter((p) => existsSync(p));

/** The bundles: entry (in dist/) and the run of the launcher that makes the code cache (its command's arguments). */
const BUNDLES = {
  lint: { entry: 'cli/lint-main.js', training: ['lint', ...trainingInputs, '--format', 'json'] },
  compile: { entry: 'cli/compile-main.js', training: ['compile', ...trainingInputs, '--out', join(scratch, 'training.hwm'), '--report', 'json'] },
};

/**
 * The URL of a module of dist/, in a bundle: its __dirname is dist/ (bin/bundles.js runs it so), and the wrapper's
 * `require` is Node's.
 */
const MODULE_URL = '__honeywallModuleUrl';
const MODULE_URL_SOURCE = `const ${MODULE_URL} = (file) => require('node:url').pathToFileURL(require('node:path').join(__dirname, file)).href;`;

const staticLoaders = {
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
    // import.meta.url: the URL of the module of dist/ (MODULE_URL, in the banner: a module's own `require` may be
    // a local of its own, which esbuild renames)
    build.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      return { contents: text.replaceAll('import.meta.url', `${MODULE_URL}(${JSON.stringify(relative(dist, args.path))})`), loader: 'js' };
    });
  },
};

for (const [name, { entry, training }] of Object.entries(BUNDLES)) {
  const bundle = join(dist, `${name}.cjs`);
  const cache = join(dist, `${name}.cjs.cache`);
  const buildId = randomBytes(8).toString('hex');
  const { metafile } = await esbuild.build({
    metafile: true,
    entryPoints: [join(dist, entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    banner: { js: `// honeywall ${name} bundle ${buildId} (scripts/bundle.js; do not edit)\n${MODULE_URL_SOURCE}` },
    logLevel: 'warning',
    // the native addon is required at run time, from node_modules
    external: ['honeywall-native'],
    plugins: [staticLoaders],
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
  if (inputs.length < 20) throw new Error(`the ${name} bundle was made from only ${inputs.length} modules of dist/`);
  writeFileSync(join(dist, `${name}.cjs.inputs.json`), JSON.stringify(inputs));
  if (/\bimport\.meta\b|\bimport\(/.test(text)) throw new Error(`${bundle}: import.meta or import() left in the CommonJS bundle`);

  // The code cache: the launcher compiles the bundle, runs the command over the bundled rule sets and the lint
  // fixtures (their errors run the reporting paths too), and writes what V8 compiled. Run as the `honeywall` command
  // (bin/honeywall, with this Node first on its PATH): V8 uses a cache only under the flags it was made with, and that
  // script adds some for `lint` and `compile` when Node starts.
  rmSync(cache, { force: true });
  const run = spawnSync('/bin/sh', [join(root, 'bin/honeywall'), ...training], {
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HONEYWALL_WRITE_CODE_CACHE: cache,
      HONEYWALL_NO_BUNDLE: '',
      HONEYWALL_COMPILE_THREADS: '',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`${name} for the code cache exited ${run.status}`);
  if (!existsSync(cache)) throw new Error(`no code cache was written to ${cache}`);
  console.log(`bundle: ${bundle} (${(text.length / 1024).toFixed(0)} KiB), code cache ${(readFileSync(cache).length / 1024).toFixed(0)} KiB`);
}
