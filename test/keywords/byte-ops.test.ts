import { describe, expect, it } from 'vitest';
import { keywordTables, planTables } from './table.js';
import { parseValue, planValue } from './helpers.js';

const read = { relative: false, endian: 'big', variables: [] };

keywordTables('byte_* keywords', {
  byte_test: [
    ['1,!&,128,6,relative', { args: { ...read, bytes: 1, op: '&', negated: true, value: 128, offset: 6, relative: true } }],
    [
      '4,>,1000,20,relative,little',
      { args: { ...read, bytes: 4, op: '>', negated: false, value: 1000, offset: 20, relative: true, endian: 'little' } },
    ],
    ['10,=,1234567890,0,string,dec', { args: { ...read, bytes: 10, op: '=', negated: false, value: 1234567890, offset: 0, string: 'dec' } }],
    ['8,=,0xdeadbeef,0,string,hex', { args: { ...read, bytes: 8, op: '=', negated: false, value: 0xdeadbeef, offset: 0, string: 'hex' } }],
    ['1,<=,0,0,relative,string,dec', { args: { ...read, bytes: 1, op: '<=', negated: false, value: 0, offset: 0, relative: true, string: 'dec' } }],
    ['1,!,5,0', { args: { ...read, bytes: 1, op: '=', negated: true, value: 5, offset: 0 } }],
    [
      '2,=,len,off',
      { args: { ...read, bytes: 2, op: '=', negated: false, value: { variable: 'len' }, offset: { variable: 'off' }, variables: ['off', 'len'] } },
    ],
    ['4,&,0xF0,0,bitmask 0xFF00', { args: { ...read, bytes: 4, op: '&', negated: false, value: 0xf0, offset: 0, bitmask: 0xff00 } }],
    ['1,=,65,214748364', { error: 'number-out-of-range' }],
    ['11,=,1,0,string', { error: 'number-out-of-range' }],
    ['0,=,1,0', { error: 'number-out-of-range' }],
    ['5,=,1,0', { error: 'bad-byte-count' }],
    ['2,=,1,0,hex', { error: 'base-without-string' }],
    ['3,=,1,0,dce', { error: 'bad-byte-count' }],
    ['1,~,1,0', { error: 'bad-operator' }],
    // a line break in the operator field (fuzz input rules/throw-4a33b5a1): text after the operator, not a TypeError
    ['2,>\r1024,0,0', { args: { ...read, bytes: 2, op: '>', negated: false, value: 0, offset: 0 } }],
    ['1,=,1', { error: 'missing-argument' }],
    ['1,=,1,0,sideways', { error: 'bad-modifier' }],
    ['1,=,4294967296,0', { error: 'number-out-of-range' }],
    ['len,=,1,0', { error: 'bad-number' }],
    ['1,=,1,0,bitmask 0x100', { error: 'number-out-of-range' }],
  ],
  byte_jump: [
    ['4,4,relative,align', { args: { ...read, bytes: 4, offset: 4, relative: true, align: true, fromBeginning: false, fromEnd: false } }],
    [
      '4,-10,relative,little,from_beginning, post_offset -1',
      {
        args: { ...read, bytes: 4, offset: -10, relative: true, endian: 'little', align: false, fromBeginning: true, fromEnd: false, postOffset: -1 },
      },
    ],
    [
      '8,114,relative,multiplier 2,little,string,hex',
      {
        args: {
          ...read,
          bytes: 8,
          offset: 114,
          relative: true,
          endian: 'little',
          string: 'hex',
          multiplier: 2,
          align: false,
          fromBeginning: false,
          fromEnd: false,
        },
      },
    ],
    [
      '4,-4,relative,align,dce',
      { args: { ...read, bytes: 4, offset: -4, relative: true, endian: 'dce', align: true, fromBeginning: false, fromEnd: false } },
    ],
    ['2,off', { args: { ...read, bytes: 2, offset: { variable: 'off' }, variables: ['off'], align: false, fromBeginning: false, fromEnd: false } }],
    ['rpkt_len,0,relative', { error: 'bad-number' }],
    ['4,70000', { error: 'number-out-of-range' }],
    ['4,0,multiplier 0', { error: 'number-out-of-range' }],
    ['4,0,from_beginning,from_end', { error: 'conflicting-modifiers' }],
    ['4,0,post_offset 1,post_offset 2', { error: 'duplicate-modifier' }],
    ['4', { error: 'missing-argument' }],
    ['6,0', { error: 'bad-byte-count' }],
  ],
  byte_extract: [
    ['2,0,SuiteLength,relative', { args: { ...read, bytes: 2, offset: 0, relative: true, name: 'SuiteLength' } }],
    ['4,-4,d_size,relative,little', { args: { ...read, bytes: 4, offset: -4, relative: true, endian: 'little', name: 'd_size' } }],
    ['3,0,SSL.Client_Hello.length,relative', { args: { ...read, bytes: 3, offset: 0, relative: true, name: 'SSL.Client_Hello.length' } }],
    ['1,0,x,multiplier 4,align 4', { args: { ...read, bytes: 1, offset: 0, name: 'x', multiplier: 4, align: 4 } }],
    ['1,0,1abc', { error: 'bad-variable' }],
    ['1,0,x,align 3', { error: 'bad-argument' }],
    ['1,var,x', { error: 'bad-number' }],
    ['1,0', { error: 'missing-argument' }],
    ['5,0,x', { error: 'bad-byte-count' }],
  ],
  byte_math: [
    ['bytes 2, offset 0, oper *, rvalue 4, result area', { args: { ...read, bytes: 2, offset: 0, op: '*', rvalue: 4, result: 'area' } }],
    ['bytes 2, offset 0, oper /, rvalue 0, result x', { error: 'bad-argument' }],
    ['bytes 2, offset 0, oper %, rvalue 1, result x', { error: 'bad-operator' }],
    ['bytes 2, offset 0, oper +', { error: 'missing-argument' }],
  ],
});

