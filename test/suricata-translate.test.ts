/**
 * The Suricata reader (src/suricata): table tests of the translation to Snort 2.9 text (one row per mapping of
 * keywords.ts: input rule, expected rule or refusal), per-file detection, positions of refusals, and the mapped
 * rules run end to end on an HTTP exchange built here (every sticky buffer, startswith, endswith and bsize both
 * matching and not matching).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleSet, LoadError } from '../src/config/ruleset.js';
import { lintRuleSet } from '../src/lint/lint.js';
import { compileRuleSet } from '../src/match/compile.js';
import { Matcher } from '../src/match/engine.js';
import { replayCapture } from '../src/match/replay.js';
import { ethernet, tcpDatagram } from '../src/packet/build.js';
import { parseIp } from '../src/packet/bytes.js';
import { encodePcap } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import { detectDialect } from '../src/suricata/detect.js';
import { bsizeTests, translateSuricata } from '../src/suricata/translate.js';
import { repoRoot } from './helpers/corpus.js';

const HDR = 'alert tcp any any -> any any';
/** The options of the one rule `text` translates to (between the parentheses), or the refusal reasons. */
function opts(rule: string): string {
  const tr = translateSuricata(`${rule}\n`, 't.rules');
  if (tr.refusedRules.length > 0) return `REFUSED: ${tr.refusedRules[0]!.reason}`;
  return tr.text.slice(tr.text.indexOf('(') + 1, tr.text.lastIndexOf(')'));
}

