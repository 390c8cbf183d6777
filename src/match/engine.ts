/**
 * The compiled matcher: per protocol class and buffer, an Aho-Corasick automaton over the rules' fast patterns finds
 * candidate rules; rules without a fast pattern are always candidates; each candidate is checked (header, flow,
 * non-payload options, then payload options with `verify.ts`). Loaded from a plan (and prebuilt automata from an
 * artifact) without parsing rules.
 */
import type { InspectionItem } from '../flow/pipeline.js';
import { buildAutomaton, scanAutomaton, type AutomatonTables } from './aho-corasick.js';
import { addressIn, fastAddress, fastPorts, portIn, type FastAddress } from './header-sets.js';
import { protoOk } from './leaf-ops.js';
import type { Packet } from '../packet/packet.js';
import type { IpHeader } from '../packet/types.js';
import { EventDecider, headerMatches, NO_EVENTS, nonPayloadMatches, ruleOrder, subjectsOf, type MatchEvent } from './decide.js';
import type { AddressSet, PortSet } from '../config/variables.js';
import type { BufferName, MatcherPlan, PcreOp, RulePlan } from './plan.js';
import { loadEngine } from '../native/engine.js';
import { ItemBudget, LimitCounters, RULE_OPS_LIMIT } from './budget.js';
import { compilePcre, type CompiledPcre } from './pcre-exec.js';
import { bufferOf, type Subject } from './subject.js';
import { runOps, type VerifyContext } from './verify.js';

export type ProtoClass = 'tcp' | 'udp' | 'icmp' | 'other';
export const PROTO_CLASSES: ProtoClass[] = ['tcp', 'udp', 'icmp', 'other'];

/** One automaton and, per pattern, the rules whose fast pattern it is. */
export interface PrefilterGroup {
  proto: ProtoClass;
  buf: BufferName;
  automaton: AutomatonTables;
  ruleStart: Int32Array;
  ruleIds: Int32Array;
}

function appliesTo(rule: RulePlan, c: ProtoClass): boolean {
  if (rule.proto === 'ip') return true;
  return rule.proto === c;
}

function classOf(p: { tcp?: unknown; udp?: unknown; icmp?: unknown; icmp6?: unknown }): ProtoClass {
  if (p.tcp !== undefined) return 'tcp';
  if (p.udp !== undefined) return 'udp';
  if (p.icmp !== undefined || p.icmp6 !== undefined) return 'icmp';
  return 'other';
}

/** Builds the prefilter groups of a plan (done at compile time and stored in the artifact). */
export function buildPrefilter(plan: MatcherPlan): PrefilterGroup[] {
  const groups: PrefilterGroup[] = [];
  for (const proto of PROTO_CLASSES) {
    const byBuf = new Map<BufferName, RulePlan[]>();
    for (const r of plan.rules) {
      if (!r.fastPattern || !appliesTo(r, proto)) continue;
      const l = byBuf.get(r.fastPattern.buf) ?? [];
      l.push(r);
      byBuf.set(r.fastPattern.buf, l);
    }
    for (const [buf, rules] of byBuf) {
      const ids = new Map<string, number>();
      const patterns: Uint8Array[] = [];
      const rulesOf: number[][] = [];
      for (const r of rules) {
        const fp = r.fastPattern!;
        const key = Buffer.from(fp.bytes.map((c) => (c >= 65 && c <= 90 ? c + 32 : c))).toString('latin1');
        let id = ids.get(key);
        if (id === undefined) {
          id = patterns.length;
          ids.set(key, id);
          patterns.push(fp.bytes);
          rulesOf.push([]);
        }
        rulesOf[id]!.push(r.index);
      }
      const ruleStart = new Int32Array(patterns.length + 1);
      let n = 0;
      rulesOf.forEach((l, i) => {
        ruleStart[i] = n;
        n += l.length;
      });
      ruleStart[patterns.length] = n;
      const ruleIds = new Int32Array(n);
      rulesOf.forEach((l, i) => ruleIds.set(l, ruleStart[i]!));
      groups.push({ proto, buf, automaton: buildAutomaton(patterns), ruleStart, ruleIds });
    }
  }
  return groups;
}

/**
 * Rules without a fast pattern, indexed by address: the IP reputation rules (`alert tcp [hundreds of addresses] any
 * -> $HOME_NET any`) would otherwise be tried on every packet. A rule whose source (else destination) is a plain list
 * of networks of /16 or longer is filed under each network's first two bytes; the others are always tried.
 */
