/**
 * The fast-pattern prefilter: per protocol class and buffer, one Hyperscan literal database over the fast patterns
 * of the rules that can apply (Snort 2.9 and 3 and Suricata use the same library for this). A scan says which
 * patterns occur; their rules become candidates. Patterns are matched with their rule's case (`nocase` ones
 * caselessly), each reported once per scan (HS_FLAG_SINGLEMATCH). Built at compile time and stored serialized in the
 * artifact, with the patterns themselves, so that a machine whose CPU or library the serialized form does not fit
 * rebuilds it at load.
 *
 * TCP payloads also get a streaming-mode database: inline, the gateway scans each segment as the continuation of
 * its stream, so a pattern that spans segments is found when the segment completing it arrives.
 *
 * A group whose patterns mostly belong to rules of one flow class also gets a block database per class of just the
 * patterns some rule can match in it. The classes: to a server or to a client, in an established session or not (the
 * four `flow` can tell apart: flowClasses, keywords/non-payload.ts). A subject `flow` holds to a direction (a packet
 * of a session, or any TCP packet not a fragment) is scanned with its class's database. Why: ET Open 2019's TCP `file_data` group has 1,804
 * patterns, of which 10 have a rule that can match a client's data; its TCP payload group 3,654, of which 2,213 to a
 * server and 1,605 to a client; and nearly all its TCP rules ask for an established session, which a TCP packet no
 * session was opened for (stream5's require_3whs: a capture that starts mid-connection) never is. Same results: a
 * pattern left out of a class's database has no rule that flowMatches lets match a subject of that class.
 */
import type { PortSet } from '../config/variables.js';
import { HS_CASELESS, loadEngine, type NativeEngine, type NativeHandle } from '../native/engine.js';
import { portRanges, setPortBits } from './header-sets.js';
import type { PortGroups } from './port-groups.js';
import type { BufferName, RulePlan } from './plan.js';
import { FLOW_CLASS_UNDIRECTED, FLOW_CLASSES_DIRECTED, flowClasses } from '../keywords/non-payload.js';
import { attachShort, blockInputs, splitShort } from './short-patterns.js';
import { broadIds, hasPortFilter, narrowMaps, narrowPorts } from './broad-ports.js';

export type ProtoClass = 'tcp' | 'udp' | 'icmp' | 'other';
export const PROTO_CLASSES: readonly ProtoClass[] = ['tcp', 'udp', 'icmp', 'other'];

export function appliesTo(proto: RulePlan['proto'], c: ProtoClass): boolean {
  return proto === 'ip' || proto === c;
}

/** What the prefilter reads of a rule (of a compiled plan, prefilterRulesOf, or a packed one: packed-rules.ts). */
export type PrefilterRule = Pick<RulePlan, 'index' | 'proto' | 'fastPattern' | 'srcPorts' | 'dstPorts' | 'bidirectional'> & {
  /** The flow classes whose subjects pass the rule's `flow` (flowClasses, keywords/non-payload.ts). */
  flowClasses: number;
};

/** What the prefilter reads of compiled plans' rules. */
export function prefilterRulesOf(rules: readonly RulePlan[]): PrefilterRule[] {
  return rules.map((r) => ({
    index: r.index,
    proto: r.proto,
    fastPattern: r.fastPattern,
    srcPorts: r.srcPorts,
    dstPorts: r.dstPorts,
    bidirectional: r.bidirectional,
    flowClasses: flowClasses(r.flow),
  }));
}

/**
 * The flow classes of a directed subject (0 to 3; subjectFlowClass), numbered as PrefilterGroup.patternClasses's
 * bits (1 << class): the classes that get databases of their own (an undirected subject is scanned with the group's).
 */
export const FLOW_CLASSES = [0, 1, 2, 3] as const;

/**
 * A class gets a database of its own when it leaves out at least a fifth of the group's patterns: below that the
 * scan would gain little for another database to compile, store and load. Compile and load both decide by this.
 */
const CLASS_DB_MAX_SHARE = 0.8;

