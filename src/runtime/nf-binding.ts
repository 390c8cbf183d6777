/**
 * Typed access to the project's native addon (native/, built by node-gyp at npm install time):
 * NFQUEUE and NFLOG through libnetfilter_queue / libnetfilter_log, and AF_PACKET frame sending.
 */
import { createRequire } from 'node:module';

/**
 * A packet read from an NFQUEUE queue. `data` is the IP datagram as a view of the batch's buffer: valid during the
 * callback only (the next batch is read into the same buffer); what must outlive it is copied (the inline inspector
 * copies the packets it holds, see InlineOptions.keep).
 */
export interface QueuedPacket {
  id: number;
  hwProtocol: number;
  hook: number;
  data: Uint8Array;
  mark: number;
  indev: number;
  outdev: number;
  physindev: number;
  physoutdev: number;
  /** Source MAC of the frame, when the packet came from an Ethernet device. */
  hwaddr?: Buffer;
  tsSec: number;
  tsUsec: number;
  /**
   * A GSO/GRO super-packet (queue opened with `gso`): several segments' worth of one flow in one datagram (up to
   * 64 KB), segmented by the kernel only after the verdict. Its IP total length is its whole length.
   */
  gso: boolean;
  /**
   * The transport checksum is not computed yet (CHECKSUM_PARTIAL: the sender left it to the NIC or to segmentation).
   * Only with `gso`: without it the kernel completes the checksum before copying. Never verify such a packet's
   * checksum; a rewritten one must carry a full checksum (the kernel then takes it as it is, and segmentation
   * computes each segment's).
   */
  csumNotReady: boolean;
  /** The packet's whole length when the kernel copied less of it (over the 65,531 bytes a message can carry), else 0. */
  truncatedFrom: number;
}

/** NFQA_SKB_INFO bits (linux/netfilter/nfnetlink_queue.h). */
const SKB_CSUMNOTREADY = 1;
const SKB_GSO = 2;

/** The words of one packet in a batch's `meta` (native/src/honeywall_nf.c, QMETA_*). */
const M_ID = 0;
const M_HWPROTO = 1;
const M_HOOK = 2;
const M_MARK = 3;
const M_INDEV = 4;
const M_OUTDEV = 5;
const M_PHYSINDEV = 6;
const M_PHYSOUTDEV = 7;
const M_HWLEN = 8;
const M_HW0 = 9;
const M_TSSEC = 11;
const M_TSUSEC = 12;
const M_OFFSET = 13;
const M_LENGTH = 14;
const M_INFO = 15;
const M_CAPLEN = 16;
export const META_STRIDE = 17;

/** The queue's callback as the addon calls it: `count` packets in `meta` and `data`, both reused by the next batch. */
export type NativeQueueCallback = (count: number, meta: Uint32Array, data: Uint8Array) => void;

/**
 * The packets of a native batch as objects, each `data` a view of the batch buffer (no copy: a copy of every packet
 * cost a third of the JS time of a small UDP packet; the few kept past the callback are copied by their keeper).
 */
export function unpackBatch(count: number, meta: Uint32Array, data: Uint8Array): QueuedPacket[] {
  const out: QueuedPacket[] = new Array<QueuedPacket>(count);
  for (let i = 0; i < count; i++) out[i] = new BatchPacket(meta, i * META_STRIDE, data);
  return out;
}

class BatchPacket implements QueuedPacket {
  id: number;
  hwProtocol: number;
  hook: number;
  data: Uint8Array;
  mark: number;
  indev: number;
  outdev: number;
  physindev: number;
  physoutdev: number;
  tsSec: number;
  tsUsec: number;
  gso: boolean;
  csumNotReady: boolean;
  truncatedFrom: number;
  private readonly hwlen: number;
  private readonly hw0: number;
  private readonly hw1: number;

