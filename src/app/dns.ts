/**
 * The DNS query names of a request, as Suricata's `dns.query` buffer holds them: each question's name as dotted text,
 * no trailing dot (rust/src/dns/parser.rs dns_parse_name, dns_parse_query; src/detect-dns-query.c inspects every
 * question of a request, one buffer each). Everything here reads bytes from the honeynet: every length, count and
 * compression pointer is bounded, malformed input is counted in DnsStats, and nothing throws.
 */

/** The longest name kept, in presentation form (RFC 1035 2.3.4: 255 octets); longer ones are cut here and counted. */
export const DNS_MAX_NAME = 255;
/**
 * Labels and pointers followed for one name (dns_parse_name's `count > 255`): a compression loop ends here. Suricata
 * keeps what it had when a pointer was followed before the limit (the name truncated), and refuses it otherwise.
 */
export const DNS_MAX_STEPS = 255;
/** The questions of one request inspected; the rest are counted (real requests ask one; each costs an evaluation). */
export const DNS_MAX_QUERIES = 32;
import { StreamOrder } from './stream-order.js';

const HEADER = 12;

export interface DnsStats {
  /** Requests whose questions were read. */
  requests: number;
  /**
   * Datagrams and messages to a DNS port that are no DNS at all by Suricata's probe (probe_header_validity: a header
   * cut short, no question, more records than bytes): not inspected as DNS, not reported (any junk sent to port 53).
   */
  notDns: number;
  /** Requests that pass the probe and whose questions do not parse: a bad label, a pointer past the end or to itself. */
  malformed: number;
  /** Names cut at DNS_MAX_NAME or DNS_MAX_STEPS (a compression loop among them). */
  truncated: number;
  /** Names whose compression pointers loop (a self-reference, or DNS_MAX_STEPS reached after a pointer). */
  loops: number;
  /** Questions past DNS_MAX_QUERIES, not inspected. */
  queriesDropped: number;
  /** TCP streams whose bytes came with a gap: their DNS reader ended there. */
  gaps: number;
}

export function newDnsStats(): DnsStats {
  return { requests: 0, notDns: 0, malformed: 0, truncated: 0, loops: 0, queriesDropped: 0, gaps: 0 };
}

export interface DnsName {
  /** The dotted name (labels' bytes as they are, joined by '.'); empty for the root. */
  name: Uint8Array;
  /** Where the name ends in the message (after its terminator, or after its first pointer). */
  end: number;
  truncated: boolean;
  loop: boolean;
}

/**
 * One name at `at` in `msg` (the whole DNS message, which pointers are offsets into), as dns_parse_name reads it:
 * labels of up to 63 bytes, pointers (0xC0) anywhere in the message but to themselves, the 0x40 and 0x80 label types
 * refused. Undefined when Suricata refuses the name.
 */
export function readDnsName(msg: Uint8Array, at: number): DnsName | undefined {
  const out = new Uint8Array(DNS_MAX_NAME);
  let len = 0;
  let pos = at;
  /** Where the name ends in the message once a pointer was followed (Suricata's `pivot`); -1 before. */
  let pivot = -1;
  let steps = 0;
  let truncated = false;
  let loop = false;
  for (;;) {
    if (pos >= msg.length) {
      // (the end of the message ends a name in dns_parse_name; with no pointer followed, the fields after it are missing)
      if (pivot < 0) return undefined;
      break;
    }
    const b = msg[pos]!;
    if (b === 0) {
      pos++;
      break;
    }
    if ((b & 0xc0) === 0) {
      if (pos + 1 + b > msg.length) return undefined;
      if (!truncated) {
        // one byte for the dot before every label but the first, then the label: cut at DNS_MAX_NAME
        const need = (len > 0 ? 1 : 0) + b;
        if (len + need > DNS_MAX_NAME) {
          truncated = true;
          if (len > 0 && len < DNS_MAX_NAME) out[len++] = 0x2e;
          const room = DNS_MAX_NAME - len;
          out.set(msg.subarray(pos + 1, pos + 1 + room), len);
          len += room;
        } else {
          if (len > 0) out[len++] = 0x2e;
          out.set(msg.subarray(pos + 1, pos + 1 + b), len);
          len += b;
        }
      }
      pos += 1 + b;
    } else if ((b & 0xc0) === 0xc0) {
      if (pos + 2 > msg.length) return undefined;
      const offset = ((b & 0x3f) << 8) | msg[pos + 1]!;
      if (offset > msg.length) return undefined;
      if (offset === pos) {
        // a pointer to itself: Suricata ends the name there when it followed a pointer before, else refuses it
        loop = true;
        if (pivot < 0) return undefined;
        break;
      }
      if (pivot < 0) pivot = pos + 2;
      pos = offset;
    } else return undefined;
    if (++steps > DNS_MAX_STEPS) {
      if (pivot < 0) return undefined;
      // only pointers make a name this long: they loop
      truncated = true;
      loop = true;
      break;
    }
  }
  return { name: out.slice(0, len), end: pivot >= 0 ? pivot : pos, truncated, loop };
}

