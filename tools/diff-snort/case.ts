/**
 * A generated case: what it tests (its area), its traffic as frames between a client and a server, and its rules.
 * Plain data (JSON, with byte arrays as arrays), so a case can be written as a fixture and shrunk by fast-check.
 * Addresses, sids and capture bytes are given only when the case is rendered into a slot of a batch: slot `s` has its
 * own two addresses and its own sid range, so the cases of one batch never see each other's traffic or rules.
 */
import { buildIp, ethernet, fragmentDatagram, type PacketSpec } from '../../src/packet/build.js';
import { encodePcap } from '../../src/packet/pcap-encode.js';

export const AREAS = ['payload', 'flowbits', 'threshold', 'event-queue', 'ip-only', 'tcp-stream', 'http', 'fragments', 'sampled'] as const;
/** Areas run only when named (`--area smb`): the default mix, and so the figures recorded for it, stay as they were. */
export const OPT_IN_AREAS = ['smb'] as const;
export const ALL_AREAS = [...AREAS, ...OPT_IN_AREAS] as const;
export type Area = (typeof ALL_AREAS)[number];

/** Which way a frame goes. */
export type Dir = 'c2s' | 's2c';

export type Frame =
  | { kind: 'tcp'; dir: Dir; seq: number; ack: number; flags: string; payload: number[]; dt: number }
  | { kind: 'udp'; dir: Dir; payload: number[]; dt: number }
  | { kind: 'icmp'; dir: Dir; type: number; code: number; payload: number[]; dt: number }
  | { kind: 'ip'; dir: Dir; proto: number; ttl: number; payload: number[]; dt: number }
  /** A UDP, ICMP or TCP datagram cut into fragments of `size` bytes, sent in `order` (indexes; repeats allowed). */
  | { kind: 'frag'; dir: Dir; inner: Exclude<Frame, { kind: 'frag' }>; size: number; order: number[]; id: number; dt: number };

/** A rule address: the client, the server, or either of the two (in place of `any`). */
export type Addr = 'client' | 'server' | 'both';

export interface RuleSpec {
  action: 'alert' | 'pass' | 'drop';
  proto: 'tcp' | 'udp' | 'icmp' | 'ip';
  src: Addr;
  sport: string;
  dir: '->' | '<>';
  dst: Addr;
  dport: string;
  /** The options without msg, sid and rev, each ending with `;`. */
  body: string;
}

export interface Case {
  area: Area;
  /** Whether the client is in HOME_NET (the server is then external), or the server is. */
  clientHome: boolean;
  cport: number;
  sport: number;
  frames: Frame[];
  rules: RuleSpec[];
}

/** At most this many rules per case: the sids of slot s are SID_BASE + s * RULES_PER_SLOT + k. */
export const RULES_PER_SLOT = 100;
export const SID_BASE = 1_000_000;
/** Slots per batch: the two octets that tell the slots' addresses apart. */
export const MAX_SLOTS = 65_536;
/** Every capture starts at this time (Snort and honeywall reset between captures, so cases may share it). */
const T0 = 1_600_000_000;

export interface SlotAddresses {
  home: string;
  external: string;
}

/** Slot s: a HOME_NET address (RFC 1918, as base.conf's HOME_NET) and an external one (198.18.0.0/15, benchmark). */
export function slotAddresses(slot: number): SlotAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new Error(`slot ${slot} out of range`);
  const hi = slot >> 8;
  const lo = slot & 255;
  return { home: `10.${hi}.${lo}.10`, external: `198.18.${hi}.${lo}` };
}

export function slotOfSid(sid: number): number {
  return Math.floor((sid - SID_BASE) / RULES_PER_SLOT);
}

export function slotOfAddress(ip: string): number | undefined {
  let m = /^10\.(\d+)\.(\d+)\.10$/.exec(ip);
  if (!m) m = /^198\.18\.(\d+)\.(\d+)$/.exec(ip);
  return m ? Number(m[1]) * 256 + Number(m[2]) : undefined;
}

function endpoints(c: Case, slot: number): { client: string; server: string } {
  const a = slotAddresses(slot);
  return c.clientHome ? { client: a.home, server: a.external } : { client: a.external, server: a.home };
}

export function renderRules(c: Case, slot: number): string[] {
  if (c.rules.length > RULES_PER_SLOT) throw new Error(`a case has at most ${RULES_PER_SLOT} rules`);
  const ep = endpoints(c, slot);
  const addr = (a: Addr) => (a === 'client' ? ep.client : a === 'server' ? ep.server : `[${ep.client},${ep.server}]`);
  return c.rules.map((r, k) => {
    const sid = SID_BASE + slot * RULES_PER_SLOT + k;
    return `${r.action} ${r.proto} ${addr(r.src)} ${r.sport} ${r.dir} ${addr(r.dst)} ${r.dport} (msg:"ds ${c.area} ${slot}.${k}"; ${r.body} sid:${sid}; rev:1;)`;
  });
}

function spec(c: Case, f: Exclude<Frame, { kind: 'frag' }>, ep: { client: string; server: string }, ipId: number): PacketSpec {
  const fromClient = f.dir === 'c2s';
  const ip = { src: fromClient ? ep.client : ep.server, dst: fromClient ? ep.server : ep.client, id: ipId, ttl: f.kind === 'ip' ? f.ttl : 64 };
  const sp = fromClient ? c.cport : c.sport;
  const dp = fromClient ? c.sport : c.cport;
  const payload = Uint8Array.from(f.payload);
  switch (f.kind) {
    case 'tcp':
      return { ip, tcp: { sport: sp, dport: dp, seq: f.seq >>> 0, ack: f.ack >>> 0, flags: f.flags, window: 8192 }, payload };
    case 'udp':
      return { ip, udp: { sport: sp, dport: dp }, payload };
    case 'icmp':
      return { ip, icmp: { type: f.type, code: f.code, id: c.cport, seq: 1 }, payload };
    case 'ip':
      return { ip, proto: f.proto, payload };
  }
}

/** The case's capture (Ethernet, microsecond pcap). */
export function renderPcap(c: Case, slot: number): Uint8Array {
  const ep = endpoints(c, slot);
  const packets: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];
  let ms = 0;
  c.frames.forEach((f, i) => {
    ms += f.dt;
    const ts = { tsSec: T0 + Math.floor(ms / 1000), tsUsec: (ms % 1000) * 1000 };
    if (f.kind !== 'frag') {
      packets.push({ ...ts, data: ethernet(buildIp(spec(c, f, ep, 100 + i))) });
      return;
    }
    const whole = buildIp(spec(c, f.inner, ep, f.id));
    const pieces = fragmentDatagram(whole, f.size, f.id);
    for (const k of f.order) {
      const piece = pieces[k % pieces.length]!;
      packets.push({ ...ts, data: ethernet(k >= 64 ? tampered(piece) : piece) });
    }
  });
  return encodePcap(packets, { linktype: 1 });
}

/** A copy of an IPv4 fragment with other payload bytes (an overlap that disagrees; the header checksum is unchanged). */
function tampered(fragment: Uint8Array): Uint8Array {
  const out = fragment.slice();
  const hlen = (out[0]! & 0x0f) * 4;
  for (let i = hlen; i < out.length; i++) out[i] = out[i]! ^ 0x20;
  return out;
}

/** A case as a line of JSON (fixtures, reports). */
export function caseJson(c: Case): string {
  return JSON.stringify(c);
}
