/**
 * What one rule evaluation looks at: a packet (or rebuilt segment) with its flow facts and, for HTTP, one message's
 * buffers. Built by the matcher from the pipeline's inspection items; also built directly by tests.
 */
import type { Flow } from '../flow/flow.js';
import type { HttpBuffers } from '../http/session.js';
import type { Packet } from '../packet/packet.js';
import type { BufferName } from './plan.js';
import type { XbitStore } from './xbits.js';

export interface Subject {
  packet: Packet;
  /** Packet payload (Snort p->data). */
  payload: Uint8Array;
  /** A rebuilt stream segment (Snort PKT_REBUILT_STREAM). */
  rebuilt: boolean;
  /** The payload went to reassembly (Snort PKT_STREAM_INSERT): rules with a fast pattern skip it. */
  streamInserted: boolean;
  flow: Flow | undefined;
  /** Direction; meaningful only with a flow. */
  fromClient: boolean;
  established: boolean;
  /** The HTTP message inspected with this evaluation (one per pipelined message), if any. */
  http: HttpBuffers | undefined;
  /**
   * The DNS question name inspected with this evaluation (Suricata 7's dns.query is a multi-buffer: one evaluation
   * per question of the request, as one per pipelined HTTP message), if any.
   */
  dnsQuery: Uint8Array | undefined;
  /** The server name of the ClientHello this item completed (tls.sni), if any. */
  tlsSni: Uint8Array | undefined;
  /** The matcher's host and address-pair bits (xbits), kept across flows. */
  xbits: XbitStore | undefined;
  /** dcerpc2's file_data for this detection (InspectionItem.fileData), if any. */
  fileData: Uint8Array | undefined;
  /** Latin1 views of buffers for regular expressions, cached per evaluation subject (made on first use). */
  strings: Map<Uint8Array, string> | undefined;
  /** Lower-cased copies of buffers for nocase searches, cached per evaluation subject (made on first use: lowerOf). */
  lower: Map<Uint8Array, Buffer> | undefined;
}

export function makeSubject(packet: Packet, opts: Partial<Omit<Subject, 'packet' | 'strings' | 'lower'>> = {}): Subject {
  return {
    packet,
    payload: opts.payload ?? packet.payload,
    rebuilt: opts.rebuilt ?? packet.origin === 'stream',
    streamInserted: opts.streamInserted ?? false,
    flow: opts.flow,
    fromClient: opts.fromClient ?? true,
    established: opts.established ?? false,
    http: opts.http,
    dnsQuery: opts.dnsQuery,
    tlsSni: opts.tlsSni,
    xbits: opts.xbits,
    fileData: opts.fileData,
    strings: undefined,
    lower: undefined,
  };
}

/** The bytes of a buffer for this subject, or undefined when the subject has none. */
export function bufferOf(s: Subject, name: BufferName, base64: Uint8Array | undefined): Uint8Array | undefined {
  switch (name) {
    case 'pkt':
      return s.payload;
    case 'file_data': {
      // Snort 2.9.20 sp_file_data.c FileDataEval: file_data_ptr when it is set (http_inspect's HTTP body, dcerpc2's
      // SMB2 READ/WRITE data), else the packet's payload (data = p->data when file_data_ptr is empty), on any packet
      // with a payload: a response without a body and traffic no preprocessor decodes both give their payload.
      const f = fileDataOf(s);
      return f ?? s.payload;
    }
    case 'base64':
      return base64;
    case 'dns_query':
      return s.dnsQuery;
    case 'tls_sni':
      return s.tlsSni;
    default: {
      const h = s.http;
      if (h === undefined) return undefined;
      switch (name) {
        case 'http_uri':
          return h.uri;
        case 'http_raw_uri':
          return h.rawUri;
        case 'http_header':
          return h.header;
        case 'http_raw_header':
          return h.rawHeader;
        case 'http_cookie':
          return h.cookie;
        case 'http_raw_cookie':
          return h.rawCookie;
        case 'http_method':
          return h.method;
        case 'http_client_body':
          return h.clientBody;
        case 'http_stat_code':
          return h.statCode;
        case 'http_stat_msg':
          return h.statMsg;
      }
    }
  }
  return undefined;
}

/** Snort's file_data_ptr for this subject (dcerpc2's, else http_inspect's), or undefined when it is empty. */
export function fileDataOf(s: Subject): Uint8Array | undefined {
  const f = s.fileData ?? s.http?.fileData;
  return f !== undefined && f.length > 0 ? f : undefined;
}

export function latin1Of(s: Subject, b: Uint8Array): string {
  if (s.strings === undefined) s.strings = new Map();
  let str = s.strings.get(b);
  if (str === undefined) {
    // One char per byte (TextDecoder's 'latin1' is windows-1252, which is not one-to-one).
    str = b.length < 64 ? String.fromCharCode.apply(null, Array.from(b)) : Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
    s.strings.set(b, str);
  }
  return str;
}