/** One group as compiled: plain data, stored in the artifact as it is. */
export interface PrefilterGroup {
  proto: ProtoClass;
  buf: BufferName;
  /** The distinct patterns, one after the other, pattern i at patternBytes[patternStart[i], patternStart[i + 1]). */
  patternBytes: Uint8Array;
  patternStart: Int32Array;
  /** 1 for a pattern matched caselessly. */
  nocase: Uint8Array;
  /** Pattern i's rules: ruleIds[ruleStart[i], ruleStart[i + 1]). */
  ruleStart: Int32Array;
  ruleIds: Int32Array;
  /**
   * TCP and UDP groups: per pattern, the ports its rules can match, so that a scan leaves out a pattern none of whose
   * rules can match the packet's ports (Snort 2.9 gets the same from its port groups): the number of a source and of
   * a destination port map (-1: any port; the union over the pattern's rules) and 1 when one of its rules is
   * bidirectional. Map k is the port ranges portRanges[2 * portMapStart[k], 2 * portMapStart[k + 1]) as [lo, hi]
   * pairs. Empty for the other groups.
   */
  portSrc: Int32Array;
  portDst: Int32Array;
  portBidir: Uint8Array;
  portMapStart: Int32Array;
  portRanges: Int32Array;
  /** Per pattern, the directed flow classes some rule of it can match a subject of (bits 1 << class; flowClasses). */
  patternClasses: Uint8Array;
  /**
   * Serialized Hyperscan databases: the group's scanned as blocks (compiled in streaming mode when it is small:
   * STREAM_COMPILED_MAX_PATTERNS), and a streaming one for TCP payloads (the gateway's).
   */
  block: Uint8Array;
  stream: Uint8Array | undefined;
  /** Per flow class, for a class that has a database of its own (classIds), scanned as blocks as `block` is. */
  byClass: (Uint8Array | undefined)[];
  /**
   * TCP and UDP groups: the broad-port databases (broad-ports.ts), streaming mode, per flow class with a database of
   * its own and last (FLOW_CLASS_UNDIRECTED) the group's: undefined when its database serves, null when no pattern of
   * it is broad (a packet on broad ports has nothing to scan). Empty for the other groups.
   */
  broad: (Uint8Array | null | undefined)[];
}

/** The groups without their databases: what the compile step hands to Hyperscan. */
type GroupPatterns = Omit<PrefilterGroup, 'block' | 'stream' | 'byClass' | 'broad'>;

/**
 * The patterns a flow class's database holds, when it has one of its own; undefined when the group's database serves
 * it (the class leaves out too few patterns). An empty list: no pattern can match there, nothing is scanned.
 */
export function classIds(g: Pick<PrefilterGroup, 'patternClasses'>, c: number): number[] | undefined {
  const ids: number[] = [];
  const bit = 1 << c;
  for (let i = 0; i < g.patternClasses.length; i++) if ((g.patternClasses[i]! & bit) !== 0) ids.push(i);
  return ids.length > CLASS_DB_MAX_SHARE * g.patternClasses.length ? undefined : ids;
}

/** ASCII upper case to lower case (a loop: TypedArray.prototype.map with a callback is several times slower). */
function folded(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    out[i] = c >= 65 && c <= 90 ? c + 32 : c;
  }
  return out;
}

/**
 * A fast pattern's identity in its group: case-sensitive or not, and its bytes (folded when caseless) as a latin1
 * string (fromCharCode over the bytes: cheaper than a Buffer made per pattern, in chunks that keep apply's argument
 * count small).
 */
function patternKey(nocase: boolean, bytes: Uint8Array): string {
  let key = nocase ? 'i' : 'c';
  for (let at = 0; at < bytes.length; at += 4096) key += String.fromCharCode.apply(null, bytes.subarray(at, at + 4096) as unknown as number[]);
  return key;
}