/**
 * The question names of a DNS request (QR clear), each once per question in order, or undefined for a message that is
 * no request Suricata would inspect: a response, a header too short, no question (probe_header_validity), a question
 * it cannot parse. Only the question section is read: the answers a request may carry are not parsed (Suricata refuses
 * a request whose answer section does not parse; honeywall inspects its questions).
 */
export function dnsRequestQueries(msg: Uint8Array, stats: DnsStats): Uint8Array[] | undefined {
  if (msg.length < HEADER) {
    stats.notDns++;
    return undefined;
  }
  if ((msg[2]! & 0x80) !== 0) return undefined; // a response
  const questions = (msg[4]! << 8) | msg[5]!;
  const records = questions + ((msg[6]! << 8) | msg[7]!) + ((msg[8]! << 8) | msg[9]!) + ((msg[10]! << 8) | msg[11]!);
  if (questions === 0 || 2 * records > msg.length) {
    stats.notDns++;
    return undefined;
  }
  const names: Uint8Array[] = [];
  let pos = HEADER;
  for (let q = 0; q < questions; q++) {
    const n = readDnsName(msg, pos);
    // a name, then its type and class
    if (n === undefined || n.end + 4 > msg.length) {
      stats.malformed++;
      return undefined;
    }
    if (n.truncated) stats.truncated++;
    if (n.loop) stats.loops++;
    if (names.length < DNS_MAX_QUERIES) names.push(n.name);
    else stats.queriesDropped++;
    pos = n.end + 4;
  }
  stats.requests++;
  return names;
}

/**
 * DNS over TCP (RFC 1035 4.2.2): messages behind a two-byte length, as one direction's stream brings them, in pieces.
 * Holds at most one message (65,535 bytes and its prefix) at a time; gives each complete message once.
 */
export class DnsTcpReader {
  private held: Uint8Array = new Uint8Array(0);
  /** Where this reader is in its stream (src/app/session.ts). */
  readonly order = new StreamOrder();

  /** The complete messages `data` ends, in order. */
  push(data: Uint8Array): Uint8Array[] {
    let buf = data;
    if (this.held.length > 0) {
      buf = new Uint8Array(this.held.length + data.length);
      buf.set(this.held, 0);
      buf.set(data, this.held.length);
    }
    const out: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos >= 2) {
      const len = (buf[pos]! << 8) | buf[pos + 1]!;
      if (buf.length - pos - 2 < len) break;
      out.push(buf.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    // (what is held is at most one incomplete message: under 65,537 bytes)
    this.held = buf.slice(pos);
    return out;
  }
}

/**
 * A name in DNS wire form (labels, terminator; no compression): the encoder the tests hold the reader to. Undefined
 * when a label is empty or longer than 63 bytes, or the wire form longer than 255.
 */
export function encodeDnsName(dotted: Uint8Array): Uint8Array | undefined {
  if (dotted.length === 0) return Uint8Array.of(0);
  const out: number[] = [];
  let start = 0;
  for (let i = 0; i <= dotted.length; i++) {
    if (i < dotted.length && dotted[i] !== 0x2e) continue;
    const n = i - start;
    if (n === 0 || n > 63) return undefined;
    out.push(n, ...dotted.subarray(start, i));
    start = i + 1;
  }
  out.push(0);
  return out.length > 255 ? undefined : Uint8Array.from(out);
}