export class NoFastPatternIndex {
  readonly generic: RulePlan[] = [];
  private readonly bySrc = new Map<number, RulePlan[]>();
  private readonly byDst = new Map<number, RulePlan[]>();

  private readonly byDstPort = new Map<number, RulePlan[]>();
  private readonly bySrcPort = new Map<number, RulePlan[]>();

  constructor(rules: RulePlan[]) {
    for (const r of rules) {
      const src = r.bidirectional ? undefined : keys16(r.src);
      const dst = r.bidirectional || src ? undefined : keys16(r.dst);
      if (src) for (const k of src) push(this.bySrc, k, r);
      else if (dst) for (const k of dst) push(this.byDst, k, r);
      else {
        // then by port: a TCP/UDP rule whose destination (else source) ports are a short list
        const ports = r.proto === 'tcp' || r.proto === 'udp';
        const dp = ports && !r.bidirectional ? portList(r.dstPorts) : undefined;
        const sp = ports && !r.bidirectional && !dp ? portList(r.srcPorts) : undefined;
        if (dp) for (const p of dp) push(this.byDstPort, p, r);
        else if (sp) for (const p of sp) push(this.bySrcPort, p, r);
        else this.generic.push(r);
      }
    }
  }

  /** Candidates for a packet with these addresses and ports (-1 without ports); each rule at most once. */
  candidates(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, out: RulePlan[]): void {
    for (const r of this.generic) out.push(r);
    if (dport >= 0) {
      const d = this.byDstPort.get(dport);
      if (d) for (const r of d) out.push(r);
      const s = this.bySrcPort.get(sport);
      if (s) for (const r of s) out.push(r);
    }
    const v6 = src.length === 16 ? 0x10000 : 0;
    const a = this.bySrc.get(v6 | (src[0]! << 8) | src[1]!);
    if (a) for (const r of a) out.push(r);
    const b = this.byDst.get(v6 | (dst[0]! << 8) | dst[1]!);
    if (b) for (const r of b) out.push(r);
  }
}

function push(m: Map<number, RulePlan[]>, k: number, r: RulePlan): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, [r]);
  else if (l[l.length - 1] !== r) l.push(r);
}

/** The ports of a set when there are at most 1024 of them (else undefined). */
function portList(set: PortSet): number[] | undefined {
  if (set.any && set.exclude.length === 0) return undefined;
  const bits = fastPorts(set);
  const out: number[] = [];
  for (let p = 0; p < 65536; p++) {
    if (bits[p >> 3]! & (1 << (p & 7))) {
      out.push(p);
      if (out.length > 1024) return undefined;
    }
  }
  return out;
}

/** The keys (first two bytes, IPv6 flagged) of an address set made only of networks of /16 or longer (else undefined). */
function keys16(set: AddressSet): number[] | undefined {
  if (set.any || set.exclude.length > 0 || set.include.length === 0) return undefined;
  const out = new Set<number>();
  for (const e of set.include) {
    if ('kind' in e) {
      if (e.prefix < 16) return undefined;
      out.add((e.family === 6 ? 0x10000 : 0) | (e.addr[0]! << 8) | e.addr[1]!);
    } else {
      const inner = keys16(e);
      if (!inner) return undefined;
      for (const k of inner) out.add(k);
    }
  }
  return [...out];
}

export interface MatcherStats {
  items: number;
  inspected: number;
  badChecksumSkipped: number;
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
}

export class Matcher {
  readonly plan: MatcherPlan;
  readonly stats: MatcherStats = {
    items: 0, inspected: 0, badChecksumSkipped: 0, candidates: 0, evaluated: 0, matched: 0, ruleOps: 0, pcreCalls: 0, pcreSteps: 0, searchBytes: 0,
  };
  private readonly decider: EventDecider;
  private readonly groups: Map<ProtoClass, PrefilterGroup[]>;
  private readonly noFp: Map<ProtoClass, NoFastPatternIndex>;
  /** Compiled on first use: a rule set's patterns are mostly never reached by a given capture. */
  private readonly regexes = new Map<PcreOp, CompiledPcre>();
  /** Limits reached (budget.ts), in total and per rule. */
  readonly limits = new LimitCounters();
  private readonly itemBudget = new ItemBudget();
  private readonly seenPattern: Int32Array;
  private readonly seenRule: Int32Array;
  private stamp = 0;
  private readonly checksumMode: 'all' | 'none';
  private readonly vars = new Int32Array(2);
  /** Lower-cased buffers per subject (nocase searches), dropped with the subject. */
  private readonly lowerCache = new WeakMap<Subject, Map<Uint8Array, Buffer>>();
  /** Evaluation order: rules that set flowbits first, then rule order. */
  private readonly orderKey: Int32Array;
  private readonly doneRule: Int32Array;
  private readonly srcAddr: FastAddress[];
  private readonly dstAddr: FastAddress[];
  private readonly srcPortBits: Uint8Array[];
  private readonly dstPortBits: Uint8Array[];
  private readonly setsFlowbits: Uint8Array;
  private readonly cands: RulePlan[] = [];
  private readonly stateSeen = new Map<PrefilterGroup, Int32Array>();
  private hitGroup: PrefilterGroup | undefined;
  private hitStamp = 0;
  /** Prefilter hit: the rules of pattern `id` of the group being scanned become candidates (once each). */
  private readonly onHit = (id: number): void => {
    const g = this.hitGroup!;
    const rules = this.plan.rules;
    const seenRule = this.seenRule;
    const stamp = this.hitStamp;
    for (let j = g.ruleStart[id]!; j < g.ruleStart[id + 1]!; j++) {
      const ri = g.ruleIds[j]!;
      if (seenRule[ri] !== stamp) {
        seenRule[ri] = stamp;
        this.cands.push(rules[ri]!);
      }
    }
  };
  private readonly ctx: VerifyContext;

