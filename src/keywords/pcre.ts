/**
 * `pcre:[!]"/pattern/flags"` (or `m<delim>pattern<delim>flags`): the pattern, its PCRE compile flags (i s m x A E
 * G), Snort's buffer and cursor flags (R U I P H D M C K S Y B O), the checks Snort 2.9 makes when it loads the rule
 * (sp_pcre.c: syntax, unknown flags, R or B with an HTTP buffer, the pattern must compile), and the translation to a
 * JavaScript RegExp run over latin1 strings (see `pcre-translate.ts`). Each distinct value is parsed once (`repeats`).
 */
import { defineKeyword, type ValueReporter } from './spec.js';
import type { HttpBuffer } from './content.js';
import { isPlainPcre } from './pcre-quick-check.js';
import { PcreSyntaxError, translatePcreSource, type PcreCompileFlags, type PcreTranslation } from './pcre-translate.js';

export type { PcreCompileFlags, PcreTranslation } from './pcre-translate.js';

export interface PcreArgs {
  negated: boolean;
  /** The regular expression between the delimiters, as written. */
  pattern: string;
  delimiter: string;
  /** The flag letters after the closing delimiter, as written. */
  flags: string;
  compile: PcreCompileFlags;
  /** R: match from the end of the previous match. */
  relative: boolean;
  /** B: raw packet data, not the decoded buffers. */
  rawbytes: boolean;
  /** O: ignore the configured match limits. */
  overrideLimit: boolean;
  /** U I P H D M C K S Y: the HTTP buffer searched (the last one given when several are, Snort warns). */
  buffer?: HttpBuffer;
  translation: PcreTranslation;
}

const BUFFER_FLAGS: Record<string, HttpBuffer> = {
  U: 'http_uri',
  I: 'http_raw_uri',
  P: 'http_client_body',
  H: 'http_header',
  D: 'http_raw_header',
  M: 'http_method',
  C: 'http_cookie',
  K: 'http_raw_cookie',
  S: 'http_stat_code',
  Y: 'http_stat_msg',
};

/** Translates a PCRE pattern with flag letters (`i s m x A E G`; Snort letters are ignored) to JavaScript. */
export function translatePcre(pattern: string, flags: string): PcreTranslation {
  return translatePcreSource(pattern, compileFlagsOf(flags));
}

function compileFlagsOf(flags: string): PcreCompileFlags {
  return {
    caseless: flags.includes('i'),
    dotall: flags.includes('s'),
    multiline: flags.includes('m'),
    extended: flags.includes('x'),
    anchored: flags.includes('A'),
    dollarEndOnly: flags.includes('E'),
    ungreedy: flags.includes('G'),
  };
}

/** Whether this Node runs V8's linear-time engine (`--enable-experimental-regexp-engine`): then the `l` flag exists. */
const LINEAR_AVAILABLE = (() => {
  try {
    // biome-ignore lint/complexity/useRegexLiterals: the flag is probed at run time (a literal would not parse without it)
    new RegExp('a', 'l');
    return true;
  } catch {
    return false;
  }
})();

/** A RegExp for the pcre, to run over latin1 strings (one char per byte). Linear engine when it can be used. */
export function compilePcre(args: Pick<PcreArgs, 'translation'>): RegExp {
  const t = args.translation;
  if (t.engine === 'linear' && LINEAR_AVAILABLE) {
    try {
      return new RegExp(t.source, t.flags + 'l');
    } catch {
      // Too large for the linear engine (big counted repetitions): fall back to the backtracking one.
    }
  }
  return new RegExp(t.source, t.flags);
}

