/**
 * What happens after the rules that match a packet are known, shared by the compiled matcher and the reference
 * evaluator: flowbits checks and updates, threshold / detection_filter / event_filter / suppress, and Snort 2.9's
 * event selection (action order, order_events content_length, `config event_queue: log N`, pass stops the rest).
 */
import type { InspectionItem } from '../flow/pipeline.js';
import { addressMatches, portMatches } from '../config/variables.js';
import type { Packet } from '../packet/packet.js';
import type { IpHeader } from '../packet/types.js';
import { flowMatches } from '../keywords/non-payload.js';
import { headerOk, protoOk } from './leaf-ops.js';
import type { EventFilterPlan, MatcherPolicy, RuleAction, RulePlan } from './plan.js';
import type { Subject } from './subject.js';
import type { HttpBuffers } from '../http/session.js';

/** Shared empty result (never modified). */
export const NO_EVENTS: MatchEvent[] = Object.freeze([]) as unknown as MatchEvent[];

/**
 * What an event needs of its packet (a whole Packet has it): the time, the addresses and ports, the protocol. A
 * sharded replay sends just this from its worker threads to the thread that decides the events.
 */
export interface EventPacket {
  tsSec: number;
  tsUsec: number;
  srcPort: number;
  dstPort: number;
  ip: Pick<IpHeader, 'src' | 'dst' | 'proto'> | undefined;
  tcp: unknown;
  udp: unknown;
  icmp: { type: number; code: number } | undefined;
  icmp6: { type: number; code: number } | undefined;
}

/** The part of a packet an event keeps (plain data). */
export function eventPacketOf(p: EventPacket): EventPacket {
  const ip = p.ip;
  return {
    tsSec: p.tsSec,
    tsUsec: p.tsUsec,
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    ip: ip ? { src: ip.src, dst: ip.dst, proto: ip.proto } : undefined,
    tcp: p.tcp !== undefined ? true : undefined,
    udp: p.udp !== undefined ? true : undefined,
    icmp: p.icmp ? { type: p.icmp.type, code: p.icmp.code } : undefined,
    icmp6: p.icmp6 ? { type: p.icmp6.type, code: p.icmp6.code } : undefined,
  };
}

export interface MatchEvent {
  rule: RulePlan;
  packet: EventPacket;
  action: RuleAction;
}

/**
 * Rule header: protocol, addresses and ports (both ways for `<>`), with the resolver's set tests (the reference
 * evaluator uses this; the compiled matcher has the same logic over the fast set forms of `header-sets.ts`). For IPv6 carried in IPv4 (6in4), ip rules also
 * see the outer IPv4 header, as Snort 2.9.20 does (ET 2012141 on bug-4571-04); for IPv4 in IPv4 only the inner one
 * (bug-7725-02).
 */
export function headerMatches(rule: RulePlan, p: Packet, match = addressesMatch): boolean {
  if (!protoOk(rule, p)) return false;
  const ip = p.ip!;
  if (match(rule, p, ip)) return true;
  if (rule.proto === 'ip' && p.outer !== undefined && ip.version === 6) {
    for (const o of p.outer) if (o.version === 4 && match(rule, p, o)) return true;
  }
  return false;
}

function addressesMatch(rule: RulePlan, p: Packet, ip: IpHeader): boolean {
  const ports = rule.proto === 'tcp' || rule.proto === 'udp';
  const sp = p.srcPort;
  const dp = p.dstPort;
  if (
    addressMatches(rule.src, ip.src) &&
    addressMatches(rule.dst, ip.dst) &&
    (!ports || (portMatches(rule.srcPorts, sp) && portMatches(rule.dstPorts, dp)))
  )
    return true;
  if (!rule.bidirectional) return false;
  return (
    addressMatches(rule.src, ip.dst) &&
    addressMatches(rule.dst, ip.src) &&
    (!ports || (portMatches(rule.srcPorts, dp) && portMatches(rule.dstPorts, sp)))
  );
}

/** Non-payload part of a rule (flow, header tests, flowbits checks), in the order Snort's tree puts them. */
export function nonPayloadMatches(rule: RulePlan, s: Subject): boolean {
  if (rule.flow !== undefined && !flowMatches(rule.flow, s)) return false;
  for (const h of rule.headers) if (!headerOk(h, s)) return false;
  for (const fb of rule.flowbits) {
    if (fb.cmd !== 'isset' && fb.cmd !== 'isnotset') continue;
    const bits = s.flow?.flowbits;
    const has = (b: string) => bits?.has(b);
    let ok: boolean;
    if (fb.cmd === 'isset') ok = fb.any ? fb.bits.some(has) : fb.bits.every(has);
    else ok = fb.any ? fb.bits.some((b) => !has(b)) : fb.bits.every((b) => !has(b));
    if (!ok) return false;
  }
  return true;
}

