/**
 * A flow's packets cut out of the capture files that hold them, as one capture: every frame the flow table gave the
 * flow (flow_files: per file, each frame's offset, or for a long flow its first and last, between which the frames
 * of its 5-tuple and VLAN are picked), read by offset (CaptureSeeker), in file then capture order. The frames are
 * copied as captured (bytes, original length, time to the microsecond); the output is a classic pcap when they share
 * one link type, else a pcapng with an interface per link type.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type Database from 'better-sqlite3';
import { flowPorts, vlanOf } from '../flow/key.js';
import { formatIp } from '../packet/bytes.js';
import { decode } from '../packet/decode.js';
import { encodePcapHeader, encodePcapRecord } from '../packet/pcap-encode.js';
import type { CaptureRecord, CaptureState } from '../packet/pcap.js';
import { CaptureSeeker } from '../packet/seek.js';
import { decodeOffsets } from './offsets.js';

/** A flow's pcap cannot be cut (no such flow, a capture file gone or changed); the message says which. */
export class CutError extends Error {}

export interface CutOptions {
  /** Look for capture files here by name when they are no longer where they were imported from. */
  captureDir?: string;
}

export interface CutResult {
  packets: number;
  bytes: number;
  files: number;
  /** Frames picked by scanning a span (flows too long for every offset to be kept). */
  scanned: number;
  linktypes: number[];
}

interface FileRow {
  capture_id: number;
  first_offset: number;
  last_offset: number;
  packets: number;
  offsets: Buffer | null;
  path: string;
  size: number;
  states: string;
  states_complete: number;
}

interface FlowKey {
  proto: number;
  vlan: number;
  client_ip: string;
  client_port: number | null;
  server_ip: string;
  server_port: number | null;
}

function linktypesOf(states: readonly [number, CaptureState][]): number[] {
  const out = new Set<number>();
  for (const [, s] of states) {
    if (s.format === 'pcap') out.add(s.linktype);
    else for (const i of s.interfaces) out.add(i.linktype);
  }
  return [...out];
}

/** A frame of a scanned span that belongs to the flow: same protocol, VLAN, addresses and ports, either way round. */
function belongs(rec: CaptureRecord, f: FlowKey): boolean {
  const p = decode(rec.linktype, rec.data, undefined, { verifyChecksums: false });
  const ip = p.ip;
  if (ip === undefined || ip.proto !== f.proto || vlanOf(p) !== f.vlan) return false;
  const [sp, dp] = flowPorts(p);
  const src = formatIp(ip.src);
  const dst = formatIp(ip.dst);
  const cp = f.client_port ?? sp;
  const spt = f.server_port ?? dp;
  if (src === f.client_ip && dst === f.server_ip) return sp === cp && dp === spt;
  if (src === f.server_ip && dst === f.client_ip) return sp === spt && dp === cp;
  return false;
}

function pcapngHeader(linktypes: readonly number[]): Uint8Array[] {
  const shb = new Uint8Array(28);
  const v = new DataView(shb.buffer);
  v.setUint32(0, 0x0a0d0d0a, true);
  v.setUint32(4, 28, true);
  v.setUint32(8, 0x1a2b3c4d, true);
  v.setUint16(12, 1, true);
  v.setUint16(14, 0, true);
  v.setBigInt64(16, -1n, true);
  v.setUint32(24, 28, true);
  const out = [shb];
  for (const lt of linktypes) {
    const idb = new Uint8Array(20);
    const w = new DataView(idb.buffer);
    w.setUint32(0, 1, true);
    w.setUint32(4, 20, true);
    w.setUint16(8, lt, true);
    w.setUint32(12, 262144, true);
    w.setUint32(16, 20, true);
    out.push(idb);
  }
  return out;
}

function pcapngPacket(iface: number, r: CaptureRecord): Uint8Array {
  const padded = (r.data.length + 3) & ~3;
  const total = 32 + padded;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  const ts = BigInt(r.tsSec) * 1_000_000n + BigInt(r.tsUsec);
  v.setUint32(0, 6, true);
  v.setUint32(4, total, true);
  v.setUint32(8, iface, true);
  v.setUint32(12, Number(ts >> 32n), true);
  v.setUint32(16, Number(ts & 0xffffffffn), true);
  v.setUint32(20, r.data.length, true);
  v.setUint32(24, r.origLen, true);
  b.set(r.data, 28);
  v.setUint32(total - 4, total, true);
  return b;
}

