/**
 * Which addresses are honeypots: the store files every flow, alert and firewall line under its honeypot and gives
 * flows a direction (inbound: to a honeypot; outbound: from one, what the Honeywall limits and inspects).
 */
import { parseNetAddress } from '../config/net-address.js';
import { parseIp } from '../packet/bytes.js';

export type Direction = 'inbound' | 'outbound' | 'internal' | 'external';

/** RFC 1918 and unique-local IPv6: the default when an import is told nothing (a honeynet's LAN side). */
export const PRIVATE_NETS = '10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7';

interface Net {
  bytes: Uint8Array;
  prefix: number;
}

function inNet(a: Uint8Array, n: Net): boolean {
  if (a.length !== n.bytes.length) return false;
  let bits = n.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (n.bytes[i]! & mask)) return false;
  }
  return true;
}

export class HoneypotSet {
  private constructor(
    private readonly nets: readonly Net[],
    readonly text: string,
  ) {}

  /** Addresses and networks separated by spaces or commas (`10.0.0.0/24,192.0.2.7`); an error message when one is not. */
  static parse(text: string): HoneypotSet | string {
    const nets: Net[] = [];
    for (const item of text.split(/[\s,]+/).filter(Boolean)) {
      const a = parseNetAddress(item);
      if (typeof a === 'string') return a;
      nets.push({ bytes: parseIp(a.address)!, prefix: a.prefix ?? (a.family === 4 ? 32 : 128) });
    }
    return new HoneypotSet(nets, text);
  }

  has(ip: string): boolean {
    const a = parseIp(ip);
    return a !== undefined && this.nets.some((n) => inNet(a, n));
  }

  /** The honeypot side of a flow (the client when both are) and the flow's direction. */
  classify(client: string, server: string): { honeypot: string | null; direction: Direction } {
    const c = this.has(client);
    const s = this.has(server);
    if (c && s) return { honeypot: client, direction: 'internal' };
    if (c) return { honeypot: client, direction: 'outbound' };
    if (s) return { honeypot: server, direction: 'inbound' };
    return { honeypot: null, direction: 'external' };
  }

  /** The honeypot of a packet or log line (its source, else its destination), or null. */
  of(src: string | undefined, dst: string | undefined): string | null {
    if (src !== undefined && this.has(src)) return src;
    if (dst !== undefined && this.has(dst)) return dst;
    return null;
  }
}
