/**
 * Broad-port databases: per TCP and UDP prefilter database (a group's and each flow class's), a second one of just
 * the patterns whose rules accept a broad set of ports on both sides, scanned for a packet neither of whose ports is
 * named by a narrow port set (Snort 2.9's "any-any" port group, made at compile time).
 *
 * Why: a flow class's database holds every pattern of its class, and the addon's port filter drops the ones whose
 * rules cannot match the packet's ports only after Hyperscan has found them; Hyperscan's cost is in the finding. In
 * the bench capture three quarters of the frames are one DCE/RPC flow between two high ports, whose zero-filled PDUs
 * the `\0\0\0`-like patterns of port-specific rules (source $HTTP_PORTS, 8000 and 8080, 27020:27050, 139 and 445, ...)
 * hit at nearly every scan: 2.4 ids found a scan, 1.7 of them dropped by the filter. ET Open 2019's TCP payload class
 * of those packets has 3,391 patterns, its broad-port database 630 (the group's 1,486 of 5,435, UDP's 112 of 2,630),
 * and a PDU scans in about half the time with it.
 *
 * Same results: a pattern left out has a narrow port set on one side at least (each of its rules: the union over its
 * rules is narrow), and a packet whose two ports are in no narrow set cannot pass its port test on that side, either
 * way round for a bidirectional rule; so for such a packet the broad-port database with the port filter reports
 * exactly the ids the whole one does (test/match-broad-ports.test.ts, on generated rules, ports and payloads).
 *
 * Compiled in streaming mode and scanned as blocks (the addon's hsScan): Hyperscan compiles such a set of a few
 * hundred literals in 10-25 ms in streaming mode and in 0.5 s in block mode (the small-write engine it adds for short
 * blocks), and scans a 50-byte payload about as fast either way.
 */
import type { PrefilterGroup } from './prefilter.js';

/** A port set of at most this many ports is narrow: a service's ports (`:1023` is one; `1024:` and `!80` are not). */
export const NARROW_PORT_SET_MAX = 1024;

/**
 * A database whose broad-port patterns are more than this share of its own gets no broad-port database: its scans
 * would gain little for another database to compile, store and load.
 */
const BROAD_DB_MAX_SHARE = 0.5;

type PortTables = Pick<PrefilterGroup, 'portSrc' | 'portDst' | 'portMapStart' | 'portRanges'>;

/** Per port map, 1 when it is narrow (what narrowPorts and broadIds read: made once per group). */
export function narrowMaps(g: PortTables): Uint8Array {
  const maps = g.portMapStart.length - 1;
  const narrow = new Uint8Array(Math.max(0, maps));
  for (let k = 0; k < maps; k++) {
    let ports = 0;
    for (let j = g.portMapStart[k]!; j < g.portMapStart[k + 1]!; j++) ports += g.portRanges[2 * j + 1]! - g.portRanges[2 * j]! + 1;
    narrow[k] = ports <= NARROW_PORT_SET_MAX ? 1 : 0;
  }
  return narrow;
}

/** Whether a group has port tables (TCP and UDP groups). */
export function hasPortFilter(g: PortTables): boolean {
  return g.portSrc.length > 0;
}

/**
 * Per port, 1 when a narrow map some pattern uses holds it (on either side): a packet with a port marked here is
 * scanned with the whole database.
 */
export function narrowPorts(g: PortTables, narrow: Uint8Array = narrowMaps(g)): Uint8Array {
  const used = new Uint8Array(narrow.length);
  for (let id = 0; id < g.portSrc.length; id++) {
    const s = g.portSrc[id]!;
    const d = g.portDst[id]!;
    if (s >= 0 && narrow[s] === 1) used[s] = 1;
    if (d >= 0 && narrow[d] === 1) used[d] = 1;
  }
  const ports = new Uint8Array(65536);
  for (let k = 0; k < used.length; k++) {
    if (used[k] === 0) continue;
    for (let j = g.portMapStart[k]!; j < g.portMapStart[k + 1]!; j++) ports.fill(1, g.portRanges[2 * j]!, g.portRanges[2 * j + 1]! + 1);
  }
  return ports;
}

/**
 * The broad-port patterns among a database's `ids` when they earn a database of their own: undefined when they are
 * most of them (the whole database serves), an empty list when there are none (a packet on broad ports has nothing
 * to scan). Compile decides by this; load takes what compile stored.
 */
export function broadIds(g: PortTables, ids: readonly number[], narrow: Uint8Array = narrowMaps(g)): number[] | undefined {
  const out: number[] = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const s = g.portSrc[id]!;
    const d = g.portDst[id]!;
    if ((s < 0 || narrow[s] === 0) && (d < 0 || narrow[d] === 0)) out.push(id);
  }
  return out.length > BROAD_DB_MAX_SHARE * ids.length ? undefined : out;
}
