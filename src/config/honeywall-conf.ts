/**
 * Reader and validator for the Honeywall's `honeywall.conf` (roo format: `HwVAR=VALUE` lines).
 *
 * Reads the roo variable names and defaults unchanged (HONEYWALL.md section 3) plus the new settings
 * of this project (queue number, fail-open, NFLOG group, log target, IPv6, bridge name). Every value
 * is checked; problems come back as diagnostics (`file:line:column: error: HwTCPRATE: ...`), never
 * as exceptions. Used by `honeywall firewall` and later by `honeywall run`.
 */
import path from 'node:path';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import { readBoundedText } from './bounded-read.js';
import { ifaceNameProblem, MAX_IFACE_BYTES, printable } from './iface-name.js';
import { checkNetAddress, parseHostAddress, parseNetAddress, type NetAddress } from './net-address.js';

export type Scale = 'second' | 'minute' | 'hour' | 'day';
export const SCALES: readonly Scale[] = ['second', 'minute', 'hour', 'day'];
export type LogTarget = 'nflog' | 'log';
export type SebekFate = 'DROP' | 'ACCEPT';

/** iptables' `limit` match accepts at most this burst (and the Honeywall uses burst = rate). */
export const MAX_LIMIT_BURST = 10000;
/** The kernel LOG target keeps at most 29 characters of prefix; NFLOG prefixes are held to the same. */
export const MAX_LOG_PREFIX = 29;
/** IFNAMSIZ - 1 (bytes). */
export const MAX_IFACE_NAME = MAX_IFACE_BYTES;
/** A honeywall.conf is a page of settings; anything larger is not one (and is not read whole into memory). */
export const MAX_CONF_BYTES = 1 << 20;
/** Black, white and fence lists: at most this many bytes and entries (each entry is an iptables rule or two). */
export const MAX_LIST_BYTES = 16 << 20;
export const MAX_LIST_ENTRIES = 65_536;
/** Invalid entries reported per list file; the rest are counted in one last diagnostic. */
export const MAX_LIST_ERRORS = 20;
/** Syntax errors reported for the config file itself; the rest are counted in one last diagnostic. */
export const MAX_SYNTAX_ERRORS = 50;

export interface AddressList {
  /** Whether the list is in force (HwBWLIST_ENABLE / HwFENCELIST_ENABLE). */
  enabled: boolean;
  /** The list file as written in the config and as resolved against the config's directory. */
  path: string;
  resolvedPath: string;
  entries: NetAddress[];
}

/** An inclusive range of NFQUEUE numbers. */
export interface QueueRange {
  first: number;
  last: number;
}

/** Most queues HwQUEUE_BALANCE may span (the gateway runs one worker thread per queue). */
export const MAX_BALANCED_QUEUES = 64;

/** Per-protocol connection limits per honeypot, per `scale`. 0 = no new connections of that protocol. */
export interface Rates {
  tcp: number;
  udp: number;
  icmp: number;
  other: number;
}

export interface HoneywallConfig {
  /** The config file the values came from (for comments in the emitted files). */
  file: string;
  bridgeIface: string;
  inetIface: string;
  lanIface: string;
  manageIface: string;
  manageIp: NetAddress | null;
  manager: NetAddress[];
  sshdPort: number;
  allowedTcpIn: number[];
  restrict: boolean;
  allowedTcpOut: number[];
  allowedUdpOut: number[];
  honeypots: NetAddress[];
  lanBroadcast: NetAddress | null;
  /** Empty = any server. */
  dnsServers: NetAddress[];
  /** Hosts allowed uncounted DNS; defaults to every honeypot. */
  dnsHosts: NetAddress[];
  queue: boolean;
  queueNum: number;
  /** HwQUEUE_BALANCE: queues FIRST..LAST (NFQUEUE --queue-balance), or null for the single HwQUEUE_NUM. */
  queueBalance: QueueRange | null;
  failOpen: boolean;
  scale: Scale;
  rates: Rates;
  sebek: boolean;
  sebekFate: SebekFate;
  sebekDstIp: NetAddress | null;
  sebekDstPort: number;
  sebekLog: boolean;
  blackList: AddressList;
  whiteList: AddressList;
  fenceList: AddressList;
  roachMotel: boolean;
  logTarget: LogTarget;
  nflogGroup: number;
  logPrefix: string;
  ipv6: boolean;
  honeypots6: NetAddress[];
  manager6: NetAddress[];
  manageIp6: NetAddress | null;
  dnsServers6: NetAddress[];
  /** Settings read but not used by the firewall (HwALERT, HwALERT_EMAIL, ...), for other commands. */
  extra: Record<string, string>;
}

