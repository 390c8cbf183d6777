/**
 * The other payload options of Snort 2.9: isdataat, urilen, the cursor setters (pkt_data, file_data, base64_data)
 * and base64_decode, asn1, cvs, ftpbounce, and protected_content with its hash and length. Each with its grammar and
 * checks, the matcher plan piece it compiles to, and for urilen, ftpbounce and asn1 the evaluation of that piece
 * (the payload operations are evaluated by the matcher's verify.ts and leaf-ops.ts).
 */
import type { HeaderOf } from '../match/plan.js';
import { OptionError, slotValue, type CursorBuffer, type PlanContext } from '../match/plan-context.js';
import type { Subject } from '../match/subject.js';
import { defineKeyword, flagKeyword, type AnyKeywordSpec, type KeywordSpec, type ValueReporter } from './spec.js';
import { parseInteger, type NumOrVar } from './values.js';
import { keyValue, noMoreThan, numberOrVariable, oneOf, tokens, variablesOf } from './snort-args.js';
import { numTestOf, numTestOk } from './num-test.js';

export interface IsdataatArgs {
  negated: boolean;
  offset: NumOrVar;
  relative: boolean;
  rawbytes: boolean;
  variables: string[];
}

export const isdataat = defineKeyword<IsdataatArgs>({
  name: 'isdataat',
  repeats: true,
  category: 'payload',
  value: 'required',
  summary: 'check that the buffer has data at an offset (optionally relative to the last match)',
  parse(value, report) {
    const parts = tokens(value);
    const first = parts[0];
    if (!first || first.text === '') {
      report.error('missing-argument', 'isdataat needs an offset', 0, 1);
      return undefined;
    }
    if (!noMoreThan(parts, 3, report, 'isdataat')) return undefined;
    let negated = false;
    let p = first;
    if (p.text.startsWith('!')) {
      negated = true;
      const rest = p.text.slice(1).trimStart();
      p = { text: rest, at: p.at + p.text.length - rest.length };
    }
    // sp_isdataat.c IsDataAtParse only refuses offsets above 65535 (a negative one is a position before the cursor).
    const offset = numberOrVariable(p, report, 'isdataat offset', -65535, 65535);
    if (offset === undefined) return undefined;
    const args: IsdataatArgs = { negated, offset, relative: false, rawbytes: false, variables: variablesOf(offset) };
    for (const m of parts.slice(1)) {
      const w = oneOf(m, ['relative', 'rawbytes'] as const, report, 'isdataat modifier');
      if (!w) return undefined;
      args[w] = true;
    }
    return args;
  },
  plan(a, into) {
    into.rule.ops.push({
      op: 'isdataat',
      offset: slotValue(a.offset, into, 'isdataat offset'),
      relative: a.relative,
      negated: a.negated,
      rawbytes: a.rawbytes,
    });
  },
});

export interface UrilenArgs {
  op: '=' | '<' | '>' | 'range';
  value: number;
  max?: number;
  buffer: 'raw' | 'norm';
}

const URILEN = /^\s*(?:([<>])\s*(\d+)|(\d+)\s*<>\s*(\d+)|(\d+))\s*$/;

/** `N`, `<N`, `>N` or `N<>M`, as sp_urilen_check.c ParseUriLen reads them. */
function urilenTest(t: { text: string; at: number }, report: ValueReporter): Omit<UrilenArgs, 'buffer'> | undefined {
  const m = URILEN.exec(t.text);
  if (!m) {
    report.error('bad-number', `urilen must be N, <N, >N or N<>M; got '${t.text}'`, t.at, Math.max(1, t.text.length));
    return undefined;
  }
  const numbers = [m[2], m[3], m[4], m[5]].filter((x): x is string => x !== undefined).map(Number);
  if (numbers.some((n) => n > 65535)) {
    report.error('number-out-of-range', `urilen ${numbers.find((n) => n > 65535)} is out of range 0..65535`, t.at, t.text.length);
    return undefined;
  }
  if (m[1]) {
    const n = numbers[0]!;
    // ParseUriLen: "Invalid 'urilen' argument" for <0, which no URI can pass.
    if (m[1] === '<' && n === 0) {
      report.error('number-out-of-range', 'urilen:<0 can never match', t.at, t.text.length);
      return undefined;
    }
    return { op: m[1] as '<' | '>', value: n };
  }
  if (m[3] !== undefined) {
    // ParseUriLen swaps the ends of a range written high to low.
    const [a, b] = [numbers[0]!, numbers[1]!];
    return { op: 'range', value: Math.min(a, b), max: Math.max(a, b) };
  }
  return { op: '=', value: numbers[0]! };
}

