/**
 * Community ID v1 against the spec's published vectors: the tables of corelight/community-id-spec
 * (baseline/README.md: default, seed=1, no base64) and the unit-test tuples of the reference implementation,
 * corelight/pycommunityid (tests/communityid_test.py: default, no base64, seed=1 for each tuple).
 */
import { describe, expect, it } from 'vitest';
import { communityId, communityIdDigest } from '../src/flow/community-id.js';
import { parseIp } from '../src/packet/bytes.js';

const ip = (t: string) => {
  const b = parseIp(t);
  if (b === undefined) throw new Error(`bad address ${t}`);
  return b;
};

/** proto, saddr, daddr, sport (or ICMP type), dport (or code), default, seed=1, hex (no base64). */
type Vector = [number, string, string, number, number, string, string, string];

// community-id-spec baseline/README.md, the three tables merged row by row
const V6A = 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D';
const V6B = 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D';
const SPEC: Vector[] = [
  [
    6,
    '1.2.3.4',
    '5.6.7.8',
    1122,
    3344,
    '1:wCb3OG7yAFWelaUydu0D+125CLM=',
    '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=',
    'c026f7386ef200559e95a53276ed03fb5db908b3',
  ],
  [
    6,
    '5.6.7.8',
    '1.2.3.4',
    3344,
    1122,
    '1:wCb3OG7yAFWelaUydu0D+125CLM=',
    '1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=',
    'c026f7386ef200559e95a53276ed03fb5db908b3',
  ],
  [
    17,
    '1.2.3.4',
    '5.6.7.8',
    1122,
    3344,
    '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=',
    '1:OShq+iKDAMVouh/4bMxB9Sz4amw=',
    'd0cbbd227431eb3e1988264cffb1d78b658c84e8',
  ],
  [
    17,
    '5.6.7.8',
    '1.2.3.4',
    3344,
    1122,
    '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=',
    '1:OShq+iKDAMVouh/4bMxB9Sz4amw=',
    'd0cbbd227431eb3e1988264cffb1d78b658c84e8',
  ],
  [
    132,
    '1.2.3.4',
    '5.6.7.8',
    1122,
    3344,
    '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=',
    '1:uitchpn5MMGAQKBJh7bIr/bAr7s=',
    '10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f',
  ],
  [
    132,
    '5.6.7.8',
    '1.2.3.4',
    3344,
    1122,
    '1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=',
    '1:uitchpn5MMGAQKBJh7bIr/bAr7s=',
    '10ab7832cc6ec9a13a98bfa19ab12443d72c0c3f',
  ],
  [1, '1.2.3.4', '5.6.7.8', 8, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU=', '72ba1d4472f6144b078dbbf752446b7dbb386d9d'],
  [1, '5.6.7.8', '1.2.3.4', 0, 0, '1:crodRHL2FEsHjbv3UkRrfbs4bZ0=', '1:9pr4ZGTICiuZoIh90RRYE2RyXpU=', '72ba1d4472f6144b078dbbf752446b7dbb386d9d'],
  [1, '1.2.3.4', '5.6.7.8', 11, 0, '1:f/YiSyWqczrTgfUCZlBUnvHRcPk=', '1:1DD7cWGC/Yg91YGsQeni8du3pIA=', '7ff6224b25aa733ad381f5026650549ef1d170f9'],
  [58, V6A, V6B, 128, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:IO27GQzPuCtNnwFvjWALMHu5tJE=', 'd1b7fb872309530b777cc103ef3f0b21f46905ea'],
  [58, V6B, V6A, 129, 0, '1:0bf7hyMJUwt3fMED7z8LIfRpBeo=', '1:IO27GQzPuCtNnwFvjWALMHu5tJE=', 'd1b7fb872309530b777cc103ef3f0b21f46905ea'],
  [58, V6A, V6B, 146, 0, '1:fYC8+pz24E+EhANP1EZhpX0Dw10=', '1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=', '7d80bcfa9cf6e04f8484034fd44661a57d03c35d'],
  [46, '1.2.3.4', '5.6.7.8', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8=', '8a4bf79267fcf65b9fef758fcf58ceb38f52efaf'],
  [46, '5.6.7.8', '1.2.3.4', 0, 0, '1:ikv3kmf89luf73WPz1jOs49S768=', '1:/buhqeOmaRCopOZFy9HnoJd5XW8=', '8a4bf79267fcf65b9fef758fcf58ceb38f52efaf'],
  [46, V6A, V6B, 0, 0, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=', 'c10ff69b0ae75cfe259897077462f978f8d1f9ed'],
  [46, V6B, V6A, 0, 0, '1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=', '1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=', 'c10ff69b0ae75cfe259897077462f978f8d1f9ed'],
];

// pycommunityid tests/communityid_test.py (its order there: default, no base64, seed=1; reordered to this table's)
const PY: Vector[] = [
  [
    1,
    '192.168.0.89',
    '192.168.0.1',
    8,
    0,
    '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=',
    '1:03g6IloqVBdcZlPyX8r0hgoE7kA=',
    '5f4b27617a60c22bfd4d9b6a83ae2c833527e839',
  ],
  [
    1,
    '192.168.0.1',
    '192.168.0.89',
    0,
    8,
    '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=',
    '1:03g6IloqVBdcZlPyX8r0hgoE7kA=',
    '5f4b27617a60c22bfd4d9b6a83ae2c833527e839',
  ],
  // type 20 is no request/reply pair: one-way, its code is hashed
  [
    1,
    '192.168.0.89',
    '192.168.0.1',
    20,
    0,
    '1:3o2RFccXzUgjl7zDpqmY7yJi8rI=',
    '1:lCXHHxavE1Vq3oX9NH5ladQg02o=',
    'de8d9115c717cd482397bcc3a6a998ef2262f2b2',
  ],
  [
    1,
    '192.168.0.89',
    '192.168.0.1',
    20,
    1,
    '1:tz/fHIDUHs19NkixVVoOZywde+I=',
    '1:Ie3wmFyxiEyikbsbcO03d2nh+PM=',
    'b73fdf1c80d41ecd7d3648b1555a0e672c1d7be2',
  ],
  // type 0's code is ignored: the same as the echo pair above
  [
    1,
    '192.168.0.1',
    '192.168.0.89',
    0,
    20,
    '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=',
    '1:03g6IloqVBdcZlPyX8r0hgoE7kA=',
    '5f4b27617a60c22bfd4d9b6a83ae2c833527e839',
  ],
  [
    58,
    'fe80::200:86ff:fe05:80da',
    'fe80::260:97ff:fe07:69ea',
    135,
    0,
    '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=',
    '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=',
    '7461f21af8cc7e58e0e81a69c26ddb8342cef136',
  ],
  [
    58,
    'fe80::260:97ff:fe07:69ea',
    'fe80::200:86ff:fe05:80da',
    136,
    0,
    '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=',
    '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=',
    '7461f21af8cc7e58e0e81a69c26ddb8342cef136',
  ],
  [
    58,
    '3ffe:507:0:1:260:97ff:fe07:69ea',
    '3ffe:507:0:1:200:86ff:fe05:80da',
    3,
    0,
    '1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=',
    '1:OlOWx9psIbBFi7lOCw/4MhlKR9M=',
    '35da1b0d7f0f40d25b0327e45b186d2f63eaa79c',
  ],
  [
    58,
    '3ffe:507:0:1:200:86ff:fe05:80da',
    '3ffe:507:0:1:260:97ff:fe07:69ea',
    3,
    0,
    '1:/OGBt9BN1ofenrmSPWYicpij2Vc=',
    '1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE=',
    'fce181b7d04dd687de9eb9923d66227298a3d957',
  ],
  [
    132,
    '192.168.170.8',
    '192.168.170.56',
    7,
    80,
    '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=',
    '1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU=',
    '8d0802c5b92efa9346c3c58f6c473f4d2fee4e94',
  ],
  [
    132,
    '192.168.170.56',
    '192.168.170.8',
    80,
    7,
    '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=',
    '1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU=',
    '8d0802c5b92efa9346c3c58f6c473f4d2fee4e94',
  ],
  [
    6,
    '128.232.110.120',
    '66.35.250.204',
    34855,
    80,
    '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    '1:3V71V58M3Ksw/yuFALMcW0LAHvc=',
    '2d053da9994af81e45dca0e67afea6e4f3226eb8',
  ],
  [
    6,
    '66.35.250.204',
    '128.232.110.120',
    80,
    34855,
    '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    '1:3V71V58M3Ksw/yuFALMcW0LAHvc=',
    '2d053da9994af81e45dca0e67afea6e4f3226eb8',
  ],
  // pycommunityid issue 3: ports compared as numbers, not as text
  [
    6,
    '10.0.0.1',
    '10.0.0.2',
    10,
    11569,
    '1:SXBGMX1lBOwhhoDrZynfROxnhnM=',
    '1:HmBRGR+fUyXF4t8WEtal7Y0gEAo=',
    '497046317d6504ec218680eb6729df44ec678673',
  ],
  [
    17,
    '192.168.1.52',
    '8.8.8.8',
    54585,
    53,
    '1:d/FP5EW3wiY1vCndhwleRRKHowQ=',
    '1:Q9We8WO3piVF8yEQBNJF4uiSVrI=',
    '77f14fe445b7c22635bc29dd87095e451287a304',
  ],
  [
    17,
    '8.8.8.8',
    '192.168.1.52',
    53,
    54585,
    '1:d/FP5EW3wiY1vCndhwleRRKHowQ=',
    '1:Q9We8WO3piVF8yEQBNJF4uiSVrI=',
    '77f14fe445b7c22635bc29dd87095e451287a304',
  ],
  [
    46,
    '10.1.24.4',
    '10.1.12.1',
    0,
    0,
    '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=',
    '1:BK3BVW3U2eemuwVQVN3zd/GULno=',
    'fe7408e1187f4ed63799fd11da0245064565812e',
  ],
  [
    46,
    '10.1.12.1',
    '10.1.24.4',
    0,
    0,
    '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=',
    '1:BK3BVW3U2eemuwVQVN3zd/GULno=',
    'fe7408e1187f4ed63799fd11da0245064565812e',
  ],
];

describe('Community ID v1', () => {
  for (const [name, vectors] of [
    ['community-id-spec baseline tables', SPEC],
    ['pycommunityid unit tests', PY],
  ] as const) {
    it(`matches the ${name} (default seed, seed=1, no base64)`, () => {
      for (const [proto, s, d, sp, dp, dflt, seed1, hex] of vectors) {
        const label = `${proto} ${s}:${sp} -> ${d}:${dp}`;
        expect(communityId(proto, ip(s), ip(d), sp, dp), label).toBe(dflt);
        expect(communityId(proto, ip(s), ip(d), sp, dp, 1), label).toBe(seed1);
        expect(communityIdDigest(proto, ip(s), ip(d), sp, dp).toString('hex'), label).toBe(hex);
      }
    });
  }
  it('ignores the ports of a protocol that has none', () => {
    expect(communityId(46, ip('1.2.3.4'), ip('5.6.7.8'), 99, 77)).toBe(communityId(46, ip('1.2.3.4'), ip('5.6.7.8'), 0, 0));
  });
});