describe('translation table', () => {
  const rows: { name: string; input: string; want: string | RegExp }[] = [
    {
      name: 'classic options pass through',
      input: `${HDR} (msg:"m"; content:"a"; nocase; sid:1; rev:2;)`,
      want: 'msg:"m"; content:"a"; nocase; sid:1; rev:2;',
    },
    {
      name: 'http.uri sticky',
      input: `${HDR} (http.uri; content:"/a"; content:"b"; distance:0; sid:1;)`,
      want: 'content:"/a"; http_uri; content:"b"; distance:0; http_uri; sid:1;',
    },
    { name: 'http.uri.raw', input: `${HDR} (http.uri.raw; content:"%2e"; sid:1;)`, want: 'content:"%2e"; http_raw_uri; sid:1;' },
    { name: 'http.header', input: `${HDR} (http.header; content:"X-A"; sid:1;)`, want: 'content:"X-A"; http_header; sid:1;' },
    { name: 'http.header.raw', input: `${HDR} (http.header.raw; content:"X-A"; sid:1;)`, want: 'content:"X-A"; http_raw_header; sid:1;' },
    { name: 'http.method', input: `${HDR} (http.method; content:"POST"; sid:1;)`, want: 'content:"POST"; http_method; sid:1;' },
    { name: 'http.cookie', input: `${HDR} (http.cookie; content:"id="; sid:1;)`, want: 'content:"id="; http_cookie; sid:1;' },
    { name: 'http.stat_code', input: `${HDR} (http.stat_code; content:"404"; sid:1;)`, want: 'content:"404"; http_stat_code; sid:1;' },
    { name: 'http.stat_msg', input: `${HDR} (http.stat_msg; content:"Not"; sid:1;)`, want: 'content:"Not"; http_stat_msg; sid:1;' },
    { name: 'http.request_body', input: `${HDR} (http.request_body; content:"a=b"; sid:1;)`, want: 'content:"a=b"; http_client_body; sid:1;' },
    { name: 'http.client_body', input: `${HDR} (http.client_body; content:"a=b"; sid:1;)`, want: 'content:"a=b"; http_client_body; sid:1;' },
    { name: 'http.response_body', input: `${HDR} (http.response_body; content:"MZ"; sid:1;)`, want: 'file_data; content:"MZ"; sid:1;' },
    {
      name: 'file.data then pkt_data',
      input: `${HDR} (file.data; content:"MZ"; pkt_data; content:"x"; sid:1;)`,
      want: 'file_data; content:"MZ"; pkt_data; content:"x"; sid:1;',
    },
    { name: 'Suricata 5 modifier form', input: `${HDR} (content:"/a"; http_uri; nocase; sid:1;)`, want: 'content:"/a"; nocase; http_uri; sid:1;' },
    {
      name: 'http_server_body modifier switches the cursor for its content',
      input: `${HDR} (content:"MZ"; http_server_body; content:"x"; sid:1;)`,
      want: 'file_data; content:"MZ"; pkt_data; content:"x"; sid:1;',
    },
    {
      name: 'startswith',
      input: `${HDR} (http.uri; content:"/adm"; startswith; sid:1;)`,
      want: 'content:"/adm"; http_uri; depth:4; offset:0; sid:1;',
    },
    { name: 'startswith with hex', input: `${HDR} (content:"|4d 5a|P"; startswith; sid:1;)`, want: 'content:"|4d 5a|P"; depth:3; offset:0; sid:1;' },
    { name: 'startswith with depth refused', input: `${HDR} (content:"a"; depth:4; startswith; sid:1;)`, want: /REFUSED: startswith with depth/ },
    {
      name: 'endswith',
      input: `${HDR} (http.uri; content:".php"; endswith; sid:1;)`,
      want: 'content:".php"; http_uri; isdataat:!1,relative; sid:1;',
    },
    {
      name: 'bsize exact after content',
      input: `${HDR} (http.uri; content:"/a"; bsize:2; sid:1;)`,
      want: 'content:"/a"; http_uri; isdataat:1; isdataat:!2; sid:1;',
    },
    {
      name: 'bsize on http.method',
      input: `${HDR} (http.method; content:"GET"; bsize:3; sid:1;)`,
      want: 'content:"GET"; http_method; isdataat:2; isdataat:!3; sid:1;',
    },
    { name: 'bsize before content', input: `${HDR} (http.uri; bsize:<10; content:"/"; sid:1;)`, want: 'content:"/"; http_uri; isdataat:!9; sid:1;' },
    { name: 'bsize without content refused', input: `${HDR} (http.uri; bsize:10; sid:1;)`, want: /REFUSED: bsize: no content/ },
    { name: 'pcre in a sticky buffer gets its flag', input: `${HDR} (http.uri; pcre:"/a$/i"; sid:1;)`, want: 'pcre:"/a$/iU"; sid:1;' },
    { name: 'pcre Q flag is file data', input: `${HDR} (pcre:"/MZ/Q"; sid:1;)`, want: 'file_data; pcre:"/MZ/"; sid:1;' },
    { name: 'pcre V flag refused', input: `${HDR} (pcre:"/curl/V"; sid:1;)`, want: /REFUSED: pcre: pcre flag V/ },
    {
      name: 'byte_test in an HTTP buffer refused',
      input: `${HDR} (http.uri; byte_test:1,>,2,0; sid:1;)`,
      want: /REFUSED: byte_test in the http_uri sticky buffer/,
    },
    {
      name: 'byte_jump with a byte count from a variable refused',
      input: `${HDR} (content:"|00|"; byte_extract:1,4,len,relative; byte_jump:len,0,relative; sid:1;)`,
      want: /REFUSED: byte_jump: a byte count read from a variable \(len\)/,
    },
    {
      name: 'byte_test offset past 65535 refused',
      input: `${HDR} (byte_test:1,=,65,214748364; sid:1;)`,
      want: /REFUSED: byte_test: offset 214748364 is beyond/,
    },
    {
      name: 'byte_test with a numeric count and offset kept',
      input: `${HDR} (byte_test:1,=,65,65535; sid:1;)`,
      want: 'byte_test:1,=,65,65535; sid:1;',
    },
    {
      name: 'isdataat relative after a content in the buffer',
      input: `${HDR} (http.uri; content:"a"; isdataat:2,relative; sid:1;)`,
      want: 'content:"a"; http_uri; isdataat:2,relative; sid:1;',
    },
    { name: 'noalert', input: `${HDR} (flowbits:set,a; noalert; sid:1;)`, want: 'flowbits:set,a; flowbits:noalert; sid:1;' },
    { name: 'flowbits OR', input: `${HDR} (flowbits:isset,a|b; sid:1;)`, want: 'flowbits:isset,a|b; sid:1;' },
    { name: 'dsize <=', input: `${HDR} (dsize:<=10; sid:1;)`, want: 'dsize:<11; sid:1;' },
    { name: 'dsize >=', input: `${HDR} (dsize:>=10; sid:1;)`, want: 'dsize:>9; sid:1;' },
    {
      name: 'fast_pattern on http_method left to the engine',
      input: `${HDR} (http.method; content:"GET"; fast_pattern; sid:1;)`,
      want: 'content:"GET"; http_method; sid:1;',
    },
    { name: 'xbits written through', input: `${HDR} (xbits:set,a,track ip_src; sid:1;)`, want: 'xbits:set,a,track ip_src; sid:1;' },
    { name: 'flowint refused', input: `${HDR} (flowint:c,+,1; sid:1;)`, want: /REFUSED: flowint: / },
    { name: 'dataset refused', input: `${HDR} (content:"a"; dataset:isset,s,type string; sid:1;)`, want: /REFUSED: dataset: / },
    { name: 'lua refused', input: `${HDR} (lua:x.lua; sid:1;)`, want: /REFUSED: lua: / },
    { name: 'dns.query', input: `${HDR} (dns.query; content:"x"; nocase; sid:1;)`, want: 'dns_query; content:"x"; nocase; sid:1;' },
    { name: 'dns_query (legacy name)', input: `${HDR} (dns_query; content:"x"; sid:1;)`, want: 'dns_query; content:"x"; sid:1;' },
    {
      name: 'dns.query startswith, endswith, bsize',
      input: `${HDR} (dns.query; content:"www."; startswith; content:".com"; endswith; bsize:<64; sid:1;)`,
      want: 'dns_query; content:"www."; depth:4; offset:0; content:".com"; isdataat:!1,relative; isdataat:!63; sid:1;',
    },
    {
      name: 'tls.sni, then the packet again',
      input: `${HDR} (tls.sni; content:"evil"; pcre:"/^x/"; pkt_data; content:"y"; sid:1;)`,
      want: 'tls_sni; content:"evil"; pcre:"/^x/"; pkt_data; content:"y"; sid:1;',
    },
    { name: 'tls_sni (legacy name)', input: `${HDR} (tls_sni; content:"x"; sid:1;)`, want: 'tls_sni; content:"x"; sid:1;' },
    {
      name: 'byte_test in tls.sni reads its cursor',
      input: `${HDR} (tls.sni; byte_test:1,=,0x65,0; sid:1;)`,
      want: 'tls_sni; byte_test:1,=,0x65,0; sid:1;',
    },
    { name: 'dns.opcode refused', input: `${HDR} (dns.opcode:0; sid:1;)`, want: /REFUSED: dns.opcode: the engine has no DNS opcode buffer/ },
    { name: 'tls.cert_subject refused', input: `${HDR} (tls.cert_subject; content:"x"; sid:1;)`, want: /REFUSED: tls.cert_subject: / },
    { name: 'ja3.hash refused', input: `${HDR} (ja3.hash; content:"x"; sid:1;)`, want: /REFUSED: ja3.hash: / },
    { name: 'app-layer-event refused', input: `${HDR} (app-layer-event:http.x; sid:1;)`, want: /REFUSED: app-layer-event: / },
    {
      name: 'an unknown dotted keyword refused',
      input: `${HDR} (quic.sni; content:"x"; sid:1;)`,
      want: /REFUSED: quic.sni: 'quic.sni' has no mapping/,
    },
    {
      name: 'threshold by_flow refused',
      input: `${HDR} (threshold:type limit, track by_flow, count 1, seconds 60; sid:1;)`,
      want: /REFUSED: threshold: track by_flow/,
    },
  ];
  for (const r of rows)
    it(r.name, () => {
      const got = opts(r.input);
      if (typeof r.want === 'string') expect(got).toBe(r.want);
      else expect(got).toMatch(r.want);
    });

  it('app-layer protocols: http is tcp on $HTTP_PORTS on the server side; tcp-pkt adds flow:no_stream; dns is refused', () => {
    expect(translateSuricata('alert http $HOME_NET any -> $EXTERNAL_NET any (flow:to_server; sid:1;)\n', 'f').text).toBe(
      'alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (flow:to_server; sid:1;)\n',
    );
    expect(translateSuricata('alert http $EXTERNAL_NET any -> $HOME_NET any (flow:established,to_client; sid:1;)\n', 'f').text).toBe(
      'alert tcp $EXTERNAL_NET $HTTP_PORTS -> $HOME_NET any (flow:established,to_client; sid:1;)\n',
    );
    expect(translateSuricata('alert http any any -> any 8080 (sid:1;)\n', 'f').text).toBe('alert tcp any any -> any 8080 (sid:1;)\n');
    expect(translateSuricata('alert tcp-pkt any any -> any 23 (flow:to_server; sid:1;)\n', 'f').text).toBe(
      'alert tcp any any -> any 23 (flow:to_server,no_stream; sid:1;)\n',
    );
    expect(translateSuricata('alert dns any any -> any any (sid:1;)\n', 'f').refusedRules[0]!.reason).toMatch(/UDP and TCP/);
    // dns with its buffer: an ip rule (the buffer exists only where DNS was parsed: port 53, UDP and TCP)
    expect(translateSuricata('alert dns $HOME_NET any -> any 53 (dns.query; content:"x"; sid:1;)\n', 'f').text).toBe(
      'alert ip $HOME_NET any -> any any (dns_query; content:"x"; sid:1;)\n',
    );
    expect(translateSuricata('alert dns any any -> any 5353 (dns.query; content:"x"; sid:1;)\n', 'f').refusedRules[0]!.reason).toMatch(
      /dns rule on port 5353: the engine parses DNS on port 53/,
    );
    // tls with tls.sni keeps its ports (the ClientHello is found on any port); without it, port 443
    expect(translateSuricata('alert tls any any -> any any (tls.sni; content:"x"; sid:1;)\n', 'f').text).toBe(
      'alert tcp any any -> any any (tls_sni; content:"x"; sid:1;)\n',
    );
    expect(translateSuricata('alert tls any any -> any any (content:"x"; sid:1;)\n', 'f').text).toBe(
      'alert tcp any any -> any 443 (content:"x"; sid:1;)\n',
    );
    expect(translateSuricata('rejectboth tcp any any -> any any (sid:1;)\n', 'f').refusedRules[0]!.reason).toMatch(/rejectboth/);
  });

  it('bsize forms are exact isdataat pairs', () => {
    expect(bsizeTests('5')).toEqual(['isdataat:4', 'isdataat:!5']);
    expect(bsizeTests('0')).toEqual(['isdataat:!0']);
    expect(bsizeTests('<5')).toEqual(['isdataat:!4']);
    expect(bsizeTests('>5')).toEqual(['isdataat:5']);
    expect(bsizeTests('<=5')).toEqual(['isdataat:!5']);
    expect(bsizeTests('>=5')).toEqual(['isdataat:4']);
    expect(bsizeTests('2<>6')).toEqual(['isdataat:2', 'isdataat:!5']);
    expect(bsizeTests('3<>4')).toEqual([]);
    expect(bsizeTests('x')).toBeUndefined();
  });

  it('comments, blank lines and disabled rules: copied, the disabled rule translated behind its #', () => {
    const t = translateSuricata('# a comment\n\n# alert http any any -> any any (http.uri; content:"x"; sid:5;)\n', 'f').text;
    expect(t).toBe('# a comment\n\n# alert tcp any any -> any $HTTP_PORTS (content:"x"; http_uri; sid:5;)\n');
  });
});

