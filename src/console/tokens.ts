/**
 * API tokens: how a machine (the central console of many gateways) authenticates to a gateway's console. An operator
 * makes one with `honeywall console token add NAME --scope pcap`, which prints it once; the store keeps only its
 * SHA-256 (as for sessions: a copy of the file hands out no working token). A request carries it as
 * `Authorization: Bearer <token>` and is then allowed what its scope lists: read-only routes only (GET), never a
 * state change, so it needs no CSRF token. A bad or revoked token is one answer (401) that does not say which.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { USER_NAME } from './auth.js';

/** What each scope opens: `METHOD route-pattern` as Fastify names the route (req.routeOptions.url). */
export const TOKEN_SCOPES: Readonly<Record<string, readonly string[]>> = {
  // the central console's fetch (routes/flows.ts); nothing else is needed by it
  pcap: ['GET /api/flows/:id/pcap'],
};

export const DEFAULT_SCOPE = 'pcap';
/** Tokens a store holds at most: each request compares against all of them (constant time, no early exit). */
export const MAX_TOKENS = 100;
/** `hwt_` and 43 base64url characters (256 random bits): the prefix lets a secret scanner recognise one. */
export const TOKEN_PREFIX = 'hwt_';
export const TOKEN_TEXT = /^hwt_[A-Za-z0-9_-]{43}$/;
/** A token's last use is written at most this often (a busy analyst downloads many pcaps). */
const TOUCH_EVERY_US = 60_000_000;

export class TokenError extends Error {}

export interface TokenRow {
  name: string;
  scope: string;
  created_us: number;
  last_us: number | null;
}

interface StoredToken extends TokenRow {
  hash: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Adds token NAME with `scope`; the token, which is not kept (print it once). */
export function addToken(db: Database.Database, name: string, scope: string = DEFAULT_SCOPE, nowUs = Date.now() * 1000): string {
  if (!USER_NAME.test(name)) throw new TokenError(`token name '${name.slice(0, 80)}': 1 to 64 of A-Z a-z 0-9 . _ -`);
  if (TOKEN_SCOPES[scope] === undefined) throw new TokenError(`scope '${scope.slice(0, 40)}': one of ${Object.keys(TOKEN_SCOPES).join(', ')}`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  db.transaction(() => {
    if (db.prepare('SELECT 1 FROM api_tokens WHERE name = ?').get(name) !== undefined)
      throw new TokenError(`a token named ${name} exists: revoke it first (honeywall console token revoke ${name})`);
    const n = (db.prepare('SELECT COUNT(*) AS n FROM api_tokens').get() as { n: number }).n;
    if (n >= MAX_TOKENS) throw new TokenError(`the store holds ${n} tokens, the most it keeps: revoke one first`);
    db.prepare('INSERT INTO api_tokens (name, hash, scope, created_us) VALUES (?, ?, ?, ?)').run(name, sha256(token).toString('hex'), scope, nowUs);
  })();
  return token;
}

export function listTokens(db: Database.Database): TokenRow[] {
  return db.prepare('SELECT name, scope, created_us, last_us FROM api_tokens ORDER BY name').all() as TokenRow[];
}

/** Deletes token NAME; whether there was one. */
export function revokeToken(db: Database.Database, name: string): boolean {
  return db.prepare('DELETE FROM api_tokens WHERE name = ?').run(name).changes > 0;
}

/**
 * The token's row when `header` is `Bearer <a live token>`, else undefined. The presented token's hash is compared
 * with every stored hash in constant time and without stopping at a match, so the time taken says nothing about
 * which tokens exist (the table is bounded by MAX_TOKENS).
 */
export function lookupToken(db: Database.Database, header: string, nowUs = Date.now() * 1000): TokenRow | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,200})$/.exec(header);
  const presented = sha256(m === null ? '' : m[1]!);
  let found: StoredToken | undefined;
  for (const row of db.prepare(`SELECT * FROM api_tokens LIMIT ${MAX_TOKENS}`).all() as StoredToken[]) {
    const same = timingSafeEqual(presented, Buffer.from(row.hash, 'hex'));
    if (same && m !== null && TOKEN_TEXT.test(m[1]!)) found = row;
  }
  if (found === undefined) return undefined;
  if (found.last_us === null || nowUs - found.last_us > TOUCH_EVERY_US)
    db.prepare('UPDATE api_tokens SET last_us = ? WHERE name = ?').run(nowUs, found.name);
  return { name: found.name, scope: found.scope, created_us: found.created_us, last_us: found.last_us };
}

/** Whether `scope` opens the route (`GET`, the route's pattern). */
export function scopeAllows(scope: string, method: string, route: string | undefined): boolean {
  return route !== undefined && (TOKEN_SCOPES[scope] ?? []).includes(`${method} ${route}`);
}
