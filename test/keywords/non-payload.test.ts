import { describe, expect, it } from 'vitest';
import { parseValue, planValue, type Row } from './helpers.js';
import { keywordTables, planTables, warningTables } from './table.js';

const tables: Record<string, Row[]> = {
  dsize: [
    ['10', { args: { op: '=', value: 10 } }],
    ['<10', { args: { op: '<', value: 10 } }],
    ['>8', { args: { op: '>', value: 8 } }],
    ['8<>20', { args: { op: 'range', value: 8, max: 20 } }],
    [' 13 <> 32 ', { args: { op: 'range', value: 13, max: 32 } }],
    ['<=10', { error: 'bad-operator' }],
    ['>=10', { error: 'bad-operator' }],
    ['!9', { error: 'bad-operator' }],
    ['70000', { error: 'number-out-of-range' }],
    ['ten', { error: 'bad-number' }],
  ],
  ttl: [
    ['<3', { args: { op: '<', value: 3 } }],
    ['3-5', { args: { op: 'range', value: 3, max: 5 } }],
    ['-5', { args: { op: 'range', value: 0, max: 5 } }],
    ['5-', { args: { op: 'range', value: 5, max: 255 } }],
    ['<=5', { args: { op: '<=', value: 5 } }],
    ['>=5', { args: { op: '>=', value: 5 } }],
    ['=5', { args: { op: '=', value: 5 } }],
    ['=>5', { error: 'bad-number' }],
    ['5-3', { error: 'bad-range' }],
    ['256', { error: 'number-out-of-range' }],
  ],
  tos: [
    ['!4', { args: { op: '!', value: 4 } }],
    ['<4', { error: 'bad-operator' }],
  ],
  window: [
    ['55808', { args: { op: '=', value: 55808 } }],
    ['!0', { args: { op: '!', value: 0 } }],
    ['65536', { error: 'number-out-of-range' }],
  ],
  fragoffset: [
    ['>0', { args: { op: '>', value: 0 } }],
    ['!0', { args: { op: '!', value: 0 } }],
    ['<=1', { error: 'bad-operator' }],
    // a byte offset up to 65535 (sp_ip_fragbits.c: SnortStrtoulRange to UINT16_MAX)
    ['65535', { args: { op: '=', value: 65535 } }],
    ['65536', { error: 'number-out-of-range' }],
    ['!>0', { error: 'bad-number' }],
  ],
  seq: [
    ['1958810375', { args: { op: '=', value: 1958810375 } }],
    ['4294967296', { error: 'number-out-of-range' }],
  ],
  icode: [
    ['0', { args: { op: '=', value: 0 } }],
    ['>30', { args: { op: '>', value: 30 } }],
    ['-1<>30', { args: { op: 'range', value: -1, max: 30 } }],
    ['+2<>30', { args: { op: 'range', value: 2, max: 30 } }],
    ['0<>256', { args: { op: 'range', value: 0, max: 256 } }],
    ['<256', { args: { op: '<', value: 256 } }],
    ['5<>6', { error: 'bad-range' }],
    ['256', { error: 'number-out-of-range' }],
    ['>255', { error: 'number-out-of-range' }],
    ['<0', { error: 'number-out-of-range' }],
  ],
  itype: [
    ['8', { args: { op: '=', value: 8 } }],
    ['>30', { args: { op: '>', value: 30 } }],
    ['<256', { args: { op: '<', value: 256 } }],
    ['0<>256', { args: { op: 'range', value: 0, max: 256 } }],
    // sp_icmp_type_check.c reads a range only after a digit: -1<>30 fails as a number (icode takes it).
    ['-1<>30', { error: 'bad-range' }],
    ['!8', { error: 'bad-operator' }],
  ],
  ipopts: [
    ['lsrr', { args: 'lsrr' }],
    ['LSRR', { args: 'lsrr' }],
    ['any', { args: 'any' }],
    ['foo', { error: 'bad-argument' }],
  ],
  fragbits: [
    ['MD+', { args: { bits: 'MD', mode: 'plus' } }],
    ['!D', { args: { bits: 'D', mode: 'not' } }],
    ['*MR', { args: { bits: 'MR', mode: 'any' } }],
    ['md', { args: { bits: 'MD', mode: 'exact' } }],
    ['X', { error: 'bad-flag' }],
    ['M,D', { error: 'bad-argument' }],
    ['', { error: 'missing-value' }],
  ],
  flags: [
    ['S', { args: { bits: 'S', mode: 'exact' } }],
    ['SF,CE', { args: { bits: 'SF', mode: 'exact', mask: 'CE' } }],
    ['S,12', { args: { bits: 'S', mode: 'exact', mask: 'CE' } }],
    ['PA12', { args: { bits: 'PACE', mode: 'exact' } }],
    ['*AP,12', { args: { bits: 'AP', mode: 'any', mask: 'CE' } }],
    ['A+', { args: { bits: 'A', mode: 'plus' } }],
    ['0', { args: { bits: '0', mode: 'exact' } }],
    ['sa', { args: { bits: 'SA', mode: 'exact' } }],
    ['*ap,ce', { args: { bits: 'AP', mode: 'any', mask: 'CE' } }],
    ['SX', { error: 'bad-flag' }],
    ['S,X', { error: 'bad-flag' }],
    ['', { error: 'missing-value' }],
  ],
  flow: [
    ['established,to_server', { args: { state: 'established', direction: 'to_server', directionText: 'to_server' } }],
    [
      'from_server, established, only_stream',
      { args: { state: 'established', direction: 'to_client', directionText: 'from_server', stream: 'only_stream' } },
    ],
    ['stateless', { args: { state: 'stateless' } }],
    ['Established,To_Server', { args: { state: 'established', direction: 'to_server', directionText: 'to_server' } }],
    ['stateless,to_server', { error: 'flow-conflict' }],
    ['to_client,to_server', { error: 'flow-conflict' }],
    ['from_client,to_client', { error: 'flow-conflict' }],
    ['established,stateless', { error: 'flow-conflict' }],
    ['established,not_established', { error: 'flow-conflict' }],
    ['no_stream,only_stream', { error: 'flow-conflict' }],
    ['no_frag,only_frag', { error: 'flow-conflict' }],
    ['to_sever', { error: 'bad-argument' }],
  ],
  flowbits: [
    ['set,ET.TorIP', { args: { op: 'set', bits: ['ET.TorIP'], match: 'all' } }],
    ['IsSet,ET.TorIP', { args: { op: 'isset', bits: ['ET.TorIP'], match: 'all' } }],
    ['isset,ANY,doc', { args: { op: 'isset', bits: [], group: 'doc', match: 'any' } }],
    ['noalert', { args: { op: 'noalert', bits: [], match: 'all' } }],
    ['isset,file.rtf|file.doc', { args: { op: 'isset', bits: ['file.rtf', 'file.doc'], match: 'any' } }],
    ['isnotset,a&b', { args: { op: 'isnotset', bits: ['a', 'b'], match: 'all' } }],
    ['set,a&b&c', { args: { op: 'set', bits: ['a', 'b', 'c'], match: 'all' } }],
    ['set,bit1,doc', { args: { op: 'set', bits: ['bit1'], group: 'doc', match: 'all' } }],
    ['setx,bit1,doc', { args: { op: 'setx', bits: ['bit1'], group: 'doc', match: 'all' } }],
    ['isset,any,doc', { args: { op: 'isset', bits: [], group: 'doc', match: 'any' } }],
    ['unset,all,doc', { args: { op: 'unset', bits: [], group: 'doc', match: 'all' } }],
    ['reset', { args: { op: 'reset', bits: [], match: 'all' } }],
    ['reset,doc', { args: { op: 'reset', bits: [], group: 'doc', match: 'all' } }],
    ['setx,bit1', { error: 'missing-argument' }],
    ['set,a|b', { error: 'bad-argument' }],
    ['isset,a|b&c', { error: 'bad-argument' }],
    ['noalert,x', { error: 'too-many-arguments' }],
    ['isset', { error: 'missing-argument' }],
    ['frob,x', { error: 'bad-argument' }],
    ['set,bad name', { error: 'bad-flowbit-name' }],
    ['set,a,b,c', { error: 'too-many-arguments' }],
    ['isset,a,grp', { error: 'bad-argument' }],
  ],
  rpc: [
    ['100000, *, 3', { args: { application: 100000, procedure: 3 } }],
    ['100000,2,*', { args: { application: 100000, version: 2 } }],
    ['x', { error: 'bad-number' }],
  ],
  ip_proto: [
    ['igmp', { args: { op: '=', protocol: 2 } }],
    ['!47', { args: { op: '!', protocol: 47 } }],
    ['>134', { args: { op: '>', protocol: 134 } }],
    ['sctp', { args: { op: '=', protocol: 132 } }],
    ['256', { error: 'number-out-of-range' }],
    ['nosuchproto', { error: 'unknown-protocol' }],
  ],
  stream_reassemble: [
    ['enable,client', { args: { enable: true, direction: 'client', noalert: false, fastpath: false } }],
    ['disable,client,noalert', { args: { enable: false, direction: 'client', noalert: true, fastpath: false } }],
    ['on,client', { error: 'bad-argument' }],
    ['enable', { error: 'missing-argument' }],
  ],
  stream_size: [
    ['client,<,6', { args: { direction: 'client', op: '<', size: 6 } }],
    ['server,=, 1', { args: { direction: 'server', op: '=', size: 1 } }],
    ['either,!=,0', { args: { direction: 'either', op: '!=', size: 0 } }],
    ['Client,<,6', { args: { direction: 'client', op: '<', size: 6 } }],
    ['client,=>,6', { error: 'bad-argument' }],
    ['client,<', { error: 'bad-argument' }],
  ],
  icmp_id: [
    ['666', { args: { op: '=', value: 666 } }],
    ['70000', { error: 'number-out-of-range' }],
  ],
};

