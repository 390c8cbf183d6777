import type { InspectionItem } from '../flow/pipeline.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import type { Packet } from '../packet/packet.js';
import { ItemBudget, LimitCounters, RULE_OPS_LIMIT } from './budget.js';
import { EventDecider, NO_EVENTS, nonPayloadMatches, purgeSessionAlerts, sessionAlerts, subjectsOf, type MatchEvent } from './decide.js';
import { buildNoFastPatternIndex, NoFastPatternIndex, type NoFastPatternTables } from './no-fast-pattern-index.js';
import { compilePcre, type CompiledPcre } from './pcre-exec.js';
import type { HeaderOf, MatcherPlan, MatcherPolicy, PcreOp, RulePlan } from './plan.js';
import { buildPrefilter, PROTO_CLASSES, PrefilterLoader, type LoadedGroup, type PrefilterGroup, type ProtoClass } from './prefilter.js';
import { PROTO_ICMP, PROTO_IP, PROTO_TCP, PROTO_UDP, RULE_SETS_FLOWBITS, RuleList, RuleTable } from './rule-table.js';
import { bufferOf, makeSubject, type Subject } from './subject.js';
import { CompileQueue, PortGroups, type PortGroupLimits, type PortGroupStats } from './port-groups.js';
import type { HttpBuffers } from '../http/session.js';
import { headerOk } from './leaf-ops.js';
import type { FragAlerts } from '../packet/defrag.js';
import { numTestOk } from '../keywords/num-test.js';
import type { IpHeader } from '../packet/types.js';
import { runOps, type VerifyContext } from './verify.js';

export { PROTO_CLASSES, type PrefilterGroup, type ProtoClass } from './prefilter.js';

/**
 * The tests of a rule that answer the same on every packet of one flow direction (its protocol, addresses and
 * direction do not change): the direction part of `flow` (to_server, to_client) and `ip_proto`, `sameip`. A rule
 * without a fast pattern that fails them is left out of the flow's list, instead of being evaluated, and failing,
 * on every packet (ET's `ip any any -> any any (ip_proto:41; ...)` was evaluated on every packet of every flow).
 */
function sameForFlowDirection(rule: RulePlan, s: Subject): boolean {
  const f = rule.flow;
  if (f !== undefined && ((f.toServer && !s.fromClient) || (f.toClient && s.fromClient))) return false;
  for (const h of rule.headers) if ((h.t === 'ip_proto' || h.t === 'sameip') && !headerOk(h, s)) return false;
  return true;
}

function classOf(p: Packet): ProtoClass {
  if (p.tcp !== undefined) return 'tcp';
  if (p.udp !== undefined) return 'udp';
  if (p.icmp !== undefined || p.icmp6 !== undefined) return 'icmp';
  return 'other';
}

const CLASS_CODE: Record<ProtoClass, number> = { tcp: PROTO_TCP, udp: PROTO_UDP, icmp: PROTO_ICMP, other: PROTO_IP };

export interface MatcherStats {
  items: number;
  inspected: number;
  badChecksumSkipped: number;
  /** Rules whose header matched a subject, and were evaluated. */
  candidates: number;
  evaluated: number;
  matched: number;
  /** Work done by payload options (deterministic measures, see budget.ts). */
  ruleOps: number;
  pcreCalls: number;
  pcreSteps: number;
  searchBytes: number;
}

export interface MatcherOptions {
  /** Snort -k: 'all' skips packets with a bad checksum (default), 'none' inspects them. */
  checksumMode?: 'all' | 'none';
  engine?: NativeEngine;
  /** Inline: sdrop rules are returned among the events (never logged, but they drop). */
  inline?: boolean;
  /**
   * Scan TCP and UDP packets with port groups' databases (port-groups.ts) as they become ready: the same results,
   * faster for ports most patterns cannot match. The gateway's; a replay leaves it off (its databases would be ready
   * only late in a short capture).
   */
  portGroups?: boolean | PortGroupLimits;
}