  readonly prefilter: PrefilterGroup[];

  constructor(plan: MatcherPlan, prefilter: PrefilterGroup[] = buildPrefilter(plan), opts: MatcherOptions = {}) {
    this.plan = plan;
    this.prefilter = prefilter;
    this.decider = new EventDecider(plan);
    this.checksumMode = opts.checksumMode ?? 'all';
    this.groups = new Map(PROTO_CLASSES.map((c) => [c, prefilter.filter((g) => g.proto === c)]));
    this.noFp = new Map(PROTO_CLASSES.map((c) => [c, new NoFastPatternIndex(plan.rules.filter((r) => !r.fastPattern && appliesTo(r, c)))]));
    let maxPatterns = 0;
    for (const g of prefilter) maxPatterns = Math.max(maxPatterns, g.automaton.patterns);
    this.seenPattern = new Int32Array(maxPatterns);
    this.seenRule = new Int32Array(plan.rules.length);
    this.doneRule = new Int32Array(plan.rules.length);
    this.orderKey = new Int32Array(plan.rules.length);
    const sorted = plan.rules.slice().sort(ruleOrder);
    sorted.forEach((r, i) => (this.orderKey[r.index] = i));
    // header sets in their fast forms and every regular expression, up front (load time, not first packet)
    this.srcAddr = plan.rules.map((r) => fastAddress(r.src));
    this.dstAddr = plan.rules.map((r) => fastAddress(r.dst));
    this.srcPortBits = plan.rules.map((r) => fastPorts(r.srcPorts));
    this.dstPortBits = plan.rules.map((r) => fastPorts(r.dstPorts));
    const setters = countSetters(plan.rules);
    this.setsFlowbits = Uint8Array.from(plan.rules, (r) => (this.orderKey[r.index]! < setters ? 1 : 0));
    const engine = loadEngine();
    this.ctx = {
      subject: undefined as unknown as Subject, vars: this.vars, base64: undefined, ops: RULE_OPS_LIMIT, item: this.itemBudget,
      limit: undefined, pcreOf: this.pcreOf, engine, lastMatch: engine.lastMatch(), lower: new Map(), work: this.stats,
    };
  }

  private pcreOf = (op: PcreOp): CompiledPcre => {
    let c = this.regexes.get(op);
    if (c === undefined) {
      c = compilePcre(op, this.ctx.engine);
      this.regexes.set(op, c);
    }
    return c;
  };