describe('detection per file', () => {
  it('a plain Snort file is Snort without reading its rules; Suricata signs decide; a mixed file names both lines', () => {
    expect(detectDialect('alert tcp any any -> any any (content:"a"; sid:1;)\n').dialect).toBe('snort');
    const s = detectDialect('alert tcp any any -> any any (content:"a"; sid:1;)\nalert tcp any any -> any any (http.uri; content:"a"; sid:2;)\n');
    expect(s).toMatchObject({ dialect: 'suricata', evidence: { line: 2, what: "Suricata keyword 'http.uri'" } });
    expect(detectDialect('alert http any any -> any any (sid:1;)\n')).toMatchObject({ dialect: 'suricata', evidence: { line: 1, column: 7 } });
    const m = detectDialect('alert http any any -> any any (sid:1;)\nalert tcp any any -> any any (content:"a"; resp:rst_all; sid:2;)\n');
    expect(m).toMatchObject({ dialect: 'mixed', suricata: { line: 1 }, snort: { line: 2, what: "Snort 2.9 keyword 'resp'" } });
    expect(detectDialect('sdrop tcp any any -> any any (sid:1;)\nalert tcp any any -> any any (noalert; sid:2;)\n').dialect).toBe('mixed');
  });

  it('auto refuses a mixed file with both lines; suricata reads a Suricata file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-suri-'));
    const mixed = join(dir, 'mixed.rules');
    writeFileSync(mixed, 'alert http any any -> any any (sid:1;)\nsdrop tcp any any -> any any (sid:2;)\n');
    expect(() => loadRuleSet({ paths: [mixed], inputDialect: 'auto' })).toThrow(LoadError);
    expect(() => loadRuleSet({ paths: [mixed], inputDialect: 'auto' })).toThrow(
      /line 1:7 has Suricata protocol 'http', line 2:1 has Snort 2.9 action 'sdrop'/,
    );
  });
});

