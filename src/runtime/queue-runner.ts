/**
 * One NFQUEUE queue bound and served: every packet read goes through the PacketProcessor and gets
 * its verdict before the callback returns (accept, accept with rewritten bytes, or drop), rejects
 * are answered, and events go to `onEvents`. Used in the main thread (one queue) or inside a
 * worker thread per queue (queue-worker.ts). The inspector can be swapped at any time (SIGHUP): the
 * queue stays bound, so no packet is lost during a reload.
 */
import type { AlertEvent } from './alert-event.js';
import type { PacketInspector } from './inspector.js';
import { NF_ACCEPT, NF_DROP, type NfBinding, type NfHandle, type NfHandleStats, type QueueOptions, type QueuedPacket } from './nf-binding.js';
import { PacketProcessor, type VerdictCounters } from './packet-processor.js';
import { RejectSender } from './reject.js';

export interface QueueRunnerStats {
  queue: number;
  verdicts: VerdictCounters;
  netlink: NfHandleStats | undefined;
  rejectsSent: number;
  rejectsFailed: number;
  blockedSessions: number;
  inspector: string;
  malformed: number;
}

export class QueueRunner {
  private handle: NfHandle | undefined;
  readonly processor: PacketProcessor;
  private readonly rejects: RejectSender;

  constructor(
    private readonly nf: NfBinding,
    readonly queue: number,
    inspector: PacketInspector,
    private readonly onEvents: (events: AlertEvent[]) => void,
    private readonly opts: QueueOptions = {},
  ) {
    this.processor = new PacketProcessor(inspector);
    this.rejects = new RejectSender(nf);
  }

  start(): void {
    this.handle = this.nf.openQueue(this.queue, this.opts, (packets) => this.onPackets(packets));
  }

  /** Swap the rule engine; packets already in flight finish with the old one. */
  setInspector(inspector: PacketInspector): void {
    this.processor.inspector = inspector;
  }

  private onPackets(packets: QueuedPacket[]): void {
    const h = this.handle!;
    let events: AlertEvent[] | undefined;
    for (const pkt of packets) {
      const r = this.processor.process(pkt.data, pkt.tsSec, pkt.tsUsec);
      if (r.verdict === 'accept') this.nf.setVerdict(h, pkt.id, NF_ACCEPT, r.modified);
      else this.nf.setVerdict(h, pkt.id, NF_DROP);
      if (r.reject !== undefined) this.rejects.send(r.reject, pkt);
      if (r.events.length > 0) (events ??= []).push(...r.events);
    }
    if (events !== undefined) this.onEvents(events);
  }

  stats(): QueueRunnerStats {
    return {
      queue: this.queue,
      verdicts: { ...this.processor.counters },
      netlink: this.handle ? this.nf.stats(this.handle) : undefined,
      rejectsSent: this.rejects.sent,
      rejectsFailed: this.rejects.failed,
      blockedSessions: this.processor.blockedSessions,
      inspector: this.processor.inspector.description,
      malformed: this.processor.decodeStats.malformed,
    };
  }

  stop(): void {
    if (this.handle) this.nf.close(this.handle);
    this.handle = undefined;
  }
}
