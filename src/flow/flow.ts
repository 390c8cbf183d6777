import { tupleKey } from './key.js';
import { StreamBuffer, type StreamPolicy } from './reassembly.js';

/** Kinds of flows, each with its own limits and timeout (Snort stream5 track_tcp/udp/icmp/ip). */
export type FlowKind = 'tcp' | 'udp' | 'icmp' | 'ip';

/** TCP session state as stream5 tracks it (simplified). */
export type TcpState = 'syn-sent' | 'syn-received' | 'established' | 'closing' | 'closed' | 'none';

/** One side of a flow. */
export class Endpoint {
  /** Address bytes (4 or 16) and port (0 for portless protocols). */
  readonly ip: Uint8Array;
  readonly port: number;
  packets = 0;
  /** Payload bytes sent (every packet counted, retransmissions included). */
  bytes = 0;
  /** Initial sequence number (SYN seq, or first seq seen on midstream pickup); -1 unknown. */
  isn = -1;
  /** Highest sequence number sent + length (Snort's l_unackd view of the sender); -1 unknown. */
  nextSeq = -1;
  finSeen = false;
  rstSeen = false;
  /** Sequence number just past this side's FIN (-1: no FIN sent). */
  finEnd = -1;
  /** Snort's l_window: the window this side advertised last (the rebuilt packets of the peer's data carry it). */
  window = 0;
  /** Snort's l_unackd: the sequence number this side sent last, or the peer's ack beyond it (-1 unknown). */
  lUnackd = -1;
  /** Highest ack the peer sent for this side's data (Snort's r_win_base of the tracker holding it; -1 none). */
  ackedTo = -1;
  /** How this side's queued data is flushed on the peer's ACKs (Snort's flush_mgr): by HTTP message, or footprint. */
  flushPolicy: 'paf' | 'footprint' = 'footprint';
  /** Footprint flush point: acked bytes from which an ACK flushes (Snort's flush_pt; paf_max added once PAF gave up). */
  flushPt = 0;
  /**
   * PAF's place in the queued data, as Snort's paf state keeps it: the first `pafScanned` bytes from sequence number
   * `pafBase` hold no end of a PDU head (each ACK then scans only what it adds; -1: nothing known).
   */
  pafBase = -1;
  pafScanned = 0;
  /**
   * Bytes of the PDU being flushed still to come after PAF flushed part of it at paf_max (stream_paf.c FT_MAX: the
   * flush point moves back by what was flushed; 0: the next flush starts a PDU, Snort's PKT_PDU_HEAD).
   */
  pafLeft = 0;
  /**
   * The length PAF found for the PDU that starts at sequence number `pafPduBase` while it was not all acked yet (0:
   * none): a PDU's length is told by its head, so the ACKs that follow compare against it instead of reading the head
   * again (Snort keeps it as the paf state's flush point). Without it, a PDU announced long and sent one byte a segment
   * was read again, up to paf_max bytes, at every ACK.
   */
  pafPdu = 0;
  pafPduBase = -1;
  /**
   * Snort's session alert list (StreamAlertInfo, at most MAX_SESSION_ALERTS) for the packets this side sends: gid, sid
   * and sequence number per alert, flat. A rebuilt packet does not alert again for a gid:sid in it (fpSessionAlerted).
   */
  alerts: number[] | undefined = undefined;
  /**
   * A session picked up midstream on a data packet queues what a side sends even where stream5 does not reassemble it
   * (observed of Snort 2.9.20 against its own output: the segments are queued and never flushed): nothing is rebuilt
   * from them, but the session's cleanup decodes the first one still queued again (FlushQueuedSegs). The peer's first
   * ACK past the first one's start purges them all, and that side queues nothing more. The first queued segment's
   * sequence number (-1: none) and its flags and TTL (as StreamSegment meta); whether queueing ended.
   */
  unflushedFirst = -1;
  unflushedMeta = 0;
  unflushedEnded = false;
  /**
   * Data sent by this side, waiting to be flushed: made when its first data arrives (undefined before, and when not
   * reassembled), so a flow that never carries data (a SYN flood) holds no reassembly state.
   */
  stream: StreamBuffer | undefined = undefined;
  /** SYN seq + 1 of this side while it has no stream yet (the stream starts there), else -1. */
  synNext = -1;

  /** `ip` is kept as given when `owned` (a view the caller made for this endpoint), else copied. */
  constructor(ip: Uint8Array, port: number, owned = false) {
    this.ip = owned ? ip : ip.slice();
    this.port = port;
  }

  /** Snort stream_size for this side: sequence space used since the ISN (mod 2^32), or bytes when no ISN. */
  get streamSize(): number {
    if (this.isn < 0 || this.nextSeq < 0) return this.bytes;
    return (this.nextSeq - this.isn) >>> 0;
  }

  /** A SYN of this side: where its stream starts (kept until the stream is made). */
  sawSyn(next: number): void {
    if (this.stream !== undefined) this.stream.init(next);
    else if (this.synNext < 0) this.synNext = next;
  }

  enableReassembly(policy: StreamPolicy, maxBytes: number, maxSegs: number): StreamBuffer {
    if (this.stream === undefined) {
      this.stream = new StreamBuffer(policy, maxBytes, maxSegs);
      if (this.synNext >= 0) this.stream.init(this.synNext);
    }
    return this.stream;
  }
}

