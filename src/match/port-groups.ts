/**
 * Port groups of a prefilter group (Snort 2.9's port groups, made as traffic meets them): for the ports of a packet,
 * a Hyperscan database of just the group's patterns that some rule can match on those ports.
 *
 * Why: the group's database holds every pattern, and the addon's port filter (hsPortFilter) drops the ones whose
 * rules cannot match the packet's ports only after Hyperscan has found them. Hyperscan's cost is in the finding: a
 * pattern that occurs at every byte is confirmed at every byte although the filter throws it away. ET Open's UDP
 * group has the one-byte hex digits of a port 47 rule: a datagram of 256 `F`s costs 6.6 us a scan with the whole
 * database, 0.5 us with the 111 of its 2,630 patterns that can match UDP to port 9000 (text: 3.2 and 0.6 us).
 *
 * Same results whichever database scans: a port group's database holds exactly the patterns that the port filter
 * keeps for those ports, so both report the same set of ids, and the addon returns a scan's ids in ascending order
 * (sort_ids in native/src/honeywall_engine.c), so the same array. Which database scans a packet is then a matter of
 * speed only, which is what lets the databases be compiled on libuv's threads while packets flow: the whole database
 * with its filter serves the ports of a group until its database is ready, and for good when a limit is reached
 * (test/match-port-groups.test.ts holds the two scan paths to identical ids on generated rules, ports and payloads).
 *
 * Ports fall into classes: two ports in the same port maps (the unions of port sets of PrefilterGroup.portSrc and
 * portDst) get the same answer from every pattern's port test, so a packet's pattern set follows from the class of
 * its source and of its destination port. Bounded: the class pairs remembered by the number of classes squared (the
 * classes by twice the number of port ranges, plus one), and the databases compiled per group by `maxDatabases` and
 * `maxBytes`; a pattern set met beyond them is neither compiled nor kept. Each is counted in `stats`.
 */
import type { NativeEngine, NativeHandle } from '../native/engine.js';
import type { PrefilterGroup } from './prefilter.js';
import { attachShort, blockInputs, splitShort } from './short-patterns.js';

export interface PortGroupLimits {
  /** Databases one group may compile (distinct pattern sets). */
  maxDatabases: number;
  /** Their bytes (Hyperscan's size), all together. */
  maxBytes: number;
}

/** ET Open 2019's group databases are 0.1 to 0.6 MB; a gateway sees a few port classes. */
export const DEFAULT_PORT_GROUP_LIMITS: PortGroupLimits = { maxDatabases: 16, maxBytes: 16 << 20 };

export interface PortGroupStats {
  /** Port classes of the group (ports in the same port maps) and class pairs met so far. */
  classes: number;
  pairs: number;
  /** Distinct pattern sets compiled or being compiled; of them ready, being compiled or waiting, failed. */
  sets: number;
  ready: number;
  compiling: number;
  failed: number;
  /** Pairs served by the whole database with the port filter because a limit was reached. */
  overLimit: number;
  /** Pairs whose ports no pattern of the group can match: nothing is scanned for them. */
  empty: number;
  /** Pairs whose ports every pattern can match: the whole database is theirs. */
  all: number;
  bytes: number;
}

type SetState = 'all' | 'empty' | 'compiling' | 'ready' | 'failed' | 'over-limit';

/** One distinct set of patterns (several class pairs may share it). */
interface PatternSet {
  state: SetState;
  db: NativeHandle | undefined;
}

const ALL: PatternSet = { state: 'all', db: undefined };
const EMPTY: PatternSet = { state: 'empty', db: undefined };
const OVER_LIMIT: PatternSet = { state: 'over-limit', db: undefined };

/**
 * Runs compiles one at a time on libuv's threads, for all the groups of a matcher: the gateway's packets share the
 * cores with them (two, on the reference machine). Holds at most the groups' maxDatabases jobs.
 */
export class CompileQueue {
  private readonly jobs: (() => Promise<void>)[] = [];
  private busy = false;

  add(job: () => Promise<void>): void {
    this.jobs.push(job);
    this.next();
  }

  get idle(): boolean {
    return !this.busy && this.jobs.length === 0;
  }

  private next(): void {
    if (this.busy) return;
    const job = this.jobs.shift();
    if (job === undefined) return;
    this.busy = true;
    void job().finally(() => {
      this.busy = false;
      this.next();
    });
  }
}

export class PortGroups {
  readonly stats: PortGroupStats = { classes: 0, pairs: 0, sets: 0, ready: 0, compiling: 0, failed: 0, overLimit: 0, empty: 0, all: 0, bytes: 0 };
  /** Per port, its class (made on first use: a matcher loads groups it may never scan). */
  private classOf: Int32Array | undefined;
  /** Per class, per port map: 1 when the class's ports are in the map. */
  private member: Uint8Array[] = [];
  /** Per class pair (source class * classes + destination class), its set. */
  private readonly pairs = new Map<number, PatternSet>();
  /** The sets compiled or being compiled, by their ids joined (at most maxDatabases). */
  private readonly sets = new Map<string, PatternSet>();
  /** This group's compiles waiting or running (at most maxDatabases). */
  private pending = 0;

  constructor(
    readonly group: PrefilterGroup,
    /** The whole database, with its port filter attached. */
    private readonly full: NativeHandle,
    private readonly engine: NativeEngine,
    private readonly limits: PortGroupLimits = DEFAULT_PORT_GROUP_LIMITS,
    /** Shared by the groups of one matcher. */
    private readonly compiles: CompileQueue = new CompileQueue(),
  ) {}