describe('refusals: where and why, in lint and compile', () => {
  it('lint warns at the refused keyword (Suricata accepts the rule); compile refuses it with the reason at the same place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-suri-'));
    const f = join(dir, 'r.rules');
    writeFileSync(
      f,
      'alert http any any -> any any (msg:"ok"; http.uri; content:"/a"; sid:1; rev:1;)\n' +
        'alert dns any any -> any any (msg:"dns"; dns.opcode:0; \\\n  content:"evil"; sid:2; rev:1;)\n' +
        'alert tcp any any -> any any (msg:"two"; content:"a"; flowint:counter,+,1000000; lua:foo.lua; sid:3; rev:1;)\n',
    );
    const lint = lintRuleSet({ paths: [f], inputDialect: 'suricata' });
    expect(lint.errors).toBe(0);
    const w = lint.diagnostics.filter((d) => d.code === 'suricata-unmapped').map((d) => `${d.line}:${d.column} ${d.message.split(':')[0]}`);
    expect(w).toEqual(['2:7 dns without a DNS buffer (dns.query)', '2:42 dns.opcode', '4:55 flowint', '4:82 lua']);
    const c = compileRuleSet(loadRuleSet({ paths: [f], inputDialect: 'suricata' }));
    expect(c.plan.rules.map((r) => r.sid)).toEqual([1]);
    expect(c.failures.map((x) => [x.sid, x.line, x.column, x.code])).toEqual([
      [2, 2, 7, 'suricata-unmapped'],
      [3, 4, 55, 'suricata-unmapped'],
    ]);
    expect(c.failures[1]!.reason).toMatch(/flowint: .*; lua: lua runs a script/);
  });
});