/** The subjects to evaluate for one inspection item: one per HTTP message, or one without HTTP. */
export function subjectsOf(item: InspectionItem): Subject[] {
  const p = item.packet;
  // one object shape for every subject (V8 then keeps the code that reads them specialised)
  const subject = (http: HttpBuffers | undefined): Subject => ({
    packet: p,
    payload: item.payload ?? p.payload,
    rebuilt: item.kind === 'stream',
    streamInserted: item.streamInserted,
    flow: item.flow,
    fromClient: item.fromClient,
    established: item.established,
    http,
    strings: undefined,
  });
  if (item.http.length === 0) return [subject(undefined)];
  return item.http.map(subject);
}

/** snort_stream_tcp.c MAX_SESSION_ALERTS: the alerts a TCP session remembers per direction. */
const MAX_SESSION_ALERTS = 8;

/**
 * Snort 2.9.20's session alert list (fpdetect.c fpFinalSelectEvent with fpSessionAlerted / fpAddSessionAlert,
 * snort_stream_tcp.c StreamCheckSessionAlertTcp / StreamAddSessionAlertTcp): a TCP packet's queued events are
 * remembered (gid, sid, its sequence number, less one with FIN) in its direction, at most 8, for the first `log` events
 * of the queue; a rebuilt packet does not queue an event whose gid:sid is remembered there (whatever its sequence
 * number), which is how a rule matching a packet and then the rebuilt data holding it alerts once. The rules are
 * taken in event queue order (`order`), a pass rule ending the queue as it ends Snort's. Returns the rules left.
 */
export function sessionAlerts(item: InspectionItem, matched: RulePlan[], order: (a: RulePlan, b: RulePlan) => number, log: number): RulePlan[] {
  const f = item.flow;
  const t = item.packet.tcp;
  if (f === undefined || t === undefined || f.kind !== 'tcp') return matched;
  const ep = item.fromClient ? f.client : f.server;
  const rebuilt = item.kind === 'stream';
  const seq = (t.seq - (t.flags & 0x01 ? 1 : 0)) >>> 0;
  const sorted = matched.length > 1 ? matched.slice().sort(order) : matched;
  let kept: RulePlan[] | undefined;
  let queued = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.action === 'pass' && queued > 0) break;
    const list = ep.alerts;
    let seen = false;
    if (rebuilt && list !== undefined)
      for (let k = 0; k < list.length; k += 3)
        if (list[k] === r.gid && list[k + 1] === r.sid) {
          seen = true;
          break;
        }
    if (seen) kept ??= sorted.slice(0, i);
    else {
      queued++;
      kept?.push(r);
    }
    if (queued <= log && (list?.length ?? 0) < 3 * MAX_SESSION_ALERTS) (ep.alerts ??= []).push(r.gid, r.sid, seq);
    if (r.action === 'pass') {
      kept ??= sorted.slice(0, i + 1);
      break;
    }
  }
  return kept ?? sorted;
}

/** Snort purge_alerts: once a direction's data up to `upTo` has been flushed, its alerts before it are forgotten. */
export function purgeSessionAlerts(item: InspectionItem): void {
  const f = item.flow;
  const seg = item.segment;
  if (f === undefined || seg === undefined) return;
  const ep = seg.fromClient ? f.client : f.server;
  const list = ep.alerts;
  if (list === undefined) return;
  const upTo = (seg.seq + seg.data.length) >>> 0;
  let n = 0;
  for (let k = 0; k < list.length; k += 3) {
    if (((list[k + 2]! - upTo) | 0) < 0) continue;
    list[n++] = list[k]!;
    list[n++] = list[k + 1]!;
    list[n++] = list[k + 2]!;
  }
  list.length = n;
}

function setsFlowbits(r: RulePlan): boolean {
  return r.flowbits.some((f) => f.cmd === 'set' || f.cmd === 'unset' || f.cmd === 'toggle' || f.cmd === 'reset');
}

export function ruleOrder(a: RulePlan, b: RulePlan): number {
  const sa = setsFlowbits(a) ? 0 : 1;
  const sb = setsFlowbits(b) ? 0 : 1;
  return sa - sb || a.index - b.index;
}

interface RateState {
  start: number;
  count: number;
}

/** Thresholds and event selection with their state across packets. */
export class EventDecider {
  private readonly rates = new Map<string, RateState>();
  private readonly actionRank: Map<RuleAction, number>;
  private readonly filtersBySid = new Map<string, EventFilterPlan[]>();

