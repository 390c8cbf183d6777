/**
 * The console's HTTP server: Fastify 5 (schema-validated routes, `inject` for tests without a socket, maintained by
 * the OpenJS Foundation; runs on Node 20) with @fastify/cookie. It serves the JSON API over the store
 * (routes/*.ts), the login and logout, and the page with its client bundle and uPlot (static.ts).
 *
 * What every answer gets: the security headers (a strict Content-Security-Policy without inline script or style,
 * nosniff, no referrer, no framing); what every /api request but login needs: a live session (401 without one) and,
 * when it changes state, the session's CSRF token (403 without it). A machine (the central console) instead sends
 * `Authorization: Bearer <API token>` (tokens.ts): allowed the read-only routes of its scope, failures rate limited
 * like logins and audited, a bad or revoked token one 401. Errors are JSON `{ "error": "..." }`: a request
 * the schemas refuse is a 400 naming the parameter; anything unexpected is a 500 whose details go to the server's
 * log only, never a stack trace to the client.
 */
import cookie from '@fastify/cookie';
import type Database from 'better-sqlite3';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AuditLog } from './audit.js';
import { DEFAULT_RATE_LIMITS, DEFAULT_SESSION_TIMES, LoginLimiter, type RateLimits, type Session, Sessions, type SessionTimes } from './auth.js';
import { CSRF_HEADER, csrfMatches, isStateChanging } from './csrf.js';
import { DEFAULT_FETCH_LIMITS, FetchStats, GatewayError, type FetchLimits } from './gateway-fetch.js';
import type { Gateway } from './gateways.js';
import { registerAlerts } from './routes/alerts.js';
import { registerFlows } from './routes/flows.js';
import { registerOverview } from './routes/overview.js';
import { HttpError } from './routes/params.js';
import { registerSearch } from './routes/search.js';
import { registerSebek } from './routes/sebek.js';
import { registerSession, SESSION_COOKIE } from './routes/session.js';
import { registerStatic } from './static.js';
import { lookupToken, scopeAllows } from './tokens.js';
import { QueryError } from '../store/query.js';
import { SqliteReader, type StoreReader } from '../store/reader.js';

declare module 'fastify' {
  interface FastifyRequest {
    hwSession: Session | null;
    /** Who is asking, for the audit log: the session's account, or `token:NAME`. */
    hwActor: string;
  }
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'self'";

export interface ConsoleOptions {
  /** The accounts, sessions and audit log (and, without `reader`, the data too). */
  db: Database.Database;
  /** Where the data is read (default the SQLite store `db`; the central store: central/reader.ts). */
  reader?: StoreReader;
  /** Serve HTTPS with this pair; without it plain HTTP (the command allows that only on loopback, when told). */
  tls?: { cert: Buffer; key: Buffer };
  sessionTimes?: SessionTimes;
  rateLimits?: RateLimits;
  /** Where to look for capture files moved since their import (pcap cut). */
  captureDir?: string;
  /** The central console: the gateways that serve their sensors' pcaps (gateways.ts). */
  gateways?: readonly Gateway[];
  /** Timeouts and the byte limit of those fetches (default DEFAULT_FETCH_LIMITS). */
  fetchLimits?: Partial<FetchLimits>;
  /** The built page (index.html, app.js, app.css); default dist/console/static of this checkout or package. */
  staticDir?: string;
  /** Server-side error lines (default stderr). */
  log?: (line: string) => void;
  /** The clock, in microseconds (tests move it to expire sessions). */
  now?: () => number;
}

export interface ConsoleContext {
  db: Database.Database;
  reader: StoreReader;
  sessions: Sessions;
  limiter: LoginLimiter;
  /** Failed API tokens, per client address (apart from logins: a token failure never locks an account out). */
  tokenLimiter: LoginLimiter;
  audit: AuditLog;
  captureDir: string | undefined;
  secure: boolean;
  gateways: ReadonlyMap<string, Gateway>;
  fetchLimits: FetchLimits;
  fetchStats: FetchStats;
  log: (line: string) => void;
}

/** Routes that answer without a session: the login itself and what the login page loads. */
function isPublic(req: FastifyRequest): boolean {
  const url = req.url;
  if (!url.startsWith('/api/')) return true;
  return url === '/api/login' || url.startsWith('/api/login?');
}

export async function buildConsole(opts: ConsoleOptions): Promise<FastifyInstance> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const nowUs = opts.now ?? (() => Date.now() * 1000);
  const app = Fastify({
    logger: false,
    // a proxy in front is not expected: the address is the socket's (login rate limits and audit rows use it)
    trustProxy: false,
    // nothing the console accepts is larger than a login
    bodyLimit: 16 * 1024,
    connectionTimeout: 120_000,
    requestTimeout: 120_000,
    routerOptions: { maxParamLength: 200 },
    // unknown parameters are refused, not dropped (a typo in a filter would otherwise show everything)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  // JSON only: a cross-site form can post text/plain or urlencoded bodies without a preflight, never application/json
  app.removeContentTypeParser(['text/plain']);
  await app.register(cookie);

  const ctx: ConsoleContext = {
    db: opts.db,
    reader: opts.reader ?? new SqliteReader(opts.db),
    sessions: new Sessions(opts.db, opts.sessionTimes ?? DEFAULT_SESSION_TIMES, nowUs),
    limiter: new LoginLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS, () => nowUs() / 1000),
    tokenLimiter: new LoginLimiter(opts.rateLimits ?? DEFAULT_RATE_LIMITS, () => nowUs() / 1000),
    audit: new AuditLog(opts.db),
    captureDir: opts.captureDir,
    secure: opts.tls !== undefined,
    gateways: new Map((opts.gateways ?? []).map((g) => [g.sensor, g])),
    fetchLimits: { ...DEFAULT_FETCH_LIMITS, ...opts.fetchLimits },
    fetchStats: new FetchStats(),
    log,
  };

  app.decorateRequest('hwSession', null);
  app.decorateRequest('hwActor', '');

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    setSecurityHeaders(reply, ctx.secure, req.url.startsWith('/api/'));
    if (isPublic(req)) return;
    if (req.headers.authorization !== undefined) return tokenAuth(ctx, req, reply, nowUs());
    const found = ctx.sessions.lookup(req.cookies[SESSION_COOKIE]);
    if (typeof found === 'string') {
      reply.code(401).send({ error: found === 'expired' ? 'session expired: log in again' : 'not logged in' });
      return reply;
    }
    if (isStateChanging(req.method) && !csrfMatches(req.headers[CSRF_HEADER], found.csrf)) {
      reply.code(403).send({ error: `missing or wrong CSRF token (the ${CSRF_HEADER} header)` });
      return reply;
    }
    req.hwSession = found;
    req.hwActor = found.user;
  });

  app.setErrorHandler((err: Error & { validation?: unknown; validationContext?: string; statusCode?: number }, req, reply) => {
    if (err.validation !== undefined) {
      reply.code(400).send({ error: validationMessage(err) });
      return;
    }
    // a gateway's pcap that failed before anything was sent (past that the connection is cut: routes/flows.ts)
    if (err instanceof GatewayError) {
      // the pcap's headers were set but not sent: the answer is the error, not an attachment
      reply.removeHeader('content-disposition');
      reply.type('application/json; charset=utf-8').code(502).send({ error: err.message });
      return;
    }
    if (err instanceof QueryError) {
      reply.code(400).send({ error: err.message });
      return;
    }
    if (err instanceof HttpError || (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)) {
      reply.code(err.statusCode!).send({ error: err.message });
      return;
    }
    log(`honeywall console: ${req.method} ${req.url.slice(0, 200)}: ${err.stack ?? err.message}`);
    reply.code(500).send({ error: 'internal error (the console logged it)' });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: `no such page: ${req.method} ${req.url.split('?')[0]!.slice(0, 100)}` });
  });

  registerSession(app, ctx);
  registerFlows(app, ctx);
  registerAlerts(app, ctx);
  registerSebek(app, ctx);
  registerOverview(app, ctx);
  registerSearch(app, ctx);
  registerStatic(app, opts.staticDir);
  return app;
}

