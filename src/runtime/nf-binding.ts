/**
 * Typed access to the project's native addon (native/, built by node-gyp at npm install time):
 * NFQUEUE and NFLOG through libnetfilter_queue / libnetfilter_log, and AF_PACKET frame sending.
 */
import { createRequire } from 'node:module';

/** A packet read from an NFQUEUE queue. `data` is the IP datagram (a copy, safe to keep). */
export interface QueuedPacket {
  id: number;
  hwProtocol: number;
  hook: number;
  data: Buffer;
  mark: number;
  indev: number;
  outdev: number;
  physindev: number;
  physoutdev: number;
  /** Source MAC of the frame, when the packet came from an Ethernet device. */
  hwaddr?: Buffer;
  tsSec: number;
  tsUsec: number;
}

/** A packet logged to an NFLOG group by the firewall. */
export interface NflogPacket {
  prefix: string;
  data: Buffer;
  hwProtocol: number;
  hook: number;
  mark: number;
  indev: number;
  outdev: number;
  physindev: number;
  physoutdev: number;
  hwaddr?: Buffer;
  /** The link-layer header (the Ethernet header for bridged packets). */
  hwheader?: Buffer;
  tsSec: number;
  tsUsec: number;
}

export interface NfHandleStats {
  number: number;
  received: number;
  /** Times the netlink socket overflowed (the kernel dropped messages for us). */
  enobufs: number;
  recvErrors: number;
  verdicts: number;
  verdictErrors: number;
  wakeups: number;
  dispatches: number;
  callbackErrors: number;
  closed: boolean;
}

export interface QueueOptions {
  /** Kernel queue length (packets); 0 keeps the kernel default (1024). */
  maxLen?: number;
  /** Accept packets when the queue is full instead of dropping them (NFQA_CFG_F_FAIL_OPEN). */
  failOpen?: boolean;
  /** Bytes of each packet copied to user space (default 65535: whole packets). */
  copyRange?: number;
  /** Netlink socket receive buffer (bytes). */
  rcvBuf?: number;
  /** Most packets handed to one callback. */
  maxBatch?: number;
}

export interface LogOptions {
  copyRange?: number;
  /** Flush timeout in 1/100 s (default 5). */
  timeout?: number;
  /** Flush after this many packets (default 16). */
  qthresh?: number;
  nlbufsiz?: number;
  rcvBuf?: number;
  maxBatch?: number;
}

declare const handleBrand: unique symbol;
export interface NfHandle {
  readonly [handleBrand]: true;
}

export const NF_DROP = 0;
export const NF_ACCEPT = 1;

export interface NfBinding {
  openQueue(num: number, opts: QueueOptions, cb: (packets: QueuedPacket[]) => void): NfHandle;
  openLog(group: number, opts: LogOptions, cb: (entries: NflogPacket[]) => void): NfHandle;
  setVerdict(q: NfHandle, id: number, verdict: number, bytes?: Uint8Array): boolean;
  setVerdictBatch(q: NfHandle, id: number, verdict: number): boolean;
  close(h: NfHandle): void;
  stats(h: NfHandle): NfHandleStats;
  sendFrame(ifindex: number, frame: Uint8Array): number;
  ifIndex(name: string): number;
}

let cached: NfBinding | undefined;

/** The addon, or a clear error saying how to build it. */
export function loadNfBinding(): NfBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let mod: { binding?: NfBinding; loadError?: Error };
  try {
    mod = require('honeywall-native') as { binding?: NfBinding; loadError?: Error };
  } catch (err) {
    throw new Error(
      `the native addon (honeywall-native) is not installed (${(err as Error).message.split('\n')[0]}); ` +
        'install the Debian packages libnetfilter-queue-dev libnetfilter-log-dev libhyperscan-dev libpcre2-dev, then run npm ci',
    );
  }
  if (!mod.binding) {
    throw new Error(
      `the native addon did not load (${mod.loadError?.message.split('\n')[0] ?? 'unknown error'}); ` +
        'install libnetfilter-queue-dev libnetfilter-log-dev and run `npm rebuild honeywall-native`',
    );
  }
  cached = mod.binding;
  return cached;
}
