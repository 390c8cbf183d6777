/**
 * Non-payload rule options (Snort 2.9 manual, "Non-Payload Detection Rule Options"): IP header tests (fragoffset,
 * ttl, tos, id, ipopts, fragbits, ip_proto, sameip), TCP (flags, seq, ack, window), ICMP (itype, icode, icmp_id,
 * icmp_seq), dsize, rpc, and the stream ones (flow, flowbits, stream_reassemble, stream_size), with the load-time
 * checks of the matching sp_*.c parsers.
 */
import { defineKeyword, flagKeyword, type AnyKeywordSpec, type KeywordSpec, type ValueReporter } from './spec.js';
import { parseInteger } from './values.js';
import { noMoreThan, oneOf, tokens, type Piece } from './snort-args.js';

/** A comparison against one number or a range (both ends inclusive unless `exclusive`). */
export interface NumberTest {
  op: '=' | '!' | '<' | '>' | '<=' | '>=' | 'range';
  value: number;
  /** Upper end for 'range'. */
  max?: number;
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
    if (a > b) {
      report.error('bad-range', `${what} range ${a}<>${b} is empty (min > max)`, 0, value.length);
      return undefined;
    }
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
): KeywordSpec<NumberTest> {
  return defineKeyword<NumberTest>({
    name,
    category: 'non-payload',
    value: 'required',
    repeats: true,
    summary,
    parse: (value, report) => numberTest(value ?? '', report, name, ops, min, max, allowRange),
  });
}

export const fragoffset = testKeyword('fragoffset', 'test the IP fragment offset', ['=', '!', '<', '>'], 0, 8191, false);
export const tos = testKeyword('tos', 'test the IP TOS field', ['=', '!'], 0, 255, false);
export const id = testKeyword('id', 'test the IP ID field', ['='], 0, 65535, false);
export const window = testKeyword('window', 'test the TCP window size', ['=', '!'], 0, 65535, false);
export const icmp_id = testKeyword('icmp_id', 'test the ICMP ID', ['='], 0, 65535, false);
export const icmp_seq = testKeyword('icmp_seq', 'test the ICMP sequence number', ['='], 0, 65535, false);
export const seq = testKeyword('seq', 'test the TCP sequence number', ['='], 0, 0xffffffff, false);
export const ack = testKeyword('ack', 'test the TCP acknowledgement number', ['='], 0, 0xffffffff, false);
/** dsize: N, <N, >N, N<>M (Snort 2.9 rejects <=, >= and !). */
export const dsize = testKeyword('dsize', 'test the payload size', ['=', '<', '>'], 0, 65535, true);

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
});

/** itype/icode: `N`, `<N`, `>N`, `min<>max` (exclusive range; min may be -1), with the manual's bounds. */
function icmpTest(name: 'itype' | 'icode', summary: string): KeywordSpec<NumberTest> {
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
        if (a < -1 || a > 254 || b < 1 || b > 256 || b - a <= 1) {
          report.error('bad-range', `${name} range ${a}<>${b} is invalid (-1 <= min <= 254, 1 <= max <= 256, max - min > 1)`, 0, v.length);
          return undefined;
        }
        return { op: 'range', value: a, max: b };
      }
      const t = numberTest(v, report, name, ['=', '<', '>'], 0, 256, false);
      if (!t) return undefined;
      const bad = (t.op === '=' && t.value > 255) || (t.op === '<' && t.value < 1) || (t.op === '>' && t.value > 254);
      if (bad) {
        report.error('number-out-of-range', `${name} ${v.trim()} can never match (valid: N 0..255, <N 1..256, >N 0..254)`, 0, v.length);
        return undefined;
      }
      return t;
    },
  });
}

export const itype = icmpTest('itype', 'test the ICMP type');
export const icode = icmpTest('icode', 'test the ICMP code');

export const IP_OPTIONS = ['rr', 'eol', 'nop', 'ts', 'sec', 'esec', 'lsrr', 'lsrre', 'ssrr', 'satid', 'any'] as const;
export type IpOption = (typeof IP_OPTIONS)[number];

export const ipopts = defineKeyword<IpOption>({
  name: 'ipopts',
  category: 'non-payload',
  value: 'required',
  summary: 'test for an IP option',
  parse(value, report) {
    const v = (value ?? '').trim();
    return oneOf({ text: v, at: (value ?? '').indexOf(v) }, IP_OPTIONS, report, 'ipopts');
  },
});

/** fragbits and flags: the bits to test, how (`+` plus others, `*` any, `!` not), and flags' ignore mask. */
export interface BitsTest {
  /** Bit letters as given, normalised (`1` -> `C`, `2` -> `E` for flags). */
  bits: string;
  mode: 'exact' | 'plus' | 'any' | 'not';
  /** flags only: bits to ignore (after the comma). */
  mask?: string;
}

