/**
 * The compiled matcher (src/match: `honeywall compile` artifact, `loadMatcher`, `Matcher.inspect`) behind the
 * gateway's PacketInspector interface, for HwIPS_MATCHER.
 *
 * Each queued datagram goes through this inspector's own packet pipeline (decode, defragmentation, flow tracking,
 * HTTP buffers) and every item it yields through the matcher. Inline, a verdict is due for the packet at hand, so
 * the pipeline does not reassemble TCP streams (a rebuilt segment is only flushed once the peer acknowledged the
 * data, i.e. after the packets have already been let through): rules see each packet as it is, as snort_inline
 * without stream reassembly did. Checksums are not verified (packets queued on the sending host may carry
 * offloaded, unfinished checksums).
 *
 * One direction only: the firewall queues what the honeypots send (new connections and established traffic), never
 * what comes in, so the inspector never sees a server's SYN-ACK and a strict stream tracker would never call a
 * session established (`flow:established` rules would never fire). A TCP packet without SYN is only queued once
 * conntrack has seen the reply, so before the first such packet of a session the inspector feeds its flow tracker
 * the reply it could not see (a SYN-ACK if it saw the SYN, else an ACK: a midstream pickup), uninspected.
 *
 * Variables (HOME_NET, ...) are compiled into the artifact (`honeywall compile --var HOME_NET=...`); the `vars`
 * given here are only compared with the ones the artifact records, if any.
 *
 * `sdrop`: the matcher runs inline, so sdrop events come back with the others (the packet processor drops without
 * logging). The matcher only returns up to `config event_queue: log N` events per packet: a blocking rule that
 * matched past those N is not seen (Snort would still drop).
 *
 * `replace`: the bytes are in the plan (each content's `replace`), applied to the packet at hand.
 */
import { existsSync } from 'node:fs';
import { flowKey } from '../flow/key.js';
import { PacketPipeline } from '../flow/pipeline.js';
import { buildIp } from '../packet/build.js';
import { formatIp } from '../packet/bytes.js';
import { readArtifact } from '../match/artifact.js';
import { Matcher } from '../match/engine.js';
import type { RulePlan } from '../match/plan.js';
import type { Packet } from '../packet/packet.js';
import type { RuleAction } from './alert-event.js';
import type { PacketInspector, RuleHit } from './inspector.js';

/** A `content` with `replace`: search for `bytes` in the payload (from `offset`, within `depth`), write `replace` there. */
interface Replacement {
  bytes: Uint8Array;
  replace: Uint8Array;
  nocase: boolean;
  offset: number;
  depth: number | undefined;
}

const RAW_IP = -1;
/** Sessions remembered for the one-direction handshake (oldest forgotten first). */
const MAX_TRACKED = 100_000;

export class MatcherInspector implements PacketInspector {
  private readonly pipeline = new PacketPipeline({
    decode: { verifyChecksums: false },
    flow: { reassembleClientPorts: 'none', reassembleServerPorts: 'none' },
  });
  /** TCP sessions of the queued side: 'syn' seen, or 'replied' (the unseen reply was fed in). */
  private readonly sessions = new Map<string, 'syn' | 'replied'>();

  /** Each rule's `replace` contents, made when the rule first fires. */
  private readonly replacements = new Map<RulePlan, Replacement[]>();

  constructor(
    readonly matcher: Matcher,
    readonly source: string,
    private readonly withReplace: number,
  ) {}

  get ruleCount(): number {
    return this.matcher.rules.count;
  }

  get description(): string {
    const repl = this.withReplace ? `, ${this.withReplace} with replace` : '';
    return `compiled matcher: ${this.ruleCount} rules from ${this.source}${repl}`;
  }

  inspect(p: Packet): RuleHit[] {
    if (p.tcp !== undefined) this.feedUnseenReply(p);
    const items = this.pipeline.push(RAW_IP, p.data, p.tsSec, p.tsUsec);
    let hits: RuleHit[] | undefined;
    for (const item of items) {
      const events = this.matcher.inspect(item);
      for (const e of events) {
        const r = e.rule;
        const replaced = r.action !== 'pass' && this.applyReplace(r, p);
        (hits ??= []).push({
          gid: r.gid, sid: r.sid, rev: r.rev, msg: r.msg, classtype: r.classtype, classification: r.classDescription,
          priority: r.priority, action: e.action as RuleAction, replaced,
        });
      }
    }
    return hits ?? [];
  }