it('byte_test warns about text after the operator (Snort ignores it)', () => {
  const r = parseValue('byte_test', '1,=>,1,0');
  expect(r.errors).toEqual([]);
  expect(r.warnings).toEqual(['operator-trailing-text']);
});

const planRead = { relative: false, endian: 'big', dce: false };

planTables('byte_* keywords: plan ops', {
  byte_test: [
    ['1,!&,128,6,relative', { piece: { op: 'byte_test', bytes: 1, operator: '&', not: true, value: 128, offset: 6, ...planRead, relative: true } }],
    // sp_byte_check.c ByteTestParse: `!` alone is not_flag with BT_EQUALS
    ['1,!,5,0', { piece: { op: 'byte_test', bytes: 1, operator: '=', not: true, value: 5, offset: 0, ...planRead } }],
    [
      '10,=,1234567890,0,string,dec',
      { piece: { op: 'byte_test', bytes: 10, operator: '=', not: false, value: 1234567890, offset: 0, ...planRead, string: 'dec' } },
    ],
    [
      '4,&,0xF0,0,bitmask 0xFF00',
      { piece: { op: 'byte_test', bytes: 4, operator: '&', not: false, value: 0xf0, offset: 0, ...planRead, bitmask: 0xff00 } },
    ],
    ['2,=,len,0', { refused: /'len' is not a byte_extract variable/ }],
  ],
  byte_jump: [
    [
      '4,-4,relative,align,dce',
      {
        piece: {
          op: 'byte_jump',
          bytes: 4,
          offset: -4,
          relative: true,
          multiplier: 1,
          align: true,
          fromBeginning: false,
          fromEnd: false,
          postOffset: 0,
          endian: 'big',
          dce: true,
        },
      },
    ],
    [
      '4,-10,relative,little,from_beginning, post_offset -1',
      {
        piece: {
          op: 'byte_jump',
          bytes: 4,
          offset: -10,
          relative: true,
          multiplier: 1,
          align: false,
          fromBeginning: true,
          fromEnd: false,
          postOffset: -1,
          endian: 'little',
          dce: false,
        },
      },
    ],
    // Snort 2.9.20 takes it (sp_byte_jump.c); the matcher's byte_jump adds a constant post_offset only
    ['4,0,post_offset len', { refused: /post_offset .* not supported/ }],
  ],
  byte_extract: [
    [
      '1,0,x,multiplier 4,align 4',
      { piece: { op: 'byte_extract', bytes: 1, offset: 0, slot: 0, relative: false, multiplier: 4, align: 4, endian: 'big', dce: false } },
    ],
  ],
});

describe('byte_* keywords: variables across options', () => {
  it('byte_test reads a variable defined earlier by its slot', () => {
    const r = planValue('byte_test', '2,>,b,a,relative', [
      ['byte_extract', '1,0,a'],
      ['byte_extract', '1,1,b'],
    ]);
    expect(r).toEqual({
      piece: { op: 'byte_test', bytes: 2, operator: '>', not: false, value: { var: 1 }, offset: { var: 0 }, ...planRead, relative: true },
    });
  });
  it('a rule has at most two variables; a name given again is the same slot (sp_byte_extract.c AddVarNameToList)', () => {
    const again = planValue('byte_extract', '1,2,a', [
      ['byte_extract', '1,0,a'],
      ['byte_extract', '1,1,b'],
    ]);
    expect('piece' in again && (again.piece as { slot: number }).slot).toBe(0);
    expect(
      planValue('byte_extract', '1,0,c', [
        ['byte_extract', '1,0,a'],
        ['byte_extract', '1,0,b'],
      ]),
    ).toEqual({ refused: 'Rule has more than 2 byte_extract variables' });
  });
});
