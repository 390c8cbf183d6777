/**
 * GET /api/sebek/processes (a honeypot's processes, filters by time and command; keyset pages) and
 * GET /api/sebek/processes/:client/:pid (one process: children, keystroke lines with their times, files opened,
 * socket calls and the flows they made; each list bounded, the rest counted; audited).
 */
import type { FastifyInstance } from 'fastify';
import { getProcess, listProcesses } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import { HttpError, hostParam, listRoute, MAX_DETAIL, type PageQuery, rangeParams, S } from './params.js';

interface ProcessQuery extends PageQuery {
  client?: string;
  from?: string;
  to?: string;
  com?: string;
}

export function registerSebek(app: FastifyInstance, ctx: ConsoleContext): void {
  listRoute(
    app,
    '/api/sebek/processes',
    { client: S.host, from: S.time, to: S.time, com: { type: 'string', minLength: 1, maxLength: 64 } },
    (q: ProcessQuery, page) => listProcesses(ctx.db, { ...rangeParams(q), client: hostParam('client', q.client), com: q.com }, page),
  );

  app.get<{ Params: { client: string; pid: number } }>(
    '/api/sebek/processes/:client/:pid',
    {
      schema: {
        params: {
          type: 'object',
          properties: { client: S.host, pid: { type: 'integer', minimum: 0, maximum: 4294967295 } },
          required: ['client', 'pid'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const client = hostParam('client', req.params.client)!;
      const d = getProcess(ctx.db, client, req.params.pid, { max: MAX_DETAIL });
      if (d === undefined) throw new HttpError(404, `no Sebek process ${req.params.pid} on ${client}`);
      const parent = ctx.db.prepare('SELECT pid, com FROM processes WHERE client = ? AND pid = ?').get(client, d.process.ppid) ?? null;
      ctx.audit.write({ user: req.hwSession!.user, address: req.ip, action: 'process-viewed', object: `process ${client}/${req.params.pid}` });
      return { ...d, parent };
    },
  );
}
