import { XbitStore } from './xbits.js';
import { objectList, truncateList } from '../shapes.js';
import type { InspectionItem } from '../flow/pipeline.js';
import { loadEngine, type NativeEngine } from '../native/engine.js';
import type { Packet } from '../packet/packet.js';
import { ItemBudget, LimitCounters, RULE_OPS_LIMIT } from './budget.js';
import {
  EventDecider,
  flowbitChecksPass,
  MATCH_DF_FIRST,
  MATCH_DIRECT,
  MATCH_NOALERT,
  MATCH_PHASE_MAX,
  MATCH_PHASE_SHIFT,
  MATCH_SECOND,
  NO_EVENTS,
  NO_MATCHES,
  nonPayloadMatches,
  purgeSessionAlerts,
  subjectsOf,
  type Matches,
  type MatchEvent,
} from './decide.js';
import { buildNoFastPatternIndex, NoFastPatternIndex, type NoFastPatternTables } from './no-fast-pattern-index.js';
import { compilePcre, type CompiledPcre } from './pcre-exec.js';
import type { HeaderOf, MatcherPlan, MatcherPolicy, PcreOp, RulePlan } from './plan.js';
import { hasPortFilter } from './broad-ports.js';
import { buildPrefilter, PROTO_CLASSES, PrefilterLoader, prefilterRulesOf, type LoadedGroup, type PrefilterGroup } from './prefilter.js';
import { PROTO_ICMP, PROTO_IP, PROTO_TCP, PROTO_UDP, RULE_FLOW_CLASS_SHIFT, RULE_ORDER_SENSITIVE, RuleList, RuleTable } from './rule-table.js';
import {
  bufferRank,
  firstEnd,
  NO_FAST_PATTERN_RANK,
  PAYLOAD_AFTER_FILE_DATA_RANK,
  portGroupsOf,
  snortTurns,
  treeKey,
  treeOf,
} from './snort-order.js';
import { changeNodesOf, runTurns, SharedNodes, sharingTable, type SharingTable, type TurnEvaluator } from './rule-tree.js';
import { applyChanges, isNoalert, OrderInteraction } from './order-interaction.js';
import { bufferOf, fileDataOf, makeSubject, type Subject } from './subject.js';
import { CompileQueue, PortGroups, type PortGroupLimits, type PortGroupStats } from './port-groups.js';
import type { HttpBuffers } from '../http/session.js';
import { headerOk } from './leaf-ops.js';
import { numTestOk } from '../keywords/num-test.js';
import { directionFlowClasses, subjectFlowClass } from '../keywords/non-payload.js';
import type { IpHeader } from '../packet/types.js';
import { lowerOf, runOps, type VerifyContext } from './verify.js';

export { PROTO_CLASSES, type PrefilterGroup, type ProtoClass } from './prefilter.js';

/**
 * The tests of a rule that answer the same on every packet of one flow direction (its protocol, addresses and
 * direction do not change): `flow` on both of the direction's flow classes (established or not; `flags`, the rule's
 * flow classes) and `ip_proto`, `sameip`. A rule without a fast pattern that fails them is left out of the flow's
 * list, instead of being evaluated, and failing, on every packet (ET's `ip any any -> any any (ip_proto:41; ...)` was
 * evaluated on every packet of every flow).
 */
function sameForFlowDirection(rule: RulePlan, flags: number, s: Subject): boolean {
  if (((flags >> RULE_FLOW_CLASS_SHIFT) & directionFlowClasses(s.fromClient)) === 0) return false;
  for (const h of rule.headers) if ((h.t === 'ip_proto' || h.t === 'sameip') && !headerOk(h, s)) return false;
  return true;
}

/**
 * The packet's protocol class (PROTO_CLASSES), as its rule-table code. Every layer is read on every call: optimized
 * code that has never seen a load run (the UDP layer's, while only TCP packets came) is thrown away when it first
 * does, and this runs inside candidates, the largest function detection compiles.
 */
function classCodeOf(p: Packet): number {
  const tcp = p.tcp;
  const udp = p.udp;
  const icmp = p.icmp;
  const icmp6 = p.icmp6;
  return tcp !== undefined ? PROTO_TCP : udp !== undefined ? PROTO_UDP : icmp !== undefined || icmp6 !== undefined ? PROTO_ICMP : PROTO_IP;
}