describe('mapped rules on an HTTP exchange', () => {
  it('each sticky buffer, startswith, endswith and bsize match what they say and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-suri-'));
    const B = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const c = parseIp('10.0.0.5')!;
    const s = parseIp('192.0.2.80')!;
    const req = B('GET /evil.php HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\nCookie: id=7\r\n\r\n');
    const res = B('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nMZab');
    const t = [
      tcpDatagram(c, s, 40000, 80, 100, 0, 0x02, B('')),
      tcpDatagram(s, c, 80, 40000, 500, 101, 0x12, B('')),
      tcpDatagram(c, s, 40000, 80, 101, 501, 0x10, B('')),
      tcpDatagram(c, s, 40000, 80, 101, 501, 0x18, req),
      tcpDatagram(s, c, 80, 40000, 501, 101 + req.length, 0x18, res),
      tcpDatagram(c, s, 40000, 80, 101 + req.length, 501 + res.length, 0x11, B('')),
      tcpDatagram(s, c, 80, 40000, 501 + res.length, 102 + req.length, 0x11, B('')),
      tcpDatagram(c, s, 40000, 80, 102 + req.length, 502 + res.length, 0x10, B('')),
    ];
    const pcap = join(dir, 'http.pcap');
    writeFileSync(
      pcap,
      encodePcap(
        t.map((d, i) => ({ tsSec: 1_700_000_000, tsUsec: i, data: ethernet(d) })),
        { linktype: LinkType.ETHERNET },
      ),
    );
    const R = (sid: number, body: string) => `alert http any any -> any any (msg:"${sid}"; ${body} sid:${sid}; rev:1;)`;
    const rules: [number, string, boolean][] = [
      [1, 'flow:to_server; http.method; content:"GET"; bsize:3;', true],
      [2, 'flow:to_server; http.method; content:"GE"; bsize:2;', false],
      [3, 'flow:to_server; http.uri; content:"/evil"; startswith;', true],
      [4, 'flow:to_server; http.uri; content:"evil"; startswith;', false],
      [5, 'flow:to_server; http.uri; content:".php"; endswith;', true],
      [6, 'flow:to_server; http.uri; content:"/evil"; endswith;', false],
      [7, 'flow:to_client; file.data; content:"MZ"; startswith;', true],
      [8, 'flow:to_client; file.data; content:"ab"; startswith;', false],
      [9, 'flow:to_client; http.stat_code; content:"200";', true],
      [10, 'flow:to_server; http.uri; pcre:"/\\.php$/";', true],
      [11, 'flow:to_server; http.header; content:"User-Agent|3a| y";', true],
      [12, 'flow:to_server; http.uri; content:"/"; bsize:>20;', false],
      [13, 'flow:to_server; http.uri; content:"/"; bsize:<10;', true],
      [14, 'flow:to_server; content:"/evil.php"; http_uri;', true],
      [15, 'flow:to_server; http.uri; content:"/evil.php"; bsize:9;', true],
      [16, 'flow:to_server; http.cookie; content:"id=7"; bsize:4;', true],
      [17, 'flow:to_server; http.header; content:"Host|3a| x"; http.uri; content:"/evil"; endswith;', false],
      [18, 'flow:to_server; http.uri; content:"/evil.php"; bsize:8;', false],
    ];
    // one rule at a time: the request matches more rules than Snort's event queue logs per packet (log 5)
    const got = new Set<number>();
    for (const [sid, body] of rules) {
      const f = join(dir, `s${sid}.rules`);
      writeFileSync(f, `${R(sid, body)}\n`);
      const compiled = compileRuleSet(loadRuleSet({ paths: [f], inputDialect: 'suricata' }));
      expect(compiled.failures).toEqual([]);
      const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none' });
      await replayCapture(pcap, matcher, { checksumMode: 'none' }, (e) => void got.add(e.rule.sid));
    }
    const want = rules.filter((r) => r[2]).map((r) => r[0]);
    expect([...got].sort((a, b) => a - b)).toEqual(want);
  });
});

