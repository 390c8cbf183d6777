/**
 * One NFQUEUE queue bound and served: every packet read goes through the PacketProcessor, and each decision it
 * returns gets its verdict (accept, accept with rewritten bytes, or drop), for that packet or for one held earlier
 * (a TCP segment that waited for a gap to fill, a fragment that waited for its datagram). Rejects are answered,
 * events go to `onEvents`. Used in the main thread (one queue) or inside a worker thread per queue
 * (queue-worker.ts). The rules can be swapped at any time (SIGHUP): the queue stays bound, so no packet is lost
 * during a reload.
 */
import type { AlertEvent } from '../output/alert.js';
import type { GatewayMatcher } from './matcher-loader.js';
import { NF_ACCEPT, NF_DROP, type NfBinding, type NfHandle, type NfHandleStats, type QueueOptions, type QueuedPacket } from './nf-binding.js';
import { PacketProcessor, type ProcessResult, type VerdictCounters } from './packet-processor.js';
import { RejectSender } from './reject.js';

export interface QueueRunnerStats {
  queue: number;
  verdicts: VerdictCounters;
  netlink: NfHandleStats | undefined;
  rejectsSent: number;
  rejectsFailed: number;
  blockedSessions: number;
  heldNow: number;
  stream: Record<string, number>;
  /** The defragmenter's counts (DefragStats: reassembled, timeouts, memcap drops, overlaps, bad fragments). */
  defrag: Record<string, number>;
  limits: ReturnType<PacketProcessor<QueuedPacket>['inline']['matcher']['limits']['report']>;
  inspector: string;
  malformed: number;
}

/** How often held packets are checked for an expired wait (ms). */
const EXPIRE_EVERY_MS = 250;

export class QueueRunner {
  private handle: NfHandle | undefined;
  readonly processor: PacketProcessor<QueuedPacket>;
  private readonly rejects: RejectSender;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nf: NfBinding,
    readonly queue: number,
    loaded: GatewayMatcher,
    private readonly onEvents: (events: AlertEvent[]) => void,
    private readonly opts: QueueOptions = {},
  ) {
    this.processor = new PacketProcessor<QueuedPacket>(loaded);
    this.rejects = new RejectSender(nf);
  }

  start(): void {
    this.handle = this.nf.openQueue(this.queue, this.opts, (packets) => this.onPackets(packets));
    this.timer = setInterval(() => this.apply(this.processor.expire()), EXPIRE_EVERY_MS);
    this.timer.unref();
  }

  /** Swap the rules; packets still held by the old ones are dropped (their streams are gone). */
  setMatcher(loaded: GatewayMatcher): void {
    this.apply(this.processor.setMatcher(loaded));
  }

  private onPackets(packets: QueuedPacket[]): void {
    let events: AlertEvent[] | undefined;
    for (const pkt of packets) {
      for (const r of this.processor.process(pkt.data, pkt.tsSec, pkt.tsUsec, pkt, pkt)) {
        this.verdict(r);
        if (r.events.length > 0) (events ??= []).push(...r.events);
      }
    }
    if (events !== undefined) this.onEvents(events);
  }

  private apply(results: ProcessResult<QueuedPacket>[]): void {
    if (results.length === 0 || this.handle === undefined) return;
    const events: AlertEvent[] = [];
    for (const r of results) {
      this.verdict(r);
      events.push(...r.events);
    }
    if (events.length > 0) this.onEvents(events);
  }

  private verdict(r: ProcessResult<QueuedPacket>): void {
    const h = this.handle;
    if (h === undefined) return;
    if (r.verdict === 'accept') this.nf.setVerdict(h, r.handle.id, NF_ACCEPT, r.modified);
    else this.nf.setVerdict(h, r.handle.id, NF_DROP);
    if (r.reject !== undefined) this.rejects.send(r.reject, r.handle);
  }

  stats(): QueueRunnerStats {
    const inline = this.processor.inline;
    let blocked = 0;
    for (const f of inline.flows.values()) if (f.blocked) blocked++;
    return {
      queue: this.queue,
      verdicts: { ...this.processor.counters },
      netlink: this.handle ? this.nf.stats(this.handle) : undefined,
      rejectsSent: this.rejects.sent,
      rejectsFailed: this.rejects.failed,
      blockedSessions: blocked,
      heldNow: inline.heldNow,
      stream: { ...inline.stats, ...inline.stats.events, events: undefined } as unknown as Record<string, number>,
      // datagrams the defragmenter let go at its memcaps (their fragments end as 1000:5, fragments that never completed)
      defrag: { ...inline.defrag.stats },
      limits: inline.matcher.limits.report(20),
      inspector: this.processor.description,
      malformed: this.processor.decodeStats.malformed,
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.handle) this.nf.close(this.handle);
    this.handle = undefined;
  }
}
