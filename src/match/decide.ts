/**
 * What happens after the rules that match a packet are known, shared by the compiled matcher and the reference
 * evaluator: flowbits checks and updates, threshold / detection_filter / event_filter / suppress, and Snort 2.9's
 * event selection (action order, order_events content_length, `config event_queue: log N`, pass stops the rest).
 */
import type { XbitStore } from './xbits.js';
import { truncateList } from '../shapes.js';
import type { InspectionItem } from '../flow/pipeline.js';
import { addressMatches, portMatches } from '../config/variables.js';
import type { Packet } from '../packet/packet.js';
import type { FragAlerts } from '../packet/defrag.js';
import type { IpHeader } from '../packet/types.js';
import { flowMatches } from '../keywords/non-payload.js';
import { headerOk, protoOk } from './leaf-ops.js';
import type { EventQueueConfig } from './event-filters.js';
import { DEFAULT_EVENT_QUEUE, type EventFilterPlan, type FlowbitsOp, type MatcherPolicy, type RuleAction, type RulePlan } from './plan.js';
import { RateCounters } from './sfthd.js';
export { orderSensitive, setsFlowbits } from './rule-table.js';
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

/**
 * The part of a packet an event keeps (plain data). The addresses are copied out of the frame: as views they kept
 * the frame's 8 KiB slab (or a rebuilt segment's datagram) alive with the event, and a sharded replay's structured
 * clone copied that whole buffer to the reading thread for each matched item (120 MB for the bench capture's
 * 15,600 reports, to carry 8 bytes each).
 */
