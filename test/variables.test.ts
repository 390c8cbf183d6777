import { describe, expect, it } from 'vitest';
import { parseAddress, parsePort } from '../src/parser/address.js';
import { addressMatches, portMatches, resolveAddress, resolvePorts, VariableTable } from '../src/config/variables.js';

const ip = (s: string) => Uint8Array.from(s.includes(':') ? [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1] : s.split('.').map(Number));

function addr(text: string, vars = VariableTable.withDefaults()) {
  const p = parseAddress(text);
  if (!p.ok) throw new Error(p.error);
  return resolveAddress(p.value, vars);
}
function ports(text: string, vars = VariableTable.withDefaults()) {
  const p = parsePort(text);
  if (!p.ok) throw new Error(p.error);
  return resolvePorts(p.value, vars);
}

describe('address and port sets', () => {
  it('lists, negation and nesting match as Snort reads them', () => {
    const s = addr('[10.0.0.0/8,!10.1.0.0/16,192.168.1.1]');
    expect(addressMatches(s, ip('10.2.3.4'))).toBe(true);
    expect(addressMatches(s, ip('10.1.3.4'))).toBe(false);
    expect(addressMatches(s, ip('192.168.1.1'))).toBe(true);
    expect(addressMatches(s, ip('192.168.1.2'))).toBe(false);
    const not = addr('![10.0.0.0/8,172.16.0.0/12]');
    expect(addressMatches(not, ip('10.9.9.9'))).toBe(false);
    expect(addressMatches(not, ip('8.8.8.8'))).toBe(true);
    expect(addressMatches(addr('2001:db8::/32'), ip('2001:db8::1'))).toBe(true);
    expect(addressMatches(addr('2001:db8::/32'), ip('10.0.0.1'))).toBe(false);
  });

  it('variables resolve through each other; wrong kinds and loops are errors', () => {
    const vars = VariableTable.withDefaults();
    vars.set({ kind: 'ipvar', name: 'HOME_NET', value: '[10.0.0.0/8]', origin: 't' });
    vars.set({ kind: 'ipvar', name: 'LOOP', value: '[$LOOP]', origin: 't' });
    expect(addressMatches(addr('$HTTP_SERVERS', vars), ip('10.0.0.5'))).toBe(true);
    expect(addressMatches(addr('!$HOME_NET', vars), ip('10.0.0.5'))).toBe(false);
    expect(addressMatches(addr('!$HOME_NET', vars), ip('1.2.3.4'))).toBe(true);
    expect(() => addr('$NOPE', vars)).toThrow(/undefined variable \$NOPE/);
    expect(() => addr('$HTTP_PORTS', vars)).toThrow('$HTTP_PORTS is a portvar, used as an address');
    expect(() => ports('$HOME_NET', vars)).toThrow('$HOME_NET is an ipvar, used as a port');
    expect(() => addr('$LOOP', vars)).toThrow(/refers to itself/);
  });

  it('port ranges, negations and the shipped variables', () => {
    expect(portMatches(ports('1024:'), 1024)).toBe(true);
    expect(portMatches(ports('1024:'), 80)).toBe(false);
    expect(portMatches(ports('!5938,!1433'), 80)).toBe(true);
    expect(portMatches(ports('!5938,!1433'), 1433)).toBe(false);
    expect(portMatches(ports('$HTTP_PORTS'), 8080)).toBe(true);
    expect(portMatches(ports('$SHELLCODE_PORTS'), 80)).toBe(false);
    expect(portMatches(ports('$SHELLCODE_PORTS'), 81)).toBe(true);
    expect(portMatches(ports('$FILE_DATA_PORTS'), 143)).toBe(true);
    expect(portMatches(ports('[1:100,!50]'), 50)).toBe(false);
    expect(portMatches(ports('[1:100,!50]'), 49)).toBe(true);
  });
});