describe('hostile text and the compile worker', () => {
  it('rule text in a refusal is escaped (a terminal control sequence is shown as \\x1b)', () => {
    const tr = translateSuricata('alert tcp any any -> any any (http.uri; content:"a"; bsize:\x1b[2J; sid:1;)\n', 'f');
    expect(tr.refusedRules[0]!.reason).toBe('bsize:\\x1b[2J is not a length test honeywall reads (N, <N, >N, <=N, >=N, N<>M)');
  });

  it('a Suricata file compiled in the worker thread gives the failures and rules of one thread (dist/, as the CLI runs it)', async () => {
    const dist = join(repoRoot, 'dist');
    const { compilePacked } = (await import(join(dist, 'match/compile-parallel.js'))) as typeof import('../src/match/compile-parallel.js');
    const rs = (await import(join(dist, 'config/ruleset.js'))) as typeof import('../src/config/ruleset.js');
    const dir = mkdtempSync(join(tmpdir(), 'hw-suri-'));
    const files = [0, 1, 2].map((k) => {
      const f = join(dir, `s${k}.rules`);
      writeFileSync(
        f,
        `alert http any any -> any any (msg:"a"; http.uri; content:"/x${k}"; endswith; sid:${10 + k};)\n` +
          `alert tcp any any -> any any (msg:"b"; content:"y"; \\\n  flowint:q,+,1; sid:${20 + k};)\n`,
      );
      return f;
    });
    const one = await compilePacked(rs.loadRuleSet({ paths: files, inputDialect: 'suricata', deferRuleFiles: true }), { threads: 1 });
    const two = await compilePacked(rs.loadRuleSet({ paths: files, inputDialect: 'suricata', deferRuleFiles: true }), { threads: 2 });
    expect(two.threads).toBe(2);
    expect(two.workerError).toBeUndefined();
    expect(two.report.failures).toEqual(one.report.failures);
    expect(one.report.failures.map((f) => [f.sid, f.line, f.column, f.code])).toEqual([
      [20, 3, 3, 'suricata-unmapped'],
      [21, 3, 3, 'suricata-unmapped'],
      [22, 3, 3, 'suricata-unmapped'],
    ]);
    expect(two.rules.count).toBe(3);
  });
});