export interface MatcherStats {
  items: number;
  inspected: number;
  badChecksumSkipped: number;
  /** Rules whose header matched a subject, and were evaluated. */
  candidates: number;
  evaluated: number;
  matched: number;
  /** Subjects whose candidates act on each other (flowbits, detection_filter): evaluated in Snort's order. */
  orderedEvaluations: number;
  /** Work done by payload options (deterministic measures, see budget.ts). */
  ruleOps: number;
  pcreCalls: number;
  pcreSteps: number;
  searchBytes: number;
  /** xbits dropped from the full table for newer ones (match/xbits.ts XBITS_MAX). */
  xbitsEvicted: number;
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
  /** What Snort 2.9.20 leaves to chance in its evaluation order (tests only; snort-order.ts). */
  order?: SnortOrderChoices;
}

/**
 * Snort's evaluation order within one rule tree follows a hash of rule numbers seeded at start, so it changes between
 * runs; and whether a rule in two port groups is evaluated again in the second depends on which other rules share its
 * options in each group. honeywall takes the rule files' order and evaluates a matched rule once; the differential
 * test asks for other choices to tell an order-dependent Snort result from a disagreement.
 */
export interface SnortOrderChoices {
  /** The order of rules within one tree, by rule number (default: the rule number). */
  tie?: (rule: number) => number;
  /** Evaluate a rule again in its second port group even when it matched in the first. */
  reevaluate?: boolean;
  /**
   * Walk the rule trees for every subject with flowbits or detection_filter candidates, even when they do not act on
   * each other (OrderInteraction): the property test holding the shortcut to the walk.
   */
  alwaysInOrder?: boolean;
}