export const urilen = defineKeyword<UrilenArgs>({
  name: 'urilen',
  repeats: true,
  category: 'payload',
  value: 'required',
  summary: 'test the length of the HTTP request URI (raw by default)',
  parse(value, report) {
    const parts = tokens(value);
    if (!noMoreThan(parts, 2, report, 'urilen')) return undefined;
    const test = urilenTest(parts[0]!, report);
    if (!test) return undefined;
    // ParseUriLen: without a second argument the raw URI (HTTP_BUFFER_RAW_URI) is measured.
    const args: UrilenArgs = { ...test, buffer: 'raw' };
    if (parts[1]) {
      const b = oneOf(parts[1], ['raw', 'norm'] as const, report, 'urilen buffer');
      if (!b) return undefined;
      args.buffer = b;
    }
    return args;
  },
  // sp_urilen_check.c CheckUriLen: URILEN_CHECK_RG is inclusive at both ends.
  plan(a, into) {
    into.rule.headers.push({ t: 'urilen', test: numTestOf(a, '<=>'), raw: a.buffer === 'raw' });
  },
});

/** sp_urilen_check.c CheckUriLen: the length of this HTTP request's URI buffer; no match without one. */
export function urilenMatches(h: HeaderOf<'urilen'>, s: Subject): boolean {
  const u = h.raw ? s.http?.rawUri : s.http?.uri;
  return u !== undefined && numTestOk(h.test, u.length);
}

/** A cursor setter: payload options that name no buffer read `buffer` from here on, from its start. */
function setBuffer(into: PlanContext, buffer: CursorBuffer): void {
  into.buffer = buffer;
  into.rule.ops.push({ op: 'set_buffer', buf: buffer });
}

export const pkt_data: KeywordSpec<true> = {
  ...flagKeyword('pkt_data', 'payload', 'set the cursor to the raw transport payload'),
  plan: (_args, into) => setBuffer(into, 'pkt'),
};

export const base64_data: KeywordSpec<true> = {
  ...flagKeyword('base64_data', 'payload', 'set the cursor to the base64_decode output'),
  plan(_args, into) {
    // sp_base64_data.c Base64DataInit: "base64_decode needs to be specified before base64_data in a rule".
    if (!into.base64Decoded) throw new OptionError('base64_data needs base64_decode before it');
    setBuffer(into, 'base64');
  },
};

export const ftpbounce: KeywordSpec<true> = {
  ...flagKeyword('ftpbounce', 'payload', 'detect FTP bounce attacks (PORT to another host)'),
  plan: (_args, into) => void into.rule.headers.push({ t: 'ftpbounce' }),
};

/** sp_ftpbounce.c FTPBounce: the address of a PORT command differs from the client's (IPv4). */
export function ftpbounceMatches(_h: HeaderOf<'ftpbounce'>, s: Subject): boolean {
  const ip = s.packet.ip;
  const m = /PORT\s+(\d+),(\d+),(\d+),(\d+),\d+,\d+/i.exec(Buffer.from(s.payload.buffer, s.payload.byteOffset, s.payload.length).toString('latin1'));
  if (!m || ip === undefined || ip.version !== 4) return false;
  for (let i = 0; i < 4; i++) if (Number(m[i + 1]) !== ip.src[i]) return true;
  return false;
}

/**
 * honeywall's own buffers, which Snort 2.9 does not have: the Suricata reader writes them for Suricata's sticky
 * buffers `dns.query` and `tls.sni` (src/suricata/keywords.ts), and the engine fills them (src/app). In a Snort 2.9
 * rule file lint warns that Snort refuses the rule (lint/checks.ts); honeywall compiles them either way, as its own
 * converted files (`update`) hold them.
 */
export const HONEYWALL_BUFFERS: ReadonlyMap<string, string> = new Map([
  ['dns_query', "Suricata's dns.query"],
  ['tls_sni', "Suricata's tls.sni"],
  ['xbits', "Suricata's xbits (host and address-pair bits)"],
]);

