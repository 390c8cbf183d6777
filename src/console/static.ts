/**
 * The page and what it loads: index.html, the client bundle (app.js, built from src/console/client by
 * scripts/bundle-console.js) and its stylesheet, and uPlot's script and stylesheet from node_modules (no CDN: the
 * console has no internet at run time). A fixed list of files read once at start, served from memory: no path from
 * a request ever reaches the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/** dist/console/static of this checkout or package (the same from src/console and dist/console). */
export function defaultStaticDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'console', 'static');
}

export class StaticError extends Error {}

export function registerStatic(app: FastifyInstance, dir = defaultStaticDir()): void {
  if (!existsSync(path.join(dir, 'app.js')))
    throw new StaticError(`${dir}: the console's page is not built (npm run build, or node scripts/bundle-console.js)`);
  const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const files: [string, string, string][] = [
    ['/', path.join(dir, 'index.html'), 'text/html; charset=utf-8'],
    ['/static/app.js', path.join(dir, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/static/app.css', path.join(dir, 'app.css'), 'text/css; charset=utf-8'],
    ['/static/vendor/uPlot.iife.min.js', path.join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/static/vendor/uPlot.min.css', path.join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  for (const [url, file, type] of files) {
    const body = readFileSync(file);
    app.get(url, async (_req, reply) => {
      reply.header('Content-Type', type);
      reply.header('Cache-Control', 'no-cache');
      return reply.send(body);
    });
  }
}
