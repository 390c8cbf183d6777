/**
 * The compiled form of a rule: plain data (JSON-serialisable once byte arrays are encoded), produced at compile time
 * by `compile.ts` and read at run time by the matcher and the reference evaluator. Nothing here parses rules.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import type { EventQueueConfig } from './event-filters.js';

/** The buffers a payload option can read. `pkt` is the packet (or rebuilt segment) payload. */
export const BUFFERS = [
  'pkt',
  'file_data',
  'base64',
  'http_uri',
  'http_raw_uri',
  'http_header',
  'http_raw_header',
  'http_cookie',
  'http_raw_cookie',
  'http_method',
  'http_client_body',
  'http_stat_code',
  'http_stat_msg',
  // honeywall's own buffers, which only the Suricata reader writes (Suricata's dns.query and tls.sni; src/app)
  'dns_query',
  'tls_sni',
] as const;
export type BufferName = (typeof BUFFERS)[number];

/** A number or a byte_extract variable slot (0 or 1). */
export type Value = number | { var: number };

export interface ContentOp {
  op: 'content';
  buf: BufferName;
  bytes: Uint8Array;
  nocase: boolean;
  negated: boolean;
  relative: boolean;
  /** offset/depth (absolute) or distance/within (relative); undefined when absent. */
  offset?: Value;
  depth?: Value;
  distance?: Value;
  within?: Value;
  /** fast_pattern:only: never verified, the prefilter hit is the match. */
  fpOnly: boolean;
  /** Snort's pattern_max_jump_size: how far a retry moves the search start past the previous match's start. */
  jump: number;
  /** `replace:` bytes (inline mode rewrites the matched content with them); the matcher itself does not apply them. */
  replace?: Uint8Array;
}

export interface PcreOp {
  op: 'pcre';
  buf: BufferName;
  /** The regular expression between the delimiters, as written in the rule (PCRE syntax, run by PCRE2). */
  pattern: string;
  /** PCRE compile options (src/native/engine.ts PCRE_*: Snort's i s m x A E G). */
  options: number;
  negated: boolean;
  relative: boolean;
  /** `O`: Snort's pcre_match_limit does not apply (PCRE's larger default does; the step budget still does). */
  overrideLimit: boolean;
  /** The pattern as written in the rule (for reports). */
  text: string;
}

export type Endian = 'big' | 'little';

export interface ByteTestOp {
  op: 'byte_test';
  bytes: number;
  operator: '<' | '>' | '=' | '!' | '&' | '^' | '<=' | '>=';
  not: boolean;
  value: Value;
  offset: Value;
  relative: boolean;
  endian: Endian;
  string?: 'hex' | 'dec' | 'oct';
  bitmask?: number;
  dce: boolean;
}

export interface ByteJumpOp {
  op: 'byte_jump';
  bytes: number;
  offset: Value;
  relative: boolean;
  multiplier: number;
  align: boolean;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset: number;
  endian: Endian;
  string?: 'hex' | 'dec' | 'oct';
  bitmask?: number;
  dce: boolean;
}

export interface ByteExtractOp {
  op: 'byte_extract';
  bytes: number;
  offset: number;
  slot: number;
  relative: boolean;
  multiplier: number;
  align: number;
  endian: Endian;
  string?: 'hex' | 'dec' | 'oct';
  bitmask?: number;
  dce: boolean;
}

export interface IsDataAtOp {
  op: 'isdataat';
  offset: Value;
  relative: boolean;
  negated: boolean;
  rawbytes: boolean;
}

/** file_data / pkt_data / base64_data / dns_query / tls_sni: switch the detection buffer (cursor to its start). */
export interface SetBufferOp {
  op: 'set_buffer';
  buf: 'pkt' | 'file_data' | 'base64' | 'dns_query' | 'tls_sni';
}

export interface Base64DecodeOp {
  op: 'base64_decode';
  bytes: number;
  offset: number;
  relative: boolean;
}

export type PayloadOp = ContentOp | PcreOp | ByteTestOp | ByteJumpOp | ByteExtractOp | IsDataAtOp | SetBufferOp | Base64DecodeOp;

export interface NumTest {
  op: '=' | '<' | '>' | '<=' | '>=' | '!' | '<>' | '<=>';
  a: number;
  b?: number;
}

/** Header / non-payload checks, all ANDed. */
export type HeaderTest =
  | { t: 'dsize'; test: NumTest }
  | { t: 'ttl'; test: NumTest }
  | { t: 'tos'; test: NumTest }
  | { t: 'id'; test: NumTest }
  | { t: 'seq'; value: number }
  | { t: 'ack'; value: number }
  | { t: 'window'; test: NumTest }
  | { t: 'itype'; test: NumTest }
  | { t: 'icode'; test: NumTest }
  | { t: 'icmp_id'; value: number }
  | { t: 'icmp_seq'; value: number }
  /**
   * decodeTime: the rule's only detection option, which Snort 2.9.20 evaluates as it decodes each IP header (decode.c
   * fpEvalIpProtoOnlyRules), not with the other rules (see Matcher.decodeTimeMatches).
   */
  | { t: 'ip_proto'; test: NumTest; decodeTime?: true }
  | { t: 'sameip' }
  /** fragoffset: the fragment offset in bytes compared as sp_ip_fragbits.c CheckFragOffset does. */
  | { t: 'fragoffset'; op: '=' | '!' | '<' | '>'; value: number }
  | { t: 'ipopts'; option: number }
  | { t: 'fragbits'; bits: number; mode: 'exact' | 'any' | 'all' | 'not' }
  | { t: 'flags'; bits: number; mode: 'exact' | 'any' | 'all' | 'not'; mask: number }
  | { t: 'stream_size'; side: 'client' | 'server' | 'both' | 'either'; test: NumTest }
  | { t: 'urilen'; test: NumTest; raw: boolean }
  /** ssl_state / ssl_version, read from the TLS record in this packet (Snort tracks them per session). */
  | { t: 'ssl_state'; states: number[]; negated: boolean[] }
  | { t: 'ssl_version'; versions: number[]; negated: boolean[] }
  /** ftpbounce: the PORT command's address differs from the client's. */
  | { t: 'ftpbounce' }
  /** A keyword whose check is not implemented: the rule never fires (asn1). */
  | { t: 'never'; keyword: string };

