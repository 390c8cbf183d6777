/**
 * Chevrotain, loaded from its single-file ES bundle.
 *
 * The package entry (`lib/src/api.js`) pulls in its ES module sources and lodash-es, which costs about 0.35 s at
 * process start on this machine; the bundle `lib/chevrotain.min.mjs` costs about 0.02 s. The bundle is not in the
 * package's `exports`, so it is located next to the resolved entry. Types come from the package itself.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type ChevrotainApi = typeof import('chevrotain');

const require = createRequire(import.meta.url);
const entry = require.resolve('chevrotain'); // .../chevrotain/lib/src/api.js
const bundleUrl = pathToFileURL(join(dirname(entry), '..', 'chevrotain.min.mjs')).href;

const api = (await import(bundleUrl)) as ChevrotainApi;

export const { createToken, Lexer } = api;
export type { IToken, TokenType, ILexingResult } from 'chevrotain';
