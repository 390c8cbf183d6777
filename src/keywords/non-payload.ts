/**
 * Non-payload rule options (Snort 2.9 manual, "Non-Payload Detection Rule Options"): IP header tests (fragoffset,
 * ttl, tos, id, ipopts, fragbits, ip_proto, sameip), TCP (flags, seq, ack, window), ICMP (itype, icode, icmp_id,
 * icmp_seq), dsize, rpc, and the stream ones (flow, flowbits, stream_reassemble, stream_size). For each: the grammar
 * with the load-time checks of the matching sp_*.c parser, the matcher plan piece the typed arguments compile to, and
 * the evaluation of that piece (leaf-ops.ts and decide.ts dispatch to the `...Matches` functions).
 */
import type { FlowTest, FlowbitsOp as FlowbitsPlan, HeaderOf, HeaderTest, NumTest } from '../match/plan.js';
import { OptionError, type PlanContext } from '../match/plan-context.js';
import { XBITS_EXPIRE_DEFAULT, xbitName } from '../match/xbits.js';
import type { Subject } from '../match/subject.js';
import { defineKeyword, flagKeyword, type AnyKeywordSpec, type KeywordSpec, type ValueReporter } from './spec.js';
import { parseInteger } from './values.js';
import { noMoreThan, oneOf, tokens, type Piece } from './snort-args.js';
import { numTestOf, numTestOk, type TypedComparison } from './num-test.js';

/** A comparison against one number or a range (both ends inclusive unless the keyword's Snort module says not). */
export type NumberTest = TypedComparison;

/** A plan function that adds one header test. */
function header<A>(make: (args: A) => HeaderTest): (args: A, into: PlanContext) => void {
  return (args, into) => void into.rule.headers.push(make(args));
}

const SIMPLE_TEST = /^\s*(<=|>=|<|>|=|!)?\s*([+-]?\d+)\s*$/;
const RANGE_TEST = /^\s*([+-]?\d+)\s*<>\s*([+-]?\d+)\s*$/;

/** `N`, `[ops]N`, `N<>M` with a per-keyword operator list; values checked against min..max. */
function numberTest(
  value: string,
  report: ValueReporter,
  what: string,
  ops: readonly string[],
  min: number,
  max: number,
  allowRange: boolean,
): NumberTest | undefined {
  const r = RANGE_TEST.exec(value);
  if (r) {
    if (!allowRange) {
      report.error('bad-operator', `${what} does not take a range`, 0, value.length);
      return undefined;
    }
    const a = Number(r[1]);
    const b = Number(r[2]);
    if (a < min || a > max || b < min || b > max) {
      report.error('number-out-of-range', `${what} range ${a}<>${b} is outside ${min}..${max}`, 0, value.length);
      return undefined;
    }
    // sp_dsize_check.c ParseDsize loads a range whose minimum passes its maximum (CheckDsize then never matches)
    if (a > b) report.warning('never-matches', `${what} range ${a}<>${b} is empty (min > max): it never matches (Snort loads it)`, 0, value.length);
    return { op: 'range', value: a, max: b };
  }
  const m = SIMPLE_TEST.exec(value);
  if (!m) {
    const forms = [...ops.map((o) => (o === '=' ? 'N' : `${o}N`)), ...(allowRange ? ['N<>M'] : [])].join(', ');
    report.error('bad-number', `${what} must be one of ${forms}; got '${value.trim()}'`, 0, value.length);
    return undefined;
  }
  const op = (m[1] ?? '=') as NumberTest['op'];
  if (m[1] !== undefined && !ops.includes(op)) {
    report.error('bad-operator', `${what} does not take operator '${op}'`, value.indexOf(op), op.length);
    return undefined;
  }
  const n = Number(m[2]);
  if (n < min || n > max) {
    report.error('number-out-of-range', `${what} ${n} is out of range ${min}..${max}`, value.indexOf(m[2]!), m[2]!.length);
    return undefined;
  }
  return { op, value: n };
}

function testKeyword(
  name: string,
  summary: string,
  ops: readonly string[],
  min: number,
  max: number,
  allowRange: boolean,
  plan?: (t: NumberTest) => HeaderTest,
): KeywordSpec<NumberTest> {
  return defineKeyword<NumberTest>({
    name,
    category: 'non-payload',
    value: 'required',
    repeats: true,
    summary,
    parse: (value, report) => numberTest(value ?? '', report, name, ops, min, max, allowRange),
    plan: plan && header(plan),
  });
}

/**
 * fragoffset (sp_ip_fragbits.c ParseFragOffset): `N`, `!N`, `>N` or `<N`, N a byte offset of 0..65535
 * (SnortStrtoulRange to UINT16_MAX; `!` takes no `<`/`>` after it).
 */
export const fragoffset = testKeyword('fragoffset', 'test the IP fragment offset', ['=', '!', '<', '>'], 0, 65535, false, (t) => ({
  t: 'fragoffset',
  op: t.op as HeaderOf<'fragoffset'>['op'],
  value: t.value,
}));

/**
 * sp_ip_fragbits.c CheckFragOffset: the offset in bytes (frag_offset * 8; 0 for a packet that is no fragment or a
 * rebuilt datagram) equal to N (`!`: not equal), or greater or less than it.
 */
export function fragoffsetMatches(h: HeaderOf<'fragoffset'>, s: Subject): boolean {
  const ip = s.packet.ip;
  if (ip === undefined) return false;
  const off = ip.fragOffset * 8;
  switch (h.op) {
    case '=':
      return off === h.value;
    case '!':
      return off !== h.value;
    case '>':
      return off > h.value;
    case '<':
      return off < h.value;
  }
}
/** The plan's comparison for keywords that take no range. */
const single = (t: NumberTest): NumTest => numTestOf(t, '<=>');

export const tos = testKeyword('tos', 'test the IP TOS field', ['=', '!'], 0, 255, false, (t) => ({ t: 'tos', test: single(t) }));
export const id = testKeyword('id', 'test the IP ID field', ['='], 0, 65535, false, (t) => ({ t: 'id', test: single(t) }));
export const window = testKeyword('window', 'test the TCP window size', ['=', '!'], 0, 65535, false, (t) => ({ t: 'window', test: single(t) }));
export const icmp_id = testKeyword('icmp_id', 'test the ICMP ID', ['='], 0, 65535, false, (t) => ({ t: 'icmp_id', value: t.value }));
export const icmp_seq = testKeyword('icmp_seq', 'test the ICMP sequence number', ['='], 0, 65535, false, (t) => ({ t: 'icmp_seq', value: t.value }));
export const seq = testKeyword('seq', 'test the TCP sequence number', ['='], 0, 0xffffffff, false, (t) => ({ t: 'seq', value: t.value }));
export const ack = testKeyword('ack', 'test the TCP acknowledgement number', ['='], 0, 0xffffffff, false, (t) => ({ t: 'ack', value: t.value }));
/** dsize: N, <N, >N, N<>M (Snort 2.9 rejects <=, >= and !); sp_dsize_check.c CheckDsize checks a range inclusively. */
export const dsize = testKeyword('dsize', 'test the payload size', ['=', '<', '>'], 0, 65535, true, (t) => ({
  t: 'dsize',
  test: numTestOf(t, '<=>'),
}));

