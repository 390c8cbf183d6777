/**
 * Rule options, generated per keyword. Every keyword generated here is checked against honeywall's keyword index
 * (src/keywords): the generator writes what the spec parses, and a name that left the index fails at load. Values are
 * kept within what Snort 2.9.20 accepts as far as is known (depth/within at least the content's length, offsets in
 * range); what Snort refuses anyway is taken out of the batch by the runner and counted as a lint finding.
 */
import fc from 'fast-check';
import { KEYWORDS } from '../../../src/keywords/index.js';
import { contentBytes, contentText, pcreText } from './bytes.js';

/** The keywords these generators write; each must be one honeywall knows. */
export const GENERATED_KEYWORDS = [
  'content',
  'nocase',
  'rawbytes',
  'offset',
  'depth',
  'distance',
  'within',
  'fast_pattern',
  'pcre',
  'byte_test',
  'byte_jump',
  'byte_extract',
  'isdataat',
  'dsize',
  'flowbits',
  'threshold',
  'detection_filter',
  'flow',
  'ttl',
  'tos',
  'id',
  'ip_proto',
  'fragbits',
  'flags',
  'seq',
  'ack',
  'window',
  'itype',
  'icode',
  'icmp_id',
  'icmp_seq',
  'sameip',
  'fragoffset',
  'uricontent',
  'http_uri',
  'http_raw_uri',
  'http_header',
  'http_raw_header',
  'http_method',
  'http_cookie',
  'http_raw_cookie',
  'http_client_body',
  'http_stat_code',
  'http_stat_msg',
  'file_data',
  'pkt_data',
  'stream_size',
] as const;
for (const k of GENERATED_KEYWORDS) if (!KEYWORDS.has(k)) throw new Error(`diff-snort generates '${k}', which src/keywords does not know`);

export interface ContentOptions {
  /** Buffer modifier written after the content (http_uri, ...), or none. */
  buffers?: readonly string[];
  /** Whether relative positions (distance/within) may be used. */
  relative?: boolean;
}

/** `content:"..."` with its modifiers. */
export function contentOpt(o: ContentOptions = {}): fc.Arbitrary<string> {
  return fc
    .record({
      bytes: contentBytes,
      negW: fc.integer({ min: 0, max: 7 }),
      nocase: fc.boolean(),
      pos: fc.constantFrom('none', 'none', 'offset', 'depth', 'both', 'distance', 'within', 'dw'),
      off: fc.integer({ min: -3, max: 12 }),
      extra: fc.integer({ min: 0, max: 10 }),
      fp: fc.integer({ min: 0, max: 9 }),
      buffer: fc.integer({ min: 0, max: 20 }),
      raw: fc.integer({ min: 0, max: 15 }),
    })
    .map(({ bytes, negW, nocase, pos, off, extra, fp, buffer, raw }) => {
      const n = bytes.length;
      const neg = negW === 0;
      let s = `content:${neg ? '!' : ''}"${contentText(bytes)}";`;
      if (nocase) s += ' nocase;';
      const rel = o.relative !== false;
      const p = !rel && (pos === 'distance' || pos === 'within' || pos === 'dw') ? 'offset' : pos;
      if (p === 'offset' || p === 'both') s += ` offset:${Math.max(0, off)};`;
      if (p === 'depth' || p === 'both') s += ` depth:${n + extra};`;
      if (p === 'distance' || p === 'dw') s += ` distance:${off};`;
      if (p === 'within' || p === 'dw') s += ` within:${n + extra};`;
      const bufs = o.buffers ?? [];
      if (bufs.length > 0 && buffer < bufs.length * 3) {
        const m = bufs[buffer % bufs.length]!;
        if (m !== '') s += ` ${m};`;
      } else if (raw === 0) s += ' rawbytes;';
      if (fp === 0 && !neg) s += ' fast_pattern;';
      return s;
    });
}

const PCRE_SHAPES = ['lit', '^lit', 'lit$', 'a.?b', 'cls', 'alt', 'digits', 'lit.*lit2', '(?!lit)', 'lit{2}'] as const;

/** `pcre:"/.../flags"` over the token alphabet. */
export function pcreOpt(o: { bufferFlags?: readonly string[] } = {}): fc.Arbitrary<string> {
  return fc
    .record({
      a: contentBytes,
      b: contentBytes,
      shape: fc.constantFrom(...PCRE_SHAPES),
      flags: fc.subarray(['i', 's', 'm', 'R', 'B']),
      neg: fc.integer({ min: 0, max: 9 }),
      buf: fc.integer({ min: 0, max: 9 }),
    })
    .map(({ a, b, shape, flags, neg, buf }) => {
      const A = pcreText(a);
      const B = pcreText(b);
      const body = {
        lit: A,
        '^lit': `^${A}`,
        lit$: `${A}$`,
        'a.?b': `${A}.?${B}`,
        cls: '[a-c]{2}',
        alt: `(${A}|${B})`,
        digits: `${A}\\d+`,
        'lit.*lit2': `${A}.*${B}`,
        '(?!lit)': `${A}(?!${B})`,
        'lit{2}': `(?:${A}){2}`,
      }[shape];
      let f = flags.join('');
      const bf = o.bufferFlags ?? [];
      // an HTTP buffer flag takes B (raw) and R (relative) out: Snort refuses R with a URI flag (sp_pcre.c)
      if (bf.length > 0 && buf < bf.length * 2) f = f.replace('B', '').replace('R', '') + bf[buf % bf.length];
      return `pcre:${neg === 0 ? '!' : ''}"/${body}/${f}";`;
    });
}

