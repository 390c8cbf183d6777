/**
 * One case generator per area. Each draws traffic and rules that look at that traffic from the same alphabet, so
 * a good share of the rules match, and the area's semantics (cursor arithmetic, flowbit order, threshold windows, the
 * event queue's limit, IP-only rules, reassembly, http_inspect's buffers, frag3) decide which.
 */
import fc from 'fast-check';
import type { Area, Case, Dir, Frame, RuleSpec } from '../case.js';
import { payloadBytes, tokenBytes } from './bytes.js';
import { httpPairArb } from './http.js';
import {
  byteExtractOpt,
  byteJumpOpt,
  byteTestOpt,
  contentOpt,
  detectionFilterOpt,
  dsizeOpt,
  flowbitsOpt,
  flowOpt,
  icmpOpt,
  ipOnlyOpt,
  isdataatOpt,
  payloadOpt,
  pcreOpt,
  streamSizeOpt,
  tcpHeaderOpt,
  thresholdOpt,
} from './options.js';
import { exchangeArb, sessionArb, sessionFrames } from './tcp.js';
import { sampledCaseArb } from './sampled.js';
import { smb2CaseArb } from './smb2.js';

const CPORT = 40000;

/** Client to server mostly; now and then reversed, either address, or both directions. */
const headerArb = fc.record({
  shape: fc.constantFrom('fwd', 'fwd', 'fwd', 'fwd', 'rev', 'both', 'bidir'),
  sportAny: fc.constantFrom(true, true, false),
  dportAny: fc.constantFrom(true, false),
});

function header(
  h: { shape: string; sportAny: boolean; dportAny: boolean },
  sport: number,
): Pick<RuleSpec, 'src' | 'dst' | 'dir' | 'sport' | 'dport'> {
  const sp = h.sportAny ? 'any' : String(CPORT);
  const dp = h.dportAny ? 'any' : String(sport);
  switch (h.shape) {
    case 'rev':
      return { src: 'server', sport: dp, dir: '->', dst: 'client', dport: sp };
    case 'both':
      return { src: 'both', sport: 'any', dir: '->', dst: 'both', dport: 'any' };
    case 'bidir':
      return { src: 'client', sport: sp, dir: '<>', dst: 'server', dport: dp };
    default:
      return { src: 'client', sport: sp, dir: '->', dst: 'server', dport: dp };
  }
}

const udp = (dir: Dir, payload: number[], dt: number): Frame => ({ kind: 'udp', dir, payload, dt });

