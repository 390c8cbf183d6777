/**
 * GET /api/flows (filters: time, host, port, protocol, direction, honeypot, sid, app_proto, alerted; keyset pages),
 * GET /api/flows/:id (the flow, its alerts, capture files, the Sebek processes whose sockets made it, and its first
 * packets summarized; audited), GET /api/flows/:id/pcap (the flow's packets cut from the full capture, streamed as
 * an attachment; audited with what was sent). On the central store the pcap is fetched from the gateway that holds
 * it when one is configured for the flow's sensor (gateway-fetch.ts), else refused with 409 naming that gateway.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decode } from '../../packet/decode.js';
import { formatIp } from '../../packet/bytes.js';
import { readCaptureAll } from '../../packet/pcap.js';
import { cutFlow, CutError, writeError } from '../../store/pcap-cut.js';
import { fetchGatewayPcap, GatewayError } from '../gateway-fetch.js';
import type { FlowRow } from '../../store/query.js';
import type { ConsoleContext } from '../server.js';
import {
  detailSensor,
  HttpError,
  hostParam,
  listRoute,
  MAX_DETAIL,
  type PageQuery,
  protoParam,
  query,
  rangeParams,
  S,
  sensorParam,
} from './params.js';

interface FlowQuery extends PageQuery {
  from?: string;
  to?: string;
  host?: string;
  port?: number;
  proto?: string;
  direction?: 'inbound' | 'outbound' | 'internal' | 'external';
  honeypot?: string;
  sid?: number;
  app_proto?: string;
  alerted?: boolean;
  community_id?: string;
  sensor?: string;
}

/** The central store keeps the index; a flow's packets stay in its gateway's full capture. */
function elsewhere(ctx: ConsoleContext, sensor: string, id: number): string {
  if (ctx.gateways.has(sensor))
    return `the packets of flow ${id} are in the full capture of gateway '${sensor}': the pcap download fetches them from it`;
  return `the packets of flow ${id} are in the full capture of gateway '${sensor}': download them from that gateway's console`;
}

/**
 * The central console's pcap: fetched from the sensor's gateway and streamed on as it arrives. A failure before the
 * gateway's 200 is a 502 naming the gateway (nothing of a pcap written); after it, the download ends early and the
 * audit row says so. The analyst going away aborts the gateway's request.
 */
async function fromGateway(ctx: ConsoleContext, req: FastifyRequest, reply: FastifyReply, sensor: string, id: number): Promise<FastifyReply> {
  const gw = ctx.gateways.get(sensor)!;
  // taken now: once the analyst's socket is gone, req.ip is too
  const address = req.ip;
  const audit = (detail: string) =>
    ctx.audit.write({ user: req.hwActor, address, action: 'pcap-downloaded', object: `flow ${sensor}/${id}`, detail: detail.slice(0, 200) });
  let up;
  try {
    up = await fetchGatewayPcap(gw, id, ctx.fetchLimits, ctx.fetchStats);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    audit(`failed: ${e.message}`);
    if (e.kind === 'too-large') ctx.log(`honeywall console: ${e.message} (${ctx.fetchStats.failed['too-large']} so far)`);
    throw new HttpError(502, e.message);
  }
  // audited when the body has ended, however it ended (it can fail before this route attaches anything to it)
  let gone = false;
  reply.raw.once('close', () => {
    gone = up.abort();
  });
  void up.done.then((e) => {
    if (e === undefined) audit(`from gateway ${sensor}: ${up.bytes()} bytes`);
    else if (gone) audit(`incomplete, from gateway ${sensor}: the client went away after ${up.bytes()} bytes`);
    else {
      audit(`incomplete, from gateway ${sensor}: ${e.message}`);
      if (e instanceof GatewayError && e.kind === 'too-large')
        ctx.log(`honeywall console: ${e.message} (${ctx.fetchStats.failed['too-large']} so far)`);
    }
  });
  reply.header('Content-Type', 'application/vnd.tcpdump.pcap');
  reply.header('Content-Disposition', `attachment; filename="honeywall-${sensor.replace(/[^A-Za-z0-9._-]/g, '_')}-flow-${id}.pcap"`);
  return reply.send(up.body);
}

const detailSchema = {
  params: { type: 'object', properties: { id: S.id }, required: ['id'], additionalProperties: false },
  querystring: query({ sensor: S.sensor }),
} as const;

/** Packets of a flow summarized on its page (the pcap has them all). */
const SUMMARY_PACKETS = 100;

const TCP_FLAGS = 'FSRPAUEC';
export function tcpFlags(f: number): string {
  let out = '';
  for (let i = 0; i < 8; i++) if (f & (1 << i)) out += TCP_FLAGS[i];
  return out;
}

export interface PacketSummary {
  t_us: number;
  /** '>' client to server, '<' server to client. */
  dir: '>' | '<' | '?';
  len: number;
  payload: number;
  flags: string | null;
}

async function summarize(ctx: ConsoleContext, flow: FlowRow): Promise<{ packets: PacketSummary[]; more: boolean } | { error: string }> {
  const chunks: Uint8Array[] = [];
  try {
    const r = await cutFlow(ctx.db, flow.id, (c) => chunks.push(c), { captureDir: ctx.captureDir, maxPackets: SUMMARY_PACKETS });
    const { records } = readCaptureAll(Buffer.concat(chunks));
    const packets = records.map((rec) => {
      const p = decode(rec.linktype, rec.data, undefined, { verifyChecksums: false });
      const src = p.ip === undefined ? undefined : formatIp(p.ip.src);
      const sport = p.srcPort;
      const dir = src === flow.client_ip && (flow.client_port === null || sport === flow.client_port) ? '>' : src === flow.server_ip ? '<' : '?';
      return {
        t_us: rec.tsSec * 1_000_000 + rec.tsUsec,
        dir,
        len: rec.origLen,
        payload: p.payloadLength,
        flags: p.tcp === undefined ? null : tcpFlags(p.tcp.flags),
      } satisfies PacketSummary;
    });
    return { packets, more: r.cut };
  } catch (e) {
    if (e instanceof CutError) return { error: e.message };
    throw e;
  }
}

