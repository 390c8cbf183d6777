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
  /**
   * The session table's counts (FlowTable.stats): sessions made per protocol, timed out, evicted at its limits (max_tcp
   * and its kin, which a honeypot's scan or flood can reach: an evicted session's later packets start a new one, its
   * flowbits and block flag gone), packets that opened none; and the sessions held now.
   */
  flows: { created: Record<string, number>; timedOut: number; evicted: number; noSession: number; held: number };
  stream: Record<string, number>;
  /** The defragmenter's counts (DefragStats: reassembled, timeouts, memcap drops, overlaps, bad fragments). */
  defrag: Record<string, number>;
  limits: ReturnType<PacketProcessor<QueuedPacket>['inline']['matcher']['limits']['report']>;
  inspector: string;
  malformed: number;
  /**
   * The DNS and ClientHello readers' counts (src/app: requests, malformed, names cut, gaps; ClientHellos, with SNI,
   * malformed, too long) and the xbits the full table dropped (match/xbits.ts).
   */
  app: { dns: Record<string, number>; tls: Record<string, number>; xbitsEvicted: number };
}

/** How often held packets are checked for an expired wait (ms). */
const EXPIRE_EVERY_MS = 250;
/**
 * Verdicts without bytes collected before they are handed to the addon in one call (pairs); a batch with more is
 * handed over in several calls. The addon sends all of a batch's verdicts in one message when its callback returns.
 */
const PENDING_PAIRS = 256;

export class QueueRunner {
  private handle: NfHandle | undefined;
  readonly processor: PacketProcessor<QueuedPacket>;
  private readonly rejects: RejectSender;
  private timer: NodeJS.Timeout | undefined;
  /** Verdicts not yet handed to the addon: (id, verdict) pairs, in the order they were given. */
  private readonly pending = new Uint32Array(2 * PENDING_PAIRS);
  private npending = 0;

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
    // one reading of the clock a batch: it times holds only (how long a segment may wait), never a match
    const now = this.processor.clock.now();
    for (let i = 0; i < packets.length; i++) {
      const pkt = packets[i]!;
      const results = this.processor.process(pkt.data, pkt.tsSec, pkt.tsUsec, pkt, pkt, now);
      for (let k = 0; k < results.length; k++) {
        const r = results[k]!;
        this.verdict(r);
        if (r.events.length > 0) (events ??= []).push(...r.events);
      }
    }
    this.flush();
    if (events !== undefined) this.onEvents(events);
  }

  private apply(results: ProcessResult<QueuedPacket>[]): void {
    if (results.length === 0 || this.handle === undefined) return;
    const events: AlertEvent[] = [];
    for (const r of results) {
      this.verdict(r);
      events.push(...r.events);
    }
    this.flush();
    if (events.length > 0) this.onEvents(events);
  }

  /**
   * A verdict, in order with the others: one without bytes waits in `pending` (handed over with the batch's others),
   * one with bytes goes at once, after those before it.
   */
  private verdict(r: ProcessResult<QueuedPacket>): void {
    const h = this.handle;
    if (h === undefined) return;
    if (r.verdict === 'accept' && r.modified !== undefined) {
      this.flush();
      this.nf.setVerdict(h, r.handle.id, NF_ACCEPT, r.modified);
    } else {
      if (this.npending === PENDING_PAIRS) this.flush();
      const at = 2 * this.npending++;
      this.pending[at] = r.handle.id;
      this.pending[at + 1] = r.verdict === 'accept' ? NF_ACCEPT : NF_DROP;
    }
    if (r.reject !== undefined) {
      // the answer follows the drop, as before verdicts were collected
      this.flush();
      this.rejects.send(r.reject, r.handle);
    }
  }

  /** Hands the collected verdicts to the addon (sent when the batch's callback returns, or at once outside one). */
  private flush(): void {
    if (this.npending === 0 || this.handle === undefined) return;
    this.nf.setVerdicts(this.handle, this.pending, this.npending);
    this.npending = 0;
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
      flows: {
        created: { ...inline.flows.stats.created },
        timedOut: inline.flows.stats.timedOut,
        evicted: inline.flows.stats.evicted,
        noSession: inline.flows.stats.noSession,
        held: inline.flows.size,
      },
      stream: { ...inline.stats, ...inline.stats.events, events: undefined } as unknown as Record<string, number>,
      // datagrams the defragmenter let go at its memcaps (their fragments end as 1000:5, fragments that never completed)
      defrag: { ...inline.defrag.stats },
      limits: inline.matcher.limits.report(20),
      inspector: this.processor.description,
      malformed: this.processor.decodeStats.malformed,
      app: { dns: { ...inline.app.stats.dns }, tls: { ...inline.app.stats.tls }, xbitsEvicted: inline.matcher.stats.xbitsEvicted },
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
    if (this.handle) this.nf.close(this.handle);
    this.handle = undefined;
  }
}
