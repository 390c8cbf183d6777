import { isIPv4, isIPv6 } from 'node:net';
import { printable } from './iface-name.js';

/** An address or network as written in the config, with its family. `prefix` is undefined for a bare host. */
export interface NetAddress {
  family: 4 | 6;
  address: string;
  prefix?: number;
  /** The text to put in an iptables rule (`a.b.c.d` or `a.b.c.d/nn`). */
  text: string;
}

/** Why a text is not an address: a message that does not repeat the text (list files are not echoed). */
export interface AddressProblem {
  problem: string;
}

/**
 * Parse `ADDR` or `ADDR/PREFIX` (IPv4 or IPv6) as iptables-restore and ip6tables-restore read it. Node's isIPv6
 * accepts a zone id (`fe80::1%eth0`, `%25x`), which ip6tables-restore refuses; and iptables reads a prefix length with
 * base 0 (`/032` is octal: /26), so a leading zero would silently mean another network.
 */
export function checkNetAddress(text: string): NetAddress | AddressProblem {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  if (address.includes('%')) return { problem: 'has a zone id (%...), which ip6tables-restore refuses in an address' };
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0) return { problem: 'is not an IPv4 or IPv6 address' };
  if (slash === -1) return { family, address, text };
  const prefixText = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return { problem: `has a bad prefix length (0..${max})` };
  if (prefixText.length > 1 && prefixText.startsWith('0'))
    return { problem: 'has a prefix length with a leading zero, which iptables reads as octal' };
  return { family, address, prefix: Number(prefixText), text };
}

/** Parse `ADDR` or `ADDR/PREFIX`. Returns an error message (quoting the text, escaped) instead of throwing. */
export function parseNetAddress(text: string): NetAddress | string {
  const r = checkNetAddress(text);
  return 'problem' in r ? `'${printable(text)}' ${r.problem}` : r;
}

/** Parse a host address only (no prefix). */
export function parseHostAddress(text: string): NetAddress | string {
  const parsed = parseNetAddress(text);
  if (typeof parsed === 'string') return parsed;
  if (parsed.prefix !== undefined) return `'${printable(text)}' must be a single address, not a network`;
  return parsed;
}