/** The header test of one kind (`HeaderOf<'dsize'>`): what that keyword's evaluation in src/keywords reads. */
export type HeaderOf<T extends HeaderTest['t']> = Extract<HeaderTest, { t: T }>;

export interface FlowTest {
  established?: boolean;
  notEstablished?: boolean;
  stateless?: boolean;
  toServer?: boolean;
  toClient?: boolean;
  onlyStream?: boolean;
  noStream?: boolean;
  /** flow:only_frag / no_frag: only / never a datagram frag3 rebuilt (PKT_REBUILT_FRAG). */
  onlyFrag?: boolean;
  noFrag?: boolean;
}

export interface FlowbitsOp {
  cmd: 'set' | 'unset' | 'toggle' | 'isset' | 'isnotset' | 'noalert' | 'reset';
  bits: string[];
  /** `a|b` (any) or `a&b` (all) for checks. */
  any: boolean;
  /**
   * Suricata's xbits (match/xbits.ts): the bit (one, named by xbitName) is kept on the packet's source or destination
   * host or on its address pair, across flows, not on the flow. Undefined for flowbits.
   */
  track?: 'ip_src' | 'ip_dst' | 'ip_pair';
  /** xbits: seconds of packet time the bit stays set (set, toggle). */
  expire?: number;
}

export interface ThresholdSpec {
  type: 'limit' | 'threshold' | 'both';
  track: 'by_src' | 'by_dst';
  count: number;
  seconds: number;
}

export interface DetectionFilterSpec {
  track: 'by_src' | 'by_dst';
  count: number;
  seconds: number;
}

export type RuleAction = 'alert' | 'log' | 'pass' | 'drop' | 'sdrop' | 'reject' | 'activate' | 'dynamic';

/** The fast pattern the prefilter looks for (a content of the rule, possibly a slice of it). */
export interface FastPattern {
  buf: BufferName;
  bytes: Uint8Array;
  nocase: boolean;
}

export interface RulePlan {
  /** Index in the plan's rule list. */
  index: number;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | undefined;
  classDescription: string | undefined;
  priority: number;
  action: RuleAction;
  proto: 'tcp' | 'udp' | 'icmp' | 'ip';
  src: AddressSet;
  srcPorts: PortSet;
  dst: AddressSet;
  dstPorts: PortSet;
  bidirectional: boolean;
  flow: FlowTest | undefined;
  flowbits: FlowbitsOp[];
  headers: HeaderTest[];
  ops: PayloadOp[];
  fastPattern: FastPattern | undefined;
  threshold: ThresholdSpec | undefined;
  detectionFilter: DetectionFilterSpec | undefined;
  /** The length of the content that is the fast pattern, 0 without one (Snort's order_events content_length). */
  contentLength: number;
  /** Its nodes in Snort's rule tree, for rules with flowbits or a detection_filter (compile.ts treeOf). */
  tree?: RuleTree;
  file: string;
  line: number;
}

/**
 * A rule's nodes in Snort's rule tree: one key per node in the rule's order (rules share a node while their keys
 * agree from the first), and where each of its flowbits operations (rule.flowbits[j]) is among them.
 */
export interface RuleTree {
  keys: string[];
  flowbitsAt: number[];
}

/** event_filter / suppress / rate_filter from threshold.conf. */
export interface EventFilterPlan {
  kind: 'event_filter' | 'suppress';
  gid: number;
  /** 0 = every sid of the gid. */
  sid: number;
  type?: 'limit' | 'threshold' | 'both';
  track?: 'by_src' | 'by_dst';
  count?: number;
  seconds?: number;
  /** suppress: addresses (resolved) the suppression applies to; undefined = all. */
  ip?: AddressSet;
}

/** What decides the events besides the rules: event filters, the action order, the event queue. */
export interface MatcherPolicy {
  filters: EventFilterPlan[];
  /** Rule type order (`config order`). */
  actionOrder: RuleAction[];
  /** config event_queue and the detection engine's max_queue_events: what is queued and logged per packet. */
  eventQueue: EventQueueConfig;
}

export interface MatcherPlan extends MatcherPolicy {
  rules: RulePlan[];
}

/**
 * The order Snort 2.9.20 applies by default, as its own output on suricata-verify shows (util-action-*, ips-state-1):
 * a matching pass rule suppresses drop and alert rules on the packet. HONEYWALL.md section 2 lists pass after alert;
 * that is the order of the old `-o`-less Snort 2.0 docs, not what Snort 2.9.20 does.
 */
/**
 * The event queue when the configuration does not say: Snort 2.9.20's shipped etc/snort.conf (`config event_queue:
 * max_queue 8 log 5 order_events content_length`, as base.conf) and fpcreate.c's max_queue_events (5).
 */
export const DEFAULT_EVENT_QUEUE: EventQueueConfig = Object.freeze({
  maxQueueEvents: 5,
  maxEvents: 8,
  log: 5,
  order: 'content_length',
  processAll: false,
}) as EventQueueConfig;

export const DEFAULT_ACTION_ORDER: RuleAction[] = ['activate', 'dynamic', 'pass', 'drop', 'sdrop', 'reject', 'alert', 'log'];
