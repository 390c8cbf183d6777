/**
 * The one mapping from a replay's flow records and events to store rows, shared by `honeywall import` (a capture
 * made elsewhere) and the gateway's store feed (its own full capture, as tcpdump writes it): a flow's first packet
 * makes its row (filed under its honeypot, with its direction), its end brings the row up to date with where its
 * frames are, an event becomes an alert linked to the flow it was raised in.
 */
import type { FlowRecord } from '../flow/recorder.js';
import type { MatchEvent } from '../match/decide.js';
import { alertOf, type EventContext } from '../output/alert.js';
import type { HoneypotSet } from './honeypots.js';
import type { FlowMeta, StoreWriter } from './writer.js';

export class StoreSink {
  /** Open flows' rows, by their record. */
  private readonly rows = new Map<FlowRecord, { row: number; meta: FlowMeta }>();
  flows = 0;
  alerts = 0;

  constructor(
    readonly writer: StoreWriter,
    private readonly honeypots: HoneypotSet,
    private readonly sensor: string,
    /** The import the rows belong to (null: the gateway's). */
    private readonly captureId: number | null,
    /** Told of each flow's row as it is made and as it ends (the gateway's feed links its alerts by them). */
    private readonly watch?: { started(rec: FlowRecord, row: number): void; ended(rec: FlowRecord, row: number): void },
  ) {}

  /** The row of an open flow. */
  rowOf(rec: FlowRecord): number | undefined {
    return this.rows.get(rec)?.row;
  }

  /** The honeypot, direction, sensor and import of an open flow's row. */
  metaOf(rec: FlowRecord): FlowMeta | undefined {
    return this.rows.get(rec)?.meta;
  }

  readonly onFlowStart = (rec: FlowRecord): void => {
    const c = this.honeypots.classify(rec.clientIp, rec.serverIp);
    const meta: FlowMeta = { honeypot: c.honeypot, direction: c.direction, sensor: this.sensor, captureId: this.captureId };
    const row = this.writer.flowStarted(rec, meta);
    this.rows.set(rec, { row, meta });
    this.flows++;
    this.watch?.started(rec, row);
  };

  readonly onFlowEnd = (rec: FlowRecord): void => {
    const r = this.rows.get(rec);
    if (r === undefined) return;
    this.rows.delete(rec);
    this.writer.flowEnded(r.row, rec, r.meta);
    this.watch?.ended(rec, r.row);
  };

  /** A matcher event of the replay itself (import with rules). */
  readonly onEvent = (e: MatchEvent, ctx: EventContext): void => {
    const a = alertOf(e, false, false, ctx);
    const flow = ctx.record === undefined ? null : (this.rows.get(ctx.record)?.row ?? null);
    this.writer.alert(a, flow, { honeypot: this.honeypots.of(a.src, a.dst), sensor: this.sensor, captureId: this.captureId });
    this.alerts++;
  };
}
