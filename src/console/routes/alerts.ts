/** GET /api/alerts: filters by time, sid, host, honeypot, flow, blocked; keyset pages. */
import type { FastifyInstance } from 'fastify';
import { listAlerts } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import { hostParam, page, query, rangeParams, S } from './params.js';

interface AlertQuery {
  from?: string;
  to?: string;
  sid?: number;
  host?: string;
  honeypot?: string;
  flow?: number;
  blocked?: boolean;
  limit?: number;
  after?: string;
  order?: 'asc' | 'desc';
}

export function registerAlerts(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: AlertQuery }>(
    '/api/alerts',
    {
      schema: {
        querystring: query({
          from: S.time,
          to: S.time,
          sid: S.sid,
          host: S.host,
          honeypot: S.host,
          flow: S.id,
          blocked: S.bool,
          limit: S.limit,
          after: S.after,
          order: S.order,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      const r = listAlerts(
        ctx.db,
        {
          ...rangeParams(q),
          sid: q.sid,
          host: hostParam('host', q.host),
          honeypot: hostParam('honeypot', q.honeypot),
          flow: q.flow,
          blocked: q.blocked,
        },
        page(q),
      );
      return { rows: r.rows, next: r.next ?? null, limit: q.limit };
    },
  );
}