/**
 * Writes the pcap of flow row `flowRow` to `write` (called with each piece in order) and says what it wrote. Throws
 * CutError when the flow or one of its files is not there, or a file no longer holds the records it had.
 */
export async function cutFlow(db: Database.Database, flowRow: number, write: (chunk: Uint8Array) => void, opts: CutOptions = {}): Promise<CutResult> {
  const flow = db.prepare('SELECT proto, vlan, client_ip, client_port, server_ip, server_port FROM flows WHERE id = ?').get(flowRow) as
    | FlowKey
    | undefined;
  if (flow === undefined) throw new CutError(`no flow ${flowRow} in the store`);
  const files = db
    .prepare(
      `SELECT ff.capture_id, ff.first_offset, ff.last_offset, ff.packets, ff.offsets, c.path, c.size, c.states, c.states_complete
       FROM flow_files ff JOIN captures c ON c.id = ff.capture_id WHERE ff.flow_id = ? ORDER BY c.first_us, c.id`,
    )
    .all(flowRow) as FileRow[];
  const parsed = files.map((f) => ({ f, states: JSON.parse(f.states) as [number, CaptureState][], path: locate(f, opts) }));
  const linktypes = [...new Set(parsed.flatMap((p) => linktypesOf(p.states)))].sort((a, b) => a - b);
  const result: CutResult = { packets: 0, bytes: 0, files: files.length, scanned: 0, linktypes };
  const single = linktypes.length <= 1;
  if (single) write(encodePcapHeader({ linktype: linktypes[0] ?? 1 }));
  else for (const b of pcapngHeader(linktypes)) write(b);
  const emit = (r: CaptureRecord) => {
    write(single ? encodePcapRecord(r) : pcapngPacket(linktypes.indexOf(r.linktype), r));
    result.packets++;
    result.bytes += r.data.length;
  };
  for (const { f, states, path } of parsed) {
    const seeker = new CaptureSeeker(path, states, f.states_complete === 1);
    try {
      await seeker.open();
    } catch (err) {
      throw new CutError(`${(err as Error).message} (a capture of flow ${flowRow})`);
    }
    try {
      if (f.offsets !== null) {
        const offsets = decodeOffsets(f.offsets);
        // records close together are read at once: j is the last of the run that starts at i (it only moves on)
        let j = 0;
        for (let i = 0; i < offsets.length; i++) {
          const start = offsets[i]!;
          if (j < i) j = i;
          while (j + 1 < offsets.length && offsets[j + 1]! - offsets[j]! < NEAR && offsets[j + 1]! - start < MAX_AHEAD) j++;
          emit(await seeker.readAt(start, offsets[j]! - start + 2048));
        }
      } else {
        for await (const r of seeker.scan(f.first_offset, f.last_offset)) {
          if (!belongs(r, flow)) continue;
          result.scanned++;
          emit(r);
        }
      }
    } catch (err) {
      if (err instanceof CutError) throw err;
      throw new CutError(`${(err as Error).message} (the file changed since it was imported?)`);
    } finally {
      await seeker.close();
    }
  }
  return result;
}

/** Records closer than this to the one before them are read with it. */
const NEAR = 32 * 1024;
/** The most read at once. */
const MAX_AHEAD = 1 << 20;

/** Where a capture file is now: where it was imported from, else by name in `captureDir`; it must not have shrunk. */
function locate(f: FileRow, opts: CutOptions): string {
  const candidates = [f.path];
  if (opts.captureDir !== undefined) candidates.push(join(opts.captureDir, basename(f.path)));
  for (const p of candidates) {
    if (!existsSync(p)) continue;
    const size = statSync(p).size;
    // smaller is another file (a capture being written, the gateway's, only grows)
    if (size < f.size) throw new CutError(`${p}: ${size} bytes, ${f.size} when it was imported: not the same capture`);
    return p;
  }
  throw new CutError(`${f.path}: capture file not found${opts.captureDir !== undefined ? ` (nor in ${opts.captureDir})` : ''}`);
}
