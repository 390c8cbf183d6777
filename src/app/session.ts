/**
 * The application buffers honeywall adds to Snort 2.9's (for Suricata's `dns.query` and `tls.sni`): per inspection
 * item, the DNS request's question names and the ClientHello's server name. The pipeline calls `udp` for a datagram
 * and `tcp` for one direction's stream bytes in order (a rebuilt segment where stream5 reassembles, else the packet),
 * as it calls the HTTP parser; the per-flow state (a DNS-over-TCP reader, a ClientHello reader) lives in the flow's
 * app map and holds a bounded number of bytes (DnsTcpReader: one message; TlsHelloReader: TLS_MAX_HELLO).
 */
import type { Flow } from '../flow/flow.js';
import { portMap } from '../flow/port-map.js';
import { DnsTcpReader, dnsRequestQueries, newDnsStats, type DnsStats } from './dns.js';
import { newTlsStats, TlsHelloReader, type TlsStats } from './tls-sni.js';

/** Suricata's default DNS detection ports (suricata.yaml app-layer.protocols.dns.{udp,tcp}.detection-ports: 53). */
export const DNS_PORTS: readonly number[] = [53];

export interface AppBuffers {
  /** The question names of the DNS request(s) the item ends (one buffer each: Suricata 7's multi-buffer). */
  dns: Uint8Array[] | undefined;
  /** The server name of the ClientHello the item completes. */
  sni: Uint8Array | undefined;
}

export interface AppStats {
  dns: DnsStats;
  tls: TlsStats;
}

const DNS_TCP = 'dns-tcp';
const TLS = 'tls-hello';

export class AppParsers {
  readonly stats: AppStats = { dns: newDnsStats(), tls: newTlsStats() };
  /** A portMap: asked about on every TCP and UDP packet with data. */
  private readonly dnsPorts: Uint8Array;

  constructor(dnsPorts: readonly number[] = DNS_PORTS) {
    this.dnsPorts = portMap(dnsPorts);
  }

  /** A UDP datagram's DNS request: sent to a DNS port. */
  udp(payload: Uint8Array, dstPort: number): AppBuffers | undefined {
    if (this.dnsPorts[dstPort] !== 1 || payload.length === 0) return undefined;
    const q = dnsRequestQueries(payload, this.stats.dns);
    return q === undefined || q.length === 0 ? undefined : { dns: q, sni: undefined };
  }

  /**
   * One direction's next stream bytes: DNS requests to a DNS port, the client's ClientHello on any port. `seq`: the
   * TCP sequence number of `data`'s first byte when it may repeat or skip bytes (a packet of a direction stream5 does
   * not reassemble, a rebuilt segment): bytes seen before are left out, and a gap ends the flow's readers (counted);
   * undefined when the bytes are the stream's next ones (the gateway's in-order stream).
   */
  tcp(flow: Flow, fromClient: boolean, data: Uint8Array, seq?: number): AppBuffers | undefined {
    if (!fromClient || data.length === 0) return undefined;
    if (this.dnsPorts[flow.server.port] === 1) {
      let r = flow.app.get(DNS_TCP) as DnsTcpReader | undefined;
      if (r === undefined) {
        r = new DnsTcpReader();
        flow.app.set(DNS_TCP, r);
      }
      const fresh = r.order.take(data, seq);
      if (fresh === undefined) {
        this.stats.dns.gaps++;
        flow.app.delete(DNS_TCP);
        return undefined;
      }
      let names: Uint8Array[] | undefined;
      for (const m of r.push(fresh)) {
        const q = dnsRequestQueries(m, this.stats.dns);
        if (q !== undefined) names = names === undefined ? q : names.concat(q);
      }
      return names === undefined || names.length === 0 ? undefined : { dns: names, sni: undefined };
    }
    let reader: TlsHelloReader | undefined;
    let bytes = data;
    if (!flow.clientSniffed) {
      flow.clientSniffed = true;
      // a handshake record (type 22, version 3.x) starts the client's stream, or no reader is kept for it
      if (data[0] !== 22 || (data.length > 1 && data[1] !== 3)) return undefined;
      reader = new TlsHelloReader(this.stats.tls);
      flow.app.set(TLS, reader);
    } else {
      reader = flow.hasApp ? (flow.app.get(TLS) as TlsHelloReader | undefined) : undefined;
      if (reader === undefined) return undefined;
    }
    if (seq !== undefined) {
      const fresh = reader.order.take(data, seq);
      if (fresh === undefined) {
        this.stats.tls.gaps++;
        flow.app.delete(TLS);
        return undefined;
      }
      bytes = fresh;
    }
    const sni = reader.push(bytes);
    if (reader.done) flow.app.delete(TLS);
    return sni === undefined ? undefined : { dns: undefined, sni };
  }
}
