// npm run bench: every benchmark in bench/, one after the other (each prints its figures and its baseline ratio).
//   node bench/run.js [NAME...] [-- ARGS...]   only the scripts whose file name starts with a NAME; ARGS go to each
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const only = dash < 0 ? argv : argv.slice(0, dash);
const passed = dash < 0 ? [] : argv.slice(dash + 1);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
let failed = 0;
for (const s of scripts) {
  console.log(`\n### ${s}`);
  const r = spawnSync(process.execPath, [join(here, s), ...passed], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`(${s} exited ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed ? 1 : 0;