export function registerFlows(app: FastifyInstance, ctx: ConsoleContext): void {
  listRoute(
    app,
    '/api/flows',
    {
      from: S.time,
      to: S.time,
      host: S.host,
      port: S.port,
      proto: S.proto,
      direction: S.direction,
      honeypot: S.host,
      sid: S.sid,
      app_proto: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[a-z0-9_-]+$' },
      alerted: S.bool,
      community_id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9]+:[A-Za-z0-9+/=]+$' },
      sensor: S.sensor,
    },
    (q: FlowQuery, page) =>
      ctx.reader.listFlows(
        {
          ...rangeParams(q),
          host: hostParam('host', q.host),
          port: q.port,
          proto: protoParam(q.proto),
          direction: q.direction,
          honeypot: hostParam('honeypot', q.honeypot),
          sid: q.sid,
          appProto: q.app_proto,
          alerted: q.alerted,
          communityId: q.community_id,
          sensor: sensorParam(ctx.reader, q.sensor, true),
        },
        page,
      ),
  );

  app.get<{ Params: { id: number }; Querystring: { sensor?: string } }>('/api/flows/:id', { schema: detailSchema }, async (req) => {
    const sensor = detailSensor(ctx.reader, req.query.sensor);
    const d = await ctx.reader.getFlow(req.params.id, sensor, { max: MAX_DETAIL });
    if (d === undefined) throw new HttpError(404, `no flow ${req.params.id}${sensor === undefined ? '' : ` of ${sensor}`}`);
    const object = `flow ${sensor === undefined ? '' : `${sensor}/`}${d.flow.id}`;
    ctx.audit.write({ user: req.hwActor, address: req.ip, action: 'flow-viewed', object });
    return { ...d, packets: sensor === undefined ? await summarize(ctx, d.flow) : { error: elsewhere(ctx, sensor, d.flow.id) } };
  });

  app.get<{ Params: { id: number }; Querystring: { sensor?: string } }>('/api/flows/:id/pcap', { schema: detailSchema }, async (req, reply) => {
    const id = req.params.id;
    const sensor = detailSensor(ctx.reader, req.query.sensor);
    if (sensor !== undefined) {
      if ((await ctx.reader.getFlow(id, sensor, { max: 0 })) === undefined) throw new HttpError(404, `no flow ${id} of ${sensor}`);
      if (ctx.gateways.has(sensor)) return fromGateway(ctx, req, reply, sensor, id);
      throw new HttpError(409, elsewhere(ctx, sensor, id));
    }
    const flow = ctx.db.prepare('SELECT id FROM flows WHERE id = ?').get(id);
    if (flow === undefined) throw new HttpError(404, `no flow ${id}`);
    // The first piece is held until the cut has found its files: a missing or changed capture is then a clear 409,
    // not a pcap that stops after its header. After that the cut is streamed, held back by the socket (bounded
    // memory for a flow of any size); a failure then ends the download early, and the audit row says so.
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    let started = false;
    let first: Uint8Array[] = [];
    let release: (() => void) | undefined;
    const ready = new Promise<void>((resolve) => (release = resolve));
    const write = async (chunk: Uint8Array) => {
      if (!started) {
        first.push(chunk);
        // the header alone does not prove the files are there; the first frame does
        if (first.length < 2) return;
        started = true;
        release!();
        for (const c of first) out.write(c);
        first = [];
        return;
      }
      if (out.destroyed) throw writeError(new Error('the client went away'));
      if (!out.write(chunk))
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done).off('close', done);
            resolve();
          };
          out.on('drain', done).on('close', done);
        });
    };
    const user = req.hwActor;
    // taken now: once the client's socket is gone, req.ip is too (the audit row of an abandoned download needs it)
    const address = req.ip;
    const cut = cutFlow(ctx.db, id, write, { captureDir: ctx.captureDir }).then(
      (r) => {
        if (!started) {
          started = true;
          for (const c of first) out.write(c);
          release!();
        }
        out.end();
        ctx.audit.write({
          user,
          address,
          action: 'pcap-downloaded',
          object: `flow ${id}`,
          detail: `${r.packets} packets, ${r.bytes} bytes`,
        });
        return undefined;
      },
      (e: unknown) => {
        if (!started) {
          started = true;
          release!();
          return e;
        }
        ctx.audit.write({
          user,
          address,
          action: 'pcap-downloaded',
          object: `flow ${id}`,
          detail: `incomplete: ${(e as Error).message}`.slice(0, 200),
        });
        out.destroy(e as Error);
        return undefined;
      },
    );
    await ready;
    const early = await Promise.race([cut, Promise.resolve('streaming' as const)]);
    if (early instanceof Error) {
      if (early instanceof CutError) throw new HttpError(409, early.message);
      throw early;
    }
    reply.header('Content-Type', 'application/vnd.tcpdump.pcap');
    reply.header('Content-Disposition', `attachment; filename="honeywall-flow-${id}.pcap"`);
    return reply.send(out);
  });
}
