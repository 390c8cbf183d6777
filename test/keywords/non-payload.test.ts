import { describe, expect, it } from 'vitest';
import { parseValue, type Row } from './helpers.js';
import { keywordTables } from './table.js';

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
    ['20<>8', { error: 'bad-range' }],
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
  ],
  seq: [
    ['1958810375', { args: { op: '=', value: 1958810375 } }],
    ['4294967296', { error: 'number-out-of-range' }],
  ],
  icode: [
    ['0', { args: { op: '=', value: 0 } }],
    ['>30', { args: { op: '>', value: 30 } }],
    ['-1<>30', { args: { op: 'range', value: -1, max: 30 } }],
    ['<256', { args: { op: '<', value: 256 } }],
    ['5<>6', { error: 'bad-range' }],
    ['256', { error: 'number-out-of-range' }],
    ['>255', { error: 'number-out-of-range' }],
    ['<0', { error: 'number-out-of-range' }],
  ],
  itype: [
    ['8', { args: { op: '=', value: 8 } }],
    ['>30', { args: { op: '>', value: 30 } }],
    ['!8', { error: 'bad-operator' }],
  ],
  ipopts: [
    ['lsrr', { args: 'lsrr' }],
    ['any', { args: 'any' }],
    ['foo', { error: 'bad-argument' }],
  ],
  fragbits: [
    ['MD+', { args: { bits: 'MD', mode: 'plus' } }],
    ['!D', { args: { bits: 'D', mode: 'not' } }],
    ['*MR', { args: { bits: 'MR', mode: 'any' } }],
    ['X', { error: 'bad-flag' }],
    ['M,D', { error: 'bad-argument' }],
    ['+*M', { error: 'bad-modifier' }],
  ],
  flags: [
    ['S', { args: { bits: 'S', mode: 'exact' } }],
    ['SF,CE', { args: { bits: 'SF', mode: 'exact', mask: 'CE' } }],
    ['S,12', { args: { bits: 'S', mode: 'exact', mask: 'CE' } }],
    ['PA12', { args: { bits: 'PACE', mode: 'exact' } }],
    ['*AP,12', { args: { bits: 'AP', mode: 'any', mask: 'CE' } }],
    ['A+', { args: { bits: 'A', mode: 'plus' } }],
    ['0', { args: { bits: '0', mode: 'exact' } }],
    ['SX', { error: 'bad-flag' }],
    ['S,X', { error: 'bad-flag' }],
    ['0S', { error: 'bad-flag' }],
    ['', { error: 'missing-value' }],
  ],
  flow: [
    ['established,to_server', { args: { state: 'established', direction: 'to_server', directionText: 'to_server' } }],
    ['from_server, established, only_stream', { args: { state: 'established', direction: 'to_client', directionText: 'from_server', stream: 'only_stream' } }],
    ['stateless', { args: { state: 'stateless' } }],
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
    ['client,=>,6', { error: 'bad-argument' }],
    ['client,<', { error: 'bad-argument' }],
  ],
  icmp_id: [
    ['666', { args: { op: '=', value: 666 } }],
    ['70000', { error: 'number-out-of-range' }],
  ],
};

keywordTables('non-payload keywords', tables);

describe('non-payload keywords: more', () => {
  it('sameip takes no value', () => {
    expect(parseValue('sameip', undefined).args).toBe(true);
  });
  it('reports positions relative to the value', () => {
    expect(parseValue('flags', 'SX').errorAt).toEqual([1]);
    expect(parseValue('flow', 'established, to_sever').errorAt).toEqual([13]);
  });
});
