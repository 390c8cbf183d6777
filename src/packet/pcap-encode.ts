/**
 * In-memory capture encoders: classic pcap (either byte order, micro or nanosecond timestamps) and
 * pcapng (one section, any number of interfaces with their own link type and if_tsresol, EPB or SPB
 * packets). Used by PcapWriter, fixture generators and tests of the reader.
 */
import { concat } from './bytes.js';

export interface PcapEncodeOptions {
  linktype: number;
  /** Default 262144. */
  snaplen?: number;
  /** Default true (the usual little-endian file). */
  littleEndian?: boolean;
  /** Write the nanosecond magic; `tsUsec` is then scaled by 1000. Default false. */
  nanosecond?: boolean;
}

interface TimedPacket {
  tsSec: number;
  tsUsec: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLen?: number;
}

/** The 24-byte pcap global header. */
export function encodePcapHeader(opts: PcapEncodeOptions): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  const le = opts.littleEndian ?? true;
  v.setUint32(0, opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setInt32(8, 0, le);
  v.setUint32(12, 0, le);
  v.setUint32(16, opts.snaplen ?? 262144, le);
  v.setUint32(20, opts.linktype, le);
  return out;
}

/** One pcap record: 16-byte header and the bytes. */
export function encodePcapRecord(p: TimedPacket, opts: { littleEndian?: boolean; nanosecond?: boolean } = {}): Uint8Array {
  const out = new Uint8Array(16 + p.data.length);
  const v = new DataView(out.buffer);
  const le = opts.littleEndian ?? true;
  v.setUint32(0, p.tsSec >>> 0, le);
  v.setUint32(4, opts.nanosecond ? p.tsUsec * 1000 : p.tsUsec, le);
  v.setUint32(8, p.data.length, le);
  v.setUint32(12, p.origLen ?? p.data.length, le);
  out.set(p.data, 16);
  return out;
}

export function encodePcap(packets: readonly TimedPacket[], opts: PcapEncodeOptions): Uint8Array {
  const parts = [encodePcapHeader(opts), ...packets.map((p) => encodePcapRecord(p, opts))];
  return concat(parts);
}

export interface PcapngInterface {
  linktype: number;
  snaplen?: number;
  /** if_tsresol byte: 6 = microseconds (default, option omitted), 9 = ns, 0x80|n = 2^-n. */
  tsresol?: number;
}

export interface PcapngPacket extends TimedPacket {
  /** Interface index (default 0). */
  iface?: number;
  /** Write a Simple Packet Block (no timestamp, interface 0) instead of an EPB. */
  simple?: boolean;
}

export interface PcapngEncodeOptions {
  interfaces: readonly PcapngInterface[];
  littleEndian?: boolean;
  /** Extra unknown blocks (type, body) written after the interfaces, to exercise skipping. */
  unknownBlocks?: readonly { type: number; body: Uint8Array }[];
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, total, le);
  out.set(body, 8);
  v.setUint32(total - 4, total, le);
  return out;
}

function unitsPerSec(tsresol: number): bigint {
  return (tsresol & 0x80) === 0 ? 10n ** BigInt(tsresol & 0x7f) : 1n << BigInt(tsresol & 0x7f);
}

export function encodePcapng(packets: readonly PcapngPacket[], opts: PcapngEncodeOptions): Uint8Array {
  const le = opts.littleEndian ?? true;
  const parts: Uint8Array[] = [];
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, le);
  sv.setUint16(4, 1, le);
  sv.setUint16(6, 0, le);
  sv.setBigInt64(8, -1n, le);
  parts.push(block(0x0a0d0d0a, shb, le));
  for (const i of opts.interfaces) {
    const withRes = i.tsresol !== undefined && i.tsresol !== 6;
    const body = new Uint8Array(8 + (withRes ? 8 + 4 : 0));
    const v = new DataView(body.buffer);
    v.setUint16(0, i.linktype, le);
    v.setUint32(4, i.snaplen ?? 262144, le);
    if (withRes) {
      v.setUint16(8, 9, le);
      v.setUint16(10, 1, le);
      body[12] = i.tsresol ?? 6;
      // opt_endofopt (zeros) follows
    }
    parts.push(block(1, body, le));
  }
  for (const u of opts.unknownBlocks ?? []) parts.push(block(u.type, u.body, le));
  for (const p of packets) {
    const origLen = p.origLen ?? p.data.length;
    if (p.simple) {
      const body = new Uint8Array(4 + p.data.length);
      new DataView(body.buffer).setUint32(0, origLen, le);
      body.set(p.data, 4);
      parts.push(block(3, body, le));
      continue;
    }
    const id = p.iface ?? 0;
    const res = opts.interfaces[id]?.tsresol ?? 6;
    const per = unitsPerSec(res);
    const units = BigInt(p.tsSec) * per + (BigInt(p.tsUsec) * per) / 1_000_000n;
    const body = new Uint8Array(20 + p.data.length);
    const v = new DataView(body.buffer);
    v.setUint32(0, id, le);
    v.setUint32(4, Number(units >> 32n), le);
    v.setUint32(8, Number(units & 0xffffffffn), le);
    v.setUint32(12, p.data.length, le);
    v.setUint32(16, origLen, le);
    body.set(p.data, 20);
    parts.push(block(6, body, le));
  }
  return concat(parts);
}

export { concat } from './bytes.js';
