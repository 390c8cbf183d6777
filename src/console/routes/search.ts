/**
 * GET /api/search?q=...: one box for everything. An address finds its flows and alerts; `sid:N` (or a bare number)
 * the alerts of that rule and their flows; a Community ID its flows; any other text the alerts whose message, the
 * keystroke lines, the files opened and the processes whose command name contain it. Each group holds at most
 * SEARCH_ROWS rows (newest first) and says whether there were more. Text is matched with LIKE and its wildcards
 * escaped (a `%` typed is a `%` looked for), bound as a parameter.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { listAlerts, listFlows } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import { hostParam, query } from './params.js';

export const SEARCH_ROWS = 50;

function like(db: ConsoleContext['db'], sql: string, text: string): { rows: unknown[]; more: boolean } {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = db.prepare(`${sql} LIMIT ?`).all(pattern, SEARCH_ROWS + 1);
  const more = rows.length > SEARCH_ROWS;
  if (more) rows.length = SEARCH_ROWS;
  return { rows, more };
}

export function registerSearch(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { q: string } }>(
    '/api/search',
    { schema: { querystring: query({ q: { type: 'string', minLength: 1, maxLength: 200 } }, ['q']) } },
    async (req) => {
      const q = req.query.q.trim();
      const page = { limit: SEARCH_ROWS };
      if (isIP(q) !== 0) {
        const host = hostParam('q', q)!;
        const flows = listFlows(ctx.db, { host }, page);
        const alerts = listAlerts(ctx.db, { host }, page);
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
        const flows = listFlows(ctx.db, { sid: n }, page);
        const alerts = listAlerts(ctx.db, { sid: n }, page);
        return {
          kind: 'sid',
          q,
          flows: { rows: flows.rows, more: flows.next !== undefined },
          alerts: { rows: alerts.rows, more: alerts.next !== undefined },
        };
      }
      if (/^1:[A-Za-z0-9+/]{27}=$/.test(q)) {
        const flows = listFlows(ctx.db, { communityId: q }, page);
        return { kind: 'community_id', q, flows: { rows: flows.rows, more: flows.next !== undefined } };
      }
      // full scans with LIKE, each stopped at its page: a search box, not a query language
      return {
        kind: 'text',
        q,
        alerts: like(ctx.db, "SELECT * FROM alerts WHERE msg LIKE ? ESCAPE '\\' ORDER BY ts_us DESC, id DESC", q),
        keystrokes: like(
          ctx.db,
          "SELECT client, pid, com, time_sec, time_usec, line FROM keystroke_lines WHERE line LIKE ? ESCAPE '\\' ORDER BY time_sec DESC, time_usec DESC, id DESC",
          q,
        ),
        opens: like(
          ctx.db,
          "SELECT client, pid, com, time_sec, time_usec, path FROM opens WHERE path LIKE ? ESCAPE '\\' ORDER BY time_sec DESC, time_usec DESC, id DESC",
          q,
        ),
        processes: like(ctx.db, "SELECT * FROM processes WHERE coms LIKE ? ESCAPE '\\' ORDER BY first_sec DESC, pid DESC", q),
      };
    },
  );
}
