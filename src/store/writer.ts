/**
 * Writing to the store through a bounded queue: flows (at their start and their end), alerts and firewall lines are
 * queued as plain operations and written in batches, one transaction each (SQLite commits cost more than rows). The
 * queue holds at most `maxQueue` operations: past that the gateway drops (it must never wait on a disk while packets
 * wait in the kernel queue) and counts each drop by kind; an import flushes instead (it has time, and nothing may be
 * lost). Every bound is in `stats`.
 */
import type Database from 'better-sqlite3';
import type { FlowRecord } from '../flow/recorder.js';
import type { AlertEvent } from '../output/alert.js';
import type { Direction } from './honeypots.js';
import { encodeOffsets } from './offsets.js';

/** Where a flow row stands: its honeypot and direction, the sensor that saw it, the import that made it. */
export interface FlowMeta {
  honeypot: string | null;
  direction: Direction;
  sensor: string;
  captureId: number | null;
}

export interface AlertMeta {
  honeypot: string | null;
  sensor: string;
  captureId: number | null;
}

/** A firewall log line with its fields (firewall.ts makes them from the gateway's NFLOG packets). */
export interface FirewallEvent {
  tsUs: number;
  kind: 'inbound' | 'outbound' | 'limit' | 'fence' | 'sebek' | 'dhcp' | 'dns' | 'other';
  prefix: string;
  proto: string | null;
  srcIp: string | null;
  srcPort: number | null;
  dstIp: string | null;
  dstPort: number | null;
  inIface: string | null;
  outIface: string | null;
  length: number | null;
  honeypot: string | null;
  sensor: string;
  line: string;
}

type Op =
  | { kind: 'flow'; row: number; rec: FlowRecord; meta: FlowMeta; final: boolean; files?: boolean }
  | { kind: 'alert'; alert: AlertEvent; flow: number | null; meta: AlertMeta }
  | { kind: 'firewall'; event: FirewallEvent };

export type OpKind = 'flowStart' | 'flowUpdate' | 'flowEnd' | 'alert' | 'firewall';

export interface StoreWriterOptions {
  /** Operations held before the next flush (default 65,536). */
  maxQueue?: number;
  /** Operations per transaction (default 2,000). */
  batch?: number;
  /** A full queue: drop the operation and count it (the gateway), or flush first (an import). Default drop. */
  onFull?: 'drop' | 'flush';
  /**
   * Write a flow's row when it starts, so the console sees open flows (default true: the gateway); an import, which
   * nobody reads while it runs, writes each flow once, at its end.
   */
  startRows?: boolean;
}

export class StoreWriterStats {
  queued = 0;
  written = 0;
  batches = 0;
  /** Deepest the queue was. */
  maxDepth = 0;
  /** Operations refused at a full queue, by kind. */
  dropped: Record<OpKind, number> = { flowStart: 0, flowUpdate: 0, flowEnd: 0, alert: 0, firewall: 0 };
  /** Operations lost in a batch that failed (disk full, ...), and the last failure. */
  failed = 0;
  lastError: string | undefined = undefined;
}

const US = 1_000_000;
const us = (sec: number, usec: number) => sec * US + usec;

function opKind(op: Op): OpKind {
  return op.kind === 'flow' ? (op.final ? 'flowEnd' : op.files === true ? 'flowUpdate' : 'flowStart') : op.kind;
}

export class StoreWriter {
  readonly stats = new StoreWriterStats();
  readonly maxQueue: number;
  private readonly batch: number;
  private readonly onFull: 'drop' | 'flush';
  private readonly startRows: boolean;
  private queue: Op[] = [];
  private nextFlowRow: number;
  private readonly upFlow: Database.Statement;
  private readonly upFile: Database.Statement;
  private readonly insAlert: Database.Statement;
  private readonly countAlert: Database.Statement;
  private readonly insFirewall: Database.Statement;
  private readonly upMinute: Database.Statement;
  private readonly upHour: Database.Statement;
  private readonly write: (ops: readonly Op[]) => void;
  /** The per-minute counts of the transaction being written (writeCounts), by minute and honeypot. */
  private readonly counts = new Map<string, { honeypot: string; minute: number; v: number[] }>();

