import { isIPv4, isIPv6 } from 'node:net';

/** An address or network as written in the config, with its family. `prefix` is undefined for a bare host. */
export interface NetAddress {
  family: 4 | 6;
  address: string;
  prefix?: number;
  /** The text to put in an iptables rule (`a.b.c.d` or `a.b.c.d/nn`). */
  text: string;
}

/** Parse `ADDR` or `ADDR/PREFIX` (IPv4 or IPv6). Returns an error message instead of throwing. */
export function parseNetAddress(text: string): NetAddress | string {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0) return `'${text}' is not an IPv4 or IPv6 address`;
  if (slash === -1) return { family, address, text };
  const prefixText = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `'${text}' has a bad prefix length '${prefixText}' (0..${max})`;
  }
  const prefix = Number(prefixText);
  return { family, address, prefix, text };
}

/** Parse a host address only (no prefix). */
export function parseHostAddress(text: string): NetAddress | string {
  const parsed = parseNetAddress(text);
  if (typeof parsed === 'string') return parsed;
  if (parsed.prefix !== undefined) return `'${text}' must be a single address, not a network`;
  return parsed;
}