/**
 * The groups: per protocol class and buffer, the distinct fast patterns in order of first use and the rules of each
 * in rule order. Flat arrays (each rule's pattern number, then a counting sort), not a list per pattern: this runs
 * once per compile, cold, between the rules' compile and Hyperscan's start (on ET Open about a third less CPU than
 * lists and a Buffer per pattern key).
 *
 * The payload group (`pkt`) holds the file_data rules' patterns too. A subject without file data (no HTTP body, no
 * dcerpc2 file data: most TCP packets) has its payload as its file_data buffer (bufferOf), the bytes the payload group
 * scans, and the file_data group's scan was a second pass over them: on the bench capture nearly half the bytes
 * Hyperscan scanned, in a call per packet that found almost nothing (skipping it outright saved 5% of the two-worker
 * inspection's CPU; the one scan 2-3%). The matcher (candidates) takes the file_data rules from the payload group's
 * scan when the file_data buffer is the payload, and scans the file_data group only when it is not (the file_data
 * rules the payload scan found then passed over).
 */
function* groupPatterns(rules: readonly PrefilterRule[]): Generator<GroupPatterns> {
  for (const proto of PROTO_CLASSES) {
    const byBuf = new Map<BufferName, PrefilterRule[]>();
    const add = (buf: BufferName, r: PrefilterRule): void => {
      const l = byBuf.get(buf);
      if (l === undefined) byBuf.set(buf, [r]);
      else l.push(r);
    };
    for (const r of rules) {
      if (r.fastPattern === undefined || !appliesTo(r.proto, proto)) continue;
      add(r.fastPattern.buf, r);
      // the payload group holds the file_data patterns too (see above)
      if (r.fastPattern.buf === 'file_data') add('pkt', r);
    }
    for (const [buf, list] of byBuf) {
      const ids = new Map<string, number>();
      const patterns: Uint8Array[] = [];
      const nocase: number[] = [];
      const patternOf = new Int32Array(list.length);
      for (let j = 0; j < list.length; j++) {
        const fp = list[j]!.fastPattern!;
        const bytes = fp.nocase ? folded(fp.bytes) : fp.bytes;
        const key = patternKey(fp.nocase, bytes);
        let id = ids.get(key);
        if (id === undefined) {
          id = patterns.length;
          ids.set(key, id);
          patterns.push(bytes);
          nocase.push(fp.nocase ? 1 : 0);
        }
        patternOf[j] = id;
      }
      const n = patterns.length;
      const patternStart = new Int32Array(n + 1);
      const ruleStart = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) patternStart[i + 1] = patternStart[i]! + patterns[i]!.length;
      for (let j = 0; j < list.length; j++) ruleStart[patternOf[j]! + 1]!++;
      for (let i = 0; i < n; i++) ruleStart[i + 1]! += ruleStart[i]!;
      const patternBytes = new Uint8Array(patternStart[n]!);
      for (let i = 0; i < n; i++) patternBytes.set(patterns[i]!, patternStart[i]!);
      // each pattern's rules in rule order (a stable counting sort)
      const ruleIds = new Int32Array(list.length);
      const byPattern = new Array<PrefilterRule>(list.length);
      const next = ruleStart.slice(0, n);
      for (let j = 0; j < list.length; j++) {
        const at = next[patternOf[j]!]!++;
        ruleIds[at] = list[j]!.index;
        byPattern[at] = list[j]!;
      }
      const ports = proto === 'tcp' || proto === 'udp' ? portFilter(byPattern, ruleStart) : NO_PORT_FILTER;
      const patternClasses = new Uint8Array(n);
      for (let i = 0; i < n; i++)
        for (let j = ruleStart[i]!; j < ruleStart[i + 1]!; j++) patternClasses[i]! |= byPattern[j]!.flowClasses & FLOW_CLASSES_DIRECTED;
      yield { proto, buf, patternBytes, patternStart, nocase: Uint8Array.from(nocase), ruleStart, ruleIds, ...ports, patternClasses };
    }
  }
}

type PortFilter = Pick<PrefilterGroup, 'portSrc' | 'portDst' | 'portBidir' | 'portMapStart' | 'portRanges'>;
const NO_PORT_FILTER: PortFilter = {
  portSrc: new Int32Array(0),
  portDst: new Int32Array(0),
  portBidir: new Uint8Array(0),
  portMapStart: new Int32Array(1),
  portRanges: new Int32Array(0),
};

