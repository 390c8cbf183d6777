/**
 * The one place that says how Suricata 5-7 rule syntax maps onto honeywall's engine (Snort 2.9's rule language and
 * buffers): per Suricata keyword, per sticky buffer, per header protocol and action. `translate.ts` only follows
 * these tables; a keyword that is not in SURICATA_KEYWORDS has no mapping, and its rule is refused with the reason.
 *
 * Sources: Suricata's rule documentation (doc/userguide/rules/*.rst: http-keywords, payload-keywords,
 * flow-keywords, xbits, intro "Protocol"), its keyword registry (src/detect-engine-register.c, detect-http-*.c,
 * detect-bsize.c, detect-content.c for startswith/endswith).
 */
import type { HttpBuffer } from '../keywords/content.js';

/**
 * The buffers a Snort-form cursor keyword selects: the packet/stream and the file data (Snort's), the DNS question name
 * and the TLS server name (honeywall's own, src/app: Snort 2.9 has no such buffers, so only this reader writes them).
 */
export type CursorSuricataBuffer = 'pkt' | 'file_data' | 'dns_query' | 'tls_sni';

/** Where a Suricata payload keyword looks: a cursor buffer, or one of the engine's HTTP buffers. */
export type SuricataBuffer = CursorSuricataBuffer | HttpBuffer;

export function isCursorBuffer(b: SuricataBuffer): b is CursorSuricataBuffer {
  return b === 'pkt' || b === 'file_data' || b === 'dns_query' || b === 'tls_sni';
}

/** How one of the engine's buffers is named in Snort 2.9 syntax. */
export interface BufferForm {
  /** The Snort content modifier (`http_uri`), for an HTTP buffer; contents get it appended. */
  modifier?: HttpBuffer;
  /** The PCRE flag Snort 2.9 uses for the buffer (sp_pcre.c: U I H D C K M P S Y); pcre gets it added. */
  pcreFlag?: string;
  /** The cursor keyword for a non-HTTP buffer (`file_data`, `pkt_data`, `dns_query`, `tls_sni`): emitted before the first option. */
  cursor?: 'file_data' | 'pkt_data' | 'dns_query' | 'tls_sni';
}

export const BUFFER_FORMS: Readonly<Record<SuricataBuffer, BufferForm>> = {
  pkt: { cursor: 'pkt_data' },
  file_data: { cursor: 'file_data' },
  dns_query: { cursor: 'dns_query' },
  tls_sni: { cursor: 'tls_sni' },
  http_uri: { modifier: 'http_uri', pcreFlag: 'U' },
  http_raw_uri: { modifier: 'http_raw_uri', pcreFlag: 'I' },
  http_header: { modifier: 'http_header', pcreFlag: 'H' },
  http_raw_header: { modifier: 'http_raw_header', pcreFlag: 'D' },
  http_cookie: { modifier: 'http_cookie', pcreFlag: 'C' },
  http_raw_cookie: { modifier: 'http_raw_cookie', pcreFlag: 'K' },
  http_method: { modifier: 'http_method', pcreFlag: 'M' },
  http_client_body: { modifier: 'http_client_body', pcreFlag: 'P' },
  http_stat_code: { modifier: 'http_stat_code', pcreFlag: 'S' },
  http_stat_msg: { modifier: 'http_stat_msg', pcreFlag: 'Y' },
};

/** Suricata's pcre buffer flags (detect-pcre.c) and the buffer each names; the ones it has and Snort lacks are refused. */
export const PCRE_BUFFER_FLAGS: Readonly<Record<string, SuricataBuffer | { refused: string }>> = {
  U: 'http_uri',
  I: 'http_raw_uri',
  H: 'http_header',
  D: 'http_raw_header',
  C: 'http_cookie',
  K: 'http_raw_cookie',
  M: 'http_method',
  P: 'http_client_body',
  S: 'http_stat_code',
  Y: 'http_stat_msg',
  Q: 'file_data',
  V: { refused: 'pcre flag V (http.user_agent) has no buffer in the engine (Snort 2.9 has no user-agent buffer)' },
  W: { refused: 'pcre flag W (http.host) has no buffer in the engine (Snort 2.9 has no host buffer)' },
  Z: { refused: 'pcre flag Z (http.host.raw) has no buffer in the engine (Snort 2.9 has no host buffer)' },
};