/** A matcher's rules as an artifact loads them: the table, the policy, the prefilter groups, the address index. */
export interface LoadedRules extends MatcherPolicy {
  table: RuleTable;
  prefilter: PrefilterGroup[];
  /** The index of the rules without a fast pattern, per protocol class (made at compile time). */
  noFastPattern: NoFastPatternTables[];
}

export class Matcher {
  readonly rules: RuleTable;
  readonly policy: MatcherPolicy;
  readonly prefilter: readonly PrefilterGroup[];
  readonly stats: MatcherStats = {
    items: 0,
    inspected: 0,
    badChecksumSkipped: 0,
    candidates: 0,
    evaluated: 0,
    matched: 0,
    ruleOps: 0,
    pcreCalls: 0,
    pcreSteps: 0,
    searchBytes: 0,
  };
  /** Limits reached (budget.ts), in total and per rule. */
  readonly limits = new LimitCounters();
  /** Prefilter databases compiled again at load because the stored ones did not fit this machine. */
  readonly prefilterRebuilt: number;
  private readonly decider: EventDecider;
  private readonly groups: LoadedGroup[][];
  private readonly noFp: NoFastPatternIndex[];
  /** Compiled on first use: a rule set's patterns are mostly never reached by a given capture. */
  private readonly regexes = new Map<PcreOp, CompiledPcre>();
  private readonly itemBudget = new ItemBudget();
  private readonly seenRule: Int32Array;
  private readonly doneRule: Int32Array;
  private stamp = 0;
  private readonly checksumMode: 'all' | 'none';
  private readonly inline: boolean;
  private readonly vars = new Int32Array(2);
  /** Rules evaluated as each IP header is decoded (ip_proto-only: see decodeTimeMatches), by number and as a list. */
  private readonly decodeTime: Uint8Array;
  private readonly decodeTimeRules: readonly number[];
  /** Lower-cased buffers per subject (nocase searches), dropped with the subject. */
  private readonly lowerCache = new WeakMap<Subject, Map<Uint8Array, Buffer>>();
  /** What candidates() returns (the same list each call). */
  private readonly cands: RuleList;
  private readonly ctx: VerifyContext;
  private readonly loader: PrefilterLoader;

  constructor(source: MatcherPlan | LoadedRules, prefilter?: readonly PrefilterGroup[], opts: MatcherOptions = {}) {
    const engine = opts.engine ?? loadEngine();
    let noFp: NoFastPatternTables[];
    if ('rules' in source) {
      this.rules = RuleTable.fromRules(source.rules);
      this.prefilter = prefilter ?? buildPrefilter(source.rules, engine);
      noFp = buildNoFastPatternIndex(this.rules);
    } else {
      this.rules = source.table;
      this.prefilter = prefilter ?? source.prefilter;
      noFp = source.noFastPattern;
    }
    this.policy = { filters: source.filters, actionOrder: source.actionOrder, eventLog: source.eventLog };
    this.decider = new EventDecider(this.policy);
    this.checksumMode = opts.checksumMode ?? 'all';
    this.inline = opts.inline ?? false;
    this.loader = new PrefilterLoader(engine);
    this.groups = PROTO_CLASSES.map((c) => this.prefilter.filter((g) => g.proto === c).map((g) => this.loader.load(g)));
    if (opts.portGroups) {
      const limits = opts.portGroups === true ? undefined : opts.portGroups;
      const compiles = new CompileQueue();
      for (const g of this.groups.flat()) if (g.group.portSrc.length > 0) g.ports = new PortGroups(g.group, g.db, engine, limits, compiles);
    }
    this.prefilterRebuilt = this.loader.rebuilt;
    const n = this.rules.count;
    this.noFp = noFp.map((t) => new NoFastPatternIndex(t));
    this.seenRule = new Int32Array(n);
    this.doneRule = new Int32Array(n);
    this.cands = new RuleList(n);
    this.cands2 = new RuleList(1024);
    this.decodeTime = new Uint8Array(n);
    const decodeTime: number[] = [];
    const c = this.rules.columns.proto;
    for (let i = 0; i < n; i++) {
      if (c[i] !== PROTO_IP) continue;
      // (the ip rules' plans are made here: a rule set has few of them)
      const h = this.rules.get(i).headers[0];
      if (h?.t === 'ip_proto' && h.decodeTime) {
        this.decodeTime[i] = 1;
        decodeTime.push(i);
      }
    }
    this.decodeTimeRules = decodeTime;
    this.ctx = {
      subject: undefined as unknown as Subject,
      vars: this.vars,
      base64: undefined,
      ops: RULE_OPS_LIMIT,
      item: this.itemBudget,
      limit: undefined,
      pcreOf: this.pcreOf,
      engine,
      lastMatch: engine.lastMatch(),
      lower: new Map(),
      work: this.stats,
    };
  }

