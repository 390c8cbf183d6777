import { describe, expect, it } from 'vitest';
import { planValue } from './helpers.js';
import { keywordTables, planTables, warningTables } from './table.js';

keywordTables('payload keywords', {
  isdataat: [
    ['!1,relative', { args: { negated: true, offset: 1, relative: true, rawbytes: false, variables: [] } }],
    ['50, relative, rawbytes', { args: { negated: false, offset: 50, relative: true, rawbytes: true, variables: [] } }],
    ['len,relative', { args: { negated: false, offset: { variable: 'len' }, relative: true, rawbytes: false, variables: ['len'] } }],
    // sp_isdataat.c IsDataAtParse only refuses offsets above 65535
    ['-5,relative', { args: { negated: false, offset: -5, relative: true, rawbytes: false, variables: [] } }],
    ['70000', { error: 'number-out-of-range' }],
    ['1,sideways', { error: 'bad-argument' }],
    ['1,relative,rawbytes,relative', { error: 'too-many-arguments' }],
  ],
  urilen: [
    ['5', { args: { op: '=', value: 5, buffer: 'raw' } }],
    ['<5', { args: { op: '<', value: 5, buffer: 'raw' } }],
    ['5<>10', { args: { op: 'range', value: 5, max: 10, buffer: 'raw' } }],
    ['>500,norm', { args: { op: '>', value: 500, buffer: 'norm' } }],
    ['>500, raw', { args: { op: '>', value: 500, buffer: 'raw' } }],
    ['>500,cooked', { error: 'bad-argument' }],
    // sp_urilen_check.c ParseUriLen swaps a range written high to low, and refuses <0
    ['10<>5', { args: { op: 'range', value: 5, max: 10, buffer: 'raw' } }],
    ['<0', { error: 'number-out-of-range' }],
    ['>0', { args: { op: '>', value: 0, buffer: 'raw' } }],
    ['<=5', { error: 'bad-number' }],
    ['=5', { error: 'bad-number' }],
  ],
  file_data: [
    [undefined, { args: { mime: false } }],
    ['mime', { args: { mime: true } }],
    ['pdf', { error: 'bad-argument' }],
  ],
  base64_decode: [
    [undefined, { args: { relative: false } }],
    ['relative', { args: { relative: true } }],
    ['bytes 12, offset 6, relative', { args: { bytes: 12, offset: 6, relative: true } }],
    ['bytes 0', { error: 'number-out-of-range' }],
    // sp_base64_decode.c Base64DecodeParse: at most three arguments
    ['bytes 1, offset 2, relative, bytes 3', { error: 'too-many-arguments' }],
    ['depth 3', { error: 'bad-argument' }],
  ],
  asn1: [
    [
      'double_overflow, bitstring_overflow, relative_offset 27, oversize_length 2048',
      { args: { bitstringOverflow: true, doubleOverflow: true, relativeOffset: 27, oversizeLength: 2048 } },
    ],
    [
      'oversize_length 1024,relative_offset -1',
      { args: { bitstringOverflow: false, doubleOverflow: false, oversizeLength: 1024, relativeOffset: -1 } },
    ],
    ['oversize_length,500', { args: { bitstringOverflow: false, doubleOverflow: false, oversizeLength: 500 } }],
    ['absolute_offset 0, relative_offset 0', { error: 'conflicting-modifiers' }],
    ['oversize_length', { error: 'missing-argument' }],
    ['triple_overflow', { error: 'bad-argument' }],
  ],
  cvs: [
    ['invalid-entry', { args: 'invalid-entry' }],
    ['valid-entry', { error: 'bad-argument' }],
  ],
  protected_content: [
    [
      '"293C9EA246FF9985DC6F62A650F78986"',
      { args: { negated: false, digest: Uint8Array.from(Buffer.from('293C9EA246FF9985DC6F62A650F78986', 'hex')) } },
    ],
    ['"XYZ"', { error: 'bad-hex' }],
    ['293C', { error: 'expected-quoted-string' }],
  ],
  hash: [
    ['sha256', { args: 'sha256' }],
    ['sha1', { error: 'bad-argument' }],
  ],
  length: [
    ['4', { args: 4 }],
    ['0', { error: 'number-out-of-range' }],
  ],
});

warningTables('payload keywords Snort reads surprisingly', {
  // sp_base64_decode.c Base64DecodeParse reads a repeated argument again: the last one wins.
  base64_decode: [['bytes 1, bytes 2', { bytes: 2, relative: false }, 'duplicate-modifier']],
});

planTables('payload keywords: plan pieces', {
  isdataat: [
    ['!1,relative', { piece: { op: 'isdataat', offset: 1, relative: true, negated: true, rawbytes: false } }],
    ['len,relative', { refused: /'len' is not a byte_extract variable/ }],
  ],
  // sp_urilen_check.c: the raw URI unless `norm`; ranges inclusive
  urilen: [
    ['5', { piece: { t: 'urilen', test: { op: '=', a: 5 }, raw: true } }],
    ['5<>10,norm', { piece: { t: 'urilen', test: { op: '<=>', a: 5, b: 10 }, raw: false } }],
  ],
  base64_decode: [
    [undefined, { piece: { op: 'base64_decode', bytes: 0, offset: 0, relative: false } }],
    ['bytes 12, offset 6, relative', { piece: { op: 'base64_decode', bytes: 12, offset: 6, relative: true } }],
  ],
  file_data: [[undefined, { piece: { op: 'set_buffer', buf: 'file_data' } }]],
  pkt_data: [[undefined, { piece: { op: 'set_buffer', buf: 'pkt' } }]],
  base64_data: [[undefined, { refused: /base64_decode before it/ }]],
  asn1: [['bitstring_overflow', { piece: { t: 'never', keyword: 'asn1' } }]],
  ftpbounce: [[undefined, { piece: { t: 'ftpbounce' } }]],
});

describe('payload keywords: plan context', () => {
  it('isdataat reads a byte_extract variable by its slot', () => {
    expect(planValue('isdataat', 'len,relative', [['byte_extract', '2,0,len']])).toEqual({
      piece: { op: 'isdataat', offset: { var: 0 }, relative: true, negated: false, rawbytes: false },
    });
  });
  it('base64_data follows base64_decode', () => {
    expect(planValue('base64_data', undefined, [['base64_decode', undefined]])).toEqual({ piece: { op: 'set_buffer', buf: 'base64' } });
  });
});
