/**
 * The matcher artifact: one versioned binary file that `replay` and the gateway load without parsing rules.
 *
 *   bytes 0..7   "HWMATCH\0"
 *   u32 LE       format version (ARTIFACT_VERSION)
 *   u32 LE       length of the JSON header
 *   JSON header  { meta, engine, policy, sets, rules: { count, tables }, prefilter: [{ proto, buf, tables }] }
 *   padding to a multiple of 8, then the tables (typed arrays, little-endian), each at an 8-aligned offset
 *
 * The tables hold the rule columns of rule-table.ts, every rule's plan as JSON (one blob, one offset per rule: a
 * rule is parsed when it is first evaluated), each port set's ports as runs (header-sets.ts PortRangeTable), and per
 * prefilter group its patterns, their rules and the serialized Hyperscan databases. Byte arrays inside JSON are
 * written as {"$b": base64} (stored-json.ts). Loading maps the tables as views over the file's buffer (no copy) and
 * deserializes the databases; nothing is compiled unless the databases were made for another CPU or Hyperscan version.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AddressSet, PortSet } from '../config/variables.js';
import { EngineUnavailableError, loadEngine } from '../native/engine.js';
import { Matcher, type LoadedRules, type MatcherOptions } from './engine.js';
import type { MatcherPlan, MatcherPolicy } from './plan.js';
import { buildPrefilterAsync, FLOW_CLASSES, prefilterRulesOf, type PrefilterGroup, type ProtoClass } from './prefilter.js';
import { RuleTable } from './rule-table.js';
import { revive, storedJson, textBlob } from './stored-json.js';
import { identityKeys, packedRuleTable, packRules, type PackedRules } from './packed-rules.js';
import { StoredRuleError, StringTable, unpackRule, type StoredRule } from './stored-rule.js';
import { buildNoFastPatternIndex, INDEX_MAPS, type IndexMap, type NoFastPatternTables } from './no-fast-pattern-index.js';
import type { BufferName } from './plan.js';
import { sharingTable, sharingTableSound, type SharingTable } from './rule-tree.js';
import { portRangeTable, portRangeTableSound, type PortRangeTable } from './header-sets.js';
import { FLOW_CLASS_UNDIRECTED } from '../keywords/non-payload.js';

export const ARTIFACT_MAGIC = 'HWMATCH\0';
/**
 * 8: the dns_query and tls_sni buffers (buffer codes 13, 14) and xbits (flowbits operations with a track).
 * 9: per prefilter group, its patterns' directions and a block database per direction.
 * 10: per prefilter group, its patterns' flow classes and a block database per class (prefilter.ts).
 * 11: the rule table's `flags` column holds each rule's flow classes (rule-table.ts RULE_FLOW_CLASS_SHIFT), not its
 * four `flow` flags.
 * 12: the rules' shared flowbits nodes (rule-tree.ts SharingTable) and the count of rules with xbits on a host, made
 * at compile time.
 * 13: each port set's ports as runs (header-sets.ts PortRangeTable).
 * 14: the payload groups hold the file_data rules' patterns too (prefilter.ts groupPatterns).
 * 15: per TCP and UDP prefilter group, its broad-port databases (broad-ports.ts).
 */
export const ARTIFACT_VERSION = 15;

export class ArtifactError extends Error {}

type TableType = 'u8' | 'i32' | 'u32';
interface TableRef {
  offset: number;
  length: number;
  type: TableType;
}

const PORT_TABLES = ['portSrc', 'portDst', 'portBidir', 'portMapStart', 'portRanges'] as const;
type PortTable = (typeof PORT_TABLES)[number];

interface GroupHeader {
  proto: ProtoClass;
  buf: BufferName;
  tables: Record<'patternBytes' | 'patternStart' | 'nocase' | 'ruleStart' | 'ruleIds' | 'patternClasses' | 'block' | PortTable, TableRef> & {
    stream?: TableRef;
    /** Per flow class, its database when it has one of its own (null: none). */
    byClass?: (TableRef | null)[];
    /** PrefilterGroup.broad: null where it is undefined (the database serves), 'empty' where it is null. */
    broad?: (TableRef | 'empty' | null)[];
  };
}