/**
 * sp_dsize_check.c CheckDsize. Snort skips rebuilt packets unless they are PDU heads; with PAF (the default) every
 * flushed segment is one, so rebuilt segments are tested too.
 */
export function dsizeMatches(h: HeaderOf<'dsize'>, s: Subject): boolean {
  return numTestOk(h.test, s.payload.length);
}

/** sp_ip_tos_check.c IpTosCheckEq. */
export function tosMatches(h: HeaderOf<'tos'>, s: Subject): boolean {
  const ip = s.packet.ip;
  return ip !== undefined && numTestOk(h.test, ip.tos);
}

/** sp_ip_id_check.c IpIdCheckEq. */
export function idMatches(h: HeaderOf<'id'>, s: Subject): boolean {
  const ip = s.packet.ip;
  return ip !== undefined && numTestOk(h.test, ip.id);
}

/** sp_tcp_win_check.c TcpWinCheckEq. */
export function windowMatches(h: HeaderOf<'window'>, s: Subject): boolean {
  const tcp = s.packet.tcp;
  return tcp !== undefined && numTestOk(h.test, tcp.window);
}

/** sp_tcp_seq_check.c CheckTcpSeqEq. */
export function seqMatches(h: HeaderOf<'seq'>, s: Subject): boolean {
  const tcp = s.packet.tcp;
  return tcp !== undefined && tcp.seq >>> 0 === h.value >>> 0;
}

/** sp_tcp_ack_check.c CheckTcpAckEq. */
export function ackMatches(h: HeaderOf<'ack'>, s: Subject): boolean {
  const tcp = s.packet.tcp;
  return tcp !== undefined && tcp.ack >>> 0 === h.value >>> 0;
}

/** sp_icmp_id_check.c IcmpIdCheck, on messages that carry an id (echo, timestamp, ...: the decoder leaves it -1 for others). */
export function icmpIdMatches(h: HeaderOf<'icmp_id'>, s: Subject): boolean {
  const ic = s.packet.icmp ?? s.packet.icmp6;
  return ic !== undefined && ic.id >= 0 && ic.id === h.value;
}

/** sp_icmp_seq_check.c IcmpSeqCheck, on messages that carry a sequence number (as icmp_id). */
export function icmpSeqMatches(h: HeaderOf<'icmp_seq'>, s: Subject): boolean {
  const ic = s.packet.icmp ?? s.packet.icmp6;
  return ic !== undefined && ic.seq >= 0 && ic.seq === h.value;
}

/** ttl: `[<|>|=|<=|>=]N`, `N-M`, `-N`, `N-` (sp_ttl_check.c). */
export const ttl = defineKeyword<NumberTest>({
  name: 'ttl',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the IP time-to-live',
  parse(value, report) {
    const v = value ?? '';
    const dash = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(v);
    if (dash && (dash[1] !== '' || dash[2] !== '')) {
      const lo = dash[1] === '' ? 0 : Number(dash[1]);
      const hi = dash[2] === '' ? 255 : Number(dash[2]);
      if (lo > 255 || hi > 255) {
        report.error('number-out-of-range', `ttl ${v.trim()} is outside 0..255`, 0, v.length);
        return undefined;
      }
      if (lo > hi) {
        report.error('bad-range', `ttl range ${v.trim()} is empty (min > max)`, 0, v.length);
        return undefined;
      }
      return { op: 'range', value: lo, max: hi };
    }
    return numberTest(v, report, 'ttl', ['=', '<', '>', '<=', '>='], 0, 255, false);
  },
  // sp_ttl_check.c CheckTtl: TTL_CHECK_RG is inclusive at both ends.
  plan: header((t) => ({ t: 'ttl', test: numTestOf(t, '<=>') })),
});

/** sp_ttl_check.c CheckTtl. */
export function ttlMatches(h: HeaderOf<'ttl'>, s: Subject): boolean {
  const ip = s.packet.ip;
  return ip !== undefined && numTestOk(h.test, ip.ttl);
}

/**
 * itype/icode: `N`, `<N`, `>N`, `min<>max` (an exclusive range), with the manual's bounds (sp_icmp_code_check.c
 * ParseIcmpCode makes these checks; 2.9.20's ParseIcmpType makes none, honeywall applies the same bounds to both).
 * Only icode's range may start with a sign (`-1<>30`): ParseIcmpType reads a range only when the value starts with a
 * digit, and `-1<>30` then fails its plain-number parse.
 */
const INT32_MAX = 2147483647;

function icmpTest(name: 'itype' | 'icode', summary: string): KeywordSpec<NumberTest> {
  const signedRange = name === 'icode';
  return defineKeyword<NumberTest>({
    name,
    category: 'non-payload',
    value: 'required',
    repeats: true,
    summary,
    parse(value, report) {
      const v = value ?? '';
      const r = RANGE_TEST.exec(v);
      if (r) {
        const a = Number(r[1]);
        const b = Number(r[2]);
        if (!signedRange && !/^\s*\d/.test(v)) {
          report.error('bad-range', `${name} range must start with a digit (Snort reads '${v.trim()}' as a number and fails)`, 0, v.length);
          return undefined;
        }
        if (a < -1 || a > 254 || b < 1 || b > 256 || b - a <= 1) {
          if (!signedRange && a <= INT32_MAX && b <= INT32_MAX) {
            // ParseIcmpType loads any range; one outside these bounds matches nothing or everything.
            report.warning(
              'never-matches',
              `${name} range ${a}<>${b} is outside -1 <= min <= 254, 1 <= max <= 256, max - min > 1 (Snort loads it)`,
              0,
              v.length,
            );
            return { op: 'range', value: a, max: b };
          }
          report.error('bad-range', `${name} range ${a}<>${b} is invalid (-1 <= min <= 254, 1 <= max <= 256, max - min > 1)`, 0, v.length);
          return undefined;
        }
        return { op: 'range', value: a, max: b };
      }
      // ParseIcmpType checks no bounds at all (`itype:300` loads and never matches): a warning. ParseIcmpCode
      // refuses what cannot match. Either way the number must fit Snort's int.
      const t = numberTest(v, report, name, ['=', '<', '>'], 0, signedRange ? 256 : INT32_MAX, false);
      if (!t) return undefined;
      const bad = (t.op === '=' && t.value > 255) || (t.op === '<' && t.value < 1) || (t.op === '>' && t.value > 254);
      if (bad && !signedRange)
        report.warning('never-matches', `${name} ${v.trim()} can never match: an ICMP type is 0..255 (Snort loads it)`, 0, v.length);
      else if (bad) {
        report.error('number-out-of-range', `${name} ${v.trim()} can never match (valid: N 0..255, <N 1..256, >N 0..254)`, 0, v.length);
        return undefined;
      }
      return t;
    },
    // sp_icmp_type_check.c / sp_icmp_code_check.c: ICMP_*_TEST_RG is exclusive at both ends.
    plan: header((t) => ({ t: name, test: numTestOf(t, '<>') })),
  });
}