describe('convert of Suricata rules', () => {
  it('translated rules are converted; refused ones are written as comments with the reason and listed (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-suri-'));
    const f = join(dir, 'in.rules');
    writeFileSync(
      f,
      'alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"uri"; flow:to_server; http.uri; content:"/a"; startswith; sid:1; rev:1;)\n' +
        'alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"sni"; tls.cert_subject; content:"evil"; sid:2; rev:1;)\n',
    );
    const { main } = await import('../src/cli/main.js');
    let out = '';
    const w = process.stdout.write;
    process.stdout.write = ((x: string) => ((out += x), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'honeywall', 'convert', f, '--input-dialect', 'suricata', '--out', join(dir, 'out'), '--report', 'json']);
    } finally {
      process.stdout.write = w;
    }
    expect(code).toBe(1);
    const rep = JSON.parse(out);
    expect(rep.untranslated).toHaveLength(1);
    expect(rep.untranslated[0]).toMatchObject({ line: 2, column: 58, sid: 2 });
    const text = readFileSync(join(dir, 'out', 'in.rules'), 'utf8');
    expect(text).toMatch(
      /^alert tcp \$HOME_NET any -> \$EXTERNAL_NET \$HTTP_PORTS \(msg:"uri"; flow:to_server; content:"\/a"; http_uri; depth:2; offset:0; sid:1; rev:1;\)$/m,
    );
    expect(text).toMatch(
      /^# honeywall: not translated from Suricata \(.*in\.rules:2: tls\.cert_subject: the engine has no TLS certificate subject buffer/m,
    );
    expect(text).toMatch(/^# alert tls \$HOME_NET any/m);
  });
});