  /**
   * The database to scan a packet with these ports with (pass the ports to hsScan too: the whole database filters by
   * them), or undefined when no pattern of the group can match them: there is nothing to scan.
   */
  database(sport: number, dport: number): NativeHandle | undefined {
    // (not ports: the addon applies no filter, so the whole database answers as it always did)
    if (!(sport >= 0 && sport <= 65535 && dport >= 0 && dport <= 65535)) return this.full;
    const classOf = this.classOf ?? this.classes();
    const cs = classOf[sport]!;
    const cd = classOf[dport]!;
    const key = cs * this.member.length + cd;
    let set = this.pairs.get(key);
    if (set === undefined) {
      set = this.setOf(cs, cd);
      this.pairs.set(key, set);
      this.stats.pairs++;
    }
    if (set.state === 'ready') return set.db;
    return set.state === 'empty' ? undefined : this.full;
  }

  /** Resolves when no database is being compiled or waiting (tests; the gateway never waits). */
  async settled(): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** The pattern ids of a class pair, as the addon's ports_pass decides them (native/src/honeywall_engine.c). */
  patternsFor(cs: number, cd: number): Int32Array {
    const g = this.group;
    const ms = this.member[cs]!;
    const md = this.member[cd]!;
    const n = g.nocase.length;
    const out = new Int32Array(n);
    let k = 0;
    for (let id = 0; id < n; id++) {
      const s = g.portSrc[id]!;
      const d = g.portDst[id]!;
      if (((s < 0 || ms[s] === 1) && (d < 0 || md[d] === 1)) || (g.portBidir[id] === 1 && (s < 0 || md[s] === 1) && (d < 0 || ms[d] === 1)))
        out[k++] = id;
    }
    return out.subarray(0, k);
  }

  /** The class of a port (tests). */
  portClass(port: number): number {
    return (this.classOf ?? this.classes())[port]!;
  }

  private setOf(cs: number, cd: number): PatternSet {
    const ids = this.patternsFor(cs, cd);
    if (ids.length === this.group.nocase.length) {
      this.stats.all++;
      return ALL;
    }
    if (ids.length === 0) {
      this.stats.empty++;
      return EMPTY;
    }
    const sig = ids.join(',');
    let set = this.sets.get(sig);
    if (set !== undefined) return set;
    if (this.sets.size >= this.limits.maxDatabases || this.stats.bytes >= this.limits.maxBytes) {
      this.stats.overLimit++;
      return OVER_LIMIT;
    }
    set = { state: 'compiling', db: undefined };
    this.sets.set(sig, set);
    this.stats.sets++;
    this.stats.compiling++;
    this.pending++;
    this.compiles.add(() => this.compile(set, ids));
    return set;
  }

  /**
   * Compiles a set's database (on libuv's threads) and makes it the set's when it fits the limits. In streaming mode,
   * scanned as blocks (the addon's hsScan): Hyperscan compiles a set of a few hundred literals in 10-25 ms that way
   * and in 0.5 s in block mode (the small-write engine it adds for short blocks), and scans a short payload about as
   * fast (broad-ports.ts).
   */
  private async compile(set: PatternSet, ids: Int32Array): Promise<void> {
    const g = this.group;
    // as the whole block database (prefilter.ts hsInputs): each id reported once, the short patterns by the table
    const { long, short } = splitShort(g, ids);
    let db: NativeHandle | undefined;
    try {
      db = this.engine.hsLoad(await this.engine.hsCompileAsync(...blockInputs(g, long), true), Math.max(0, g.nocase.length - 1));
      attachShort(this.engine, db, g, short);
    } catch {
      db = undefined;
    }
    this.pending--;
    this.stats.compiling--;
    const bytes = db === undefined ? 0 : this.engine.hsInfo(db).bytes;
    if (db === undefined) {
      set.state = 'failed';
      this.stats.failed++;
    } else if (this.stats.bytes + bytes > this.limits.maxBytes) {
      set.state = 'over-limit';
      this.stats.overLimit++;
    } else {
      set.db = db;
      set.state = 'ready';
      this.stats.ready++;
      this.stats.bytes += bytes;
    }
  }

  /**
   * Splits 0..65535 at every end of every port map's ranges; the ports of one piece are in the same maps. Pieces in
   * the same maps share a class.
   */
  private classes(): Int32Array {
    const g = this.group;
    const maps = g.portMapStart.length - 1;
    const cuts = new Set<number>([0]);
    for (let j = 0; j < g.portRanges.length; j += 2) {
      cuts.add(g.portRanges[j]!);
      if (g.portRanges[j + 1]! < 65535) cuts.add(g.portRanges[j + 1]! + 1);
    }
    const starts = [...cuts].sort((a, b) => a - b);
    // per map, the index of its first range not yet passed (a map's ranges are disjoint and sorted: portRanges in
    // header-sets.ts)
    const at = new Int32Array(maps);
    for (let k = 0; k < maps; k++) at[k] = g.portMapStart[k]!;
    const classOf = new Int32Array(65536);
    const ids = new Map<string, number>();
    for (let i = 0; i < starts.length; i++) {
      const lo = starts[i]!;
      const hi = i + 1 < starts.length ? starts[i + 1]! - 1 : 65535;
      const m = new Uint8Array(maps);
      for (let k = 0; k < maps; k++) {
        while (at[k]! < g.portMapStart[k + 1]! && g.portRanges[2 * at[k]! + 1]! < lo) at[k] = at[k]! + 1;
        if (at[k]! < g.portMapStart[k + 1]! && g.portRanges[2 * at[k]!]! <= lo) m[k] = 1;
      }
      const sig = m.join('');
      let c = ids.get(sig);
      if (c === undefined) {
        c = this.member.length;
        ids.set(sig, c);
        this.member.push(m);
      }
      classOf.fill(c, lo, hi + 1);
    }
    this.stats.classes = this.member.length;
    this.classOf = classOf;
    return classOf;
  }
}
