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
  /** Variables already resolved as addresses and as ports (emptied whenever a variable is set). */
  private readonly resolved = { address: new Map<string, unknown>(), port: new Map<string, unknown>() };

  static withDefaults(): VariableTable {
    const t = new VariableTable();
    for (const [kind, name, value] of SNORT_DEFAULT_VARIABLES) t.set({ kind, name, value, origin: '<default>' });
    return t;
  }

  set(v: Variable): void {
    this.vars.set(v.name, v);
    // (Tested first: a snort.conf defines every variable before anything is resolved, and a clear is not free.)
    if (this.resolved.address.size > 0) this.resolved.address.clear();
    if (this.resolved.port.size > 0) this.resolved.port.clear();
  }

  /** The resolution cache of one kind of expression (resolveAddress, resolvePorts). */
  resolvedCache(kind: 'address' | 'port'): Map<string, unknown> {
    return this.resolved[kind];
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

/** Why an expression cannot be resolved; `code` is the diagnostic code lint reports it under. */
export class ResolveError extends Error {
  constructor(
    message: string,
    readonly code: 'unknown-variable' | 'variable-too-deep' | 'expansion-too-large' = 'unknown-variable',
  ) {
    super(message);
  }
}

/**
 * How deep variables and lists may nest, counted together (`$A` -> `[$B]` -> `$C` ... is one level per variable and
 * per list). Resolution recurses once per level: a chain of 10^6 variables overflowed the stack. Snort's shipped
 * snort.conf nests two levels (`$FILE_DATA_PORTS` -> `$HTTP_PORTS`).
 */
export const MAX_RESOLVE_DEPTH = 256;

/**
 * How many entries (addresses, ranges, `any`) one expression may expand to, counting every use of a variable
 * (`[$A,$A]` counts $A twice). A 40-line chain of `ipvar Vn [$Vn-1,$Vn-1]` expands to 2^40 entries: it ran V8 out of
 * memory. Variables are resolved once each and shared, so the count is what bounds the work of anything that walks
 * the expansion (the matcher's interval tables).
 */
export const MAX_EXPANSION = 100_000;

/** How one kind of expression (addresses or ports) resolves: its atoms, its variables, its grammar. */
interface SetKind<E extends AddressExpr | PortExpr, A> {
  noun: string;
  plural: string;
  /** The variable kind that may not be used here. */
  foreign: VariableKind;
  atom(expr: E): A | undefined;
  parse(text: string): { ok: true; value: E } | { ok: false; error: string };
}

const ADDRESSES: SetKind<AddressExpr, Cidr> = {
  noun: 'address',
  plural: 'addresses',
  foreign: 'portvar',
  atom: (e) => (e.kind === 'cidr' ? { kind: 'cidr', family: e.family, addr: e.addr, prefix: e.prefix, text: e.text } : undefined),
  parse: parseAddress,
};

const PORTS: SetKind<PortExpr, [number, number]> = {
  noun: 'port',
  plural: 'port ranges',
  foreign: 'ipvar',
  atom: (e) => (e.kind === 'range' ? [e.lo, e.hi] : undefined),
  parse: parsePort,
};

const withArticle = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** A resolved expression, with how many entries it expands to and how many levels it nests below itself. */
interface Resolved<A> {
  set: ValueSet<A>;
  size: number;
  height: number;
}

/** Marks a variable being resolved (a use of it below itself is a loop). */
const IN_PROGRESS = null;

class Resolver<E extends AddressExpr | PortExpr, A> {
  constructor(
    private readonly vars: VariableTable,
    private readonly kind: SetKind<E, A>,
    /** Resolved variables of this kind (the table's cache), or IN_PROGRESS. */
    private readonly done: Map<string, Resolved<A> | typeof IN_PROGRESS>,
  ) {}

  resolve(expr: E, depth: number): Resolved<A> {
    if (depth > MAX_RESOLVE_DEPTH) throw this.tooDeep();
    switch (expr.kind) {
      case 'any':
        return { set: { any: true, include: [], exclude: [] }, size: 1, height: 0 };
      case 'var': {
        const r = this.variable(expr.name, depth);
        return expr.negated ? { set: { any: false, include: [], exclude: [r.set] }, size: r.size, height: r.height } : r;
      }
      case 'list': {
        const inner: ValueSet<A> = { any: false, include: [], exclude: [] };
        let size = 0;
        let height = 0;
        const items = expr.items as E[];
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          const r = this.resolve(item, depth + 1);
          size += r.size;
          if (size > MAX_EXPANSION) throw this.tooLarge('the list');
          if (r.height + 1 > height) height = r.height + 1;
          // (Loops, not push(...spread): a spread of a huge array overflows the stack.)
          if (item.negated) for (let k = 0; k < r.set.exclude.length; k++) inner.exclude.push(r.set.exclude[k]!);
          else if (r.set.any && r.set.exclude.length === 0) inner.any = true;
          else inner.include.push(r.set);
        }
        return { set: expr.negated ? { any: false, include: [], exclude: [inner] } : inner, size, height };
      }
      default: {
        const atom = this.kind.atom(expr)!;
        return {
          set: expr.negated ? { any: false, include: [], exclude: [atom] } : { any: false, include: [atom], exclude: [] },
          size: 1,
          height: 0,
        };
      }
    }
  }

  /** A variable's value resolved once per table and shared by every use (its uses still count in the size). */
  private variable(name: string, depth: number): Resolved<A> {
    const kind = this.kind;
    const known = this.done.get(name);
    if (known === IN_PROGRESS) throw new ResolveError(`variable $${name} refers to itself`);
    if (known !== undefined) {
      // (The height is the variable's own: a use deep enough to pass the limit fails whichever use came first.)
      if (depth + known.height > MAX_RESOLVE_DEPTH) throw this.tooDeep();
      return known;
    }
    const v = this.vars.get(name);
    if (!v) throw new ResolveError(`undefined variable $${name}`);
    if (v.kind === kind.foreign) throw new ResolveError(`$${name} is ${withArticle(v.kind)}, used as ${withArticle(kind.noun)}`);
    const parsed = kind.parse(v.value);
    if (!parsed.ok) throw new ResolveError(`$${name} (${v.origin}) is not a ${kind.noun} list: ${parsed.error}`);
    this.done.set(name, IN_PROGRESS);
    let r: Resolved<A>;
    try {
      r = this.resolve(parsed.value, depth + 1);
    } catch (e) {
      this.done.delete(name);
      if (e instanceof ResolveError && e.code === 'expansion-too-large' && !e.message.startsWith('$')) throw this.tooLarge(`$${name} (${v.origin})`);
      throw e;
    }
    const own: Resolved<A> = { set: r.set, size: r.size, height: r.height + 1 };
    this.done.set(name, own);
    return own;
  }

  private tooDeep(): ResolveError {
    return new ResolveError(`variables and lists nested more than ${MAX_RESOLVE_DEPTH} deep`, 'variable-too-deep');
  }

  private tooLarge(what: string): ResolveError {
    return new ResolveError(`${what} expands to more than ${MAX_EXPANSION.toLocaleString('en-US')} ${this.kind.plural}`, 'expansion-too-large');
  }
}

export function resolveAddress(expr: AddressExpr, vars: VariableTable): AddressSet {
  return new Resolver(vars, ADDRESSES, vars.resolvedCache('address') as Map<string, Resolved<Cidr> | null>).resolve(expr, 0).set;
}

export function resolvePorts(expr: PortExpr, vars: VariableTable): PortSet {
  return new Resolver(vars, PORTS, vars.resolvedCache('port') as Map<string, Resolved<[number, number]> | null>).resolve(expr, 0).set;
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
