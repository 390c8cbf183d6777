/**
 * Address and port expressions of a rule header (`$HOME_NET`, `![10.0.0.0/8,$DNS]`, `1024:`, `!5938,!1433`).
 * Headers repeat heavily across a rule set, so results are cached by their text and shared (treat as immutable).
 * Long texts (the IP lists of reputation rules, each different) are not cached: keeping them would only hold
 * thousands of addresses alive for nothing.
 */
import type { AddressExpr, PortExpr } from '../ast.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; at: number };

const addressCache = new Map<string, ParseResult<AddressExpr>>();
const portCache = new Map<string, ParseResult<PortExpr>>();
const CACHED_LENGTH = 100;
/**
 * Distinct texts cached at most (each cache is emptied when full). A rule set has a few hundred distinct headers;
 * a long-running process fed endless different texts (the fuzzer, a gateway reloading rules) must not grow forever.
 */
const MAX_CACHED = 50_000;

/**
 * How deep `[...]` lists may nest. The parser recurses once per level, so without a bound a hostile header
 * (`[[[[...` 5,000 deep) overflowed the stack and took the file's other diagnostics with it; real rule sets nest
 * two or three levels.
 */
export const MAX_LIST_DEPTH = 64;

class Cursor {
  pos = 0;
  /** Lists open at the cursor (bounded by MAX_LIST_DEPTH). */
  depth = 0;
  constructor(readonly text: string) {}
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  skipSpaces(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 32 && c !== 9) break;
      this.pos++;
    }
  }
  /** Characters up to the next structural character (`,` `[` `]` `!` or a blank). */
  atom(): string {
    const t = this.text;
    const start = this.pos;
    let i = start;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c === 44 || c === 91 || c === 93 || c === 33 || c === 32 || c === 9) break;
      i++;
    }
    this.pos = i;
    return t.slice(start, i);
  }
}

class ExprError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export function parseAddress(text: string): ParseResult<AddressExpr> {
  let r = addressCache.get(text);
  if (r === undefined) {
    r = parseTop(text, parseAddressItem, (items) => ({ kind: 'list', items, negated: false }));
    if (r.ok && r.value.kind === 'list' && !text.trimStart().startsWith('[') && !text.trimStart().startsWith('!['))
      r = { ok: false, error: 'an address list must be in brackets', at: 0 };
    if (text.length <= CACHED_LENGTH) {
      if (addressCache.size >= MAX_CACHED) addressCache.clear();
      addressCache.set(text, r);
    }
  }
  return r;
}

export function parsePort(text: string): ParseResult<PortExpr> {
  let r = portCache.get(text);
  if (r === undefined) {
    r = parseTop(text, parsePortItem, (items) => ({ kind: 'list', items, negated: false }));
    if (text.length <= CACHED_LENGTH) {
      if (portCache.size >= MAX_CACHED) portCache.clear();
      portCache.set(text, r);
    }
  }
  return r;
}

function parseTop<T>(text: string, item: (c: Cursor) => T, list: (items: T[]) => T): ParseResult<T> {
  const c = new Cursor(text);
  try {
    const items = [item(c)];
    // Snort accepts a bare comma list at the top level for ports (`!5938,!1433`).
    while (c.peek() === ',') {
      c.pos++;
      items.push(item(c));
    }
    if (c.pos !== text.length) throw new ExprError(`unexpected '${text.slice(c.pos)}'`, c.pos);
    return { ok: true, value: items.length === 1 ? items[0]! : list(items) };
  } catch (e) {
    if (e instanceof ExprError) return { ok: false, error: e.message, at: e.at };
    throw e;
  }
}

function parseList<T extends { negated: boolean }>(c: Cursor, item: (c: Cursor) => T, what: string): T[] {
  const open = c.pos;
  if (c.depth >= MAX_LIST_DEPTH) throw new ExprError(`${what} lists nested more than ${MAX_LIST_DEPTH} deep`, open);
  c.depth++;
  c.pos++; // '['
  const items: T[] = [];
  for (;;) {
    c.skipSpaces();
    if (c.peek() === ']') throw new ExprError(`empty ${what} in list`, c.pos);
    items.push(item(c));
    c.skipSpaces();
    const ch = c.peek();
    if (ch === ',') {
      c.pos++;
      continue;
    }
    if (ch === ']') {
      c.pos++;
      c.depth--;
      return items;
    }
    throw new ExprError(ch === '' ? `unclosed '[' in ${what} list` : `unexpected '${ch}' in ${what} list`, ch === '' ? open : c.pos);
  }
}

function parseAddressItem(c: Cursor): AddressExpr {
  let negated = false;
  const start = c.pos;
  if (c.peek() === '!') {
    negated = true;
    c.pos++;
  }
  if (c.peek() === '[') {
    const items = parseList(c, parseAddressItem, 'address');
    return { kind: 'list', items, negated };
  }
  const atomAt = c.pos;
  const atom = c.atom();
  if (atom === '') throw new ExprError(c.peek() === '' ? 'missing address' : `unexpected '${c.peek()}'`, c.pos);
  if (atom === 'any') {
    if (negated) throw new ExprError("'!any' matches nothing", start);
    return { kind: 'any', negated };
  }
  if (atom[0] === '$') {
    const name = atom.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ExprError(`bad variable name '${atom}'`, atomAt);
    return { kind: 'var', name, negated };
  }
  const cidr = parseCidr(atom, negated);
  if (typeof cidr === 'string') throw new ExprError(cidr, atomAt);
  return cidr;
}

