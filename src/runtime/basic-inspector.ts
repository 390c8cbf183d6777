/**
 * A small rule interpreter for the packet path, used when no compiled matcher artifact is given:
 * header matching (protocol, address and port sets with variables, `->` / `<>`), `content` with
 * nocase / offset / depth / distance / within and negation, `replace`, `flow` direction and state
 * (from the TCP handshakes it sees), and the rule identity (msg, gid, sid, rev, classtype, priority).
 * Rules using any other detection keyword (pcre, byte_test, http_* buffers, flowbits, ...) are not
 * loaded here: they are counted in `skipped` with their reason, so nothing is silently half-matched.
 * Enough for the Honeynet test rules and small local rule sets; the compiled matcher (src/match)
 * is what runs a full rule set.
 */
import { readFileSync } from 'node:fs';
import type { RuleNode } from '../ast.js';
import { defaultClassifications, type Classification } from '../config/classification.js';
import { addressMatches, portMatches, resolveAddress, resolvePorts, VariableTable, type AddressSet, type PortSet } from '../config/variables.js';
import type { ContentArgs } from '../keywords/content.js';
import type { FlowArgs } from '../keywords/non-payload.js';
import { flowKey } from '../flow/key.js';
import type { Packet } from '../packet/packet.js';
import { parseRules } from '../parser/parse.js';
import { LineMap } from '../diagnostics/diagnostic.js';
import type { RuleAction } from './alert-event.js';
import type { PacketInspector, RuleHit } from './inspector.js';

/** Keywords that only describe the rule (or whose effect is outside the packet path). */
const DESCRIPTIVE = new Set(['msg', 'sid', 'gid', 'rev', 'classtype', 'priority', 'reference', 'metadata', 'content', 'uricontent', 'flow',
  'nocase', 'depth', 'offset', 'distance', 'within', 'replace', 'rawbytes', 'fast_pattern']);

interface ContentTest {
  bytes: Uint8Array;
  lower: Uint8Array | undefined;
  negated: boolean;
  offset: number;
  depth: number | undefined;
  distance: number | undefined;
  within: number | undefined;
  relative: boolean;
  replace: Uint8Array | undefined;
}

interface BasicRule {
  action: RuleAction;
  proto: 'tcp' | 'udp' | 'icmp' | 'ip';
  src: AddressSet;
  dst: AddressSet;
  sport: PortSet;
  dport: PortSet;
  bidirectional: boolean;
  contents: ContentTest[];
  flow: FlowArgs | undefined;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | undefined;
  classification: Classification | undefined;
  priority: number;
}

export interface SkippedRule {
  sid: number | undefined;
  line: number;
  reason: string;
}

export interface BasicInspectorOptions {
  /** Variables as NAME -> value text (HOME_NET, EXTERNAL_NET, HTTP_PORTS, ...), over Snort's defaults. */
  vars?: Record<string, string>;
  /** Extra classifications (name -> description, priority). */
  classifications?: Map<string, Classification>;
}

/** Snort 2.9 default order: drop, sdrop, reject, alert, pass, log (pass-first is not applied here). */
const ORDER: Record<RuleAction, number> = { drop: 0, sdrop: 1, reject: 2, alert: 3, pass: 4, log: 5 };

/** TCP sessions seen opening, to tell the client from the server. */
interface SessionSide {
  client: string;
  established: boolean;
  expires: number;
}

const SESSION_TTL_MS = 10 * 60_000;
const MAX_SESSIONS = 100_000;

export class BasicInspector implements PacketInspector {
  readonly rules: BasicRule[] = [];
  readonly skipped: SkippedRule[] = [];
  private readonly sessions = new Map<string, SessionSide>();

  constructor(
    rulesText: string,
    readonly source: string,
    opts: BasicInspectorOptions = {},
  ) {
    const vars = VariableTable.withDefaults();
    for (const [name, value] of Object.entries(opts.vars ?? {})) {
      vars.set({ kind: /PORT/.test(name) ? 'portvar' : 'ipvar', name, value, origin: 'honeywall.conf' });
    }
    const classes = opts.classifications ?? defaultClassifications();
    const { file } = parseRules(rulesText, { file: source });
    const lines = new LineMap(rulesText);
    for (const node of file.nodes) {
      if (node.kind !== 'rule' || node.disabled) continue;
      const r = this.compile(node, vars, classes);
      if (typeof r === 'string') this.skipped.push({ sid: node.sid, line: lines.position(node.span.start).line, reason: r });
      else this.rules.push(r);
    }
    this.rules.sort((a, b) => ORDER[a.action] - ORDER[b.action]);
  }