export type SuricataMapping =
  /**
   * The same keyword, grammar and meaning in Snort 2.9: written through unchanged (the Snort spec still checks it).
   * `suricata` handles the values Suricata added: the same test in Snort's grammar (`rewrite`), or the reason there
   * is none (`refuse`); undefined leaves the value as it is.
   */
  | { kind: 'same'; suricata?: (value: string) => { rewrite: string } | { refuse: string } | undefined }
  /** A Suricata 5+ sticky buffer: the payload options after it look in `buffer`. */
  | { kind: 'sticky'; buffer: SuricataBuffer }
  /** The Suricata 5 content-modifier form (`content:"x"; http_uri;`): the one content before it looks in `buffer`. */
  | { kind: 'modifier'; buffer: SuricataBuffer }
  /** A content modifier Snort 2.9 has under the same name (nocase, depth, ...): stays with its content. */
  | { kind: 'content-modifier' }
  /** startswith / endswith (detect-content.c): an anchored content, written as depth/offset or isdataat. */
  | { kind: 'anchor'; at: 'start' | 'end' }
  /** bsize (detect-bsize.c): the sticky buffer's length, written as a pair of absolute isdataat tests. */
  | { kind: 'bsize' }
  /** `noalert;` (Suricata's keyword) is Snort's `flowbits:noalert;`. */
  | { kind: 'noalert' }
  /**
   * A payload keyword of Snort's that reads the cursor's buffer: allowed in the cursor buffers only. `suricata`
   * gives the reason a value Suricata accepts has no Snort 2.9 form.
   */
  | { kind: 'cursor-reader'; suricata?: (value: string) => { refuse: string } | undefined }
  /** No effect on what matches (Suricata's EVE output only): left out, said in an info diagnostic. */
  | { kind: 'output-only'; why: string }
  /** No mapping: the rule is refused with `why`. */
  | { kind: 'refused'; why: string };

const same: SuricataMapping = { kind: 'same' };

/** dsize's Suricata 7 operators (detect-dsize.c): <= and >= are < and > one further; != has no Snort form. */
function dsizeValue(v: string): { rewrite: string } | { refuse: string } | undefined {
  const m = /^\s*(<=|>=|!)\s*(\d{1,5})\s*$/.exec(v);
  if (m === null) return undefined;
  const n = Number(m[2]);
  if (m[1] === '<=') return { rewrite: `<${n + 1}` };
  if (m[1] === '>=') return n === 0 ? { refuse: 'dsize:>=0 is every packet: write no dsize' } : { rewrite: `>${n - 1}` };
  return { refuse: `dsize:!${n} (size other than ${n}) has no Snort 2.9 form` };
}

/** threshold / detection_filter values Suricata added (detect-threshold.c): tracks and types Snort 2.9 does not keep. */
function thresholdValue(v: string): { refuse: string } | undefined {
  const track = /track\s*[, ]\s*(by_rule|by_flow|by_both)/.exec(v);
  if (track !== null) return { refuse: `track ${track[1]}: Snort 2.9 counts by_src or by_dst only` };
  if (/type\s*[, ]\s*backoff/.test(v)) return { refuse: 'type backoff: Snort 2.9 has limit, threshold and both only' };
  if (/unique_on/.test(v)) return { refuse: 'unique_on (distinct ports) has no Snort 2.9 form' };
  return undefined;
}
/**
 * byte_test, byte_jump and byte_extract values Suricata 7 takes and Snort 2.9 does not (detect-bytejump.c,
 * detect-bytetest.c; sp_byte_jump.c, sp_byte_check.c, sp_byte_extract.c): a byte_jump byte count read from a
 * byte_extract variable, and offsets past Snort's +-65535. `offsetAt`: the offset's field.
 */
