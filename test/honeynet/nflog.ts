/**
 * Reads the firewall's NFLOG lines inside a honeynet node: runs `tcpdump -i nflog:GROUP -w -` there and
 * decodes the pcap stream (link type 239, NFLOG: a 4-byte header, then host-order TLVs; type 10 is
 * the prefix, type 9 the packet).
 */
import type { ChildProcess } from 'node:child_process';
import type { Honeynet, NodeName } from './honeynet.js';

export interface NflogEntry {
  prefix: string;
  family: number;
  proto?: number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
}

const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

export function decodeNflogRecord(data: Buffer): NflogEntry {
  const entry: NflogEntry = { prefix: '', family: data[0] ?? 0 };
  let off = 4;
  while (off + 4 <= data.length) {
    const len = data.readUInt16LE(off);
    const type = data.readUInt16LE(off + 2);
    if (len < 4) break;
    const value = data.subarray(off + 4, off + len);
    if (type === NFULA_PREFIX) {
      const nul = value.indexOf(0);
      entry.prefix = value.subarray(0, nul === -1 ? value.length : nul).toString('latin1');
    } else if (type === NFULA_PAYLOAD && value.length >= 20 && value[0]! >> 4 === 4) {
      const ihl = (value[0]! & 0x0f) * 4;
      entry.proto = value[9];
      entry.src = [...value.subarray(12, 16)].join('.');
      entry.dst = [...value.subarray(16, 20)].join('.');
      if ((entry.proto === 6 || entry.proto === 17) && value.length >= ihl + 4) {
        entry.sport = value.readUInt16BE(ihl);
        entry.dport = value.readUInt16BE(ihl + 2);
      }
    }
    off += (len + 3) & ~3;
  }
  return entry;
}

export class NflogCapture {
  readonly entries: NflogEntry[] = [];
  private buf = Buffer.alloc(0);
  private headerSeen = false;

  private constructor(private readonly child: ChildProcess) {}

  static start(net: Honeynet, node: NodeName, group: number): Promise<NflogCapture> {
    const child = net.spawn(node, ['tcpdump', '-Z', 'root', '-n', '-U', '-s', '0', '-i', `nflog:${group}`, '-w', '-']);
    const cap = new NflogCapture(child);
    child.stdout!.on('data', (d: Buffer) => cap.feed(d));
    return new Promise((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump on nflog:${group} did not start: ${stderr}`)), 10_000);
      child.on('error', (err) => reject(err));
      child.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${stderr}`)));
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve(cap);
        }
      });
    });
  }

  private feed(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (!this.headerSeen) {
      if (this.buf.length < 24) return;
      const magic = this.buf.readUInt32LE(0);
      if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('tcpdump: not a little-endian pcap stream');
      const linktype = this.buf.readUInt32LE(20);
      if (linktype !== LINKTYPE_NFLOG) throw new Error(`tcpdump: link type ${linktype}, expected NFLOG`);
      this.buf = this.buf.subarray(24);
      this.headerSeen = true;
    }
    while (this.buf.length >= 16) {
      const incl = this.buf.readUInt32LE(8);
      if (this.buf.length < 16 + incl) return;
      this.entries.push(decodeNflogRecord(this.buf.subarray(16, 16 + incl)));
      this.buf = this.buf.subarray(16 + incl);
    }
  }

  /** Entries whose prefix is exactly `prefix` (and optionally match a predicate). */
  with(prefix: string, pred: (e: NflogEntry) => boolean = () => true): NflogEntry[] {
    return this.entries.filter((e) => e.prefix === prefix && pred(e));
  }

  /** Wait until at least `n` entries with this prefix have arrived (or the timeout passes). */
  async waitFor(prefix: string, n = 1, timeoutMs = 3000): Promise<NflogEntry[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.with(prefix).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.with(prefix);
  }

  clear(): void {
    this.entries.length = 0;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