/** Where a setting's value is in the config file (for diagnostics about settings other modules read). */
export interface SettingPosition {
  line: number;
  column: number;
  offset: number;
  length: number;
}

export interface ConfResult {
  /** Null when any diagnostic is an error. */
  config: HoneywallConfig | null;
  diagnostics: Diagnostic[];
  /** Every setting present in the file, by name. */
  positions: Map<string, SettingPosition>;
}

/** One `VAR=VALUE` as found in the file. */
interface Setting {
  name: string;
  value: string;
  line: number;
  /** 1-based column and absolute offset of the first character of the value. */
  column: number;
  offset: number;
  /** False when the value is the default (no line in the file). */
  present: boolean;
}

/** The roo defaults (HONEYWALL.md section 3) and the new settings with theirs. */
export const DEFAULTS: Readonly<Record<string, string>> = {
  HwMANAGER: '10.10.10.0/24',
  HwSSHD_PORT: '22',
  HwALLOWED_TCP_IN: '443',
  HwHPOT_PUBLIC_IP: '10.0.0.20',
  HwINET_IFACE: 'eth0',
  HwLAN_IFACE: 'eth1',
  HwLAN_BCAST_ADDRESS: '10.0.0.255',
  HwDNS_SVRS: '',
  HwDNS_HOST: '',
  HwQUEUE: 'yes',
  HwSCALE: 'hour',
  HwTCPRATE: '20',
  HwUDPRATE: '20',
  HwICMPRATE: '50',
  HwOTHERRATE: '10',
  HwSEBEK: 'no',
  HwSEBEK_FATE: 'DROP',
  HwSEBEK_DST_IP: '10.0.0.253',
  HwSEBEK_DST_PORT: '1101',
  HwSEBEK_LOG: 'no',
  HwMANAGE_IFACE: 'eth2',
  HwMANAGE_IP: '10.10.10.66',
  HwRESTRICT: 'yes',
  HwALLOWED_TCP_OUT: '22 25 43 80 443',
  HwALLOWED_UDP_OUT: '53 123',
  HwALERT: 'no',
  HwALERT_EMAIL: '',
  HwFWBLACK: '/etc/blacklist.txt',
  HwFWWHITE: '/etc/whitelist.txt',
  HwFWFENCE: '/etc/fencelist.txt',
  HwBWLIST_ENABLE: 'no',
  HwFENCELIST_ENABLE: 'no',
  HwROACHMOTEL_ENABLE: 'no',
  // New settings (not in roo).
  HwBRIDGE_IFACE: 'br0',
  HwQUEUE_NUM: '0',
  HwQUEUE_BALANCE: '',
  HwFAIL_OPEN: 'no',
  HwLOG_TARGET: 'nflog',
  HwNFLOG_GROUP: '1',
  HwLOG_PREFIX: '',
  HwIPV6: 'no',
  HwHPOT_PUBLIC_IP6: '',
  HwMANAGER6: '',
  HwMANAGE_IP6: '',
  HwDNS_SVRS6: '',
};

/** Other roo honeywall.conf settings: accepted silently (they belong to other parts of the Honeywall). */
const OTHER_ROO_SETTINGS = new Set([
  'HwHOSTNAME',
  'HwDOMAIN',
  'HwTIME_SVR',
  'HwTIME_ZONE',
  'HwMANAGE_NETMASK',
  'HwMANAGE_GATEWAY',
  'HwMANAGE_DNS',
  'HwMANAGE_DOMAIN',
  'HwMANAGE_STARTUP',
  'HwLAN_IP_RANGE',
  'HwLAN_CIDR_PREFIX',
  'HwSTARTUP',
  'HwSUMMARY_EMAIL',
  'HwSNORT',
  'HwSNORT_INLINE',
  'HwSWATCH',
  'HwHFLOW',
  'HwPCAP',
]);

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters allowed in a log prefix: printable ASCII without quotes and backslash (safe in iptables-restore). */
const PREFIX_RE = /^[\x20-\x7e]*$/;