function byteValue(kw: 'byte_test' | 'byte_jump' | 'byte_extract'): (v: string) => { refuse: string } | undefined {
  const offsetAt = kw === 'byte_test' ? 3 : 1;
  return (v) => {
    const fields = v.split(',').map((f) => f.trim());
    if (kw === 'byte_jump' && fields[0] !== undefined && !/^\d+$/.test(fields[0]))
      return { refuse: `a byte count read from a variable (${fields[0].slice(0, 32)}): Snort 2.9's byte_jump takes a number` };
    const offset = fields[offsetAt];
    if (offset !== undefined && /^-?\d+$/.test(offset) && Math.abs(Number(offset)) > 65535)
      return { refuse: `offset ${offset.slice(0, 16)} is beyond Snort 2.9's -65535..65535` };
    return undefined;
  };
}
const mod: SuricataMapping = { kind: 'content-modifier' };
const reader: SuricataMapping = { kind: 'cursor-reader' };
const sticky = (buffer: SuricataBuffer): SuricataMapping => ({ kind: 'sticky', buffer });
const modifier = (buffer: SuricataBuffer): SuricataMapping => ({ kind: 'modifier', buffer });
const refused = (why: string): SuricataMapping => ({ kind: 'refused', why });
const noBuffer = (what: string): SuricataMapping =>
  refused(`the engine has no ${what} buffer (Snort 2.9's http_inspect and preprocessors do not extract it)`);