/** A rule's port set on one side, for the filter: undefined for an `ip` rule (it applies whatever the ports). */
const sidePorts = (r: PrefilterRule, src: boolean): PortSet | undefined => (r.proto === 'ip' ? undefined : src ? r.srcPorts : r.dstPorts);
const anyPort = (x: PortSet | undefined): boolean => x === undefined || (x.any && x.exclude.length === 0);

/**
 * The port filter of a group whose pattern i has the rules rules[ruleStart[i], ruleStart[i + 1]) (see
 * PrefilterGroup.portSrc).
 */
function portFilter(rules: readonly PrefilterRule[], ruleStart: Int32Array): PortFilter {
  const n = ruleStart.length - 1;
  const portSrc = new Int32Array(n);
  const portDst = new Int32Array(n);
  const portBidir = new Uint8Array(n);
  const maps = new Map<string, number>();
  const setIds = new Map<PortSet, number>();
  const ranges: number[][] = [];
  const idOf = (x: PortSet): number => {
    let id = setIds.get(x);
    if (id === undefined) setIds.set(x, (id = setIds.size));
    return id;
  };
  /** The map of a union of port sets named by `key` (their ids, sorted, joined by commas). */
  const mapFor = (key: string, sets: () => Iterable<PortSet>): number => {
    let m = maps.get(key);
    if (m === undefined) {
      const r = portRanges(sets());
      // (every port: no filter, remembered as such)
      m = r.length === 2 && r[0] === 0 && r[1] === 65535 ? -1 : ranges.length;
      maps.set(key, m);
      if (m !== -1) ranges.push(r);
    }
    return m;
  };
  /** The map of the union of the side's port sets of rules [from, to), -1 when one of them is any port. */
  const mapOf = (from: number, to: number, src: boolean): number => {
    if (to - from === 1) {
      // (most patterns have one rule)
      const x = sidePorts(rules[from]!, src);
      return anyPort(x) ? -1 : mapFor(String(idOf(x!)), () => [x!]);
    }
    const sets: PortSet[] = [];
    for (let j = from; j < to; j++) {
      const x = sidePorts(rules[j]!, src);
      if (anyPort(x)) return -1;
      sets.push(x!);
    }
    const ids = [...new Set(sets.map(idOf))].sort((a, b) => a - b);
    return mapFor(ids.join(','), () => new Set(sets));
  };
  for (let i = 0; i < n; i++) {
    const from = ruleStart[i]!;
    const to = ruleStart[i + 1]!;
    portSrc[i] = mapOf(from, to, true);
    portDst[i] = mapOf(from, to, false);
    let bidir = 0;
    for (let j = from; j < to; j++) if (rules[j]!.bidirectional) bidir = 1;
    portBidir[i] = bidir;
  }
  const portMapStart = new Int32Array(ranges.length + 1);
  ranges.forEach((r, k) => (portMapStart[k + 1] = portMapStart[k]! + r.length / 2));
  return { portSrc, portDst, portBidir, portMapStart, portRanges: Int32Array.from(ranges.flat()) };
}

/** The 65536-bit maps of a group's port filter, one after the other (what the addon's hsPortFilter takes). */
export function portMaps(g: PrefilterGroup): Uint8Array {
  const count = g.portMapStart.length - 1;
  const maps = new Uint8Array(count * 8192);
  for (let k = 0; k < count; k++) {
    for (let j = g.portMapStart[k]!; j < g.portMapStart[k + 1]!; j++) setPortBits(maps, k * 8192, g.portRanges[2 * j]!, g.portRanges[2 * j + 1]!);
  }
  return maps;
}

/** A group's pattern numbers, all of them. */
function allIds(g: GroupPatterns): number[] {
  return Array.from({ length: g.nocase.length }, (_, i) => i);
}

/**
 * Hyperscan's arguments for a group's patterns (ids are pattern numbers): block mode without the short patterns
 * (short-patterns.ts), each reported once, of the patterns `of` (a flow class's; all by default); streaming mode with
 * every pattern and every occurrence (the gateway keeps the latest per pattern).
 */
