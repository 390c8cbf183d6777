/**
 * Local accounts, sessions and login rate limiting for the console.
 *
 * - Passwords: Node's scrypt (memory-hard, in the standard library: no native dependency to build), a 16-byte random
 *   salt per password, the parameters stored with the hash so that raising them later still verifies old hashes.
 * - Sessions: a 256-bit random id in the cookie, only its SHA-256 in the store (a copy of the database does not hand
 *   out live sessions); each has an idle expiry (last use) and an absolute one (login time), and a CSRF token bound
 *   to it (csrf.ts). A user has at most MAX_SESSIONS_PER_USER; logging in again past that ends the oldest.
 * - Rate limiting: failed logins are counted per account name and per client address in a sliding window; past the
 *   limit, attempts are refused without checking the password (429) and counted. The table of keys is bounded.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keylen: number;
}

/** OWASP's scrypt minimum is N=2^17 at r=8; 2^15 keeps a login near 0.1 s on a small gateway (stored per hash). */
export const SCRYPT_PARAMS: ScryptParams = { N: 1 << 15, r: 8, p: 1, keylen: 32 };

/** Account names: what an operator types, safe in a log line. */
export const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const MIN_PASSWORD = 10;
/** Longer input is refused before hashing (scrypt's cost does not depend on it, but a 100 MB body would). */
export const MAX_PASSWORD = 1024;

function scryptAsync(password: string, salt: Buffer, p: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, p.keylen, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

export interface PasswordHash {
  hash: string;
  salt: string;
  params: string;
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, params);
  return { hash: key.toString('hex'), salt: salt.toString('hex'), params: JSON.stringify(params) };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const params = JSON.parse(stored.params) as ScryptParams;
  const want = Buffer.from(stored.hash, 'hex');
  const got = await scryptAsync(password, Buffer.from(stored.salt, 'hex'), params);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Why a password is refused at adduser, or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD) return `a password of at least ${MIN_PASSWORD} characters is needed`;
  if (Buffer.byteLength(password) > MAX_PASSWORD) return `a password of at most ${MAX_PASSWORD} bytes`;
  return undefined;
}

export interface UserRow extends PasswordHash {
  id: number;
  name: string;
  disabled: number;
}

export class UserError extends Error {}

/** Adds the account, or sets its password when it exists (an operator's reset); says which. */
export async function addUser(db: Database.Database, name: string, password: string): Promise<'added' | 'updated'> {
  if (!USER_NAME.test(name)) throw new UserError(`account name '${name.slice(0, 80)}': 1 to 64 of A-Z a-z 0-9 . _ -`);
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new UserError(problem);
  const h = await hashPassword(password);
  const now = Date.now() * 1000;
  const existing = db.prepare('SELECT id FROM users WHERE name = ?').get(name) as { id: number } | undefined;
  if (existing !== undefined) {
    db.transaction(() => {
      db.prepare('UPDATE users SET hash = ?, salt = ?, params = ?, disabled = 0 WHERE id = ?').run(h.hash, h.salt, h.params, existing.id);
      // a new password ends the account's sessions
      db.prepare('DELETE FROM sessions WHERE user_id = ?').run(existing.id);
    })();
    return 'updated';
  }
  db.prepare('INSERT INTO users (name, hash, salt, params, created_us) VALUES (?, ?, ?, ?, ?)').run(name, h.hash, h.salt, h.params, now);
  return 'added';
}

/** A hash to check unknown names against, so that a login for a name that does not exist takes as long. */
let decoy: Promise<PasswordHash> | undefined;

/** The account when the name and password are right (and the account enabled), else undefined. */
export async function checkLogin(db: Database.Database, name: string, password: string): Promise<UserRow | undefined> {
  const row = USER_NAME.test(name) ? (db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined) : undefined;
  if (row === undefined) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await decoy);
    return undefined;
  }
  const ok = await verifyPassword(password, row);
  return ok && row.disabled === 0 ? row : undefined;
}

export interface SessionTimes {
  /** Ended after this long unused (default 30 minutes). */
  idleMs: number;
  /** Ended this long after login whatever its use (default 12 hours). */
  absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 };

const MAX_SESSIONS_PER_USER = 20;
/** A session's last use is written at most this often (a page makes a dozen requests; one write is enough). */
const TOUCH_EVERY_US = 30_000_000;

