import { describe, expect, it } from 'vitest';
import type { RuleNode } from '../src/ast.js';
import type { ContentArgs } from '../src/keywords/content.js';
import { parseRules } from '../src/parser/parse.js';
import { printRules } from '../src/parser/print.js';

function one(text: string) {
  const r = parseRules(text, { file: 't.rules' });
  const rules = r.file.nodes.filter((n): n is RuleNode => n.kind === 'rule');
  return { rule: rules[0], rules, diags: r.diagnostics, errors: r.diagnostics.filter((d) => d.severity === 'error'), file: r.file };
}

const codes = (text: string) => one(text).errors.map((d) => d.code);

describe('rule header', () => {
  it('reads every action, protocol, address and port form', () => {
    for (const action of ['alert', 'log', 'pass', 'drop', 'sdrop', 'reject', 'activate', 'dynamic']) {
      const extra = action === 'activate' ? ' activates:1;' : action === 'dynamic' ? ' activated_by:1; count:5;' : '';
      const { rule, errors } = one(`${action} tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"x";${extra} sid:1;)`);
      expect(errors).toEqual([]);
      expect(rule!.header.action.value).toBe(action);
    }
    const { rule, errors } = one(
      'alert udp ![10.0.0.0/8,[192.168.1.1,$DNS_SERVERS]] !5938,!1433 <> [2001:db8::/32,fe80:0000:0000:0000:0204:61ff:fe9d:f156] [1:1024,!80,$HTTP_PORTS] (sid:2;)',
    );
    expect(errors).toEqual([]);
    expect(rule!.header.src.value).toMatchObject({ kind: 'list', negated: true });
    expect(rule!.header.srcPort.value).toMatchObject({
      kind: 'list',
      items: [
        { kind: 'range', lo: 5938, negated: true },
        { kind: 'range', lo: 1433, negated: true },
      ],
    });
    expect(rule!.header.direction.value).toBe('<>');
    expect(rule!.header.dst.value).toMatchObject({
      kind: 'list',
      items: [
        { kind: 'cidr', family: 6, prefix: 32 },
        { kind: 'cidr', family: 6, prefix: 128 },
      ],
    });
    expect(rule!.header.dstPort.value).toMatchObject({
      kind: 'list',
      items: [
        { lo: 1, hi: 1024 },
        { lo: 80, negated: true },
        { kind: 'var', name: 'HTTP_PORTS' },
      ],
    });
  });

  it('reads open-ended port ranges and tabs', () => {
    const { rule, errors } = one('alert\ttcp\tany\t1024:\t->\tany\t:1023\t(sid:3;)');
    expect(errors).toEqual([]);
    expect(rule!.header.srcPort.value).toMatchObject({ lo: 1024, hi: 65535 });
    expect(rule!.header.dstPort.value).toMatchObject({ lo: 0, hi: 1023 });
  });

  it('rejects what Snort rejects, at the right column', () => {
    expect(codes('alert tcp any any => any any (sid:1;)')).toEqual(['bad-direction']);
    expect(codes('alert xyz any any -> any any (sid:1;)')).toEqual(['unknown-protocol']);
    expect(codes('alert tcp 10.0.0.300 any -> any any (sid:1;)')).toEqual(['bad-address']);
    expect(codes('alert tcp any 70000 -> any any (sid:1;)')).toEqual(['bad-port']);
    expect(codes('alert tcp any 90:80 -> any any (sid:1;)')).toEqual(['bad-port']);
    expect(codes('alert tcp [1.2.3.4 any -> any any (sid:1;)')).toEqual(['bad-header']);
    expect(codes('alert tcp any any -> any (sid:1;)')).toEqual(['bad-header']);
    expect(codes('alert tcp any any -> any any (sid:1;')).toEqual(['unterminated-options']);
    const e = one('alert tcp any any -> any 99999 (sid:1;)').errors[0]!;
    expect([e.line, e.column]).toEqual([1, 26]);
  });

  it('gives a repeated header (read once, then reused) its own offsets every time', () => {
    const h = 'alert tcp $HOME_NET any -> $EXTERNAL_NET [80,8080] ';
    const text = `${h}(sid:1;)\n  ${h}(sid:2;)\n# ${h}(sid:3;)\n${h}\\\n  (sid:4;)\n${h}(sid:5;\nalert tcp any any -> any 99999 (sid:6;)\nalert tcp any any -> any 99999 (sid:7;)\n`;
    const { file, errors } = one(text);
    expect(errors.map((d) => [d.code, d.line, d.column])).toEqual([
      ['unterminated-options', 6, 52],
      ['bad-port', 7, 26],
      ['bad-port', 8, 26],
    ]);
    const rules = file.nodes.filter((n): n is RuleNode => n.kind === 'rule');
    expect(rules.map((r) => r.sid)).toEqual([1, 2, 3, 4]);
    for (const r of rules) {
      const fields = [r.header.action, r.header.protocol, r.header.src, r.header.srcPort, r.header.direction, r.header.dst, r.header.dstPort];
      expect(fields.map((f) => text.slice(f.start, f.end))).toEqual(['alert', 'tcp', '$HOME_NET', 'any', '->', '$EXTERNAL_NET', '[80,8080]']);
      expect(fields.map((f) => f.text)).toEqual(['alert', 'tcp', '$HOME_NET', 'any', '->', '$EXTERNAL_NET', '[80,8080]']);
      expect(r.header.dstPort.value).toMatchObject({ kind: 'list', items: [{ lo: 80 }, { lo: 8080 }] });
    }
    expect(rules[0]!.header.src).not.toBe(rules[1]!.header.src);
  });
});