/** `file:line:column: severity code: message`, the one form of every problem the commands print. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Reads a list file; returns its text, or null when it cannot be read (with the reason). */
export type ListReader = (resolvedPath: string) => { text: string } | { error: string };

const diskReader: ListReader = (p) => readBoundedText(p, MAX_LIST_BYTES);

/** Read and validate a honeywall.conf from disk (list files too, relative to the config's directory). */
export function loadHoneywallConf(file: string): ConfResult {
  const got = readBoundedText(file, MAX_CONF_BYTES);
  if ('error' in got) {
    return {
      config: null,
      diagnostics: [diag('config-unreadable', 'error', `cannot read config: ${got.error}`, file, 1, 1, 0, 0)],
      positions: new Map(),
    };
  }
  return parseHoneywallConf(got.text, file, diskReader);
}

function diag(
  code: string,
  severity: Severity,
  message: string,
  file: string,
  line: number,
  column: number,
  offset: number,
  length: number,
): Diagnostic {
  return { code, severity, message, file, line, column, offset, length };
}

/** Split `VAR=VALUE` lines; syntax problems become diagnostics. */
function readSettings(text: string, file: string, out: Diagnostic[]): Map<string, Setting> {
  const settings = new Map<string, Setting>();
  let offset = 0;
  let syntaxErrors = 0;
  const lines = text.split('\n');
  const syntax = (message: string, line: number, column: number, at: number, length: number) => {
    syntaxErrors++;
    if (syntaxErrors <= MAX_SYNTAX_ERRORS) out.push(diag('syntax', 'error', message, file, line, column, at, length));
    else if (syntaxErrors === MAX_SYNTAX_ERRORS + 1) {
      out.push(
        diag(
          'too-many-errors',
          'error',
          `more syntax errors from this line on are not reported (is this a honeywall.conf?)`,
          file,
          line,
          column,
          at,
          length,
        ),
      );
    }
  };
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const lineStart = offset;
    offset += raw.length + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lead = line.length - line.trimStart().length;
    let body = line.trim();
    if (body === '' || body.startsWith('#')) return;
    let col = lead;
    if (body.startsWith('export ')) {
      const rest = body.slice(7).trimStart();
      col += body.length - rest.length;
      body = rest;
    }
    const eq = body.indexOf('=');
    const name = eq === -1 ? '' : body.slice(0, eq);
    if (eq <= 0 || !NAME_RE.test(name)) {
      syntax(`expected VAR=VALUE, got '${printable(body)}'`, lineNo, col + 1, lineStart + col, body.length);
      return;
    }
    let valueCol = col + eq + 1;
    let value = body.slice(eq + 1);
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      const close = value.indexOf(quote, 1);
      const after = close === -1 ? '' : value.slice(close + 1).trim();
      if (close === -1 || (after !== '' && !after.startsWith('#'))) {
        syntax(
          `${name}: unterminated or trailing text after quoted value '${printable(value)}'`,
          lineNo,
          valueCol + 1,
          lineStart + valueCol,
          value.length,
        );
        return;
      }
      value = value.slice(1, close);
      valueCol += 1;
    } else {
      const hash = value.search(/\s#/);
      if (hash !== -1) value = value.slice(0, hash);
      value = value.trimEnd();
      if (/["'`$\\]/.test(value)) {
        syntax(`${name}: unexpected quote or shell character in '${printable(value)}'`, lineNo, valueCol + 1, lineStart + valueCol, value.length);
        return;
      }
    }
    const previous = settings.get(name);
    if (previous) {
      out.push(
        diag(
          'duplicate-variable',
          'warning',
          `${name}: set again (line ${previous.line} is overridden)`,
          file,
          lineNo,
          col + 1,
          lineStart + col,
          name.length,
        ),
      );
    }
    settings.set(name, { name, value, line: lineNo, column: valueCol + 1, offset: lineStart + valueCol, present: true });
  });
  return settings;
}

