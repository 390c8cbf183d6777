/**
 * Generators of rules over port sets, ports and payloads, for the laws that say which patterns a port test can leave
 * out of a scan (test/match-port-groups.test.ts, test/match-broad-ports.test.ts).
 */
import fc from 'fast-check';

/**
 * Port sets with shared and touching bounds, negations and variables, narrow (at most 1,024 ports: broad-ports.ts)
 * and broad; `any` twice, as rules have it most.
 */
export const portSet = fc.constantFrom(
  'any',
  'any',
  '80',
  '!80',
  '[80,443]',
  '1024:',
  ':1023',
  '[53,5000:5010]',
  '!$HTTP_PORTS',
  '$HTTP_PORTS',
  '5010:5020',
  '[0,65535]',
  '0:2047',
  '1000:1999',
);

export interface RuleHeader {
  proto: string;
  sp: string;
  dp: string;
  dir: string;
}

export const ruleHeader: fc.Arbitrary<RuleHeader> = fc.record({
  proto: fc.constantFrom('tcp', 'udp', 'ip'),
  sp: portSet,
  dp: portSet,
  dir: fc.constantFrom('->', '->', '<>'),
});

/** Ports on every bound of the sets above, and between them. */
export const portOf = fc.constantFrom(
  0,
  52,
  53,
  79,
  80,
  81,
  443,
  999,
  1000,
  1023,
  1024,
  1999,
  2000,
  2047,
  2048,
  4999,
  5000,
  5005,
  5010,
  5011,
  5020,
  5021,
  8080,
  40000,
  65535,
);

/** Short patterns of few letters: they overlap, share end offsets and occur many times in a payload. */
export const pattern = fc.array(fc.constantFrom('a', 'b', 'A', '|00|'), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));

export const payload = fc.array(fc.constantFrom(0x61, 0x62, 0x41, 0x42, 0x00), { maxLength: 40 }).map((a) => Uint8Array.from(a));

/** `flow` options, none in most rules, so that flow classes get databases of their own. */
export const flowOption = fc.constantFrom(
  '',
  '',
  'flow:to_server;',
  'flow:to_client;',
  'flow:established,to_server;',
  'flow:from_server,established;',
);

/** Rules `alert PROTO any SP DIR any DP (OPTIONS sid:N;)`, one a line. */
export function rulesText(rules: readonly (readonly [RuleHeader, string])[]): string {
  return rules.map(([h, opts], i) => `alert ${h.proto} any ${h.sp} ${h.dir} any ${h.dp} (${opts} sid:${i + 1};)`).join('\n') + '\n';
}
