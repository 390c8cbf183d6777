/**
 * Per-keyword tables: a rule, a packet, whether it fires. Each row runs through the compiled matcher and the
 * reference evaluator (they must agree with each other and with the table).
 */
import { describe, expect, it } from 'vitest';
import { Matcher } from '../src/match/engine.js';
import { ReferenceMatcher } from './helpers/reference-matcher.js';
import { compileText, itemOf, tcpPacket } from './helpers/match.js';
import type { PacketSpec } from '../src/packet/build.js';
import type { HttpBuffers } from '../src/http/session.js';

function fires(rule: string, payload: string | Uint8Array, extra: Partial<PacketSpec> = {}, http?: HttpBuffers): boolean {
  const r = compileText(
    `alert tcp any any -> any any (msg:"t"; ${rule} sid:1;)\n`.replace(
      'alert tcp',
      extra.udp ? 'alert udp' : extra.icmp ? 'alert icmp' : 'alert tcp',
    ),
  );
  if (r.failures.length) throw new Error(r.failures.map((f) => f.reason).join('; '));
  const p = tcpPacket(payload, extra);
  const a = new Matcher(r.plan, undefined, { checksumMode: 'none' }).inspect(itemOf(p, {}, http)).length > 0;
  const b = new ReferenceMatcher(r.plan).inspect(itemOf(p, {}, http)).length > 0;
  expect(a, 'matcher and reference disagree').toBe(b);
  return a;
}

function rejects(rule: string): string {
  const r = compileText(`alert tcp any any -> any any (msg:"t"; ${rule} sid:1;)\n`);
  expect(r.failures.length).toBe(1);
  return r.failures[0]!.reason;
}