export const itype = icmpTest('itype', 'test the ICMP type');
export const icode = icmpTest('icode', 'test the ICMP code');

/** sp_icmp_type_check.c IcmpTypeCheck (ICMPv6 too). */
export function itypeMatches(h: HeaderOf<'itype'>, s: Subject): boolean {
  const ic = s.packet.icmp ?? s.packet.icmp6;
  return ic !== undefined && numTestOk(h.test, ic.type);
}

/** sp_icmp_code_check.c IcmpCodeCheck (ICMPv6 too). */
export function icodeMatches(h: HeaderOf<'icode'>, s: Subject): boolean {
  const ic = s.packet.icmp ?? s.packet.icmp6;
  return ic !== undefined && numTestOk(h.test, ic.code);
}

export const IP_OPTIONS = ['rr', 'eol', 'nop', 'ts', 'sec', 'esec', 'lsrr', 'lsrre', 'ssrr', 'satid', 'any'] as const;
export type IpOption = (typeof IP_OPTIONS)[number];

/** The option codes of decode.h (IPOPT_*); `any` is -1. lsrre is IPOPT_LSRR_E, 0x84. */
const IP_OPTION_CODES: Readonly<Record<IpOption, number>> = {
  rr: 0x07,
  eol: 0x00,
  nop: 0x01,
  ts: 0x44,
  sec: 0x82,
  esec: 0x85,
  lsrr: 0x83,
  lsrre: 0x84,
  ssrr: 0x89,
  satid: 0x88,
  any: -1,
};

export const ipopts = defineKeyword<IpOption>({
  name: 'ipopts',
  category: 'non-payload',
  value: 'required',
  summary: 'test for an IP option',
  parse(value, report) {
    const v = (value ?? '').trim();
    // sp_ipoption_check.c ParseIpOptionData compares with strcasecmp: `ipopts:LSRR` is lsrr.
    return oneOf({ text: v.toLowerCase(), at: (value ?? '').indexOf(v) }, IP_OPTIONS, report, 'ipopts');
  },
  plan: header((o) => ({ t: 'ipopts', option: IP_OPTION_CODES[o] })),
});

/**
 * sp_ipoption_check.c CheckIpOptions over the options the decoder recorded. Snort's decoder stops at EOL and does not
 * record it: ipopts:eol never matches (Snort 2.9.20 on detect-ipopts-02).
 */
export function ipoptsMatches(h: HeaderOf<'ipopts'>, s: Subject): boolean {
  const ip4 = s.packet.ip4;
  if (ip4 === undefined) return false;
  if (h.option === -1) return ip4.options.some((o) => o.type !== 0);
  for (const o of ip4.options) if (o.type === h.option && o.type !== 0) return true;
  return false;
}

/** fragbits and flags: the bits to test, how (`+` plus others, `*` any, `!` not), and flags' ignore mask. */
export interface BitsTest {
  /** Bit letters as given, upper case (`1` -> `C`, `2` -> `E` for flags); `0` alone for "no flags". */
  bits: string;
  mode: 'exact' | 'plus' | 'any' | 'not';
  /** flags only: bits to ignore (after the comma). */
  mask?: string;
}

const MODES: Readonly<Record<string, BitsTest['mode']>> = { '+': 'plus', '*': 'any', '!': 'not' };

/**
 * The bits part of fragbits and flags, read as sp_ip_fragbits.c ParseFragBits and sp_tcp_flag_check.c ParseTCPFlags
 * read it: letters in either case, a modifier anywhere (the last one wins), and for flags `0`, which clears the flags
 * read before it (`0S` is S, `S0` is no flags). What Snort accepts but reads surprisingly is warned about.
 */
function readBits(head: string, report: ValueReporter, what: string, letters: string, isFlags: boolean): Pick<BitsTest, 'bits' | 'mode'> | undefined {
  let bits = '';
  let mode: BitsTest['mode'] = 'exact';
  let modifier = '';
  for (let k = 0; k < head.length; k++) {
    let ch = head[k]!;
    if (ch === ' ' || ch === '\t') continue;
    const m = MODES[ch];
    if (m !== undefined) {
      if (modifier !== '' && modifier !== ch)
        report.warning('modifier-overridden', `${what}: '${ch}' overrides '${modifier}' (Snort uses the last modifier)`, k, 1);
      modifier = ch;
      mode = m;
      continue;
    }
    ch = ch.toUpperCase();
    if (isFlags && ch === '1') ch = 'C';
    if (isFlags && ch === '2') ch = 'E';
    if (!letters.includes(ch)) {
      report.error('bad-flag', `'${head[k]}' is not a ${what} bit (${letters.split('').join(' ')})`, k, 1);
      return undefined;
    }
    if (ch === '0') {
      if (bits !== '' && bits !== '0') report.warning('zero-flag-combined', `${what}: '0' (no flags) clears the flags before it (${bits})`, k, 1);
      bits = '0';
    } else {
      if (bits === '0') {
        report.warning('zero-flag-combined', `${what}: '0' (no flags) is cancelled by '${head[k]}' after it`, k, 1);
        bits = '';
      }
      if (!bits.includes(ch)) bits += ch;
    }
  }
  if (bits === '' && mode === 'exact') {
    report.error('missing-value', `${what} names no bits`, 0, head.length);
    return undefined;
  }
  if (bits === '') report.warning('no-bits', `${what} names no bits, only the modifier '${modifier}'`, 0, head.length);
  return { bits, mode };
}

