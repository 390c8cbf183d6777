/**
 * The modifiers Snort 2.9 attaches to the closest preceding content (or uricontent): nocase, rawbytes, depth,
 * offset, distance, within, the http_* buffer selectors, fast_pattern and replace. Each parses its own value here;
 * the rule binder (`src/parser/bind.ts`) applies them to the content and makes the cross-option checks.
 */
import { defineKeyword, flagKeyword, type KeywordSpec } from './spec.js';
import { parseNumOrVar, parseInteger, splitList, type NumOrVar } from './values.js';
import { parsePattern, type FastPatternArgs, type HttpBuffer } from './content.js';

export const nocase = flagKeyword('nocase', 'payload', 'match the content case-insensitively', true);
export const rawbytes = flagKeyword('rawbytes', 'payload', 'match the content against the raw packet, not decoded data', true);

function positional(name: 'depth' | 'offset' | 'distance' | 'within', min: number, summary: string): KeywordSpec<NumOrVar> {
  return defineKeyword<NumOrVar>({
    name,
    category: 'payload',
    value: 'required',
    contentModifier: true,
    repeats: true,
    summary,
    parse: (value, report) => parseNumOrVar(value ?? '', report, name, min, 65535),
  });
}

export const depth = positional('depth', 1, 'how far into the buffer to look for the content');
export const offset = positional('offset', -65535, 'where in the buffer to start looking for the content');
export const distance = positional('distance', -65535, 'how far after the previous match to start looking');
export const within = positional('within', 1, 'at most this many bytes after the previous match');

function httpBuffer(name: HttpBuffer, summary: string): KeywordSpec<HttpBuffer> {
  return { name, category: 'payload', value: 'none', contentModifier: true, summary, parse: () => name };
}

export const http_uri = httpBuffer('http_uri', 'content applies to the normalised request URI');
export const http_raw_uri = httpBuffer('http_raw_uri', 'content applies to the raw request URI');
export const http_header = httpBuffer('http_header', 'content applies to the normalised HTTP headers');
export const http_raw_header = httpBuffer('http_raw_header', 'content applies to the raw HTTP headers');
export const http_cookie = httpBuffer('http_cookie', 'content applies to the normalised Cookie header');
export const http_raw_cookie = httpBuffer('http_raw_cookie', 'content applies to the raw Cookie header');
export const http_method = httpBuffer('http_method', 'content applies to the request method');
export const http_client_body = httpBuffer('http_client_body', 'content applies to the request body');
export const http_stat_code = httpBuffer('http_stat_code', 'content applies to the response status code');
export const http_stat_msg = httpBuffer('http_stat_msg', 'content applies to the response status message');

export interface HttpEncodeArgs {
  buffer: 'uri' | 'header' | 'cookie';
  encodings: string[];
}

const HTTP_ENCODINGS = ['utf8', 'double_encode', 'non_ascii', 'uencode', 'bare_byte', 'ascii', 'iis_encode'];

export const http_encode = defineKeyword<HttpEncodeArgs>({
  name: 'http_encode',
  category: 'payload',
  value: 'required',
  summary: 'match on the kind of encoding http_inspect saw in a buffer',
  parse(value, report) {
    const parts = splitList(value ?? '');
    const buffer = parts[0]?.text;
    if (buffer !== 'uri' && buffer !== 'header' && buffer !== 'cookie') {
      report.error('bad-argument', `http_encode buffer must be uri, header or cookie`, parts[0]?.at ?? 0, buffer?.length ?? 1);
      return undefined;
    }
    const encText = parts[1]?.text ?? '';
    const encodings = encText.split('|').map((e) => e.replace(/^!/, ''));
    for (const e of encodings) {
      if (!HTTP_ENCODINGS.includes(e)) {
        report.error('bad-argument', `unknown http_encode encoding '${e}'`, parts[1]?.at ?? 0, encText.length);
        return undefined;
      }
    }
    return { buffer, encodings: encText.split('|') };
  },
});

export const fast_pattern = defineKeyword<FastPatternArgs>({
  name: 'fast_pattern',
  repeats: true,
  category: 'payload',
  value: 'optional',
  contentModifier: true,
  summary: 'use this content for the fast-pattern matcher (only, or a slice offset,length)',
  parse(value, report) {
    if (value === undefined || value.trim() === '') return { only: false };
    const t = value.trim();
    if (t === 'only') return { only: true };
    const parts = splitList(value);
    if (parts.length !== 2) {
      report.error('bad-argument', "fast_pattern takes nothing, 'only' or '<offset>,<length>'", 0, value.length);
      return undefined;
    }
    const off = parseInteger(parts[0]!.text, report, 'fast_pattern offset', 0, 65535, parts[0]!.at);
    const len = parseInteger(parts[1]!.text, report, 'fast_pattern length', 1, 65535, parts[1]!.at);
    if (off === undefined || len === undefined) return undefined;
    return { only: false, offset: off, length: len };
  },
});

export const replace = defineKeyword<Uint8Array>({
  name: 'replace',
  category: 'payload',
  value: 'required',
  contentModifier: true,
  summary: 'inline mode: overwrite the matched content with these bytes (same length)',
  parse(value, report) {
    const p = parsePattern(value ?? '', report, 'replace', false);
    return p?.bytes;
  },
});