/** Parses a pcre value (the parser parses each distinct value once: `repeats` in the spec). */
export function parsePcre(value: string, report: ValueReporter): PcreArgs | undefined {
  let s = 0;
  let e = value.length;
  while (s < e && /\s/.test(value[s]!)) s++;
  while (e > s && /\s/.test(value[e - 1]!)) e--;
  let negated = false;
  if (value[s] === '!') {
    negated = true;
    s++;
    while (s < e && /\s/.test(value[s]!)) s++;
  }
  if (value[s] !== '"' || e - s < 2 || value[e - 1] !== '"') {
    report.error('bad-pcre', 'pcre must be a double-quoted "/regex/flags"', s, e - s);
    return undefined;
  }
  let p = s + 1; // first char inside the quotes
  const inner = e - 1; // closing quote
  let delimiter = '/';
  if (value[p] === 'm') {
    p++;
    const d = value[p];
    if (p >= inner || d === undefined || /\s/.test(d) || d === 'R') {
      report.error('bad-pcre', `'m' must be followed by a delimiter (not a blank or 'R')`, p - 1, 2);
      return undefined;
    }
    delimiter = d;
  } else if (value[p] !== '/') {
    report.error('bad-pcre', `the regex must start with '/' or 'm<delimiter>'`, p, 1);
    return undefined;
  }
  const close = value.lastIndexOf(delimiter, inner - 1);
  if (close <= p) {
    report.error('bad-pcre', `the regex has no closing '${delimiter}'`, p, inner - p);
    return undefined;
  }
  if (close - p <= 1) {
    report.error('bad-pcre', 'the regex is empty', p, close - p + 1);
    return undefined;
  }
  const pattern = value.slice(p + 1, close);
  const flags = value.slice(close + 1, inner);
  let relative = false;
  let rawbytes = false;
  let overrideLimit = false;
  let buffer: HttpBuffer | undefined;
  let buffers = 0;
  for (let k = 0; k < flags.length; k++) {
    const f = flags[k]!;
    if ('ismxAEG'.includes(f)) continue;
    if (f === 'R') relative = true;
    else if (f === 'B') rawbytes = true;
    else if (f === 'O') overrideLimit = true;
    else if (BUFFER_FLAGS[f]) {
      buffer = BUFFER_FLAGS[f];
      buffers++;
    } else {
      report.error('bad-pcre-flag', `unknown pcre flag '${f}' (PCRE: ismxAEG; Snort: RUIPHDMCKSYBO)`, close + 1 + k, 1);
      return undefined;
    }
  }
  if (buffers > 1)
    report.warning('pcre-multiple-buffers', 'at most one HTTP buffer may be given to a pcre (Snort uses them together)', close + 1, flags.length);
  if (buffer && relative) {
    report.error('pcre-flag-conflict', `the R (relative) flag cannot be used with an HTTP buffer flag`, close + 1, flags.length);
    return undefined;
  }
  if (buffer && rawbytes) {
    report.error('pcre-flag-conflict', `the B (rawbytes) flag cannot be used with an HTTP buffer flag`, close + 1, flags.length);
    return undefined;
  }
  const compile = compileFlagsOf(flags);
  // Certain to compile, nothing unsupported: translated when a matcher first asks (lint never does).
  if (isPlainPcre(pattern, compile))
    return new PcreRecord(negated, pattern, delimiter, flags, compile, relative, rawbytes, overrideLimit, buffer, undefined);
  let translation: PcreTranslation;
  try {
    translation = translatePcreSource(pattern, compile);
  } catch (err) {
    if (err instanceof PcreSyntaxError) {
      report.error('bad-pcre', `pcre does not compile: ${err.message} (at offset ${err.at} of the regex)`, p + 1 + err.at, 1);
      return undefined;
    }
    throw err;
  }
  // The translator has checked the pattern as PCRE does. What it cannot spell in JavaScript (recursion,
  // conditionals, backtracking verbs) is no concern of the rule's: the matcher runs every pcre on PCRE2 itself.
  return new PcreRecord(negated, pattern, delimiter, flags, compile, relative, rawbytes, overrideLimit, buffer, translation);
}

/** PcreArgs with the translation made on first read (a class: an object literal with a getter is slow to create). */
class PcreRecord implements PcreArgs {
  #translation: PcreTranslation | undefined;
  constructor(
    readonly negated: boolean,
    readonly pattern: string,
    readonly delimiter: string,
    readonly flags: string,
    readonly compile: PcreCompileFlags,
    readonly relative: boolean,
    readonly rawbytes: boolean,
    readonly overrideLimit: boolean,
    readonly buffer: HttpBuffer | undefined,
    translation: PcreTranslation | undefined,
  ) {
    this.#translation = translation;
  }

  get translation(): PcreTranslation {
    return (this.#translation ??= translatePcreSource(this.pattern, this.compile));
  }
}

export const pcre = defineKeyword<PcreArgs>({
  name: 'pcre',
  repeats: true,
  category: 'payload',
  value: 'required',
  summary: 'match a Perl-compatible regular expression',
  parse: (value, report) => parsePcre(value ?? '', report),
});

export const pcreKeywords = [pcre];
