/**
 * A firewall log entry (the gateway's NFLOG packet and the line firewall-log.ts writes for it) as a store row: its
 * kind from the roo prefix, its addresses and ports from the logged datagram, its honeypot.
 */
import { decodeIpPacket } from '../packet/decode.js';
import { formatIp } from '../packet/bytes.js';
import type { LoggedPacket } from '../runtime/firewall-log.js';
import type { HoneypotSet } from './honeypots.js';
import type { FirewallEvent } from './writer.js';

/**
 * The kind of a line from its prefix (which may start with the operator's HwLOG_PREFIX): the rc.firewall prefixes
 * `INBOUND <P>: `, `OUTBOUND <P>: `, `Drop <P> > N attempts` (a limit hit; the roach motel's refusals count as
 * limits too), `BOUNCED OFF Fence: `, `SEBEK: `, `DHCP OUT REQUEST: `, `Legal DNS: `.
 */
export function firewallKind(prefix: string): FirewallEvent['kind'] {
  if (/\bINBOUND (TCP|UDP|ICMP|OTHER)\b/i.test(prefix)) return 'inbound';
  if (/\bOUTBOUND (TCP|UDP|ICMP|OTHER)\b/i.test(prefix)) return 'outbound';
  if (/\bDrop (TCP|UDP|ICMP|OTHER)\b/i.test(prefix) || /ROACH MOTEL/i.test(prefix)) return 'limit';
  if (/BOUNCED OFF Fence/i.test(prefix)) return 'fence';
  if (/\bSEBEK\b/.test(prefix)) return 'sebek';
  if (/\bDHCP\b/.test(prefix)) return 'dhcp';
  if (/Legal DNS/i.test(prefix)) return 'dns';
  return 'other';
}

const PROTOS: Record<number, string> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMPv6' };

export function firewallEvent(
  p: LoggedPacket,
  line: string,
  ifname: (index: number) => string,
  honeypots: HoneypotSet,
  sensor: string,
  tsUsec = 0,
): FirewallEvent {
  const d = decodeIpPacket(p.data, undefined, { verifyChecksums: false });
  const ip = d.ip;
  const src = ip === undefined ? null : formatIp(ip.src);
  const dst = ip === undefined ? null : formatIp(ip.dst);
  const ports = d.tcp !== undefined || d.udp !== undefined;
  return {
    tsUs: p.tsSec * 1_000_000 + tsUsec,
    kind: firewallKind(p.prefix),
    prefix: p.prefix.trim(),
    proto: ip === undefined ? null : (PROTOS[ip.proto] ?? String(ip.proto)),
    srcIp: src,
    srcPort: ports ? d.srcPort : null,
    dstIp: dst,
    dstPort: ports ? d.dstPort : null,
    inIface: p.indev ? ifname(p.indev) : null,
    outIface: p.outdev ? ifname(p.outdev) : null,
    length: p.data.length,
    honeypot: honeypots.of(src ?? undefined, dst ?? undefined),
    sensor,
    line,
  };
}