interface Header {
  format: 'honeywall-matcher';
  version: number;
  meta: Record<string, unknown>;
  /** The libraries the databases were made with (a mismatch means they are rebuilt at load). */
  engine: { hyperscan: string; pcre: string };
  policy: MatcherPolicy;
  /** Address and port sets: each one's JSON in `blob`, parsed when first used; the port sets' ports as runs
   *  (header-sets.ts PortRangeTable). */
  sets: { count: number; tables: Record<'blob' | 'offsets', TableRef>; portRanges: Record<keyof PortRangeTable, TableRef> };
  /** replaceRules: rules with a `replace` content (the gateway says how many). hostXbitsRules: rules with xbits on
   *  a host (a replay of them is not sharded). strings: the files and class descriptions rules name by number
   *  (stored-rule.ts). */
  rules: {
    count: number;
    strings: string[];
    replaceRules: number;
    hostXbitsRules: number;
    tables: Record<'proto' | 'flags' | 'src' | 'dst' | 'srcPorts' | 'dstPorts' | 'blob' | 'offsets', TableRef>;
    /** The shared flowbits nodes (rule-tree.ts SharingTable). */
    sharing: Record<keyof SharingTable, TableRef>;
  };
  prefilter: GroupHeader[];
  /** The index of rules without a fast pattern, per protocol class: each map's keys, starts and rules. */
  noFastPattern: (Record<IndexMap, Record<'keys' | 'start' | 'rules', TableRef>> & { generic: TableRef })[];
}

/** Keys strictly ascending (the index bisects them), starts ascending from 0 to at most the rules' count. */
function keyedSound(t: { keys: Int32Array; start: Int32Array }, rules: number): boolean {
  const n = t.keys.length;
  if (t.start.length !== n + 1 || t.start[0] !== 0 || t.start[n]! > rules) return false;
  for (let i = 0; i < n; i++) {
    if (t.start[i]! > t.start[i + 1]!) return false;
    if (i > 0 && t.keys[i - 1]! >= t.keys[i]!) return false;
  }
  return true;
}

/** A port filter that is empty, or has an entry per pattern, map numbers in range and ranges within 0..65535. */
function portFilterSound(g: PrefilterGroup): boolean {
  const n = g.portSrc.length;
  if (n === 0) return g.portDst.length === 0 && g.portBidir.length === 0;
  if (n !== g.nocase.length || g.portDst.length !== n || g.portBidir.length !== n) return false;
  const maps = g.portMapStart.length - 1;
  if (maps < 0 || g.portMapStart[0] !== 0 || g.portMapStart[maps]! * 2 !== g.portRanges.length) return false;
  for (let k = 0; k < maps; k++) if (g.portMapStart[k]! > g.portMapStart[k + 1]!) return false;
  for (let i = 0; i < n; i++) if (g.portSrc[i]! < -1 || g.portSrc[i]! >= maps || g.portDst[i]! < -1 || g.portDst[i]! >= maps) return false;
  for (let j = 0; j < g.portRanges.length; j += 2) {
    const lo = g.portRanges[j]!;
    const hi = g.portRanges[j + 1]!;
    if (lo < 0 || hi > 65535 || lo > hi) return false;
  }
  return true;
}

/** Writes the artifact; the prefilter databases are compiled here unless given. Returns the file size. */
export async function writeArtifact(
  path: string,
  plan: MatcherPlan,
  meta: Record<string, unknown> = {},
  prefilter?: PrefilterGroup[],
): Promise<number> {
  // Hyperscan compiles on libuv's threads while this thread writes the rest
  const compiling = prefilter !== undefined ? Promise.resolve(prefilter) : buildPrefilterAsync(prefilterRulesOf(plan.rules));
  const strings = new StringTable();
  const packed = packRules(plan.rules, strings, identityKeys());
  return writePackedArtifact(path, { rules: packed, strings: strings.list, policy: plan }, meta, compiling);
}