const TABLE: [string, string, boolean][] = [
  ['content:"abc";', 'xxabcxx', true],
  ['content:"abc";', 'xxabxcx', false],
  ['content:"ABC"; nocase;', 'xxabcxx', true],
  ['content:"ABC";', 'xxabcxx', false],
  ['content:!"abc";', 'xxabxcx', true],
  ['content:!"abc";', 'xxabcxx', false],
  ['content:"abc"; offset:2; depth:3;', 'xxabcxx', true],
  ['content:"abc"; offset:3;', 'xxabcxx', false],
  ['content:"abc"; depth:4;', 'xxabcxx', false],
  ['content:"ab"; content:"cd"; distance:0;', 'abcd', true],
  ['content:"ab"; content:"cd"; distance:1;', 'abcd', false],
  ['content:"ab"; content:"cd"; within:2;', 'abcd', true],
  ['content:"ab"; content:"cd"; within:2;', 'abxcd', false],
  // relative retry: the first "ab" is followed by no "cd" within 2, the second is
  ['content:"ab"; content:"cd"; within:2;', 'abxxabcd', true],
  // negative distance reaches back before the previous match
  ['content:"cd"; content:"ab"; distance:-4; within:2;', 'abcd', true],
  ['content:"a"; content:"b"; distance:-5;', 'ab', false],
  ['pcre:"/a.c/";', 'xxabcxx', true],
  ['pcre:"/^abc/";', 'xxabcxx', false],
  ['content:"xx"; pcre:"/^abc/R";', 'xxabcxx', true],
  ['pcre:"/A.C/i";', 'xxabcxx', true],
  ['pcre:!"/zzz/";', 'xxabcxx', true],
  ['pcre:"/a\\r/";', 'a\r', true],
  ['pcre:"/a.b/";', 'a\rb', true],
  ['pcre:"/a.b/";', 'a\nb', false],
  ['pcre:"/a.b/s";', 'a\nb', true],
  ['pcre:"/ab$/";', 'ab\n', true],
  ['pcre:"/ab$/E";', 'ab\n', false],
  // PCRE constructs JavaScript lacks run as PCRE runs them (PCRE2): recursion, conditionals, atomic groups
  ['pcre:"/^(\\((?1)*\\)|x)$/";', '((x)(x))', true],
  ['pcre:"/^(\\((?1)*\\)|x)$/";', '((x)(x)', false],
  ['pcre:"/^(\\((?1)*\\))$/";', '(()())', true],
  ['pcre:"/^(a)?(?(1)b|c)$/";', 'ab', true],
  ['pcre:"/^(a)?(?(1)b|c)$/";', 'ac', false],
  ['pcre:"/(?>a+)b/";', 'aaab', true],
  // a search after a failed continuation goes on from the last offset plus the match's end (sp_pcre.c
  // PcreAdjustRelativeOffsets; Snort 2.9.20 itself raises the first row's alert and not the second's)
  ['pcre:"/a/"; byte_test:1,=,90,0,relative;', 'xaxaZ', true],
  ['pcre:"/a/"; byte_test:1,=,90,0,relative;', 'xaaaZ', false],
  // an anchored pattern is searched once (PcreCheckAnchored), an unanchored one again
  ['pcre:"/^\\w*?a/"; byte_test:1,=,90,0,relative;', 'xaYaZ', false],
  ['pcre:"/\\w*?a/"; byte_test:1,=,90,0,relative;', 'xaYaZ', true],
  ['byte_test:1,>,0x30,0;', '1', true],
  ['byte_test:1,=,49,0;', '1', true],
  ['byte_test:2,=,12,0,string,dec;', '12x', true],
  ['byte_test:2,&,1,0;', '\x00\x01', true],
  ['byte_test:2,!&,1,0;', '\x00\x01', false],
  ['byte_test:2,=,256,0,little;', '\x00\x01', true],
  ['content:"a"; byte_test:1,=,98,0,relative;', 'ab', true],
  ['byte_jump:1,0; content:"y"; within:1;', '\x02xyz', false],
  ['byte_jump:1,0; content:"z"; within:1;', '\x02xyz', true],
  ['byte_jump:1,0; content:"y"; within:1;', '\x01xyz', true],
  ['byte_jump:1,0,post_offset 1; content:"z"; within:1;', '\x01xyz', true],
  ['byte_jump:1,0,from_beginning; content:"y"; within:1;', '\x02xyz', true],
  ['byte_extract:1,0,len; content:"b"; distance:len; within:1;', '\x02aab', true],
  ['byte_extract:1,0,len; content:"b"; distance:len; within:1;', '\x01aab', false],
  ['isdataat:3;', 'abcd', true],
  ['isdataat:4;', 'abcd', false],
  ['content:"ab"; isdataat:1,relative;', 'abcd', true],
  ['content:"ab"; isdataat:2,relative;', 'abcd', false],
  ['content:"ab"; isdataat:!2,relative;', 'abcd', true],
  ['content:"ab"; isdataat:!1,relative;', 'abcd', false],
  ['dsize:4;', 'abcd', true],
  ['dsize:<4;', 'abcd', false],
  ['dsize:>3;', 'abcd', true],
  ['dsize:4<>10;', 'abcd', true],
  ['base64_decode; base64_data; content:"hello";', 'aGVsbG8=', true],
  ['base64_decode:relative; base64_data; content:"hello";', 'aGVsbG8=', true],
];

describe('payload keywords', () => {
  for (const [rule, payload, expected] of TABLE) {
    it(`${rule} on ${JSON.stringify(payload)} -> ${expected}`, () => {
      expect(fires(rule, payload)).toBe(expected);
    });
  }
});

