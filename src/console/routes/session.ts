/**
 * POST /api/login (no session, no CSRF token: rate limited per account and per address, every outcome audited),
 * POST /api/logout (a state change: session and CSRF token), GET /api/session (who is logged in, and the CSRF token
 * for the page to send back: only a same-origin page can read it).
 */
import type { FastifyInstance } from 'fastify';
import { checkLogin, MAX_PASSWORD } from '../auth.js';
import type { ConsoleContext } from '../server.js';

export const SESSION_COOKIE = 'hw_session';

export function registerSession(app: FastifyInstance, ctx: ConsoleContext): void {
  app.post<{ Body: { name: string; password: string } }>(
    '/api/login',
    {
      schema: {
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', minLength: 1, maxLength: MAX_PASSWORD } },
          required: ['name', 'password'],
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const { name, password } = req.body;
      const address = req.ip;
      const allowed = ctx.limiter.check(name, address);
      if (!allowed.ok) {
        ctx.audit.write({ user: name, address, action: 'login-limited', detail: `too many failed logins for this ${allowed.limit}` });
        reply.header('Retry-After', String(Math.ceil(allowed.retryMs / 1000)));
        return reply
          .code(429)
          .send({ error: `too many failed logins for this ${allowed.limit}: try again in ${Math.ceil(allowed.retryMs / 1000)} s` });
      }
      const user = await checkLogin(ctx.db, name, password);
      if (user === undefined) {
        ctx.limiter.failed(name, address);
        ctx.audit.write({ user: name, address, action: 'login-failed' });
        return reply.code(401).send({ error: 'wrong account name or password' });
      }
      ctx.limiter.succeeded(name);
      const s = ctx.sessions.create(user, address);
      ctx.audit.write({ user: user.name, address, action: 'login' });
      // HttpOnly: no script reads it; Secure: sent over TLS only; SameSite=Strict: never sent by another site's request
      reply.setCookie(SESSION_COOKIE, s.id, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
      return { user: user.name, csrf: s.csrf };
    },
  );

  app.post('/api/logout', async (req, reply) => {
    const s = req.hwSession!;
    ctx.sessions.destroy(s);
    ctx.audit.write({ user: s.user, address: req.ip, action: 'logout' });
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
    return { ok: true };
  });

  app.get('/api/session', async (req) => {
    const s = req.hwSession!;
    return { user: s.user, csrf: s.csrf, idle_seconds: ctx.sessions.times.idleMs / 1000 };
  });
}