/** flags' ignore mask (after the comma): TCP flag letters in either case, `1` and `2` for C and E. */
function readMask(tail: string, at: number, report: ValueReporter): string | undefined {
  let mask = '';
  for (let k = 0; k < tail.length; k++) {
    let ch = tail[k]!;
    if (ch === ' ' || ch === '\t') continue;
    ch = ch.toUpperCase();
    if (ch === '1') ch = 'C';
    if (ch === '2') ch = 'E';
    if (!'FSRPAUCE'.includes(ch)) {
      report.error('bad-flag', `'${tail[k]}' is not a TCP flag for the mask (F S R P A U C E)`, at + k, 1);
      return undefined;
    }
    if (!mask.includes(ch)) mask += ch;
  }
  return mask;
}

function bitsTest(value: string, report: ValueReporter, what: string, letters: string, isFlags: boolean): BitsTest | undefined {
  const comma = value.indexOf(',');
  const head = comma === -1 ? value : value.slice(0, comma);
  const read = readBits(head, report, what, letters, isFlags);
  if (!read) return undefined;
  const out: BitsTest = { bits: read.bits, mode: read.mode };
  if (comma === -1) return out;
  if (!isFlags) {
    report.error('bad-argument', `${what} takes no mask`, comma, value.length - comma);
    return undefined;
  }
  const mask = readMask(value.slice(comma + 1), comma + 1, report);
  if (mask === undefined) return undefined;
  out.mask = mask;
  return out;
}

/** The plan's bit set of letters, by a table of letter -> bit. */
function bitsOf(letters: string, table: Readonly<Record<string, number>>): number {
  let b = 0;
  for (const ch of letters) b |= table[ch] ?? 0;
  return b;
}

const PLAN_MODES: Readonly<Record<BitsTest['mode'], 'exact' | 'all' | 'any' | 'not'>> = { exact: 'exact', plus: 'all', any: 'any', not: 'not' };

/** Snort's FB_* / M_* modes over the bits of the packet. */
function bitsOk(have: number, want: number, mode: 'exact' | 'any' | 'all' | 'not'): boolean {
  switch (mode) {
    case 'exact':
      return have === want;
    case 'all':
      return (have & want) === want;
    case 'any':
      return (have & want) !== 0;
    case 'not':
      return (have & want) === 0;
  }
}

const FRAG_BITS: Readonly<Record<string, number>> = { M: 1, D: 2, R: 4 };

export const fragbits = defineKeyword<BitsTest>({
  name: 'fragbits',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the IP fragmentation bits (M D R, with + * !)',
  parse: (value, report) => bitsTest(value ?? '', report, 'fragbits', 'MDR', false),
  plan: header((b) => ({ t: 'fragbits', bits: bitsOf(b.bits, FRAG_BITS), mode: PLAN_MODES[b.mode] })),
});

/** sp_ip_fragbits.c CheckFragBits (bits: 1 MF, 2 DF, 4 reserved). */
export function fragbitsMatches(h: HeaderOf<'fragbits'>, s: Subject): boolean {
  const ip = s.packet.ip;
  if (ip === undefined) return false;
  const have = (ip.mf ? 1 : 0) | (ip.df ? 2 : 0) | (ip.rb ? 4 : 0);
  return bitsOk(have, h.bits, h.mode);
}

const TCP_FLAG_BITS: Readonly<Record<string, number>> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };

export const flags = defineKeyword<BitsTest>({
  name: 'flags',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the TCP flags (F S R P A U C E 0, with + * !, optional ignore mask)',
  parse: (value, report) => bitsTest(value ?? '', report, 'flags', 'FSRPAUCE0', true),
  plan: header((b) => ({
    t: 'flags',
    bits: bitsOf(b.bits, TCP_FLAG_BITS),
    mode: PLAN_MODES[b.mode],
    mask: 0xff & ~bitsOf(b.mask ?? '', TCP_FLAG_BITS),
  })),
});

/** sp_tcp_flag_check.c CheckTcpFlags: the packet's flags outside the ignore mask against the rule's. */
export function flagsMatches(h: HeaderOf<'flags'>, s: Subject): boolean {
  const tcp = s.packet.tcp;
  if (tcp === undefined) return false;
  return bitsOk(tcp.flags & h.mask, h.bits & h.mask, h.mode);
}

export interface FlowArgs {
  state?: 'established' | 'not_established' | 'stateless';
  direction?: 'to_client' | 'to_server';
  /** The direction as written (from_server is to_client, from_client is to_server). */
  directionText?: 'to_client' | 'to_server' | 'from_client' | 'from_server';
  stream?: 'no_stream' | 'only_stream';
  frag?: 'no_frag' | 'only_frag';
}

const FLOW_WORDS = [
  'established',
  'not_established',
  'stateless',
  'to_client',
  'to_server',
  'from_client',
  'from_server',
  'no_stream',
  'only_stream',
  'no_frag',
  'only_frag',
] as const;

export const flow = defineKeyword<FlowArgs>({
  name: 'flow',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'restrict the rule to a direction and state of the session',
  parse(value, report) {
    const args: FlowArgs = {};
    const seen = new Map<string, Piece>();
    for (const p of tokens(value)) {
      // sp_clientserver.c ParseFlowArgs compares with strcasecmp: `flow:Established,To_Server` is accepted.
      const w = oneOf({ text: p.text.toLowerCase(), at: p.at }, FLOW_WORDS, report, 'flow option');
      if (!w) return undefined;
      const conflict = (kind: string, prev: string | undefined, now: string) => {
        if (prev !== undefined && prev !== now) {
          report.error('flow-conflict', `flow: '${now}' conflicts with '${seen.get(kind)!.text}'`, p.at, p.text.length);
          return true;
        }
        seen.set(kind, p);
        return false;
      };
      if (w === 'established' || w === 'not_established' || w === 'stateless') {
        if (conflict('state', args.state, w)) return undefined;
        args.state = w;
      } else if (w === 'no_stream' || w === 'only_stream') {
        if (conflict('stream', args.stream, w)) return undefined;
        args.stream = w;
      } else if (w === 'no_frag' || w === 'only_frag') {
        if (conflict('frag', args.frag, w)) return undefined;
        args.frag = w;
      } else {
        const dir = w === 'to_client' || w === 'from_server' ? 'to_client' : 'to_server';
        if (conflict('direction', args.direction, dir)) return undefined;
        args.direction = dir;
        args.directionText = w;
      }
    }
    if (!seen.size) {
      report.error('missing-value', 'flow needs at least one option', 0, (value ?? '').length);
      return undefined;
    }
    // sp_clientserver.c ParseFlowArgs: "Can't use flow: stateless option with other options" (a direction).
    if (args.state === 'stateless' && args.direction !== undefined) {
      const d = seen.get('direction')!;
      report.error('flow-conflict', `flow: '${d.text}' cannot be used with 'stateless'`, d.at, d.text.length);
      return undefined;
    }
    return args;
  },
  plan(args, into) {
    // sp_clientserver.c FlowInit: "Multiple flow options in rule".
    if (into.rule.flow !== undefined) throw new OptionError('only one flow option per rule');
    into.rule.flow = flowTestOf(args);
  },
});

