/**
 * Snort variables (`var`, `ipvar`, `portvar`): the defaults of the shipped Snort 2.9 snort.conf, overrides, and
 * resolution of header expressions into address and port sets the matcher can test.
 */
import type { AddressExpr, PortExpr } from '../ast.js';
import { parseAddress, parsePort, type Cidr } from '../parser/address.js';

export type VariableKind = 'ipvar' | 'portvar' | 'var';

export interface Variable {
  name: string;
  kind: VariableKind;
  value: string;
  /** Where it was defined: `<default>`, `--var`, or file:line. */
  origin: string;
}

const HTTP_PORTS =
  '[36,80,81,82,83,84,85,86,87,88,89,90,311,383,443,555,591,593,623,631,664,801,808,818,901,972,1158,1220,1270,1414,1533,1581,1719,1720,1741,1801,1812,1830,1942,2231,2301,2375,2381,2578,2809,2869,2980,3000,3029,3037,3057,3128,3443,3702,4000,4343,4592,4848,5000,5054,5060,5061,5117,5222,5250,5416,5443,5450,5480,5555,5600,5814,5894,5984,5985,5986,6080,6173,6988,7000,7001,7005,7070,7071,7080,7144,7145,7180,7181,7510,7770,7777,7778,7779,8000,8001,8008,8014,8015,8020,8028,8040,8080,8081,8082,8085,8088,8090,8095,8118,8123,8161,8180,8181,8182,8222,8243,8280,8300,8333,8344,8393,8400,8443,8484,8500,8509,8694,8787,8800,8852,8880,8888,8899,8983,9000,9001,9002,9050,9060,9080,9090,9091,9111,9200,9201,9290,9443,9447,9700,9710,9788,9830,9850,9999,10000,10080,10100,10250,10255,10297,10443,11371,12601,13014,14592,15489,16000,16992,16993,16994,16995,17000,18081,19980,29991,30007,30018,30888,33300,34412,34443,34444,36099,40007,41080,44449,49152,49153,50000,50002,50452,51423,53331,54444,55252,55555,56712]';

/** The variables of Snort 2.9's shipped snort.conf (2.9.20), in definition order. */
export const SNORT_DEFAULT_VARIABLES: readonly [VariableKind, string, string][] = [
  ['ipvar', 'HOME_NET', 'any'],
  ['ipvar', 'EXTERNAL_NET', 'any'],
  ['ipvar', 'DNS_SERVERS', '$HOME_NET'],
  ['ipvar', 'SMTP_SERVERS', '$HOME_NET'],
  ['ipvar', 'HTTP_SERVERS', '$HOME_NET'],
  ['ipvar', 'SQL_SERVERS', '$HOME_NET'],
  ['ipvar', 'TELNET_SERVERS', '$HOME_NET'],
  ['ipvar', 'SSH_SERVERS', '$HOME_NET'],
  ['ipvar', 'FTP_SERVERS', '$HOME_NET'],
  ['ipvar', 'SIP_SERVERS', '$HOME_NET'],
  ['portvar', 'HTTP_PORTS', HTTP_PORTS],
  ['portvar', 'SHELLCODE_PORTS', '!80'],
  ['portvar', 'ORACLE_PORTS', '1024:'],
  ['portvar', 'SSH_PORTS', '22'],
  ['portvar', 'FTP_PORTS', '[21,2100,3535]'],
  ['portvar', 'SIP_PORTS', '[5060,5061,5600]'],
  ['portvar', 'FILE_DATA_PORTS', '[$HTTP_PORTS,110,143]'],
  ['portvar', 'GTP_PORTS', '[2123,2152,3386]'],
  [
    'ipvar',
    'AIM_SERVERS',
    '[64.12.24.0/23,64.12.28.0/23,64.12.161.0/24,64.12.163.0/24,64.12.200.0/24,205.188.3.0/24,205.188.5.0/24,205.188.7.0/24,205.188.9.0/24,205.188.153.0/24,205.188.179.0/24,205.188.248.0/24]',
  ],
  ['var', 'RULE_PATH', '../rules'],
  ['var', 'SO_RULE_PATH', '../so_rules'],
  ['var', 'PREPROC_RULE_PATH', '../preproc_rules'],
  ['var', 'WHITE_LIST_PATH', '../rules'],
  ['var', 'BLACK_LIST_PATH', '../rules'],
];

export class VariableTable {
  private readonly vars = new Map<string, Variable>();

  static withDefaults(): VariableTable {
    const t = new VariableTable();
    for (const [kind, name, value] of SNORT_DEFAULT_VARIABLES) t.set({ kind, name, value, origin: '<default>' });
    return t;
  }

  set(v: Variable): void {
    this.vars.set(v.name, v);
  }

  get(name: string): Variable | undefined {
    return this.vars.get(name);
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Every variable, in definition order (to rebuild the table elsewhere, e.g. in a worker thread). */
  entries(): Variable[] {
    return [...this.vars.values()];
  }

  static fromEntries(entries: Iterable<Variable>): VariableTable {
    const t = new VariableTable();
    for (const v of entries) t.set(v);
    return t;
  }

  /** `$NAME` and `${NAME}` substituted (for include paths); unknown names are left as written. */
  substitute(text: string): string {
    return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => this.vars.get(name)?.value ?? m);
  }
}