  static fromFile(path: string, opts: BasicInspectorOptions = {}): BasicInspector {
    return new BasicInspector(readFileSync(path, 'utf8'), path, opts);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  get description(): string {
    return `basic rule interpreter: ${this.rules.length} rules from ${this.source}` + (this.skipped.length ? `, ${this.skipped.length} skipped (unsupported keywords)` : '');
  }

  private compile(node: RuleNode, vars: VariableTable, classes: Map<string, Classification>): BasicRule | string {
    if (node.invalid) return 'the rule has errors';
    const action = node.header.action.value;
    if (action === 'activate' || action === 'dynamic') return `action ${action} is not supported`;
    const contents: ContentTest[] = [];
    let flow: FlowArgs | undefined;
    let priority: number | undefined;
    for (const o of node.options) {
      if (!DESCRIPTIVE.has(o.keyword)) return `keyword ${o.keyword} is not supported by the basic interpreter`;
      if (o.keyword === 'content' || o.keyword === 'uricontent') {
        const c = o.args as ContentArgs | undefined;
        if (!c) return `content did not parse`;
        if (c.uricontent || c.mods.buffer !== undefined) return `HTTP buffers are not supported by the basic interpreter`;
        const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : v === undefined ? undefined : NaN);
        const t: ContentTest = {
          bytes: c.bytes,
          lower: c.mods.nocase ? lowerBytes(c.bytes) : undefined,
          negated: c.negated,
          offset: num(c.mods.offset) ?? 0,
          depth: num(c.mods.depth),
          distance: num(c.mods.distance),
          within: num(c.mods.within),
          relative: c.mods.distance !== undefined || c.mods.within !== undefined,
          replace: c.mods.replace,
        };
        if ([t.offset, t.depth, t.distance, t.within].some((v) => Number.isNaN(v))) return 'byte_extract variables are not supported';
        contents.push(t);
      } else if (o.keyword === 'flow') {
        flow = o.args as FlowArgs | undefined;
      } else if (o.keyword === 'priority') {
        priority = o.args as number | undefined;
      }
    }
    let src: AddressSet, dst: AddressSet, sport: PortSet, dport: PortSet;
    try {
      src = resolveAddress(node.header.src.value, vars);
      dst = resolveAddress(node.header.dst.value, vars);
      sport = resolvePorts(node.header.srcPort.value, vars);
      dport = resolvePorts(node.header.dstPort.value, vars);
    } catch (err) {
      return (err as Error).message;
    }
    const cls = node.classtype !== undefined ? classes.get(node.classtype) : undefined;
    return {
      action: action as RuleAction,
      proto: node.header.protocol.value,
      src, dst, sport, dport,
      bidirectional: node.header.direction.value === '<>',
      contents,
      flow,
      gid: node.gid,
      sid: node.sid ?? 0,
      rev: node.rev ?? 0,
      msg: node.msg ?? '',
      classtype: node.classtype,
      classification: cls,
      priority: priority ?? cls?.priority ?? 3,
    };
  }

  inspect(p: Packet): RuleHit[] {
    const ip = p.ip;
    if (ip === undefined) return [];
    const now = Date.now();
    const side = this.track(p, now);
    const hits: RuleHit[] = [];
    for (const r of this.rules) {
      if (!protoMatches(r.proto, p)) continue;
      const sp = p.srcPort;
      const dp = p.dstPort;
      const fwd = addressMatches(r.src, ip.src) && addressMatches(r.dst, ip.dst) && (sp < 0 || (portMatches(r.sport, sp) && portMatches(r.dport, dp)));
      const back = r.bidirectional && addressMatches(r.src, ip.dst) && addressMatches(r.dst, ip.src) && (sp < 0 || (portMatches(r.sport, dp) && portMatches(r.dport, sp)));
      if (!fwd && !back) continue;
      if (r.flow && !flowMatches(r.flow, p, side)) continue;
      const at = r.contents.length ? matchContents(r.contents, p.payload, 0, 0, []) : [];
      if (at === undefined) continue;
      let replaced = false;
      if (r.action !== 'pass') {
        r.contents.forEach((c, i) => {
          const pos = at[i];
          if (c.replace !== undefined && !c.negated && pos !== undefined && pos >= 0) {
            const n = Math.min(c.replace.length, c.bytes.length);
            p.data.set(c.replace.subarray(0, n), p.payloadOffset + pos);
            replaced = true;
          }
        });
      }
      if (replaced) p.resetPayloadView();
      hits.push({
        gid: r.gid, sid: r.sid, rev: r.rev, msg: r.msg, classtype: r.classtype, classification: r.classification?.description,
        priority: r.priority, action: r.action, replaced,
      });
      if (r.action === 'pass') break;
    }
    return hits;
  }