  constructor(m: Uint32Array, o: number, data: Uint8Array) {
    this.id = m[o + M_ID]!;
    this.hwProtocol = m[o + M_HWPROTO]!;
    this.hook = m[o + M_HOOK]!;
    this.mark = m[o + M_MARK]!;
    this.indev = m[o + M_INDEV]!;
    this.outdev = m[o + M_OUTDEV]!;
    this.physindev = m[o + M_PHYSINDEV]!;
    this.physoutdev = m[o + M_PHYSOUTDEV]!;
    this.tsSec = m[o + M_TSSEC]!;
    this.tsUsec = m[o + M_TSUSEC]!;
    const off = m[o + M_OFFSET]!;
    // a view: the batch buffer is overwritten by the next read, so whatever keeps a packet longer copies it
    this.data = new Uint8Array(data.buffer, data.byteOffset + off, m[o + M_LENGTH]!);
    const info = m[o + M_INFO]!;
    this.gso = (info & SKB_GSO) !== 0;
    this.csumNotReady = (info & SKB_CSUMNOTREADY) !== 0;
    this.truncatedFrom = m[o + M_CAPLEN]!;
    this.hwlen = m[o + M_HWLEN]!;
    this.hw0 = m[o + M_HW0]!;
    this.hw1 = m[o + M_HW0 + 1]!;
  }

  /** Made when asked for (only a reject needs it): the words hold the address bytes in memory order. */
  get hwaddr(): Buffer | undefined {
    if (this.hwlen === 0) return undefined;
    const b = Buffer.alloc(8);
    b.writeUInt32LE(this.hw0, 0);
    b.writeUInt32LE(this.hw1, 4);
    return b.subarray(0, this.hwlen);
  }
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
  /** Queues: datagrams of verdicts sent (verdicts given during a batch go out together). */
  verdictSends?: number;
  /** Queues: packets dropped because a read held more than a batch (not expected: one packet a message). */
  overflowDropped?: number;
  /** Queues: whether the kernel took NFQA_CFG_F_GSO. */
  gso?: boolean;
  gsoPackets?: number;
  gsoBytes?: number;
  csumNotReady?: number;
  /** Queues: packets the kernel copied only in part (NFQA_CAP_LEN). */
  truncated?: number;
  largestPacket?: number;
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
  /** Bytes a batch's packets are read into (default 1 MiB; at least one 64 KB packet). */
  batchBytes?: number;
  /**
   * Queue GSO/GRO super-packets whole (NFQA_CFG_F_GSO) instead of having the kernel cut them into MTU-sized
   * segments first: fewer, larger packets (a bulk TCP transfer in up to 64 KB pieces), the verdict applying to the
   * whole. Their transport checksum may be partial (`csumNotReady`).
   */
  gso?: boolean;
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
  /** `count` verdicts without bytes as (id, verdict) pairs, in order: as many setVerdict calls, in one. */
  setVerdicts(q: NfHandle, pairs: Uint32Array, count: number): boolean;
  setVerdictBatch(q: NfHandle, id: number, verdict: number): boolean;
  close(h: NfHandle): void;
  stats(h: NfHandle): NfHandleStats;
  sendFrame(ifindex: number, frame: Uint8Array): number;
  ifIndex(name: string): number;
}

/** The addon as it is: openQueue hands over packed batches (see unpackBatch). */
export interface NativeNfBinding extends Omit<NfBinding, 'openQueue'> {
  openQueue(num: number, opts: QueueOptions, cb: NativeQueueCallback): NfHandle;
}

let cached: NfBinding | undefined;

/** The addon, or a clear error saying how to build it. */
export function loadNfBinding(): NfBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let mod: { binding?: NativeNfBinding; loadError?: Error };
  try {
    mod = require('honeywall-native') as { binding?: NativeNfBinding; loadError?: Error };
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
  const native = mod.binding;
  cached = {
    openQueue: (num, opts, cb) => native.openQueue(num, opts, (count, meta, data) => cb(unpackBatch(count, meta, data))),
    openLog: (group, opts, cb) => native.openLog(group, opts, cb),
    setVerdict: (q, id, verdict, bytes) => native.setVerdict(q, id, verdict, bytes),
    setVerdicts: (q, pairs, count) => native.setVerdicts(q, pairs, count),
    setVerdictBatch: (q, id, verdict) => native.setVerdictBatch(q, id, verdict),
    close: (h) => native.close(h),
    stats: (h) => native.stats(h),
    sendFrame: (ifindex, frame) => native.sendFrame(ifindex, frame),
    ifIndex: (name) => native.ifIndex(name),
  };
  return cached;
}
