/**
 * Rule options registered by Snort 2.9's dynamic preprocessors: SSL/TLS (ssl_version, ssl_state), DCE/RPC 2
 * (dce_iface, dce_opnum, dce_stub_data), SIP, GTP, Modbus, DNP3, sensitive data (sd_pattern), file type and AppId.
 * The matcher compiles and evaluates ssl_version and ssl_state (here); the others are not compiled.
 */
import type { HeaderOf } from '../match/plan.js';
import type { Subject } from '../match/subject.js';
import { defineKeyword, flagKeyword, type AnyKeywordSpec, type KeywordSpec, type ValueReporter } from './spec.js';
import { parseInteger, unquote } from './values.js';
import { noMoreThan, tokens } from './snort-args.js';

/** A list of names, each optionally negated with `!`, separated by `,` (or `|`). */
export interface NegatableName<T extends string = string> {
  name: T;
  negated: boolean;
}

function nameList<T extends string>(
  value: string | undefined,
  report: ValueReporter,
  what: string,
  allowed: readonly T[],
  allowNegation: boolean,
): NegatableName<T>[] | undefined {
  const out: NegatableName<T>[] = [];
  const v = value ?? '';
  for (const p of tokens(v, v.includes('|') && !v.includes(',') ? '|' : ',')) {
    let t = p.text;
    let negated = false;
    if (t.startsWith('!')) {
      if (!allowNegation) {
        report.error('bad-negation', `${what} names cannot be negated`, p.at, 1);
        return undefined;
      }
      negated = true;
      t = t.slice(1).trim();
    }
    const lower = t.toLowerCase();
    if (!(allowed as readonly string[]).includes(lower)) {
      report.error('bad-argument', `${what}: '${t}' is not one of ${allowed.join(', ')}`, p.at, Math.max(1, p.text.length));
      return undefined;
    }
    out.push({ name: lower as T, negated });
  }
  if (!out.length) {
    report.error('missing-value', `${what} needs at least one name`, 0, 1);
    return undefined;
  }
  return out;
}

export const SSL_VERSIONS = ['sslv2', 'sslv3', 'tls1.0', 'tls1.1', 'tls1.2'] as const;
export const SSL_STATES = ['client_hello', 'server_hello', 'client_keyx', 'server_keyx', 'unknown'] as const;

/**
 * What the matcher compares in the TLS record of the packet: the handshake type (ssl_state; `unknown`, -2, is no
 * handshake type, so it is never equal) and the record's minor version (ssl_version; SSLv2 records, -3, are not read).
 */
const SSL_STATE_CODES: Readonly<Record<(typeof SSL_STATES)[number], number>> = {
  client_hello: 1,
  server_hello: 2,
  client_keyx: 16,
  server_keyx: 12,
  unknown: -2,
};
const SSL_VERSION_CODES: Readonly<Record<(typeof SSL_VERSIONS)[number], number>> = { sslv2: -3, sslv3: 0, 'tls1.0': 1, 'tls1.1': 2, 'tls1.2': 3 };

export const ssl_version = defineKeyword<NegatableName<(typeof SSL_VERSIONS)[number]>[]>({
  name: 'ssl_version',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the SSL/TLS version(s) seen in the session',
  parse: (value, report) => nameList(value, report, 'ssl_version', SSL_VERSIONS, true),
  plan(list, into) {
    into.rule.headers.push({ t: 'ssl_version', versions: list.map((n) => SSL_VERSION_CODES[n.name]), negated: list.map((n) => n.negated) });
  },
});

export const ssl_state = defineKeyword<NegatableName<(typeof SSL_STATES)[number]>[]>({
  name: 'ssl_state',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the SSL/TLS handshake state(s) seen in the session',
  parse: (value, report) => nameList(value, report, 'ssl_state', SSL_STATES, true),
  plan(list, into) {
    into.rule.headers.push({ t: 'ssl_state', states: list.map((n) => SSL_STATE_CODES[n.name]), negated: list.map((n) => n.negated) });
  },
});

