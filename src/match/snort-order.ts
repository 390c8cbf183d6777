/**
 * The order in which Snort 2.9.20 evaluates the rules of one packet, where that order decides the outcome: flowbits
 * checked and set by rules of the same packet, the detection_filter counted once per rule tree, the first
 * `max_queue` matches of an action kept. From the source:
 *
 * - Port groups (parser.c FinishPortListRule): a TCP/UDP rule with specific destination ports sits in the
 *   destination table, one with specific source ports in the source table (both when both are specific; a `<>` rule
 *   also puts each list in the other table), a rule with `any` on both sides (or 1024 ports or more on a side, the
 *   bleed-over limit, fpcreate.c) in the any-any group; IP rules go to the any-any groups of every protocol.
 * - A packet is evaluated against the destination port's group, then the source port's, then, with `search-method
 *   ac-split` (base.conf), the any-any group on its own (pcrm.c prmFindRuleGroup, fpdetect.c fpEvalHeaderUdp/Tcp).
 *   A rule in two groups is evaluated in both.
 * - In a group, the fast pattern rules first: one rule tree per state of the Aho-Corasick automaton, queued in the
 *   order the scan reaches them and run after the scan (acsmx2.c acsmSearchSparseDFA_Full_q), so by where in the
 *   buffer each pattern first ends (the automaton folds case); then the tree of the rules without a fast pattern
 *   (fpEvalHeaderSW).
 * - Within one tree Snort's order is that of a hash table of rule numbers whose hash is seeded from the clock at
 *   start (sfportobject.c PortObject2New, sfhashfcn.c): it changes from one run to the next, and Snort's own output
 *   with it. honeywall takes the rules' order in the rule files there (`tie`, a test may give another).
 */
import type { PortSet } from '../config/variables.js';
import { portRanges } from './header-sets.js';
import type { Packet } from '../packet/packet.js';
import type { BufferName, RulePlan } from './plan.js';

export const GROUP_DST = 0;
export const GROUP_SRC = 1;
export const GROUP_ANY = 2;

/** fpcreate.c: bleedover_port_limit, a port list of this many ports or more makes the rule an any-any one. */
const BLEEDOVER_PORT_LIMIT = 1024;

interface PortFacts {
  any: boolean;
  count: number;
  /** Flat [lo, hi] runs, ascending (header-sets.ts portRanges). */
  ranges: number[];
}

const portFacts = new WeakMap<PortSet, PortFacts>();

function factsOf(set: PortSet): PortFacts {
  let f = portFacts.get(set);
  if (f === undefined) {
    const any = set.any && set.exclude.length === 0;
    const ranges = any ? [] : portRanges([set]);
    let count = 0;
    for (let j = 0; j < ranges.length; j += 2) count += ranges[j + 1]! - ranges[j]! + 1;
    f = { any, count, ranges };
    portFacts.set(set, f);
  }
  return f;
}

function contains(set: PortSet, port: number): boolean {
  const r = factsOf(set).ranges;
  for (let j = 0; j < r.length; j += 2) if (port >= r[j]! && port <= r[j + 1]!) return true;
  return false;
}

/**
 * The groups (bits 1 << GROUP_*) of this packet a rule whose header matched is evaluated in. Rules of ICMP and other
 * IP protocols, and IP rules, are in the any-any group only.
 */
export function portGroupsOf(rule: RulePlan, p: Packet): number {
  // a rule of another transport is in none of the packet's groups
  if ((rule.proto === 'tcp' && p.tcp === undefined) || (rule.proto === 'udp' && p.udp === undefined)) return 0;
  if (rule.proto === 'icmp' && p.icmp === undefined && p.icmp6 === undefined) return 0;
  if ((rule.proto !== 'tcp' && rule.proto !== 'udp') || (p.tcp === undefined && p.udp === undefined)) return 1 << GROUP_ANY;
  const s = factsOf(rule.srcPorts);
  const d = factsOf(rule.dstPorts);
  if ((s.any && d.any) || s.count >= BLEEDOVER_PORT_LIMIT || d.count >= BLEEDOVER_PORT_LIMIT) return 1 << GROUP_ANY;
  let g = 0;
  const sp = p.srcPort;
  const dp = p.dstPort;
  // destination table: the destination ports, and for `<>` the source ports too; the source table the other way
  if ((!d.any && contains(rule.dstPorts, dp)) || (rule.bidirectional && !s.any && contains(rule.srcPorts, dp))) g |= 1 << GROUP_DST;
  if ((!s.any && contains(rule.srcPorts, sp)) || (rule.bidirectional && !d.any && contains(rule.dstPorts, sp))) g |= 1 << GROUP_SRC;
  return g === 0 ? 1 << GROUP_ANY : g;
}