/** A whitespace-separated item of a setting's value, with its position. */
interface Item {
  text: string;
  column: number;
  offset: number;
}

function items(s: Setting): Item[] {
  const out: Item[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s.value)) !== null) {
    out.push({ text: m[0], column: s.column + m.index, offset: s.offset + m.index });
  }
  return out;
}

/** Validates settings one by one, collecting diagnostics. */
class Checker {
  constructor(
    private readonly settings: Map<string, Setting>,
    readonly file: string,
    readonly out: Diagnostic[],
  ) {}

  get(name: string): Setting {
    const s = this.settings.get(name);
    if (s) return s;
    return { name, value: DEFAULTS[name] ?? '', line: 1, column: 1, offset: 0, present: false };
  }

  error(s: Setting, message: string, at?: Item): void {
    const where = s.present ? '' : ' (default value)';
    const column = at ? at.column : s.column;
    const offset = at ? at.offset : s.offset;
    const length = at ? at.text.length : s.value.length;
    this.out.push(diag('invalid-value', 'error', `${s.name}: ${message}${where}`, this.file, s.line, column, offset, length));
  }

  yesNo(name: string): boolean {
    const s = this.get(name);
    const v = s.value.trim().toLowerCase();
    if (v === 'yes') return true;
    if (v === 'no') return false;
    this.error(s, `expected yes or no, got '${printable(s.value)}'`);
    return false;
  }

  integer(name: string, min: number, max: number, what: string): number {
    const s = this.get(name);
    const v = s.value.trim();
    if (!/^\d+$/.test(v)) {
      this.error(s, `expected ${what} (an integer ${min}..${max}), got '${printable(s.value)}'`);
      return min;
    }
    const n = Number(v);
    if (n < min || n > max) {
      this.error(s, `${v} is out of range for ${what} (${min}..${max})`);
      return min;
    }
    return n;
  }

  rate(name: string): number {
    const s = this.get(name);
    const v = s.value.trim();
    if (!/^\d+$/.test(v)) {
      this.error(s, `expected a connection count (an integer 0..${MAX_LIMIT_BURST}), got '${printable(s.value)}'`);
      return 0;
    }
    const n = Number(v);
    if (n > MAX_LIMIT_BURST) {
      this.error(s, `${v} is over iptables' limit-burst maximum of ${MAX_LIMIT_BURST}`);
      return 0;
    }
    return n;
  }

  portList(name: string): number[] {
    const s = this.get(name);
    const ports: number[] = [];
    for (const it of items(s)) {
      if (!/^\d+$/.test(it.text) || Number(it.text) < 1 || Number(it.text) > 65535) {
        this.error(s, `'${printable(it.text)}' is not a port (1..65535)`, it);
        continue;
      }
      const p = Number(it.text);
      if (!ports.includes(p)) ports.push(p);
    }
    return ports;
  }

  /** An interface name, checked as the kernel checks it and for what iptables and tcpdump would misread. */
  iface(name: string): string {
    const s = this.get(name);
    const v = s.value.trim();
    const problem = ifaceNameProblem(v);
    if (problem !== undefined) this.error(s, v === '' ? problem : `interface name '${printable(v)}' ${problem}`);
    return v;
  }

  /** A list of addresses/networks of one family. `hosts` forbids prefixes. */
  addresses(name: string, family: 4 | 6, hosts: boolean): NetAddress[] {
    const s = this.get(name);
    const out: NetAddress[] = [];
    for (const it of items(s)) {
      const parsed = hosts ? parseHostAddress(it.text) : parseNetAddress(it.text);
      if (typeof parsed === 'string') {
        this.error(s, hosts ? `${parsed} (expected a host address)` : `${parsed} (expected an address or CIDR network)`, it);
      } else if (parsed.family !== family) {
        this.error(s, `'${printable(it.text)}' is an IPv${parsed.family} address, expected IPv${family}`, it);
      } else if (!out.some((a) => a.text === parsed.text)) {
        out.push(parsed);
      }
    }
    return out;
  }

  optionalHost(name: string, family: 4 | 6): NetAddress | null {
    const list = this.addresses(name, family, true);
    const s = this.get(name);
    if (list.length > 1) this.error(s, 'expected a single address');
    return list[0] ?? null;
  }