/** The plan's flow test. */
function flowTestOf(args: FlowArgs): FlowTest {
  const f: FlowTest = {};
  if (args.state === 'established') f.established = true;
  else if (args.state === 'not_established') f.notEstablished = true;
  else if (args.state === 'stateless') f.stateless = true;
  if (args.direction === 'to_server') f.toServer = true;
  else if (args.direction === 'to_client') f.toClient = true;
  if (args.stream === 'only_stream') f.onlyStream = true;
  else if (args.stream === 'no_stream') f.noStream = true;
  if (args.frag === 'only_frag') f.onlyFrag = true;
  else if (args.frag === 'no_frag') f.noFrag = true;
  return f;
}

/**
 * sp_clientserver.c CheckFlow: session state, direction, and rebuilt or not. A direction fails only on a packet that
 * has one (PKT_FROM_CLIENT or PKT_FROM_SERVER, spp_session.c setPacketDirectionFlag) going the other way: a packet
 * of no session (a fragment, ICMP, another IP protocol) passes both. A TCP packet always has a session block, a
 * lone RST too (which opens no TCP session here: it comes from the client). only_frag/no_frag ask whether the packet
 * is a datagram frag3 rebuilt.
 */
export function flowMatches(f: FlowTest, s: Subject): boolean {
  const hasFlow = s.flow !== undefined;
  const directed = subjectDirected(s);
  if (f.established && !(hasFlow && s.established)) return false;
  if (f.notEstablished && hasFlow && s.established) return false;
  if (f.toServer && directed && !s.fromClient) return false;
  if (f.toClient && directed && s.fromClient) return false;
  if (f.onlyStream && !s.rebuilt) return false;
  if (f.noStream && s.rebuilt) return false;
  if (f.onlyFrag && s.packet.origin !== 'defrag') return false;
  if (f.noFrag && s.packet.origin === 'defrag') return false;
  return true;
}

/**
 * Whether `flow`'s to_server/to_client can fail on this subject (flowMatches): it has a session, or is a TCP packet
 * not a fragment. The prefilter scans such a subject with its direction's patterns only (prefilter.ts).
 */
export function subjectDirected(s: Subject): boolean {
  // (each load made on every call: optimized code meeting a load it never ran, the first subject without a flow's,
  // is thrown away, and this runs inside the matcher's candidates)
  const flow = s.flow;
  const p = s.packet;
  const tcp = p.tcp;
  const fragment = p.ip?.isFragment;
  return flow !== undefined || (tcp !== undefined && fragment !== true);
}

/**
 * Flow classes: what of a subject flowMatches's to_server, to_client, established and not_established read. A
 * directed subject (subjectDirected) goes to a server or a client, in an established session or not (classes 0 to
 * 3); any other has no session, so is not established, and its direction is not read (class 4). These four tests
 * pass or fail every subject of a class alike: the prefilter scans a directed subject with the patterns of the rules
 * that pass its class (prefilter.ts), the matcher passes over the rules that fail it, and a flow direction's list of
 * rules without a fast pattern leaves out those that fail both of its classes (engine.ts, the `flags` column of
 * rule-table.ts). The one place that reads the four tests besides flowMatches.
 */
export const FLOW_CLASS_UNDIRECTED = 4;
/** The directed classes, 0 to 3 (bit 1 << class). */
export const FLOW_CLASSES_DIRECTED = 0b01111;
/** Every class. */
export const FLOW_CLASSES_ALL = 0b11111;

/** A subject's flow class (see FLOW_CLASS_UNDIRECTED). */
export function subjectFlowClass(s: Subject): number {
  if (!subjectDirected(s)) return FLOW_CLASS_UNDIRECTED;
  return (s.fromClient ? 0 : 1) + (s.flow !== undefined && s.established ? 0 : 2);
}

/** The classes of a flow direction's subjects (all directed: they have a session), established or not. */
export function directionFlowClasses(fromClient: boolean): number {
  return fromClient ? 0b0101 : 0b1010;
}

/** The classes whose subjects pass the test's to_server, to_client, established and not_established (bit 1 << class). */
export function flowClasses(f: Pick<FlowTest, 'toServer' | 'toClient' | 'established' | 'notEstablished'> | undefined): number {
  if (f === undefined) return FLOW_CLASSES_ALL;
  let bits = 0;
  for (let c = 0; c < FLOW_CLASS_UNDIRECTED; c++) {
    const toServer = (c & 1) === 0;
    const established = (c & 2) === 0;
    if ((f.toClient && toServer) || (f.toServer && !toServer) || (f.established && !established) || (f.notEstablished && established)) continue;
    bits |= 1 << c;
  }
  // no session: not established, whatever the direction
  if (!f.established) bits |= 1 << FLOW_CLASS_UNDIRECTED;
  return bits;
}

export type FlowbitsOp = 'set' | 'setx' | 'unset' | 'toggle' | 'isset' | 'isnotset' | 'noalert' | 'reset';

export interface FlowbitsArgs {
  op: FlowbitsOp;
  /** The bits named (empty for noalert, reset and the `any|all,group` forms). */
  bits: string[];
  group?: string;
  /**
   * How several bits combine: 'all' (`a&b`, and a single bit) or 'any' (`a|b`, isset/isnotset only). With no bits
   * and a group, whether the test/action covers any or all bits of the group.
   */
  match: 'any' | 'all';
}

const FLOWBIT_NAME = /^[A-Za-z0-9_.-]+$/;
const FLOWBITS_OPS: readonly FlowbitsOp[] = ['set', 'setx', 'unset', 'toggle', 'isset', 'isnotset', 'noalert', 'reset'];

