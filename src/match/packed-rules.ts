/**
 * Rules packed for the artifact (artifact.ts): each rule's stored JSON (stored-rule.ts) one after the other, and what
 * the artifact's other tables are made from: the rule table's columns, the header sets the rules name, the fast
 * patterns. Plain data, typed arrays mostly, so that a pack crosses threads as a copy of a few arrays: `honeywall
 * compile` packs each rule file in the thread that compiled it (compile-parallel.ts), where handing the plans
 * themselves over (a structured clone of thousands of object graphs) cost about as much on each side as packing
 * them. `joinPacked` puts packs together in file order; what is written from the result does not depend on how the
 * files were shared out.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import { BUFFERS, type BufferName, type RulePlan } from './plan.js';
import type { PrefilterRule } from './prefilter.js';
import { FLOW_CLASSES_ALL } from '../keywords/non-payload.js';
import {
  PROTO_CODES,
  PROTO_NAMES,
  RULE_BIDIRECTIONAL,
  RULE_FAST_PATTERN,
  RULE_FLOW_CLASS_SHIFT,
  ruleFlags,
  RuleTable,
  type RuleColumns,
} from './rule-table.js';
import { JsonBlobWriter, revive, storedJson } from './stored-json.js';
import { packRule, STORED_RULE_START, type StringTable } from './stored-rule.js';
import { changeNodesOfRule, type ChangeNode } from './rule-tree.js';
import { keepsHostXbits } from './xbits.js';

/**
 * A header set, the key that names it in every pack (rules whose sets have one key share one set), and its JSON as
 * the artifact stores it. A pack that crosses threads holds the JSON only (compile-worker.ts leaves the object out):
 * V8's structured clone of a reputation list's thousands of address objects cost ten times the JSON's copy and
 * parse; `packedSet` parses it when the set is needed.
 */
export interface PackedSet {
  key: string;
  json: string;
  set?: AddressSet | PortSet;
}

/** The set of a PackedSet, parsed from its JSON when the pack came without it. */
export function packedSet(s: PackedSet): AddressSet | PortSet {
  s.set ??= revive(JSON.parse(s.json)) as AddressSet | PortSet;
  return s.set;
}

export interface PackedRules {
  count: number;
  /**
   * The rules' stored JSON, one chunk per file packed (joinPacked keeps the chunks: they are written one after the
   * other, never copied into one array first). Rule i's is bytes [offsets[i], offsets[i + 1]) of the chunks put end to
   * end (offsets from 0, one more than rules).
   */
  blob: Uint8Array[];
  offsets: Uint32Array;
  /** The rule table's proto and flags columns (rule-table.ts). */
  proto: Uint8Array;
  flags: Uint8Array;
  /** Per rule, the numbers in `sets` of its src, dst, srcPorts and dstPorts (4 per rule). */
  setRefs: Uint32Array;
  /** Each set once, in order of first use (rule by rule: src, dst, srcPorts, dstPorts, as RuleTable.fromRules). */
  sets: PackedSet[];
  /** The fast patterns of the rules that have one (RULE_FAST_PATTERN), in rule order: buffer (in BUFFERS), case, bytes. */
  fpBuf: Uint8Array;
  fpNocase: Uint8Array;
  fpStart: Uint32Array;
  fpBytes: Uint8Array;
  /** Rules with a `replace` content (the gateway says how many). */
  replaceRules: number;
  /** Rules with xbits kept on a host (xbits.ts keepsHostXbits: a replay of them is not sharded). */
  hostXbitsRules: number;
  /** The rules' flowbits operations that change bits and their nodes' keys (rule-tree.ts changeNodesOf). */
  changeNodes: ChangeNode[];
}

/**
 * A set's key: the same key must name the same set (in value) in every pack, and distinct sets of one pack (objects)
 * distinct keys.
 */
export type SetKey = (set: AddressSet | PortSet, side: 'address' | 'port') => string;

/** Keys by object identity: the sets of one plan, packed in one piece (writeArtifact). */
export function identityKeys(): SetKey {
  const keys = new Map<AddressSet | PortSet, string>();
  return (set) => {
    let k = keys.get(set);
    if (k === undefined) {
      k = String(keys.size);
      keys.set(set, k);
    }
    return k;
  };
}