export const dns_query: KeywordSpec<true> = {
  ...flagKeyword('dns_query', 'payload', 'set the cursor to a DNS request question name, dotted, one per question (honeywall)'),
  plan: (_args, into) => setBuffer(into, 'dns_query'),
};

export const tls_sni: KeywordSpec<true> = {
  ...flagKeyword('tls_sni', 'payload', "set the cursor to the TLS ClientHello's server name (honeywall)"),
  plan: (_args, into) => setBuffer(into, 'tls_sni'),
};

/** `file_data` or the deprecated `file_data:mime` (Snort 2.9 accepts it and treats it as file_data). */
export const file_data = defineKeyword<{ mime: boolean }>({
  name: 'file_data',
  category: 'payload',
  value: 'optional',
  summary: 'set the cursor to the file data (HTTP response body, MIME attachment)',
  parse(value, report) {
    const t = (value ?? '').trim();
    if (t === '') return { mime: false };
    if (t === 'mime') {
      report.warning(
        'deprecated-argument',
        "file_data:mime is deprecated; 'file_data' alone points to the decoded MIME attachment",
        0,
        value!.length,
      );
      return { mime: true };
    }
    report.error('bad-argument', `file_data takes no value or 'mime'; got '${t}'`, 0, value!.length);
    return undefined;
  },
  plan: (_args, into) => setBuffer(into, 'file_data'),
});

export interface Base64DecodeArgs {
  bytes?: number;
  offset?: number;
  relative: boolean;
}

