/**
 * `replace` insertion: for every content that Snort 2.9 inline can rewrite in place, a `replace:"|HH ..|"` of exactly
 * the content's byte length, inserted right after the content and its modifiers.
 *
 * Rewritable: a positive `content` (not `uricontent`) on raw packet data: no http_* buffer, not `fast_pattern:only`
 * (never evaluated against the packet), not behind a sticky buffer that is not the packet (file_data, base64_data,
 * dce_stub_data, sip_*, gtp_info, dnp3_data, modbus_data; `pkt_data` goes back to the packet), not already replaced.
 *
 * The bytes are deterministic: a keyed FNV-1a hash of (seed, gid, sid, content index) seeds an xorshift32 stream.
 * Every byte differs from the original byte; for a `nocase` content it also differs from the other case of a letter
 * (else a case-insensitive match would still match).
 */
import type { Edit, RuleNode, RuleOption } from '../ast.js';
import { formatPattern, type ContentArgs } from '../keywords/content.js';

export type NotRewritableReason = 'negated' | 'http-buffer' | 'fast-pattern-only' | 'sticky-buffer' | 'already-replaced' | 'unparsed';

export interface ContentSlot {
  /** Ordinal among the rule's content/uricontent options (0-based): part of the replacement key. */
  contentIndex: number;
  /** Index of the content option in rule.options. */
  optionIndex: number;
  option: RuleOption;
  args: ContentArgs | undefined;
  /** undefined when the content can be rewritten. */
  notRewritable: NotRewritableReason | undefined;
}

const NON_PACKET_BUFFERS = new Set(['file_data', 'base64_data', 'dce_stub_data', 'sip_header', 'sip_body', 'gtp_info', 'dnp3_data', 'modbus_data']);

export function contentSlots(options: readonly RuleOption[]): ContentSlot[] {
  const out: ContentSlot[] = [];
  let sticky = false;
  let n = 0;
  options.forEach((o, optionIndex) => {
    if (NON_PACKET_BUFFERS.has(o.keyword)) sticky = true;
    else if (o.keyword === 'pkt_data') sticky = false;
    if (o.keyword !== 'content' && o.keyword !== 'uricontent') return;
    const args = o.args as ContentArgs | undefined;
    let reason: NotRewritableReason | undefined;
    if (!args) reason = 'unparsed';
    else if (args.negated) reason = 'negated';
    else if (args.uricontent || args.mods.buffer) reason = 'http-buffer';
    else if (args.mods.fastPattern?.only) reason = 'fast-pattern-only';
    else if (sticky) reason = 'sticky-buffer';
    else if (args.mods.replace) reason = 'already-replaced';
    out.push({ contentIndex: n++, optionIndex, option: o, args, notRewritable: reason });
  });
  return out;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function otherCase(b: number): number {
  if (b >= 0x41 && b <= 0x5a) return b + 0x20;
  if (b >= 0x61 && b <= 0x7a) return b - 0x20;
  return b;
}

/** The replacement bytes for one content: same length, every byte different from the original (and its case twin). */
export function replacementBytes(seed: number, gid: number, sid: number, contentIndex: number, original: Uint8Array, nocase: boolean): Uint8Array {
  let x = fnv1a(`honeywall-replace|${seed}|${gid}|${sid}|${contentIndex}`) || 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const out = new Uint8Array(original.length);
  for (let i = 0; i < original.length; i++) {
    const o = original[i]!;
    const twin = nocase ? otherCase(o) : o;
    let b: number;
    do b = next() & 0xff;
    while (b === o || b === twin || (nocase && (otherCase(b) === o || otherCase(b) === twin)));
    out[i] = b;
  }
  return out;
}

export interface InsertedReplace {
  contentIndex: number;
  option: RuleOption;
  bytes: Uint8Array;
  edit: Edit;
}

/**
 * The edits inserting `replace` after every rewritable content of a rule. `text` is the file text (spans are file
 * offsets). The separator copies the blank(s) written before the content option (usually one space).
 */
export function replaceInsertions(rule: Pick<RuleNode, 'options' | 'gid' | 'sid'>, text: string, seed: number): InsertedReplace[] {
  const out: InsertedReplace[] = [];
  const options = rule.options;
  for (const slot of contentSlots(options)) {
    if (slot.notRewritable || !slot.args) continue;
    const args = slot.args;
    const last = Math.max(slot.optionIndex, ...args.mods.modifierIndexes);
    const after = options[last]!;
    const bytes = replacementBytes(seed, rule.gid, rule.sid ?? 0, slot.contentIndex, args.bytes, args.mods.nocase);
    const sep = separatorBefore(options, slot.optionIndex, text);
    const closed = text.charCodeAt(after.span.end - 1) === 59; /* ; */
    const insert = `${closed ? sep : ';' + sep}replace:${formatPattern(bytes, { allHex: true })}${closed ? ';' : ''}`;
    out.push({ contentIndex: slot.contentIndex, option: slot.option, bytes, edit: { start: after.span.end, end: after.span.end, text: insert } });
  }
  return out;
}

function separatorBefore(options: readonly RuleOption[], index: number, text: string): string {
  if (index === 0) return ' ';
  const gap = text.slice(options[index - 1]!.span.end, options[index]!.span.start);
  return gap.length > 0 && /^[ \t]+$/.test(gap) ? gap : ' ';
}