const BUFFER_CODES = new Map<BufferName, number>(BUFFERS.map((b, i) => [b, i]));

/** Packs rules (stored JSON numbered with `strings`). */
export function packRules(rules: readonly RulePlan[], strings: StringTable, keyOf: SetKey): PackedRules {
  const p = new RulePacker(strings, keyOf);
  for (const r of rules) p.add(r);
  return p.finish();
}

/**
 * packRules a rule at a time, as the compile makes them (compile-parallel.ts packFile): a rule's plan is let go once
 * added, not kept with the rest of its file's until the pack is made (ET Open's compile: its young generation's
 * collections copied and promoted every plan of a file).
 */
export class RulePacker {
  private readonly json = new JsonBlobWriter(STORED_RULE_START);
  private n = 0;
  private readonly proto: number[] = [];
  private readonly flags: number[] = [];
  private readonly setRefs: number[] = [];
  private readonly sets: PackedSet[] = [];
  // by object first: a key can be a long text (an address list), made and hashed once per set, not once per use
  private readonly numbers = new Map<AddressSet | PortSet, number>();
  private readonly fps: Uint8Array[] = [];
  private readonly fpBuf: number[] = [];
  private readonly fpNocase: number[] = [];
  private replaceRules = 0;
  private hostXbitsRules = 0;
  private readonly changeNodes: ChangeNode[] = [];

  constructor(
    private readonly strings: StringTable,
    private readonly keyOf: SetKey,
  ) {}

  add(r: RulePlan): void {
    const i = this.n++;
    this.json.add(packRule(r, this.strings));
    this.proto.push(PROTO_CODES[r.proto]);
    this.flags.push(ruleFlags(r));
    this.setRefs.push(this.ref(r.src, 'address'), this.ref(r.dst, 'address'), this.ref(r.srcPorts, 'port'), this.ref(r.dstPorts, 'port'));
    const fp = r.fastPattern;
    if (fp !== undefined) {
      this.fps.push(fp.bytes);
      this.fpBuf.push(BUFFER_CODES.get(fp.buf)!);
      this.fpNocase.push(fp.nocase ? 1 : 0);
    }
    if (r.ops.some((o) => o.op === 'content' && o.replace !== undefined)) this.replaceRules++;
    if (keepsHostXbits(r)) this.hostXbitsRules++;
    changeNodesOfRule(r, i, this.changeNodes);
  }

  private ref(set: AddressSet | PortSet, side: 'address' | 'port'): number {
    let k = this.numbers.get(set);
    if (k === undefined) {
      k = this.sets.length;
      this.numbers.set(set, k);
      this.sets.push({ key: this.keyOf(set, side), json: storedJson(set), set });
    }
    return k;
  }

  /** The pack of the rules added (the packer is done). */
  finish(): PackedRules {
    const { blob, offsets } = this.json.finish();
    const fps = this.fps;
    const fpStart = new Uint32Array(fps.length + 1);
    for (let k = 0; k < fps.length; k++) fpStart[k + 1] = fpStart[k]! + fps[k]!.length;
    const fpBytes = new Uint8Array(fpStart[fps.length]!);
    for (let k = 0; k < fps.length; k++) fpBytes.set(fps[k]!, fpStart[k]!);
    return {
      count: this.n,
      blob: [blob],
      offsets,
      proto: Uint8Array.from(this.proto),
      flags: Uint8Array.from(this.flags),
      setRefs: Uint32Array.from(this.setRefs),
      sets: this.sets,
      fpBuf: Uint8Array.from(this.fpBuf),
      fpNocase: Uint8Array.from(this.fpNocase),
      fpStart,
      fpBytes,
      replaceRules: this.replaceRules,
      hostXbitsRules: this.hostXbitsRules,
      changeNodes: this.changeNodes,
    };
  }
}