/** Every Suricata keyword honeywall reads, and how. A keyword missing here is refused as having no mapping. */
export const SURICATA_KEYWORDS: ReadonlyMap<string, SuricataMapping> = new Map<string, SuricataMapping>([
  // rule information
  ['msg', same],
  ['sid', same],
  ['rev', same],
  ['gid', same],
  ['classtype', same],
  ['priority', same],
  ['reference', same],
  ['metadata', same],
  ['target', { kind: 'output-only', why: "target only names the EVE alert's source and target" }],
  // payload: content and its modifiers
  ['content', same],
  ['uricontent', same],
  ['nocase', mod],
  ['depth', mod],
  ['offset', mod],
  ['distance', mod],
  ['within', mod],
  ['fast_pattern', mod],
  ['startswith', { kind: 'anchor', at: 'start' }],
  ['endswith', { kind: 'anchor', at: 'end' }],
  [
    'rawbytes',
    refused(
      'rawbytes is a no-op in Suricata but selects the raw packet in Snort 2.9: left out it would change nothing, kept it would change the match; refused rather than guessed',
    ),
  ],
  ['replace', mod],
  ['pcre', same],
  ['isdataat', same],
  ['bsize', { kind: 'bsize' }],
  ['byte_test', { kind: 'cursor-reader', suricata: byteValue('byte_test') }],
  ['byte_jump', { kind: 'cursor-reader', suricata: byteValue('byte_jump') }],
  ['byte_extract', { kind: 'cursor-reader', suricata: byteValue('byte_extract') }],
  ['byte_math', reader],
  ['base64_decode', reader],
  ['base64_data', same],
  ['dsize', { kind: 'same', suricata: dsizeValue }],
  ['urilen', same],
  // sticky buffers (Suricata 5+) and their Suricata 5 modifier forms
  ['pkt_data', sticky('pkt')],
  ['file.data', sticky('file_data')],
  ['file_data', sticky('file_data')],
  ['http.response_body', sticky('file_data')],
  ['http_server_body', modifier('file_data')],
  ['http.uri', sticky('http_uri')],
  ['http_uri', modifier('http_uri')],
  ['http.uri.raw', sticky('http_raw_uri')],
  ['http_raw_uri', modifier('http_raw_uri')],
  ['http.header', sticky('http_header')],
  ['http_header', modifier('http_header')],
  ['http.header.raw', sticky('http_raw_header')],
  ['http_raw_header', modifier('http_raw_header')],
  ['http.cookie', sticky('http_cookie')],
  ['http_cookie', modifier('http_cookie')],
  ['http.method', sticky('http_method')],
  ['http_method', modifier('http_method')],
  ['http.stat_code', sticky('http_stat_code')],
  ['http_stat_code', modifier('http_stat_code')],
  ['http.stat_msg', sticky('http_stat_msg')],
  ['http_stat_msg', modifier('http_stat_msg')],
  ['http.request_body', sticky('http_client_body')],
  ['http.client_body', sticky('http_client_body')],
  ['http_client_body', modifier('http_client_body')],
  // flow and state
  ['flow', same],
  ['flowbits', same],
  ['noalert', { kind: 'noalert' }],
  // host and address-pair bits across flows, with packet-time expiry: honeywall's own xbits (match/xbits.ts)
  ['xbits', same],
  ['flowint', refused('flowint (counters kept on the flow) has no engine counterpart')],
  ['stream_size', same],
  ['threshold', { kind: 'same', suricata: thresholdValue }],
  ['detection_filter', { kind: 'same', suricata: thresholdValue }],
  [
    'tag',
    {
      kind: 'same',
      suricata: (v) =>
        /^\s*(session|host)\s*$/.test(v)
          ? { refuse: `tag:${v.trim().replace(/[^\x20-\x7e]/g, '?')} without a count: Snort 2.9's tag needs a count and a metric` }
          : undefined,
    },
  ],
  // header fields
  ['ttl', same],
  ['tos', same],
  ['id', same],
  ['ipopts', same],
  ['fragbits', same],
  ['fragoffset', same],
  ['ip_proto', same],
  ['sameip', same],
  ['flags', same],
  ['seq', same],
  ['ack', same],
  ['window', same],
  ['itype', same],
  ['icode', same],
  ['icmp_id', same],
  ['icmp_seq', same],
  ['rpc', same],
  ['asn1', same],
  ['ssl_version', same],
  ['ssl_state', same],
  ['ftpbounce', same],
  ['dce_iface', same],
  ['dce_opnum', same],
  ['dce_stub_data', same],
  // Suricata buffers and keywords with no engine counterpart (the common ones, named for a precise reason)
  ['http.host', noBuffer('HTTP host')],
  ['http.host.raw', noBuffer('HTTP host')],
  ['http_host', noBuffer('HTTP host')],
  ['http_raw_host', noBuffer('HTTP host')],
  ['http.user_agent', noBuffer('HTTP user-agent')],
  ['http_user_agent', noBuffer('HTTP user-agent')],
  ['http.request_line', noBuffer('HTTP request line')],
  ['http.response_line', noBuffer('HTTP response line')],
  ['http.protocol', noBuffer('HTTP protocol')],
  ['http.start', noBuffer('HTTP start')],
  ['http.header_names', noBuffer('HTTP header names')],
  ['http.accept', noBuffer('per-header (Accept)')],
  ['http.accept_enc', noBuffer('per-header (Accept-Encoding)')],
  ['http.accept_lang', noBuffer('per-header (Accept-Language)')],
  ['http.connection', noBuffer('per-header (Connection)')],
  ['http.content_type', noBuffer('per-header (Content-Type)')],
  ['http.content_len', noBuffer('per-header (Content-Length)')],
  ['http.referer', noBuffer('per-header (Referer)')],
  ['http.server', noBuffer('per-header (Server)')],
  ['http.location', noBuffer('per-header (Location)')],
  ['http.request_header', noBuffer('HTTP/2 request header')],
  ['http.response_header', noBuffer('HTTP/2 response header')],
  // Suricata 7's dns.query: each question name of a request (a multi-buffer: the engine evaluates the rule once per
  // question); detect-dns-query.c. tls.sni: the ClientHello's server name (detect-tls-sni.c).
  ['dns.query', sticky('dns_query')],
  ['dns_query', sticky('dns_query')],
  ['dns.opcode', noBuffer('DNS opcode')],
  ['tls.sni', sticky('tls_sni')],
  ['tls_sni', sticky('tls_sni')],
  ['tls.cert_subject', noBuffer('TLS certificate subject')],
  ['tls.cert_issuer', noBuffer('TLS certificate issuer')],
  ['tls.cert_serial', noBuffer('TLS certificate serial')],
  ['tls.certs', noBuffer('TLS certificate')],
  ['tls.version', noBuffer('TLS version')],
  ['tls_cert_subject', noBuffer('TLS certificate subject')],
  ['tls_cert_issuer', noBuffer('TLS certificate issuer')],
  ['ja3.hash', noBuffer('JA3 hash')],
  ['ja3_hash', noBuffer('JA3 hash')],
  ['ja3.string', noBuffer('JA3 string')],
  ['ja3s.hash', noBuffer('JA3S hash')],
  ['ssh.proto', noBuffer('SSH protocol')],
  ['ssh.software', noBuffer('SSH software')],
  ['ssh_proto', noBuffer('SSH protocol')],
  ['smb.named_pipe', noBuffer('SMB named pipe')],
  ['smb.share', noBuffer('SMB share')],
  ['file.name', noBuffer('file name')],
  ['filename', noBuffer('file name')],
  ['fileext', noBuffer('file name')],
  ['filemagic', noBuffer('file magic')],
  ['filestore', refused('filestore stores files: the engine keeps no files')],
  ['dataset', refused('dataset looks data up in an external set the engine does not load')],
  ['datarep', refused('datarep looks data up in an external reputation set the engine does not load')],
  ['iprep', refused("iprep needs Suricata's IP reputation lists")],
  ['lua', refused('lua runs a script: the engine runs none')],
  ['luajit', refused('luajit runs a script: the engine runs none')],
  ['app-layer-event', refused("app-layer-event names Suricata's parser events: the engine raises none")],
  ['app-layer-protocol', refused('app-layer-protocol needs protocol detection by content, which the engine does not do')],
  ['decode-event', refused("decode-event names Suricata's decoder events: the engine has its own (gid 116)")],
  ['stream-event', refused("stream-event names Suricata's stream events: the engine has its own (gid 129)")],
  ['requires', refused('requires states which Suricata builds may load the rule: no meaning for the engine')],
  ['prefilter', refused("prefilter selects Suricata's prefilter engine: the engine chooses its own fast pattern")],
]);

