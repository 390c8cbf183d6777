// Builds the console's page into dist/console/static: app.js (src/console/client/*.ts bundled by esbuild into one
// script for the browser), index.html and app.css copied. The server reads these at start (src/console/static.ts);
// uPlot is served from node_modules as it is.
//
// The page builds its DOM with createElement and text nodes only (src/console/client/dom.ts): the build fails if the
// bundle holds an HTML sink (innerHTML, outerHTML, insertAdjacentHTML, document.write), so none slips in unnoticed.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/console');
const out = join(root, 'dist/console/static');
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: [join(src, 'client/main.ts')],
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  outfile: join(out, 'app.js'),
  // uPlot is a separate script (node_modules/uplot), the global `uPlot`; the client imports its types only
  external: ['uplot'],
  legalComments: 'none',
  logLevel: 'warning',
});
const text = readFileSync(join(out, 'app.js'), 'utf8');
const sink = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b/.exec(text);
if (sink) throw new Error(`dist/console/static/app.js uses ${sink[1]}: the console builds its DOM from text nodes only`);
for (const f of ['index.html', 'app.css']) copyFileSync(join(src, 'static', f), join(out, f));
console.log(`bundle: ${join(out, 'app.js')} (${(text.length / 1024).toFixed(0)} KiB)`);