  /** Does the rule match this subject (header, non-payload and payload options)? */
  ruleMatches(rule: RulePlan, s: Subject): boolean {
    if (rule.fastPattern !== undefined && s.streamInserted) return false;
    if (rule.fastPattern === undefined && s.onlyFastPattern) return false;
    // Snort 2.9.20 (flow-drop-iponly-01, ips-state-1): ip rules without content never fire on rebuilt packets
    if (rule.proto === 'ip' && rule.fastPattern === undefined && s.rebuilt) return false;
    if (!this.headerOk(rule, s.packet)) return false;
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

  /** headerMatches (decide.ts) with the rule's sets in their fast forms. */
  private headerOk(rule: RulePlan, p: Packet): boolean {
    if (!protoOk(rule, p)) return false;
    const i = rule.index;
    const ip = p.ip!;
    if (rule.proto === 'tcp' || rule.proto === 'udp') {
      const sp = p.srcPort;
      const dp = p.dstPort;
      if (portIn(this.srcPortBits[i]!, sp) && portIn(this.dstPortBits[i]!, dp) && addressIn(this.srcAddr[i]!, ip.src) && addressIn(this.dstAddr[i]!, ip.dst)) return true;
      if (!rule.bidirectional) return false;
      return portIn(this.srcPortBits[i]!, dp) && portIn(this.dstPortBits[i]!, sp) && addressIn(this.srcAddr[i]!, ip.dst) && addressIn(this.dstAddr[i]!, ip.src);
    }
    return headerMatches(rule, p, this.addressesOk);
  }

  private addressesOk = (rule: RulePlan, _p: Packet, ip: IpHeader): boolean => {
    const i = rule.index;
    if (addressIn(this.srcAddr[i]!, ip.src) && addressIn(this.dstAddr[i]!, ip.dst)) return true;
    return rule.bidirectional && addressIn(this.srcAddr[i]!, ip.dst) && addressIn(this.dstAddr[i]!, ip.src);
  };

  private nextStamp(): number {
    this.stamp++;
    if (this.stamp > 0x3fffffff) {
      this.stamp = 1;
      this.seenPattern.fill(0);
      this.seenRule.fill(0);
      this.doneRule.fill(0);
      this.stateSeen.clear();
    }
    return this.stamp;
  }

  /** Candidate rules of a subject: every rule without a fast pattern, plus those whose fast pattern occurs. */
  candidates(s: Subject): RulePlan[] {
    const cls = classOf(s.packet);
    const out = this.cands;
    out.length = 0;
    const ip = s.packet.ip!;
    this.noFp.get(cls)!.candidates(ip.src, ip.dst, s.packet.srcPort, s.packet.dstPort, out);
    if (s.streamInserted) return out;
    const stamp = this.nextStamp();
    for (const g of this.groups.get(cls)!) {
      const b = bufferFor(s, g.buf);
      if (b === undefined || b.length === 0) continue;
      const pstamp = this.nextStamp();
      let st = this.stateSeen.get(g);
      if (st === undefined) {
        st = new Int32Array(g.automaton.hasOut.length);
        this.stateSeen.set(g, st);
      }
      this.hitGroup = g;
      this.hitStamp = stamp;
      scanAutomaton(g.automaton, b, this.seenPattern, pstamp, this.onHit, st);
    }
    return out;
  }

  /** Inspects one pipeline item; returns the events logged for it. */
  inspect(item: InspectionItem): MatchEvent[] {
    this.stats.items++;
    const p = item.packet;
    if (p.ip === undefined) return NO_EVENTS;
    if (this.checksumMode === 'all' && p.badChecksum && item.kind === 'packet') {
      this.stats.badChecksumSkipped++;
      return NO_EVENTS;
    }
    this.stats.inspected++;
    this.itemBudget.reset(itemBytes(item));
    const matched: RulePlan[] = [];
    const done = this.nextStamp();
    const doneRule = this.doneRule;
    const setters = this.setsFlowbits;
    for (const s of subjectsOf(item)) {
      const cands = this.candidates(s);
      this.stats.candidates += cands.length;
      // rules that set flowbits first (their bits are visible to the others on the same packet), then the rest
      for (let pass = 1; pass >= 0; pass--) {
        for (let k = 0; k < cands.length; k++) {
          const r = cands[k]!;
          if (setters[r.index] !== pass || doneRule[r.index] === done) continue;
          this.stats.evaluated++;
          if (this.ruleMatches(r, s)) {
            doneRule[r.index] = done;
            this.stats.matched++;
            if (this.decider.applyFlowbits(r, s)) matched.push(r);
          }
        }
      }
    }
    return this.decider.select(matched, p);
  }
}

/** Bytes an item offers to the payload options: its payload and, for HTTP, each message's buffers. */
function itemBytes(item: InspectionItem): number {
  let n = item.packet.payloadLength;
  for (const h of item.http) {
    n += (h.uri?.length ?? 0) + (h.rawUri?.length ?? 0) + (h.header?.length ?? 0) + (h.rawHeader?.length ?? 0);
    n += (h.clientBody?.length ?? 0) + (h.fileData?.length ?? 0);
  }
  return n;
}

function countSetters(rules: RulePlan[]): number {
  let n = 0;
  for (const r of rules) if (r.flowbits.some((f) => f.cmd === 'set' || f.cmd === 'unset' || f.cmd === 'toggle' || f.cmd === 'reset')) n++;
  return n;
}

function bufferFor(s: Subject, name: BufferName): Uint8Array | undefined {
  return bufferOf(s, name, undefined);
}