/**
 * Header protocols: Snort 2.9's four as they are; Suricata's packet/stream variants with the flow option that says
 * the same; app-layer protocols as their transport with the service's ports put on the server side. For `http` that
 * is exactly the engine's HTTP detection (http_inspect parses the server ports of $HTTP_PORTS); for the others the
 * ports are the service's well-known ones, where Suricata detects the protocol by content on any port.
 */
export type ProtocolMapping =
  | { kind: 'same' }
  /**
   * An app-layer protocol whose buffers the engine fills only where it parsed that protocol (src/app): a rule that
   * reads one of `buffers` needs no transport or ports of its own (it becomes `proto` with the rule's addresses, and
   * ports only as `ports` allows); a rule that reads none is refused with `why`.
   */
  | {
      kind: 'app';
      proto: 'ip' | 'tcp';
      buffers: readonly SuricataBuffer[];
      ports: 'keep' | { only: string; why: string };
      why: string;
      otherwise?: ProtocolMapping;
    }
  | { kind: 'flow'; proto: 'tcp'; flow: 'only_stream' | 'no_stream' }
  | { kind: 'service'; proto: 'tcp' | 'udp'; ports: string }
  | { kind: 'refused'; why: string };

const noProto = (why: string): ProtocolMapping => ({ kind: 'refused', why });

