/**
 * The native front's pipeline (src/flow/native-pipeline.ts over native/src/honeywall_front.c) against PacketPipeline:
 * over every suricata-verify capture, with the replay's configuration and with small limits, every frame gives the
 * same items (kind, packet, flow and its state, direction, detection, fragment alert record, segment, application
 * buffers), and the end of input the same; the counts after it agree.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIp } from '../src/packet/build.js';
import type { Flow } from '../src/flow/flow.js';
import { NativePipeline } from '../src/flow/native-pipeline.js';
import { PacketPipeline, type InspectionItem, type PipelineOptions } from '../src/flow/pipeline.js';
import { SHARD_KINDS, SHARD_NO_IP, ShardPlan } from '../src/flow/shard.js';
import type { Packet } from '../src/packet/packet.js';
import type { IpHeader } from '../src/packet/types.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { SHIPPED_STREAM5 } from '../src/match/replay.js';
import { svDir } from './helpers/corpus.js';

interface Frame {
  linktype: number;
  data: Uint8Array;
  tsSec: number;
  tsUsec: number;
}

/** An IP header's fields and addresses (not the bytes it reads them from, nor whether it made their views yet). */
function ipView(ip: IpHeader): unknown {
  const fields = Object.entries(ip).filter(([k]) => k !== 'bytes' && k !== 'srcView' && k !== 'dstView');
  return { ...Object.fromEntries(fields), src: Array.from(ip.src), dst: Array.from(ip.dst) };
}

/** What the matcher reads of a packet, as plain data. */
function packetView(p: Packet): unknown {
  return {
    linktype: p.linktype,
    data: Buffer.from(p.data).toString('hex'),
    origin: p.origin,
    ts: [p.tsSec, p.tsUsec],
    eth: p.eth,
    vlans: p.vlans,
    mpls: p.mplsLabels,
    ip: p.ip === undefined ? undefined : ipView(p.ip),
    outer: p.outer?.map(ipView),
    gre: p.gre,
    tcp: p.tcp === undefined ? undefined : { ...p.tcp, options: p.tcp.options, bytes: undefined, opts: undefined },
    udp: p.udp,
    icmp: p.icmp,
    icmp6: p.icmp6,
    payload: [p.payloadOffset, p.payloadLength],
    error: [p.error, p.errorOffset, p.badChecksum],
  };
}

/** The flow as the matcher sees it when the item is made. */
function flowView(f: Flow | undefined, ids: Map<Flow, number>): unknown {
  if (f === undefined) return undefined;
  if (!ids.has(f)) ids.set(f, ids.size);
  return {
    id: ids.get(f),
    created: f.createdIndex,
    last: f.lastIndex,
    kind: f.kind,
    proto: f.proto,
    vlan: f.vlan,
    hash: f.hash,
    client: [Array.from(f.client.ip), f.client.port, f.client.packets, f.client.bytes, f.client.streamSize],
    server: [Array.from(f.server.ip), f.server.port, f.server.packets, f.server.bytes, f.server.streamSize],
    state: f.state,
    established: f.established,
    terminated: f.terminated,
    midstream: f.midstream,
    synced: f.synced,
    time: [f.startSec, f.lastSec],
  };
}

function itemView(it: InspectionItem, ids: Map<Flow, number>, alerts: Map<object, number>): unknown {
  const fa = it.fragAlerts;
  if (fa !== undefined && !alerts.has(fa)) alerts.set(fa, alerts.size);
  const s = it.segment;
  return {
    kind: it.kind,
    packet: packetView(it.packet),
    flow: flowView(it.flow, ids),
    fromClient: it.fromClient,
    established: it.established,
    streamInserted: it.streamInserted,
    detection: it.detection,
    fragAlerts: fa === undefined ? undefined : alerts.get(fa),
    segment: s === undefined ? undefined : { ...s, flow: flowView(s.flow, ids), data: Buffer.from(s.data).toString('hex') },
    http: it.http,
    app: it.app,
    detectTwice: it.detectTwice,
    fileData: it.fileData?.map((b) => Buffer.from(b).toString('hex')),
  };
}

interface Views {
  ids: Map<Flow, number>;
  alerts: Map<object, number>;
}

function views(items: InspectionItem[], v: Views): unknown[] {
  return items.map((it) => itemView(it, v.ids, v.alerts));
}

/** Items by kind, detection, origin and flush reason, over the tests (what the corpus exercises). */
const seen = new Map<string, number>();
const captures: string[] = [];
if (existsSync(join(svDir, 'tests')))
  for (const test of readdirSync(join(svDir, 'tests')).sort())
    for (const f of readdirSync(join(svDir, 'tests', test)).sort()) if (f.endsWith('.pcap') || f.endsWith('.pcapng')) captures.push(join(test, f));