describe('options', () => {
  it('decodes content with hex, escapes and negation, and attaches modifiers', () => {
    const { rule, errors } = one(
      'alert tcp any any -> any any (msg:"m"; content:!"a|0D 0a|\\"b\\;c"; nocase; offset:2; depth:20; content:"GET"; http_method; content:"x"; distance:0; within:10; fast_pattern; sid:9; rev:2;)',
    );
    expect(errors).toEqual([]);
    const [c1, c2, c3] = rule!.options.filter((o) => o.keyword === 'content').map((o) => o.args as ContentArgs);
    expect(c1!.negated).toBe(true);
    expect([...c1!.bytes]).toEqual([0x61, 0x0d, 0x0a, 0x22, 0x62, 0x3b, 0x63]);
    expect(c1!.mods).toMatchObject({ nocase: true, offset: 2, depth: 20 });
    expect(c2!.mods.buffer).toBe('http_method');
    expect(c3!.mods).toMatchObject({ distance: 0, within: 10, fastPattern: { only: false } });
    expect([rule!.sid, rule!.rev, rule!.msg, rule!.gid]).toEqual([9, 2, 'm', 1]);
  });

  it('splits options on unescaped semicolons only (pcre may hold quotes)', () => {
    const { rule } = one('alert tcp any any -> any any (pcre:"/a\\;b"c/i"; sid:1;)');
    expect(rule!.options.map((o) => o.keyword)).toEqual(['pcre', 'sid']);
    expect(rule!.options[0]!.value).toBe('"/a\\;b"c/i"');
  });

  it('reports one error per bad option and keeps parsing the rest', () => {
    const cases: [string, string][] = [
      ['content:"|4|"; sid:1;', 'bad-hex'],
      ['content:"|zz|"; sid:1;', 'bad-hex'],
      ['content:"ab"; depth:1; sid:1;', 'depth-shorter-than-content'],
      ['content:"a"; content:"abc"; within:2; sid:1;', 'within-shorter-than-content'],
      ['nocase; content:"a"; sid:1;', 'modifier-without-content'],
      ['content:"a"; bogus_option; sid:1;', 'unknown-keyword'],
      ['content:"a";', 'missing-sid'],
      ['content:"a"; sid:1; sid:2;', 'duplicate-option'],
      ['content:""; sid:1;', 'empty-content'],
      ['content:"ab"; replace:"abc"; sid:1;', 'replace-length'],
      ['content:"ab"; http_uri; replace:"xy"; sid:1;', 'replace-http'],
      ['content:"a"; fast_pattern; content:"b"; fast_pattern; sid:1;', 'duplicate-fast-pattern'],
      ['content:"a"; http_cookie; fast_pattern; sid:1;', 'fast-pattern-buffer'],
      ['content:"a"; depth:4; distance:1; sid:1;', 'mixed-relative-modifiers'],
      ['content:"a"; sid:abc;', 'bad-number'],
      ['content "a"; sid:1;', 'bad-option'],
      // each plugin's "multiple declaration check" (sp_ip_tos_check.c, sp_ip_fragbits.c, sp_dsize_check.c, ...)
      ['tos:1; tos:2; sid:1;', 'duplicate-option'],
      ['fragbits:M; fragbits:D; sid:1;', 'duplicate-option'],
      ['dsize:1; dsize:>2; sid:1;', 'duplicate-option'],
      ['id:1; id:2; sid:1;', 'duplicate-option'],
      ['sameip; sameip; sid:1;', 'duplicate-option'],
      // more of them, each checked with `snort -T` (sp_ttl_check.c, sp_tcp_*_check.c, sp_urilen_check.c,
      // sp_base64_decode.c; resp and react share one slot)
      ['ttl:1; ttl:2; sid:1;', 'duplicate-option'],
      ['flags:S; flags:A; sid:1;', 'duplicate-option'],
      ['seq:1; seq:2; sid:1;', 'duplicate-option'],
      ['ack:1; ack:2; sid:1;', 'duplicate-option'],
      ['window:1; window:2; sid:1;', 'duplicate-option'],
      ['content:"a"; http_uri; urilen:1; urilen:2; sid:1;', 'duplicate-option'],
      ['base64_decode; base64_decode; sid:1;', 'duplicate-option'],
      ['resp:rst_all; react:block; sid:1;', 'duplicate-option'],
      // options Snort refuses in a rule of another protocol
      ['itype:8; sid:1;', 'wrong-protocol'],
      ['icmp_seq:1; sid:1;', 'wrong-protocol'],
      ['ip_proto:6; sid:1;', 'wrong-protocol'],
    ];
    for (const [opts, code] of cases) expect(codes(`alert tcp any any -> any any (${opts})`), opts).toEqual([code]);
    const byProtocol: [string, string, string[]][] = [
      ['icmp', 'itype:8; itype:0; sid:1;', ['duplicate-option']],
      ['icmp', 'icode:0; icode:1; sid:1;', ['duplicate-option']],
      ['udp', 'flags:S; sid:1;', ['wrong-protocol']],
      ['ip', 'window:1; sid:1;', ['wrong-protocol']],
      ['ip', 'icode:1; sid:1;', ['wrong-protocol']],
      ['udp', 'react:block; sid:1;', ['wrong-protocol']],
      ['icmp', 'rpc:100000,*,*; sid:1;', ['wrong-protocol']],
      ['icmp', 'flow:established; sid:1;', ['wrong-protocol']],
      ['icmp', 'flow:no_frag; sid:1;', []],
      ['ip', 'ip_proto:1; ip_proto:2; fragoffset:1; fragoffset:2; sid:1;', []],
      ['ip', 'flow:to_server; stream_size:client,<,5; sid:1;', []],
    ];
    for (const [proto, opts, want] of byProtocol) expect(codes(`alert ${proto} any any -> any any (${opts})`), `${proto} ${opts}`).toEqual(want);
  });

  it('accepts what Snort accepts (corpus-proven quirks)', () => {
    for (const opts of [
      'content:"Accept|3 a20|x"; sid:1;', // blanks inside a hex byte
      'content:"a"; offset:0; fast_pattern:only; sid:1;', // offset:0 equals the default
      'content:"a"; distance:0; sid:1;', // relative first content: measured from the buffer start
      'msg:"no trailing semicolon"; sid:1',
    ]) {
      expect(codes(`alert tcp any any -> any any (${opts})`), opts).toEqual([]);
    }
  });
});

