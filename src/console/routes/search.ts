/**
 * GET /api/search?q=...: one box for everything. An address finds its flows and alerts; `sid:N` (or a bare number)
 * the alerts of that rule and their flows; a Community ID its flows; any other text the alerts whose message, the
 * keystroke lines, the files opened and the processes whose command name contain it. Each group holds at most
 * SEARCH_ROWS rows (newest first) and says whether there were more. Text is matched with LIKE and its wildcards
 * escaped (a `%` typed is a `%` looked for), bound as a parameter.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SEARCH_ROWS } from '../../store/reader.js';
import type { ConsoleContext } from '../server.js';
import { hostParam, query, S, sensorParam } from './params.js';

export { SEARCH_ROWS };

export function registerSearch(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { q: string; sensor?: string } }>(
    '/api/search',
    { schema: { querystring: query({ q: { type: 'string', minLength: 1, maxLength: 200 }, sensor: S.sensor }, ['q']) } },
    async (req) => {
      const q = req.query.q.trim();
      const sensor = sensorParam(ctx.reader, req.query.sensor);
      const page = { limit: SEARCH_ROWS };
      if (isIP(q) !== 0) {
        const host = hostParam('q', q)!;
        const flows = await ctx.reader.listFlows({ host, sensor }, page);
        const alerts = await ctx.reader.listAlerts({ host, sensor }, page);
        return {
          kind: 'address',
          q,
          flows: { rows: flows.rows, more: flows.next !== undefined },
          alerts: { rows: alerts.rows, more: alerts.next !== undefined },
        };
      }
      const sid = /^(?:sid:)?(\d{1,10})$/i.exec(q);
      if (sid !== null && Number(sid[1]) <= 4294967295) {
        const n = Number(sid[1]);
        const flows = await ctx.reader.listFlows({ sid: n, sensor }, page);
        const alerts = await ctx.reader.listAlerts({ sid: n, sensor }, page);
        return {
          kind: 'sid',
          q,
          flows: { rows: flows.rows, more: flows.next !== undefined },
          alerts: { rows: alerts.rows, more: alerts.next !== undefined },
        };
      }
      if (/^1:[A-Za-z0-9+/]{27}=$/.test(q)) {
        const flows = await ctx.reader.listFlows({ communityId: q, sensor }, page);
        return { kind: 'community_id', q, flows: { rows: flows.rows, more: flows.next !== undefined } };
      }
      // full scans with LIKE, each stopped at its page: a search box, not a query language
      return { kind: 'text', q, ...(await ctx.reader.searchText(q, sensor)) };
    },
  );
}