  constructor(private readonly plan: MatcherPolicy) {
    this.actionRank = new Map(plan.actionOrder.map((a, i) => [a, i]));
    for (const f of plan.filters) {
      const k = `${f.gid}:${f.sid}`;
      const l = this.filtersBySid.get(k) ?? [];
      l.push(f);
      this.filtersBySid.set(k, l);
    }
  }

  /** The event queue's order: action order (pass first by default), then longer contents first, then rule order. */
  readonly order = (a: RulePlan, b: RulePlan): number => {
    const rank = this.actionRank;
    return (rank.get(a.action) ?? 99) - (rank.get(b.action) ?? 99) || b.contentLength - a.contentLength || a.index - b.index;
  };

  /** Events logged per packet (`config event_queue: log N`). */
  get eventLog(): number {
    return this.plan.eventLog;
  }

  /** Applies the flowbits updates of a rule that matched; false when the rule says noalert. */
  applyFlowbits(rule: RulePlan, s: Subject): boolean {
    let alert = true;
    const flow = s.flow;
    let bits = flow?.flowbits;
    for (const fb of rule.flowbits) {
      switch (fb.cmd) {
        case 'set':
          // the flow's set is made by its first flowbit (most flows never have one)
          if (flow !== undefined) bits = flow.flowbits ??= new Set();
          if (bits) for (const b of fb.bits) bits.add(b);
          break;
        case 'unset':
          if (bits) for (const b of fb.bits) bits.delete(b);
          break;
        case 'toggle':
          if (flow !== undefined) bits = flow.flowbits ??= new Set();
          if (bits)
            for (const b of fb.bits)
              if (bits.has(b)) bits.delete(b);
              else bits.add(b);
          break;
        case 'reset':
          bits?.clear();
          break;
        case 'noalert':
          alert = false;
          break;
        default:
          break;
      }
    }
    return alert;
  }

  private tracked(track: 'by_src' | 'by_dst', p: EventPacket): string {
    const ip = p.ip!;
    return Array.from(track === 'by_src' ? ip.src : ip.dst).join('.');
  }

  /** Snort sfthd semantics for one counter; true when the event is logged. */
  private rate(key: string, type: 'limit' | 'threshold' | 'both' | 'df', count: number, seconds: number, now: number): boolean {
    let st = this.rates.get(key);
    if (st === undefined || now - st.start >= seconds) {
      st = { start: now, count: 0 };
      this.rates.set(key, st);
    }
    st.count++;
    switch (type) {
      case 'limit':
        return st.count <= count;
      case 'threshold':
        if (st.count >= count) {
          st.count = 0;
          return true;
        }
        return false;
      case 'both':
        return st.count === count;
      case 'df':
        return st.count > count;
    }
  }

  private passesFilters(rule: RulePlan, p: EventPacket, now: number): boolean {
    if (rule.detectionFilter) {
      const d = rule.detectionFilter;
      if (!this.rate(`df|${rule.index}|${this.tracked(d.track, p)}`, 'df', d.count, d.seconds, now)) return false;
    }
    const filters = [...(this.filtersBySid.get(`${rule.gid}:${rule.sid}`) ?? []), ...(this.filtersBySid.get(`${rule.gid}:0`) ?? [])];
    for (const f of filters) {
      if (f.kind === 'suppress') {
        if (f.ip === undefined) return false;
        const ip = p.ip!;
        const addr = f.track === 'by_dst' ? ip.dst : ip.src;
        if (addressMatches(f.ip, addr)) return false;
      }
    }
    if (rule.threshold) {
      const t = rule.threshold;
      return this.rate(`th|${rule.index}|${this.tracked(t.track, p)}`, t.type, t.count, t.seconds, now);
    }
    for (const f of filters) {
      if (f.kind === 'event_filter' && f.type && f.track && f.count !== undefined && f.seconds !== undefined) {
        return this.rate(`ef|${f.gid}:${f.sid}|${rule.index}|${this.tracked(f.track, p)}`, f.type, f.count, f.seconds, now);
      }
    }
    return true;
  }

  /**
   * Orders the packet's matched rules and picks the events Snort would log; `silent`: sdrop rules are returned too
   * (the inline gateway drops for them without logging).
   */
  select(matched: RulePlan[], p: EventPacket, silent = false): MatchEvent[] {
    if (matched.length === 0) return NO_EVENTS;
    const now = p.tsSec + p.tsUsec / 1e6;
    const sorted = matched.slice().sort(this.order);
    const out: MatchEvent[] = [];
    for (const r of sorted) {
      if (r.action === 'pass') break;
      if (!this.passesFilters(r, p, now)) continue;
      if (r.action === 'sdrop' && !silent) continue;
      if (out.length < this.plan.eventLog) out.push({ rule: r, packet: p, action: r.action });
    }
    return out;
  }
}
