/**
 * GET /api/hosts (per honeypot totals: connections in and out, bytes, alerts, firewall lines and limits hit, Sebek
 * processes), GET /api/timeline (the same counts per time bucket, for the charts), GET /api/firewall (the firewall's
 * lines, e.g. kind=limit: the limits a honeypot hit), GET /api/audit (the audit log).
 */
import type { FastifyInstance } from 'fastify';
import { QueryError } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import { CentralReader } from '../../store/central/reader.js';
import { badRequest, hostParam, page, query, rangeParams, S, sensorParam, timeParam } from './params.js';

/** At most this many buckets in one timeline answer. */
export const MAX_BUCKETS = 5000;

interface FirewallQuery {
  honeypot?: string;
  kind?: string;
  from?: string;
  to?: string;
  limit?: number;
  after?: string;
  sensor?: string;
}

function cursor(after: string | undefined): [number, number] | undefined {
  if (after === undefined) return undefined;
  const [t, id] = after.split(':').map(Number);
  return [t!, id!];
}

export function registerOverview(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/api/sensors', async () => ({
    central: ctx.reader.central,
    store: ctx.reader.label,
    sensors: ctx.reader instanceof CentralReader ? await ctx.reader.sensors() : [],
    // the sensors whose gateway this console fetches pcaps from (the flow page offers the download for those)
    gateways: [...ctx.gateways.keys()].sort(),
  }));

  app.get<{ Querystring: { from?: string; to?: string; sensor?: string } }>(
    '/api/hosts',
    { schema: { querystring: query({ from: S.time, to: S.time, sensor: S.sensor }) } },
    async (req) => {
      const rows = await ctx.reader.hosts({ ...rangeParams(req.query), sensor: sensorParam(ctx.reader, req.query.sensor) });
      // bounded like every list: a store where every private address is a honeypot can name thousands
      const max = 2000;
      return { rows: rows.slice(0, max), cut: Math.max(0, rows.length - max) };
    },
  );

  app.get<{ Querystring: { from: string; to: string; bucket?: number; honeypot?: string; sensor?: string } }>(
    '/api/timeline',
    {
      schema: {
        querystring: query(
          {
            from: S.time,
            to: S.time,
            bucket: { type: 'integer', minimum: 60, maximum: 31 * 86400, multipleOf: 60 },
            honeypot: S.host,
            sensor: S.sensor,
          },
          ['from', 'to'],
        ),
      },
    },
    async (req) => {
      const q = req.query;
      const from = timeParam('from', q.from)!;
      const to = timeParam('to', q.to)!;
      if (to <= from) throw badRequest('to: must be after from');
      if (q.bucket !== undefined && (to - from) / 1e6 / q.bucket > MAX_BUCKETS)
        throw badRequest(`bucket: ${q.bucket} s makes more than ${MAX_BUCKETS} buckets over this range: choose a wider bucket`);
      try {
        return await ctx.reader.timeline({
          from,
          to,
          bucket: q.bucket,
          honeypot: hostParam('honeypot', q.honeypot),
          sensor: sensorParam(ctx.reader, q.sensor),
        });
      } catch (e) {
        if (e instanceof QueryError) throw badRequest(e.message);
        throw e;
      }
    },
  );

  app.get<{ Querystring: FirewallQuery }>(
    '/api/firewall',
    {
      schema: {
        querystring: query({
          honeypot: S.host,
          kind: { type: 'string', enum: ['inbound', 'outbound', 'limit', 'fence', 'sebek', 'dhcp', 'dns', 'other'] },
          from: S.time,
          to: S.time,
          limit: S.limit,
          after: S.after,
          sensor: S.sensor,
        }),
      },
    },
    async (req) => {
      const q = req.query;
      const r = await ctx.reader.listFirewall(
        { ...rangeParams(q), honeypot: hostParam('honeypot', q.honeypot), kind: q.kind, sensor: sensorParam(ctx.reader, q.sensor, true) },
        page(q),
      );
      return { rows: r.rows, next: r.next ?? null, limit: q.limit ?? 100 };
    },
  );

  app.get<{ Querystring: { limit?: number; after?: string } }>(
    '/api/audit',
    { schema: { querystring: query({ limit: S.limit, after: S.after }) } },
    async (req) => {
      const limit = req.query.limit ?? 100;
      const rows = ctx.audit.page(limit + 1, cursor(req.query.after));
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const last = rows[rows.length - 1];
      return { rows, next: more && last ? `${last.ts_us}:${last.id}` : null, limit };
    },
  );
}