  /** Learns TCP clients from SYNs; returns what is known of this packet's session. */
  private track(p: Packet, now: number): { toServer: boolean | undefined; established: boolean } {
    const key = flowKey(p);
    const ip = p.ip!;
    const me = `${ip.src.join('.')}:${p.srcPort}`;
    if (p.tcp === undefined || key === undefined) {
      return { toServer: p.srcPort >= 0 ? p.srcPort > p.dstPort : undefined, established: p.udp !== undefined };
    }
    const f = p.tcp.flags;
    let s = this.sessions.get(key);
    if (s !== undefined && s.expires < now) {
      this.sessions.delete(key);
      s = undefined;
    }
    if (s === undefined && f & 0x02) {
      // SYN: the sender is the client; SYN|ACK: the receiver is.
      const client = f & 0x10 ? `${ip.dst.join('.')}:${p.dstPort}` : me;
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
      s = { client, established: false, expires: now + SESSION_TTL_MS };
      this.sessions.set(key, s);
    }
    if (s === undefined) return { toServer: p.srcPort > p.dstPort, established: (f & 0x02) === 0 && (f & 0x10) !== 0 };
    s.expires = now + SESSION_TTL_MS;
    if (!(f & 0x02) && f & 0x10) s.established = true;
    if (f & 0x05) {
      // FIN or RST: keep the entry for the rest of the exchange, it expires by itself.
      s.expires = Math.min(s.expires, now + 30_000);
    }
    return { toServer: s.client === me, established: s.established };
  }
}


function protoMatches(proto: BasicRule['proto'], p: Packet): boolean {
  switch (proto) {
    case 'ip': return true;
    case 'tcp': return p.tcp !== undefined;
    case 'udp': return p.udp !== undefined;
    case 'icmp': return p.icmp !== undefined || p.icmp6 !== undefined;
  }
}

function flowMatches(f: FlowArgs, p: Packet, side: { toServer: boolean | undefined; established: boolean }): boolean {
  if (f.direction !== undefined) {
    if (side.toServer === undefined) return false;
    if ((f.direction === 'to_server') !== side.toServer) return false;
  }
  if (f.state === 'established' && !side.established) return false;
  if (f.state === 'not_established' && side.established) return false;
  return true;
}

function lowerBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out[i] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
  }
  return out;
}

function eqAt(data: Uint8Array, at: number, pat: Uint8Array, lower: Uint8Array | undefined): boolean {
  for (let i = 0; i < pat.length; i++) {
    let c = data[at + i]!;
    if (lower !== undefined) {
      if (c >= 0x41 && c <= 0x5a) c += 32;
      if (c !== lower[i]) return false;
    } else if (c !== pat[i]) return false;
  }
  return true;
}

/**
 * Match contents[i..] against data; `cursor` is the end of the previous match. Returns the match
 * position of every content (-1 for negated ones), or undefined. Backtracks like Snort does.
 */
function matchContents(cs: ContentTest[], data: Uint8Array, i: number, cursor: number, acc: number[]): number[] | undefined {
  if (i === cs.length) return acc;
  const c = cs[i]!;
  let start: number;
  let end: number;
  if (c.relative) {
    start = cursor + (c.distance ?? 0);
    end = c.within !== undefined ? start + c.within : data.length;
  } else {
    start = c.offset;
    end = c.depth !== undefined ? start + c.depth : data.length;
  }
  start = Math.max(0, start);
  end = Math.min(end, data.length);
  const last = end - c.bytes.length;
  if (c.negated) {
    for (let at = start; at <= last; at++) if (eqAt(data, at, c.bytes, c.lower)) return undefined;
    return matchContents(cs, data, i + 1, cursor, [...acc, -1]);
  }
  for (let at = start; at <= last; at++) {
    if (!eqAt(data, at, c.bytes, c.lower)) continue;
    const r = matchContents(cs, data, i + 1, at + c.bytes.length, [...acc, at]);
    if (r !== undefined) return r;
  }
  return undefined;
}