const OPS = ['<', '>', '=', '!', '&', '^', '<=', '>='];

export const byteTestOpt: fc.Arbitrary<string> = fc
  .record({
    str: fc.boolean(),
    n: fc.integer({ min: 1, max: 4 }),
    op: fc.constantFrom(...OPS),
    v: fc.integer({ min: 0, max: 300 }),
    off: fc.integer({ min: -2, max: 8 }),
    rel: fc.boolean(),
    little: fc.boolean(),
    base: fc.constantFrom('dec', 'hex', 'oct'),
  })
  .map(({ str, n, op, v, off, rel, little, base }) => {
    const bytes = str ? n : [1, 2, 4][n % 3]!;
    const o = rel ? off : Math.max(0, off);
    return `byte_test:${bytes},${op},${v},${o}${rel ? ',relative' : ''}${str ? `,string,${base}` : little ? ',little' : ''};`;
  });

export const byteJumpOpt: fc.Arbitrary<string> = fc
  .record({
    str: fc.boolean(),
    n: fc.integer({ min: 1, max: 4 }),
    off: fc.integer({ min: -2, max: 8 }),
    rel: fc.boolean(),
    little: fc.boolean(),
    align: fc.boolean(),
    fromBeg: fc.boolean(),
    mult: fc.integer({ min: 0, max: 3 }),
    post: fc.integer({ min: -3, max: 3 }),
  })
  .map(({ str, n, off, rel, little, align, fromBeg, mult, post }) => {
    const bytes = str ? n : [1, 2, 4][n % 3]!;
    const o = rel ? off : Math.max(0, off);
    let s = `byte_jump:${bytes},${o}`;
    if (rel) s += ',relative';
    if (str) s += ',string,dec';
    else if (little) s += ',little';
    if (align) s += ',align';
    if (fromBeg) s += ',from_beginning';
    if (mult > 1) s += `,multiplier ${mult}`;
    if (post !== 0) s += `,post_offset ${post}`;
    return `${s};`;
  });

/** byte_extract into `v`, then a use of `v` (a content's distance or a byte_test's value). */
export const byteExtractOpt: fc.Arbitrary<string> = fc
  // not `distance:v`: Snort 2.9.20 can loop forever on it (see snort.ts, `hung`), which costs a stuck run per batch
  .record({
    n: fc.constantFrom(1, 2),
    off: fc.integer({ min: 0, max: 6 }),
    rel: fc.boolean(),
    use: fc.constantFrom('offset', 'depth', 'test'),
    c: contentBytes,
  })
  .map(({ n, off, rel, use, c }) => {
    const ex = `byte_extract:${n},${off},v${rel ? ',relative' : ''};`;
    if (use === 'test') return `${ex} byte_test:1,>,v,0,relative;`;
    // depth must hold the content, but a variable is checked only at match time (sp_pattern_match.c)
    return `${ex} content:"${contentText(c)}"; ${use}:v;`;
  });

export const isdataatOpt: fc.Arbitrary<string> = fc
  .record({ neg: fc.boolean(), n: fc.integer({ min: 0, max: 20 }), rel: fc.boolean() })
  .map(({ neg, n, rel }) => `isdataat:${neg ? '!' : ''}${n}${rel ? ',relative' : ''};`);

export const dsizeOpt: fc.Arbitrary<string> = fc
  .record({ k: fc.constantFrom('', '<', '>', 'range'), n: fc.integer({ min: 0, max: 40 }), m: fc.integer({ min: 1, max: 20 }) })
  .map(({ k, n, m }) => (k === 'range' ? `dsize:${n}<>${n + m};` : `dsize:${k}${n};`));

/** One payload test on a single buffer. */
export function payloadOpt(o: ContentOptions & { bufferFlags?: readonly string[] } = {}): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: contentOpt(o) },
    { weight: 2, arbitrary: pcreOpt(o) },
    { weight: 1, arbitrary: byteTestOpt },
    { weight: 1, arbitrary: byteJumpOpt },
    { weight: 1, arbitrary: byteExtractOpt },
    { weight: 1, arbitrary: isdataatOpt },
  );
}

export const FLOWBIT_NAMES = ['fa', 'fb', 'fc'] as const;