export const flowbits = defineKeyword<FlowbitsArgs>({
  name: 'flowbits',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'set, clear or test named state bits of the session',
  parse(value, report) {
    const parts = tokens(value);
    const opPiece = parts[0];
    if (!opPiece) {
      report.error('missing-value', 'flowbits needs an operation', 0, 1);
      return undefined;
    }
    // sp_flowbits.c FlowBitsParse compares the operation with strcasecmp (and `any`/`all` below too).
    const op = oneOf({ text: opPiece.text.toLowerCase(), at: opPiece.at }, FLOWBITS_OPS, report, 'flowbits operation');
    if (!op) return undefined;
    if (!noMoreThan(parts, 3, report, 'flowbits')) return undefined;
    const bitsPiece = parts[1];
    const groupPiece = parts[2];
    const checkName = (text: string, at: number, what: string): boolean => {
      if (FLOWBIT_NAME.test(text)) return true;
      report.error('bad-flowbit-name', `${what} '${text}' may contain only letters, digits, '.', '-' and '_'`, at, Math.max(1, text.length));
      return false;
    };
    if (op === 'noalert') {
      if (parts.length > 1) {
        report.error('too-many-arguments', 'flowbits:noalert takes no bits', parts[1]!.at, parts[1]!.text.length);
        return undefined;
      }
      return { op, bits: [], match: 'all' };
    }
    if (op === 'reset') {
      if (parts.length > 2) {
        report.error('too-many-arguments', 'flowbits:reset takes at most a group', parts[2]!.at, parts[2]!.text.length);
        return undefined;
      }
      if (bitsPiece && !checkName(bitsPiece.text, bitsPiece.at, 'group name')) return undefined;
      return bitsPiece ? { op, bits: [], group: bitsPiece.text, match: 'all' } : { op, bits: [], match: 'all' };
    }
    if (!bitsPiece || bitsPiece.text === '') {
      report.error('missing-argument', `flowbits:${op} needs a bit name`, opPiece.at, opPiece.text.length);
      return undefined;
    }
    if (groupPiece && !checkName(groupPiece.text, groupPiece.at, 'group name')) return undefined;
    const group = groupPiece?.text;
    const b = bitsPiece.text;
    const anyAll = b.toLowerCase();
    // `any,group` / `all,group`
    if ((anyAll === 'any' || anyAll === 'all') && group !== undefined) {
      if (b === 'any' && op !== 'isset' && op !== 'isnotset') {
        report.error('bad-argument', `flowbits:${op} takes 'all,<group>', not 'any'`, bitsPiece.at, b.length);
        return undefined;
      }
      if (op === 'set' || op === 'setx') {
        report.error('bad-argument', `flowbits:${op} needs bit names, not '${b}'`, bitsPiece.at, b.length);
        return undefined;
      }
      return { op, bits: [], group, match: anyAll };
    }
    const hasOr = b.includes('|');
    const hasAnd = b.includes('&');
    if (hasOr && hasAnd) {
      report.error('bad-argument', "flowbits cannot mix '|' and '&' in one list", bitsPiece.at, b.length);
      return undefined;
    }
    if (hasOr && op !== 'isset' && op !== 'isnotset') {
      report.error('bad-argument', `flowbits:${op} takes bits joined with '&', not '|'`, bitsPiece.at, b.length);
      return undefined;
    }
    const bits = b.split(hasOr ? '|' : '&').map((x) => x.trim());
    let at = bitsPiece.at;
    for (const name of bits) {
      if (!checkName(name, at, 'flowbit name')) return undefined;
      at += name.length + 1;
    }
    if (op === 'setx' && group === undefined) {
      report.error('missing-argument', 'flowbits:setx needs a group', bitsPiece.at, b.length);
      return undefined;
    }
    if (group !== undefined && (op === 'isset' || op === 'isnotset' || op === 'unset' || op === 'toggle')) {
      report.error('bad-argument', `flowbits:${op} takes a group only as '${op},all,<group>'`, groupPiece!.at, group.length);
      return undefined;
    }
    const args: FlowbitsArgs = { op, bits, match: hasOr ? 'any' : 'all' };
    if (group !== undefined) args.group = group;
    return args;
  },
  plan(args, into) {
    into.rule.flowbits.push(flowbitsPlanOf(args));
  },
});

/**
 * The plan's flowbits operation. Groups (setx, `all|any,<group>`, reset of a group) are refused: the matcher keeps a
 * session's bits without their groups. A group after `set` only names the group the bits join, which nothing the
 * matcher runs reads, so it is dropped.
 */
function flowbitsPlanOf(args: FlowbitsArgs): FlowbitsPlan {
  if (args.op === 'setx' || (args.bits.length === 0 && args.group !== undefined)) {
    throw new OptionError(`flowbits:${args.op} with a group (${args.group ?? ''}) is not supported by the matcher`);
  }
  if (args.op === 'noalert' || args.op === 'reset') return { cmd: args.op, bits: [], any: false };
  return { cmd: args.op, bits: args.bits.slice(), any: args.match === 'any' };
}

export interface RpcArgs {
  application: number;
  /** undefined for `*`. */
  version?: number;
  procedure?: number;
}

export const rpc = defineKeyword<RpcArgs>({
  name: 'rpc',
  category: 'non-payload',
  value: 'required',
  summary: 'test the SunRPC application, version and procedure of a CALL',
  parse(value, report) {
    const parts = tokens(value);
    if (!noMoreThan(parts, 3, report, 'rpc')) return undefined;
    const app = parts[0];
    if (!app) {
      report.error('missing-argument', 'rpc needs an application number', 0, 1);
      return undefined;
    }
    const application = parseInteger(app.text, report, 'rpc application', 0, 0xffffffff, app.at);
    if (application === undefined) return undefined;
    const args: RpcArgs = { application };
    for (const [k, key] of [
      [1, 'version'],
      [2, 'procedure'],
    ] as const) {
      const p = parts[k];
      if (!p || p.text === '*') continue;
      const n = parseInteger(p.text, report, `rpc ${key}`, 0, 0xffffffff, p.at);
      if (n === undefined) return undefined;
      args[key] = n;
    }
    return args;
  },
});

