/**
 * A rule as the artifact stores it, and back. Stored: the plan's rule without what the artifact holds elsewhere or
 * can derive: its header sets (the rule table's columns), its index (its position), its file and class description
 * (numbers into the artifact's string table: ET Open repeats the same ~50 file names and ~40 descriptions over
 * 20,000 rules), a content's `false` flags (absent), and a fast pattern that is one of the rule's contents whole
 * (that content's number). ET Open 2019's stored rules are 30% smaller so: the compile's JSON (a third of its time)
 * and the artifact shrink with them.
 *
 * unpackRule(packRule(r)) equals r, keys in the plan's order (test/match-stored-rule.test.ts), so the engine sees
 * the rules it would see compiled in process.
 */
import type { AddressSet, PortSet } from '../config/variables.js';
import type { ContentOp, FastPattern, PayloadOp, RulePlan } from './plan.js';

/**
 * Strings of the artifact that rules name by number: numbered as rules first name them, or fixed beforehand (`fixed`)
 * when threads pack rules side by side and must number them alike.
 */
export class StringTable {
  readonly list: string[] = [];
  private readonly numbers = new Map<string, number>();
  private frozen = false;

  /** A table of these strings (duplicates numbered once) that refuses any other. */
  static fixed(strings: Iterable<string>): StringTable {
    const t = new StringTable();
    for (const s of strings) t.number(s);
    t.frozen = true;
    return t;
  }

  number(s: string): number {
    let n = this.numbers.get(s);
    if (n === undefined) {
      if (this.frozen) throw new Error(`stored rules: '${s}' is not in the fixed string table`);
      n = this.list.length;
      this.list.push(s);
      this.numbers.set(s, n);
    }
    return n;
  }
}

/** A content op as stored: its `false` flags left out. */
interface StoredContent {
  op: 'content';
  buf: ContentOp['buf'];
  bytes: Uint8Array;
  nocase?: true;
  negated?: true;
  relative?: true;
  fpOnly?: true;
  jump: number;
  offset?: ContentOp['offset'];
  depth?: ContentOp['depth'];
  distance?: ContentOp['distance'];
  within?: ContentOp['within'];
  replace?: Uint8Array;
}

type StoredOp = Exclude<PayloadOp, ContentOp> | StoredContent;