  /** The streaming prefilter of TCP payloads (the gateway's stream inspection), loaded on first use. */
  tcpPayloadGroup(): LoadedGroup | undefined {
    return this.groups[0]!.find((g) => g.group.buf === 'pkt');
  }

  streamDatabase(g: LoadedGroup): ReturnType<PrefilterLoader['streamDatabase']> {
    return this.loader.streamDatabase(g);
  }

  /** The port groups' figures per group (`proto:buffer`), when the matcher makes them. */
  portGroupStats(): Record<string, PortGroupStats> {
    const out: Record<string, PortGroupStats> = {};
    for (const g of this.groups.flat()) if (g.ports !== undefined) out[`${g.group.proto}:${g.group.buf}`] = { ...g.ports.stats };
    return out;
  }

  private pcreOf = (op: PcreOp): CompiledPcre => {
    let c = this.regexes.get(op);
    if (c === undefined) {
      c = compilePcre(op, this.ctx.engine);
      this.regexes.set(op, c);
    }
    return c;
  };

  /** Does the rule match this subject (its header already did): non-payload, then payload options. */
  ruleMatches(rule: RulePlan, s: Subject): boolean {
    if (rule.fastPattern !== undefined && s.streamInserted) return false;
    // Snort 2.9.20 (flow-drop-iponly-01, ips-state-1): ip rules without content never fire on rebuilt packets
    if (rule.proto === 'ip' && rule.fastPattern === undefined && s.rebuilt) return false;
    if (!nonPayloadMatches(rule, s)) return false;
    if (rule.ops.length === 0) return true;
    let lower = this.lowerCache.get(s);
    if (lower === undefined) {
      lower = new Map();
      this.lowerCache.set(s, lower);
    }
    const ctx = this.ctx;
    ctx.subject = s;
    ctx.base64 = undefined;
    ctx.ops = RULE_OPS_LIMIT;
    ctx.limit = undefined;
    ctx.lower = lower;
    this.vars[0] = 0;
    this.vars[1] = 0;
    const matched = runOps(ctx, rule.ops, 0, 'pkt', 0, false);
    this.stats.ruleOps += RULE_OPS_LIMIT - Math.max(ctx.ops, -1);
    if (ctx.limit !== undefined) this.limits.hit(ctx.limit, rule.gid, rule.sid);
    return matched;
  }

  /**
   * The rule header (protocol, addresses, ports; both ways for `<>`) on the table's columns. For IPv6 carried in
   * IPv4 (6in4), ip rules also see the outer IPv4 header, as Snort 2.9.20 does (ET 2012141 on bug-4571-04); for IPv4
   * in IPv4 only the inner one (bug-7725-02).
   */
  headerMatches(i: number, p: Packet): boolean {
    const proto = this.rules.columns.proto[i]!;
    const ip = p.ip!;
    switch (proto) {
      case PROTO_TCP:
        return p.tcp !== undefined && this.rules.endpointsMatch(i, ip.src, ip.dst, p.srcPort, p.dstPort);
      case PROTO_UDP:
        return p.udp !== undefined && this.rules.endpointsMatch(i, ip.src, ip.dst, p.srcPort, p.dstPort);
      case PROTO_ICMP:
        return (p.icmp !== undefined || p.icmp6 !== undefined) && this.rules.endpointsMatch(i, ip.src, ip.dst, -1, -1);
      default:
        if (this.rules.endpointsMatch(i, ip.src, ip.dst, -1, -1)) return true;
        if (p.outer !== undefined && ip.version === 6) {
          for (const o of p.outer) if (o.version === 4 && this.rules.endpointsMatch(i, o.src, o.dst, -1, -1)) return true;
        }
        return false;
    }
  }