/**
 * ssl_state and ssl_version over the TLS record at the start of this packet's payload (Snort's SSLPP_rule_eval reads
 * the flags its preprocessor keeps for the session: an approximation). A negated name that is present fails the
 * test; otherwise any listed name present, or any negated name, passes.
 */
function sslListMatches(have: number, list: number[], negated: boolean[]): boolean {
  let any = false;
  for (let i = 0; i < list.length; i++) {
    if (negated[i]) {
      if (have === list[i]) return false;
      any = true;
    } else if (have === list[i]) any = true;
  }
  return any;
}

/** The payload starts with a TLS record (content type 20..23, major version 3) of at least six bytes. */
function tlsRecord(b: Uint8Array): boolean {
  return b.length >= 6 && b[0]! >= 0x14 && b[0]! <= 0x17 && b[1] === 3;
}

export function sslStateMatches(h: HeaderOf<'ssl_state'>, s: Subject): boolean {
  const b = s.payload;
  if (!tlsRecord(b)) return false;
  return sslListMatches(b[0] === 0x16 ? b[5]! : -1, h.states, h.negated);
}

export function sslVersionMatches(h: HeaderOf<'ssl_version'>, s: Subject): boolean {
  const b = s.payload;
  if (!tlsRecord(b)) return false;
  return sslListMatches(b[2]!, h.versions, h.negated);
}

export interface DceIfaceArgs {
  uuid: string;
  version?: { op: '<' | '>' | '=' | '!'; value: number };
  anyFrag: boolean;
}

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const IFACE_VERSION = /^([<>=!])\s*(\d+)$/;