// ------------------------------------------------------------------------------------------------ payload
const payloadCase: fc.Arbitrary<Case> = fc
  .record({
    proto: fc.constantFrom('udp', 'udp', 'udp', 'icmp', 'tcp'),
    sport: fc.constantFrom(5000, 1234, 9999),
    payloads: fc.array(fc.tuple(fc.constantFrom<Dir>('c2s', 'c2s', 's2c'), payloadBytes(8, 1)), { minLength: 1, maxLength: 3 }),
    rules: fc.array(
      fc.tuple(
        fc.array(payloadOpt(), { minLength: 1, maxLength: 4 }),
        fc.option(dsizeOpt, { nil: undefined }),
        headerArb,
        fc.constantFrom('own', 'own', 'ip'),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ proto, sport, payloads, rules }) => {
    const frames: Frame[] = payloads.map(([dir, p]) => {
      if (proto === 'icmp') return { kind: 'icmp', dir, type: dir === 'c2s' ? 8 : 0, code: 0, payload: p, dt: 1 };
      // a lone TCP segment, no session: Snort inspects it as a packet (stream5 tracks nothing without a SYN here)
      if (proto === 'tcp') return { kind: 'tcp', dir, seq: 1001, ack: 2001, flags: 'PA', payload: p, dt: 1 };
      return udp(dir, p, 1);
    });
    const rs: RuleSpec[] = rules.map(([opts, dsize, h, p]) => {
      const pr = p === 'ip' ? 'ip' : (proto as RuleSpec['proto']);
      const hh = header(h, sport);
      const ports = pr === 'ip' || pr === 'icmp' ? { sport: 'any', dport: 'any' } : {};
      return { action: 'alert', proto: pr, ...hh, ...ports, body: [...opts, ...(dsize ? [dsize] : [])].join(' ') };
    });
    return { area: 'payload', clientHome: false, cport: CPORT, sport, frames, rules: rs } satisfies Case;
  });

// ------------------------------------------------------------------------------------------------ flowbits
const flowbitsCase: fc.Arbitrary<Case> = fc
  .record({
    payloads: fc.array(fc.tuple(fc.constantFrom<Dir>('c2s', 's2c'), tokenBytes(4, 1)), { minLength: 1, maxLength: 6 }),
    rules: fc.array(
      fc.record({
        fb: fc.array(flowbitsOpt, { minLength: 1, maxLength: 2 }),
        content: fc.option(contentOpt({ relative: false }), { nil: undefined }),
        h: headerArb,
        action: fc.constantFrom<RuleSpec['action']>('alert', 'alert', 'alert', 'pass'),
      }),
      { minLength: 2, maxLength: 6 },
    ),
    clientHome: fc.boolean(),
  })
  .map(({ payloads, rules, clientHome }) => ({
    area: 'flowbits' as Area,
    clientHome,
    cport: CPORT,
    sport: 5000,
    frames: payloads.map(([d, p]) => udp(d, p, 1)),
    rules: rules.map((r) => ({
      action: r.action,
      proto: 'udp' as const,
      ...header(r.h, 5000),
      body: [...(r.content ? [r.content] : []), ...r.fb].join(' '),
    })),
  }));

// ------------------------------------------------------------------------------------------------ thresholds
const thresholdCase: fc.Arbitrary<Case> = fc
  .record({
    packets: fc.array(fc.tuple(fc.constantFrom<Dir>('c2s', 'c2s', 's2c'), tokenBytes(3, 1), fc.integer({ min: 0, max: 3000 })), {
      minLength: 2,
      maxLength: 10,
    }),
    rules: fc.array(
      fc.record({
        limit: fc.oneof(thresholdOpt, detectionFilterOpt),
        content: fc.option(contentOpt({ relative: false }), { nil: undefined }),
        h: headerArb,
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ packets, rules }) => ({
    area: 'threshold' as Area,
    clientHome: false,
    cport: CPORT,
    sport: 5000,
    frames: packets.map(([d, p, dt]) => udp(d, p, dt)),
    rules: rules.map((r) => ({
      action: 'alert' as const,
      proto: 'udp' as const,
      ...header(r.h, 5000),
      body: [...(r.content ? [r.content] : []), r.limit].join(' '),
    })),
  }));

// ------------------------------------------------------------------------------------------------ event queue
const eventQueueCase: fc.Arbitrary<Case> = fc
  .record({
    payloads: fc.array(tokenBytes(10, 4), { minLength: 1, maxLength: 2 }),
    rules: fc.array(
      fc.record({
        c: contentOpt({ relative: false }),
        c2: fc.option(contentOpt(), { nil: undefined }),
        action: fc.constantFrom<RuleSpec['action']>('alert', 'alert', 'alert', 'alert', 'pass', 'drop'),
        proto: fc.constantFrom<RuleSpec['proto']>('udp', 'udp', 'ip'),
      }),
      { minLength: 5, maxLength: 14 },
    ),
  })
  .map(({ payloads, rules }) => ({
    area: 'event-queue' as Area,
    clientHome: false,
    cport: CPORT,
    sport: 5000,
    frames: payloads.map((p) => udp('c2s', p, 1)),
    rules: rules.map((r) => ({
      action: r.action,
      proto: r.proto,
      src: 'client' as const,
      sport: 'any',
      dir: '->' as const,
      dst: 'server' as const,
      dport: 'any',
      body: [r.c, ...(r.c2 ? [r.c2] : [])].join(' '),
    })),
  }));

// ------------------------------------------------------------------------------------------------ IP-only
const ipFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .record({
      dir: fc.constantFrom<Dir>('c2s', 's2c'),
      proto: fc.constantFrom(47, 50, 99, 103),
      ttl: fc.constantFrom(1, 64, 128),
      payload: payloadBytes(4),
    })
    .map((f) => ({ kind: 'ip' as const, ...f, dt: 1 })),
  fc.record({ dir: fc.constantFrom<Dir>('c2s', 's2c'), payload: payloadBytes(3) }).map((f) => ({ kind: 'udp' as const, ...f, dt: 1 })),
  fc
    .record({ dir: fc.constantFrom<Dir>('c2s', 's2c'), payload: payloadBytes(3) })
    .map((f) => ({ kind: 'icmp' as const, type: 8, code: 0, ...f, dt: 1 })),
  fc
    .record({ dir: fc.constantFrom<Dir>('c2s', 's2c'), flags: fc.constantFrom('S', 'PA', 'A', 'R', 'FPU', 'SF'), payload: payloadBytes(3) })
    .map((f) => ({ kind: 'tcp' as const, seq: 1001, ack: 0, ...f, dt: 1 })),
);

const ipOnlyCase: fc.Arbitrary<Case> = fc
  .record({
    frames: fc.array(ipFrame, { minLength: 1, maxLength: 5 }),
    rules: fc.array(
      fc.record({
        opts: fc.array(ipOnlyOpt, { maxLength: 2 }),
        content: fc.constantFrom(false, false, false, true),
        c: contentOpt({ relative: false }),
        h: headerArb,
        action: fc.constantFrom<RuleSpec['action']>('alert', 'alert', 'alert', 'pass'),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    clientHome: fc.boolean(),
  })
  .map(({ frames, rules, clientHome }) => ({
    area: 'ip-only' as Area,
    clientHome,
    cport: CPORT,
    sport: 5000,
    frames,
    rules: rules.map((r) => {
      const h = header(r.h, 5000);
      return { action: r.action, proto: 'ip' as const, ...h, sport: 'any', dport: 'any', body: [...r.opts, ...(r.content ? [r.c] : [])].join(' ') };
    }),
  }));

// ------------------------------------------------------------------------------------------------ TCP stream
const tcpStreamCase: fc.Arbitrary<Case> = fc
  .record({
    sport: fc.constantFrom(1234, 6666, 3306, 6667),
    script: sessionArb(fc.array(exchangeArb(payloadBytes(8, 1)), { minLength: 1, maxLength: 4 })),
    rules: fc.array(
      fc.record({
        flow: fc.option(flowOpt, { nil: undefined }),
        opts: fc.array(
          fc.oneof(
            { weight: 4, arbitrary: contentOpt() },
            { weight: 1, arbitrary: pcreOpt() },
            { weight: 1, arbitrary: isdataatOpt },
            { weight: 1, arbitrary: byteTestOpt },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        extra: fc.option(fc.oneof(tcpHeaderOpt, streamSizeOpt, flowbitsOpt), { nil: undefined }),
        h: headerArb,
      }),
      { minLength: 1, maxLength: 4 },
    ),
    clientHome: fc.boolean(),
  })
  .map(({ sport, script, rules, clientHome }) => ({
    area: 'tcp-stream' as Area,
    clientHome,
    cport: CPORT,
    sport,
    frames: sessionFrames(script),
    rules: rules.map((r) => ({
      action: 'alert' as const,
      proto: 'tcp' as const,
      ...header(r.h, sport),
      body: [...(r.flow ? [r.flow] : []), ...r.opts, ...(r.extra ? [r.extra] : [])].join(' '),
    })),
  }));

// ------------------------------------------------------------------------------------------------ HTTP
const REQ_BUFFERS = [
  'http_uri',
  'http_raw_uri',
  'http_header',
  'http_raw_header',
  'http_method',
  'http_cookie',
  'http_raw_cookie',
  'http_client_body',
  '',
];
const RESP_BUFFERS = ['http_stat_code', 'http_stat_msg', 'http_header', 'http_raw_header', 'http_cookie', ''];

const httpRule = (side: 'req' | 'resp') =>
  fc
    .record({
      fileData: fc.constantFrom(false, false, true),
      opts: fc.array(
        fc.oneof(
          { weight: 4, arbitrary: contentOpt({ buffers: side === 'req' ? REQ_BUFFERS : RESP_BUFFERS }) },
          {
            weight: 1,
            arbitrary: pcreOpt({ bufferFlags: side === 'req' ? ['U', 'I', 'H', 'D', 'C', 'K', 'P', 'M'] : ['S', 'Y', 'H', 'D', 'C', 'K'] }),
          },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      flow: fc.constantFrom(true, true, false),
    })
    .map(({ fileData, opts, flow }) => {
      const f = flow ? [side === 'req' ? 'flow:established,to_server;' : 'flow:established,to_client;'] : [];
      // file_data switches the cursor to the response body: contents after it look there (sp_file_data.c)
      const body = side === 'resp' && fileData ? ['file_data;', ...opts.map((o) => o.replace(/ http_\w+;/, ''))] : opts;
      return { side, body: [...f, ...body].join(' ') };
    });

const httpCase: fc.Arbitrary<Case> = fc
  .record({
    sport: fc.constantFrom(80, 80, 8080),
    pairs: fc.array(httpPairArb, { minLength: 1, maxLength: 2 }),
    reqCuts: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 3 }),
    respCuts: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 3 }),
    modes: fc.array(fc.constantFrom<'once' | 'retransmit' | 'late'>('once', 'once', 'once', 'once', 'retransmit', 'late'), { maxLength: 3 }),
    handshake: fc.constantFrom<'full' | 'none'>('full', 'full', 'full', 'none'),
    close: fc.constantFrom<'fin' | 'none' | 'rst-client'>('fin', 'fin', 'none', 'rst-client'),
    rules: fc.array(fc.oneof(httpRule('req'), httpRule('resp')), { minLength: 1, maxLength: 4 }),
    clientHome: fc.boolean(),
  })
  .map(({ sport, pairs, reqCuts, respCuts, modes, handshake, close, rules, clientHome }) => {
    const exchanges = pairs.flatMap((p) => [
      { dir: 'c2s' as Dir, bytes: p.request, cuts: reqCuts, modes, acked: true },
      { dir: 's2c' as Dir, bytes: p.response, cuts: respCuts, modes, acked: true },
    ]);
    const frames = sessionFrames({ handshake, exchanges, close, gap: 1 });
    return {
      area: 'http' as Area,
      clientHome,
      cport: CPORT,
      sport,
      frames,
      rules: rules.map((r) => ({
        action: 'alert' as const,
        proto: 'tcp' as const,
        src: r.side === 'req' ? ('client' as const) : ('server' as const),
        sport: 'any',
        dir: '->' as const,
        dst: r.side === 'req' ? ('server' as const) : ('client' as const),
        dport: 'any',
        body: r.body,
      })),
    };
  });

// ------------------------------------------------------------------------------------------------ fragments
const fragmentCase: fc.Arbitrary<Case> = fc
  .record({
    proto: fc.constantFrom('udp', 'icmp'),
    payload: payloadBytes(10, 3),
    size: fc.constantFrom(8, 16, 24),
    order: fc.array(fc.integer({ min: 0, max: 127 }), { minLength: 1, maxLength: 6 }),
    inOrder: fc.boolean(),
    rules: fc.array(
      fc.tuple(
        fc.array(fc.oneof(contentOpt({ relative: false }), pcreOpt(), byteTestOpt, isdataatOpt), { minLength: 1, maxLength: 2 }),
        fc.option(fc.constantFrom('fragbits:M;', 'fragoffset:0;', 'fragoffset:>0;', 'dsize:>10;'), { nil: undefined }),
        headerArb,
        fc.boolean(),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ proto, payload, size, order, inOrder, rules }) => {
    const inner: Exclude<Frame, { kind: 'frag' }> =
      proto === 'icmp' ? { kind: 'icmp', dir: 'c2s', type: 8, code: 0, payload, dt: 0 } : { kind: 'udp', dir: 'c2s', payload, dt: 0 };
    const pieces = Math.ceil((payload.length + 8) / size);
    // in order: every piece once; otherwise the generated order (repeats, gaps, tampered copies when >= 64)
    const o = inOrder ? Array.from({ length: pieces }, (_, i) => i) : order;
    const frames: Frame[] = [{ kind: 'frag', dir: 'c2s', inner, size, order: o, id: 4321, dt: 1 }];
    return {
      area: 'fragments' as Area,
      clientHome: false,
      cport: CPORT,
      sport: 5000,
      frames,
      rules: rules.map(([opts, extra, h, ip]) => ({
        action: 'alert' as const,
        proto: (ip ? 'ip' : proto) as RuleSpec['proto'],
        ...header(h, 5000),
        sport: ip || proto === 'icmp' ? 'any' : header(h, 5000).sport,
        dport: ip || proto === 'icmp' ? 'any' : header(h, 5000).dport,
        body: [...opts, ...(extra ? [extra] : [])].join(' '),
      })),
    };
  });

void byteExtractOpt;
void byteJumpOpt;
void icmpOpt;

const FIXED: Record<Exclude<Area, 'sampled'>, fc.Arbitrary<Case>> = {
  payload: payloadCase,
  flowbits: flowbitsCase,
  threshold: thresholdCase,
  'event-queue': eventQueueCase,
  'ip-only': ipOnlyCase,
  'tcp-stream': tcpStreamCase,
  http: httpCase,
  fragments: fragmentCase,
  smb: smb2CaseArb,
};

/** The area's case generator; undefined for `sampled` when the rule corpus is absent. */
export function areaArb(area: Area): fc.Arbitrary<Case> | undefined {
  return area === 'sampled' ? sampledCaseArb() : FIXED[area];
}

/** The default mix: every area, the stream and HTTP ones a little more often (they have more to get wrong). */
export const AREA_WEIGHTS: Record<Area, number> = {
  payload: 3,
  flowbits: 2,
  threshold: 2,
  'event-queue': 1,
  'ip-only': 1,
  'tcp-stream': 3,
  http: 3,
  fragments: 1,
  sampled: 2,
  smb: 2,
};