  /** See the header: the reply half of a TCP session, which the firewall never queues. */
  private feedUnseenReply(p: Packet): void {
    const t = p.tcp!;
    const key = flowKey(p);
    if (key === undefined || t.flags & 0x04) return;
    const state = this.sessions.get(key);
    if (t.flags & 0x02) {
      if (!(t.flags & 0x10) && state === undefined) this.remember(key, 'syn');
      return;
    }
    if (state === 'replied') return;
    const ip = p.ip!;
    const reply = buildIp({
      ip: { src: formatIp(ip.dst), dst: formatIp(ip.src) },
      tcp: state === 'syn'
        ? { sport: p.dstPort, dport: p.srcPort, seq: (t.ack - 1) >>> 0, ack: t.seq, flags: 'SA' }
        : { sport: p.dstPort, dport: p.srcPort, seq: t.ack, ack: t.seq, flags: 'A' },
    });
    this.pipeline.push(RAW_IP, reply, p.tsSec, p.tsUsec);
    this.remember(key, 'replied');
  }

  private remember(key: string, state: 'syn' | 'replied'): void {
    this.sessions.delete(key);
    if (this.sessions.size >= MAX_TRACKED) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(key, state);
  }

  /** Writes the rule's replacements into the packet at hand (same length, payload only). */
  private applyReplace(rule: RulePlan, p: Packet): boolean {
    let list = this.replacements.get(rule);
    if (list === undefined) {
      list = replacementsOf(rule);
      this.replacements.set(rule, list);
    }
    if (list.length === 0 || p.payloadLength === 0) return false;
    const payload = p.payload;
    let done = false;
    for (const r of list) {
      const at = find(payload, r);
      if (at < 0) continue;
      const n = Math.min(r.replace.length, r.bytes.length, payload.length - at);
      p.data.set(r.replace.subarray(0, n), p.payloadOffset + at);
      done = true;
    }
    if (done) p.resetPayloadView();
    return done;
  }
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function find(hay: Uint8Array, r: Replacement): number {
  const end = Math.min(hay.length, r.depth !== undefined ? r.offset + r.depth : hay.length) - r.bytes.length;
  outer: for (let i = Math.max(0, r.offset); i <= end; i++) {
    for (let j = 0; j < r.bytes.length; j++) {
      const a = hay[i + j]!;
      const b = r.bytes[j]!;
      if (a !== b && !(r.nocase && lower(a) === lower(b))) continue outer;
    }
    return i;
  }
  return -1;
}

/** The `replace` contents of a rule (positive contents on the packet's payload), from its plan. */
function replacementsOf(rule: RulePlan): Replacement[] {
  const out: Replacement[] = [];
  for (const op of rule.ops) {
    if (op.op !== 'content' || op.negated || op.replace === undefined) continue;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    out.push({ bytes: op.bytes, replace: op.replace, nocase: op.nocase, offset: num(op.offset) ?? 0, depth: num(op.depth) });
  }
  return out;
}

/** Loads a matcher artifact as the gateway's inspector. Throws an Error with a one-line message when it cannot. */
export function loadMatcherInspector(path: string, vars: Record<string, string>): PacketInspector {
  if (!existsSync(path)) throw new Error(`HwIPS_MATCHER: ${path}: no such file`);
  let artifact: ReturnType<typeof readArtifact>;
  try {
    artifact = readArtifact(path);
  } catch (err) {
    throw new Error(`HwIPS_MATCHER: ${(err as Error).message}`);
  }
  const recorded = artifact.meta.vars as Record<string, string> | undefined;
  if (recorded !== undefined) {
    for (const [name, value] of Object.entries(vars)) {
      if (recorded[name] !== undefined && recorded[name] !== value) {
        throw new Error(`HwIPS_MATCHER: ${path} was compiled with ${name}=${recorded[name]}, the config says ${value} (recompile with --var ${name}=${value})`);
      }
    }
  }
  const matcher = new Matcher(artifact, undefined, { checksumMode: 'none', inline: true });
  return new MatcherInspector(matcher, path, artifact.replaceRules);
}