export const dce_iface = defineKeyword<DceIfaceArgs>({
  name: 'dce_iface',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the DCE/RPC interface UUID (and version) bound to',
  parse(value, report) {
    const parts = tokens(value);
    if (!noMoreThan(parts, 3, report, 'dce_iface')) return undefined;
    const u = parts[0];
    if (!u || !UUID.test(u.text)) {
      report.error(
        'bad-uuid',
        `dce_iface needs a UUID like 4b324fc8-1670-01d3-1278-5a47bf6ee188; got '${u?.text ?? ''}'`,
        u?.at ?? 0,
        Math.max(1, u?.text.length ?? 1),
      );
      return undefined;
    }
    const args: DceIfaceArgs = { uuid: u.text.toLowerCase(), anyFrag: false };
    for (const p of parts.slice(1)) {
      if (p.text === 'any_frag') {
        args.anyFrag = true;
        continue;
      }
      const m = IFACE_VERSION.exec(p.text);
      if (!m || args.version) {
        report.error('bad-argument', `dce_iface takes '<op><version>' and 'any_frag'; got '${p.text}'`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
      const n = parseInteger(m[2]!, report, 'dce_iface version', 0, 65535, p.at + p.text.indexOf(m[2]!));
      if (n === undefined) return undefined;
      args.version = { op: m[1] as '<' | '>' | '=' | '!', value: n };
    }
    return args;
  },
});

export const dce_opnum = defineKeyword<{ lo: number; hi: number }[]>({
  name: 'dce_opnum',
  category: 'preprocessor',
  value: 'required',
  summary: 'match DCE/RPC operation numbers (lists and ranges)',
  parse(value, report) {
    const out: { lo: number; hi: number }[] = [];
    for (const p of tokens(value)) {
      const dash = p.text.indexOf('-');
      if (dash === -1) {
        const n = parseInteger(p.text, report, 'dce_opnum', 0, 65535, p.at);
        if (n === undefined) return undefined;
        out.push({ lo: n, hi: n });
        continue;
      }
      const lo = parseInteger(p.text.slice(0, dash), report, 'dce_opnum', 0, 65535, p.at);
      const hi = parseInteger(p.text.slice(dash + 1), report, 'dce_opnum', 0, 65535, p.at + dash + 1);
      if (lo === undefined || hi === undefined) return undefined;
      if (lo >= hi) {
        report.error('bad-range', `dce_opnum range ${p.text} must go from low to high`, p.at, p.text.length);
        return undefined;
      }
      out.push({ lo, hi });
    }
    if (!out.length) {
      report.error('missing-value', 'dce_opnum needs at least one number', 0, 1);
      return undefined;
    }
    return out;
  },
});

export const dce_stub_data = flagKeyword('dce_stub_data', 'preprocessor', 'set the cursor to the DCE/RPC stub data');

const SIP_METHOD = /^[A-Za-z][A-Za-z0-9_-]*$/;

export const sip_method = defineKeyword<NegatableName[]>({
  name: 'sip_method',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the SIP request method(s)',
  parse(value, report) {
    const out: NegatableName[] = [];
    const parts = tokens(value);
    for (const p of parts) {
      const negated = p.text.startsWith('!');
      const name = negated ? p.text.slice(1).trim() : p.text;
      if (!SIP_METHOD.test(name)) {
        report.error('bad-argument', `sip_method: '${p.text}' is not a method name`, p.at, Math.max(1, p.text.length));
        return undefined;
      }
      if (negated && parts.length > 1) {
        report.error('bad-negation', 'sip_method: only a single method can be negated', p.at, p.text.length);
        return undefined;
      }
      out.push({ name: name.toLowerCase(), negated });
    }
    if (!out.length) {
      report.error('missing-value', 'sip_method needs a method', 0, 1);
      return undefined;
    }
    return out;
  },
});

export const sip_stat_code = defineKeyword<number[]>({
  name: 'sip_stat_code',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the SIP response status code(s) (1-9 for a class, or 100-999)',
  parse(value, report) {
    const out: number[] = [];
    for (const p of tokens(value)) {
      const n = parseInteger(p.text, report, 'sip_stat_code', 1, 999, p.at);
      if (n === undefined) return undefined;
      if (n >= 10 && n < 100) {
        report.error('number-out-of-range', `sip_stat_code ${n}: use 1-9 for a class or 100-999 for a code`, p.at, p.text.length);
        return undefined;
      }
      out.push(n);
    }
    if (!out.length) {
      report.error('missing-value', 'sip_stat_code needs a code', 0, 1);
      return undefined;
    }
    return out;
  },
});

export const sip_header = flagKeyword('sip_header', 'preprocessor', 'set the cursor to the SIP headers');
export const sip_body = flagKeyword('sip_body', 'preprocessor', 'set the cursor to the SIP body');

/** A number, or a name Snort's preprocessor resolves (GTP message and IE names). */
export type NumberOrName = number | string;

const GTP_NAME = /^[a-z][a-z0-9_]*$/i;

function numberOrNameList(value: string | undefined, report: ValueReporter, what: string, max: number, single: boolean): NumberOrName[] | undefined {
  const out: NumberOrName[] = [];
  const parts = tokens(value);
  if (single && !noMoreThan(parts, 1, report, what)) return undefined;
  for (const p of parts) {
    if (/^\d/.test(p.text)) {
      const n = parseInteger(p.text, report, what, 0, max, p.at);
      if (n === undefined) return undefined;
      out.push(n);
    } else if (GTP_NAME.test(p.text)) out.push(p.text.toLowerCase());
    else {
      report.error('bad-argument', `${what}: '${p.text}' is neither a number nor a name`, p.at, Math.max(1, p.text.length));
      return undefined;
    }
  }
  if (!out.length) {
    report.error('missing-value', `${what} needs a value`, 0, 1);
    return undefined;
  }
  return out;
}

export const gtp_type = defineKeyword<NumberOrName[]>({
  name: 'gtp_type',
  category: 'preprocessor',
  value: 'required',
  summary: 'match GTP message type(s) (numbers or names)',
  parse: (value, report) => numberOrNameList(value, report, 'gtp_type', 255, false),
});

export const gtp_info = defineKeyword<NumberOrName>({
  name: 'gtp_info',
  category: 'preprocessor',
  value: 'required',
  summary: 'set the cursor to a GTP information element (number or name)',
  parse: (value, report) => numberOrNameList(value, report, 'gtp_info', 255, true)?.[0],
});

export const gtp_version = defineKeyword<0 | 1 | 2>({
  name: 'gtp_version',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the GTP version (0, 1 or 2)',
  parse: (value, report) => parseInteger(value ?? '', report, 'gtp_version', 0, 2) as 0 | 1 | 2 | undefined,
});

export const MODBUS_FUNCTIONS: Readonly<Record<string, number>> = {
  read_coils: 1,
  read_discrete_inputs: 2,
  read_holding_registers: 3,
  read_input_registers: 4,
  write_single_coil: 5,
  write_single_register: 6,
  read_exception_status: 7,
  diagnostics: 8,
  get_comm_event_counter: 11,
  get_comm_event_log: 12,
  write_multiple_coils: 15,
  write_multiple_registers: 16,
  report_slave_id: 17,
  read_file_record: 20,
  write_file_record: 21,
  mask_write_register: 22,
  read_write_multiple_registers: 23,
  read_fifo_queue: 24,
  encapsulated_interface_transport: 43,
};

export const DNP3_FUNCTIONS: Readonly<Record<string, number>> = {
  confirm: 0,
  read: 1,
  write: 2,
  select: 3,
  operate: 4,
  direct_operate: 5,
  direct_operate_nr: 6,
  immed_freeze: 7,
  immed_freeze_nr: 8,
  freeze_clear: 9,
  freeze_clear_nr: 10,
  freeze_at_time: 11,
  freeze_at_time_nr: 12,
  cold_restart: 13,
  warm_restart: 14,
  initialize_data: 15,
  initialize_appl: 16,
  start_appl: 17,
  stop_appl: 18,
  save_config: 19,
  enable_unsolicited: 20,
  disable_unsolicited: 21,
  assign_class: 22,
  delay_measure: 23,
  record_current_time: 24,
  open_file: 25,
  close_file: 26,
  delete_file: 27,
  get_file_info: 28,
  authenticate_file: 29,
  abort_file: 30,
  activate_config: 31,
  authenticate_req: 32,
  authenticate_err: 33,
  response: 129,
  unsolicited_response: 130,
  authenticate_resp: 131,
};

export const DNP3_INDICATIONS = [
  'all_stations',
  'class_1_events',
  'class_2_events',
  'class_3_events',
  'need_time',
  'local_control',
  'device_trouble',
  'device_restart',
  'no_func_code_support',
  'object_unknown',
  'parameter_error',
  'event_buffer_overflow',
  'already_executing',
  'config_corrupt',
  'reserved_2',
  'reserved_1',
] as const;

function functionCode(name: string, table: Readonly<Record<string, number>>, summary: string): KeywordSpec<number> {
  return defineKeyword<number>({
    name,
    category: 'preprocessor',
    value: 'required',
    summary,
    parse(value, report) {
      const t = (value ?? '').trim();
      if (/^\d+$/.test(t)) return parseInteger(t, report, name, 0, 255);
      const n = table[t.toLowerCase()];
      if (n === undefined) {
        report.error('bad-argument', `${name}: '${t}' is neither a number 0-255 nor a function name`, 0, Math.max(1, (value ?? '').length));
        return undefined;
      }
      return n;
    },
  });
}

export const modbus_func = functionCode('modbus_func', MODBUS_FUNCTIONS, 'match the Modbus function code (number or name)');
export const modbus_unit = defineKeyword<number>({
  name: 'modbus_unit',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the Modbus unit identifier',
  parse: (value, report) => parseInteger(value ?? '', report, 'modbus_unit', 0, 255),
});
export const modbus_data = flagKeyword('modbus_data', 'preprocessor', 'set the cursor to the Modbus data');
export const dnp3_func = functionCode('dnp3_func', DNP3_FUNCTIONS, 'match the DNP3 function code (number or name)');

export const dnp3_obj = defineKeyword<{ group: number; variation: number }>({
  name: 'dnp3_obj',
  category: 'preprocessor',
  value: 'required',
  summary: 'match a DNP3 object header (group, variation)',
  parse(value, report) {
    const parts = tokens(value);
    if (parts.length !== 2) {
      report.error('bad-argument-count', "dnp3_obj takes '<group>, <variation>'", 0, Math.max(1, (value ?? '').length));
      return undefined;
    }
    const group = parseInteger(parts[0]!.text, report, 'dnp3_obj group', 0, 255, parts[0]!.at);
    const variation = parseInteger(parts[1]!.text, report, 'dnp3_obj variation', 0, 255, parts[1]!.at);
    if (group === undefined || variation === undefined) return undefined;
    return { group, variation };
  },
});

export const dnp3_ind = defineKeyword<NegatableName<(typeof DNP3_INDICATIONS)[number]>[]>({
  name: 'dnp3_ind',
  category: 'preprocessor',
  value: 'required',
  summary: 'match DNP3 internal indication flags',
  parse: (value, report) => nameList(value, report, 'dnp3_ind', DNP3_INDICATIONS, false),
});

export const dnp3_data = flagKeyword('dnp3_data', 'preprocessor', 'set the cursor to the reassembled DNP3 application data');

export interface SdPatternArgs {
  threshold: number;
  /** A built-in (credit_card, us_social, us_social_nodashes, email) or a custom pattern. */
  pattern: string;
  builtin: boolean;
}

const SD_BUILTINS = ['credit_card', 'us_social', 'us_social_nodashes', 'email'];

export const sd_pattern = defineKeyword<SdPatternArgs>({
  name: 'sd_pattern',
  category: 'preprocessor',
  value: 'required',
  summary: 'count sensitive data (credit cards, SSNs, e-mail, custom patterns) and alert over a threshold',
  parse(value, report) {
    const v = value ?? '';
    const comma = v.indexOf(',');
    if (comma === -1) {
      report.error('bad-argument', "sd_pattern takes '<count>, <pattern>'", 0, Math.max(1, v.length));
      return undefined;
    }
    const threshold = parseInteger(v.slice(0, comma), report, 'sd_pattern count', 1, 255);
    if (threshold === undefined) return undefined;
    const pattern = v.slice(comma + 1).trim();
    if (pattern === '') {
      report.error('missing-argument', 'sd_pattern needs a pattern', comma, 1);
      return undefined;
    }
    return { threshold, pattern, builtin: SD_BUILTINS.includes(pattern) };
  },
});

const FILE_WORD = /^[A-Za-z0-9_.-]+$/;

function fileNames(name: string, summary: string): KeywordSpec<string[]> {
  return defineKeyword<string[]>({
    name,
    category: 'preprocessor',
    value: 'required',
    summary,
    parse(value, report) {
      const out: string[] = [];
      const v = value ?? '';
      for (const p of tokens(v, v.includes('|') ? '|' : ',')) {
        if (!FILE_WORD.test(p.text)) {
          report.error('bad-argument', `${name}: '${p.text}' is not a file type name`, p.at, Math.max(1, p.text.length));
          return undefined;
        }
        out.push(p.text);
      }
      if (!out.length) {
        report.error('missing-value', `${name} needs a name`, 0, 1);
        return undefined;
      }
      return out;
    },
  });
}

export const file_type = fileNames('file_type', 'match the type of the file being transferred (file rules)');
export const file_group = fileNames('file_group', 'match the group of the file type being transferred (file rules)');

export const appids = defineKeyword<string[]>({
  name: 'appids',
  category: 'preprocessor',
  value: 'required',
  summary: 'match the application(s) OpenAppId identified',
  parse(value, report) {
    const names = unquote(value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (!names.length) {
      report.error('missing-value', 'appids needs at least one application name', 0, 1);
      return undefined;
    }
    return names;
  },
});

export const preprocessorKeywords: AnyKeywordSpec[] = [
  ssl_version,
  ssl_state,
  dce_iface,
  dce_opnum,
  dce_stub_data,
  sip_method,
  sip_stat_code,
  sip_header,
  sip_body,
  gtp_type,
  gtp_info,
  gtp_version,
  modbus_func,
  modbus_unit,
  modbus_data,
  dnp3_func,
  dnp3_obj,
  dnp3_ind,
  dnp3_data,
  sd_pattern,
  file_type,
  file_group,
  appids,
];