/** IP protocol names from /etc/protocols (the ones Snort resolves with getprotobyname on a stock system). */
export const IP_PROTOCOL_NAMES: Readonly<Record<string, number>> = {
  ip: 0,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ggp: 3,
  ipencap: 4,
  st: 5,
  tcp: 6,
  egp: 8,
  igp: 9,
  pup: 12,
  udp: 17,
  hmp: 20,
  'xns-idp': 22,
  rdp: 27,
  'iso-tp4': 29,
  dccp: 33,
  xtp: 36,
  ddp: 37,
  'idpr-cmtp': 38,
  ipv6: 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  idrp: 45,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  skip: 57,
  'ipv6-icmp': 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  rspf: 73,
  vmtp: 81,
  eigrp: 88,
  ospf: 89,
  'ax.25': 93,
  ipip: 94,
  etherip: 97,
  encap: 98,
  pim: 103,
  ipcomp: 108,
  vrrp: 112,
  l2tp: 115,
  isis: 124,
  sctp: 132,
  fc: 133,
  'mobility-header': 135,
  udplite: 136,
  'mpls-in-ip': 137,
  manet: 138,
  hip: 139,
  shim6: 140,
  wesp: 141,
  rohc: 142,
};

export interface IpProtoArgs {
  op: '=' | '!' | '<' | '>';
  protocol: number;
}

export const ip_proto = defineKeyword<IpProtoArgs>({
  name: 'ip_proto',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the IP protocol number (or name)',
  parse(value, report) {
    const v = value ?? '';
    const m = /^\s*([!<>])?\s*(\S+)\s*$/.exec(v);
    if (!m) {
      report.error('bad-argument', "ip_proto must be '[!|<|>]<number or name>'", 0, v.length);
      return undefined;
    }
    const op = (m[1] ?? '=') as IpProtoArgs['op'];
    const word = m[2]!;
    const at = v.indexOf(word);
    let protocol: number | undefined;
    if (/^\d+$/.test(word)) protocol = parseInteger(word, report, 'ip_proto', 0, 255, at);
    else {
      protocol = IP_PROTOCOL_NAMES[word.toLowerCase()];
      if (protocol === undefined) {
        report.error('unknown-protocol', `'${word}' is not a protocol name from /etc/protocols`, at, word.length);
        return undefined;
      }
    }
    if (protocol === undefined) return undefined;
    // sp_ip_proto.c IpProtoRuleParseFunction accepts these (no packet has them): a warning, not an error.
    if ((op === '<' && protocol === 0) || (op === '>' && protocol === 255)) {
      report.warning('never-matches', `ip_proto:${op}${protocol} can never match`, 0, v.length);
    }
    return { op, protocol };
  },
  plan: header((a) => ({ t: 'ip_proto', test: { op: a.op, a: a.protocol } })),
});

/**
 * sp_ip_proto.c IpProtoDetectorFunction. Snort also sees the protocol of tunnel outer headers (6in4: ip_proto:41):
 * a match on any header passes, except that `!` must hold for all of them.
 */
export function ipProtoMatches(h: HeaderOf<'ip_proto'>, s: Subject): boolean {
  const p = s.packet;
  const ip = p.ip;
  if (ip === undefined) return false;
  if (numTestOk(h.test, ip.proto)) return h.test.op !== '!' || (p.outer ?? []).every((o) => numTestOk(h.test, o.proto));
  return h.test.op !== '!' && (p.outer ?? []).some((o) => numTestOk(h.test, o.proto));
}

export const sameip: KeywordSpec<true> = {
  ...flagKeyword('sameip', 'non-payload', 'match when the source and destination IP are the same'),
  plan: header(() => ({ t: 'sameip' })),
};

/** sp_ip_same_check.c IpSameCheck. */
export function sameipMatches(_h: HeaderOf<'sameip'>, s: Subject): boolean {
  const ip = s.packet.ip;
  return ip !== undefined && sameBytes(ip.src, ip.dst);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface StreamReassembleArgs {
  enable: boolean;
  direction: 'server' | 'client' | 'both';
  noalert: boolean;
  fastpath: boolean;
}

export const stream_reassemble = defineKeyword<StreamReassembleArgs>({
  name: 'stream_reassemble',
  category: 'non-payload',
  value: 'required',
  summary: 'enable or disable TCP reassembly for the matching session',
  parse(value, report) {
    const parts = tokens(value);
    if (parts.length < 2) {
      report.error('missing-argument', "stream_reassemble needs '<enable|disable>, <server|client|both>'", 0, Math.max(1, (value ?? '').length));
      return undefined;
    }
    if (!noMoreThan(parts, 4, report, 'stream_reassemble')) return undefined;
    const action = oneOf(parts[0]!, ['enable', 'disable'] as const, report, 'stream_reassemble action');
    const direction = oneOf(parts[1]!, ['server', 'client', 'both'] as const, report, 'stream_reassemble direction');
    if (!action || !direction) return undefined;
    const args: StreamReassembleArgs = { enable: action === 'enable', direction, noalert: false, fastpath: false };
    for (const p of parts.slice(2)) {
      const w = oneOf(p, ['noalert', 'fastpath'] as const, report, 'stream_reassemble option');
      if (!w) return undefined;
      args[w] = true;
    }
    return args;
  },
});

export interface StreamSizeArgs {
  direction: 'server' | 'client' | 'both' | 'either';
  op: '<' | '>' | '=' | '!=' | '<=' | '>=';
  size: number;
}

export const stream_size = defineKeyword<StreamSizeArgs>({
  name: 'stream_size',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the number of bytes seen in the TCP session (by sequence numbers)',
  parse(value, report) {
    const parts = tokens(value);
    if (parts.length !== 3) {
      report.error('bad-argument', "stream_size must be '<server|client|both|either>, <operator>, <number>'", 0, Math.max(1, (value ?? '').length));
      return undefined;
    }
    // snort_stream_tcp.c s5TcpStreamSizeInit compares the direction with strcasecmp.
    const dir = parts[0]!;
    const direction = oneOf(
      { text: dir.text.toLowerCase(), at: dir.at },
      ['server', 'client', 'both', 'either'] as const,
      report,
      'stream_size direction',
    );
    const op = oneOf(parts[1]!, ['<', '>', '=', '!=', '<=', '>='] as const, report, 'stream_size operator');
    if (!direction || !op) return undefined;
    // s5TcpStreamSizeInit: SnortStrtoul(toks[2], &endp, 0) into a uint32_t, refused only when no digit was read or
    // the number passes an unsigned long: `-1` is 0xffffffff, `0x10` is 16, `010` is 8, `5abc` is 5
    const size = strtoulUint32(parts[2]!.text);
    if (size === undefined) {
      report.error('bad-number', `stream_size: '${parts[2]!.text}' is not a number`, parts[2]!.at, Math.max(1, parts[2]!.text.length));
      return undefined;
    }
    return { direction, op, size };
  },
  plan: header((a) => ({ t: 'stream_size', side: a.direction, test: { op: a.op === '!=' ? '!' : a.op, a: a.size } })),
});

/**
 * C's strtoul(text, &end, 0) stored in a uint32_t: blanks, a sign, then hexadecimal after 0x, octal after 0, else
 * decimal, up to the first other character. Undefined when no digit was read or the number is past an unsigned long
 * (ERANGE); a minus sign negates modulo 2^64 (strtoul's rule), then the value is cut to 32 bits.
 */
export function strtoulUint32(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX](?=[0-9a-fA-F])|0)?([0-9a-fA-F]*)/.exec(text);
  if (!m) return undefined;
  const prefix = m[2] ?? '';
  const radix = prefix.length === 2 ? 16 : prefix === '0' ? 8 : 10;
  const digitOk = radix === 16 ? /[0-9a-fA-F]/ : radix === 8 ? /[0-7]/ : /[0-9]/;
  let digits = '';
  for (const ch of m[3] ?? '') {
    if (!digitOk.test(ch)) break;
    digits += ch;
  }
  if (digits === '' && prefix !== '0') return undefined;
  let v = digits === '' ? 0n : BigInt(radix === 16 ? `0x${digits}` : radix === 8 ? `0o${digits}` : digits);
  if (v > 0xffffffffffffffffn) return undefined;
  if (m[1] === '-') v = (0x10000000000000000n - v) % 0x10000000000000000n;
  return Number(v & 0xffffffffn);
}