function bitsTest(value: string, report: ValueReporter, what: string, letters: string, maskAllowed: boolean): BitsTest | undefined {
  const comma = value.indexOf(',');
  const head = comma === -1 ? value : value.slice(0, comma);
  let bits = '';
  let mode: BitsTest['mode'] = 'exact';
  for (let k = 0; k < head.length; k++) {
    let ch = head[k]!;
    if (ch === ' ' || ch === '\t') continue;
    if (ch === '+' || ch === '*' || ch === '!') {
      const m = ch === '+' ? 'plus' : ch === '*' ? 'any' : 'not';
      if (mode !== 'exact' && mode !== m) {
        report.error('bad-modifier', `${what} takes one modifier (+, * or !)`, k, 1);
        return undefined;
      }
      mode = m;
      continue;
    }
    if (maskAllowed && ch === '1') ch = 'C';
    if (maskAllowed && ch === '2') ch = 'E';
    if (!letters.includes(ch)) {
      report.error('bad-flag', `'${head[k]}' is not a ${what} bit (${letters.split('').join(' ')})`, k, 1);
      return undefined;
    }
    if (!bits.includes(ch)) bits += ch;
  }
  if (bits === '') {
    report.error('missing-value', `${what} names no bits`, 0, value.length);
    return undefined;
  }
  if (bits.includes('0') && bits.length > 1) {
    report.error('bad-flag', `${what}: '0' (no flags) cannot be combined with other flags`, 0, head.length);
    return undefined;
  }
  const out: BitsTest = { bits, mode };
  if (comma !== -1) {
    if (!maskAllowed) {
      report.error('bad-argument', `${what} takes no mask`, comma, value.length - comma);
      return undefined;
    }
    let mask = '';
    const tail = value.slice(comma + 1);
    for (let k = 0; k < tail.length; k++) {
      let ch = tail[k]!;
      if (ch === ' ' || ch === '\t') continue;
      if (ch === '1') ch = 'C';
      if (ch === '2') ch = 'E';
      if (!'FSRPAUCE'.includes(ch)) {
        report.error('bad-flag', `'${tail[k]}' is not a TCP flag for the mask (F S R P A U C E)`, comma + 1 + k, 1);
        return undefined;
      }
      if (!mask.includes(ch)) mask += ch;
    }
    out.mask = mask;
  }
  return out;
}

export const fragbits = defineKeyword<BitsTest>({
  name: 'fragbits',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the IP fragmentation bits (M D R, with + * !)',
  parse: (value, report) => bitsTest(value ?? '', report, 'fragbits', 'MDR', false),
});

export const flags = defineKeyword<BitsTest>({
  name: 'flags',
  repeats: true,
  category: 'non-payload',
  value: 'required',
  summary: 'test the TCP flags (F S R P A U C E 0, with + * !, optional ignore mask)',
  parse: (value, report) => bitsTest(value ?? '', report, 'flags', 'FSRPAUCE0', true),
});

export interface FlowArgs {
  state?: 'established' | 'not_established' | 'stateless';
  direction?: 'to_client' | 'to_server';
  /** The direction as written (from_server is to_client, from_client is to_server). */
  directionText?: 'to_client' | 'to_server' | 'from_client' | 'from_server';
  stream?: 'no_stream' | 'only_stream';
  frag?: 'no_frag' | 'only_frag';
}

const FLOW_WORDS = ['established', 'not_established', 'stateless', 'to_client', 'to_server', 'from_client', 'from_server', 'no_stream', 'only_stream', 'no_frag', 'only_frag'] as const;

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
      const w = oneOf(p, FLOW_WORDS, report, 'flow option');
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
    return args;
  },
});

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

const FLOWBIT_NAME = /^[A-Za-z0-9_.\-]+$/;
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
    const op = oneOf(opPiece, FLOWBITS_OPS, report, 'flowbits operation');
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
    // `any,group` / `all,group`
    if ((b === 'any' || b === 'all') && group !== undefined) {
      if (b === 'any' && op !== 'isset' && op !== 'isnotset') {
        report.error('bad-argument', `flowbits:${op} takes 'all,<group>', not 'any'`, bitsPiece.at, b.length);
        return undefined;
      }
      if (op === 'set' || op === 'setx') {
        report.error('bad-argument', `flowbits:${op} needs bit names, not '${b}'`, bitsPiece.at, b.length);
        return undefined;
      }
      return { op, bits: [], group, match: b };
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
});

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
    for (const [k, key] of [[1, 'version'], [2, 'procedure']] as const) {
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
  ip: 0, hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12, udp: 17, hmp: 20,
  'xns-idp': 22, rdp: 27, 'iso-tp4': 29, dccp: 33, xtp: 36, ddp: 37, 'idpr-cmtp': 38, ipv6: 41, 'ipv6-route': 43,
  'ipv6-frag': 44, idrp: 45, rsvp: 46, gre: 47, esp: 50, ah: 51, skip: 57, 'ipv6-icmp': 58, 'ipv6-nonxt': 59,
  'ipv6-opts': 60, rspf: 73, vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103,
  ipcomp: 108, vrrp: 112, l2tp: 115, isis: 124, sctp: 132, fc: 133, 'mobility-header': 135, udplite: 136,
  'mpls-in-ip': 137, manet: 138, hip: 139, shim6: 140, wesp: 141, rohc: 142,
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
    if ((op === '<' && protocol === 0) || (op === '>' && protocol === 255)) {
      report.error('number-out-of-range', `ip_proto:${op}${protocol} can never match`, 0, v.length);
      return undefined;
    }
    return { op, protocol };
  },
});

export const sameip = flagKeyword('sameip', 'non-payload', 'match when the source and destination IP are the same');

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
    const direction = oneOf(parts[0]!, ['server', 'client', 'both', 'either'] as const, report, 'stream_size direction');
    const op = oneOf(parts[1]!, ['<', '>', '=', '!=', '<=', '>='] as const, report, 'stream_size operator');
    if (!direction || !op) return undefined;
    const size = parseInteger(parts[2]!.text, report, 'stream_size', 0, 0xffffffff, parts[2]!.at);
    if (size === undefined) return undefined;
    return { direction, op, size };
  },
});

export const nonPayloadKeywords: AnyKeywordSpec[] = [
  fragoffset, ttl, tos, id, ipopts, fragbits, dsize, flags, flow, flowbits, seq, ack, window, itype, icode, icmp_id,
  icmp_seq, rpc, ip_proto, sameip, stream_reassemble, stream_size,
];