export interface Session {
  idHash: string;
  userId: number;
  user: string;
  csrf: string;
  createdUs: number;
  lastUs: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class Sessions {
  constructor(
    private readonly db: Database.Database,
    readonly times: SessionTimes = DEFAULT_SESSION_TIMES,
    private readonly now: () => number = () => Date.now() * 1000,
  ) {}

  /** A new session for the user: the id for the cookie (never stored) and its CSRF token. */
  create(user: UserRow, address: string): { id: string; csrf: string } {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = this.now();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO sessions (id_hash, user_id, csrf, created_us, last_us, address) VALUES (?, ?, ?, ?, ?, ?)')
        .run(sha256(id), user.id, csrf, now, now, address.slice(0, 100));
      this.db
        .prepare(
          `DELETE FROM sessions WHERE user_id = ? AND id_hash NOT IN
           (SELECT id_hash FROM sessions WHERE user_id = ? ORDER BY last_us DESC LIMIT ${MAX_SESSIONS_PER_USER})`,
        )
        .run(user.id, user.id);
    })();
    this.sweep();
    return { id, csrf };
  }

  /**
   * The live session the cookie names (its last use moved on), or why there is none: `missing` (no such id) or
   * `expired` (idle or past its absolute limit: removed).
   */
  lookup(id: string | undefined): Session | 'missing' | 'expired' {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return 'missing';
    const row = this.db
      .prepare(
        `SELECT s.id_hash, s.user_id, s.csrf, s.created_us, s.last_us, u.name, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ?`,
      )
      .get(sha256(id)) as
      | { id_hash: string; user_id: number; csrf: string; created_us: number; last_us: number; name: string; disabled: number }
      | undefined;
    if (row === undefined) return 'missing';
    const now = this.now();
    if (row.disabled !== 0 || now - row.last_us > this.times.idleMs * 1000 || now - row.created_us > this.times.absoluteMs * 1000) {
      this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(row.id_hash);
      return 'expired';
    }
    if (now - row.last_us > TOUCH_EVERY_US) this.db.prepare('UPDATE sessions SET last_us = ? WHERE id_hash = ?').run(now, row.id_hash);
    return { idHash: row.id_hash, userId: row.user_id, user: row.name, csrf: row.csrf, createdUs: row.created_us, lastUs: now };
  }

  destroy(s: Session): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(s.idHash);
  }

  /** Removes every expired session (at each login: the table holds live sessions and a few dead ones at most). */
  sweep(): number {
    const now = this.now();
    return this.db
      .prepare('DELETE FROM sessions WHERE last_us < ? OR created_us < ?')
      .run(now - this.times.idleMs * 1000, now - this.times.absoluteMs * 1000).changes;
  }
}

export interface RateLimits {
  /** Failed logins allowed per account name within the window (default 5). */
  perAccount: number;
  /** Failed logins allowed per client address within the window (default 20). */
  perAddress: number;
  windowMs: number;
  /** Keys (names and addresses) tracked at most; the oldest is forgotten past it (counted). */
  maxKeys: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000, maxKeys: 10_000 };

/** Failed logins per key in a sliding window: each key keeps the times of its failures within the window. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  /** Attempts refused for being over a limit, by which limit. */
  readonly refused = { account: 0, address: 0 };
  /** Keys forgotten because the table was full. */
  evicted = 0;

  constructor(
    readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const list = this.failures.get(key);
    if (list === undefined) return [];
    const since = this.now() - this.limits.windowMs;
    while (list.length > 0 && list[0]! <= since) list.shift();
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  /** Whether an attempt for `account` from `address` may be checked; if not, which limit and for how long (ms). */
  check(account: string, address: string): { ok: true } | { ok: false; limit: 'account' | 'address'; retryMs: number } {
    for (const [limit, key, max] of [
      ['address', `a:${address}`, this.limits.perAddress],
      ['account', `u:${account}`, this.limits.perAccount],
    ] as const) {
      const list = this.recent(key);
      if (list.length >= max) {
        this.refused[limit]++;
        return { ok: false, limit, retryMs: Math.max(1000, list[0]! + this.limits.windowMs - this.now()) };
      }
    }
    return { ok: true };
  }

  failed(account: string, address: string): void {
    for (const key of [`a:${address}`, `u:${account}`]) {
      let list = this.failures.get(key);
      if (list === undefined) {
        // bounded: the least recently added key goes (Map keeps insertion order)
        while (this.failures.size >= this.limits.maxKeys) {
          this.failures.delete(this.failures.keys().next().value!);
          this.evicted++;
        }
        this.failures.set(key, (list = []));
      }
      list.push(this.now());
      // a key never holds more than its limit's worth of times
      if (list.length > Math.max(this.limits.perAccount, this.limits.perAddress)) list.shift();
    }
  }

  /** A good login clears the account's failures (not the address's: one right guess does not reset the address). */
  succeeded(account: string): void {
    this.failures.delete(`u:${account}`);
  }

  get keys(): number {
    return this.failures.size;
  }
}