/**
 * snort_stream_tcp.c s5TcpStreamSizeEval: the bytes each side has sent (by sequence numbers), on TCP packets of a
 * tracked session.
 */
export function streamSizeMatches(h: HeaderOf<'stream_size'>, s: Subject): boolean {
  const f = s.flow;
  if (f === undefined || s.packet.tcp === undefined) return false;
  // the packet ending the session comes after TcpSessionClear: no TCP session left to measure
  if (f.terminated && !s.rebuilt) return false;
  const c = f.client.streamSize;
  const sv = f.server.streamSize;
  switch (h.side) {
    case 'client':
      return numTestOk(h.test, c);
    case 'server':
      return numTestOk(h.test, sv);
    case 'both':
      return numTestOk(h.test, c) && numTestOk(h.test, sv);
    case 'either':
      return numTestOk(h.test, c) || numTestOk(h.test, sv);
  }
}

export type XbitsArgs =
  | { op: 'noalert' }
  | { op: 'set' | 'unset' | 'toggle' | 'isset' | 'isnotset'; name: string; track: 'ip_src' | 'ip_dst' | 'ip_pair'; expire: number };

const XBITS_OPS = ['set', 'unset', 'toggle', 'isset', 'isnotset'] as const;

/**
 * Suricata's xbits (detect-xbits.c DetectXbitParse), honeywall's keyword (Snort 2.9 has no host bits; the Suricata
 * reader writes it through, and lint warns in a Snort 2.9 file): `OP,NAME,track ip_src|ip_dst|ip_pair[,expire N]`
 * (N from 1, 30 by default), or `noalert`. Evaluated as flowbits are (match/xbits.ts).
 */
export const xbits = defineKeyword<XbitsArgs>({
  name: 'xbits',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: "set, clear or test named bits kept on a host or an address pair across flows, with an expiry (Suricata's; honeywall)",
  parse(value, report) {
    const parts = (value ?? '').split(',');
    let at = 0;
    const pieces = parts.map((p) => {
      const lead = p.length - p.trimStart().length;
      const piece = { text: p.trim(), at: at + lead };
      at += p.length + 1;
      return piece;
    });
    const bad = (p: { text: string; at: number }, msg: string): undefined => {
      report.error('bad-argument', msg, p.at, Math.max(1, p.text.length));
      return undefined;
    };
    const op = pieces[0]!;
    if (op.text === 'noalert') return pieces.length === 1 ? { op: 'noalert' } : bad(pieces[1]!, 'xbits:noalert takes nothing more');
    if (!(XBITS_OPS as readonly string[]).includes(op.text))
      return bad(op, `xbits needs set, unset, toggle, isset, isnotset or noalert, not '${op.text.slice(0, 32)}'`);
    const name = pieces[1];
    if (name === undefined || !FLOWBIT_NAME.test(name.text)) return bad(name ?? op, 'xbits needs a bit name (letters, digits, _ . -)');
    let track: 'ip_src' | 'ip_dst' | 'ip_pair' | undefined;
    let expire: number | undefined;
    for (const p of pieces.slice(2)) {
      const m = /^(track|expire)\s+(\S+)$/.exec(p.text);
      if (m === null) return bad(p, `xbits takes 'track ip_src|ip_dst|ip_pair' and 'expire N', not '${p.text.slice(0, 32)}'`);
      if (m[1] === 'track') {
        if (track !== undefined) return bad(p, 'xbits: track given twice');
        if (m[2] !== 'ip_src' && m[2] !== 'ip_dst' && m[2] !== 'ip_pair')
          return bad(p, `xbits tracks ip_src, ip_dst or ip_pair, not '${m[2]!.slice(0, 32)}'`);
        track = m[2];
      } else {
        if (expire !== undefined) return bad(p, 'xbits: expire given twice');
        // StringParseUint32, and 0 refused
        if (!/^\d{1,10}$/.test(m[2]!) || Number(m[2]) === 0 || Number(m[2]) > 0xffffffff)
          return bad(p, `xbits: expire needs 1 to 4294967295 seconds, not '${m[2]!.slice(0, 32)}'`);
        expire = Number(m[2]);
      }
    }
    if (track === undefined) return bad(op, 'xbits needs track ip_src, ip_dst or ip_pair');
    return { op: op.text as (typeof XBITS_OPS)[number], name: name.text, track, expire: expire ?? XBITS_EXPIRE_DEFAULT };
  },
  plan(args, into) {
    if (args.op === 'noalert') {
      into.rule.flowbits.push({ cmd: 'noalert', bits: [], any: false });
      return;
    }
    into.rule.flowbits.push({ cmd: args.op, bits: [xbitName(args.track, args.name)], any: false, track: args.track, expire: args.expire });
  },
});

export const nonPayloadKeywords: AnyKeywordSpec[] = [
  fragoffset,
  ttl,
  tos,
  id,
  ipopts,
  fragbits,
  dsize,
  flags,
  flow,
  flowbits,
  xbits,
  seq,
  ack,
  window,
  itype,
  icode,
  icmp_id,
  icmp_seq,
  rpc,
  ip_proto,
  sameip,
  stream_reassemble,
  stream_size,
];