/** The stored rule: see the file's comment for what is left out or numbered. */
export interface StoredRule {
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype?: string;
  /** The class description's number in the string table. */
  classDescription?: number;
  priority: number;
  action: RulePlan['action'];
  proto: RulePlan['proto'];
  bidirectional: boolean;
  flow?: RulePlan['flow'];
  flowbits: RulePlan['flowbits'];
  headers: RulePlan['headers'];
  ops: StoredOp[];
  /** A fast pattern that is the rule's content op number `op` whole, or the fast pattern itself. */
  fastPattern?: FastPattern | { op: number };
  threshold?: RulePlan['threshold'];
  detectionFilter?: RulePlan['detectionFilter'];
  contentLength: number;
  tree?: RulePlan['tree'];
  /** The file's number in the string table. */
  file: number;
  line: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function packContent(c: ContentOp): StoredContent {
  const s: StoredContent = { op: 'content', buf: c.buf, bytes: c.bytes, jump: c.jump };
  if (c.nocase) s.nocase = true;
  if (c.negated) s.negated = true;
  if (c.relative) s.relative = true;
  if (c.fpOnly) s.fpOnly = true;
  if (c.offset !== undefined) s.offset = c.offset;
  if (c.depth !== undefined) s.depth = c.depth;
  if (c.distance !== undefined) s.distance = c.distance;
  if (c.within !== undefined) s.within = c.within;
  if (c.replace !== undefined) s.replace = c.replace;
  return s;
}

/** Keys in the order compile.ts's contentOp makes them (one object shape for the engine). */
function unpackContent(s: StoredContent): ContentOp {
  const c: ContentOp = {
    op: 'content',
    buf: s.buf,
    bytes: s.bytes,
    nocase: s.nocase === true,
    negated: s.negated === true,
    relative: s.relative === true,
    fpOnly: s.fpOnly === true,
    jump: s.jump,
  };
  if (s.offset !== undefined) c.offset = s.offset;
  if (s.depth !== undefined) c.depth = s.depth;
  if (s.distance !== undefined) c.distance = s.distance;
  if (s.within !== undefined) c.within = s.within;
  if (s.replace !== undefined) c.replace = s.replace;
  return c;
}

/** The fast pattern as the number of the content op it is whole, when there is one. */
function fastPatternRef(r: RulePlan): StoredRule['fastPattern'] {
  const fp = r.fastPattern;
  if (fp === undefined) return undefined;
  for (let k = 0; k < r.ops.length; k++) {
    const o = r.ops[k]!;
    if (o.op === 'content' && o.buf === fp.buf && o.nocase === fp.nocase && sameBytes(o.bytes, fp.bytes)) return { op: k };
  }
  return fp;
}

/**
 * What every stored rule's JSON starts with (`gid`, a number, is packRule's first key; no object inside a rule has a
 * `gid` key): jsonBlob finds the rules in a JSON array of them by it.
 */
export const STORED_RULE_START = '{"gid":';

export function packRule(r: RulePlan, strings: StringTable): StoredRule {
  const ops: StoredOp[] = new Array(r.ops.length);
  for (let k = 0; k < r.ops.length; k++) {
    const o = r.ops[k]!;
    ops[k] = o.op === 'content' ? packContent(o) : o;
  }
  // written out (an object rest pattern took V8's slow path); undefined values are left out by JSON.stringify
  return {
    gid: r.gid,
    sid: r.sid,
    rev: r.rev,
    msg: r.msg,
    classtype: r.classtype,
    classDescription: r.classDescription === undefined ? undefined : strings.number(r.classDescription),
    priority: r.priority,
    action: r.action,
    proto: r.proto,
    bidirectional: r.bidirectional,
    flow: r.flow,
    flowbits: r.flowbits,
    headers: r.headers,
    ops,
    fastPattern: fastPatternRef(r),
    threshold: r.threshold,
    detectionFilter: r.detectionFilter,
    contentLength: r.contentLength,
    tree: r.tree,
    file: strings.number(r.file),
    line: r.line,
  };
}

export class StoredRuleError extends Error {}

/** Rule `index` back from its stored form; throws StoredRuleError on numbers that name nothing. */
export function unpackRule(
  s: StoredRule,
  index: number,
  strings: readonly string[],
  sets: { src: AddressSet; srcPorts: PortSet; dst: AddressSet; dstPorts: PortSet },
): RulePlan {
  const stored = s.ops;
  if (!Array.isArray(stored)) throw new StoredRuleError('ops');
  const ops: PayloadOp[] = new Array(stored.length);
  for (let k = 0; k < stored.length; k++) {
    const o = stored[k]!;
    ops[k] = o.op === 'content' ? unpackContent(o) : o;
  }
  let fastPattern: FastPattern | undefined;
  const fp = s.fastPattern;
  if (fp !== undefined && 'op' in fp) {
    const c = ops[fp.op];
    if (c === undefined || c.op !== 'content') throw new StoredRuleError(`fast pattern names op ${fp.op}`);
    fastPattern = { buf: c.buf, bytes: c.bytes, nocase: c.nocase };
  } else fastPattern = fp;
  const file = strings[s.file];
  if (file === undefined) throw new StoredRuleError(`file ${s.file}`);
  let classDescription: string | undefined;
  if (s.classDescription !== undefined) {
    classDescription = strings[s.classDescription];
    if (classDescription === undefined) throw new StoredRuleError(`class description ${s.classDescription}`);
  }
  // keys in the order compile.ts's compileRule makes them
  return {
    index,
    gid: s.gid,
    sid: s.sid,
    rev: s.rev,
    msg: s.msg,
    classtype: s.classtype,
    classDescription,
    priority: s.priority,
    action: s.action,
    proto: s.proto,
    src: sets.src,
    srcPorts: sets.srcPorts,
    dst: sets.dst,
    dstPorts: sets.dstPorts,
    bidirectional: s.bidirectional,
    flow: s.flow,
    flowbits: s.flowbits,
    headers: s.headers,
    ops,
    fastPattern,
    threshold: s.threshold,
    detectionFilter: s.detectionFilter,
    contentLength: s.contentLength,
    tree: s.tree,
    file,
    line: s.line,
  };
}