export const flowbitsOpt: fc.Arbitrary<string> = fc
  .record({
    cmd: fc.constantFrom('set', 'set', 'isset', 'isset', 'isnotset', 'unset', 'toggle', 'noalert', 'setx', 'issetand', 'issetor'),
    a: fc.constantFrom(...FLOWBIT_NAMES),
    b: fc.constantFrom(...FLOWBIT_NAMES),
  })
  .map(({ cmd, a, b }) => {
    if (cmd === 'noalert') return 'flowbits:noalert;';
    if (cmd === 'setx') return `flowbits:set,${a}&${b === a ? 'fd' : b};`;
    if (cmd === 'issetand') return `flowbits:isset,${a}&${b === a ? 'fd' : b};`;
    if (cmd === 'issetor') return `flowbits:isset,${a}|${b === a ? 'fd' : b};`;
    return `flowbits:${cmd},${a};`;
  });

export const thresholdOpt: fc.Arbitrary<string> = fc
  .record({
    type: fc.constantFrom('limit', 'threshold', 'both'),
    track: fc.constantFrom('by_src', 'by_dst'),
    count: fc.integer({ min: 1, max: 4 }),
    seconds: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ type, track, count, seconds }) => `threshold:type ${type}, track ${track}, count ${count}, seconds ${seconds};`);

export const detectionFilterOpt: fc.Arbitrary<string> = fc
  .record({ track: fc.constantFrom('by_src', 'by_dst'), count: fc.integer({ min: 1, max: 4 }), seconds: fc.integer({ min: 1, max: 8 }) })
  .map(({ track, count, seconds }) => `detection_filter:track ${track}, count ${count}, seconds ${seconds};`);

export const flowOpt: fc.Arbitrary<string> = fc
  .record({
    state: fc.constantFrom('', 'established', 'established', 'not_established', 'stateless'),
    dir: fc.constantFrom('', 'to_server', 'to_client', 'from_client', 'from_server'),
    stream: fc.constantFrom('', '', 'only_stream', 'no_stream'),
  })
  .filter(({ state, dir, stream }) => state !== '' || dir !== '' || stream !== '')
  // stateless stands alone (sp_clientserver.c: "Can't use flow: stateless option with other options")
  .map(({ state, dir, stream }) => `flow:${state === 'stateless' ? 'stateless' : [state, dir, stream].filter((x) => x !== '').join(',')};`);

const num = (name: string, max: number) =>
  fc.record({ k: fc.constantFrom('', '<', '>', '!'), n: fc.integer({ min: 0, max }) }).map(({ k, n }) => `${name}:${k}${n};`);

/** Header tests that need no payload (IP-only rules use only these). */
export const ipOnlyOpt: fc.Arbitrary<string> = fc.oneof(
  num('ttl', 70),
  fc.integer({ min: 0, max: 255 }).map((n) => `tos:${n % 3 === 0 ? 0 : n};`),
  fc.constantFrom(1, 6, 17, 47, 50, 99, 103).map((n) => `ip_proto:${n};`),
  fc.constantFrom('ip_proto:!6;', 'ip_proto:<20;', 'ip_proto:>50;'),
  fc.constantFrom('fragbits:M;', 'fragbits:D;', 'fragbits:!D;', 'fragbits:M+;', 'fragbits:*MD;'),
  fc.constantFrom('sameip;', 'fragoffset:0;', 'fragoffset:>0;', 'fragoffset:!0;'),
  fc.integer({ min: 99, max: 104 }).map((n) => `id:${n};`),
);

/** TCP header tests. */
export const tcpHeaderOpt: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'flags:S;',
    'flags:SA;',
    'flags:A;',
    'flags:PA;',
    'flags:A+;',
    'flags:R;',
    'flags:R+;',
    'flags:F+;',
    'flags:!A;',
    'flags:*SF;',
    'flags:S,12;',
    'flags:0;',
  ),
  fc.integer({ min: 0, max: 3 }).map((n) => `window:${n === 0 ? '8192' : n === 1 ? '!8192' : '>100'};`),
  fc.constantFrom('seq:0;', 'ack:0;', 'seq:1001;'),
);

export const icmpOpt: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('itype:8;', 'itype:0;', 'itype:>3;', 'itype:3;', 'icode:0;', 'icode:>0;', 'icode:1;', 'itype:5<>9;'),
  fc.integer({ min: 0, max: 2 }).map((n) => (n === 0 ? 'icmp_seq:1;' : n === 1 ? 'icmp_seq:2;' : 'icmp_id:4000;')),
);

export const streamSizeOpt: fc.Arbitrary<string> = fc
  .record({
    d: fc.constantFrom('server', 'client', 'both', 'either'),
    op: fc.constantFrom('<', '>', '=', '!=', '<=', '>='),
    n: fc.integer({ min: 0, max: 40 }),
  })
  .map(({ d, op, n }) => `stream_size:${d},${op},${n};`);
