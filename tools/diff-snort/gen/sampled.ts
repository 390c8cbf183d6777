/**
 * Rules sampled from ET Open 2019 and the Snort community set (../shared/corpus/rules), each with traffic built from
 * the rule itself: its contents in order, with filler between them, in the buffer each names (URI, headers, cookie,
 * body, status, file data) or in the payload, on a port its header accepts, in a TCP session (segmented as generated)
 * or a UDP datagram. The rule's addresses are narrowed to the case's two (HOME_NET and EXTERNAL_NET = any kept as
 * meaning), its sid, msg and rev replaced; every other option is the rule's own.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { communityDir, etDir, ruleFilesIn } from '../corpus.js';
import type { AddressExpr, PortExpr, RuleNode } from '../../../src/ast.js';
import type { ContentArgs } from '../../../src/keywords/content.js';
import { parseRules } from '../../../src/parser/parse.js';
import type { Addr, Case, Dir, RuleSpec } from '../case.js';
import { exchangeArb, sessionArb, sessionFrames } from './tcp.js';

/** Keywords a sampled rule may use: those whose traffic can be built here and that honeywall claims to run exactly. */
const SAMPLED_KEYWORDS = new Set([
  'msg',
  'sid',
  'rev',
  'gid',
  'classtype',
  'priority',
  'reference',
  'metadata',
  'content',
  'uricontent',
  'nocase',
  'rawbytes',
  'depth',
  'offset',
  'distance',
  'within',
  'fast_pattern',
  'http_uri',
  'http_raw_uri',
  'http_header',
  'http_raw_header',
  'http_cookie',
  'http_raw_cookie',
  'http_method',
  'http_client_body',
  'http_stat_code',
  'http_stat_msg',
  'pcre',
  'byte_test',
  'byte_jump',
  'byte_extract',
  'isdataat',
  'dsize',
  'flags',
  'flow',
  'ttl',
  'tos',
  'id',
  'itype',
  'icode',
  'icmp_id',
  'icmp_seq',
  'ip_proto',
  'sameip',
  'urilen',
  'file_data',
  'pkt_data',
  'threshold',
  'detection_filter',
  'flowbits',
]);
const DROP = new Set(['msg', 'sid', 'rev', 'gid', 'reference', 'metadata']);

type Side = 'home' | 'ext' | 'any';

export interface SampledRule {
  source: string;
  proto: RuleSpec['proto'];
  src: Side;
  dst: Side;
  dir: '->' | '<>';
  sport: string;
  dport: string;
  /** The port traffic uses on the rule's destination side. */
  port: number;
  body: string;
  /** Contents to put in the traffic, per buffer, in rule order. */
  parts: { buffer: string; bytes: number[] }[];
  /** The rule looks at what the server sends (flow:to_client / from_server). */
  toClient: boolean;
}

const HOME_VARS = /^(HOME_NET|HTTP_SERVERS|SMTP_SERVERS|SQL_SERVERS|DNS_SERVERS|TELNET_SERVERS|SSH_SERVERS|FTP_SERVERS|SIP_SERVERS)$/;

function side(a: AddressExpr): Side | undefined {
  if (a.kind === 'any' && !a.negated) return 'any';
  if (a.kind === 'var' && a.name === 'EXTERNAL_NET' && !a.negated) return 'any'; // base.conf: EXTERNAL_NET any
  if (a.kind === 'var' && HOME_VARS.test(a.name)) return a.negated ? 'ext' : 'home';
  return undefined;
}

const PORT_VARS: Record<string, number> = {
  HTTP_PORTS: 80,
  FILE_DATA_PORTS: 80,
  SHELLCODE_PORTS: 4444,
  ORACLE_PORTS: 1521,
  SSH_PORTS: 22,
  FTP_PORTS: 21,
  SIP_PORTS: 5060,
};