describe('file structure', () => {
  it('keeps comments and blank lines, marks disabled rules, joins continued lines', () => {
    const text = [
      '# a comment',
      '',
      '# alert tcp any any -> any any (msg:"off"; sid:1;)',
      '#alert on everything: prose, not a rule',
      'alert tcp any any -> any any (msg:"on"; \\',
      '   content:"x"; \\',
      '# a comment inside a continuation is skipped by Snort',
      '   sid:2;)',
      'var HOME_NET 10.0.0.0/8',
      'include $RULE_PATH/x.rules',
      '',
    ].join('\n');
    const { rules, file, errors } = one(text);
    expect(errors).toEqual([]);
    expect(file.nodes.map((n) => n.kind)).toEqual(['comment', 'blank', 'rule', 'comment', 'rule', 'directive', 'directive']);
    expect(rules.map((r) => [r.sid, r.disabled])).toEqual([
      [1, true],
      [2, false],
    ]);
    const content = rules[1]!.options.find((o) => o.keyword === 'content')!;
    expect(text.slice(content.start, content.end)).toBe('content:"x";');
    expect(printRules(file)).toBe(text);
  });

  it('an unknown first word is one error and the line is kept', () => {
    const text = 'alert tcp any any -> any any (sid:1;)\ngarbage here\r\nalert tcp any any -> any any (sid:2;)\n';
    const r = parseRules(text, { file: 'x.rules' });
    expect(r.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['unknown-directive', 2, 1]]);
    expect(r.file.nodes.filter((n) => n.kind === 'rule')).toHaveLength(2);
    expect(printRules(r.file)).toBe(text);
  });

  it('diagnostics carry file, line, column, severity, code and sid', () => {
    const r = parseRules('\n\nalert tcp any any -> any any (content:"|4|"; sid:77;)\n', { file: 'f.rules' });
    expect(r.diagnostics).toEqual([expect.objectContaining({ file: 'f.rules', line: 3, column: 41, severity: 'error', code: 'bad-hex', sid: 77 })]);
  });
});