  private nextStamp(): number {
    this.stamp++;
    if (this.stamp > 0x3fffffff) {
      this.stamp = 1;
      this.seenRule.fill(0);
      this.doneRule.fill(0);
    }
    return this.stamp;
  }

  /**
   * Candidate rules of a subject whose header matches: the indexed rules without a fast pattern, plus those whose
   * fast pattern occurs in a buffer the subject has. Rule numbers, each once. `window`: inline stream inspection
   * (inspectWindow): the rules without a fast pattern are left to the packet itself, and the TCP payload patterns
   * found by the streaming prefilter are given instead of scanning the window again.
   */
  candidates(s: Subject, window?: readonly number[]): RuleList {
    const p = s.packet;
    const cls = CLASS_CODE[classOf(p)];
    const out = this.cands;
    out.n = 0;
    const ip = p.ip!;
    const seen = this.seenRule;
    const stamp = this.nextStamp();
    if (window === undefined) {
      // The rules without a fast pattern whose header matches depend only on the flow and its direction: found once
      // per flow direction and kept on the flow (not for tunnelled packets, whose outer headers count too).
      const flow = s.flow;
      const cacheable = flow !== undefined && p.outer === undefined;
      if (cacheable && flow.noFpOwner !== this) {
        // another matcher's lists (the gateway after a reload): not ours
        flow.noFpOwner = this;
        flow.noFpClient = undefined;
        flow.noFpServer = undefined;
      }
      const cached = cacheable ? (s.fromClient ? flow.noFpClient : flow.noFpServer) : undefined;
      if (cached !== undefined) {
        for (let k = 0; k < cached.length; k++) seen[cached[k]!] = stamp;
        out.pushRange(cached, 0, cached.length);
      } else {
        const noFp = this.cands2;
        noFp.n = 0;
        this.noFp[cls]!.candidates(ip.src, ip.dst, p.srcPort, p.dstPort, noFp);
        // 6in4: ip rules also see the outer IPv4 header (headerMatches), so its addresses find candidates too
        if (p.outer !== undefined && ip.version === 6)
          for (const o of p.outer) if (o.version === 4) this.noFp[cls]!.candidates(o.src, o.dst, -1, -1, noFp);
        for (let k = 0; k < noFp.n; k++) {
          const i = noFp.ids[k]!;
          if (seen[i] === stamp) continue;
          seen[i] = stamp;
          if (this.decodeTime[i] === 1) continue;
          if (this.headerMatches(i, p) && (!cacheable || sameForFlowDirection(this.rules.get(i), s))) out.push(i);
        }
        if (cacheable) {
          const list = this.sharedNoFp(out.ids, out.n);
          if (s.fromClient) flow.noFpClient = list;
          else flow.noFpServer = list;
        }
      }
      if (s.streamInserted) return out;
    }
    const engine = this.ctx.engine;
    // TCP and UDP groups leave out the patterns none of whose rules can match these ports (see hsPortFilter)
    const sport = p.srcPort;
    const dport = p.dstPort;
    for (const g of this.groups[cls]!) {
      let ids: ArrayLike<number>;
      let n: number;
      if (window !== undefined && g.group.buf === 'pkt') {
        ids = window;
        n = window.length;
      } else {
        const b = bufferOf(s, g.group.buf, undefined);
        if (b === undefined || b.length === 0) continue;
        const db = g.ports === undefined ? g.db : g.ports.database(sport, dport);
        if (db === undefined) continue; // no pattern of the group can match these ports
        n = engine.hsScan(db, b, 0, b.length, g.out, sport, dport);
        ids = g.out;
      }
      const start = g.group.ruleStart;
      const rules = g.group.ruleIds;
      for (let k = 0; k < n; k++) {
        const id = ids[k]!;
        for (let j = start[id]!; j < start[id + 1]!; j++) {
          const i = rules[j]!;
          if (seen[i] === stamp) continue;
          seen[i] = stamp;
          if (this.headerMatches(i, p)) out.push(i);
        }
      }
    }
    return out;
  }