keywordTables('non-payload keywords', tables);

// Accepted as Snort accepts them, with a note on how Snort reads them.
warningTables('non-payload keywords Snort reads surprisingly', {
  // sp_tcp_flag_check.c ParseTCPFlags: '0' clears the flags read before it; the last modifier wins.
  flags: [
    ['0S', { bits: 'S', mode: 'exact' }, 'zero-flag-combined'],
    ['S0', { bits: '0', mode: 'exact' }, 'zero-flag-combined'],
    ['+*S', { bits: 'S', mode: 'any' }, 'modifier-overridden'],
    ['+', { bits: '', mode: 'plus' }, 'no-bits'],
  ],
  // sp_ip_fragbits.c ParseFragBits: the last modifier wins; a modifier alone is accepted.
  fragbits: [
    ['+*M', { bits: 'M', mode: 'any' }, 'modifier-overridden'],
    ['!', { bits: '', mode: 'not' }, 'no-bits'],
  ],
  // sp_ip_proto.c accepts a comparison no protocol number passes.
  ip_proto: [
    ['<0', { op: '<', protocol: 0 }, 'never-matches'],
    ['>255', { op: '>', protocol: 255 }, 'never-matches'],
  ],
  // sp_dsize_check.c ParseDsize loads a range whose minimum passes its maximum (CheckDsize never matches it).
  dsize: [['20<>8', { op: 'range', value: 20, max: 8 }, 'never-matches']],
});