/** A matcher's rules as an artifact loads them: the table, the policy, the prefilter groups, the address index. */
export interface LoadedRules extends MatcherPolicy {
  table: RuleTable;
  prefilter: PrefilterGroup[];
  /** The index of the rules without a fast pattern, per protocol class (made at compile time). */
  noFastPattern: NoFastPatternTables[];
  /** The rules' shared flowbits nodes (made at compile time). */
  sharing: SharingTable;
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
    orderedEvaluations: 0,
    ruleOps: 0,
    pcreCalls: 0,
    pcreSteps: 0,
    searchBytes: 0,
    xbitsEvicted: 0,
  };
  /** Limits reached (budget.ts), in total and per rule. */
  readonly limits = new LimitCounters();
  /** Prefilter databases compiled again at load because the stored ones did not fit this machine. */
  readonly prefilterRebuilt: number;
  /** Suricata's xbits: bits on hosts and address pairs, across this matcher's flows (bounded, evictions counted). */
  readonly xbits = new XbitStore(undefined, this.stats);
  private decider: EventDecider;
  private readonly groups: LoadedGroup[][];
  private readonly noFp: NoFastPatternIndex[];
  /** Compiled on first use: a rule set's patterns are mostly never reached by a given capture. */
  private readonly regexes = new Map<PcreOp, CompiledPcre>();
  private readonly itemBudget = new ItemBudget();
  private readonly seenRule: Int32Array;
  /** 1 for a rule whose fast pattern is in file_data (the payload groups hold these too: groupPatterns, prefilter.ts). */
  private readonly fileDataRule: Uint8Array;
  private readonly doneRule: Int32Array;
  /** Per rule: the stamp of the subject whose result (all but the flowbits checks) `statelessValue` holds. */
  private readonly statelessStamp: Int32Array;
  private readonly statelessValue: Uint8Array;
  private order: SnortOrderChoices;
  private readonly shared: SharedNodes;
  private readonly interaction = new OrderInteraction();
  private readonly sensitiveScratch: RulePlan[] = objectList();
  /** detect's lists while it runs (copied out when something matched). */
  private readonly detectScratch: Matches = { rules: objectList(), flags: [] };
  /** detect's subjects of the item it inspects (subjectsOf). */
  private readonly subjectScratch: Subject[] = objectList();
  private stamp = 0;
  private readonly checksumMode: 'all' | 'none';
  private readonly inline: boolean;
  private readonly vars = new Int32Array(2);
  /** Rules evaluated as each IP header is decoded (ip_proto-only: see decodeTimeMatches), by number and as a list. */
  private readonly decodeTime: Uint8Array;
  private readonly decodeTimeRules: readonly number[];
  /**
   * Per IP protocol number, 1 when some decode-time rule's ip_proto test passes for it: every decoded packet meets
   * these rules, and nearly none has a protocol one of them names (ET Open's one is ip_proto:41).
   */
  private readonly decodeTimeProtos = new Uint8Array(256);
  /** What candidates() returns (the same list each call). */
  private readonly cands: RuleList;
  private readonly ctx: VerifyContext;
  private readonly loader: PrefilterLoader;

  constructor(source: MatcherPlan | LoadedRules, prefilter?: readonly PrefilterGroup[], opts: MatcherOptions = {}) {
    const engine = opts.engine ?? loadEngine();
    let noFp: NoFastPatternTables[];
    let sharing: SharingTable;
    if ('rules' in source) {
      this.rules = RuleTable.fromRules(source.rules);
      this.prefilter = prefilter ?? buildPrefilter(prefilterRulesOf(source.rules), engine);
      noFp = buildNoFastPatternIndex(this.rules);
      sharing = sharingTable(changeNodesOf(source.rules));
    } else {
      this.rules = source.table;
      this.prefilter = prefilter ?? source.prefilter;
      noFp = source.noFastPattern;
      sharing = source.sharing;
    }
    this.shared = new SharedNodes(sharing, (i) => this.rules.get(i));
    this.policy = { filters: source.filters, actionOrder: source.actionOrder, eventQueue: source.eventQueue };
    this.checksumMode = opts.checksumMode ?? 'all';
    this.inline = opts.inline ?? false;
    this.decider = new EventDecider(this.policy, this.inline);
    this.loader = new PrefilterLoader(engine);
    // the groups scanned with port groups' databases (the gateway's TCP and UDP groups) do not use the flow classes'
    // ones: not loaded
    const byPorts = (g: PrefilterGroup) => opts.portGroups !== undefined && opts.portGroups !== false && hasPortFilter(g);
    this.groups = PROTO_CLASSES.map((c) => this.prefilter.filter((g) => g.proto === c).map((g) => this.loader.load(g, !byPorts(g))));
    if (opts.portGroups) {
      const limits = opts.portGroups === true ? undefined : opts.portGroups;
      const compiles = new CompileQueue();
      for (const g of this.groups.flat()) if (byPorts(g.group)) g.ports = new PortGroups(g.group, g.db, engine, limits, compiles);
    }
    this.prefilterRebuilt = this.loader.rebuilt;
    const n = this.rules.count;
    this.noFp = noFp.map((t) => new NoFastPatternIndex(t));
    this.seenRule = new Int32Array(n);
    this.fileDataRule = new Uint8Array(n);
    for (const g of this.prefilter) if (g.buf === 'file_data') for (const i of g.ruleIds) this.fileDataRule[i] = 1;
    this.doneRule = new Int32Array(n);
    this.statelessStamp = new Int32Array(n);
    this.statelessValue = new Uint8Array(n);
    this.order = opts.order ?? {};
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
        for (let proto = 0; proto < 256; proto++) if (numTestOk(h.test, proto)) this.decodeTimeProtos[proto] = 1;
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
      work: this.stats,
    };
  }

  /**
   * Forgets the counts of thresholds, event filters and detection_filters (a capture replayed afresh, as Snort's
   * --pcap-reset starts one) and takes other order choices (tests: tools/diff-snort/order.ts).
   */
  resetState(order: SnortOrderChoices = {}): void {
    this.decider = new EventDecider(this.policy, this.inline);
    this.xbits.clear();
    this.order = order;
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
  ruleMatches(rule: RulePlan, s: Subject, flowbits = true): boolean {
    if (rule.fastPattern !== undefined && s.streamInserted) return false;
    // Snort 2.9.20 (flow-drop-iponly-01, ips-state-1): ip rules without content never fire on rebuilt packets; but
    // for honeywall's DNS buffer, which a Suricata `alert dns` rule reads as an ip rule (DNS over TCP is rebuilt)
    if (rule.proto === 'ip' && rule.fastPattern === undefined && s.rebuilt && !readsAppBuffer(rule)) return false;
    if (!nonPayloadMatches(rule, s, flowbits)) return false;
    if (rule.ops.length === 0) return true;
    const ctx = this.ctx;
    ctx.subject = s;
    ctx.base64 = undefined;
    ctx.ops = RULE_OPS_LIMIT;
    ctx.limit = undefined;
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
  headerMatches(i: number, p: Packet, cls: number): boolean {
    const proto = this.rules.columns.proto[i]!;
    const ip = p.ip!;
    // (by the packet's class, `cls`: classCodeOf, which candidates has made; not its layers read per rule protocol, a
    // load first run after optimization, the first UDP rule's, throwing the code away)
    switch (proto) {
      case PROTO_TCP:
      case PROTO_UDP:
        return cls === proto && this.rules.endpointsMatchIp(i, ip, p.srcPort, p.dstPort);
      case PROTO_ICMP:
        return cls === PROTO_ICMP && this.rules.endpointsMatchIp(i, ip, -1, -1);
      default:
        if (this.rules.endpointsMatchIp(i, ip, -1, -1)) return true;
        if (p.outer !== undefined && ip.version === 6) {
          for (const o of p.outer) if (o.version === 4 && this.rules.endpointsMatchIp(i, o, -1, -1)) return true;
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
      this.statelessStamp.fill(0);
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
    const cls = classCodeOf(p);
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
        this.noFp[cls]!.candidates(ip, p.srcPort, p.dstPort, noFp);
        // 6in4: ip rules also see the outer IPv4 header (headerMatches), so its addresses find candidates too
        if (p.outer !== undefined && ip.version === 6) for (const o of p.outer) if (o.version === 4) this.noFp[cls]!.candidates(o, -1, -1, noFp);
        for (let k = 0; k < noFp.n; k++) {
          const i = noFp.ids[k]!;
          if (seen[i] === stamp) continue;
          seen[i] = stamp;
          if (this.decodeTime[i] === 1) continue;
          if (this.headerMatches(i, p, cls) && (!cacheable || sameForFlowDirection(this.rules.get(i), this.rules.columns.flags[i]!, s))) out.push(i);
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
    // a subject `flow` holds to a direction is scanned with the patterns of its flow class (prefilter.ts), and the
    // rules of a pattern found whose `flow` fails the subject's class are passed over
    const fc = subjectFlowClass(s);
    const classBit = 1 << (fc + RULE_FLOW_CLASS_SHIFT);
    const ruleFlags = this.rules.columns.flags;
    // a subject whose file_data buffer is its payload has its file_data rules found by the payload group's scan
    // (which holds their patterns: groupPatterns, prefilter.ts), not by a second scan of the same bytes; otherwise
    // (file data of its own, or the gateway's stream window for the payload) the payload group's are passed over
    const fileDataInPayload = window === undefined && fileDataOf(s) === undefined;
    const fileDataRule = this.fileDataRule;
    for (const g of this.groups[cls]!) {
      const buf = g.group.buf;
      if (buf === 'file_data' && fileDataInPayload) continue;
      // (1 or 0, tested against every rule's entry: a load V8 meets on every packet, not only on the rare one with file
      // data, where optimized code without feedback for it would be thrown away and compiled again)
      const passFileData = buf === 'pkt' && !fileDataInPayload ? 1 : 0;
      let ids: ArrayLike<number>;
      let n: number;
      if (window !== undefined && buf === 'pkt') {
        ids = window;
        n = window.length;
      } else {
        const b = bufferOf(s, buf, undefined);
        if (b === undefined || b.length === 0) continue;
        // a packet neither of whose ports a narrow port set names is scanned with the broad-port patterns only
        // (broad-ports.ts: the others cannot pass its port test)
        const narrow = g.narrow;
        const db =
          g.ports !== undefined
            ? g.ports.database(sport, dport)
            : narrow !== undefined && narrow[sport] === 0 && narrow[dport] === 0
              ? g.broadDb[fc]
              : g.classDb[fc];
        if (db === undefined) continue; // no pattern of the group can match these ports (or this flow class)
        n = engine.hsScan(db, b, 0, b.length, g.out, sport, dport);
        ids = g.out;
      }
      const start = g.group.ruleStart;
      const rules = g.group.ruleIds;
      for (let k = 0; k < n; k++) {
        const id = ids[k]!;
        for (let j = start[id]!; j < start[id + 1]!; j++) {
          const i = rules[j]!;
          if (seen[i] === stamp || (fileDataRule[i]! & passFileData) !== 0) continue;
          seen[i] = stamp;
          if ((ruleFlags[i]! & classBit) === 0) continue;
          if (this.headerMatches(i, p, cls)) out.push(i);
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
    const m = this.collect(item);
    return m.rules.length === 0 ? NO_EVENTS : this.decider.select(m, item.packet, this.inline);
  }

  /**
   * The rules one item matches, in Snort's evaluation order, flowbits applied, before thresholds, filters and the
   * event queue (`inspect` then selects the events; a sharded replay selects them in one thread, in capture order, so
   * that rate-based filters count across all flows as they do in one process).
   */
  collect(item: InspectionItem): Matches {
    this.stats.items++;
    const p = item.packet;
    if (p.ip === undefined) return NO_MATCHES;
    // decoded packets (not rebuilt stream segments) meet the decode-time rules first, whatever comes after
    const decoded = item.kind === 'packet' && this.decodeTimeRules.length > 0 ? this.decodeTimeMatches(p) : undefined;
    if (item.detection === 'decode-only') return decoded ?? NO_MATCHES;
    if (this.checksumMode === 'all' && p.badChecksum && item.kind === 'packet') {
      this.stats.badChecksumSkipped++;
      return decoded ?? NO_MATCHES;
    }
    // detect.c Detect: a packet a decode-time pass rule matched (PKT_PASS_RULE) is not inspected
    if (decoded?.rules.some((r) => r.action === 'pass')) return decoded;
    const m = this.detect(item);
    if (decoded === undefined) return m;
    // (joined by loops, the lists made by push: spreads and map's lists deoptimized collect)
    const rules = decoded.rules.slice();
    const flags = decoded.flags.slice();
    for (let k = 0; k < m.rules.length; k++) {
      rules.push(m.rules[k]!);
      flags.push(m.flags[k]!);
    }
    return { rules, flags };
  }

  /**
   * The rules a packet's detection matches (Snort's Detect), in its order, flowbits applied. With a fragment or a
   * datagram rebuilt from fragments (item.fragAlerts), the event queue's frag3 alert record applies as the session's
   * does (decide.ts sessionAlerts); the rules the rebuilt datagram matched are kept for its completing first fragment,
   * which evaluates only the rules whose first option is relative and alerts for none the datagram matched
   * (InspectionItem.detection 'relative-first').
   */
  private detect(item: InspectionItem): Matches {
    const relativeOnly = item.detection === 'relative-first';
    const frag = item.fragAlerts;
    this.stats.inspected++;
    this.itemBudget.reset(itemBytes(item));
    // the packet that ended its session: Snort's TcpSessionClear reset the flowbits before it is inspected
    if (item.kind === 'packet' && item.flow?.terminated === true) item.flow.flowbits = undefined;
    // what detection appends to, reused: most items match nothing, and only a match needs lists of its own
    const scratch = this.detectScratch;
    truncateList(scratch.rules);
    truncateList(scratch.flags);
    const done = this.nextStamp();
    const accept = relativeOnly ? relativeFirst : undefined;
    const subjects = subjectsOf(item, this.xbits, this.subjectScratch);
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const cands = this.candidates(s);
      this.stats.candidates += cands.n;
      // dcerpc2's detections of one packet (one per file data) each evaluate every rule afresh
      // (FLAG_ALLOW_MULTIPLE_DETECT) and select their own events (matchPhase)
      // (the comparison made for every subject, not Math.min for those with file data only: optimized code meeting
      // an operation it has no feedback for is thrown away and compiled again, and packets with file data are rare)
      const capped = i < MATCH_PHASE_MAX ? i : MATCH_PHASE_MAX;
      const phase = item.fileData !== undefined ? capped : 0;
      const from = scratch.rules.length;
      this.evaluate(s, cands, phase > 0 ? this.nextStamp() : done, scratch, accept, item.detectTwice === true);
      for (let k = from; k < scratch.flags.length && phase > 0; k++) scratch.flags[k]! |= phase << MATCH_PHASE_SHIFT;
    }
    // (purgeSessionAlerts returns at once for a packet, which has no segment: called for every item, the call is one
    // optimized code has met, not one it is thrown away at when the first rebuilt segment matches nothing)
    if (scratch.rules.length === 0) {
      purgeSessionAlerts(item);
      return NO_MATCHES;
    }
    let out: Matches = { rules: scratch.rules.slice(), flags: scratch.flags.slice() };
    if (frag !== undefined) {
      if (relativeOnly) out = withoutRules(out, frag.rebuiltMatched);
      else if (item.packet.origin === 'defrag') for (const r of out.rules) frag.rebuiltMatched.add(r);
    }
    if (out.rules.length > 0) this.decider.sessionAlerts(item, out, relativeOnly ? undefined : frag);
    purgeSessionAlerts(item);
    return out.rules.length === 0 ? NO_MATCHES : out;
  }

  /**
   * The ip_proto-only rules (an ip rule whose one detection option is ip_proto): Snort 2.9.20 evaluates them as it
   * decodes each IP header (decode.c DecodeIP and DecodeIPV6Extensions call fpEvalIpProtoOnlyRules; fpcreate.c puts
   * them in no port group), on the protocol that header names and its addresses (fpEvalRTN). So they see every
   * decoded packet, a fragment that frag3 keeps from detection and a rebuilt datagram included, once per IP layer of
   * a tunnel and once per header of an IPv6 chain; rebuilt stream segments are never decoded. (Snort does this in IDS
   * mode only, and so leaves these rules out inline, a bug the gateway does not copy.)
   */
  private decodeTimeMatches(p: Packet): Matches | undefined {
    const ip = p.ip!;
    let out: RulePlan[] | undefined;
    // (the common case without arrays: one IPv4 header)
    if (p.outer === undefined && ip.version === 4) out = this.decodeTimeLayer(ip, ip.proto, undefined);
    else
      for (const l of p.outer === undefined ? [ip] : [...p.outer, ip]) for (const proto of headerChain(l)) out = this.decodeTimeLayer(l, proto, out);
    // fpEvalIpProtoOnlyRules queues its events itself (SnortEventqAdd), not through fpFinalSelectEvent
    if (out === undefined) return undefined;
    const flags: number[] = [];
    for (let k = 0; k < out.length; k++) flags.push(MATCH_DIRECT);
    return { rules: out, flags };
  }

  private decodeTimeLayer(l: IpHeader, proto: number, out: RulePlan[] | undefined): RulePlan[] | undefined {
    if (this.decodeTimeProtos[proto] !== 1) return out;
    const ids = this.decodeTimeRules;
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k]!;
      const r = this.rules.get(i);
      if (numTestOk((r.headers[0] as HeaderOf<'ip_proto'>).test, proto) && this.rules.endpointsMatchIp(i, l, -1, -1)) (out ??= []).push(r);
    }
    return out;
  }

  /**
   * Evaluates a subject's candidates and appends what matched to `out`. When some candidate's outcome depends on what
   * was evaluated before it (flowbits, detection_filter), they are evaluated in Snort's order (snort-order.ts);
   * otherwise in any order, and what matched is put in Snort's order only when the event queue would keep part of it.
   * `accept`: a further test of a matching rule (inline stream inspection; a fragment's 'relative-first' detection).
   */
  private evaluate(s: Subject, cands: RuleList, done: number, out: Matches, accept: ((r: RulePlan) => boolean) | undefined, twice = false): void {
    const doneRule = this.doneRule;
    const flags = this.rules.columns.flags;
    const sensitive = this.sensitiveScratch;
    // (read for every subject, not only one with order-sensitive candidates: see classCodeOf)
    const alwaysInOrder = this.order.alwaysInOrder === true;
    truncateList(sensitive);
    for (let k = 0; k < cands.n; k++) {
      const i = cands.ids[k]!;
      if ((flags[i]! & RULE_ORDER_SENSITIVE) !== 0 && doneRule[i] !== done) sensitive.push(this.rules.get(i));
    }
    // Only a candidate whose own options match can act on the others (a rule that does not match changes no bit and
    // counts no detection_filter event): the order-sensitive candidates are first tested without their flowbits
    // checks, as the walk tests them (runTurns' `matches`), and only those that pass can make the order matter. Most
    // packets with such candidates have at most one that passes: no walk for them.
    let stamp = 0;
    const known = this.statelessStamp;
    const value = this.statelessValue;
    if (sensitive.length > 0) {
      stamp = this.nextStamp();
      // a packet Snort detects twice (InspectionItem.detectTwice) with a flowbits check among its candidates: the
      // second detection depends on where a check failed in the first walk, whatever matched (no shortcut then)
      const second = twice && sensitive.some(checksFlowbits);
      if (!second && !alwaysInOrder) {
        let live = 0;
        for (let k = 0; k < sensitive.length; k++) {
          const r = sensitive[k]!;
          if (this.statelessMatches(r, s, accept, stamp)) sensitive[live++] = r;
        }
        truncateList(sensitive, live);
      }
      if (second || alwaysInOrder || (sensitive.length > 0 && this.interaction.matters(sensitive))) {
        this.stats.orderedEvaluations++;
        this.evaluateInOrder(s, cands, done, out, accept, stamp, second);
        return;
      }
    }
    const from = out.rules.length;
    for (let k = 0; k < cands.n; k++) {
      const i = cands.ids[k]!;
      if (doneRule[i] === done) continue;
      const r = this.rules.get(i);
      if (known[i] === stamp && stamp !== 0) {
        // tested above without its flowbits checks: they alone are left
        if (value[i] !== 1 || !flowbitChecksPass(r, s)) continue;
      } else {
        this.stats.evaluated++;
        if (!this.ruleMatches(r, s) || (accept !== undefined && !accept(r))) continue;
      }
      doneRule[i] = done;
      this.stats.matched++;
      let f = 0;
      if ((flags[i]! & RULE_ORDER_SENSITIVE) !== 0) {
        // no other candidate acts on what this one does (OrderInteraction): as the tree walk would, its bit changes
        // apply now, and its detection_filter is the first of the evaluation
        applyChanges(r, s);
        if (r.detectionFilter !== undefined) f |= MATCH_DF_FIRST;
        if (isNoalert(r)) {
          if (r.detectionFilter === undefined) continue;
          f |= MATCH_NOALERT;
        }
      }
      out.rules.push(r);
      out.flags.push(f);
    }
    // fpAddMatch keeps the first max_queue_events of an action kind in evaluation order: then the order decides
    if (out.rules.length - from > this.policy.eventQueue.maxQueueEvents) {
      const part = out.rules.slice(from).map((r, k) => ({ r, f: out.flags[from + k]!, key: this.firstTurnKey(r, s) }));
      part.sort((a, b) => a.key - b.key);
      part.forEach((e, k) => {
        out.rules[from + k] = e.r;
        out.flags[from + k] = e.f;
      });
    }
  }

  /** The tie order within one rule tree (file order unless a test gives another). */
  private tieOf(i: number): number {
    const t = this.order.tie;
    return t === undefined ? i : t(i);
  }

  /**
   * Where a rule's fast pattern tree stands among the subject's trees (snort-order.ts treeKey, without the group);
   * end -1 when the pattern is not in the buffer.
   */
  private patternPlace(r: RulePlan, s: Subject): { rank: number; end: number } {
    const fp = r.fastPattern;
    if (fp === undefined) return { rank: NO_FAST_PATTERN_RANK, end: 0 };
    const b = bufferOf(s, fp.buf, undefined);
    if (b === undefined) return { rank: bufferRank(fp.buf), end: -1 };
    // fpEvalHeaderSW searches the content patterns (payload and file_data ones alike) in file_data_ptr first, then
    // in the payload: a tree whose pattern is in the file data comes in the first search
    const fd = fp.buf === 'pkt' || fp.buf === 'file_data' ? fileDataOf(s) : undefined;
    if (fd !== undefined) {
      const end = firstEnd(fd, lowerOf(s, fd), fp.bytes);
      if (end >= 0) return { rank: bufferRank(fp.buf), end };
      return { rank: PAYLOAD_AFTER_FILE_DATA_RANK, end: firstEnd(s.payload, lowerOf(s, s.payload), fp.bytes) };
    }
    return { rank: bufferRank(fp.buf), end: firstEnd(b, lowerOf(s, b), fp.bytes) };
  }

  private firstTurnKey(r: RulePlan, s: Subject): number {
    return snortTurns(
      [r],
      s.packet,
      (x) => this.patternPlace(x, s),
      (x) => this.tieOf(x.index),
    )[0]!.key;
  }

  /**
   * The rule's options without its flowbits checks (and `accept`), evaluated once per `stamp` (an evaluation of one
   * subject's candidates): what Snort's tree walk asks of a rule's non-flowbits nodes.
   */
  private statelessMatches(r: RulePlan, s: Subject, accept: ((r: RulePlan) => boolean) | undefined, stamp: number): boolean {
    const i = r.index;
    if (this.statelessStamp[i] !== stamp) {
      this.statelessStamp[i] = stamp;
      this.stats.evaluated++;
      this.statelessValue[i] = this.ruleMatches(r, s, false) && (accept === undefined || accept(r)) ? 1 : 0;
    }
    return this.statelessValue[i] === 1;
  }

  /** Evaluates in Snort's order (rule-tree.ts runTurns) a subject some of whose candidates depend on it. */
  private evaluateInOrder(
    s: Subject,
    cands: RuleList,
    done: number,
    out: Matches,
    accept: ((r: RulePlan) => boolean) | undefined,
    stamp: number,
    second = false,
  ): void {
    const doneRule = this.doneRule;
    const rules: RulePlan[] = [];
    for (let k = 0; k < cands.n; k++) {
      const i = cands.ids[k]!;
      if (doneRule[i] !== done) rules.push(this.rules.get(i));
    }
    const turns = snortTurns(
      rules,
      s.packet,
      (r) => this.patternPlace(r, s),
      (r) => this.tieOf(r.index),
    );
    const ev: TurnEvaluator = {
      matches: (r) => this.statelessMatches(r, s, accept, stamp),
      matched: (r) => doneRule[r.index] === done,
      setMatched: (r) => {
        if (doneRule[r.index] === done) return;
        doneRule[r.index] = done;
        this.stats.matched++;
      },
      sharing: (r, j) => this.shared.sharing(r, j),
      inTree: (r, tree) => {
        const { rank, end } = this.patternPlace(r, s);
        const { group } = treeOf(tree);
        return end >= 0 && (portGroupsOf(r, s.packet) & (1 << group)) !== 0 && treeKey(group, rank, end) === tree;
      },
    };
    const failedAfter = second ? new Set<RulePlan>() : undefined;
    runTurns(turns, s, this.decider, ev, out, this.order.reevaluate === true, failedAfter);
    if (failedAfter === undefined || failedAfter.size === 0) return;
    // the second detection (InspectionItem.detectTwice): the rules the first walk reached once a flowbits check had
    // failed in their tree are evaluated again, the others keep their cached result and queue nothing
    const from = out.rules.length;
    runTurns(
      turns.filter((t) => failedAfter.has(t.rule)),
      s,
      this.decider,
      ev,
      out,
      true,
    );
    for (let k = from; k < out.flags.length; k++) out.flags[k]! |= MATCH_SECOND;
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
    const out: Matches = { rules: [], flags: [] };
    const done = this.nextStamp();
    const subjects = subjectsOf(item, this.xbits);
    for (let si = 0; si < subjects.length; si++) {
      const s = subjects[si]!;
      const cands = this.candidates(s, patterns);
      this.stats.candidates += cands.n;
      let prior: Subject | undefined;
      const fresh = (r: RulePlan): boolean => {
        prior ??= makeSubject(p, {
          payload: before.payload,
          rebuilt: true,
          flow: s.flow,
          fromClient: s.fromClient,
          established: s.established,
          http: before.http[si],
          xbits: this.xbits,
        });
        return before.payload.length === 0 || !this.ruleMatches(r, prior);
      };
      this.evaluate(s, cands, done, out, fresh);
    }
    return this.decider.select(out, p, this.inline);
  }
}

/** Whether the rule reads honeywall's DNS or TLS buffer (not Snort's: its ip-rule quirk on rebuilt packets is not theirs). */
export function readsAppBuffer(r: RulePlan): boolean {
  for (const op of r.ops) if (op.op === 'set_buffer' && (op.buf === 'dns_query' || op.buf === 'tls_sni')) return true;
  return false;
}

/** Whether the rule has a flowbits isset / isnotset check (which can fail and mark its tree, rule-tree.ts). */
function checksFlowbits(r: RulePlan): boolean {
  for (const fb of r.flowbits) if (fb.cmd === 'isset' || fb.cmd === 'isnotset') return true;
  return false;
}

/** `m` without the rules in `drop` (their flags with them). */
function withoutRules(m: Matches, drop: ReadonlySet<object>): Matches {
  const out: Matches = { rules: [], flags: [] };
  for (let k = 0; k < m.rules.length; k++) {
    if (drop.has(m.rules[k]!)) continue;
    out.rules.push(m.rules[k]!);
    out.flags.push(m.flags[k]!);
  }
  return out;
}

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
