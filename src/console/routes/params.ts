/**
 * The API's query parameters: JSON schemas (Fastify validates every request against them before a handler runs, and
 * answers 400 with the parameter and the rule it broke) and the conversions the schemas cannot express (a time as ISO
 * 8601 or Unix seconds, an address in the store's spelling, a protocol by name). A value that fails here is the
 * client's mistake: `badRequest` makes a 400 with a message that names the parameter, never a stack trace.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { formatIp, parseIp } from '../../packet/bytes.js';
import type { Page, Paged } from '../../store/query.js';
import type { StoreReader } from '../../store/reader.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);

/** Rows per page: the store's cap. */
export const MAX_PAGE = 1000;
/** Rows of each list of a detail view (a flow's alerts, a process's keystroke lines); the rest are counted. */
export const MAX_DETAIL = 2000;

// Times: Unix seconds (with up to 6 decimals) or an ISO 8601 date/time
const TIME_PATTERN = '^(\\d{1,11}(\\.\\d{1,6})?|\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?)?(Z|[+-]\\d{2}:?\\d{2})?)$';

export const S = {
  time: { type: 'string', pattern: TIME_PATTERN, maxLength: 40 },
  host: { type: 'string', minLength: 2, maxLength: 45 },
  port: { type: 'integer', minimum: 0, maximum: 65535 },
  proto: { type: 'string', pattern: '^(tcp|udp|icmp|icmp6|ipv6-icmp|\\d{1,3})$', maxLength: 9 },
  direction: { type: 'string', enum: ['inbound', 'outbound', 'internal', 'external'] },
  sid: { type: 'integer', minimum: 0, maximum: 4294967295 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
  // TIME:ID, and :SENSOR on the central store (ids are each gateway's own)
  after: { type: 'string', pattern: '^-?\\d{1,17}:\\d{1,17}(:[\\x21-\\x7e]{1,64})?$', maxLength: 110 },
  sensor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' },
  order: { type: 'string', enum: ['desc', 'asc'], default: 'desc' },
  bool: { type: 'boolean' },
  name: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' },
  id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
} as const;

/** A querystring schema: these properties only (an unknown parameter is a 400, not silently ignored). */
export function query(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', properties, required, additionalProperties: false } as const;
}

/** Microseconds since the epoch from a `time` parameter. */
export function timeParam(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let ms: number;
  if (/^\d{1,11}(\.\d{1,6})?$/.test(text)) ms = Number(text) * 1000;
  else ms = Date.parse(text.replace(' ', 'T'));
  if (!Number.isFinite(ms) || ms < 0 || ms > 7_258_118_400_000)
    throw badRequest(`${name}: '${text}' is not a time (Unix seconds or ISO 8601, 1970 to 2199)`);
  return Math.round(ms * 1000);
}

/** An address parameter in the store's spelling (IPv6 compressed as the alerts print it). */
export function hostParam(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const b = isIP(text) === 0 ? undefined : parseIp(text);
  if (b === undefined) throw badRequest(`${name}: '${text.slice(0, 45)}' is not an IPv4 or IPv6 address`);
  return formatIp(b);
}

const PROTOS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58, 'ipv6-icmp': 58 };

export function protoParam(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = PROTOS[text] ?? Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw badRequest(`proto: '${text}' is not tcp, udp, icmp, icmp6 or a number 0..255`);
  return n;
}

/** A list's paging parameters (every list route takes them). */
export interface PageQuery {
  limit?: number;
  after?: string;
  order?: 'asc' | 'desc';
}

export function page(q: PageQuery): Page {
  return { limit: q.limit, after: q.after, order: q.order };
}

/**
 * GET `path`, a keyset-paged list: `filters` are its parameters' schemas (limit, after and order are added), `list`
 * runs the store's query with them; the answer is `{ rows, next, limit }`, `next` null on the last page.
 */
export function listRoute<Q extends PageQuery, T>(
  app: FastifyInstance,
  path: string,
  filters: Record<string, unknown>,
  list: (q: Q, page: Page) => Promise<Paged<T>>,
): void {
  app.get<{ Querystring: Q }>(
    path,
    { schema: { querystring: query({ ...filters, limit: S.limit, after: S.after, order: S.order }) } },
    async (req) => {
      // (the schema has validated the querystring: it is a Q)
      const q = req.query as Q;
      const r = await list(q, page(q));
      return { rows: r.rows, next: r.next ?? null, limit: q.limit };
    },
  );
}

/**
 * The `sensor` parameter: every route of the central store takes it; a local store has sensors on its flows, alerts
 * and firewall lines only (`local`: the route can filter by it there), elsewhere it is refused rather than ignored.
 */
export function sensorParam(reader: StoreReader, text: string | undefined, local = false): string | undefined {
  if (text !== undefined && !reader.central && !local)
    throw badRequest("sensor: this store is one gateway's; sensors are the central store's (honeywall console --store postgres://...)");
  return text;
}

/** A detail's sensor: required by the central store (a flow or process is its gateway's id there). */
export function detailSensor(reader: StoreReader, text: string | undefined): string | undefined {
  if (reader.central && text === undefined) throw badRequest("sensor: required on the central store (ids are each gateway's own)");
  return sensorParam(reader, text);
}

/** A time range whose `to` is after its `from`. */
export function rangeParams(q: { from?: string; to?: string }): { from?: number; to?: number } {
  const from = timeParam('from', q.from);
  const to = timeParam('to', q.to);
  if (from !== undefined && to !== undefined && to <= from) throw badRequest('to: must be after from');
  return { from, to };
}