function hsInputs(g: GroupPatterns, stream: boolean, of: readonly number[] = allIds(g)): [Uint8Array[], Uint32Array, Uint32Array] {
  if (!stream) return blockInputs(g, splitShort(g, of).long);
  const n = g.nocase.length;
  const patterns: Uint8Array[] = [];
  const flags = new Uint32Array(n);
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    patterns.push(g.patternBytes.subarray(g.patternStart[i]!, g.patternStart[i + 1]!));
    flags[i] = g.nocase[i] ? HS_CASELESS : 0;
    ids[i] = i;
  }
  return [patterns, flags, ids];
}

/** Hyperscan's arguments for one database: patterns, flags, ids, and whether it is compiled in streaming mode. */
type HsArgs = [Uint8Array[], Uint32Array, Uint32Array, boolean];

/**
 * A block database holding at most this many patterns is compiled in streaming mode, and scanned as one block all
 * the same (the addon's hsScan keeps a stream per such database and resets it after each scan). Why: for a small
 * literal set Hyperscan's block mode builds its small-write engine (an automaton for blocks of up to 70 bytes), which
 * cost ET Open 2019's 669 request-body patterns 117 ms and the 25 patterns of its other-protocols group 104 ms of a
 * compile, against 12 ms and 1 ms in streaming mode (a third of all the compile's Hyperscan time); the sets of 1,799
 * patterns and more compile as fast in either mode (34-122 ms), and keep block mode for the speed of their scans.
 */
export const STREAM_COMPILED_MAX_PATTERNS = 1024;

/**
 * A block database's arguments (block inputs: hsInputs), of the patterns `of`; compiled in streaming mode when it is
 * small (STREAM_COMPILED_MAX_PATTERNS) or `stream` (the broad-port databases: broad-ports.ts).
 */