  choice<T extends string>(name: string, options: readonly T[], caseInsensitive: boolean): T {
    const s = this.get(name);
    const v = s.value.trim();
    const found = options.find((o) => (caseInsensitive ? o.toLowerCase() === v.toLowerCase() : o === v));
    if (found === undefined) this.error(s, `expected one of ${options.join(', ')}, got '${printable(s.value)}'`);
    return found ?? options[0]!;
  }
}

function readList(c: Checker, name: string, enabled: boolean, configFile: string, reader: ListReader): AddressList {
  const s = c.get(name);
  const listPath = s.value.trim();
  const resolvedPath = path.resolve(path.dirname(configFile), listPath);
  const list: AddressList = { enabled, path: listPath, resolvedPath, entries: [] };
  if (!enabled) return list;
  if (listPath === '') {
    c.error(s, 'a list file is required when the list is enabled');
    return list;
  }
  const got = reader(resolvedPath);
  if ('error' in got) {
    c.error(s, `list file '${printable(listPath)}': ${got.error}`);
    return list;
  }
  // The list file may be anything the config names (HwFWBLACK=/etc/shadow): its lines are never put in a message,
  // only their line number and what is wrong, and at most MAX_LIST_ERRORS of them are reported.
  let offset = 0;
  let invalid = 0;
  const seen = new Set<string>();
  const lines = got.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const start = offset;
    offset += raw.length + 1;
    const hash = raw.indexOf('#');
    const body = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (body === '') continue;
    const lead = raw.indexOf(body);
    const parsed = checkNetAddress(body);
    if ('problem' in parsed) {
      invalid++;
      if (invalid <= MAX_LIST_ERRORS) {
        c.out.push(
          diag(
            'invalid-list-entry',
            'error',
            `${name} list: the entry (${body.length} characters, not shown) ${parsed.problem}`,
            resolvedPath,
            i + 1,
            lead + 1,
            start + lead,
            body.length,
          ),
        );
      }
    } else if (!seen.has(parsed.text)) {
      if (list.entries.length === MAX_LIST_ENTRIES) {
        c.out.push(
          diag(
            'list-too-long',
            'error',
            `${name} list: more than ${MAX_LIST_ENTRIES} entries`,
            resolvedPath,
            i + 1,
            lead + 1,
            start + lead,
            body.length,
          ),
        );
        break;
      }
      seen.add(parsed.text);
      list.entries.push(parsed);
    }
  }
  if (invalid > MAX_LIST_ERRORS) {
    c.error(s, `list file '${printable(listPath)}': ${invalid - MAX_LIST_ERRORS} more invalid entries not reported (${invalid} in all)`);
  }
  return list;
}

/** All log prefixes the emitter uses for a config (without HwLOG_PREFIX). Kept here so the length check and the emitter agree. */
export function logPrefixes(rates: Rates): string[] {
  return [
    'INBOUND TCP: ',
    'INBOUND UDP: ',
    'INBOUND ICMP: ',
    'INBOUND OTHER: ',
    'OUTBOUND TCP: ',
    'OUTBOUND UDP: ',
    'OUTBOUND ICMP: ',
    'OUTBOUND OTHER: ',
    dropPrefix('tcp', rates.tcp),
    dropPrefix('udp', rates.udp),
    dropPrefix('icmp', rates.icmp),
    dropPrefix('other', rates.other),
    'BOUNCED OFF Fence: ',
    'SEBEK: ',
    'DHCP OUT REQUEST: ',
    'Legal DNS: ',
    'Honeypot -> Honeypot: ',
    'ROACH MOTEL: ',
    'DROP IPv6: ',
  ];
}

export type Proto = 'tcp' | 'udp' | 'icmp' | 'other';

/**
 * roo's over-limit prefix: `Drop TCP > 20 attempts `, lower-case for udp/icmp/other. Like every other
 * prefix it ends in a space: the kernel's LOG target prints the prefix and the packet fields with
 * nothing between them (`...attempts IN=br0`), and the NFLOG reader mirrors that.
 */
export function dropPrefix(proto: Proto, rate: number): string {
  return `Drop ${proto === 'tcp' ? 'TCP' : proto} > ${rate} attempts `;
}

