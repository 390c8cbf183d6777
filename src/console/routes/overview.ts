/**
 * GET /api/hosts (per honeypot totals: connections in and out, bytes, alerts, firewall lines and limits hit, Sebek
 * processes), GET /api/timeline (the same counts per time bucket, for the charts), GET /api/firewall (the firewall's
 * lines, e.g. kind=limit: the limits a honeypot hit), GET /api/audit (the audit log).
 */
import type { FastifyInstance } from 'fastify';
import { hosts, QueryError, timeline } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import { badRequest, hostParam, query, rangeParams, S, timeParam } from './params.js';

/** At most this many buckets in one timeline answer. */
export const MAX_BUCKETS = 5000;

interface FirewallQuery {
  honeypot?: string;
  kind?: string;
  from?: string;
  to?: string;
  limit?: number;
  after?: string;
}

function cursor(after: string | undefined): [number, number] | undefined {
  if (after === undefined) return undefined;
  const [t, id] = after.split(':').map(Number);
  return [t!, id!];
}

export function registerOverview(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/hosts',
    { schema: { querystring: query({ from: S.time, to: S.time }) } },
    async (req) => {
      const rows = hosts(ctx.db, rangeParams(req.query));
      // bounded like every list: a store where every private address is a honeypot can name thousands
      const max = 2000;
      return { rows: rows.slice(0, max), cut: Math.max(0, rows.length - max) };
    },
  );

  app.get<{ Querystring: { from: string; to: string; bucket?: number; honeypot?: string } }>(
    '/api/timeline',
    {
      schema: {
        querystring: query(
          { from: S.time, to: S.time, bucket: { type: 'integer', minimum: 60, maximum: 31 * 86400, multipleOf: 60 }, honeypot: S.host },
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
        return timeline(ctx.db, { from, to, bucket: q.bucket, honeypot: hostParam('honeypot', q.honeypot) });
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
        }),
      },
    },
    async (req) => {
      const q = req.query;
      const { from, to } = rangeParams(q);
      const conds: string[] = [];
      const args: unknown[] = [];
      const honeypot = hostParam('honeypot', q.honeypot);
      if (honeypot !== undefined) conds.push('honeypot = ?'), args.push(honeypot);
      if (q.kind !== undefined) conds.push('kind = ?'), args.push(q.kind);
      if (from !== undefined) conds.push('ts_us >= ?'), args.push(from);
      if (to !== undefined) conds.push('ts_us < ?'), args.push(to);
      const c = cursor(q.after);
      if (c !== undefined) conds.push('(ts_us, id) < (?, ?)'), args.push(c[0], c[1]);
      const limit = q.limit ?? 100;
      const rows = ctx.db
        .prepare(`SELECT * FROM firewall_events ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''} ORDER BY ts_us DESC, id DESC LIMIT ?`)
        .all(...args, limit + 1) as { id: number; ts_us: number }[];
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const last = rows[rows.length - 1];
      return { rows, next: more && last ? `${last.ts_us}:${last.id}` : null, limit };
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