/** What a packed artifact is written from: the rules, the strings their JSON numbers, the policy. */
export interface PackedPlan {
  rules: PackedRules;
  strings: string[];
  policy: MatcherPolicy;
}

/** Writes the artifact of packed rules (packed-rules.ts), with the prefilter databases when they are compiled. */
export async function writePackedArtifact(
  path: string,
  plan: PackedPlan,
  meta: Record<string, unknown>,
  compiling: Promise<PrefilterGroup[]>,
): Promise<number> {
  const packed = plan.rules;
  const table = packedRuleTable(packed);
  const blobs: Uint8Array[] = [];
  let offset = 0;
  /** A table of the file, of one array or of byte chunks one after the other (written as they are, not joined). */
  const add = (a: Uint8Array | Int32Array | Uint32Array | readonly Uint8Array[], type: TableType): TableRef => {
    const one = ArrayBuffer.isView(a) ? a : undefined;
    const chunks = one === undefined ? (a as readonly Uint8Array[]) : [new Uint8Array(one.buffer, one.byteOffset, one.byteLength)];
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    const ref = { offset, length: one === undefined ? bytes : one.length, type };
    blobs.push(...chunks);
    offset += bytes;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      blobs.push(new Uint8Array(pad));
      offset += pad;
    }
    return ref;
  };
  // every set's JSON (made when its rules were packed), one after the other
  const setsBlob = textBlob(packed.sets.map((s) => s.json));
  const c = table.columns;
  const portSetNumbers = new Set<number>([...c.srcPorts, ...c.dstPorts]);
  const portRangesOf = portRangeTable(table.setCount, (i) => (portSetNumbers.has(i) ? table.portSet(i) : undefined));
  const rules: Header['rules'] = {
    count: packed.count,
    strings: plan.strings,
    replaceRules: packed.replaceRules,
    hostXbitsRules: packed.hostXbitsRules,
    tables: {
      proto: add(c.proto, 'u8'),
      flags: add(c.flags, 'u8'),
      src: add(c.src, 'u32'),
      dst: add(c.dst, 'u32'),
      srcPorts: add(c.srcPorts, 'u32'),
      dstPorts: add(c.dstPorts, 'u32'),
      blob: add(packed.blob, 'u8'),
      offsets: add(packed.offsets, 'u32'),
    },
    sharing: sharingRefs(sharingTable(packed.changeNodes), (a) => add(a, 'i32')),
  };
  const noFastPattern = buildNoFastPatternIndex(table).map((t) => {
    const out = { generic: add(t.generic, 'i32') } as Header['noFastPattern'][number];
    for (const name of INDEX_MAPS) out[name] = { keys: add(t[name].keys, 'i32'), start: add(t[name].start, 'i32'), rules: add(t[name].rules, 'i32') };
    return out;
  });
  const groups = await compiling;
  // a class whose patterns are another's shares its database (prefilter.ts classDatabases): its bytes are written once
  const written = new Map<Uint8Array, TableRef>();
  const once = (db: Uint8Array): TableRef => {
    let ref = written.get(db);
    if (ref === undefined) written.set(db, (ref = add(db, 'u8')));
    return ref;
  };
  const prefilterHeaders: GroupHeader[] = groups.map((g) => ({
    proto: g.proto,
    buf: g.buf,
    tables: {
      patternBytes: add(g.patternBytes, 'u8'),
      patternStart: add(g.patternStart, 'i32'),
      nocase: add(g.nocase, 'u8'),
      ruleStart: add(g.ruleStart, 'i32'),
      ruleIds: add(g.ruleIds, 'i32'),
      patternClasses: add(g.patternClasses, 'u8'),
      block: add(g.block, 'u8'),
      ...(g.stream ? { stream: add(g.stream, 'u8') } : {}),
      byClass: g.byClass.map((b) => (b ? once(b) : null)),
      broad: g.broad.map((b) => (b === undefined ? null : b === null ? 'empty' : once(b))),
      portSrc: add(g.portSrc, 'i32'),
      portDst: add(g.portDst, 'i32'),
      portBidir: add(g.portBidir, 'u8'),
      portMapStart: add(g.portMapStart, 'i32'),
      portRanges: add(g.portRanges, 'i32'),
    },
  }));
  const engine = loadEngine();
  const header: Header = {
    format: 'honeywall-matcher',
    version: ARTIFACT_VERSION,
    meta,
    engine: { hyperscan: engine.hyperscanVersion, pcre: engine.pcreVersion },
    policy: { filters: plan.policy.filters, actionOrder: plan.policy.actionOrder, eventQueue: plan.policy.eventQueue },
    sets: {
      count: table.setCount,
      tables: { blob: add(setsBlob.blob, 'u8'), offsets: add(setsBlob.offsets, 'u32') },
      portRanges: { start: add(portRangesOf.start, 'i32'), ranges: add(portRangesOf.ranges, 'i32') },
    },
    rules,
    prefilter: prefilterHeaders,
    noFastPattern,
  };
  const json = Buffer.from(storedJson(header), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(ARTIFACT_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(ARTIFACT_VERSION, 8);
  pre.writeUInt32LE(json.length, 12);
  const headLen = 16 + json.length;
  const headPad = (8 - (headLen % 8)) % 8;
  // Written piece by piece: joining 20 MB first cost a fresh buffer's page faults and a copy (65 ms of a compile).
  return writePieces(path, [pre, json, Buffer.alloc(headPad), ...blobs]);
}

function sharingRefs(t: SharingTable, add: (a: Int32Array) => TableRef): Header['rules']['sharing'] {
  return { rule: add(t.rule), op: add(t.op), group: add(t.group), groupStart: add(t.groupStart), groupRules: add(t.groupRules) };
}

/**
 * Writes the pieces one after the other as the file's whole content, into a new file renamed over `path` at the end;
 * its length. Never in place: a matcher is read through a mapping (artifactBytes), and truncating a mapped file under
 * a running gateway or replay would end it with SIGBUS; renamed, the old file lives on for whoever has it mapped, and
 * a write that fails leaves the old one whole. (A symbolic link at `path` is followed: its target is replaced.)
 */
function writePieces(path: string, pieces: readonly Uint8Array[]): number {
  const target = resolvedTarget(path);
  // (a device or a pipe, /dev/null say, is written to as it is: never replaced by a file)
  if (target.special) return writeAll(openSync(path, 'w'), pieces);
  const temp = join(dirname(target.path), `.${basename(target.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const total = writeAll(openSync(temp, 'wx', 0o644), pieces);
    renameSync(temp, target.path);
    return total;
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Writes the pieces to fd and closes it; their length. */
function writeAll(fd: number, pieces: readonly Uint8Array[]): number {
  let total = 0;
  try {
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
      total += piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

/** The file a write to `path` replaces (the target of a symbolic link there), and whether it is no regular file. */
function resolvedTarget(path: string): { path: string; special: boolean } {
  try {
    const real = realpathSync(path);
    return { path: real, special: !statSync(real).isFile() };
  } catch {
    return { path, special: false };
  }
}

export interface LoadedArtifact extends LoadedRules {
  meta: Record<string, unknown>;
  bytes: number;
  replaceRules: number;
  /** Rules with xbits kept on a host (xbits.ts keepsHostXbits), counted at compile time. */
  hostXbitsRules: number;
  /** The port sets' ports as stored (the rule table reads them). */
  portRanges: PortRangeTable;
}

/**
 * The artifact file's bytes: mapped, not read (native/src/honeywall_map.c says why: a read cost 69 ms of page faults
 * for 25 MiB on the bench machine, and a replay touches a few MiB of it); read when it is no regular file.
 */
function artifactBytes(path: string): Buffer {
  try {
    return Buffer.from(loadEngine().mapFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTREG') return readFileSync(path);
    throw e;
  }
}

/** Reads an artifact (no rule parsing). Throws ArtifactError with the reason when the file is not one. */
export function readArtifact(path: string): LoadedArtifact {
  let buf: Buffer;
  try {
    buf = artifactBytes(path);
  } catch (e) {
    if (e instanceof EngineUnavailableError) throw e;
    throw new ArtifactError(`cannot read matcher ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== ARTIFACT_MAGIC) throw new ArtifactError(`${path} is not a honeywall matcher artifact`);
  const version = buf.readUInt32LE(8);
  if (version !== ARTIFACT_VERSION)
    throw new ArtifactError(`${path}: artifact format version ${version}, this honeywall reads version ${ARTIFACT_VERSION} (recompile)`);
  const jlen = buf.readUInt32LE(12);
  if (16 + jlen > buf.length) throw new ArtifactError(`${path}: truncated header`);
  let header: Header;
  try {
    header = revive(JSON.parse(buf.toString('utf8', 16, 16 + jlen))) as Header;
  } catch (e) {
    throw new ArtifactError(`${path}: damaged header (${(e as Error).message})`);
  }
  const headLen = 16 + jlen;
  const dataStart = headLen + ((8 - (headLen % 8)) % 8);
  // typed-array views need aligned offsets: copy once if the file buffer itself is not aligned
  let base = buf;
  if ((buf.byteOffset + dataStart) % 4 !== 0) base = Buffer.from(buf);
  const view = <T extends Uint8Array | Int32Array | Uint32Array>(r: TableRef | undefined, what: string): T => {
    if (r === undefined || typeof r.offset !== 'number' || typeof r.length !== 'number') throw new ArtifactError(`${path}: damaged header (${what})`);
    const size = r.length * (r.type === 'u8' ? 1 : 4);
    if (r.offset < 0 || dataStart + r.offset + size > base.length) throw new ArtifactError(`${path}: truncated table (${what})`);
    const at = base.byteOffset + dataStart + r.offset;
    if (r.type === 'i32') return new Int32Array(base.buffer, at, r.length) as T;
    if (r.type === 'u32') return new Uint32Array(base.buffer, at, r.length) as T;
    return new Uint8Array(base.buffer, at, r.length) as T;
  };
  // a database two flow classes share is one view (the loader loads it once)
  const broadViews = new Map<number, Uint8Array>();
  const broadOf = (refs: unknown, k: number): (Uint8Array | null | undefined)[] => {
    if (refs === undefined) return [];
    if (!Array.isArray(refs) || refs.length > FLOW_CLASS_UNDIRECTED + 1) throw new ArtifactError(`${path}: damaged header (group ${k} broad)`);
    return (refs as (TableRef | 'empty' | null)[]).map((r, c) => {
      if (r === null) return undefined;
      if (r === 'empty') return null;
      let v = broadViews.get(r.offset);
      if (v === undefined) broadViews.set(r.offset, (v = view<Uint8Array>(r, `group ${k} broad ${c}`)));
      return v;
    });
  };
  const t = header.rules.tables;
  const count = header.rules.count;
  const columns = {
    proto: view<Uint8Array>(t.proto, 'proto'),
    flags: view<Uint8Array>(t.flags, 'flags'),
    src: view<Uint32Array>(t.src, 'src'),
    dst: view<Uint32Array>(t.dst, 'dst'),
    srcPorts: view<Uint32Array>(t.srcPorts, 'srcPorts'),
    dstPorts: view<Uint32Array>(t.dstPorts, 'dstPorts'),
  };
  for (const [name, col] of Object.entries(columns)) if (col.length !== count) throw new ArtifactError(`${path}: damaged rule table (${name})`);
  const strings = header.rules.strings;
  if (!Array.isArray(strings) || strings.some((x) => typeof x !== 'string')) throw new ArtifactError(`${path}: damaged header (strings)`);
  const sharingRefsRead = header.rules.sharing;
  if (typeof sharingRefsRead !== 'object' || sharingRefsRead === null) throw new ArtifactError(`${path}: damaged header (sharing)`);
  const sharingView = (name: keyof SharingTable) => view<Int32Array>(sharingRefsRead[name], `sharing ${name}`);
  const sharing: SharingTable = {
    rule: sharingView('rule'),
    op: sharingView('op'),
    group: sharingView('group'),
    groupStart: sharingView('groupStart'),
    groupRules: sharingView('groupRules'),
  };
  if (!sharingTableSound(sharing, count)) throw new ArtifactError(`${path}: damaged rule table (sharing)`);
  const rulesJson = jsonReader(path, 'rule', view<Uint8Array>(t.blob, 'blob'), view<Uint32Array>(t.offsets, 'offsets'), count);
  const setCount = header.sets.count;
  const setsJson = jsonReader(
    path,
    'set',
    view<Uint8Array>(header.sets.tables.blob, 'sets'),
    view<Uint32Array>(header.sets.tables.offsets, 'sets'),
    setCount,
  );
  for (const col of [columns.src, columns.dst, columns.srcPorts, columns.dstPorts]) {
    for (let i = 0; i < count; i++) if (col[i]! >= setCount) throw new ArtifactError(`${path}: damaged rule table (set ${col[i]})`);
  }
  const portRangeRefs = header.sets.portRanges;
  if (typeof portRangeRefs !== 'object' || portRangeRefs === null) throw new ArtifactError(`${path}: damaged header (port ranges)`);
  const portRanges: PortRangeTable = {
    start: view<Int32Array>(portRangeRefs.start, 'port ranges'),
    ranges: view<Int32Array>(portRangeRefs.ranges, 'port ranges'),
  };
  if (!portRangeTableSound(portRanges, setCount)) throw new ArtifactError(`${path}: damaged set table (port ranges)`);
  const table: RuleTable = new RuleTable(
    columns,
    setCount,
    (i) => setsJson(i) as AddressSet | PortSet,
    (i) => {
      const stored = rulesJson(i) as StoredRule;
      const sets = {
        src: table.addressSet(columns.src[i]!),
        srcPorts: table.portSet(columns.srcPorts[i]!),
        dst: table.addressSet(columns.dst[i]!),
        dstPorts: table.portSet(columns.dstPorts[i]!),
      };
      try {
        return unpackRule(stored, i, strings, sets);
      } catch (e) {
        if (e instanceof StoredRuleError) throw new ArtifactError(`${path}: damaged rule ${i} (${e.message})`);
        throw e;
      }
    },
    (i) => portRanges.ranges.subarray(2 * portRanges.start[i]!, 2 * portRanges.start[i + 1]!),
  );
  const prefilter: PrefilterGroup[] = header.prefilter.map((g, k) => {
    const gt = g.tables;
    const group: PrefilterGroup = {
      proto: g.proto,
      buf: g.buf,
      patternBytes: view<Uint8Array>(gt.patternBytes, `group ${k}`),
      patternStart: view<Int32Array>(gt.patternStart, `group ${k}`),
      nocase: view<Uint8Array>(gt.nocase, `group ${k}`),
      ruleStart: view<Int32Array>(gt.ruleStart, `group ${k}`),
      ruleIds: view<Int32Array>(gt.ruleIds, `group ${k}`),
      patternClasses: view<Uint8Array>(gt.patternClasses, `group ${k}`),
      block: view<Uint8Array>(gt.block, `group ${k}`),
      stream: gt.stream ? view<Uint8Array>(gt.stream, `group ${k}`) : undefined,
      byClass: FLOW_CLASSES.map((c) => {
        const t = Array.isArray(gt.byClass) ? gt.byClass[c] : undefined;
        return t ? view<Uint8Array>(t, `group ${k} class ${c}`) : undefined;
      }),
      broad: broadOf(gt.broad, k),
      portSrc: view<Int32Array>(gt.portSrc, `group ${k}`),
      portDst: view<Int32Array>(gt.portDst, `group ${k}`),
      portBidir: view<Uint8Array>(gt.portBidir, `group ${k}`),
      portMapStart: view<Int32Array>(gt.portMapStart, `group ${k}`),
      portRanges: view<Int32Array>(gt.portRanges, `group ${k}`),
    };
    if (!portFilterSound(group)) throw new ArtifactError(`${path}: damaged port filter of prefilter group ${k}`);
    for (let j = 0; j < group.ruleIds.length; j++) if (group.ruleIds[j]! >= count) throw new ArtifactError(`${path}: damaged prefilter group ${k}`);
    if (
      group.ruleStart.length !== group.nocase.length + 1 ||
      group.patternStart.length !== group.nocase.length + 1 ||
      group.patternClasses.length !== group.nocase.length
    ) {
      throw new ArtifactError(`${path}: damaged prefilter group ${k}`);
    }
    return group;
  });
  const noFastPattern = header.noFastPattern.map((h, k) => {
    const rulesIn = (a: Int32Array) => {
      for (let i = 0; i < a.length; i++) if (a[i]! < 0 || a[i]! >= count) throw new ArtifactError(`${path}: damaged address index ${k}`);
      return a;
    };
    const t = { generic: rulesIn(view<Int32Array>(h.generic, `address index ${k}`)) } as NoFastPatternTables;
    for (const name of INDEX_MAPS) {
      const r = h[name];
      t[name] = { keys: view<Int32Array>(r.keys, name), start: view<Int32Array>(r.start, name), rules: rulesIn(view<Int32Array>(r.rules, name)) };
      if (!keyedSound(t[name], t[name].rules.length)) throw new ArtifactError(`${path}: damaged address index ${k} (${name})`);
    }
    return t;
  });
  return {
    table,
    prefilter,
    noFastPattern,
    sharing,
    portRanges,
    ...header.policy,
    meta: header.meta,
    bytes: buf.length,
    replaceRules: typeof header.rules.replaceRules === 'number' ? header.rules.replaceRules : 0,
    hostXbitsRules: countOf(path, header.rules.hostXbitsRules, 'hostXbitsRules'),
  };
}

/** A count the header holds: a whole number from 0 (a damaged header is refused, not read as 0). */
function countOf(path: string, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ArtifactError(`${path}: damaged header (${what})`);
  return v;
}

/** Reads value i of a JSON blob (parsed each time: callers keep what they parse). */
function jsonReader(path: string, what: string, blob: Uint8Array, offsets: Uint32Array, count: number): (i: number) => unknown {
  if (offsets.length !== count + 1 || offsets[count]! > blob.length) throw new ArtifactError(`${path}: damaged ${what} table (offsets)`);
  const text = Buffer.from(blob.buffer, blob.byteOffset, blob.length);
  return (i) => {
    const a = offsets[i]!;
    const b = offsets[i + 1]!;
    if (!(a <= b && b <= blob.length)) throw new ArtifactError(`${path}: damaged ${what} ${i} (offsets)`);
    try {
      return revive(JSON.parse(text.toString('utf8', a, b)));
    } catch (e) {
      throw new ArtifactError(`${path}: damaged ${what} ${i} (${(e as Error).message})`);
    }
  };
}

/**
 * A ready matcher over an artifact read from `path`. Its Hyperscan databases are deserialized here: one the library
 * calls damaged (bytes that are no database: the file was altered) is the file's fault, told with its path as an
 * ArtifactError like the rest of the file's damage, not an internal error.
 */
export function matcherOf(path: string, artifact: LoadedArtifact, opts: MatcherOptions = {}): Matcher {
  try {
    return new Matcher(artifact, undefined, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'damaged') throw new ArtifactError(`${path}: damaged prefilter database (${(e as Error).message})`);
    throw e;
  }
}

/** Loads an artifact into a ready matcher. */
export function loadMatcher(path: string, opts: MatcherOptions = {}): Matcher {
  return matcherOf(path, readArtifact(path), opts);
}