function blockArgs(g: GroupPatterns, of?: readonly number[], stream = false): HsArgs {
  const [patterns, flags, ids] = hsInputs(g, false, of);
  return [patterns, flags, ids, stream || patterns.length <= STREAM_COMPILED_MAX_PATTERNS];
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/**
 * Per flow class, the database it is scanned with: its own, made by `own` (two classes with the same patterns share
 * one), `whole` when the group's serves it, undefined when no pattern can match there. Compile and load both.
 */
function classDatabases<T>(g: GroupPatterns, own: (ids: number[], c: number) => T, whole: T | undefined): (T | undefined)[] {
  const made: { ids: number[]; db: T }[] = [];
  return FLOW_CLASSES.map((c) => {
    const ids = classIds(g, c);
    if (ids === undefined) return whole;
    if (ids.length === 0) return undefined;
    let m = made.find((x) => sameIds(x.ids, ids));
    if (m === undefined) made.push((m = { ids, db: own(ids, c) }));
    return m.db;
  });
}

/**
 * The broad-port databases of a group (PrefilterGroup.broad), made by `own` in streaming mode (two with the same
 * patterns share one).
 */
function broadDatabases<T>(g: GroupPatterns, own: (ids: number[]) => T): (T | null | undefined)[] {
  if (!hasPortFilter(g)) return [];
  const made: { ids: number[]; db: T }[] = [];
  const narrow = narrowMaps(g);
  const broadOf = (ids: number[] | undefined): T | null | undefined => {
    const broad = ids === undefined || ids.length === 0 ? undefined : broadIds(g, ids, narrow);
    if (broad === undefined) return undefined;
    if (broad.length === 0) return null;
    let m = made.find((x) => sameIds(x.ids, broad));
    if (m === undefined) made.push((m = { ids: broad, db: own(broad) }));
    return m.db;
  };
  const out = FLOW_CLASSES.map((c): T | null | undefined => broadOf(classIds(g, c)));
  out[FLOW_CLASS_UNDIRECTED] = broadOf(allIds(g));
  return out;
}

function wantsStream(g: GroupPatterns): boolean {
  return g.proto === 'tcp' && g.buf === 'pkt';
}

/** Builds the groups of a set of rules (Hyperscan compiles here, synchronously). */
export function buildPrefilter(rules: readonly PrefilterRule[], engine: NativeEngine = loadEngine()): PrefilterGroup[] {
  return [...groupPatterns(rules)].map((g) => ({
    ...g,
    block: engine.hsCompile(...blockArgs(g)),
    stream: wantsStream(g) ? engine.hsCompile(...hsInputs(g, true), true) : undefined,
    byClass: classDatabases(g, (ids) => engine.hsCompile(...blockArgs(g, ids)), undefined),
    // (a block database's inputs, compiled in streaming mode: broad-ports.ts)
    broad: broadDatabases(g, (ids) => engine.hsCompile(...blockArgs(g, ids, true))),
  }));
}

/**
 * The same, with every database compiled side by side on libuv's thread pool (`honeywall compile`), each group's
 * given to Hyperscan as soon as the group is made (the TCP groups, the largest, first).
 */
export async function buildPrefilterAsync(rules: readonly PrefilterRule[], engine: NativeEngine = loadEngine()): Promise<PrefilterGroup[]> {
  const compiling: Promise<PrefilterGroup>[] = [];
  for (const g of groupPatterns(rules)) {
    const block = engine.hsCompileAsync(...blockArgs(g));
    const stream = wantsStream(g) ? engine.hsCompileAsync(...hsInputs(g, true), true) : undefined;
    const byClass = classDatabases(g, (ids) => engine.hsCompileAsync(...blockArgs(g, ids)), undefined);
    const broad = broadDatabases(g, (ids) => engine.hsCompileAsync(...blockArgs(g, ids, true)));
    compiling.push(
      Promise.all([block, stream, Promise.all(byClass), Promise.all(broad)]).then(([b, st, classes, broadDbs]) => ({
        ...g,
        block: b,
        stream: st,
        byClass: classes,
        broad: broadDbs,
      })),
    );
  }
  return Promise.all(compiling);
}

/** A group ready to scan in this thread. */
export interface LoadedGroup {
  group: PrefilterGroup;
  db: NativeHandle;
  /** Receives the ids of one scan (one slot per pattern: each comes at most once). */
  out: Int32Array;
  /**
   * Per flow class, the database a directed subject of the class is scanned with: its own, the group's (`db`) when it
   * has none, undefined when no pattern can match there; and last, for an undirected subject (FLOW_CLASS_UNDIRECTED),
   * the group's (one look-up for every subject, where choosing `db` for undirected ones was a branch the matcher's
   * optimized code had not met before the first UDP datagram without a session, and was thrown away at).
   */
  classDb: (NativeHandle | undefined)[];
  /**
   * TCP and UDP groups: per port, 1 when a narrow port set holds it (broad-ports.ts narrowPorts); and, indexed as
   * classDb, the database a subject is scanned with when neither of its ports is marked there: a broad-port database,
   * the class's own (classDb's) when it has none, undefined when no pattern can match there.
   */
  narrow: Uint8Array | undefined;
  broadDb: (NativeHandle | undefined)[];
  /** The streaming database, loaded on first use (only the gateway uses it). */
  streamDb: NativeHandle | undefined;
  /** The group's port groups (port-groups.ts), when its matcher makes them. */
  ports: PortGroups | undefined;
}

/**
 * Loads a serialized database; when this machine cannot use it (another CPU family or Hyperscan version), compiles
 * the group's patterns again. `rebuilt` counts those (the gateway and replay report them).
 */
export class PrefilterLoader {
  rebuilt = 0;

  constructor(private readonly engine: NativeEngine = loadEngine()) {}

  /**
   * `classes`: load the flow classes' databases and the broad-port ones too (else the group's serves every class: the
   * gateway's TCP and UDP groups, whose port groups serve the ports).
   */
  load(g: PrefilterGroup, classes = true): LoadedGroup {
    const n = g.nocase.length;
    const db = this.filtered(g, this.database(g, false));
    // each class's patterns, for its broad-port database
    const classPatterns: number[][] = [];
    const classDb = classes
      ? classDatabases(
          g,
          (ids, c) => {
            classPatterns[c] = ids;
            // (a class's database numbers the group's patterns as the group's does: it takes its port filter as it is)
            const own = this.classDatabase(g, c, ids);
            this.engine.hsPortFilterShare(own, db);
            return own;
          },
          db,
        )
      : FLOW_CLASSES.map(() => db);
    classDb[FLOW_CLASS_UNDIRECTED] = db;
    const { narrow, broadDb } = classes ? this.broadDatabases(g, db, classDb, classPatterns) : { narrow: undefined, broadDb: classDb };
    return { group: g, db, classDb, narrow, broadDb, out: new Int32Array(Math.max(1, n)), streamDb: undefined, ports: undefined };
  }

  /**
   * LoadedGroup's narrow and broadDb: what the artifact holds of the group's broad-port databases, loaded
   * (`classPatterns`: the patterns of each class with a database of its own).
   */
  private broadDatabases(
    g: PrefilterGroup,
    db: NativeHandle,
    classDb: (NativeHandle | undefined)[],
    classPatterns: readonly number[][],
  ): Pick<LoadedGroup, 'narrow' | 'broadDb'> {
    if (!hasPortFilter(g) || g.broad.length === 0) return { narrow: undefined, broadDb: classDb };
    const maps = narrowMaps(g);
    const loaded = new Map<Uint8Array, NativeHandle>();
    const broadDb = classDb.map((base, c) => {
      if (base === undefined) return undefined;
      // (a class without a database of its own is scanned with the group's: so is it on broad ports)
      const k = base === db ? FLOW_CLASS_UNDIRECTED : c;
      const bytes = g.broad[k];
      if (bytes === undefined) return base;
      if (bytes === null) return undefined;
      let own = loaded.get(bytes);
      if (own === undefined) {
        // (a class whose patterns are another's shares that class's database: classDatabases made it for that one)
        const ids = broadIds(g, k === FLOW_CLASS_UNDIRECTED ? allIds(g) : (classPatterns[k] ?? classIds(g, k) ?? allIds(g)), maps) ?? [];
        own = this.loadedBroad(g, bytes, ids);
        // (it numbers the group's patterns as the group's database does: it takes its port filter as it is)
        this.engine.hsPortFilterShare(own, db);
        loaded.set(bytes, own);
      }
      return own;
    });
    return { narrow: narrowPorts(g, maps), broadDb };
  }

  private loadedBroad(g: PrefilterGroup, bytes: Uint8Array, ids: readonly number[]): NativeHandle {
    const db = this.loaded(g, bytes, () => blockArgs(g, ids, true));
    attachShort(this.engine, db, g, splitShort(g, ids).short);
    return db;
  }

  streamDatabase(l: LoadedGroup): NativeHandle {
    if (l.streamDb === undefined) l.streamDb = this.filtered(l.group, this.database(l.group, true));
    return l.streamDb;
  }

  /** The database with the group's port filter attached (TCP and UDP groups). */
  private filtered(g: PrefilterGroup, db: NativeHandle): NativeHandle {
    if (hasPortFilter(g)) this.engine.hsPortFilter(db, g.portSrc, g.portDst, g.portBidir, portMaps(g));
    return db;
  }

  private database(g: PrefilterGroup, stream: boolean): NativeHandle {
    const db = stream ? this.loaded(g, g.stream, () => [...hsInputs(g, true), true]) : this.loaded(g, g.block, () => blockArgs(g));
    if (!stream) attachShort(this.engine, db, g, splitShort(g, allIds(g)).short);
    return db;
  }

  private classDatabase(g: PrefilterGroup, c: number, ids: readonly number[]): NativeHandle {
    const db = this.loaded(g, g.byClass[c], () => blockArgs(g, ids));
    attachShort(this.engine, db, g, splitShort(g, ids).short);
    return db;
  }

  /** `args`: what to compile the database from, in which mode, when the stored one does not fit this machine. */
  private loaded(g: PrefilterGroup, bytes: Uint8Array | undefined, args: () => HsArgs): NativeHandle {
    const maxId = Math.max(0, g.nocase.length - 1);
    if (bytes !== undefined) {
      try {
        return this.engine.hsLoad(bytes, maxId);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'platform' && code !== 'version') throw e;
      }
    }
    this.rebuilt++;
    return this.engine.hsLoad(this.engine.hsCompile(...args()), maxId);
  }
}