  /** The rules without a fast pattern the index names (before their header is checked). */
  private readonly cands2: RuleList;
  /** Where a flow keeps this matcher's header-matching rules without a fast pattern, per direction. */
  /**
   * The list last kept on a flow, handed to the next flow with the same one: flows to one service from many clients
   * (or a SYN flood) share one array instead of holding a copy each (an Int32Array costs ~100 bytes before its ids).
   */
  private lastNoFp: Int32Array = EMPTY_IDS;

  private sharedNoFp(ids: Int32Array, n: number): Int32Array {
    const last = this.lastNoFp;
    if (last.length === n) {
      let same = true;
      for (let k = 0; k < n && same; k++) same = last[k] === ids[k];
      if (same) return last;
    }
    this.lastNoFp = n === 0 ? EMPTY_IDS : ids.slice(0, n);
    return this.lastNoFp;
  }

  /** Inspects one pipeline item; returns the events logged for it. */
  inspect(item: InspectionItem): MatchEvent[] {
    const matched = this.collect(item);
    return matched.length === 0 ? NO_EVENTS : this.decider.select(matched, item.packet, this.inline);
  }

  /**
   * The rules one item matches, flowbits applied, before thresholds, filters and the event queue (`inspect` then
   * selects the events; a sharded replay selects them in one thread, in capture order, so that rate-based filters
   * count across all flows as they do in one process).
   */
  collect(item: InspectionItem): RulePlan[] {
    this.stats.items++;
    const p = item.packet;
    const ip = p.ip;
    if (ip === undefined) return NO_RULES;
    // decoded packets (not rebuilt stream segments) meet the decode-time rules first, whatever comes after
    const decoded = item.kind === 'packet' && this.decodeTimeRules.length > 0 ? this.decodeTimeMatches(p) : undefined;
    if (item.detection === 'decode-only') return decoded ?? NO_RULES;
    if (this.checksumMode === 'all' && p.badChecksum && item.kind === 'packet') {
      this.stats.badChecksumSkipped++;
      return decoded ?? NO_RULES;
    }
    // detect.c Detect: a packet a decode-time pass rule matched (PKT_PASS_RULE) is not inspected
    if (decoded?.some((r) => r.action === 'pass')) return decoded;
    let matched = this.detect(item);
    if (matched === undefined) return decoded ?? NO_RULES;
    if (item.fragAlerts !== undefined) matched = this.fragAlerts(item, item.fragAlerts, matched);
    return decoded === undefined ? matched : [...decoded, ...matched];
  }

  /**
   * spp_frag3.c fpAddFragAlert / fpFragAlerted, as fpFinalSelectEvent applies them (decode-time events bypass both):
   * in event queue order, what alerted on a fragment is recorded with its datagram (while at most `log` events were
   * queued, and up to MAX_FRAG_ALERTS), and the rebuilt datagram does not alert for it again. The rules the datagram
   * matched are kept for its completing first fragment (InspectionItem.detection 'relative-first').
   */
  private fragAlerts(item: InspectionItem, frag: FragAlerts, matched: RulePlan[]): RulePlan[] {
    if (item.detection === 'relative-first') return matched.filter((r) => !frag.rebuiltMatched.has(r));
    const rebuilt = item.packet.origin === 'defrag';
    const sorted = matched.length > 1 ? matched.slice().sort(this.decider.order) : matched;
    const kept: RulePlan[] = [];
    let queued = 0;
    if (rebuilt) for (const r of matched) frag.rebuiltMatched.add(r);
    for (const r of sorted) {
      if (r.action === 'pass' && queued > 0) break;
      if (!(rebuilt && frag.has(r.gid, r.sid))) {
        queued++;
        kept.push(r);
      }
      if (queued <= this.decider.eventLog) frag.add(r.gid, r.sid);
      if (r.action === 'pass') break;
    }
    return kept;
  }