/** A port the expression accepts (undefined when none is easy to name). */
function portOf(p: PortExpr, http: boolean): number | undefined {
  if (p.negated) return p.kind === 'any' ? undefined : 31337;
  switch (p.kind) {
    case 'any':
      return http ? 80 : 4444;
    case 'var':
      return PORT_VARS[p.name];
    case 'range':
      return p.lo === 0 ? Math.min(p.hi, 1024) : p.lo;
    case 'list':
      for (const i of p.items) {
        const x = portOf(i, http);
        if (x !== undefined) return x;
      }
      return undefined;
  }
}

let pool: SampledRule[] | undefined;

/** The sampled rule pool (loaded once; empty when the corpus is absent). */
export function sampledPool(): SampledRule[] {
  if (pool) return pool;
  pool = [];
  let files: string[] = [];
  try {
    files = [...ruleFilesIn(etDir), ...ruleFilesIn(communityDir)];
  } catch {
    return pool;
  }
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const parsed = parseRules(text, { file: f });
    for (const n of parsed.file.nodes) {
      if (n.kind !== 'rule' || n.disabled || n.invalid) continue;
      const r = sample(n, text, f);
      if (r) pool.push(r);
    }
  }
  return pool;
}

function sample(n: RuleNode, text: string, file: string): SampledRule | undefined {
  const h = n.header;
  if (h.action.value !== 'alert') return undefined;
  const src = side(h.src.value);
  const dst = side(h.dst.value);
  if (!src || !dst || (src === 'home' && dst === 'home')) return undefined;
  if (n.options.some((o) => !SAMPLED_KEYWORDS.has(o.keyword))) return undefined;
  if (n.options.some((o) => o.keyword === 'flowbits' && /^\s*(isset|isnotset)/.test(o.value ?? ''))) return undefined;
  const http = n.options.some((o) => /^http_|^uricontent$|^file_data$/.test(o.keyword));
  const flow = n.options.find((o) => o.keyword === 'flow')?.value ?? '';
  const toClient = /to_client|from_server/.test(flow);
  const port = portOf(toClient ? h.srcPort.value : h.dstPort.value, http);
  if (port === undefined) return undefined;
  const parts: SampledRule['parts'] = [];
  let sticky = 'pkt';
  for (const o of n.options) {
    if (o.keyword === 'file_data') sticky = 'file_data';
    if (o.keyword === 'pkt_data') sticky = 'pkt';
    if ((o.keyword === 'content' || o.keyword === 'uricontent') && o.args) {
      const c = o.args as ContentArgs;
      if (c.negated) continue;
      parts.push({ buffer: c.uricontent ? 'http_uri' : (c.mods.buffer ?? sticky), bytes: [...c.bytes] });
    }
  }
  const body = n.options
    .filter((o) => !DROP.has(o.keyword))
    .map((o) => {
      const t = text.slice(o.start, o.end).trim();
      return t.endsWith(';') ? t : `${t};`;
    })
    .join(' ');
  const proto = h.protocol.value;
  return {
    source: `${file.split('/').pop()}:${n.sid}`,
    proto,
    src,
    dst,
    dir: h.direction.value,
    sport: h.srcPort.text,
    dport: h.dstPort.text,
    port,
    body,
    parts,
    toClient,
  };
}

const enc = new TextEncoder();
const t = (s: string) => [...enc.encode(s)];

