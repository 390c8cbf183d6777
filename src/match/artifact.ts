/**
 * The matcher artifact: one versioned binary file the runtime loads without parsing rules.
 *
 *   bytes 0..7   "HWMATCH\0"
 *   u32 LE       format version (ARTIFACT_VERSION)
 *   u32 LE       length of the JSON header
 *   JSON header  { plan, prefilter: [{ proto, buf, classes, patterns, tables: { name: [offset, length] } }], meta }
 *   padding to a multiple of 8, then the typed-array tables (little-endian), each at an 8-aligned offset
 *
 * Byte arrays inside the plan are written as {"$b": base64}. Loading maps the tables as typed-array views over the
 * file buffer (no copy) and compiles the regular expressions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { AutomatonTables } from './aho-corasick.js';
import { buildPrefilter, Matcher, type MatcherOptions, type PrefilterGroup, type ProtoClass } from './engine.js';
import type { AddressSet, PortSet } from '../config/variables.js';
import type { BufferName, MatcherPlan, RulePlan } from './plan.js';

export const ARTIFACT_MAGIC = 'HWMATCH\0';
export const ARTIFACT_VERSION = 2;

export class ArtifactError extends Error {}

interface TableRef {
  offset: number;
  length: number;
  type: 'u8' | 'u16' | 'i32';
}

interface GroupHeader {
  proto: ProtoClass;
  buf: BufferName;
  classes: number;
  patterns: number;
  tables: Record<'classOf' | 'delta' | 'hasOut' | 'outStart' | 'outIds' | 'ruleStart' | 'ruleIds', TableRef>;
}

interface Header {
  format: 'honeywall-matcher';
  version: number;
  meta: Record<string, unknown>;
  plan: SharedPlan;
  prefilter: GroupHeader[];
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64') };
  return value;
}

/** Restores byte arrays ({"$b": base64}) in place, walking only objects and arrays. */
function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === 'object') value[i] = revive(v);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') o[k] = revive(v);
  }
  return o;
}

/** Rules share address and port sets: the header stores each set once (sets[i]) and rules refer to it by index. */
interface SharedPlan extends Omit<MatcherPlan, 'rules'> {
  sets: unknown[];
  rules: (Omit<RulePlan, 'src' | 'dst' | 'srcPorts' | 'dstPorts'> & { src: number; dst: number; srcPorts: number; dstPorts: number })[];
}

function share(plan: MatcherPlan): SharedPlan {
  const ids = new Map<unknown, number>();
  const sets: unknown[] = [];
  const id = (x: unknown) => {
    let i = ids.get(x);
    if (i === undefined) {
      i = sets.length;
      ids.set(x, i);
      sets.push(x);
    }
    return i;
  };
  return {
    ...plan,
    sets,
    rules: plan.rules.map((r) => ({ ...r, src: id(r.src), dst: id(r.dst), srcPorts: id(r.srcPorts), dstPorts: id(r.dstPorts) })),
  };
}

function unshare(p: SharedPlan): MatcherPlan {
  const sets = p.sets as (AddressSet & PortSet)[];
  const rules: RulePlan[] = p.rules.map((r) => ({ ...r, src: sets[r.src]!, dst: sets[r.dst]!, srcPorts: sets[r.srcPorts]!, dstPorts: sets[r.dstPorts]! }));
  return { rules, filters: p.filters, actionOrder: p.actionOrder, eventLog: p.eventLog };
}

/** Writes plan + prefilter tables; returns the file size. */
export function writeArtifact(path: string, plan: MatcherPlan, prefilter: PrefilterGroup[] = buildPrefilter(plan), meta: Record<string, unknown> = {}): number {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const add = (a: Uint8Array | Uint16Array | Int32Array, type: 'u8' | 'u16' | 'i32'): TableRef => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const ref = { offset, length: a.length, type };
    blobs.push(bytes);
    offset += bytes.length;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) {
      blobs.push(new Uint8Array(pad));
      offset += pad;
    }
    return ref;
  };
  const groups: GroupHeader[] = prefilter.map((g) => ({
    proto: g.proto,
    buf: g.buf,
    classes: g.automaton.classes,
    patterns: g.automaton.patterns,
    tables: {
      classOf: add(g.automaton.classOf, 'u8'),
      delta: add(g.automaton.delta, g.automaton.delta instanceof Uint16Array ? 'u16' : 'i32'),
      hasOut: add(g.automaton.hasOut, 'u8'),
      outStart: add(g.automaton.outStart, 'i32'),
      outIds: add(g.automaton.outIds, 'i32'),
      ruleStart: add(g.ruleStart, 'i32'),
      ruleIds: add(g.ruleIds, 'i32'),
    },
  }));
  const header: Header = { format: 'honeywall-matcher', version: ARTIFACT_VERSION, meta, plan: share(plan), prefilter: groups };
  const json = Buffer.from(JSON.stringify(header, replacer), 'utf8');
  const pre = Buffer.alloc(16);
  pre.write(ARTIFACT_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(ARTIFACT_VERSION, 8);
  pre.writeUInt32LE(json.length, 12);
  const headLen = 16 + json.length;
  const headPad = (8 - (headLen % 8)) % 8;
  const out = Buffer.concat([pre, json, Buffer.alloc(headPad), ...blobs]);
  writeFileSync(path, out);
  return out.length;
}

export interface LoadedArtifact {
  plan: MatcherPlan;
  prefilter: PrefilterGroup[];
  meta: Record<string, unknown>;
  bytes: number;
}

/** Reads an artifact (no rule parsing). Throws ArtifactError with the reason when the file is not one. */
export function readArtifact(path: string): LoadedArtifact {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new ArtifactError(`cannot read matcher ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== ARTIFACT_MAGIC) throw new ArtifactError(`${path} is not a honeywall matcher artifact`);
  const version = buf.readUInt32LE(8);
  if (version !== ARTIFACT_VERSION) throw new ArtifactError(`${path}: artifact format version ${version}, this honeywall reads version ${ARTIFACT_VERSION} (recompile)`);
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
  const view = (r: TableRef): Uint8Array | Uint16Array | Int32Array => {
    const at = base.byteOffset + dataStart + r.offset;
    const size = r.length * (r.type === 'i32' ? 4 : r.type === 'u16' ? 2 : 1);
    if (dataStart + r.offset + size > base.length) throw new ArtifactError(`${path}: truncated table`);
    if (r.type === 'i32') return new Int32Array(base.buffer, at, r.length);
    if (r.type === 'u16') return new Uint16Array(base.buffer, at, r.length);
    return new Uint8Array(base.buffer, at, r.length);
  };
  const prefilter: PrefilterGroup[] = header.prefilter.map((g) => {
    const automaton: AutomatonTables = {
      classes: g.classes,
      patterns: g.patterns,
      classOf: view(g.tables.classOf) as Uint8Array,
      delta: view(g.tables.delta) as Int32Array | Uint16Array,
      hasOut: view(g.tables.hasOut) as Uint8Array,
      outStart: view(g.tables.outStart) as Int32Array,
      outIds: view(g.tables.outIds) as Int32Array,
    };
    return { proto: g.proto, buf: g.buf, automaton, ruleStart: view(g.tables.ruleStart) as Int32Array, ruleIds: view(g.tables.ruleIds) as Int32Array };
  });
  return { plan: unshare(header.plan), prefilter, meta: header.meta, bytes: buf.length };
}

/** Loads an artifact into a ready matcher. */
export function loadMatcher(path: string, opts: MatcherOptions = {}): Matcher {
  const a = readArtifact(path);
  return new Matcher(a.plan, a.prefilter, opts);
}
