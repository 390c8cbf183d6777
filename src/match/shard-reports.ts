/**
 * A shard's reports of matched items (replay-shard.ts), as the thread that decides the events reads them: written by
 * the shard into one Float64Array per post, copied by the message (not transferred: replay-worker.ts says why), read
 * back into `ShardMatch`es there (replay.ts ShardedReplay).
 *
 * Why not the objects themselves: a worker's message is a structured clone, made field by field on one side and
 * again on the other, and each report carried an event packet with two address arrays (an ArrayBuffer each, 31,000
 * of them for the bench capture's 15,600 reports). A flat buffer is copied as one block and read with one loop.
 * Measured with the replay's chunked writes (cli/commands/replay.ts), the reading thread's CPU for the bench capture
 * went from 490-530 to 430-480 ms; the two-worker inspection's wall time moved within the host's noise (most of what
 * that thread costs is deciding and writing the events, which stays).
 */
import type { EventPacket } from './decide.js';

/** Where a report stands in capture order (replay-shard.ts byCaptureOrder). */
export interface ShardOrder {
  /** The capture position (packet number) whose processing produced the item; `total` for the end of capture. */
  index: number;
  /**
   * 0: a rebuilt segment of a flow that timed out (or, at the end, of a flow still open), ordered among the shards
   * by `key` (the flow's last packet, or its first for the end) as one flow table orders them; 1: the others;
   * 2: flows that ended there, after every event of that position, by `key` then `key2` (last and first packet; at
   * the end, first packet) as the FlowRecorder orders them.
   */
  phase: 0 | 1 | 2;
  key: number;
  key2: number;
  /** Order within the shard. */
  seq: number;
}

/** The rules one item matched, with what the reading thread needs to decide and write its events. */
export interface ShardMatch extends ShardOrder {
  kind: 'match';
  /** The rules' indexes in the rule table. */
  rules: number[];
  /** Per rule, what the event queue still has to do with it (decide.ts Matches). */
  flags: number[];
  packet: EventPacket;
  /** EventContext's plain fields. */
  pcapCnt: number;
  flowId: number | undefined;
  appProto: string | undefined;
}

/** One post's reports: `count` of them in `buffer` (a Float64Array's), app protocol names by their number. */
export interface ReportBatch {
  buffer: ArrayBuffer;
  count: number;
  strings: string[];
}

// A report's slots: the fixed fields, then its rules, their flags, and the source and destination address bytes.
const INDEX = 0;
const PHASE = 1;
const KEY = 2;
const KEY2 = 3;
const SEQ = 4;
const RULES = 5;
const PCAP_CNT = 6;
const FLOW_ID = 7; // NaN: none
const APP_PROTO = 8; // -1: none, else its number in `strings`
const TS_SEC = 9;
const TS_USEC = 10;
const SRC_PORT = 11;
const DST_PORT = 12;
const ADDRESS_BYTES = 13; // 0: no IP header; 4 or 16
const PROTO = 14;
const TRANSPORT = 15; // bits: 1 a TCP header, 2 a UDP header
const ICMP_TYPE = 16; // -1: no ICMP header
const ICMP_CODE = 17;
const ICMP6_TYPE = 18; // -1: no ICMPv6 header
const ICMP6_CODE = 19;
const FIXED = 20;