/** The message carrying the rule's contents: HTTP when a content names an HTTP buffer, else the contents in order. */
function messages(r: SampledRule, filler: number[]): { request: number[]; response: number[] } {
  const by = (b: string) => r.parts.filter((p) => p.buffer === b);
  const join = (ps: { bytes: number[] }[]) => ps.flatMap((p, i) => (i === 0 ? p.bytes : [...filler, ...p.bytes]));
  const isHttp = r.parts.some((p) => p.buffer !== 'pkt') || r.port === 80;
  if (!isHttp) {
    const data = join(r.parts);
    return r.toClient ? { request: t('hello\r\n'), response: data } : { request: data, response: t('ok\r\n') };
  }
  const method = by('http_method')[0]?.bytes ?? t('GET');
  const uri = join([...by('http_uri'), ...by('http_raw_uri')]);
  const headers = [...by('http_header'), ...by('http_raw_header')].flatMap((p) => [...t('X-S: '), ...p.bytes, 13, 10]);
  const cookies = [...by('http_cookie'), ...by('http_raw_cookie')].flatMap((p) => [...t('Cookie: '), ...p.bytes, 13, 10]);
  const body = join(by('http_client_body'));
  const pkt = r.toClient ? [] : join(by('pkt'));
  const uriBytes = uri.length && uri[0] === 0x2f ? uri : [0x2f, ...uri];
  const request = [
    ...method,
    0x20,
    ...uriBytes,
    ...t(' HTTP/1.1\r\nHost: a\r\n'),
    ...headers,
    ...cookies,
    ...(body.length ? t(`Content-Length: ${body.length}\r\n`) : []),
    13,
    10,
    ...body,
    ...pkt,
  ];
  const code = by('http_stat_code')[0]?.bytes ?? t('200');
  const msg = by('http_stat_msg')[0]?.bytes ?? t('OK');
  const fileData = join([...by('file_data'), ...(r.toClient ? by('pkt') : [])]);
  const response = [
    ...t('HTTP/1.1 '),
    ...code,
    0x20,
    ...msg,
    13,
    10,
    ...(r.toClient ? headers : []),
    ...t(`Content-Length: ${fileData.length}\r\n\r\n`),
    ...fileData,
  ];
  return { request, response };
}

export function sampledCase(r: SampledRule, filler: number[], cuts: number[], handshake: 'full' | 'none'): Case {
  const { request, response } = messages(r, filler);
  // the side the rule names as HOME_NET is the home address; a rule of any/EXTERNAL_NET both ways has the client outside
  const clientIsRuleSrc = !r.toClient;
  const clientSide = clientIsRuleSrc ? r.src : r.dst;
  const serverSide = clientIsRuleSrc ? r.dst : r.src;
  const clientHome = clientSide === 'home' || serverSide === 'ext';
  const addr = (s: Side, isClient: boolean): Addr => (s === 'any' ? 'both' : isClient ? 'client' : 'server');
  const rule: RuleSpec = {
    action: 'alert',
    proto: r.proto,
    src: addr(r.src, clientIsRuleSrc),
    sport: r.sport,
    dir: r.dir,
    dst: addr(r.dst, !clientIsRuleSrc),
    dport: r.dport,
    body: r.body,
  };
  const frames =
    r.proto === 'tcp'
      ? sessionFrames({
          handshake,
          gap: 1,
          close: 'fin',
          exchanges: [
            { dir: 'c2s' as Dir, bytes: request, cuts, modes: [], acked: true },
            { dir: 's2c' as Dir, bytes: response, cuts, modes: [], acked: true },
          ],
        })
      : r.proto === 'icmp'
        ? [{ kind: 'icmp' as const, dir: 'c2s' as Dir, type: 8, code: 0, payload: request, dt: 1 }]
        : [{ kind: 'udp' as const, dir: (r.toClient ? 's2c' : 'c2s') as Dir, payload: r.toClient ? response : request, dt: 1 }];
  return { area: 'sampled', clientHome, cport: 40000, sport: r.port, frames, rules: [rule] };
}

/** A sampled rule and its traffic; when the corpus is absent, no case (the caller leaves the area out). */
export function sampledCaseArb(): fc.Arbitrary<Case> | undefined {
  const p = sampledPool();
  if (p.length === 0) return undefined;
  void exchangeArb;
  void sessionArb;
  return fc
    .record({
      i: fc.integer({ min: 0, max: p.length - 1 }),
      filler: fc.constantFrom([], [], t('x'), t(' abc ')),
      cuts: fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 2 }),
      handshake: fc.constantFrom<'full' | 'none'>('full', 'full', 'full', 'none'),
    })
    .map(({ i, filler, cuts, handshake }) => sampledCase(p[i]!, filler, cuts, handshake));
}