  /** The rules a packet's detection matches (Snort's Detect), flowbits applied; undefined when none. */
  private detect(item: InspectionItem): RulePlan[] | undefined {
    let matched: RulePlan[] | undefined;
    const relativeOnly = item.detection === 'relative-first';
    this.stats.inspected++;
    this.itemBudget.reset(itemBytes(item));
    // the packet that ended its session: Snort's TcpSessionClear reset the flowbits before it is inspected
    if (item.kind === 'packet' && item.flow?.terminated === true) item.flow.flowbits = undefined;
    const done = this.nextStamp();
    const doneRule = this.doneRule;
    const flags = this.rules.columns.flags;
    for (const s of subjectsOf(item)) {
      const cands = this.candidates(s);
      this.stats.candidates += cands.n;
      // rules that set flowbits first (their bits are visible to the others on the same packet), then the rest
      for (let pass = RULE_SETS_FLOWBITS; pass >= 0; pass -= RULE_SETS_FLOWBITS) {
        for (let k = 0; k < cands.n; k++) {
          const i = cands.ids[k]!;
          if ((flags[i]! & RULE_SETS_FLOWBITS) !== pass || doneRule[i] === done) continue;
          const r = this.rules.get(i);
          if (relativeOnly && !relativeFirst(r)) continue;
          this.stats.evaluated++;
          if (this.ruleMatches(r, s)) {
            doneRule[i] = done;
            this.stats.matched++;
            if (this.decider.applyFlowbits(r, s)) (matched ??= []).push(r);
          }
        }
      }
    }
    if (matched !== undefined) matched = sessionAlerts(item, matched, this.decider.order, this.decider.eventLog);
    if (item.kind === 'stream') purgeSessionAlerts(item);
    return matched;
  }

  /**
   * The ip_proto-only rules (an ip rule whose one detection option is ip_proto): Snort 2.9.20 evaluates them as it
   * decodes each IP header (decode.c DecodeIP and DecodeIPV6Extensions call fpEvalIpProtoOnlyRules; fpcreate.c puts
   * them in no port group), on the protocol that header names and its addresses (fpEvalRTN). So they see every
   * decoded packet, a fragment that frag3 keeps from detection and a rebuilt datagram included, once per IP layer of
   * a tunnel and once per header of an IPv6 chain; rebuilt stream segments are never decoded. (Snort does this in IDS
   * mode only, and so leaves these rules out inline, a bug the gateway does not copy.)
   */
  private decodeTimeMatches(p: Packet): RulePlan[] | undefined {
    const ip = p.ip!;
    // (the common case without arrays: one IPv4 header)
    if (p.outer === undefined && ip.version === 4) return this.decodeTimeLayer(ip, ip.proto, undefined);
    let out: RulePlan[] | undefined;
    for (const l of p.outer === undefined ? [ip] : [...p.outer, ip]) for (const proto of headerChain(l)) out = this.decodeTimeLayer(l, proto, out);
    return out;
  }