describe('header keywords', () => {
  const rows: [string, Partial<PacketSpec>, boolean][] = [
    ['ttl:64;', {}, true],
    ['ttl:<10;', {}, false],
    ['ttl:60-70;', {}, true],
    ['tos:0;', {}, true],
    ['id:7;', { ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 7 } }, true],
    ['flags:PA;', {}, true],
    ['flags:S;', {}, false],
    ['flags:A+;', {}, true],
    ['flags:S*;', {}, false],
    ['flags:!S;', {}, true],
    ['flags:S,CE;', { tcp: { sport: 1, dport: 2, flags: 0xc2 } }, true],
    ['seq:1000;', {}, true],
    ['ack:2000;', {}, true],
    ['ack:2001;', {}, false],
    ['window:512;', {}, true],
    ['window:!512;', {}, false],
    ['fragbits:D;', { ip: { src: '10.0.0.1', dst: '10.0.0.2', df: true } }, true],
    ['fragbits:M;', { ip: { src: '10.0.0.1', dst: '10.0.0.2', df: true } }, false],
    ['sameip;', { ip: { src: '10.0.0.1', dst: '10.0.0.1' } }, true],
    ['sameip;', {}, false],
    ['ipopts:rr;', { ip: { src: '10.0.0.1', dst: '10.0.0.2', options: Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0) } }, true],
    ['ipopts:lsrr;', { ip: { src: '10.0.0.1', dst: '10.0.0.2', options: Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0) } }, false],
    // a TCP packet without a session still has Snort's session block (spp_session.c): from its client
    ['flow:to_server;', {}, true],
    ['flow:to_client;', {}, false],
    ['flow:stateless;', {}, true],
  ];
  for (const [rule, extra, expected] of rows) {
    it(`${rule} ${JSON.stringify(extra)} -> ${expected}`, () => expect(fires(rule, 'x', extra)).toBe(expected));
  }
  it('ip_proto, in an ip rule: alone it is evaluated as the IP header is decoded (decode.c), with others in detection', () => {
    const firesIp = (rule: string, extra: Partial<PacketSpec>, kind: 'packet' | 'stream' = 'packet'): boolean => {
      const r = compileText(`alert ip any any -> any any (msg:"t"; ${rule} sid:1;)\n`);
      if (r.failures.length) throw new Error(r.failures.map((f) => f.reason).join('; '));
      const item = itemOf(tcpPacket('x', extra), { kind });
      const a = new Matcher(r.plan, undefined, { checksumMode: 'none' }).inspect(item).length > 0;
      expect(a, 'matcher and reference disagree').toBe(new ReferenceMatcher(r.plan).inspect(item).length > 0);
      return a;
    };
    expect(firesIp('ip_proto:6;', {})).toBe(true);
    expect(firesIp('ip_proto:!6;', {})).toBe(false);
    expect(firesIp('ip_proto:17;', { udp: { sport: 1, dport: 2 } })).toBe(true);
    expect(firesIp('ip_proto:6; ttl:64;', {})).toBe(true);
    // a rebuilt stream segment is never decoded: the decode-time rule does not see it, the other one does
    expect(firesIp('ip_proto:6;', {}, 'stream')).toBe(false);
    expect(firesIp('ip_proto:6; content:"x";', {}, 'stream')).toBe(true);
  });
  it('itype / icode / icmp_id / icmp_seq', () => {
    const icmp = { icmp: { type: 8, code: 0, id: 5, seq: 9 } };
    expect(fires('itype:8;', '', icmp)).toBe(true);
    expect(fires('itype:7<>9;', '', icmp)).toBe(true);
    expect(fires('itype:8<>10;', '', icmp)).toBe(false); // exclusive
    expect(fires('icode:0;', '', icmp)).toBe(true);
    expect(fires('icmp_id:5;', '', icmp)).toBe(true);
    expect(fires('icmp_seq:9;', '', icmp)).toBe(true);
    expect(fires('icmp_seq:8;', '', icmp)).toBe(false);
  });
});

