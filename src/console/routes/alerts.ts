/** GET /api/alerts: filters by time, sid, host, honeypot, flow, blocked; keyset pages. */
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../server.js';
import { hostParam, listRoute, type PageQuery, rangeParams, S, sensorParam } from './params.js';

interface AlertQuery extends PageQuery {
  from?: string;
  to?: string;
  sid?: number;
  host?: string;
  honeypot?: string;
  flow?: number;
  blocked?: boolean;
  sensor?: string;
}

export function registerAlerts(app: FastifyInstance, ctx: ConsoleContext): void {
  listRoute(
    app,
    '/api/alerts',
    { from: S.time, to: S.time, sid: S.sid, host: S.host, honeypot: S.host, flow: S.id, blocked: S.bool, sensor: S.sensor },
    (q: AlertQuery, page) =>
      ctx.reader.listAlerts(
        {
          ...rangeParams(q),
          sid: q.sid,
          host: hostParam('host', q.host),
          honeypot: hostParam('honeypot', q.honeypot),
          flow: q.flow,
          blocked: q.blocked,
          sensor: sensorParam(ctx.reader, q.sensor, true),
        },
        page,
      ),
  );
}
