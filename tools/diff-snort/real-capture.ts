/**
 * Captures for the real-traffic comparison: tcpdump inside a honeynet node's namespace, writing each packet as it
 * comes (`-U`), stopped with SIGTERM so it closes the file whole, and its own count of packets the kernel dropped
 * reported (a capture with drops would compare the engines on traffic neither saw whole).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Honeynet, NodeName } from '../../test/honeynet/honeynet.js';

export interface CaptureStats {
  /** tcpdump's own figures from its closing lines. */
  captured: number;
  droppedByKernel: number;
}

export interface Capture {
  file: string;
  stop(): Promise<CaptureStats>;
}

/** Starts tcpdump on `dev` of `node` and resolves once it listens (its "listening on" line). */
export async function startCapture(net: Honeynet, node: NodeName, dev: string, file: string): Promise<Capture> {
  // -s 0: whole frames; -Z root: Debian's tcpdump would otherwise drop to the tcpdump user before writing the file;
  // --immediate-mode: each packet handed to tcpdump as it comes (libpcap's ring otherwise hands over blocks after a
  // 1 s timeout, and a tcpdump stopped by a signal leaves the packets of the last block unwritten)
  const child = net.spawn(node, ['tcpdump', '-i', dev, '-n', '-U', '--immediate-mode', '-s', '0', '-Z', 'root', '-w', file]);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump in ${node} did not start: ${stderr.trim()}`)), 10_000);
    const onData = () => {
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump in ${node} exited ${code}: ${stderr.trim()}`));
    });
  });
  return { file, stop: () => stopCapture(child, () => stderr) };
}

async function stopCapture(child: ChildProcess, stderr: () => string): Promise<CaptureStats> {
  // `ip netns exec` execs tcpdump in place, so the child's pid is tcpdump's: SIGTERM makes it flush and close the file
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  const text = stderr();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return { captured: num(/(\d+) packets? captured/), droppedByKernel: num(/(\d+) packets? dropped by kernel/) };
}

export interface CaptureSpan {
  packets: number;
  /** Timestamps of the first and last record, in microseconds since the epoch (tcpdump writes microsecond pcap). */
  first: number;
  last: number;
}

/** Packet count and time span of a classic pcap file (either byte order, micro- or nanosecond stamps). */
export function captureSpan(file: string): CaptureSpan {
  const b = readFileSync(file);
  if (b.length < 24) return { packets: 0, first: 0, last: 0 };
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) throw new Error(`${file}: not a classic pcap file`);
  const nano = (le ? magic : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  let off = 24;
  let packets = 0;
  let first = 0;
  let last = 0;
  while (off + 16 <= b.length) {
    const t = u32(off) * 1e6 + (nano ? Math.floor(u32(off + 4) / 1000) : u32(off + 4));
    if (packets === 0) first = t;
    last = t;
    packets++;
    off += 16 + u32(off + 8);
  }
  return { packets, first, last };
}
