/**
 * Picks Sebek records out of captured frames: IPv4 UDP datagrams to the Sebek port whose payload
 * carries the site magic. Frame decoding is the project's packet decoder (src/packet/decode.ts).
 * Anything else sent to the port (wrong magic, wrong version, bad lengths, truncated frames) is
 * counted as garbage and never stops extraction.
 */
import { formatIp } from '../packet/bytes.js';
import { decode, decodeIpPacket } from '../packet/decode.js';
import type { Packet } from '../packet/packet.js';
import { decodeSebekPayload, SEBEK_DEFAULT_PORT, type SebekRecord } from './format.js';

export interface SebekExtractOptions {
  /** Site magic; undefined accepts any magic (each record's magic is reported). */
  magic?: number;
  /** UDP destination port (default 1101). */
  port?: number;
}

/** A record with where and when it was captured. */
export interface CapturedSebekRecord extends SebekRecord {
  /** IP source of the datagram: the honeypot running the client. */
  client: string;
  /** Capture time of the packet. */
  capSec: number;
  capUsec: number;
}

export interface GarbageSample {
  capSec: number;
  capUsec: number;
  client: string;
  reason: string;
}

export class SebekExtractStats {
  /** Frames looked at. */
  frames = 0;
  /** Datagrams to the Sebek port. */
  onPort = 0;
  /** Datagrams with at least one good record. */
  sebekPackets = 0;
  records = 0;
  /** Datagrams to the port that were not (wholly) valid Sebek. */
  garbage = 0;
  /** First few garbage reasons, for the operator. */
  garbageSamples: GarbageSample[] = [];
  /** Frames to the port that could not be decoded to UDP (truncated, fragments). */
  undecodable = 0;
}

const MAX_SAMPLES = 20;

export class SebekExtractor {
  readonly stats = new SebekExtractStats();
  private readonly port: number;

  constructor(private readonly opts: SebekExtractOptions = {}) {
    this.port = opts.port ?? SEBEK_DEFAULT_PORT;
  }

  /** Records in one captured frame of the given pcap link type (empty if none). Never throws. */
  fromFrame(linktype: number, frame: Uint8Array, capSec = 0, capUsec = 0): CapturedSebekRecord[] {
    return this.fromPacket(decode(linktype, frame, undefined, { verifyChecksums: false }), capSec, capUsec);
  }

  /** Records in a bare IP datagram (an NFQUEUE payload). Never throws. */
  fromIpDatagram(datagram: Uint8Array, capSec = 0, capUsec = 0): CapturedSebekRecord[] {
    return this.fromPacket(decodeIpPacket(datagram, undefined, { verifyChecksums: false }), capSec, capUsec);
  }

  /** Is this decoded packet a datagram to the Sebek port? (What the gateway keeps from leaving.) */
  isSebekPort(p: Packet): boolean {
    return p.udp !== undefined && p.udp.dstPort === this.port;
  }

  fromPacket(p: Packet, capSec: number, capUsec: number): CapturedSebekRecord[] {
    this.stats.frames++;
    const ip = p.ip4;
    if (ip === undefined || p.udp === undefined || p.udp.dstPort !== this.port) return [];
    this.stats.onPort++;
    const client = formatIp(ip.src);
    if (p.error !== undefined) {
      this.stats.undecodable++;
      this.garbage(capSec, capUsec, client, `undecodable frame (${p.error})`);
      return [];
    }
    const result = decodeSebekPayload(p.payload, this.opts.magic);
    if (!result.ok) this.garbage(capSec, capUsec, client, result.reason);
    if (result.records.length === 0) return [];
    this.stats.sebekPackets++;
    this.stats.records += result.records.length;
    return result.records.map((r) => ({
      version: r.version,
      magic: r.magic,
      type: r.type,
      typeName: r.typeName,
      counter: r.counter,
      timeSec: r.timeSec,
      timeUsec: r.timeUsec,
      usecSwapped: r.usecSwapped,
      ppid: r.ppid,
      pid: r.pid,
      uid: r.uid,
      fd: r.fd,
      inode: r.inode,
      com: r.com,
      comBytes: r.comBytes,
      data: r.data,
      socket: r.socket,
      client,
      capSec,
      capUsec,
    }));
  }

  private garbage(capSec: number, capUsec: number, client: string, reason: string): void {
    this.stats.garbage++;
    if (this.stats.garbageSamples.length < MAX_SAMPLES) this.stats.garbageSamples.push({ capSec, capUsec, client, reason });
  }
}
