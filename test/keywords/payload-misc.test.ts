import { keywordTables } from './table.js';

keywordTables('payload keywords', {
  isdataat: [
    ['!1,relative', { args: { negated: true, offset: 1, relative: true, rawbytes: false, variables: [] } }],
    ['50, relative, rawbytes', { args: { negated: false, offset: 50, relative: true, rawbytes: true, variables: [] } }],
    ['len,relative', { args: { negated: false, offset: { variable: 'len' }, relative: true, rawbytes: false, variables: ['len'] } }],
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
    ['<=5', { error: 'bad-number' }],
    ['10<>5', { error: 'bad-range' }],
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
    ['bytes 1, bytes 2', { error: 'duplicate-modifier' }],
    ['depth 3', { error: 'bad-argument' }],
  ],
  asn1: [
    ['double_overflow, bitstring_overflow, relative_offset 27, oversize_length 2048', { args: { bitstringOverflow: true, doubleOverflow: true, relativeOffset: 27, oversizeLength: 2048 } }],
    ['oversize_length 1024,relative_offset -1', { args: { bitstringOverflow: false, doubleOverflow: false, oversizeLength: 1024, relativeOffset: -1 } }],
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
    ['"293C9EA246FF9985DC6F62A650F78986"', { args: { negated: false, digest: Uint8Array.from(Buffer.from('293C9EA246FF9985DC6F62A650F78986', 'hex')) } }],
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