  constructor(
    readonly db: Database.Database,
    opts: StoreWriterOptions = {},
  ) {
    this.maxQueue = Math.max(1, opts.maxQueue ?? 65_536);
    this.batch = Math.max(1, opts.batch ?? 2000);
    this.onFull = opts.onFull ?? 'drop';
    this.startRows = opts.startRows ?? true;
    // flow rows are numbered here, not by SQLite, so an alert can name its flow before the flow's row is written
    this.nextFlowRow = ((db.prepare('SELECT MAX(id) AS m FROM flows').get() as { m: number | null }).m ?? 0) + 1;
    this.upFlow = db.prepare(`INSERT INTO flows (id, flow_id, community_id, proto, vlan, client_ip, client_port, server_ip, server_port,
      icmp_type, icmp_code, first_us, last_us, pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, payload_bytes, tcp_flags_ts,
      tcp_flags_tc, tcp_state, state, reason, app_proto, midstream, honeypot, direction, sensor, capture_id, first_capture_id, first_offset, alerts)
      VALUES (@id, @flowId, @communityId, @proto, @vlan, @clientIp, @clientPort, @serverIp, @serverPort, @icmpType, @icmpCode, @firstUs, @lastUs,
      @pktsToServer, @pktsToClient, @bytesToServer, @bytesToClient, @payloadBytes, @tcpFlagsTs, @tcpFlagsTc, @tcpState, @state, @reason,
      @appProto, @midstream, @honeypot, @direction, @sensor, @captureId, @firstCaptureId, @firstOffset,
      (SELECT COUNT(*) FROM alerts WHERE flow_id = @id))
      ON CONFLICT (id) DO UPDATE SET last_us = excluded.last_us, alerts = excluded.alerts, pkts_toserver = excluded.pkts_toserver, pkts_toclient = excluded.pkts_toclient,
      bytes_toserver = excluded.bytes_toserver, bytes_toclient = excluded.bytes_toclient, payload_bytes = excluded.payload_bytes,
      tcp_flags_ts = excluded.tcp_flags_ts, tcp_flags_tc = excluded.tcp_flags_tc, tcp_state = excluded.tcp_state, state = excluded.state,
      reason = excluded.reason, app_proto = excluded.app_proto`);
    this.upFile = db.prepare(`INSERT OR REPLACE INTO flow_files (flow_id, capture_id, first_offset, last_offset, packets, offsets)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insAlert = db.prepare(`INSERT INTO alerts (flow_id, ts_us, gid, sid, rev, msg, classtype, classification, priority, action, blocked,
      replaced, proto, src_ip, src_port, dst_ip, dst_port, icmp_type, icmp_code, community_id, eve_flow_id, pcap_cnt, app_proto, honeypot,
      sensor, capture_id) VALUES (@flow, @tsUs, @gid, @sid, @rev, @msg, @classtype, @classification, @priority, @action, @blocked, @replaced,
      @proto, @src, @sport, @dst, @dport, @icmpType, @icmpCode, @communityId, @flowId, @pcapCnt, @appProto, @honeypot, @sensor, @captureId)`);
    this.countAlert = db.prepare('UPDATE flows SET alerts = alerts + 1 WHERE id = ?');
    this.insFirewall = db.prepare(`INSERT INTO firewall_events (ts_us, kind, prefix, proto, src_ip, src_port, dst_ip, dst_port, in_iface,
      out_iface, length, honeypot, sensor, line) VALUES (@tsUs, @kind, @prefix, @proto, @srcIp, @srcPort, @dstIp, @dstPort, @inIface, @outIface,
      @length, @honeypot, @sensor, @line)`);
    this.upMinute =
      db.prepare(`INSERT INTO minutes (honeypot, minute, flows_in, flows_out, flows_other, bytes_in, bytes_out, alerts, firewall, limits)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (honeypot, minute) DO UPDATE SET flows_in = flows_in + excluded.flows_in,
      flows_out = flows_out + excluded.flows_out, flows_other = flows_other + excluded.flows_other, bytes_in = bytes_in + excluded.bytes_in,
      bytes_out = bytes_out + excluded.bytes_out, alerts = alerts + excluded.alerts, firewall = firewall + excluded.firewall,
      limits = limits + excluded.limits`);
    this.upHour = db.prepare(`INSERT INTO hours (honeypot, hour, flows_in, flows_out, flows_other, bytes_in, bytes_out, alerts, firewall, limits)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (honeypot, hour) DO UPDATE SET flows_in = flows_in + excluded.flows_in,
      flows_out = flows_out + excluded.flows_out, flows_other = flows_other + excluded.flows_other, bytes_in = bytes_in + excluded.bytes_in,
      bytes_out = bytes_out + excluded.bytes_out, alerts = alerts + excluded.alerts, firewall = firewall + excluded.firewall,
      limits = limits + excluded.limits`);
    this.write = db.transaction((ops: readonly Op[]) => {
      this.counts.clear();
      for (const op of ops) this.apply(op);
      this.writeCounts();
    });
  }

  /** Operations waiting. */
  get depth(): number {
    return this.queue.length;
  }

  /** A flow's first packet: its row number (alerts name it), and its row queued (with startRows). */
  flowStarted(rec: FlowRecord, meta: FlowMeta): number {
    const row = this.nextFlowRow++;
    if (this.startRows) this.enqueue({ kind: 'flow', row, rec, meta, final: false });
    return row;
  }

  /**
   * A flow's end: its row brought up to date (made, if its start was dropped or not written), its alert count
   * recounted, its frames' places, the minute counts.
   */
  flowEnded(row: number, rec: FlowRecord, meta: FlowMeta): void {
    this.enqueue({ kind: 'flow', row, rec, meta, final: true });
  }

  /**
   * An open flow brought up to date: its counts and the places of its frames so far (the gateway's flows stay open
   * while their hosts are idle, and the console shows them and cuts their pcap meanwhile). Returns false when the
   * queue was full (counted as a flowUpdate drop: the next update or the flow's end carries the same).
   */
  flowUpdated(row: number, rec: FlowRecord, meta: FlowMeta): boolean {
    return this.enqueue({ kind: 'flow', row, rec, meta, final: false, files: true });
  }

  alert(alert: AlertEvent, flow: number | null, meta: AlertMeta): void {
    this.enqueue({ kind: 'alert', alert, flow, meta });
  }

  firewall(event: FirewallEvent): void {
    this.enqueue({ kind: 'firewall', event });
  }

  private enqueue(op: Op): boolean {
    if (this.queue.length >= this.maxQueue) {
      if (this.onFull === 'flush') this.flush();
      else {
        this.stats.dropped[opKind(op)]++;
        return false;
      }
    }
    this.queue.push(op);
    this.stats.queued++;
    if (this.queue.length > this.stats.maxDepth) this.stats.maxDepth = this.queue.length;
    return true;
  }

  /**
   * Writes everything queued, `batch` operations a transaction. A batch that fails is counted and left out (the
   * gateway goes on); `throwOnError` rethrows instead (an import stops: its capture stays marked unfinished).
   */
  flush(throwOnError = this.onFull === 'flush'): void {
    const ops = this.queue;
    this.queue = [];
    for (let i = 0; i < ops.length; i += this.batch) {
      const part = ops.slice(i, i + this.batch);
      try {
        this.write(part);
        this.stats.written += part.length;
        this.stats.batches++;
      } catch (err) {
        this.stats.failed += part.length;
        this.stats.lastError = (err as Error).message;
        if (throwOnError) throw err;
      }
    }
  }

  private apply(op: Op): void {
    if (op.kind === 'flow') this.applyFlow(op.row, op.rec, op.meta, op.final, op.files === true);
    else if (op.kind === 'alert') this.applyAlert(op.alert, op.flow, op.meta);
    else {
      const e = op.event;
      this.insFirewall.run(e);
      this.minute(e.honeypot, e.tsUs, 0, 0, 0, 0, 0, 0, 1, e.kind === 'limit' ? 1 : 0);
    }
  }

  private applyFlow(row: number, r: FlowRecord, meta: FlowMeta, final: boolean, files: boolean): void {
    const first = r.spans[0];
    const icmp = r.icmpType >= 0;
    this.upFlow.run({
      id: row,
      flowId: r.id,
      communityId: r.communityId,
      proto: r.proto,
      vlan: r.vlan,
      clientIp: r.clientIp,
      clientPort: icmp || r.clientPort < 0 ? null : r.clientPort,
      serverIp: r.serverIp,
      serverPort: icmp || r.serverPort < 0 ? null : r.serverPort,
      icmpType: icmp ? r.icmpType : null,
      icmpCode: icmp ? r.icmpCode : null,
      firstUs: us(r.startSec, r.startUsec),
      lastUs: us(r.endSec, r.endUsec),
      pktsToServer: r.pktsToServer,
      pktsToClient: r.pktsToClient,
      bytesToServer: r.bytesToServer,
      bytesToClient: r.bytesToClient,
      payloadBytes: r.payloadBytes,
      tcpFlagsTs: r.tcpFlagsTs,
      tcpFlagsTc: r.tcpFlagsTc,
      tcpState: r.tcpState ?? null,
      state: r.state,
      reason: final ? (r.reason ?? 'shutdown') : null,
      appProto: r.appProto ?? null,
      midstream: r.midstream ? 1 : 0,
      honeypot: meta.honeypot,
      direction: meta.direction,
      sensor: meta.sensor,
      captureId: meta.captureId,
      firstCaptureId: first?.capture ?? null,
      firstOffset: first?.first ?? null,
    });
    if (!final && !files) return;
    for (const s of r.spans) {
      this.upFile.run(row, s.capture, s.first, s.last, s.packets, s.offsets === undefined ? null : encodeOffsets(s.offsets));
    }
    if (!final) return;
    // the honeypot's view: what it received is "in", what it sent "out" (a flow's bytes count in its first minute)
    const fromHoneypot = meta.direction === 'outbound' || meta.direction === 'internal';
    const bytesIn = fromHoneypot ? r.bytesToClient : r.bytesToServer;
    const bytesOut = fromHoneypot ? r.bytesToServer : r.bytesToClient;
    this.minute(
      meta.honeypot,
      us(r.startSec, r.startUsec),
      meta.direction === 'inbound' ? 1 : 0,
      meta.direction === 'outbound' ? 1 : 0,
      meta.direction === 'inbound' || meta.direction === 'outbound' ? 0 : 1,
      bytesIn,
      bytesOut,
      0,
      0,
      0,
    );
  }

  private applyAlert(a: AlertEvent, flow: number | null, meta: AlertMeta): void {
    const tsUs = us(a.tsSec, a.tsUsec);
    this.insAlert.run({
      flow,
      tsUs,
      gid: a.gid,
      sid: a.sid,
      rev: a.rev,
      msg: a.msg,
      classtype: a.classtype ?? null,
      classification: a.classification ?? null,
      priority: a.priority,
      action: a.action,
      blocked: a.blocked ? 1 : 0,
      replaced: a.replaced ? 1 : 0,
      proto: a.proto,
      src: a.src,
      sport: a.sport >= 0 ? a.sport : null,
      dst: a.dst,
      dport: a.dport >= 0 ? a.dport : null,
      icmpType: a.icmpType ?? null,
      icmpCode: a.icmpCode ?? null,
      communityId: a.communityId ?? null,
      flowId: a.flowId ?? null,
      pcapCnt: a.pcapCnt ?? null,
      appProto: a.appProto ?? null,
      honeypot: meta.honeypot,
      sensor: meta.sensor,
      captureId: meta.captureId,
    });
    if (flow !== null) this.countAlert.run(flow);
    this.minute(meta.honeypot, tsUs, 0, 0, 0, 0, 0, 1, 0, 0);
  }

  private minute(
    honeypot: string | null,
    tsUs: number,
    flowsIn: number,
    flowsOut: number,
    flowsOther: number,
    bytesIn: number,
    bytesOut: number,
    alerts: number,
    firewall: number,
    limits: number,
  ): void {
    const minute = Math.floor(tsUs / (60 * US)) * 60;
    const key = `${minute} ${honeypot ?? ''}`;
    let c = this.counts.get(key);
    if (c === undefined) {
      c = { honeypot: honeypot ?? '', minute, v: [0, 0, 0, 0, 0, 0, 0, 0] };
      this.counts.set(key, c);
    }
    const v = c.v;
    v[0]! += flowsIn;
    v[1]! += flowsOut;
    v[2]! += flowsOther;
    v[3]! += bytesIn;
    v[4]! += bytesOut;
    v[5]! += alerts;
    v[6]! += firewall;
    v[7]! += limits;
  }

  /** A transaction's per-minute and per-hour counts, one upsert a honeypot and minute (and hour), not one a row. */
  private writeCounts(): void {
    const hours = new Map<string, { honeypot: string; hour: number; v: number[] }>();
    for (const c of this.counts.values()) {
      this.upMinute.run(c.honeypot, c.minute, ...c.v);
      const hour = Math.floor(c.minute / 3600) * 3600;
      const key = `${hour} ${c.honeypot}`;
      const h = hours.get(key);
      if (h === undefined) hours.set(key, { honeypot: c.honeypot, hour, v: [...c.v] });
      else for (let i = 0; i < 8; i++) h.v[i]! += c.v[i]!;
    }
    for (const h of hours.values()) this.upHour.run(h.honeypot, h.hour, ...h.v);
    this.counts.clear();
  }
}