/** Collects a shard's reports until `take` hands them over. */
export class ReportWriter {
  private f = new Float64Array(8192);
  private used = 0;
  private count = 0;
  private strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  /** One matched item: its order, rules (table indexes) and flags, the packet's fields an event keeps, its context. */
  add(
    order: ShardOrder,
    rules: readonly { index: number }[],
    flags: readonly number[],
    p: EventPacket,
    pcapCnt: number,
    flowId: number | undefined,
    appProto: string | undefined,
  ): void {
    const ip = p.ip;
    const addressBytes = ip === undefined ? 0 : ip.src.length;
    const need = FIXED + 2 * rules.length + 2 * addressBytes;
    if (this.used + need > this.f.length) this.grow(need);
    const f = this.f;
    const o = this.used;
    f[o + INDEX] = order.index;
    f[o + PHASE] = order.phase;
    f[o + KEY] = order.key;
    f[o + KEY2] = order.key2;
    f[o + SEQ] = order.seq;
    f[o + RULES] = rules.length;
    f[o + PCAP_CNT] = pcapCnt;
    f[o + FLOW_ID] = flowId === undefined ? Number.NaN : flowId;
    f[o + APP_PROTO] = appProto === undefined ? -1 : this.stringId(appProto);
    f[o + TS_SEC] = p.tsSec;
    f[o + TS_USEC] = p.tsUsec;
    f[o + SRC_PORT] = p.srcPort;
    f[o + DST_PORT] = p.dstPort;
    f[o + ADDRESS_BYTES] = addressBytes;
    f[o + PROTO] = ip === undefined ? 0 : ip.proto;
    f[o + TRANSPORT] = (p.tcp !== undefined ? 1 : 0) | (p.udp !== undefined ? 2 : 0);
    f[o + ICMP_TYPE] = p.icmp === undefined ? -1 : p.icmp.type;
    f[o + ICMP_CODE] = p.icmp === undefined ? 0 : p.icmp.code;
    f[o + ICMP6_TYPE] = p.icmp6 === undefined ? -1 : p.icmp6.type;
    f[o + ICMP6_CODE] = p.icmp6 === undefined ? 0 : p.icmp6.code;
    let at = o + FIXED;
    for (let k = 0; k < rules.length; k++) f[at++] = rules[k]!.index;
    for (let k = 0; k < rules.length; k++) f[at++] = flags[k]!;
    if (ip !== undefined) {
      const src = ip.src;
      const dst = ip.dst;
      for (let k = 0; k < addressBytes; k++) f[at++] = src[k]!;
      for (let k = 0; k < addressBytes; k++) f[at++] = dst[k]!;
    }
    this.used = at;
    this.count++;
  }

  /** The reports since the last take, in a buffer of their own (the writer keeps its array). */
  take(): ReportBatch {
    const batch: ReportBatch = { buffer: this.f.buffer.slice(0, 8 * this.used), count: this.count, strings: this.strings };
    this.used = 0;
    this.count = 0;
    this.strings = [];
    this.stringIds.clear();
    return batch;
  }

  private grow(need: number): void {
    const f = new Float64Array(Math.max(2 * this.f.length, this.used + need));
    f.set(this.f.subarray(0, this.used));
    this.f = f;
  }

  private stringId(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }
}

/** The reports of a batch, in the order they were written. */
export function readReports(batch: ReportBatch): ShardMatch[] {
  const f = new Float64Array(batch.buffer);
  const out: ShardMatch[] = [];
  let o = 0;
  for (let r = 0; r < batch.count; r++) {
    const nRules = f[o + RULES]!;
    const addressBytes = f[o + ADDRESS_BYTES]!;
    const rules: number[] = [];
    const flags: number[] = [];
    let at = o + FIXED;
    for (let k = 0; k < nRules; k++) rules.push(f[at++]!);
    for (let k = 0; k < nRules; k++) flags.push(f[at++]!);
    let ip: EventPacket['ip'];
    if (addressBytes > 0) {
      const src = new Uint8Array(addressBytes);
      const dst = new Uint8Array(addressBytes);
      for (let k = 0; k < addressBytes; k++) src[k] = f[at++]!;
      for (let k = 0; k < addressBytes; k++) dst[k] = f[at++]!;
      ip = { src, dst, proto: f[o + PROTO]! };
    }
    const transport = f[o + TRANSPORT]!;
    const flowId = f[o + FLOW_ID]!;
    const appProto = f[o + APP_PROTO]!;
    out.push({
      kind: 'match',
      index: f[o + INDEX]!,
      phase: f[o + PHASE]! as ShardOrder['phase'],
      key: f[o + KEY]!,
      key2: f[o + KEY2]!,
      seq: f[o + SEQ]!,
      rules,
      flags,
      packet: {
        tsSec: f[o + TS_SEC]!,
        tsUsec: f[o + TS_USEC]!,
        srcPort: f[o + SRC_PORT]!,
        dstPort: f[o + DST_PORT]!,
        ip,
        tcp: (transport & 1) !== 0 ? true : undefined,
        udp: (transport & 2) !== 0 ? true : undefined,
        icmp: f[o + ICMP_TYPE]! < 0 ? undefined : { type: f[o + ICMP_TYPE]!, code: f[o + ICMP_CODE]! },
        icmp6: f[o + ICMP6_TYPE]! < 0 ? undefined : { type: f[o + ICMP6_TYPE]!, code: f[o + ICMP6_CODE]! },
      },
      pcapCnt: f[o + PCAP_CNT]!,
      flowId: Number.isNaN(flowId) ? undefined : flowId,
      appProto: appProto < 0 ? undefined : batch.strings[appProto],
    });
    o = at;
  }
  return out;
}
