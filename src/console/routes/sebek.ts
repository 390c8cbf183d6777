/**
 * GET /api/sebek/processes (a honeypot's processes, filters by time and command; keyset pages) and
 * GET /api/sebek/processes/:client/:pid (one process: children, keystroke lines with their times, files opened,
 * socket calls and the flows they made; each list bounded, the rest counted; audited).
 */
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../server.js';
import { detailSensor, HttpError, hostParam, listRoute, MAX_DETAIL, type PageQuery, query, rangeParams, S, sensorParam } from './params.js';

interface ProcessQuery extends PageQuery {
  client?: string;
  from?: string;
  to?: string;
  com?: string;
  sensor?: string;
}

export function registerSebek(app: FastifyInstance, ctx: ConsoleContext): void {
  listRoute(
    app,
    '/api/sebek/processes',
    { client: S.host, from: S.time, to: S.time, com: { type: 'string', minLength: 1, maxLength: 64 }, sensor: S.sensor },
    (q: ProcessQuery, page) =>
      ctx.reader.listProcesses(
        { ...rangeParams(q), client: hostParam('client', q.client), com: q.com, sensor: sensorParam(ctx.reader, q.sensor) },
        page,
      ),
  );

  app.get<{ Params: { client: string; pid: number }; Querystring: { sensor?: string } }>(
    '/api/sebek/processes/:client/:pid',
    {
      schema: {
        params: {
          type: 'object',
          properties: { client: S.host, pid: { type: 'integer', minimum: 0, maximum: 4294967295 } },
          required: ['client', 'pid'],
          additionalProperties: false,
        },
        querystring: query({ sensor: S.sensor }),
      },
    },
    async (req) => {
      const client = hostParam('client', req.params.client)!;
      const sensor = detailSensor(ctx.reader, req.query.sensor);
      const d = await ctx.reader.getProcess(client, req.params.pid, sensor, { max: MAX_DETAIL });
      if (d === undefined) throw new HttpError(404, `no Sebek process ${req.params.pid} on ${client}${sensor === undefined ? '' : ` of ${sensor}`}`);
      const object = `process ${sensor === undefined ? '' : `${sensor}/`}${client}/${req.params.pid}`;
      ctx.audit.write({ user: req.hwActor, address: req.ip, action: 'process-viewed', object });
      return d;
    },
  );
}