export function eventPacketOf(p: EventPacket): EventPacket {
  const ip = p.ip;
  return {
    tsSec: p.tsSec,
    tsUsec: p.tsUsec,
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    ip: ip ? { src: new Uint8Array(ip.src), dst: new Uint8Array(ip.dst), proto: ip.proto } : undefined,
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

/**
 * Non-payload part of a rule (flow, header tests, flowbits checks), in the order Snort's tree puts them. `flowbits`
 * false: without the flowbits checks (the matcher asks them separately, at the rule's turn in Snort's order).
 */
export function nonPayloadMatches(rule: RulePlan, s: Subject, flowbits = true): boolean {
  if (rule.flow !== undefined && !flowMatches(rule.flow, s)) return false;
  for (const h of rule.headers) if (!headerOk(h, s)) return false;
  return !flowbits || flowbitChecksPass(rule, s);
}

/**
 * The rule's flowbits isset / isnotset checks against the flow's bits now. sp_flowbits.c checkFlowBits: isnotset is
 * the negation of isset on the same list (`isnotset,a|b`: neither is set; `isnotset,a&b`: not both), and without a
 * session (p->ssnptr) no check matches.
 */
export function flowbitChecksPass(rule: RulePlan, s: Subject): boolean {
  for (const fb of rule.flowbits) {
    if (fb.cmd !== 'isset' && fb.cmd !== 'isnotset') continue;
    if (!flowbitCheckPasses(fb, s)) return false;
  }
  return true;
}

/** One isset / isnotset check (see flowbitChecksPass); the rule trees (rule-tree.ts) ask a shared check once. */
export function flowbitCheckPasses(fb: FlowbitsOp, s: Subject): boolean {
  // xbits: the host's or address pair's bit, flow or no flow (detect-xbits.c DetectXbitMatch)
  if (fb.track !== undefined) return s.xbits !== undefined && s.xbits.check(fb, s);
  if (s.flow === undefined) return false;
  const bits = s.flow.flowbits;
  const has = (b: string) => bits?.has(b) === true;
  const isset = fb.any ? fb.bits.some(has) : fb.bits.every(has);
  return isset === (fb.cmd === 'isset');
}

/**
 * The subjects to evaluate for one inspection item: one per dcerpc2 file data (each its own detection, see
 * InspectionItem.fileData), one per DNS question, one per HTTP message, or one. Into `out` when given (emptied
 * first: detection's one list, reused for every item, where a fresh one per item was 180 of the 2,100 bytes a
 * shard allocated per packet), else a new list.
 */
export function subjectsOf(item: InspectionItem, xbits?: XbitStore, out: Subject[] = []): Subject[] {
  const app = item.app;
  // (every list made by push onto []: `map` makes holey arrays and a literal a packed one, and detection's loop over
  // the list deoptimized on the second kind)
  truncateList(out);
  if (item.fileData !== undefined) for (const f of item.fileData) out.push(subjectOf(item, xbits, undefined, undefined, f));
  else if (app?.dns !== undefined && app.dns.length > 0) {
    // a DNS request's questions: one subject each (Suricata 7 inspects every query name of the request on its own)
    for (const q of app.dns) out.push(subjectOf(item, xbits, undefined, q, undefined));
  } else if (item.http.length === 0) out.push(subjectOf(item, xbits, undefined, undefined, undefined));
  else for (const h of item.http) out.push(subjectOf(item, xbits, h, undefined, undefined));
  return out;
}

/**
 * One subject of an item. One object shape for every subject (V8 then keeps the code that reads them specialised),
 * made by a function of the module, not a closure per item (a closure and its context cost two allocations per
 * packet).
 */
function subjectOf(
  item: InspectionItem,
  xbits: XbitStore | undefined,
  http: HttpBuffers | undefined,
  dnsQuery: Uint8Array | undefined,
  fileData: Uint8Array | undefined,
): Subject {
  const p = item.packet;
  return {
    packet: p,
    payload: item.payload ?? p.payload,
    rebuilt: item.kind === 'stream',
    streamInserted: item.streamInserted,
    flow: item.flow,
    fromClient: item.fromClient,
    established: item.established,
    http,
    dnsQuery,
    tlsSni: item.app?.sni,
    xbits,
    fileData,
    strings: undefined,
    lower: undefined,
  };
}

/** snort_stream_tcp.c MAX_SESSION_ALERTS: the alerts a TCP session remembers per direction. */
const MAX_SESSION_ALERTS = 8;

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

/**
 * What detection found for one item: the rules whose tree leaf Snort's detection reached, in its evaluation order
 * (snort-order.ts), each with flags for what the event queue still has to do with it. A rule may be listed twice (it
 * was evaluated in two port groups); the queue keeps it once.
 */
export interface Matches {
  rules: RulePlan[];
  flags: number[];
}

/** flowbits:noalert: never queued (listed only for its detection_filter to count). */
export const MATCH_NOALERT = 1;
/** The first detection_filter tested in its rule tree's evaluation: it counts the event (see RateCounters.test). */
export const MATCH_DF_FIRST = 2;
/** The detection_filter was tested during detection already (the rule sets flowbits, which wait for it). */
export const MATCH_DF_DONE = 4;
/** Its event was logged for the TCP session already (sessionAlerts): not queued again. */
export const MATCH_ALERTED = 8;
/**
 * Queued by decoding, not by detection (fpdetect.c fpEvalIpProtoOnlyRules calls SnortEventqAdd itself): ahead of
 * detection's events in the queue, outside fpAddMatch and fpFinalSelectEvent (no action kinds, no sort, no session or
 * frag3 alert record), but taking a place among the queue's max_queue nodes and its `log`.
 */
export const MATCH_DIRECT = 16;
/**
 * Which of the packet's detections found the match (bits 5 to 14, 0 for the first): a later detection's matches are
 * queued by a fpFinalSelectEvent of its own after the earlier ones' events (its own action kinds, sort, duplicates and
 * max_queue_events count), into the same event queue (SnortEventqAdd, max_queue nodes in all) that SnortEventqLog logs
 * once. The second detection of a packet http_inspect detects twice (InspectionItem.detectTwice); dcerpc2's detections
 * of one rebuilt packet, one per SMB2 READ/WRITE in it (InspectionItem.fileData).
 */
export const MATCH_PHASE_SHIFT = 5;
export const MATCH_PHASE_MAX = 0x3ff;
export const MATCH_SECOND = 1 << MATCH_PHASE_SHIFT;

/** The detection (MATCH_PHASE_SHIFT) of a match's flags. */
export function matchPhase(flags: number): number {
  return (flags >>> MATCH_PHASE_SHIFT) & MATCH_PHASE_MAX;
}

export const NO_MATCHES: Matches = Object.freeze({ rules: NO_EVENTS as unknown as RulePlan[], flags: [] as number[] }) as Matches;

const DF = 'detect' as const;

/**
 * The event queue's questions (queueOf): does a rule's detection_filter let it through (tested once, when selecting
 * reaches it), was the event of the match at index k logged for the session already, and what to do with each event
 * within the first `log`.
 */
type DfTest = (r: RulePlan, flags: number) => boolean;
type AlertedTest = (k: number) => boolean;
type LoggedHook = ((r: RulePlan) => void) | undefined;

/** Thresholds and event selection with their state across packets. */
export class EventDecider {
  private readonly counters = new RateCounters();
  private readonly actionRank: Map<RuleAction, number>;
  private readonly filtersBySid = new Map<string, EventFilterPlan[]>();
  /** filtersOf's lists, by rule index. */
  private readonly filtersOfRule: (readonly EventFilterPlan[] | undefined)[] = [];
  private readonly queue: EventQueueConfig;

  /** `inline`: the gateway's decider (drop rules are their own kind, sdrop events are returned). */
  constructor(
    plan: MatcherPolicy,
    private readonly inline = false,
  ) {
    this.actionRank = new Map(plan.actionOrder.map((a, i) => [a, i]));
    this.queue = plan.eventQueue ?? DEFAULT_EVENT_QUEUE;
    for (const f of plan.filters) {
      const k = `${f.gid}:${f.sid}`;
      const l = this.filtersBySid.get(k) ?? [];
      l.push(f);
      this.filtersBySid.set(k, l);
    }
  }

  private tracked(track: 'by_src' | 'by_dst', p: EventPacket): string {
    const ip = p.ip;
    // fpLogEvent: a packet without IP is tested with cleared addresses
    if (ip === undefined) return '';
    return Array.from(track === 'by_src' ? ip.src : ip.dst).join('.');
  }

  /**
   * A rule's detection_filter, tested when detection reaches the rule's leaf (detection_options.c, before the rule is
   * queued): true when the rule is let through. `first`: the first detection_filter of its tree evaluation.
   */
  detectionFilterPasses(rule: RulePlan, p: EventPacket, first: boolean): boolean {
    const d = rule.detectionFilter;
    if (d === undefined) return true;
    return this.counters.test(`df|${rule.index}|${this.tracked(d.track, p)}`, { type: DF, count: d.count, seconds: d.seconds }, p.tsSec, first);
  }

  /**
   * The event filters and suppressions of a rule's gid:sid, then of its gid (sid 0), made once per rule (its index in
   * the rule table): not two keys and a new list for every event.
   */
  private filtersOf(rule: RulePlan): readonly EventFilterPlan[] {
    let f = this.filtersOfRule[rule.index];
    if (f === undefined) {
      f = [...(this.filtersBySid.get(`${rule.gid}:${rule.sid}`) ?? []), ...(this.filtersBySid.get(`${rule.gid}:0`) ?? [])];
      this.filtersOfRule[rule.index] = f;
    }
    return f;
  }

  /**
   * The event filters of an event Snort logs (fpLogEvent, sfthd_test_threshold): suppress first, then the rule's
   * threshold or the first event_filter of its gid:sid (or of its gid with sid 0), in whole seconds.
   */
  private passesFilters(rule: RulePlan, p: EventPacket): boolean {
    const now = p.tsSec;
    const filters = this.filtersOf(rule);
    for (const f of filters) {
      if (f.kind === 'suppress') {
        if (f.ip === undefined) return false;
        const ip = p.ip;
        if (ip === undefined) continue;
        const addr = f.track === 'by_dst' ? ip.dst : ip.src;
        if (addressMatches(f.ip, addr)) return false;
      }
    }
    if (rule.threshold) {
      const t = rule.threshold;
      return this.counters.test(`th|${rule.index}|${this.tracked(t.track, p)}`, t, now);
    }
    for (const f of filters) {
      if (f.kind === 'event_filter' && f.type && f.track && f.count !== undefined && f.seconds !== undefined) {
        return this.counters.test(
          `ef|${f.gid}:${f.sid}|${rule.index}|${this.tracked(f.track, p)}`,
          { type: f.type, count: f.count, seconds: f.seconds },
          now,
        );
      }
    }
    return true;
  }

  /**
   * The action kind of a rule in the event queue: its place in the action order. Offline, drop and reject rules are
   * alerts (Snort run with --treat-drop-as-alert loads them as alert rules, parser.c ParseDrop).
   */
  private rankOf(action: RuleAction, inline: boolean): number {
    const a = !inline && (action === 'drop' || action === 'reject') ? 'alert' : action;
    return this.actionRank.get(a) ?? 99;
  }

  /**
   * Snort 2.9.20's event selection for one packet, from what detection found (in its order):
   * - fpAddMatch: per action kind the first `max_queue_events` rules (detection_filter tested first, noalert rules
   *   left out, a rule listed twice kept once);
   * - fpFinalSelectEvent: the kinds in action order, each sorted (content_length: the longer fast pattern first, then
   *   the higher sid; priority: the lower priority number, then the lower sid); only the first kind with events is
   *   queued unless process_all_events; a pass rule stops the queue (it is queued first, and nothing is logged
   *   after it); at most `max_queue` events;
   * - SnortEventqLog: the first `log` queued events go through fpLogEvent, whose event filters may keep an event
   *   from being logged: it still takes its place among the `log`.
   * `silent`: sdrop rules are returned too (the inline gateway drops for them without logging).
   */
  select(m: Matches, p: EventPacket, silent = false): MatchEvent[] {
    if (m.rules.length === 0) return NO_EVENTS;
    const { queued, pass } = this.queueOf(
      m,
      silent,
      (r, f) => this.detectionFilterPasses(r, p, (f & MATCH_DF_FIRST) !== 0),
      (k) => (m.flags[k]! & MATCH_ALERTED) !== 0,
      undefined,
    );
    const out: MatchEvent[] = [];
    const logged = Math.min(this.queue.log, queued.length);
    const passRank = this.rankOf('pass', silent);
    for (let k = 0; k < logged; k++) {
      const r = queued[k]!;
      if (!this.passesFilters(r, p)) continue;
      if (r.action === 'pass' || (r.action === 'sdrop' && !silent)) continue;
      // fpdetect.c fpLogEvent: once a pass rule was queued for the packet (PKT_PASS_RULE), an event of an action
      // after pass in the order is not logged; this is how a pass rule keeps back the decode-time events queued
      // before detection (fpEvalIpProtoOnlyRules), after the event filters counted it
      if (pass && this.rankOf(r.action, silent) > passRank) continue;
      out.push({ rule: r, packet: p, action: r.action });
    }
    return out.length === 0 ? NO_EVENTS : out;
  }

  /**
   * fpAddMatch then fpFinalSelectEvent (see select): the events queued. `df`: the detection_filter of a rule that
   * has one not tested yet; `alerted`: the event (its index in `m`) was logged for the TCP session already
   * (fpSessionAlerted: it is not queued again), asked when its detection selects it; `logged`: called for each event
   * within the first `log` (fpAddSessionAlert), alerted or not.
   */
  private queueOf(m: Matches, silent: boolean, df: DfTest, alerted: AlertedTest, logged: LoggedHook): { queued: RulePlan[]; pass: boolean } {
    const q = this.queue;
    const queued: RulePlan[] = [];
    // PKT_PASS_RULE: a pass rule reached in the queue
    let pass = false;
    // decode-time events (MATCH_DIRECT) first, then one fpAddMatch + fpFinalSelectEvent per detection
    for (let k = 0; k < m.rules.length; k++) {
      if ((m.flags[k]! & MATCH_DIRECT) === 0) continue;
      const r = m.rules[k]!;
      // sfeventq_add: no node left, no event (fpEvalIpProtoOnlyRules sets PKT_PASS_RULE for a pass rule all the same)
      if (queued.length < q.maxEvents) queued.push(r);
      if (r.action === 'pass') pass = true;
    }
    // one rule matched (nearly every item that matches anything): its one detection, without finalSelect's lists
    if (m.rules.length === 1) {
      if (this.selectOne(m.rules[0]!, m.flags[0]!, df, alerted, logged, queued)) pass = true;
      return { queued, pass };
    }
    let phases = 1;
    for (let k = 0; k < m.flags.length; k++) phases = Math.max(phases, matchPhase(m.flags[k]!) + 1);
    for (let phase = 0; phase < phases; phase++) if (this.finalSelect(m, phase, silent, df, alerted, logged, queued)) pass = true;
    return { queued, pass };
  }

  /**
   * finalSelect for matches of one rule `r` (flags `f`, index 0), which is then the one kind and its one event: the
   * same tests in the same order (detection_filter tested once, as there), without its per-kind lists and sort (and
   * without the action's rank, which only orders kinds).
   * test/match-event-queue.test.ts holds the two to the same queue and calls.
   */
  private selectOne(r: RulePlan, f: number, df: DfTest, alerted: AlertedTest, logged: LoggedHook, queued: RulePlan[]): boolean {
    const q = this.queue;
    if ((f & MATCH_DIRECT) !== 0) return false;
    if (r.detectionFilter !== undefined && (f & MATCH_DF_DONE) === 0 && !df(r, f)) return false;
    if ((f & MATCH_NOALERT) !== 0 || q.maxQueueEvents <= 0) return false;
    let tcnt = 0;
    if (!alerted(0)) {
      if (queued.length < q.maxEvents) queued.push(r);
      tcnt++;
    }
    if (tcnt <= q.log) logged?.(r);
    if (tcnt >= q.maxEvents) return false;
    return r.action === 'pass';
  }

  /**
   * One detection's fpAddMatch and fpFinalSelectEvent (see queueOf) over the matches of detection `phase`
   * (matchPhase), appending to `queued` (at most max_queue in all). True when a pass rule was reached.
   */
  private finalSelect(m: Matches, phase: number, silent: boolean, df: DfTest, alerted: AlertedTest, logged: LoggedHook, queued: RulePlan[]): boolean {
    const q = this.queue;
    // per action kind: the rules and their indexes in m
    const kinds: { rules: RulePlan[]; at: number[] }[] = [];
    let pass = false;
    for (let k = 0; k < m.rules.length; k++) {
      const r = m.rules[k]!;
      const f = m.flags[k]!;
      if ((f & MATCH_DIRECT) !== 0 || matchPhase(f) !== phase) continue;
      if (r.detectionFilter !== undefined && (f & MATCH_DF_DONE) === 0 && !df(r, f)) continue;
      if ((f & MATCH_NOALERT) !== 0) continue;
      const rank = this.rankOf(r.action, silent);
      const list = (kinds[rank] ??= { rules: [], at: [] });
      if (list.rules.length >= q.maxQueueEvents || list.rules.includes(r)) continue;
      list.rules.push(r);
      list.at.push(k);
    }
    // fpFinalSelectEvent's tcnt counts its own events only; the nodes taken before are not there for it
    let tcnt = 0;
    const byOrder =
      q.order === 'priority'
        ? (a: number, b: number, l: RulePlan[]) => l[a]!.priority - l[b]!.priority || l[a]!.sid - l[b]!.sid
        : (a: number, b: number, l: RulePlan[]) => l[b]!.contentLength - l[a]!.contentLength || l[b]!.sid - l[a]!.sid;
    queue: for (const list of kinds) {
      if (list === undefined) continue;
      if (!q.processAll && tcnt > 0) break;
      // (the indexes by a loop: `map` over the list deoptimized this function three times a replay)
      const at: number[] = [];
      for (let k = 0; k < list.rules.length; k++) at.push(k);
      at.sort((a, b) => byOrder(a, b, list.rules));
      for (const k of at) {
        const r = list.rules[k]!;
        if (r.action === 'pass' && tcnt > 0) break queue;
        if (!alerted(list.at[k]!)) {
          if (queued.length < q.maxEvents) queued.push(r);
          tcnt++;
        }
        if (tcnt <= q.log) logged?.(r);
        if (tcnt >= q.maxEvents) break queue;
        if (r.action === 'pass') {
          pass = true;
          break queue;
        }
      }
    }
    return pass;
  }

  /**
   * Snort 2.9.20's session alert list (fpdetect.c fpFinalSelectEvent with fpSessionAlerted / fpAddSessionAlert,
   * snort_stream_tcp.c StreamCheckSessionAlertTcp / StreamAddSessionAlertTcp): a TCP packet's queued events are
   * remembered (gid, sid, its sequence number, less one with FIN) in its direction, at most 8, for the first `log`
   * events of the queue; a rebuilt packet does not queue an event whose gid:sid is remembered there (whatever its
   * sequence number), which is how a rule matching a packet and then the rebuilt data holding it alerts once. Marks
   * those with MATCH_ALERTED. Runs with the flow (collect), before select: a detection_filter not tested yet is taken
   * as passing here.
   * `frag`: frag3's record of the same kind, kept per datagram (spp_frag3.c fpAddFragAlert, at most MAX_FRAG_ALERTS;
   * fpFragAlerted: only a rebuilt datagram, PKT_REBUILT_FRAG, is kept from alerting again), for a fragment or the
   * datagram rebuilt from it; fpFinalSelectEvent applies both records in the one pass.
   */
  sessionAlerts(item: InspectionItem, m: Matches, frag?: FragAlerts): void {
    const f = item.flow;
    const t = item.packet.tcp;
    const session = f !== undefined && t !== undefined && f.kind === 'tcp';
    if ((!session && frag === undefined) || m.rules.length === 0) return;
    const ep = session ? (item.fromClient ? f.client : f.server) : undefined;
    const rebuilt = item.kind === 'stream';
    const rebuiltFrag = item.packet.origin === 'defrag';
    const seq = t === undefined ? 0 : (t.seq - (t.flags & 0x01 ? 1 : 0)) >>> 0;
    const seen = (r: RulePlan): boolean => {
      if (frag !== undefined && rebuiltFrag && frag.has(r.gid, r.sid)) return true;
      const list = ep?.alerts;
      if (!rebuilt || list === undefined) return false;
      for (let k = 0; k < list.length; k += 3) if (list[k] === r.gid && list[k + 1] === r.sid) return true;
      return false;
    };
    for (let k = 0; k < m.rules.length; k++) if ((m.flags[k]! & MATCH_DIRECT) === 0 && seen(m.rules[k]!)) m.flags[k]! |= MATCH_ALERTED;
    // asked again as each detection selects its events: a later detection of the packet (matchPhase) sees what the
    // earlier ones added; select() then reads the flags
    const alerted = (k: number): boolean => {
      if ((m.flags[k]! & MATCH_ALERTED) !== 0) return true;
      if (!seen(m.rules[k]!)) return false;
      m.flags[k]! |= MATCH_ALERTED;
      return true;
    };
    this.queueOf(
      m,
      this.inline,
      () => true,
      alerted,
      (r) => {
        if (ep !== undefined && (ep.alerts?.length ?? 0) < 3 * MAX_SESSION_ALERTS) (ep.alerts ??= []).push(r.gid, r.sid, seq);
        frag?.add(r.gid, r.sid);
      },
    );
  }
}
