/**
 * The index of every rule keyword honeywall knows (Snort 2.9's rule language). One module per keyword or per
 * family; each entry declares its grammar and validation (see `spec.ts`). Unknown keywords are errors, as in Snort.
 */
import type { RuleOption } from '../ast.js';
import type { AnyKeywordSpec } from './spec.js';
import { classtype, gid, metadata, msg, priority, reference, rev, sid } from './general.js';
import { content, uricontent } from './content.js';
import * as modifiers from './content-modifiers.js';
import { pcreKeywords } from './pcre.js';
import { byteKeywords } from './byte-ops.js';
import { payloadMiscKeywords } from './payload-misc.js';
import { nonPayloadKeywords } from './non-payload.js';
import { postDetectionKeywords } from './post-detection.js';
import { preprocessorKeywords } from './preprocessor.js';

/**
 * Every spec in one object shape: the factories leave optional fields out, in different orders, and the parser reads
 * these fields for each of a rule set's ~330,000 options; one shape keeps those reads monomorphic.
 */
function uniform(k: AnyKeywordSpec): AnyKeywordSpec {
  return {
    name: k.name,
    category: k.category,
    value: k.value,
    contentModifier: k.contentModifier === true,
    repeats: k.repeats === true,
    summary: k.summary,
    parse: k.parse,
    plan: k.plan,
  };
}

const ALL: AnyKeywordSpec[] = [
  msg,
  sid,
  gid,
  rev,
  classtype,
  priority,
  reference,
  metadata,
  content,
  uricontent,
  ...Object.values(modifiers),
  ...pcreKeywords,
  ...byteKeywords,
  ...payloadMiscKeywords,
  ...nonPayloadKeywords,
  ...postDetectionKeywords,
  ...preprocessorKeywords,
].map(uniform);

export const KEYWORDS: ReadonlyMap<string, AnyKeywordSpec> = new Map(ALL.map((k) => [k.name, k]));

/** Every keyword, numbered: `KEYWORD_LIST[keywordId(name)]` is its spec. Tables indexed by id answer per-keyword
 * questions for each of a rule set's ~330,000 options without hashing a string. */
export const KEYWORD_LIST: readonly AnyKeywordSpec[] = ALL;
const IDS: ReadonlyMap<string, number> = new Map(ALL.map((k, i) => [k.name, i]));

/** The keyword's number, or -1 for a name Snort does not know. */
export function keywordId(name: string): number {
  return IDS.get(name) ?? -1;
}

/** An option's keyword number: carried by the options the parser makes, looked up for any other. */
export function keywordIdOf(option: RuleOption): number {
  const id = (option as { keywordId?: number }).keywordId;
  return id ?? keywordId(option.keyword);
}

/** A table with one entry per keyword: `fill(spec)` for each. */
export function keywordTable(fill: (spec: AnyKeywordSpec) => number): Uint32Array {
  return Uint32Array.from(ALL, fill);
}

/**
 * The id of the keyword spelled at text[start, end), or -1, without cutting the name out of the text (buckets by
 * length and first and last letter, then a comparison in place).
 */
export function findKeywordId(text: string, start: number, end: number): number {
  const len = end - start;
  const bucket = BUCKETS[bucketOf(len, text.charCodeAt(start), text.charCodeAt(end - 1))];
  if (bucket === undefined) return -1;
  for (let i = 0; i < bucket.length; i++) {
    const id = bucket[i]!;
    const name = ALL[id]!.name;
    if (name.length === len && text.startsWith(name, start)) return id;
  }
  return -1;
}

function bucketOf(len: number, first: number, last: number): number {
  return (len * 31 + first * 7 + last) & 1023;
}

const BUCKETS: (number[] | undefined)[] = new Array(1024);
ALL.forEach((k, id) => {
  const b = bucketOf(k.name.length, k.name.charCodeAt(0), k.name.charCodeAt(k.name.length - 1));
  (BUCKETS[b] ??= []).push(id);
});