/**
 * A request with `Authorization`: a token of the store, within the limits on failures per address, for a route its
 * scope opens. The session cookie is not looked at (one identity per request).
 */
function tokenAuth(ctx: ConsoleContext, req: FastifyRequest, reply: FastifyReply, nowUs: number): FastifyReply | undefined {
  const address = req.ip;
  // the per-account limit keyed by the address too: there is no account name before the token is known
  const allowed = ctx.tokenLimiter.check(address, address);
  if (!allowed.ok) {
    ctx.audit.write({ user: null, address, action: 'token-limited', detail: 'too many failed API tokens from this address' });
    reply.header('Retry-After', String(Math.ceil(allowed.retryMs / 1000)));
    reply.code(429).send({ error: `too many failed API tokens from this address: try again in ${Math.ceil(allowed.retryMs / 1000)} s` });
    return reply;
  }
  const token = lookupToken(ctx.db, req.headers.authorization!, nowUs);
  if (token === undefined) {
    ctx.tokenLimiter.failed(address, address);
    ctx.audit.write({ user: null, address, action: 'token-failed', object: `${req.method} ${req.url.split('?')[0]!.slice(0, 100)}` });
    reply.code(401).send({ error: 'wrong or revoked API token' });
    return reply;
  }
  const route = req.routeOptions.url;
  if (!scopeAllows(token.scope, req.method, route)) {
    reply.code(403).send({ error: `token ${token.name} (scope ${token.scope}) does not open ${req.method} ${req.url.split('?')[0]!.slice(0, 100)}` });
    return reply;
  }
  req.hwActor = `token:${token.name}`;
  return undefined;
}

/** Fastify's message, with the name of an unknown parameter (ajv's own message does not say which). */
function validationMessage(err: Error & { validation?: unknown; validationContext?: string }): string {
  const first = Array.isArray(err.validation) ? (err.validation[0] as { keyword?: string; params?: { additionalProperty?: string } }) : undefined;
  if (first?.keyword === 'additionalProperties' && first.params?.additionalProperty !== undefined)
    return `${err.validationContext ?? 'request'}: unknown parameter '${first.params.additionalProperty.slice(0, 40)}'`;
  return err.message;
}

function setSecurityHeaders(reply: FastifyReply, secure: boolean, api: boolean): void {
  reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Cross-Origin-Opener-Policy', 'same-origin');
  reply.header('Cross-Origin-Resource-Policy', 'same-origin');
  if (secure) reply.header('Strict-Transport-Security', 'max-age=31536000');
  // intruder data is not kept in caches
  if (api) reply.header('Cache-Control', 'no-store');
}