/**
 * A tracked flow. `client` is the side that sent the SYN (TCP), the first packet (UDP/ICMP/IP),
 * or, for TCP sessions picked up midstream, the side with the higher port (as stream5 guesses).
 */
export class Flow {
  readonly kind: FlowKind;
  readonly proto: number;
  /** The innermost VLAN id (sessions are keyed by it too), 0 without one. */
  readonly vlan: number;
  /** tupleHash of its 5-tuple and VLAN (the flow table's index). */
  readonly hash: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  state: TcpState;
  /** Snort SSNFLAG_ESTABLISHED: 3-way handshake completed, or (midstream / non-TCP) traffic seen both ways. */
  established = false;
  /** Picked up without seeing the SYN (TCP) — always true for UDP/ICMP/IP as in stream5. */
  midstream: boolean;
  startSec: number;
  lastSec: number;
  /** Flowbits set on this flow (the matcher owns the contents), made by the first flowbit set. */
  flowbits: Set<string> | undefined = undefined;
  /**
   * The rules without a fast pattern whose header matches, per direction, found once by the matcher `noFpOwner`
   * (engine.ts; its own fields: a Map entry and its Map per flow cost more than the list, often shared).
   */
  noFpOwner: object | undefined = undefined;
  noFpClient: Int32Array | undefined = undefined;
  noFpServer: Int32Array | undefined = undefined;
  private appMap: Map<string, unknown> | undefined = undefined;
  /**
   * The client's first stream bytes were looked at for a TLS handshake (src/app/session.ts): a flow that starts
   * otherwise keeps no reader, and its app map is not made for it.
   */
  clientSniffed = false;
  /** The handshake completed (Snort's trackers left SYN_SENT/SYN_RCVD): ACKs from then on acknowledge data. */
  synced = false;
  /** The session ended at its last packet (both FINs acknowledged): the next packet of its tuple starts a new one. */
  terminated = false;
  /** Set by the inline runtime after a drop: Snort 2.9 drops the rest of the session. */
  blocked = false;
  /**
   * Capture positions (packet numbers) of the packet that created the flow and of the last one it saw: a replay
   * sharded over threads orders the rebuilt segments of timed-out and remaining flows by them, as one flow table
   * would (least recently seen first, creation order at the end).
   */
  createdIndex = 0;
  lastIndex = 0;

  // intrusive LRU list (most recent at the head)
  /** @internal */ prev: Flow | undefined = undefined;
  /** @internal */ next: Flow | undefined = undefined;

  constructor(
    kind: FlowKind,
    proto: number,
    vlan: number,
    hash: number,
    client: Endpoint,
    server: Endpoint,
    now: number,
    state: TcpState,
    midstream: boolean,
  ) {
    this.kind = kind;
    this.proto = proto;
    this.vlan = vlan;
    this.hash = hash;
    this.client = client;
    this.server = server;
    this.state = state;
    this.midstream = midstream;
    this.startSec = now;
    this.lastSec = now;
  }

  /** Per-flow storage for other modules (e.g. HTTP state under "http"), made when first used. */
  get app(): Map<string, unknown> {
    return (this.appMap ??= new Map());
  }

  /** Whether anything was stored in `app` (without making it). */
  get hasApp(): boolean {
    return this.appMap !== undefined && this.appMap.size > 0;
  }

  /** Its 5-tuple and VLAN as text, the same as flowKey() of any of its packets. */
  get key(): string {
    return tupleKey(this.proto, this.vlan, this.client.ip, this.client.port, this.server.ip, this.server.port);
  }

  /** True once packets were seen from both sides. */
  get seenBoth(): boolean {
    return this.client.packets > 0 && this.server.packets > 0;
  }
}

/**
 * The flow's EVE `flow_id`, laid out as Suricata's FlowGetId: the start time's bits above the flow's hash (here the
 * 30-bit tupleHash, the same both ways), cut to 51 bits so a JSON reader that parses numbers as doubles keeps every
 * digit. What the bits hold: 5 bits of the start second, 16 of its microseconds, then the hash. The same capture
 * always gives the same ids, in one thread or sharded; two flows of the same 5-tuple get different ids unless they
 * start at the same microsecond modulo 32 s. An id, not a key: the store keys flows by its own row number.
 */
export function flowId(f: Flow): number {
  const sec = Math.floor(f.startSec);
  const usec = Math.min(999_999, Math.round((f.startSec - sec) * 1e6));
  return (sec & 0x1f) * 2 ** 46 + (usec & 0xffff) * 2 ** 30 + (f.hash & 0x3fffffff);
}

const APP_PROTO = 'app_proto';

/**
 * Records that an application inspector recognised the flow's protocol (the first one wins, as Suricata's protocol
 * detection settles once). Kept in `Flow.app`, which the inspector has made by then, so flows that carry no
 * application data hold nothing more.
 */
export function setAppProto(f: Flow, proto: string): void {
  if (!f.app.has(APP_PROTO)) f.app.set(APP_PROTO, proto);
}

/** The application protocol recognised on the flow so far (`http`), or undefined. */
export function appProtoOf(f: Flow): string | undefined {
  return f.hasApp ? (f.app.get(APP_PROTO) as string | undefined) : undefined;
}