export interface Cidr {
  kind: 'cidr';
  family: 4 | 6;
  addr: Uint8Array;
  prefix: number;
  text: string;
}

/** `1.2.3.4`, `1.2.3.0/24`, `1.2.3.0/255.255.255.0`, `2001:db8::/32`; returns an error message on failure. */
export function parseCidr(text: string, negated = false): (Cidr & { negated: boolean }) | string {
  const slash = text.indexOf('/');
  const ipText = slash === -1 ? text : text.slice(0, slash);
  const maskText = slash === -1 ? undefined : text.slice(slash + 1);
  const v4 = parseIPv4(ipText);
  const addr = v4 ?? parseIPv6(ipText);
  if (addr === undefined) return `'${text}' is not an IP address, CIDR block, variable or 'any'`;
  const family = addr.length === 4 ? 4 : 6;
  const maxBits = family === 4 ? 32 : 128;
  let prefix = maxBits;
  if (maskText !== undefined) {
    if (maskText.length >= 1 && maskText.length <= 3 && /^\d+$/.test(maskText)) {
      prefix = Number(maskText);
      if (prefix > maxBits) return `prefix /${maskText} is longer than ${maxBits} bits`;
    } else if (family === 4 && parseIPv4(maskText)) {
      const m = parseIPv4(maskText)!;
      const bits = ((m[0]! << 24) | (m[1]! << 16) | (m[2]! << 8) | m[3]!) >>> 0;
      prefix = Math.clz32(~bits >>> 0);
      const expected = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      if (bits !== expected) return `netmask '${maskText}' is not contiguous`;
    } else return `bad prefix length '/${maskText}'`;
  }
  // (Built whole here: an object spread to add `negated` later cost about 1 µs per address.)
  return { kind: 'cidr', family, addr, prefix, text, negated };
}

/** Dotted quad to 4 bytes (views into a shared pool: big IP lists hold thousands), or undefined. */
export function parseIPv4(text: string): Uint8Array | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  if (ipPoolUsed + 4 > ipPool.length) {
    ipPool = new Uint8Array(IP_POOL_SIZE);
    ipPoolUsed = 0;
  }
  const at = ipPoolUsed;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || value > 255 || part > 3) return undefined;
      ipPool[at + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  if (part !== 4) return undefined;
  ipPoolUsed += 4;
  return ipPool.subarray(at, at + 4);
}

/** (Large enough for the 13,000 addresses of ET Open's reputation lists in one pool.) */
const IP_POOL_SIZE = 1 << 18;
let ipPool = new Uint8Array(IP_POOL_SIZE);
let ipPoolUsed = 0;

export function parseIPv6(text: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return undefined;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return undefined;
  const toGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = toGroups(text);
    if (g?.length !== 8) return undefined;
    groups = g;
  } else {
    const head = toGroups(text.slice(0, dbl));
    const tail = toGroups(text.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function parsePortNumber(text: string, at: number): number {
  if (!/^\d+$/.test(text)) throw new ExprError(`'${text}' is not a port number`, at);
  const n = Number(text);
  if (n > 65535) throw new ExprError(`port ${text} is above 65535`, at);
  return n;
}

function parsePortItem(c: Cursor): PortExpr {
  let negated = false;
  const start = c.pos;
  if (c.peek() === '!') {
    negated = true;
    c.pos++;
  }
  if (c.peek() === '[') {
    const items = parseList(c, parsePortItem, 'port');
    return { kind: 'list', items, negated };
  }
  const atomAt = c.pos;
  const atom = c.atom();
  if (atom === '') throw new ExprError(c.peek() === '' ? 'missing port' : `unexpected '${c.peek()}'`, c.pos);
  if (atom === 'any') {
    if (negated) throw new ExprError("'!any' matches no port", start);
    return { kind: 'any', negated };
  }
  if (atom[0] === '$') {
    const name = atom.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ExprError(`bad variable name '${atom}'`, atomAt);
    return { kind: 'var', name, negated };
  }
  const colon = atom.indexOf(':');
  if (colon === -1) {
    const n = parsePortNumber(atom, atomAt);
    return { kind: 'range', lo: n, hi: n, negated };
  }
  const loText = atom.slice(0, colon);
  const hiText = atom.slice(colon + 1);
  const lo = loText === '' ? 0 : parsePortNumber(loText, atomAt);
  const hi = hiText === '' ? 65535 : parsePortNumber(hiText, atomAt + colon + 1);
  if (loText === '' && hiText === '') throw new ExprError("':' alone is not a port range", atomAt);
  if (lo > hi) throw new ExprError(`port range ${atom} is empty (${lo} > ${hi})`, atomAt);
  return { kind: 'range', lo, hi, negated };
}