/** Both pipelines over one capture: the same items at every frame and at the end. `shard`: as shard 1 of 2. */
function compare(path: string, opts: PipelineOptions, shard = -1): { frames: number; items: number; segments: number } {
  return compareRecords(path, readCaptureAll(readFileSync(join(svDir, 'tests', path)), path).records, opts, shard);
}

function compareRecords(
  path: string,
  records: readonly Frame[],
  opts: PipelineOptions,
  shard = -1,
): { frames: number; items: number; segments: number } {
  const js = new PacketPipeline(opts);
  // (arrays small at first: they move, and their views are taken again, often)
  const native = new NativePipeline(opts, { records: 64, bytes: 256 });
  const plan = shard < 0 ? undefined : new ShardPlan(2);
  const jv: Views = { ids: new Map(), alerts: new Map() };
  const nv: Views = { ids: new Map(), alerts: new Map() };
  let items = 0;
  let segments = 0;
  records.forEach((r, index) => {
    // as shard `shard` of two: a frame the plan gives the other only moves the clock of its kind's flows
    const owner = plan === undefined ? -1 : plan.frame(r.linktype, r.data);
    const mine = plan === undefined || (owner === SHARD_NO_IP ? shard === 0 : owner >> 2 === shard);
    const kind = SHARD_KINDS[owner & 3]!;
    const want = mine ? js.push(r.linktype, r.data, r.tsSec, r.tsUsec, index) : owner === SHARD_NO_IP ? [] : js.advance(kind, r.tsSec, r.tsUsec);
    const got = mine
      ? native.push(r.linktype, r.data, r.tsSec, r.tsUsec, index)
      : owner === SHARD_NO_IP
        ? []
        : native.advance(kind, r.tsSec, r.tsUsec);
    const w = views(want, jv);
    const g = views(got, nv);
    if (JSON.stringify(g) !== JSON.stringify(w)) expect({ path, index, items: g }).toEqual({ path, index, items: w });
    items += want.length;
    segments += want.filter((it) => it.kind === 'stream').length;
    for (const it of want) {
      const k = `${it.kind}/${it.detection}/${it.packet.origin}${it.fragAlerts ? '/frag' : ''}${it.segment ? '/' + it.segment.reason : ''}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
  });
  const w = views(js.finish(), jv);
  const g = views(native.finish(), nv);
  expect({ path, end: g }).toEqual({ path, end: w });
  expect({ path, stats: native.decodeStats }).toEqual({ path, stats: js.decodeStats });
  expect({ path, defrag: native.defrag.stats }).toEqual({ path, defrag: js.defrag.stats });
  expect(native.app.stats).toEqual(js.app.stats);
  expect(native.dce2Stats).toEqual(js.dce2Stats);
  return { frames: records.length, items, segments };
}

/** A datagram's transport bytes: a UDP header (to DNS's port or another) or a TCP one, then data. */
const transport = fc.record({
  proto: fc.constantFrom(17, 6, 1),
  port: fc.constantFrom(53, 80, 4444),
  data: fc.uint8Array({ minLength: 0, maxLength: 60 }),
  six: fc.boolean(),
});

/** Pieces of a datagram's transport bytes, in 8-byte units: where each starts, how long, MF, and its own fill. */
const piece = fc.record({
  datagram: fc.integer({ min: 0, max: 2 }),
  from: fc.integer({ min: 0, max: 10 }),
  units: fc.integer({ min: 1, max: 6 }),
  last: fc.boolean(),
  overwrite: fc.option(fc.integer({ min: 0x41, max: 0x5a }), { freq: 4 }),
  gap: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) }),
  whole: fc.boolean(),
});

function transportBytes(t: { proto: number; port: number; data: Uint8Array }, k: number): Uint8Array {
  const head =
    t.proto === 17
      ? [0x30, 0x39, t.port >> 8, t.port & 0xff, (8 + t.data.length) >> 8, (8 + t.data.length) & 0xff, 0, 0]
      : t.proto === 6
        ? [0x30, 0x39 + k, t.port >> 8, t.port & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]
        : [8, 0, 0, 0, 0, 7, 0, k];
  return Uint8Array.from([...head, ...t.data]);
}

function fragmentFrames(
  ts: readonly { proto: number; port: number; data: Uint8Array; six: boolean }[],
  pieces: readonly (typeof piece extends fc.Arbitrary<infer T> ? T : never)[],
): Frame[] {
  const out: Frame[] = [];
  let sec = 1_600_000_000;
  for (const pc of pieces) {
    const t = ts[pc.datagram % ts.length]!;
    const bytes = transportBytes(t, pc.datagram);
    sec += pc.gap;
    const ip = { src: t.six ? '2001:db8::1' : '10.0.0.1', dst: t.six ? `2001:db8::${pc.datagram + 2}` : `10.0.0.${pc.datagram + 2}` };
    if (pc.whole) {
      out.push({
        linktype: 101,
        data: buildIp({ ip: { ...ip, id: 99 }, proto: t.proto === 1 && t.six ? 58 : t.proto, payload: bytes }),
        tsSec: sec,
        tsUsec: 0,
      });
      continue;
    }
    const start = Math.min(pc.from * 8, bytes.length - (bytes.length % 8 === 0 ? 8 : bytes.length % 8));
    const end = pc.last ? bytes.length : Math.min(bytes.length, start + pc.units * 8);
    const body = bytes.slice(Math.max(0, start), end);
    if (pc.overwrite !== null) body.fill(pc.overwrite, body.length >> 1);
    const mf = !pc.last && end < bytes.length;
    const frag = t.six
      ? { ...ip, id: 7 + pc.datagram, fragOffset: Math.max(0, start) >> 3, mf, fragment: true }
      : { ...ip, id: 7 + pc.datagram, fragOffset: Math.max(0, start) >> 3, mf };
    out.push({ linktype: 101, data: buildIp({ ip: frag, proto: t.proto === 1 && t.six ? 58 : t.proto, payload: body }), tsSec: sec, tsUsec: 0 });
  }
  return out;
}

describe('native front pipeline, fragments', () => {
  it('gives PacketPipeline’s items for fragmented UDP, TCP and ICMP datagrams of IPv4 and IPv6, overlapping, repeated and timed out', () => {
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(transport, { minLength: 3, maxLength: 3 }),
        fc.array(piece, { minLength: 1, maxLength: 14 }),
        fc.constantFrom(180, 5),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (ts, random, timeoutSec, units, reverse) => {
          // each datagram covered by fragments of 1-3 units (in order or backwards), mixed with the random pieces
          const covering: (typeof random)[number][] = [];
          ts.forEach((t, d) => {
            const size = transportBytes(t, d).length;
            const mine: (typeof random)[number][] = [];
            for (let from = 0; from * 8 < size; from += units[d]!) {
              const last = (from + units[d]!) * 8 >= size;
              mine.push({ datagram: d, from, units: units[d]!, last, overwrite: null, gap: 0, whole: false });
            }
            covering.push(...(reverse ? mine.reverse() : mine));
          });
          const pieces = random.flatMap((pc, k) => (k < covering.length ? [covering[k]!, pc] : [pc])).concat(covering.slice(random.length));
          seen.clear();
          compareRecords('generated', fragmentFrames(ts, pieces), {
            flow: { ...SHIPPED_STREAM5, trackIcmp: true },
            defrag: { timeoutSec, maxTrackers: 2 },
            decode: { verifyChecksums: false },
          });
          for (const [k, n] of seen) kinds.set(k, (kinds.get(k) ?? 0) + n);
        },
      ),
      { numRuns: 400 },
    );
    // datagrams rebuilt (and the UDP first fragment's quirk), fragments left to the decode-time rules
    expect(kinds.get('packet/all/defrag/frag') ?? 0).toBeGreaterThan(50);
    expect(kinds.get('packet/relative-first/wire/frag') ?? 0).toBeGreaterThan(10);
    expect(kinds.get('packet/decode-only/wire/frag') ?? 0).toBeGreaterThan(10);
  });
});

/**
 * The native pipeline fed a shard's frames in walk batches (pushWalked: one call a batch, as a sharded replay's
 * worker does) against PacketPipeline fed them one by one: the same items for every frame, at the same position.
 */
function compareWalked(path: string, opts: PipelineOptions, shard: number, batch: number): number {
  const { records } = readCaptureAll(readFileSync(join(svDir, 'tests', path)), path);
  if (records.length === 0 || records.some((r) => r.linktype !== records[0]!.linktype)) return 0;
  const linktype = records[0]!.linktype;
  const js = new PacketPipeline(opts);
  const native = new NativePipeline(opts, { records: 64, bytes: 256 });
  const jv: Views = { ids: new Map(), alerts: new Map() };
  const nv: Views = { ids: new Map(), alerts: new Map() };
  const plan = new ShardPlan(2);
  const want: unknown[][] = records.map((r, index) => {
    const owner = plan.frame(r.linktype, r.data);
    const mine = owner === SHARD_NO_IP ? shard === 0 : owner >> 2 === shard;
    const items = mine
      ? js.push(r.linktype, r.data, r.tsSec, r.tsUsec, index)
      : owner === SHARD_NO_IP
        ? []
        : js.advance(SHARD_KINDS[owner & 3]!, r.tsSec, r.tsUsec);
    return views(items, jv);
  });
  // the frames one after the other in one buffer, walked as captureWalk lays them out, a batch at a time
  const got: unknown[][] = records.map(() => []);
  const again = new ShardPlan(2);
  for (let first = 0; first < records.length; first += batch) {
    const some = records.slice(first, first + batch);
    const buf = new Uint8Array(some.reduce((n, r) => n + r.data.length + 3, 0));
    const walked = new Int32Array(6 * some.length);
    let at = 0;
    some.forEach((r, k) => {
      at += 3; // (frames not at the buffer's start, nor aligned)
      buf.set(r.data, at);
      walked.set([at, r.data.length, r.tsSec, r.tsUsec, r.data.length, again.frame(r.linktype, r.data)], 6 * k);
      at += r.data.length;
    });
    native.pushWalked(buf, walked, some.length, shard, linktype, first, (items, index) => {
      got[index] = views(items, nv);
    });
  }
  const end = views(native.finish(), nv);
  for (let i = 0; i < records.length; i++)
    if (JSON.stringify(got[i]) !== JSON.stringify(want[i])) expect({ path, index: i, items: got[i] }).toEqual({ path, index: i, items: want[i] });
  expect({ path, end }).toEqual({ path, end: views(js.finish(), jv) });
  return records.length;
}

describe.skipIf(captures.length === 0)('native front pipeline', () => {
  it('gives the same items fed a shard’s frames in walk batches, one call a batch', () => {
    const opts: PipelineOptions = { flow: { ...SHIPPED_STREAM5, tcpTimeout: 5, udpTimeout: 5 }, decode: { verifyChecksums: false } };
    let frames = 0;
    for (const [k, c] of captures.entries()) frames += compareWalked(c, opts, k % 2, [1, 7, 64, 1024][k % 4]!);
    expect(frames).toBeGreaterThan(3000);
  });

  it('gives PacketPipeline’s items for every suricata-verify capture, with the replay’s configuration', () => {
    seen.clear();
    const opts: PipelineOptions = { flow: { ...SHIPPED_STREAM5 }, decode: { verifyChecksums: false } };
    let frames = 0;
    let items = 0;
    let segments = 0;
    for (const c of captures) {
      const n = compare(c, opts);
      frames += n.frames;
      items += n.items;
      segments += n.segments;
    }
    expect(frames).toBeGreaterThan(3000);
    expect(items).toBeGreaterThan(frames);
    expect(segments).toBeGreaterThan(100);
    // rebuilt segments flushed by ACK, by message (PAF), by FIN and RST; a session's cleanup decoding a packet again
    for (const k of ['stream/all/stream/ack', 'stream/all/stream/pdu', 'stream/all/stream/fin', 'stream/all/stream/rst', 'packet/decode-only/stream'])
      expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
  });

  it('gives the same items with small limits, other policies and checksums verified (evictions, timeouts, queue and fragment memcaps)', () => {
    const opts: PipelineOptions = {
      flow: {
        trackIcmp: true,
        trackIp: true,
        maxTcp: 6,
        maxUdp: 3,
        maxIcmp: 2,
        maxIp: 2,
        tcpTimeout: 3,
        udpTimeout: 1,
        policy: 'first',
        reassembleServerPorts: 'all',
        maxQueuedBytes: 4000,
        maxQueuedSegs: 6,
        flushSize: 900,
      },
      defrag: { memcap: 9000, datagramMemcap: 4000, maxTrackers: 3, timeoutSec: 4, policy: 'linux', overlapLimit: 3 },
      decode: { verifyChecksums: true },
    };
    let segments = 0;
    seen.clear();
    for (const c of captures) segments += compare(c, opts).segments;
    expect(segments).toBeGreaterThan(300);
    // segments cut at the flush size, and flushed by a timeout
    expect(seen.get('stream/all/stream/size') ?? 0).toBeGreaterThan(10);
    expect(seen.get('stream/all/stream/timeout') ?? 0).toBeGreaterThan(0);
  });

  it('gives the same items as one shard of two (other frames only move its clock)', () => {
    const opts: PipelineOptions = { flow: { ...SHIPPED_STREAM5, tcpTimeout: 5, udpTimeout: 5 }, decode: { verifyChecksums: false } };
    let items = 0;
    for (const c of captures) items += compare(c, opts, 0).items + compare(c, opts, 1).items;
    expect(items).toBeGreaterThan(3000);
  });
});