/** Parse `FIRST:LAST` (HwQUEUE_BALANCE, `honeywall run --queue-balance`); a string is the reason it is not valid. */
export function parseQueueRange(text: string): QueueRange | string {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text.trim());
  if (!m) return `expected FIRST:LAST (NFQUEUE numbers, e.g. 0:1), got '${printable(text)}'`;
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first > 65535 || last > 65535) return `'${text}': queue numbers go up to 65535`;
  if (last <= first) return `'${text}': LAST must be greater than FIRST (iptables balances over two queues or more; for one, use HwQUEUE_NUM)`;
  if (last - first + 1 > MAX_BALANCED_QUEUES) return `'${text}' spans ${last - first + 1} queues, at most ${MAX_BALANCED_QUEUES}`;
  return { first, last };
}

/** Parse and validate honeywall.conf text. `file` names the source in diagnostics and resolves list paths. */
export function parseHoneywallConf(text: string, file: string, reader: ListReader = diskReader): ConfResult {
  const diagnostics: Diagnostic[] = [];
  const settings = readSettings(text, file, diagnostics);
  const positions = new Map<string, SettingPosition>();
  for (const st of settings.values()) positions.set(st.name, { line: st.line, column: st.column, offset: st.offset, length: st.value.length });
  const c = new Checker(settings, file, diagnostics);

  const extra: Record<string, string> = {};
  for (const s of settings.values()) {
    if (s.name in DEFAULTS) continue;
    extra[s.name] = s.value;
    if (OTHER_ROO_SETTINGS.has(s.name)) continue;
    const sev: Severity = 'warning';
    diagnostics.push(diag('unknown-variable', sev, `${s.name}: not a firewall setting, ignored`, file, s.line, 1, s.offset, s.name.length));
  }
  extra.HwALERT = c.get('HwALERT').value;
  extra.HwALERT_EMAIL = c.get('HwALERT_EMAIL').value;
  c.yesNo('HwALERT');

  const inetIface = c.iface('HwINET_IFACE');
  const lanIface = c.iface('HwLAN_IFACE');
  const manageIface = c.iface('HwMANAGE_IFACE');
  const bridgeIface = c.iface('HwBRIDGE_IFACE');
  const ifaces: Array<[string, string]> = [
    ['HwINET_IFACE', inetIface],
    ['HwLAN_IFACE', lanIface],
    ['HwMANAGE_IFACE', manageIface],
    ['HwBRIDGE_IFACE', bridgeIface],
  ];
  for (let i = 0; i < ifaces.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ifaces[i]![1] !== '' && ifaces[i]![1] === ifaces[j]![1]) {
        c.error(c.get(ifaces[i]![0]), `'${printable(ifaces[i]![1])}' is also ${ifaces[j]![0]}; the interfaces must differ`);
      }
    }
  }

  const honeypots = c.addresses('HwHPOT_PUBLIC_IP', 4, true);
  if (honeypots.length === 0 && !diagnostics.some((d) => d.message.startsWith('HwHPOT_PUBLIC_IP:'))) {
    c.error(c.get('HwHPOT_PUBLIC_IP'), 'at least one honeypot address is required');
  }
  const dnsHostsGiven = c.addresses('HwDNS_HOST', 4, true);
  const scale = c.choice('HwSCALE', SCALES, true);
  const rates: Rates = {
    tcp: c.rate('HwTCPRATE'),
    udp: c.rate('HwUDPRATE'),
    icmp: c.rate('HwICMPRATE'),
    other: c.rate('HwOTHERRATE'),
  };
  const sebek = c.yesNo('HwSEBEK');
  const sebekDstIp = c.optionalHost('HwSEBEK_DST_IP', 4);
  if (sebek && sebekDstIp === null) c.error(c.get('HwSEBEK_DST_IP'), 'required when HwSEBEK=yes');

  const bwEnabled = c.yesNo('HwBWLIST_ENABLE');
  const fenceEnabled = c.yesNo('HwFENCELIST_ENABLE');
  const logPrefix = c.get('HwLOG_PREFIX').value;
  const prefixSetting = c.get('HwLOG_PREFIX');
  if (!PREFIX_RE.test(logPrefix) || /["\\]/.test(logPrefix)) {
    c.error(prefixSetting, `'${printable(logPrefix)}' may hold only printable ASCII without quotes or backslashes`);
  } else {
    const longest = logPrefixes(rates)
      .map((p) => logPrefix + p)
      .reduce((a, b) => (b.length > a.length ? b : a), '');
    if (longest.length > MAX_LOG_PREFIX) {
      c.error(
        prefixSetting,
        `log prefix '${longest}' would be ${longest.length} characters, over the ${MAX_LOG_PREFIX}-character limit of iptables' LOG target`,
      );
    }
  }
  const balanceSetting = c.get('HwQUEUE_BALANCE');
  let queueBalance: QueueRange | null = null;
  if (balanceSetting.value.trim() !== '') {
    const r = parseQueueRange(balanceSetting.value);
    if (typeof r === 'string') c.error(balanceSetting, r);
    else queueBalance = r;
    const num = c.get('HwQUEUE_NUM');
    if (num.present && typeof r !== 'string' && num.value.trim() !== String(r.first)) {
      diagnostics.push(
        diag(
          'ignored-setting',
          'warning',
          `HwQUEUE_NUM: ignored, HwQUEUE_BALANCE=${balanceSetting.value.trim()} is in force`,
          file,
          num.line,
          num.column,
          num.offset,
          num.value.length,
        ),
      );
    }
  }
  const ipv6 = c.yesNo('HwIPV6');
  const honeypots6 = c.addresses('HwHPOT_PUBLIC_IP6', 6, true);
  if (ipv6 && honeypots6.length === 0) c.error(c.get('HwHPOT_PUBLIC_IP6'), 'at least one IPv6 honeypot address is required when HwIPV6=yes');

  const config: HoneywallConfig = {
    file,
    bridgeIface,
    inetIface,
    lanIface,
    manageIface,
    manageIp: c.optionalHost('HwMANAGE_IP', 4),
    manager: c.addresses('HwMANAGER', 4, false),
    sshdPort: c.integer('HwSSHD_PORT', 1, 65535, 'a port'),
    allowedTcpIn: c.portList('HwALLOWED_TCP_IN'),
    restrict: c.yesNo('HwRESTRICT'),
    allowedTcpOut: c.portList('HwALLOWED_TCP_OUT'),
    allowedUdpOut: c.portList('HwALLOWED_UDP_OUT'),
    honeypots,
    lanBroadcast: c.optionalHost('HwLAN_BCAST_ADDRESS', 4),
    dnsServers: c.addresses('HwDNS_SVRS', 4, false),
    dnsHosts: dnsHostsGiven.length > 0 ? dnsHostsGiven : honeypots,
    queue: c.yesNo('HwQUEUE'),
    queueNum: c.integer('HwQUEUE_NUM', 0, 65535, 'an NFQUEUE number'),
    queueBalance,
    failOpen: c.yesNo('HwFAIL_OPEN'),
    scale,
    rates,
    sebek,
    sebekFate: c.choice('HwSEBEK_FATE', ['DROP', 'ACCEPT'] as const, true),
    sebekDstIp,
    sebekDstPort: c.integer('HwSEBEK_DST_PORT', 1, 65535, 'a port'),
    sebekLog: c.yesNo('HwSEBEK_LOG'),
    blackList: readList(c, 'HwFWBLACK', bwEnabled, file, reader),
    whiteList: readList(c, 'HwFWWHITE', bwEnabled, file, reader),
    fenceList: readList(c, 'HwFWFENCE', fenceEnabled, file, reader),
    roachMotel: c.yesNo('HwROACHMOTEL_ENABLE'),
    logTarget: c.choice('HwLOG_TARGET', ['nflog', 'log'] as const, true),
    nflogGroup: c.integer('HwNFLOG_GROUP', 0, 65535, 'an NFLOG group'),
    logPrefix,
    ipv6,
    honeypots6,
    manager6: c.addresses('HwMANAGER6', 6, false),
    manageIp6: c.optionalHost('HwMANAGE_IP6', 6),
    dnsServers6: c.addresses('HwDNS_SVRS6', 6, false),
    extra,
  };
  diagnostics.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
  return { config: hasErrors(diagnostics) ? null : config, diagnostics, positions };
}