export const SURICATA_PROTOCOLS: ReadonlyMap<string, ProtocolMapping> = new Map<string, ProtocolMapping>([
  ['tcp', { kind: 'same' }],
  ['udp', { kind: 'same' }],
  ['icmp', { kind: 'same' }],
  ['ip', { kind: 'same' }],
  ['tcp-stream', { kind: 'flow', proto: 'tcp', flow: 'only_stream' }],
  ['tcp-pkt', { kind: 'flow', proto: 'tcp', flow: 'no_stream' }],
  ['http', { kind: 'service', proto: 'tcp', ports: '$HTTP_PORTS' }],
  ['http1', { kind: 'service', proto: 'tcp', ports: '$HTTP_PORTS' }],
  ['ftp', { kind: 'service', proto: 'tcp', ports: '$FTP_PORTS' }],
  ['ssh', { kind: 'service', proto: 'tcp', ports: '$SSH_PORTS' }],
  ['smtp', { kind: 'service', proto: 'tcp', ports: '[25,465,587]' }],
  ['smb', { kind: 'service', proto: 'tcp', ports: '[139,445]' }],
  [
    'tls',
    {
      // with tls.sni: any TCP port, as Suricata finds TLS by content (the engine reads a ClientHello wherever a client
      // stream starts with a handshake record); without it, by the port
      kind: 'app',
      proto: 'tcp',
      buffers: ['tls_sni'],
      ports: 'keep',
      why: '',
      otherwise: { kind: 'service', proto: 'tcp', ports: '443' },
    },
  ],
  ['imap', { kind: 'service', proto: 'tcp', ports: '143' }],
  ['pop3', { kind: 'service', proto: 'tcp', ports: '110' }],
  [
    'dns',
    {
      // DNS over UDP and TCP: one Snort 2.9 rule has one transport, but the DNS buffer exists only where the engine
      // parsed DNS (port 53, both transports, Suricata's default detection ports), so an ip rule reading it is exact
      kind: 'app',
      proto: 'ip',
      buffers: ['dns_query'],
      ports: {
        only: '53',
        why: "the engine parses DNS on port 53 (Suricata's default detection port) and an ip rule has no ports: other ports have no mapping",
      },
      why: 'dns without a DNS buffer (dns.query): DNS is UDP and TCP, one Snort 2.9 rule has one transport, so either half would lose the other',
    },
  ],
  ['http2', noProto('the engine does not parse HTTP/2')],
  ['dcerpc', noProto('dcerpc runs over TCP, UDP and SMB: no one transport and port set')],
  ['icmpv4', noProto('icmpv4: write icmp (Snort 2.9 has no separate ICMPv4 protocol)')],
  ['icmpv6', noProto('icmpv6 has no Snort 2.9 protocol of its own')],
  ['ipv4', noProto('ipv4/ipv6 rules have no Snort 2.9 protocol (ip covers both)')],
  ['ipv6', noProto('ipv4/ipv6 rules have no Snort 2.9 protocol (ip covers both)')],
  ['pkthdr', noProto('pkthdr rules (decoder events) have no Snort 2.9 form')],
]);

/** Suricata actions (5-7): Snort 2.9's where they are the same; the reject variants naming a side have no form. */
export const SURICATA_ACTIONS: ReadonlyMap<string, { to: string } | { refused: string }> = new Map([
  ['alert', { to: 'alert' }],
  ['pass', { to: 'pass' }],
  ['drop', { to: 'drop' }],
  ['reject', { to: 'reject' }],
  ['rejectsrc', { refused: 'rejectsrc answers one side only: Snort 2.9 has no such action' }],
  ['rejectdst', { refused: 'rejectdst answers one side only: Snort 2.9 has no such action' }],
  ['rejectboth', { refused: 'rejectboth has no Snort 2.9 action (reject answers the sender)' }],
  ['config', { refused: 'config rules change Suricata settings: no Snort 2.9 form' }],
]);

/** Snort 2.9 actions Suricata does not have: a rule with one of these decides a file for Snort (detect.ts). */
export const SNORT_ONLY_ACTIONS: ReadonlySet<string> = new Set(['log', 'sdrop', 'activate', 'dynamic']);