planTables('non-payload keywords: plan pieces', {
  dsize: [
    ['>8', { piece: { t: 'dsize', test: { op: '>', a: 8 } } }],
    // sp_dsize_check.c: an inclusive range
    ['8<>20', { piece: { t: 'dsize', test: { op: '<=>', a: 8, b: 20 } } }],
  ],
  ttl: [
    ['3-5', { piece: { t: 'ttl', test: { op: '<=>', a: 3, b: 5 } } }],
    ['>=5', { piece: { t: 'ttl', test: { op: '>=', a: 5 } } }],
  ],
  tos: [['!4', { piece: { t: 'tos', test: { op: '!', a: 4 } } }]],
  id: [['31337', { piece: { t: 'id', test: { op: '=', a: 31337 } } }]],
  window: [['55808', { piece: { t: 'window', test: { op: '=', a: 55808 } } }]],
  seq: [['1958810375', { piece: { t: 'seq', value: 1958810375 } }]],
  ack: [['0', { piece: { t: 'ack', value: 0 } }]],
  // sp_icmp_type_check.c / sp_icmp_code_check.c: exclusive ranges
  itype: [['0<>5', { piece: { t: 'itype', test: { op: '<>', a: 0, b: 5 } } }]],
  icode: [['-1<>30', { piece: { t: 'icode', test: { op: '<>', a: -1, b: 30 } } }]],
  icmp_id: [['666', { piece: { t: 'icmp_id', value: 666 } }]],
  icmp_seq: [['0', { piece: { t: 'icmp_seq', value: 0 } }]],
  ipopts: [
    ['lsrr', { piece: { t: 'ipopts', option: 0x83 } }],
    // decode.h IPOPT_LSRR_E
    ['lsrre', { piece: { t: 'ipopts', option: 0x84 } }],
    ['any', { piece: { t: 'ipopts', option: -1 } }],
  ],
  fragbits: [['MD+', { piece: { t: 'fragbits', bits: 3, mode: 'all' } }]],
  flags: [
    ['S,12', { piece: { t: 'flags', bits: 0x02, mode: 'exact', mask: 0x3f } }],
    ['!R', { piece: { t: 'flags', bits: 0x04, mode: 'not', mask: 0xff } }],
    ['0', { piece: { t: 'flags', bits: 0, mode: 'exact', mask: 0xff } }],
  ],
  flow: [
    ['established,to_server', { piece: { established: true, toServer: true } }],
    ['from_server,not_established,no_stream,no_frag', { piece: { notEstablished: true, toClient: true, noStream: true, noFrag: true } }],
    ['only_frag', { piece: { onlyFrag: true } }],
    ['stateless', { piece: { stateless: true } }],
  ],
  flowbits: [
    ['set,a&b', { piece: { cmd: 'set', bits: ['a', 'b'], any: false } }],
    ['isset,a|b', { piece: { cmd: 'isset', bits: ['a', 'b'], any: true } }],
    ['noalert', { piece: { cmd: 'noalert', bits: [], any: false } }],
    // a group after set only names the group the bit joins
    ['set,bit1,doc', { piece: { cmd: 'set', bits: ['bit1'], any: false } }],
    ['setx,bit1,doc', { refused: /not supported/ }],
    ['isset,any,doc', { refused: /not supported/ }],
    ['reset,doc', { refused: /not supported/ }],
  ],
  ip_proto: [['!47', { piece: { t: 'ip_proto', test: { op: '!', a: 47 } } }]],
  stream_size: [['either,!=,0', { piece: { t: 'stream_size', side: 'either', test: { op: '!', a: 0 } } }]],
  sameip: [[undefined, { piece: { t: 'sameip' } }]],
  fragoffset: [
    ['>0', { piece: { t: 'fragoffset', op: '>', value: 0 } }],
    ['!1480', { piece: { t: 'fragoffset', op: '!', value: 1480 } }],
  ],
});

describe('non-payload keywords: more', () => {
  it('sameip takes no value', () => {
    expect(parseValue('sameip', undefined).args).toBe(true);
  });
  it('a rule takes one flow option (sp_clientserver.c FlowInit)', () => {
    expect(planValue('flow', 'to_server', [['flow', 'established']])).toEqual({ refused: 'only one flow option per rule' });
  });
  it('reports positions relative to the value', () => {
    expect(parseValue('flags', 'SX').errorAt).toEqual([1]);
    expect(parseValue('flow', 'established, to_sever').errorAt).toEqual([13]);
  });
});