  private decodeTimeLayer(l: IpHeader, proto: number, out: RulePlan[] | undefined): RulePlan[] | undefined {
    const ids = this.decodeTimeRules;
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k]!;
      const r = this.rules.get(i);
      if (numTestOk((r.headers[0] as HeaderOf<'ip_proto'>).test, proto) && this.rules.endpointsMatch(i, l.src, l.dst, -1, -1)) (out ??= []).push(r);
    }
    return out;
  }

  /**
   * Inline stream inspection (src/inline): `item.payload` is the stream window ending with the packet's new bytes.
   * The TCP payload rules considered are those whose fast pattern the streaming prefilter found in the window
   * (`patterns`); a rule fires only when it matches the window and did not match it without the new bytes
   * (`before`), so a match is reported once, by the packet that completes it.
   */
  inspectWindow(item: InspectionItem, patterns: readonly number[], before: WindowBefore): MatchEvent[] {
    this.stats.items++;
    const p = item.packet;
    this.stats.inspected++;
    this.itemBudget.reset(itemBytes(item));
    const matched: RulePlan[] = [];
    const done = this.nextStamp();
    const doneRule = this.doneRule;
    const flags = this.rules.columns.flags;
    const subjects = subjectsOf(item);
    for (let si = 0; si < subjects.length; si++) {
      const s = subjects[si]!;
      const cands = this.candidates(s, patterns);
      this.stats.candidates += cands.n;
      let prior: Subject | undefined;
      for (let pass = RULE_SETS_FLOWBITS; pass >= 0; pass -= RULE_SETS_FLOWBITS) {
        for (let k = 0; k < cands.n; k++) {
          const i = cands.ids[k]!;
          if ((flags[i]! & RULE_SETS_FLOWBITS) !== pass || doneRule[i] === done) continue;
          this.stats.evaluated++;
          const r = this.rules.get(i);
          if (!this.ruleMatches(r, s)) continue;
          prior ??= makeSubject(p, {
            payload: before.payload,
            rebuilt: true,
            flow: s.flow,
            fromClient: s.fromClient,
            established: s.established,
            http: before.http[si],
          });
          if (before.payload.length > 0 && this.ruleMatches(r, prior)) continue;
          doneRule[i] = done;
          this.stats.matched++;
          if (this.decider.applyFlowbits(r, s)) matched.push(r);
        }
      }
    }
    return this.decider.select(matched, p, this.inline);
  }
}

const NO_RULES: RulePlan[] = Object.freeze([]) as unknown as RulePlan[];

/**
 * Whether the rule's first option (the root of its detection option tree) is relative, as far as the plan tells:
 * a relative payload option with no flow, flowbits or header test (which could come before it) in the rule.
 */
function relativeFirst(r: RulePlan): boolean {
  if (r.flow !== undefined || r.flowbits.length > 0 || r.headers.length > 0 || r.ops.length === 0) return false;
  const op = r.ops[0]!;
  return 'relative' in op && op.relative === true;
}

/**
 * The protocols one IP header's decoding names, in order: IPv4 its protocol; IPv6 each header of its chain
 * (DecodeIPV6Extensions runs once per next header), but nothing past the fragment header of a fragment whose
 * transport is not decoded (decode.c stops there).
 */
function headerChain(ip: IpHeader): readonly number[] {
  if (ip.version === 4) return [ip.proto];
  const chain = ip.ext.map((e) => e.type);
  if (!ip.isFragment || (ip.fragOffset === 0 && ip.proto === 17)) chain.push(ip.proto);
  return chain;
}
/** The empty no-fast-pattern list, shared (never written: the lists kept on flows are only read). */
const EMPTY_IDS = new Int32Array(0);

/** What a stream window held before the packet's bytes were added: the bytes, and the HTTP messages found in them. */
export interface WindowBefore {
  payload: Uint8Array;
  http: readonly HttpBuffers[];
}

/** Bytes an item offers to the payload options: its payload and, for HTTP, each message's buffers. */
function itemBytes(item: InspectionItem): number {
  let n = item.payload?.length ?? item.packet.payloadLength;
  for (const h of item.http) {
    n += (h.uri?.length ?? 0) + (h.rawUri?.length ?? 0) + (h.header?.length ?? 0) + (h.rawHeader?.length ?? 0);
    n += (h.clientBody?.length ?? 0) + (h.fileData?.length ?? 0);
  }
  return n;
}