/**
 * fpEvalHeaderSW searches the HTTP URI, header and client body buffers before the packet's own content (decoded
 * data, file data, payload): the trees of their patterns come first. The content search itself looks in file_data_ptr
 * first, when it is set, then in the payload (PAYLOAD_AFTER_FILE_DATA_RANK).
 */
export function bufferRank(buf: BufferName): number {
  switch (buf) {
    case 'http_uri':
    case 'http_raw_uri':
      return 0;
    case 'http_header':
    case 'http_raw_header':
      return 1;
    case 'http_client_body':
      return 2;
    default:
      return 3;
  }
}

/** Where a pattern first ends in a buffer, case folded as the automaton folds it (-1: absent). */
export function firstEnd(buffer: Uint8Array, lowered: Uint8Array, pattern: Uint8Array): number {
  if (pattern.length === 0 || pattern.length > buffer.length) return -1;
  const p = foldedPattern(pattern);
  const b = Buffer.from(lowered.buffer, lowered.byteOffset, lowered.length);
  const at = b.indexOf(p);
  return at < 0 ? -1 : at + p.length;
}

const folded = new WeakMap<Uint8Array, Buffer>();

function foldedPattern(pattern: Uint8Array): Buffer {
  let f = folded.get(pattern);
  if (f === undefined) {
    f = Buffer.from(pattern);
    for (let i = 0; i < f.length; i++) {
      const c = f[i]!;
      if (c >= 65 && c <= 90) f[i] = c + 32;
    }
    folded.set(pattern, f);
  }
  return f;
}

/** One evaluation of a rule in Snort's order. */
export interface Turn {
  rule: RulePlan;
  /** The rule tree it is evaluated in: turns with the same key are one tree evaluation. */
  tree: number;
  /** Sort key. */
  key: number;
}

/**
 * A tree key: the group, then the fast pattern trees by buffer and end position, then the tree of the rules without
 * a fast pattern. Positions up to 2^20 (a packet's buffers are smaller; larger ones share the last key).
 */
export function treeKey(group: number, bufRank: number, end: number): number {
  return group * 8 * (1 << 21) + bufRank * (1 << 21) + Math.min(end, (1 << 21) - 1);
}

/** The group of a tree key. */
export function treeOf(key: number): { group: number } {
  return { group: Math.floor(key / (8 * (1 << 21))) };
}

export const NO_FAST_PATTERN_RANK = 7;
/** A content pattern not in file_data_ptr, found by the content search of the payload that follows it. */
export const PAYLOAD_AFTER_FILE_DATA_RANK = 4;

/** Turn sort keys: the tree key times this, plus the tie order (rule numbers below 2^22). */
const TIE_SPAN = 1 << 22;

/**
 * The turns of a subject's rules (each once per port group it is in), sorted. `place`: a rule's fast pattern tree
 * (bufferRank and where the pattern first ends, -1 when absent; NO_FAST_PATTERN_RANK without one); `tie`: its place
 * within a tree.
 */
export function snortTurns(
  rules: readonly RulePlan[],
  p: Packet,
  place: (r: RulePlan) => { rank: number; end: number },
  tie: (r: RulePlan) => number,
): Turn[] {
  const turns: Turn[] = [];
  for (const r of rules) {
    const groups = portGroupsOf(r, p);
    const { rank, end: at } = place(r);
    // a candidate's pattern is in its buffer; should it not be found again, its tree comes last of the buffer's
    const end = at < 0 ? (1 << 21) - 1 : at;
    const t = tie(r);
    for (let g = GROUP_DST; g <= GROUP_ANY; g++) {
      if ((groups & (1 << g)) === 0) continue;
      const tree = treeKey(g, rank, end);
      turns.push({ rule: r, tree, key: tree * TIE_SPAN + t });
    }
  }
  return turns.sort((a, b) => a.key - b.key);
}