describe('http buffers and urilen', () => {
  const http: HttpBuffers = {
    kind: 'request',
    method: Buffer.from('GET'),
    uri: Buffer.from('/a/b.php'),
    rawUri: Buffer.from('/a/%62.php'),
    header: Buffer.from('Host: x\r\nUser-Agent: curl/7\r\n'),
    rawHeader: Buffer.from('Host: x\r\nUser-Agent: curl/7\r\n'),
    cookie: Buffer.from('id=1'),
    complete: true,
  };
  it.each([
    ['content:"b.php"; http_uri;', true],
    ['content:"%62"; http_uri;', false],
    ['content:"%62"; http_raw_uri;', true],
    ['content:"GET"; http_method;', true],
    ['content:"curl/"; http_header;', true],
    ['content:"id=1"; http_cookie;', true],
    ['uricontent:"/a/";', true],
    // sp_urilen_check.c: the raw URI (10 bytes here) unless `norm` (the normalized one is 8)
    ['urilen:8;', false],
    ['urilen:10;', true],
    ['urilen:8,norm;', true],
    ['urilen:10,raw;', true],
    ['urilen:1<>5;', false],
    ['content:"b.php"; http_uri; content:"curl"; http_header;', true],
    ['pcre:"/\\.php$/U";', true],
  ] as [string, boolean][])('%s -> %s', (rule, expected) => {
    expect(fires(rule, 'GET /a/%62.php HTTP/1.1\r\n', {}, http)).toBe(expected);
  });
});

describe('load-time checks (rules Snort 2.9 rejects)', () => {
  it.each([
    ['dsize:>=10;', /dsize/],
    ['threshold:type limit, track by_rule, count 1, seconds 60;', /unknown track/],
    ['detection_filter:track by_src, count 1, seconds 60, unique_on src_port;', /detection_filter/],
    ['tag:session;', /tag/],
    ['flags:S; tag:host,2,packets,src; tag:session,5,packets;', /tag/],
    ['byte_test:1,=,65,214748364;', /offset/],
    ['byte_extract:1,4,rpkt_len,relative; byte_jump:rpkt_len,0,relative;', /rpkt_len/],
    ['flowbits:frob,x;', /flowbits/],
    ['content:"abc"; within:2;', /within/],
  ] as [string, RegExp][])('%s', (rule, reason) => {
    expect(rejects(rule)).toMatch(reason);
  });
});

describe('flowbits, thresholds and action order', () => {
  it('threshold type limit logs the first N per window', () => {
    const r = compileText('alert tcp any any -> any any (content:"a"; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)\n');
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    const n = [0, 1, 2, 3].map(() => m.inspect(itemOf(tcpPacket('a'))).length).reduce((x, y) => x + y);
    expect(n).toBe(2);
  });
  it('threshold type threshold logs every Nth', () => {
    const r = compileText('alert tcp any any -> any any (content:"a"; threshold:type threshold, track by_dst, count 2, seconds 60; sid:1;)\n');
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    expect([0, 1, 2, 3].map(() => m.inspect(itemOf(tcpPacket('a'))).length)).toEqual([0, 1, 0, 1]);
  });
  it('detection_filter logs after the count is exceeded', () => {
    const r = compileText('alert tcp any any -> any any (content:"a"; detection_filter:track by_src, count 2, seconds 60; sid:1;)\n');
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    expect([0, 1, 2, 3].map(() => m.inspect(itemOf(tcpPacket('a'))).length)).toEqual([0, 0, 1, 1]);
  });
  it('a matching pass rule suppresses alert and drop rules on the packet (Snort 2.9.20 order)', () => {
    const r = compileText(
      'alert tcp any any -> any any (content:"a"; sid:1;)\ndrop tcp any any -> any any (content:"a"; sid:2;)\npass tcp any any -> any any (content:"ab"; sid:3;)\n',
    );
    const m = new Matcher(r.plan, undefined, { checksumMode: 'none' });
    expect(m.inspect(itemOf(tcpPacket('ab'))).map((e) => e.rule.sid)).toEqual([]);
    expect(m.inspect(itemOf(tcpPacket('ax'))).map((e) => e.rule.sid)).toEqual([2, 1]);
  });
  it('sdrop is not logged; flowbits:noalert is not logged', () => {
    const r = compileText(
      'sdrop tcp any any -> any any (content:"a"; sid:1;)\nalert tcp any any -> any any (content:"a"; flowbits:noalert; sid:2;)\n',
    );
    expect(new Matcher(r.plan).inspect(itemOf(tcpPacket('a')))).toEqual([]);
  });
});