/** Parses `NAME=VALUE` from `--var`. */
export function parseVarOverride(text: string): { name: string; value: string } | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  const name = text.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  return { name, value: text.slice(eq + 1).trim() };
}

/** Whether an expression uses a variable (what lint asks of every rule's addresses and ports, lists of IPs included). */
export function usesVariables(expr: AddressExpr | PortExpr): boolean {
  if (expr.kind === 'var') return true;
  if (expr.kind !== 'list') return false;
  const items = expr.items;
  for (let i = 0; i < items.length; i++) if (usesVariables(items[i]!)) return true;
  return false;
}

// ---------------------------------------------------------------- resolution for matching

/**
 * A resolved set (of addresses or of port ranges): it matches when no excluded entry matches and some included one
 * does (or, with nothing included, when something was excluded: `!$X` alone means "anything but $X").
 */
export interface ValueSet<A> {
  any: boolean;
  include: (A | ValueSet<A>)[];
  exclude: (A | ValueSet<A>)[];
}

export type AddressSet = ValueSet<Cidr>;
export type PortSet = ValueSet<[number, number]>;

export class ResolveError extends Error {}

/** How one kind of expression (addresses or ports) resolves: its atoms, its variables, its grammar. */
interface SetKind<E extends AddressExpr | PortExpr, A> {
  noun: string;
  /** The variable kind that may not be used here. */
  foreign: VariableKind;
  atom(expr: E): A | undefined;
  parse(text: string): { ok: true; value: E } | { ok: false; error: string };
}

const ADDRESSES: SetKind<AddressExpr, Cidr> = {
  noun: 'address',
  foreign: 'portvar',
  atom: (e) => (e.kind === 'cidr' ? { kind: 'cidr', family: e.family, addr: e.addr, prefix: e.prefix, text: e.text } : undefined),
  parse: parseAddress,
};

const PORTS: SetKind<PortExpr, [number, number]> = {
  noun: 'port',
  foreign: 'ipvar',
  atom: (e) => (e.kind === 'range' ? [e.lo, e.hi] : undefined),
  parse: parsePort,
};

const withArticle = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function resolveSet<E extends AddressExpr | PortExpr, A>(expr: E, vars: VariableTable, kind: SetKind<E, A>, seen: ReadonlySet<string>): ValueSet<A> {
  const negate = (set: ValueSet<A>): ValueSet<A> => (expr.negated ? { any: false, include: [], exclude: [set] } : set);
  switch (expr.kind) {
    case 'any':
      return { any: true, include: [], exclude: [] };
    case 'var': {
      const v = vars.get(expr.name);
      if (!v) throw new ResolveError(`undefined variable $${expr.name}`);
      if (v.kind === kind.foreign) throw new ResolveError(`$${expr.name} is ${withArticle(v.kind)}, used as ${withArticle(kind.noun)}`);
      if (seen.has(expr.name)) throw new ResolveError(`variable $${expr.name} refers to itself`);
      const parsed = kind.parse(v.value);
      if (!parsed.ok) throw new ResolveError(`$${expr.name} (${v.origin}) is not a ${kind.noun} list: ${parsed.error}`);
      return negate(resolveSet(parsed.value, vars, kind, new Set([...seen, expr.name])));
    }
    case 'list': {
      const inner: ValueSet<A> = { any: false, include: [], exclude: [] };
      for (const item of expr.items as E[]) {
        const r = resolveSet(item, vars, kind, seen);
        if (item.negated) inner.exclude.push(...r.exclude);
        else if (r.any && r.exclude.length === 0) inner.any = true;
        else inner.include.push(r);
      }
      return negate(inner);
    }
    default: {
      const atom = kind.atom(expr)!;
      return expr.negated ? { any: false, include: [], exclude: [atom] } : { any: false, include: [atom], exclude: [] };
    }
  }
}

export function resolveAddress(expr: AddressExpr, vars: VariableTable): AddressSet {
  return resolveSet(expr, vars, ADDRESSES, new Set());
}

export function resolvePorts(expr: PortExpr, vars: VariableTable): PortSet {
  return resolveSet(expr, vars, PORTS, new Set());
}

function setMatches<A>(set: ValueSet<A>, isSet: (e: A | ValueSet<A>) => e is ValueSet<A>, test: (atom: A) => boolean): boolean {
  for (const e of set.exclude) if (isSet(e) ? setMatches(e, isSet, test) : test(e)) return false;
  if (set.any) return true;
  if (set.include.length === 0) return set.exclude.length > 0;
  for (const e of set.include) if (isSet(e) ? setMatches(e, isSet, test) : test(e)) return true;
  return false;
}

function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  if (c.addr.length !== ip.length) return false;
  let bits = c.prefix;
  for (let i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (c.addr[i]! & mask)) return false;
  }
  return true;
}

const isAddressSet = (e: Cidr | AddressSet): e is AddressSet => !('kind' in e);
const isPortSet = (e: [number, number] | PortSet): e is PortSet => !Array.isArray(e);

export function addressMatches(set: AddressSet, ip: Uint8Array): boolean {
  return setMatches(set, isAddressSet, (c) => cidrContains(c, ip));
}

export function portMatches(set: PortSet, port: number): boolean {
  return setMatches(set, isPortSet, (r) => port >= r[0] && port <= r[1]);
}