/** Packs one after the other, as one (sets with one key become one set, numbered in order of first use). */
export function joinPacked(parts: readonly PackedRules[]): PackedRules {
  let count = 0;
  let fpCount = 0;
  let fpLength = 0;
  let replaceRules = 0;
  let hostXbitsRules = 0;
  for (const p of parts) {
    count += p.count;
    hostXbitsRules += p.hostXbitsRules;
    fpCount += p.fpBuf.length;
    fpLength += p.fpBytes.length;
    replaceRules += p.replaceRules;
  }
  const out: PackedRules = {
    count,
    blob: parts.flatMap((p) => p.blob),
    offsets: new Uint32Array(count + 1),
    proto: new Uint8Array(count),
    flags: new Uint8Array(count),
    setRefs: new Uint32Array(4 * count),
    sets: [],
    fpBuf: new Uint8Array(fpCount),
    fpNocase: new Uint8Array(fpCount),
    fpStart: new Uint32Array(fpCount + 1),
    fpBytes: new Uint8Array(fpLength),
    replaceRules,
    hostXbitsRules,
    changeNodes: [],
  };
  const numbers = new Map<string, number>();
  let rule = 0;
  let at = 0;
  let fp = 0;
  let fpAt = 0;
  for (const p of parts) {
    for (let i = 0; i < p.count; i++) out.offsets[rule + i] = at + p.offsets[i]!;
    out.proto.set(p.proto, rule);
    out.flags.set(p.flags, rule);
    for (let j = 0; j < 4 * p.count; j++) {
      const s = p.sets[p.setRefs[j]!]!;
      let k = numbers.get(s.key);
      if (k === undefined) {
        k = out.sets.length;
        numbers.set(s.key, k);
        out.sets.push(s);
      }
      out.setRefs[4 * rule + j] = k;
    }
    out.fpBuf.set(p.fpBuf, fp);
    out.fpNocase.set(p.fpNocase, fp);
    for (let k = 0; k < p.fpBuf.length; k++) out.fpStart[fp + k] = fpAt + p.fpStart[k]!;
    out.fpBytes.set(p.fpBytes, fpAt);
    for (const n of p.changeNodes) out.changeNodes.push({ rule: rule + n.rule, op: n.op, key: n.key });
    rule += p.count;
    at += p.offsets[p.count]!;
    fp += p.fpBuf.length;
    fpAt += p.fpBytes.length;
  }
  out.offsets[count] = at;
  out.fpStart[fpCount] = fpAt;
  return out;
}

/** The rule table of packed rules: columns and sets (the plans stay packed: the artifact needs their JSON only). */
export function packedRuleTable(p: PackedRules): RuleTable {
  const n = p.count;
  const c: RuleColumns = {
    proto: p.proto,
    flags: p.flags,
    src: new Uint32Array(n),
    dst: new Uint32Array(n),
    srcPorts: new Uint32Array(n),
    dstPorts: new Uint32Array(n),
  };
  for (let i = 0; i < n; i++) {
    c.src[i] = p.setRefs[4 * i]!;
    c.dst[i] = p.setRefs[4 * i + 1]!;
    c.srcPorts[i] = p.setRefs[4 * i + 2]!;
    c.dstPorts[i] = p.setRefs[4 * i + 3]!;
  }
  return new RuleTable(
    c,
    p.sets.length,
    (i) => packedSet(p.sets[i]!),
    (i) => {
      throw new Error(`rule ${i} is packed`);
    },
  );
}

/** What the prefilter reads of each packed rule that has a fast pattern. */
export function packedPrefilterRules(p: PackedRules): PrefilterRule[] {
  const out: PrefilterRule[] = [];
  let k = 0;
  for (let i = 0; i < p.count; i++) {
    const flags = p.flags[i]!;
    if ((flags & RULE_FAST_PATTERN) === 0) continue;
    out.push({
      index: i,
      proto: PROTO_NAMES[p.proto[i]!]!,
      fastPattern: { buf: BUFFERS[p.fpBuf[k]!]!, bytes: p.fpBytes.subarray(p.fpStart[k]!, p.fpStart[k + 1]!), nocase: p.fpNocase[k] === 1 },
      srcPorts: packedSet(p.sets[p.setRefs[4 * i + 2]!]!) as PortSet,
      dstPorts: packedSet(p.sets[p.setRefs[4 * i + 3]!]!) as PortSet,
      bidirectional: (flags & RULE_BIDIRECTIONAL) !== 0,
      flowClasses: (flags >> RULE_FLOW_CLASS_SHIFT) & FLOW_CLASSES_ALL,
    });
    k++;
  }
  return out;
}