describe('rule-level checks Snort makes at load time', () => {
  it('once-per-rule options, byte_math variables, protected_content length, activate/dynamic', () => {
    const c = (t: string) => one(t).errors.map((d) => d.code);
    expect(c('alert tcp any any -> any any (content:"a"; tag:session,10,packets; tag:host,10,packets,src; sid:1;)')).toEqual(['duplicate-option']);
    expect(
      c(
        'alert tcp any any -> any any (content:"a"; detection_filter:track by_src,count 2,seconds 5; detection_filter:track by_dst,count 2,seconds 5; sid:1;)',
      ),
    ).toEqual(['duplicate-option']);
    expect(c('alert tcp any any -> any any (content:"a"; byte_math:bytes 2,offset 0,oper +,rvalue 1,result r1; byte_test:1,>,r1,0; sid:1;)')).toEqual(
      [],
    );
    expect(c('alert tcp any any -> any any (content:"a"; byte_test:1,>,nope,0; sid:1;)')).toEqual(['unknown-variable']);
    expect(c('activate tcp any any -> any any (content:"a"; sid:1;)')).toEqual(['activate-without-activates']);
    expect(c('activate tcp any any -> any any (content:"a"; activates:1; sid:1;)')).toEqual([]);
    expect(c('dynamic tcp any any -> any any (activated_by:1; sid:2;)')).toEqual(['dynamic-without-activated-by']);
    expect(c('dynamic tcp any any -> any any (activated_by:1; count:50; sid:2;)')).toEqual([]);
  });
  it('one flow per rule, threshold or detection_filter, base64_data after base64_decode (as the compiler checks)', () => {
    const c = (t: string) => one(t).errors.map((d) => d.code);
    // sp_clientserver.c FlowInit: "Multiple flow options in rule"
    expect(c('alert tcp any any -> any any (flow:established; flow:to_server; content:"a"; sid:1;)')).toEqual(['duplicate-option']);
    // parser.c: "The detection_filter rule option and the threshold rule option cannot be used in the same rule"
    expect(
      c(
        'alert tcp any any -> any any (content:"a"; threshold:type limit,track by_src,count 1,seconds 60; detection_filter:track by_src,count 2,seconds 5; sid:1;)',
      ),
    ).toEqual(['threshold-with-detection-filter']);
    // sp_base64_data.c: "base64_decode needs to be specified before base64_data in a rule"
    expect(c('alert tcp any any -> any any (content:"a"; base64_data; content:"b"; sid:1;)')).toEqual(['base64-data-without-decode']);
    expect(c('alert tcp any any -> any any (content:"a"; base64_decode; base64_data; content:"b"; sid:1;)')).toEqual([]);
  });
});
