/**
 * Suricata 5-7 rule text into Snort 2.9 rule text that the rest of honeywall reads unchanged (parser, keywords,
 * lint, convert, compile): one entry at a time, each rule's header and options rewritten by the tables of
 * `keywords.ts`, everything else copied. Nothing here parses a keyword's value beyond what the mapping needs
 * (content's bytes for startswith, pcre's flags, bsize's numbers); the Snort keyword specs check the result.
 *
 * Positions: every piece of the output remembers where it came from (`SuricataTranslation.pieces`), so a
 * diagnostic about the output is shown at the Suricata file's line and column (`translationLines`).
 *
 * A rule that uses a keyword without a mapping is not weakened: its options are replaced by one marker option per
 * refusal (`suricata-unmapped`, a name no keyword has, so the parser reports it at the refused option's place) and
 * its identity options (msg, sid, rev, gid), so that lint and compile name it; `rewriteDiagnostics` turns the
 * parser's message into the reason. With `refused: 'comment'` (convert) it is written as a comment instead.
 */
import { EntryReader, toPhysical, type Entry } from '../parser/lines.js';
import { scanRegularOptions, type RuleReporter } from '../parser/rule.js';
import { FP_INELIGIBLE } from '../parser/bind.js';
import { KEYWORDS } from '../keywords/index.js';
import type { ContentArgs } from '../keywords/content.js';
import { LineMap, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import type { RuleOption } from '../ast.js';
import {
  BUFFER_FORMS,
  PCRE_BUFFER_FLAGS,
  SURICATA_ACTIONS,
  SURICATA_KEYWORDS,
  SURICATA_PROTOCOLS,
  type SuricataBuffer,
  type CursorSuricataBuffer,
  isCursorBuffer,
  type SuricataMapping,
} from './keywords.js';

/** The keyword the output uses for a refused option: no keyword has this name, so the parser reports it there. */
export const UNMAPPED_MARKER = 'suricata-unmapped';
/** Refusals kept per file (each is a string of at most a few hundred characters); past it they are counted. */
export const MAX_REFUSALS_PER_FILE = 100_000;

export interface Refusal {
  /** Offset of the marker in the output text. */
  at: number;
  code: string;
  message: string;
}

/** Plain data (it crosses to the compile worker by structured clone). */
export interface SuricataTranslation {
  /** The Snort 2.9 text. */
  text: string;
  /** The Suricata file's text (its lines are what diagnostics show). */
  original: string;
  /** Output pieces in output order: where each starts in the output, where it came from, and whether it is a copy. */
  pieceStarts: Int32Array;
  pieceOrigins: Int32Array;
  pieceCopied: Uint8Array;
  refusals: Refusal[];
  /** Refusals past MAX_REFUSALS_PER_FILE (their rules are still refused: the marker is in the text). */
  refusalsOmitted: number;
  /** Info diagnostics (output-only keywords left out), positions in the Suricata file. */
  notes: Diagnostic[];
  /** Rules read, and rules refused. */
  rules: number;
  refused: number;
  /** The refused rules (at most MAX_REFUSALS_PER_FILE): where, which sid, why. */
  refusedRules: RefusedRule[];
}

export interface RefusedRule {
  file: string;
  line: number;
  column: number;
  sid: number | undefined;
  reason: string;
}

export interface TranslateOptions {
  /** How a refused rule is written: markers that lint and compile report (default), or a comment (convert). */
  refused?: 'marker' | 'comment';
}

const SNORT_IDENTITY = new Set(['msg', 'sid', 'rev', 'gid', 'classtype', 'priority']);
const CONTENT_KEYWORDS = new Set(['content', 'uricontent']);
const silent: RuleReporter = { report() {} };

/** Text from the rule file put in a message: control and non-ASCII characters as \xNN, at most 80 characters. */
export function printable(s: string): string {
  const t = s.length > 80 ? `${s.slice(0, 80)}...` : s;
  return t.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

class Output {
  readonly parts: string[] = [];
  length = 0;
  readonly starts: number[] = [];
  readonly origins: number[] = [];
  readonly copied: number[] = [];
  push(text: string, origin: number, copied: boolean): number {
    const at = this.length;
    this.starts.push(at);
    this.origins.push(origin);
    this.copied.push(copied ? 1 : 0);
    this.parts.push(text);
    this.length += text.length;
    return at;
  }
}

/** One piece of a translated rule: text and the Suricata file offset it stands for. */
interface Piece {
  text: string;
  origin: number;
  copied: boolean;
  refusal?: { code: string; message: string };
}

export function translateSuricata(text: string, file: string, opts: TranslateOptions = {}): SuricataTranslation {
  const out = new Output();
  const refusals: Refusal[] = [];
  const notes: Diagnostic[] = [];
  let lines: LineMap | undefined;
  let rules = 0;
  let refused = 0;
  let omitted = 0;
  const refusedRules: RefusedRule[] = [];
  const reader = new EntryReader(text);
  for (let entry = reader.next(); entry !== undefined; entry = reader.next()) {
    const rule = entry.tooLong === undefined && (entry.kind === 'code' || entry.kind === 'comment') ? ruleOf(entry) : undefined;
    if (rule === undefined) {
      out.push(text.slice(entry.start, entry.end), entry.start, true);
      continue;
    }
    rules++;
    const t = translateRule(entry, rule.prefixEnd);
    const eol = terminator(text, entry);
    if (t.notes.length > 0) {
      lines ??= new LineMap(text);
      for (const n of t.notes) {
        const { line, column } = lines.position(n.origin);
        // (bounded as the refusals are: a note is one line of text per keyword left out)
        if (notes.length < MAX_REFUSALS_PER_FILE)
          notes.push({ code: 'suricata-left-out', severity: 'info', message: n.message, file, line, column, offset: n.origin, length: 1 });
      }
    }
    const refusing = t.pieces.some((p) => p.refusal !== undefined);
    const why = refusing ? t.pieces.filter((p) => p.refusal).map((p) => p.refusal!.message) : [];
    if (refusing) {
      refused++;
      lines ??= new LineMap(text);
      const first = t.pieces.find((p) => p.refusal)!;
      const sid = /(?:^|[(;])\s*sid\s*:\s*(\d+)\s*;/.exec(entry.text);
      if (refusedRules.length < MAX_REFUSALS_PER_FILE)
        refusedRules.push({ file, ...lines.position(first.origin), sid: sid ? Number(sid[1]) : undefined, reason: why.join('; ') });
    }
    if (refusing && opts.refused === 'comment') {
      const { line } = lines!.position(entry.start);
      const flat = entry.text.replace(/[\r\n]+/g, ' ');
      out.push(
        `# honeywall: not translated from Suricata (${file}:${line}: ${why.join('; ')})${eol}# ${flat.replace(/^\s*#\s*/, '')}${eol}`,
        entry.start,
        false,
      );
      continue;
    }
    for (const p of t.pieces) {
      const at = out.push(p.text, p.origin, p.copied);
      if (p.refusal !== undefined) {
        // (the marker starts after the blank that separates it from the option before)
        if (refusals.length < MAX_REFUSALS_PER_FILE) refusals.push({ at: at + (p.text.startsWith(' ') ? 1 : 0), ...p.refusal });
        else omitted++;
      }
    }
    out.push(eol, entry.end - eol.length, true);
  }
  return {
    text: out.parts.join(''),
    original: text,
    pieceStarts: Int32Array.from(out.starts),
    pieceOrigins: Int32Array.from(out.origins),
    pieceCopied: Uint8Array.from(out.copied),
    refusals,
    refusalsOmitted: omitted,
    notes,
    rules,
    refused,
    refusedRules,
  };
}

function terminator(text: string, entry: Entry): string {
  return text.endsWith('\r\n', entry.end) ? '\r\n' : text.charCodeAt(entry.end - 1) === 10 ? '\n' : '';
}

const ACTION_WORD = /^(\s*(?:#+\s*)?)([a-z]+)\s/;

/** Whether the entry is a rule (a disabled one behind `#` too): where its action word starts in the logical text. */
function ruleOf(entry: Entry): { prefixEnd: number } | undefined {
  const m = ACTION_WORD.exec(entry.text);
  if (m === null) return undefined;
  const word = m[2]!;
  if (!SURICATA_ACTIONS.has(word) && word !== 'log' && word !== 'sdrop' && word !== 'activate' && word !== 'dynamic') return undefined;
  if (entry.kind === 'comment' && !entry.text.includes('(')) return undefined;
  return { prefixEnd: m[1]!.length };
}

/** The seven header fields of the logical text from `from` (brackets may hold blanks), and where the options start. */
export function headerFields(t: string, from: number): { fields: { text: string; at: number }[]; paren: number } | undefined {
  const fields: { text: string; at: number }[] = [];
  let i = from;
  const n = t.length;
  while (i < n && fields.length < 8) {
    while (i < n && /\s/.test(t[i]!)) i++;
    if (i >= n || t[i] === '(') break;
    const start = i;
    let depth = 0;
    while (i < n) {
      const c = t[i]!;
      if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (depth <= 0 && (c === '(' || /\s/.test(c))) break;
      i++;
    }
    fields.push({ text: t.slice(start, i), at: start });
  }
  if (fields.length !== 7 || t[i] !== '(') return undefined;
  return { fields, paren: i };
}

interface RuleTranslation {
  pieces: Piece[];
  notes: { origin: number; message: string }[];
}

/** One rule entry (logical text), translated; offsets of pieces are file offsets (entry pieces mapped back). */
function translateRule(entry: Entry, prefixEnd: number): RuleTranslation {
  const t = entry.text;
  const phys = (i: number) => toPhysical(entry, i);
  const verbatim = (): RuleTranslation => ({ pieces: [{ text: t, origin: phys(0), copied: true }], notes: [] });
  const h = headerFields(t, prefixEnd);
  if (h === undefined) return verbatim(); // the parser says what is wrong with it
  let close = t.length - 1;
  while (close > h.paren && /\s/.test(t[close]!)) close--;
  if (t[close] !== ')') return verbatim();
  const options = scanRegularOptions(t, h.paren + 1, close, silent, false);
  if (options === undefined) return verbatim();
  return new RuleTranslator(t, phys, h.fields, options, prefixEnd).run();
}

/** An open content and what follows it until the next non-modifier option. */
interface Block {
  content: RuleOption;
  buffer: SuricataBuffer;
  uricontent: boolean;
  mods: Piece[];
  positional: boolean;
  anchorStart?: RuleOption;
  anchorEnd?: RuleOption;
  bsize?: { tests: string[]; origin: number };
}

class RuleTranslator {
  private readonly pieces: Piece[] = [];
  private readonly refusals: Piece[] = [];
  private readonly notes: { origin: number; message: string }[] = [];
  private buf: SuricataBuffer = 'pkt';
  /** The cursor buffer as emitted so far (file_data, pkt_data, dns_query and tls_sni are sticky cursor setters). */
  private cursor: CursorSuricataBuffer = 'pkt';
  private block: Block | undefined;
  private pendingBsize: { buffer: SuricataBuffer; tests: string[]; option: RuleOption } | undefined;
  /** The buffer the last content was in (a relative isdataat in an HTTP buffer needs one there). */
  private lastContentBuffer: SuricataBuffer | undefined;

  constructor(
    private readonly t: string,
    private readonly phys: (i: number) => number,
    private readonly fields: { text: string; at: number }[],
    private readonly options: RuleOption[],
    private readonly prefixEnd: number,
  ) {}

  private refuse(o: { start: number }, message: string, code = 'suricata-unmapped'): void {
    this.refusals.push({ text: `${UNMAPPED_MARKER};`, origin: this.phys(o.start), copied: false, refusal: { code, message } });
  }

  private copy(o: RuleOption, into: Piece[] = this.pieces): void {
    into.push({
      text: this.t.slice(o.start, o.end).trim() + (this.t.slice(o.start, o.end).trim().endsWith(';') ? '' : ';'),
      origin: this.phys(o.start),
      copied: true,
    });
  }

  private emit(text: string, origin: number, into: Piece[] = this.pieces): void {
    into.push({ text, origin: this.phys(origin), copied: false });
  }

  run(): RuleTranslation {
    const f = this.fields;
    const header: Piece[] = [];
    const action = SURICATA_ACTIONS.get(f[0]!.text);
    if (action === undefined)
      this.refuse({ start: f[0]!.at }, `'${printable(f[0]!.text)}' is a Snort 2.9 action, not a Suricata one`, 'suricata-snort-action');
    else if ('refused' in action) this.refuse({ start: f[0]!.at }, action.refused);
    const protoText = f[1]!.text.toLowerCase();
    let proto = SURICATA_PROTOCOLS.get(protoText);
    let outProto = protoText;
    let extraFlow: string | undefined;
    const ports = [f[3]!.text, f[6]!.text];
    if (proto?.kind === 'app') {
      const app = proto;
      const reads = this.options.some((o) => {
        const m = SURICATA_KEYWORDS.get(o.keyword);
        return m?.kind === 'sticky' && app.buffers.includes(m.buffer);
      });
      if (!reads) proto = app.otherwise ?? { kind: 'refused', why: app.why };
      else {
        outProto = app.proto;
        if (app.ports !== 'keep') {
          const only = app.ports;
          const bad = [0, 1].find((k) => ports[k] !== 'any' && ports[k] !== only.only);
          if (bad !== undefined) this.refuse({ start: f[bad === 0 ? 3 : 6]!.at }, `${protoText} rule on port ${printable(ports[bad]!)}: ${only.why}`);
          ports[0] = 'any';
          ports[1] = 'any';
        }
      }
    }
    if (proto === undefined || proto.kind === 'refused') outProto = 'ip'; // (the rule is refused; its header must still read)
    if (proto === undefined)
      this.refuse(
        { start: f[1]!.at },
        `protocol '${printable(f[1]!.text)}' has no mapping to the engine (tcp, udp, icmp, ip, tcp-pkt, tcp-stream, http, ftp, ssh, smtp, smb, tls, imap, pop3, dns with dns.query)`,
      );
    else if (proto.kind === 'refused') this.refuse({ start: f[1]!.at }, proto.why);
    else if (proto.kind === 'flow') {
      outProto = proto.proto;
      extraFlow = proto.flow;
    } else if (proto.kind === 'service') {
      outProto = proto.proto;
      // The service's ports go on the server side: the source for a rule about responses, else the destination.
      const flow = this.options.find((o) => o.keyword === 'flow')?.value ?? '';
      const toClient = /\b(to_client|from_server)\b/.test(flow);
      const side = toClient ? 0 : 1;
      if (ports[side] === 'any') ports[side] = proto.ports;
    }
    const prefix = this.t.slice(0, this.prefixEnd);
    const outAction = action !== undefined && 'to' in action ? action.to : 'alert';
    header.push({ text: prefix, origin: this.phys(0), copied: true });
    header.push({ text: outAction, origin: this.phys(f[0]!.at), copied: outAction === f[0]!.text });
    header.push({ text: ` ${outProto}`, origin: this.phys(f[1]!.at), copied: false });
    const rest = [f[2]!.text, ports[0]!, f[4]!.text, f[5]!.text, ports[1]!];
    const restFields = [f[2]!, f[3]!, f[4]!, f[5]!, f[6]!];
    rest.forEach((text, k) => header.push({ text: ` ${text}`, origin: this.phys(restFields[k]!.at), copied: false }));
    header.push({ text: ' (', origin: this.phys(f[6]!.at), copied: false });

    let sawFlow = false;
    for (const o of this.options) {
      if (o.keyword === 'flow' && extraFlow !== undefined) {
        this.closeBlock();
        sawFlow = true;
        this.emit(`flow:${o.value ?? ''},${extraFlow};`, o.start);
        continue;
      }
      this.option(o);
    }
    this.closeBlock();
    if (this.pendingBsize !== undefined)
      this.refuse(this.pendingBsize.option, 'bsize: no content in its buffer follows it, so it cannot be written as isdataat tests on that buffer');
    if (extraFlow !== undefined && !sawFlow) this.emit(`flow:${extraFlow};`, f[1]!.at);

    const body: Piece[] = [];
    if (this.refusals.length > 0) {
      // Refused: the markers and the rule's identity only (nothing is compiled; lint and compile name the rule).
      for (const r of this.refusals) body.push(r);
      for (const o of this.options) if (SNORT_IDENTITY.has(o.keyword)) this.copy(o, body);
    } else body.push(...this.pieces);
    const pieces = [...header];
    // (a separating blank belongs to the piece after it: a copied piece's origin moves back one)
    body.forEach((p, k) => pieces.push(k === 0 ? p : { ...p, text: ` ${p.text}`, origin: p.copied ? p.origin - 1 : p.origin }));
    pieces.push({ text: ')', origin: this.phys(this.t.length - 1), copied: false });
    return { pieces, notes: this.notes };
  }

  private option(o: RuleOption): void {
    const kw = o.keyword;
    const m: SuricataMapping = SURICATA_KEYWORDS.get(kw) ?? {
      kind: 'refused',
      why: `'${kw}' has no mapping to the engine${kw.includes('.') ? ' (a Suricata buffer the engine does not extract)' : ''}`,
    };
    switch (m.kind) {
      case 'refused':
        this.closeBlock();
        this.refuse(o, `${kw}: ${m.why}`);
        return;
      case 'output-only':
        this.closeBlock();
        this.notes.push({ origin: this.phys(o.start), message: `${kw} left out: ${m.why}` });
        return;
      case 'noalert':
        this.closeBlock();
        this.emit('flowbits:noalert;', o.start);
        return;
      case 'sticky':
        this.closeBlock();
        this.switchSticky(o, m.buffer);
        return;
      case 'modifier':
        if (this.block === undefined) return this.refuse(o, `${kw} modifies a content, but no content comes before it`);
        if (this.block.buffer !== 'pkt' && this.block.buffer !== m.buffer)
          return this.refuse(o, `${kw} on a content already in ${this.block.buffer}: Suricata refuses a content in two buffers`);
        this.block.buffer = m.buffer;
        return;
      case 'content-modifier':
        if (this.block === undefined) return this.copy(o); // the Snort binder reports it
        if (kw === 'depth' || kw === 'offset' || kw === 'distance' || kw === 'within') this.block.positional = true;
        this.copy(o, this.block.mods);
        return;
      case 'anchor':
        if (this.block === undefined) return this.refuse(o, `${kw} anchors a content, but no content comes before it`);
        if (m.at === 'start') this.block.anchorStart = o;
        else this.block.anchorEnd = o;
        return;
      case 'bsize':
        return this.bsize(o);
      case 'cursor-reader':
        this.closeBlock();
        if (isHttp(this.buf)) return this.refuse(o, `${kw} in the ${this.buf} sticky buffer: the engine's ${kw} reads the packet or file data only`);
        if (m.suricata !== undefined && o.value !== undefined) {
          const v = m.suricata(o.value);
          if (v !== undefined) return this.refuse(o, `${kw}: ${v.refuse}`);
        }
        this.ensureCursor(this.buf as CursorSuricataBuffer, o.start);
        this.copy(o);
        return;
      case 'same':
        if (CONTENT_KEYWORDS.has(kw)) return this.openBlock(o);
        this.closeBlock();
        if (kw === 'pcre') return this.pcre(o);
        if (kw === 'isdataat') return this.isdataat(o);
        if (kw === 'base64_data') this.cursor = 'pkt'; // (a buffer of its own; a later file.data/pkt_data sets the cursor again)
        if (m.suricata !== undefined && o.value !== undefined) {
          const v = m.suricata(o.value);
          if (v !== undefined && 'refuse' in v) return this.refuse(o, `${kw}: ${v.refuse}`);
          if (v !== undefined) return this.emit(`${kw}:${v.rewrite};`, o.start);
        }
        this.copy(o);
        return;
    }
  }

  private switchSticky(o: RuleOption, buffer: SuricataBuffer): void {
    if (this.pendingBsize !== undefined) {
      this.refuse(this.pendingBsize.option, 'bsize: no content in its buffer follows it, so it cannot be written as isdataat tests on that buffer');
      this.pendingBsize = undefined;
    }
    this.buf = buffer;
    // file.data and pkt_data are Snort's own cursor setters (dns_query and tls_sni honeywall's): written where
    // Suricata's are, so that a relative option after them starts where it does in Suricata (at the buffer's start).
    if (isCursorBuffer(buffer)) {
      this.emit(`${BUFFER_FORMS[buffer].cursor};`, o.start);
      this.cursor = buffer;
    }
  }

  private ensureCursor(buffer: CursorSuricataBuffer, origin: number, into: Piece[] = this.pieces): void {
    if (this.cursor === buffer) return;
    this.emit(`${BUFFER_FORMS[buffer].cursor};`, origin, into);
    this.cursor = buffer;
  }

  private openBlock(o: RuleOption): void {
    this.closeBlock();
    const uricontent = o.keyword === 'uricontent';
    this.block = { content: o, buffer: uricontent ? 'http_uri' : this.buf, uricontent, mods: [], positional: false };
  }

  /** The open content, written: cursor switch, content, its modifiers, its buffer's modifier, its anchors, bsize. */
  private closeBlock(): void {
    const b = this.block;
    if (b === undefined) return;
    this.block = undefined;
    const o = b.content;
    const args = contentArgs(o);
    if (!isHttp(b.buffer)) this.ensureCursor(b.buffer as CursorSuricataBuffer, o.start);
    this.copy(o);
    for (const p of b.mods) {
      // Snort 2.9 refuses fast_pattern on some HTTP buffers where Suricata allows it: the choice is left to the
      // engine (only which content prefilters changes; `only` would change the match and is refused).
      if (p.text.startsWith('fast_pattern') && (FP_INELIGIBLE as ReadonlySet<string>).has(b.buffer)) {
        if (/only/.test(p.text)) return this.refuse(o, `fast_pattern:only on ${b.buffer}: Snort 2.9 allows no fast pattern there`);
        this.notes.push({ origin: p.origin, message: `fast_pattern left out: Snort 2.9 allows none on ${b.buffer}; the engine chooses its own` });
        continue;
      }
      this.pieces.push(p);
    }
    const form = BUFFER_FORMS[b.buffer];
    if (form.modifier !== undefined && !b.uricontent) this.emit(`${form.modifier};`, o.start);
    if (b.anchorStart !== undefined) {
      if (b.positional) return this.refuse(b.anchorStart, 'startswith with depth, offset, distance or within: Suricata refuses the combination');
      if (args === undefined) return this.refuse(b.anchorStart, 'startswith: its content does not parse');
      this.emit(`depth:${args.bytes.length};`, b.anchorStart.start);
      this.emit('offset:0;', b.anchorStart.start);
    }
    if (b.anchorEnd !== undefined) {
      if (args?.negated === true) return this.refuse(b.anchorEnd, 'endswith on a negated content has no isdataat form');
      // detect-content.c: endswith is "isdataat:!1,relative" after the content.
      this.emit('isdataat:!1,relative;', b.anchorEnd.start);
    }
    this.lastContentBuffer = b.buffer;
    const pending = this.pendingBsize;
    if (pending !== undefined && pending.buffer === b.buffer) {
      if (args?.negated === true)
        return this.refuse(pending.option, 'bsize before a negated content: the isdataat tests need a matched content in the buffer');
      for (const test of pending.tests) this.emit(`${test};`, pending.option.start);
      this.pendingBsize = undefined;
    }
  }

  /**
   * bsize (detect-bsize.c): the buffer's length is N, <N, >N, N<>M (exclusive), <=N or >=N. Absolute isdataat tests
   * after a content in the buffer say exactly that: data at N-1 and none at N is length N.
   */
  private bsize(o: RuleOption): void {
    const v = (o.value ?? '').replace(/\s+/g, '');
    const tests = bsizeTests(v);
    if (tests === undefined)
      return this.refuse(o, `bsize:${printable(o.value ?? '')} is not a length test honeywall reads (N, <N, >N, <=N, >=N, N<>M)`);
    if (this.buf === 'pkt') return this.refuse(o, 'bsize on the packet: use dsize');
    if (tests.length === 0) return this.refuse(o, `bsize:${printable(o.value ?? '')} can never match`);
    const b = this.block;
    if (b !== undefined && b.buffer === this.buf && contentArgs(b.content)?.negated !== true) {
      this.pendingBsize = { buffer: this.buf, tests, option: o };
      this.closeBlock();
      return;
    }
    this.closeBlock();
    this.pendingBsize = { buffer: this.buf, tests, option: o };
  }

  private pcre(o: RuleOption): void {
    const value = o.value ?? '';
    const m = /^(!?\s*"\/)([\s\S]*)\/([A-Za-z]*)"$/.exec(value);
    if (m === null) return this.copy(o); // the Snort pcre spec reports it
    let flags = m[3]!;
    let target: SuricataBuffer = this.buf;
    for (const c of flags) {
      const named = PCRE_BUFFER_FLAGS[c];
      if (named === undefined) continue;
      if (typeof named !== 'string') return this.refuse(o, `pcre: ${named.refused}`);
      target = named;
    }
    flags = flags.replace(/Q/g, '');
    const form = BUFFER_FORMS[target];
    if (form.pcreFlag !== undefined) {
      if (!flags.includes(form.pcreFlag)) flags += form.pcreFlag;
    } else this.ensureCursor(target as CursorSuricataBuffer, o.start);
    const text = `pcre:${m[1]}${m[2]}/${flags}";`;
    this.pieces.push({ text, origin: this.phys(o.start), copied: text === this.t.slice(o.start, o.end).trim() });
    this.lastContentBuffer = target;
  }

  private isdataat(o: RuleOption): void {
    if (!isHttp(this.buf)) {
      this.ensureCursor(this.buf as CursorSuricataBuffer, o.start);
      return this.copy(o);
    }
    // In an HTTP buffer the engine's isdataat reads the buffer of the last match: only a relative one after a
    // content in this buffer reads what Suricata's does.
    if (!/relative/.test(o.value ?? '') || this.lastContentBuffer !== this.buf)
      return this.refuse(o, `isdataat in the ${this.buf} sticky buffer needs 'relative' and a content in the buffer before it`);
    this.copy(o);
  }
}

function isHttp(b: SuricataBuffer): boolean {
  return !isCursorBuffer(b);
}

function contentArgs(o: RuleOption): ContentArgs | undefined {
  const spec = KEYWORDS.get(o.keyword);
  if (spec === undefined || o.value === undefined) return undefined;
  let failed = false;
  const args = spec.parse(o.value, {
    error: () => {
      failed = true;
    },
    warning: () => {},
  }) as ContentArgs | undefined;
  return failed ? undefined : args;
}

/** bsize's value as isdataat tests (absolute); [] when nothing matches; undefined when it does not read. */
export function bsizeTests(v: string): string[] | undefined {
  let m: RegExpExecArray | null;
  const num = (s: string) => Number.parseInt(s, 10);
  const has = (n: number) => `isdataat:${n}`;
  const hasNot = (n: number) => `isdataat:!${n}`;
  if ((m = /^(\d{1,5})$/.exec(v))) {
    const n = num(m[1]!);
    return n === 0 ? [hasNot(0)] : [has(n - 1), hasNot(n)];
  }
  if ((m = /^(\d{1,5})<>(\d{1,5})$/.exec(v))) {
    const lo = num(m[1]!);
    const hi = num(m[2]!);
    if (hi - lo < 2) return [];
    return [has(lo), hasNot(hi - 1)];
  }
  if ((m = /^<=(\d{1,5})$/.exec(v))) return [hasNot(num(m[1]!))];
  if ((m = /^>=(\d{1,5})$/.exec(v))) {
    const n = num(m[1]!);
    return n === 0 ? undefined : [has(n - 1)];
  }
  if ((m = /^<(\d{1,5})$/.exec(v))) {
    const n = num(m[1]!);
    return n === 0 ? [] : [hasNot(n - 1)];
  }
  if ((m = /^>(\d{1,5})$/.exec(v))) return [has(num(m[1]!))];
  return undefined;
}

/** The Suricata file offset an output offset stands for. */
export function originOf(tr: SuricataTranslation, offset: number): number {
  const s = tr.pieceStarts;
  let lo = 0;
  let hi = s.length - 1;
  if (hi < 0) return offset;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return tr.pieceCopied[lo] === 1 ? tr.pieceOrigins[lo]! + (offset - s[lo]!) : tr.pieceOrigins[lo]!;
}

/** Line and column in the Suricata file for offsets in the translated text (and its lines, for carets). */
class TranslatedLines extends LineMap {
  constructor(private readonly tr: SuricataTranslation) {
    super(tr.original);
  }
  override position(offset: number): { line: number; column: number } {
    return super.position(originOf(this.tr, offset));
  }
}

export function translationLines(tr: SuricataTranslation): LineMap {
  return new TranslatedLines(tr);
}

/**
 * The parser's diagnostics about a translated text, with each refusal marker's `unknown-keyword` replaced by the
 * refusal's reason. `refusalSeverity`: error for compile (the rule is not compiled), warning for lint (Suricata
 * accepts the rule; honeywall cannot run it).
 */
export function rewriteDiagnostics(tr: SuricataTranslation, diags: readonly Diagnostic[], refusalSeverity: Severity): Diagnostic[] {
  if (tr.refusals.length === 0 && tr.refusalsOmitted === 0) return diags as Diagnostic[];
  return diags.map((d) => {
    if (d.code !== 'unknown-keyword' || !d.message.includes(UNMAPPED_MARKER)) return d;
    const r = findRefusal(tr.refusals, d.offset);
    return {
      ...d,
      code: r?.code ?? 'suricata-unmapped',
      severity: refusalSeverity,
      message: r?.message ?? 'a Suricata keyword without a mapping (more refusals in this file than are kept)',
    };
  });
}

function findRefusal(list: readonly Refusal[], at: number): Refusal | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid]!.at;
    if (v === at) return list[mid];
    if (v < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
