/**
 * Community ID v1 (https://github.com/corelight/community-id-spec): a flow's identifier that Zeek, Suricata, Arkime
 * and Wireshark compute the same way, so an alert here joins their records by string comparison:
 * `"1:" + base64(sha1(seed(2) . saddr . daddr . proto(1) . 0 . sport(2) . dport(2)))`, network byte order, the
 * endpoints ordered so the smaller address (then port) comes first. ICMP and ICMPv6 put type and code where the
 * ports go, with Zeek's request/reply pairs mapped to one another so both directions hash alike; other protocols
 * hash the addresses and protocol alone.
 */
import { createHash } from 'node:crypto';

/** Zeek's ICMP type pairs (pycommunityid icmp.py): echo, timestamp, info, router, mask. */
const ICMP4_PAIRS: ReadonlyMap<number, number> = new Map([
  [8, 0],
  [0, 8],
  [13, 14],
  [14, 13],
  [15, 16],
  [16, 15],
  [10, 9],
  [9, 10],
  [17, 18],
  [18, 17],
]);

/** Zeek's ICMPv6 type pairs (pycommunityid icmp6.py): echo, MLD, router and neighbor discovery, WRU, HAAD. */
const ICMP6_PAIRS: ReadonlyMap<number, number> = new Map([
  [128, 129],
  [129, 128],
  [130, 131],
  [131, 130],
  [133, 134],
  [134, 133],
  [135, 136],
  [136, 135],
  [139, 140],
  [140, 139],
  [144, 145],
  [145, 144],
]);

/** Protocols whose ports are hashed (TCP, UDP, SCTP) and the two ICMPs. */
const PORTED = new Set([6, 17, 132]);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The Community ID of a packet or flow. `sport`/`dport` are the ports for TCP, UDP and SCTP, and the ICMP type and
 * code for ICMP (1) and ICMPv6 (58); they are ignored for other protocols. `seed` is the spec's 16-bit seed (0 unless
 * every monitor compared is configured with another).
 */
export function communityId(proto: number, saddr: Uint8Array, daddr: Uint8Array, sport: number, dport: number, seed = 0): string {
  return `1:${communityIdDigest(proto, saddr, daddr, sport, dport, seed).toString('base64')}`;
}

/** The 20-byte SHA-1 digest (the spec's `--no-base64` form is `1:` and its hex). */
export function communityIdDigest(proto: number, saddr: Uint8Array, daddr: Uint8Array, sport: number, dport: number, seed = 0): Buffer {
  const icmp = proto === 1 ? ICMP4_PAIRS : proto === 58 ? ICMP6_PAIRS : undefined;
  const ports = icmp !== undefined || PORTED.has(proto);
  // a one-way ICMP message (not a request or reply of a pair) keeps its order and hashes its code
  let oneWay = false;
  if (icmp !== undefined) {
    const pair = icmp.get(sport);
    if (pair === undefined) oneWay = true;
    else dport = pair;
  }
  let flip = false;
  if (!oneWay) {
    const c = compare(saddr, daddr);
    flip = c > 0 || (c === 0 && ports && sport > dport);
  }
  const a = flip ? daddr : saddr;
  const b = flip ? saddr : daddr;
  const n = 2 + a.length + b.length + 2 + (ports ? 4 : 0);
  const buf = Buffer.alloc(n);
  buf.writeUInt16BE(seed & 0xffff, 0);
  buf.set(a, 2);
  buf.set(b, 2 + a.length);
  let o = 2 + a.length + b.length;
  buf[o++] = proto & 0xff;
  buf[o++] = 0;
  if (ports) {
    buf.writeUInt16BE((flip ? dport : sport) & 0xffff, o);
    buf.writeUInt16BE((flip ? sport : dport) & 0xffff, o + 2);
  }
  return createHash('sha1').update(buf).digest();
}