export const base64_decode = defineKeyword<Base64DecodeArgs>({
  name: 'base64_decode',
  category: 'payload',
  value: 'optional',
  summary: 'decode base64 data (from an offset, optionally relative) for base64_data',
  parse(value, report) {
    const args: Base64DecodeArgs = { relative: false };
    const parts = tokens(value);
    // sp_base64_decode.c Base64DecodeParse: at most three arguments; one given twice is read twice (the last wins).
    if (!noMoreThan(parts, 3, report, 'base64_decode')) return undefined;
    const seen = new Set<string>();
    for (const p of parts) {
      const kv = keyValue(p);
      if (seen.has(kv.key))
        report.warning('duplicate-modifier', `base64_decode '${kv.key}' is given twice (Snort uses the last)`, p.at, p.text.length);
      seen.add(kv.key);
      if (kv.key === 'relative' && kv.value === undefined) args.relative = true;
      else if (kv.key === 'bytes') {
        const n = parseInteger(kv.value ?? '', report, 'base64_decode bytes', 1, 65535, kv.valueAt);
        if (n === undefined) return undefined;
        args.bytes = n;
      } else if (kv.key === 'offset') {
        const n = parseInteger(kv.value ?? '', report, 'base64_decode offset', 0, 65535, kv.valueAt);
        if (n === undefined) return undefined;
        args.offset = n;
      } else {
        report.error('bad-argument', `unknown base64_decode argument '${p.text}' (bytes N, offset N, relative)`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
    }
    return args;
  },
  plan(a, into) {
    into.base64Decoded = true;
    // bytes 0: decode to the end of the buffer (sp_base64_decode.c's default).
    into.rule.ops.push({ op: 'base64_decode', bytes: a.bytes ?? 0, offset: a.offset ?? 0, relative: a.relative });
  },
});

export interface Asn1Args {
  bitstringOverflow: boolean;
  doubleOverflow: boolean;
  oversizeLength?: number;
  absoluteOffset?: number;
  relativeOffset?: number;
}

const ASN1_WORD = /[^\s,]+/g;

export const asn1 = defineKeyword<Asn1Args>({
  name: 'asn1',
  category: 'payload',
  value: 'required',
  summary: 'decode ASN.1 and look for malicious encodings',
  parse(value, report) {
    const v = value ?? '';
    const words: { text: string; at: number }[] = [];
    ASN1_WORD.lastIndex = 0;
    for (let m = ASN1_WORD.exec(v); m; m = ASN1_WORD.exec(v)) words.push({ text: m[0], at: m.index });
    const args: Asn1Args = { bitstringOverflow: false, doubleOverflow: false };
    for (let k = 0; k < words.length; k++) {
      const w = words[k]!;
      const num = (key: 'oversizeLength' | 'absoluteOffset' | 'relativeOffset', min: number) => {
        const n = words[k + 1];
        if (!n) {
          report.error('missing-argument', `asn1 ${w.text} needs a number`, w.at, w.text.length);
          return false;
        }
        const x = parseInteger(n.text, report, `asn1 ${w.text}`, min, 0x7fffffff, n.at);
        if (x === undefined) return false;
        args[key] = x;
        k++;
        return true;
      };
      if (w.text === 'bitstring_overflow') args.bitstringOverflow = true;
      else if (w.text === 'double_overflow') args.doubleOverflow = true;
      else if (w.text === 'oversize_length') {
        if (!num('oversizeLength', 0)) return undefined;
      } else if (w.text === 'absolute_offset') {
        if (!num('absoluteOffset', -0x7fffffff)) return undefined;
      } else if (w.text === 'relative_offset') {
        if (!num('relativeOffset', -0x7fffffff)) return undefined;
      } else {
        report.error('bad-argument', `unknown asn1 option '${w.text}'`, w.at, w.text.length);
        return undefined;
      }
    }
    if (args.absoluteOffset !== undefined && args.relativeOffset !== undefined) {
      report.error('conflicting-modifiers', 'asn1 takes absolute_offset or relative_offset, not both', 0, v.length);
      return undefined;
    }
    if (!words.length) {
      report.error('missing-value', 'asn1 needs at least one option', 0, 1);
      return undefined;
    }
    return args;
  },
  // The ASN.1 decoder is not implemented: the rule compiles and never fires (compile.ts counts it as approximated).
  plan: (_args, into) => void into.rule.headers.push({ t: 'never', keyword: 'asn1' }),
});

/** A keyword whose check is not implemented (`never`): it never matches. */
export function neverMatches(_h: HeaderOf<'never'>, _s: Subject): boolean {
  return false;
}

export const cvs = defineKeyword<'invalid-entry'>({
  name: 'cvs',
  category: 'payload',
  value: 'required',
  summary: 'detect the CVS Entry heap overflow (CVE-2004-0396)',
  parse(value, report) {
    const t = (value ?? '').trim();
    if (t !== 'invalid-entry') {
      report.error('bad-argument', `cvs takes 'invalid-entry'; got '${t}'`, 0, (value ?? '').length);
      return undefined;
    }
    return 'invalid-entry';
  },
});

export interface ProtectedContentArgs {
  negated: boolean;
  /** The digest as bytes (hex in the rule). */
  digest: Uint8Array;
}

const HEX_DIGEST = /^[0-9A-Fa-f]+$/;

export const protected_content = defineKeyword<ProtectedContentArgs>({
  name: 'protected_content',
  category: 'payload',
  value: 'required',
  summary: 'match content given only as a hash digest (with hash and length)',
  parse(value, report) {
    let t = (value ?? '').trim();
    let negated = false;
    if (t.startsWith('!')) {
      negated = true;
      t = t.slice(1).trim();
    }
    if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"') {
      report.error('expected-quoted-string', 'protected_content must be a double-quoted hex digest', 0, (value ?? '').length);
      return undefined;
    }
    const hex = t.slice(1, -1);
    if (!HEX_DIGEST.test(hex) || hex.length % 2 !== 0 || ![32, 64, 128].includes(hex.length)) {
      report.error('bad-hex', 'protected_content must be an MD5, SHA256 or SHA512 digest in hex', 0, (value ?? '').length);
      return undefined;
    }
    return { negated, digest: Uint8Array.from(Buffer.from(hex, 'hex')) };
  },
});

export const hash = defineKeyword<'md5' | 'sha256' | 'sha512'>({
  name: 'hash',
  category: 'payload',
  value: 'required',
  summary: 'the hash algorithm of the preceding protected_content',
  contentModifier: false,
  parse(value, report) {
    const t = (value ?? '').trim();
    return oneOf({ text: t, at: 0 }, ['md5', 'sha256', 'sha512'] as const, report, 'hash');
  },
});

export const length = defineKeyword<number>({
  name: 'length',
  category: 'payload',
  value: 'required',
  summary: 'the original length of the protected_content data',
  parse: (value, report) => parseInteger(value ?? '', report, 'length', 1, 65535),
});

export const payloadMiscKeywords: AnyKeywordSpec[] = [
  isdataat,
  urilen,
  pkt_data,
  file_data,
  dns_query,
  tls_sni,
  base64_decode,
  base64_data,
  asn1,
  cvs,
  ftpbounce,
  protected_content,
  hash,
  length,
];
