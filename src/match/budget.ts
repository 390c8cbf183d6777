/**
 * Deterministic bounds on the work one inspection item may cost, and the counters of the times they are reached.
 * Nothing here reads a clock: a limit is a count of steps, so the same packet gives the same answer on an idle
 * machine and on a loaded one. Each limit, when reached, makes the rule (or the pcre) not match, as Snort treats a
 * pcre that hits pcre_match_limit, and is counted in total and per sid.
 */

/** Snort 2.9's `config pcre_match_limit: 3500` (snort.conf as shipped): backtracking steps per start position. */
export const PCRE_MATCH_LIMIT = 3500;
/** Snort 2.9's `config pcre_match_limit_recursion: 1500`, PCRE2's depth limit. */
export const PCRE_DEPTH_LIMIT = 1500;
/** A pcre with Snort's `O` flag gets PCRE's own defaults instead (sp_pcre.c: SNORT_OVERRIDE_MATCH_LIMIT). */
export const PCRE_DEFAULT_MATCH_LIMIT = 10_000_000;

/** Option evaluations (retries included) per rule and subject; beyond it the rule does not match. */
export const RULE_OPS_LIMIT = 20_000;
/**
 * PCRE steps (pattern items reached, over every start position) per inspection item: a fixed allowance plus an
 * amount per byte of the buffers inspected. PCRE's match limit applies to one start position at a time, so without
 * this a pattern could try thousands of start positions at 3,500 steps each.
 */
export const PCRE_STEPS_BASE = 500_000;
export const PCRE_STEPS_PER_BYTE = 32;
/** pcre calls per inspection item (retries of every rule included), same shape. */
export const PCRE_CALLS_BASE = 4096;
export const PCRE_CALLS_PER_4_BYTES = 1;
/**
 * Bytes searched per inspection item, same shape: a content search costs the bytes it looked at, an unanchored pcre
 * call the length of its subject (PCRE scans it for the bytes a match needs before trying start positions).
 */
export const SEARCH_BYTES_BASE = 1 << 20;
export const SEARCH_BYTES_PER_BYTE = 64;

export type LimitName = 'ruleOps' | 'pcreSteps' | 'pcreCalls' | 'searchBytes' | 'pcreMatchLimit' | 'pcreDepthLimit' | 'pcreError';

export const LIMIT_NAMES: readonly LimitName[] = [
  'ruleOps',
  'pcreSteps',
  'pcreCalls',
  'searchBytes',
  'pcreMatchLimit',
  'pcreDepthLimit',
  'pcreError',
];

/** How often each limit was reached, in total and per gid:sid. */
export class LimitCounters {
  readonly total: Record<LimitName, number> = emptyCounts();
  /** Per rule (`gid:sid`), bounded: rules beyond MAX_RULES are counted in the totals only (and in `untracked`). */
  readonly byRule = new Map<string, Record<LimitName, number>>();
  untracked = 0;
  static readonly MAX_RULES = 10_000;

  hit(limit: LimitName, gid: number, sid: number): void {
    this.total[limit]++;
    const key = `${gid}:${sid}`;
    let r = this.byRule.get(key);
    if (r === undefined) {
      if (this.byRule.size >= LimitCounters.MAX_RULES) {
        this.untracked++;
        return;
      }
      r = emptyCounts();
      this.byRule.set(key, r);
    }
    r[limit]++;
  }

  /** Adds another counter's report (a shard of a sharded replay). */
  merge(r: ReturnType<LimitCounters['report']>): void {
    for (const k of LIMIT_NAMES) this.total[k] += r.total[k];
    this.untracked += r.untracked;
    for (const row of r.rules) {
      let c = this.byRule.get(row.rule);
      if (c === undefined) {
        if (this.byRule.size >= LimitCounters.MAX_RULES) {
          this.untracked++;
          continue;
        }
        c = emptyCounts();
        this.byRule.set(row.rule, c);
      }
      for (const k of LIMIT_NAMES) c[k] += row[k];
    }
  }

  get any(): number {
    let n = 0;
    for (const k of LIMIT_NAMES) n += this.total[k];
    return n;
  }

  /** Plain data for reports: totals and the rules that reached a limit, most hits first (at most `top`). */
  report(top = 100): { total: Record<LimitName, number>; rules: ({ rule: string } & Record<LimitName, number>)[]; untracked: number } {
    const rules = [...this.byRule.entries()]
      .map(([rule, c]) => ({ rule, ...c }))
      .sort((a, b) => sum(b) - sum(a) || (a.rule < b.rule ? -1 : 1))
      .slice(0, top);
    return { total: { ...this.total }, rules, untracked: this.untracked };
  }
}

function emptyCounts(): Record<LimitName, number> {
  return { ruleOps: 0, pcreSteps: 0, pcreCalls: 0, searchBytes: 0, pcreMatchLimit: 0, pcreDepthLimit: 0, pcreError: 0 };
}

function sum(c: Record<LimitName, number>): number {
  let n = 0;
  for (const k of LIMIT_NAMES) n += c[k];
  return n;
}

/** The work left for the inspection item being evaluated. */
export class ItemBudget {
  pcreSteps = 0;
  pcreCalls = 0;
  searchBytes = 0;
  /** Which item this is (one more each reset): what verify.ts remembers about an item's buffers is keyed by it. */
  epoch = 0;

  /** A fresh allowance for an item whose buffers hold `bytes` bytes in all. */
  reset(bytes: number): void {
    this.epoch = (this.epoch + 1) | 0;
    this.pcreSteps = PCRE_STEPS_BASE + PCRE_STEPS_PER_BYTE * bytes;
    this.pcreCalls = PCRE_CALLS_BASE + PCRE_CALLS_PER_4_BYTES * (bytes >>> 2);
    this.searchBytes = SEARCH_BYTES_BASE + SEARCH_BYTES_PER_BYTE * bytes;
  }
}
