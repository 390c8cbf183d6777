/**
 * The gateway's settings: honeywall.conf as the firewall reads it (src/config/honeywall-conf.ts),
 * plus the runtime's own Hw* names (defaults in RUNTIME_DEFAULTS). Problems come back as
 * `file:line:column: error code: HwNAME: ...` lines (at the setting's value; 1:1 for a default), never as exceptions.
 */
import os from 'node:os';
import path from 'node:path';
import { formatDiagnostic, loadHoneywallConf, parseQueueRange, type HoneywallConfig, type SettingPosition } from '../config/honeywall-conf.js';
import { ifaceNameProblem, printable } from '../config/iface-name.js';
import { AlertRuleError, defaultAlertRules, parseAlertRule, type AlertRule } from './alerting.js';
import type { MatcherSpec } from './matcher-loader.js';
import { CONSOLE_DEFAULTS, loadConsoleSettings, type ConsoleSettings } from '../console/config.js';
import { checkStoreUrl, redactUrl, SENSOR_NAME } from '../store/central/connect.js';
import { parseFacility, parseSeverity, parseSyslogTarget, type SyslogTarget } from '../output/syslog.js';

export const RUNTIME_DEFAULTS: Readonly<Record<string, string>> = {
  HwLOG_DIR: '/var/log/honeywall',
  HwIPS_RULES: '',
  HwIPS_MATCHER: '',
  HwHOME_NET: '',
  HwEXTERNAL_NET: 'any',
  HwQUEUE_MAXLEN: '4096',
  HwIPS_WORKERS: 'auto',
  HwCAPTURE: 'yes',
  HwCAPTURE_IFACE: '',
  // Empty: HwLOG_DIR/pcap (so that --log-dir moves the capture too, unless HwCAPTURE_DIR is set).
  HwCAPTURE_DIR: '',
  HwCAPTURE_ROTATE: '86400',
  HwCAPTURE_KEEP_DAYS: '30',
  HwCAPTURE_MAX_GB: '0',
  HwLOG_KEEP_DAYS: '90',
  HwSEBEK_MAGIC: '',
  HwSEBEK_DB: '/var/lib/honeywall/sebek.sqlite',
  HwSEBEK_IFACE: '',
  HwSTATUS_FILE: '/run/honeywall/status.json',
  HwSTATUS_INTERVAL: '10',
  HwSMTP_HOST: 'localhost',
  HwSMTP_PORT: '25',
  HwALERT_FROM: '',
  HwHOSTNAME: '',
  // alerts to syslog (RFC 5424): /dev/log, unix:PATH, udp:ADDR:PORT, tcp:ADDR:PORT; empty: none
  HwSYSLOG: '',
  HwSYSLOG_FACILITY: 'local5',
  HwSYSLOG_SEVERITY: 'priority',
  HwSYSLOG_FORMAT: 'sd',
  // the central store the gateway ships its store to (src/store/central/): a postgres:// URL, this gateway's sensor
  // name there (empty: HwHOSTNAME), and the central retention in days (0: keep all; every gateway applies its own)
  HwSTORE_URL: '',
  HwSENSOR: '',
  HwSTORE_RETENTION_DAYS: '0',
  // the local store's own bound (the spool, src/store/spool.ts): pages in use at most this many GB, rows kept at most
  // this many days (0: no bound); unshipped rows are dropped only to hold the size bound, counted
  HwSTORE_MAX_GB: '0',
  HwSTORE_KEEP_DAYS: '0',
  // the analysis store and the console (honeywall console reads them; known here so that run does not warn about them)
  ...CONSOLE_DEFAULTS,
};

const RUNTIME_NAMES = new Set(Object.keys(RUNTIME_DEFAULTS));

/** The local store's bound (HwSTORE_MAX_GB, HwSTORE_KEEP_DAYS; 0: none): the spool's sweep, src/store/spool.ts. */
export interface SpoolSettings {
  maxBytes: number;
  keepDays: number;
}

/** Shipping the store to the central PostgreSQL store (HwSTORE_URL, HwSENSOR, HwSTORE_RETENTION_DAYS). */
export interface CentralSettings {
  url: string;
  sensor: string;
  keepDays: number;
}

export interface GatewayConfig {
  file: string;
  firewall: HoneywallConfig;
  logDir: string;
  inspector: MatcherSpec;
  queues: number[];
  queueMaxLen: number;
  /** Worker threads for the queues (0 = serve the queue in the main thread). */
  workers: number;
  nflogGroup: number | undefined;
  capture: { iface: string; dir: string; rotateSeconds: number; keepDays: number; maxBytes: number } | undefined;
  /** Rotated logs older than this many days are deleted; 0 = kept. */
  logKeepDays: number;
  /** Start (and reload) with no rules at all: every queued packet accepted. */
  allowEmpty: boolean;
  /** Where each setting of the file is, for messages about it. */
  positions: Map<string, SettingPosition>;
  sebek: { iface: string; port: number; magic: number | undefined; db: string } | undefined;
  statusFile: string;
  statusIntervalMs: number;
  alerting: { rules: AlertRule[]; smtpHost: string; smtpPort: number; from: string };
  hostname: string;
  /**
   * The analysis store the gateway fills as it runs (HwSTORE set in the file, or --store): its file, the honeypots
   * its rows are filed under, and whether the Sebek tap already writes the Sebek rows there (HwSEBEK_DB the same file).
   */
  store: { file: string; honeypots: string; sebekInStore: boolean; central: CentralSettings | undefined; spool: SpoolSettings } | undefined;
  /** The console, started by `run` when HwCONSOLE_LISTEN is set (the same settings as `honeywall console`). */
  console: ConsoleSettings | undefined;
  /** Alerts to syslog (HwSYSLOG). */
  syslog: { target: SyslogTarget; facility: number; severity: number | 'priority'; format: 'sd' | 'line' } | undefined;
}

export interface GatewayConfigResult {
  config: GatewayConfig | null;
  errors: string[];
  warnings: string[];
}

export interface GatewayOverrides {
  logDir?: string;
  rules?: string[];
  matcher?: string;
  queueBalance?: string;
  statusFile?: string;
  noCapture?: boolean;
  workers?: string;
  allowEmpty?: boolean;
  /** --store FILE: fill this store (as HwSTORE does). */
  store?: string;
}

/** `file:line:column: error code: NAME: message`, at the setting's value when the file has it. */
export function settingError(file: string, positions: ReadonlyMap<string, SettingPosition>, name: string, code: string, message: string): string {
  const at = positions.get(name);
  return `${file}:${at?.line ?? 1}:${at?.column ?? 1}: error ${code}: ${name}: ${message}`;
}

/** A size in GB (a decimal number, 0 = no cap) as bytes, `min` bytes at the least when not 0; or why not. */
export function parseGb(value: string, min = 0): number | string {
  const text = value.trim();
  if (!/^\d{1,7}(\.\d{1,9})?$/.test(text)) return `'${printable(text.slice(0, 40))}' is not a size in GB (a decimal number, 0 = no cap)`;
  const bytes = Math.round(Number(text) * 1e9);
  if (bytes > 0 && bytes < min) return `'${printable(text)}' is below ${min / 1e9} GB (0 = no cap)`;
  return bytes;
}

/** The store's size bound at the least (its schema alone takes about 0.5 MB: a smaller bound could never be met). */
export const MIN_STORE_BYTES = 1e6;

/** "0:3" -> [0,1,2,3] (the same FIRST:LAST rules as honeywall.conf's HwQUEUE_BALANCE). */
export function parseQueueBalance(text: string): number[] | string {
  const r = parseQueueRange(text);
  if (typeof r === 'string') return r;
  return Array.from({ length: r.last - r.first + 1 }, (_, i) => r.first + i);
}

export function loadGatewayConfig(file: string, over: GatewayOverrides = {}): GatewayConfigResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const { config: fw, diagnostics, positions } = loadHoneywallConf(file);
  for (const d of diagnostics) {
    if (d.severity === 'error') errors.push(formatDiagnostic(d));
    else if (d.code === 'unknown-variable' && (RUNTIME_NAMES.has(nameIn(d.message)) || nameIn(d.message).startsWith('HwWATCH_'))) continue;
    else warnings.push(formatDiagnostic(d));
  }
  if (!fw) return { config: null, errors, warnings };
  const v = (name: string): string => fw.extra[name] ?? RUNTIME_DEFAULTS[name] ?? '';
  const err = (name: string, msg: string, code = 'invalid-value') => errors.push(settingError(file, positions, name, code, msg));
  const int = (name: string, text: string, lo: number, hi: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < lo || n > hi) {
      err(name, `'${printable(text)}' is not a number in ${lo}..${hi}`);
      return lo;
    }
    return n;
  };
  const iface = (name: string, fallback: string): string => {
    const given = v(name).trim();
    if (given === '') return fallback;
    const problem = ifaceNameProblem(given);
    if (problem !== undefined) err(name, `interface name '${printable(given)}' ${problem}`);
    return given;
  };
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string) => path.resolve(dir, p);

  const logDir = over.logDir !== undefined ? path.resolve(over.logDir) : resolve(v('HwLOG_DIR'));
  // The queues the firewall sends to (HwQUEUE_BALANCE, validated with the firewall's settings, else HwQUEUE_NUM).
  const fwb = fw.queueBalance;
  let queues = fwb ? Array.from({ length: fwb.last - fwb.first + 1 }, (_, i) => fwb.first + i) : [fw.queueNum];
  if (over.queueBalance !== undefined) {
    const q = parseQueueBalance(over.queueBalance);
    if (typeof q === 'string') err('--queue-balance', q);
    else {
      const fwText = fwb ? `HwQUEUE_BALANCE=${fwb.first}:${fwb.last}` : `HwQUEUE_NUM=${fw.queueNum}`;
      const at = positions.get(fwb ? 'HwQUEUE_BALANCE' : 'HwQUEUE_NUM');
      if (q.join() !== queues.join())
        warnings.push(
          `${file}:${at?.line ?? 1}:${at?.column ?? 1}: warning queue-mismatch: --queue-balance ${over.queueBalance} differs from the firewall's ${fwText}: packets for queues nobody serves are dropped (fail closed)`,
        );
      queues = q;
    }
  }
  const workersText = over.workers ?? v('HwIPS_WORKERS');
  let workers: number;
  if (workersText === 'auto') workers = queues.length > 1 ? Math.min(queues.length, Math.max(1, os.availableParallelism() - 1)) : 0;
  else workers = int('HwIPS_WORKERS', workersText, 0, 64);
  if (workers > 0 && workers !== queues.length) {
    // One worker per queue: with fewer cores than queues, the queues still each get their worker.
    workers = queues.length;
  }

  const honeypots = fw.honeypots.map((a) => a.text);
  const homeNet = v('HwHOME_NET') || (honeypots.length === 1 ? honeypots[0]! : `[${honeypots.join(',')}]`);
  const rules = over.rules ?? v('HwIPS_RULES').split(/\s+/).filter(Boolean).map(resolve);
  const matcher = over.matcher ?? (v('HwIPS_MATCHER') ? resolve(v('HwIPS_MATCHER')) : undefined);
  const allowEmpty = over.allowEmpty === true;
  if (fw.queue && rules.length === 0 && !matcher && !allowEmpty) {
    // Inline with nothing to match: every packet the firewall queues would be accepted, which looks like a working
    // IPS and is none. Said at the setting (or at the top of the file when neither is there).
    err(
      positions.has('HwIPS_RULES') || !positions.has('HwIPS_MATCHER') ? 'HwIPS_RULES' : 'HwIPS_MATCHER',
      'HwQUEUE=yes and no rules are set (neither HwIPS_RULES nor HwIPS_MATCHER): every packet the firewall queues would be accepted. ' +
        'Set one, or start with --allow-empty to run inline with no rules on purpose',
      'no-rules',
    );
  }

  const captureOn = !over.noCapture && v('HwCAPTURE') === 'yes';
  if (!['yes', 'no'].includes(v('HwCAPTURE'))) err('HwCAPTURE', `'${printable(v('HwCAPTURE'))}' is not yes or no`);
  const keepDays = (name: string) => int(name, v(name).trim(), 0, 36_500);
  const gb = (name: string, min = 0): number => {
    const bytes = parseGb(v(name), min);
    if (typeof bytes === 'string') {
      err(name, bytes);
      return 0;
    }
    return bytes;
  };
  const maxBytes = gb('HwCAPTURE_MAX_GB');
  const capture = captureOn
    ? {
        iface: iface('HwCAPTURE_IFACE', fw.lanIface),
        // An explicit HwCAPTURE_DIR wins; otherwise the capture lives under the log directory (--log-dir included).
        dir: v('HwCAPTURE_DIR').trim() ? resolve(v('HwCAPTURE_DIR').trim()) : path.join(logDir, 'pcap'),
        rotateSeconds: int('HwCAPTURE_ROTATE', v('HwCAPTURE_ROTATE'), 60, 31 * 86400),
        keepDays: keepDays('HwCAPTURE_KEEP_DAYS'),
        maxBytes,
      }
    : undefined;
  const logKeepDays = keepDays('HwLOG_KEEP_DAYS');

  let magic: number | undefined;
  if (v('HwSEBEK_MAGIC')) {
    const t = v('HwSEBEK_MAGIC');
    const n = /^0x[0-9a-f]{1,8}$/i.test(t) ? parseInt(t.slice(2), 16) : /^[0-9]{1,10}$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) err('HwSEBEK_MAGIC', `'${printable(t)}' is not a 32-bit number (decimal or 0x hex)`);
    else magic = n;
  }
  const sebek = fw.sebek ? { iface: iface('HwSEBEK_IFACE', fw.lanIface), port: fw.sebekDstPort, magic, db: resolve(v('HwSEBEK_DB')) } : undefined;

  const email = (fw.extra.HwALERT_EMAIL ?? '').split(/[\s,]+/).filter(Boolean);
  const alertRules: AlertRule[] = [];
  for (const [name, value] of Object.entries(fw.extra)) {
    if (!name.startsWith('HwWATCH_')) continue;
    try {
      alertRules.push(parseAlertRule(name.slice('HwWATCH_'.length), value, email));
    } catch (e) {
      if (e instanceof AlertRuleError) err(name, e.message);
      else throw e;
    }
  }
  const alertOn = (fw.extra.HwALERT ?? 'no') === 'yes';
  if (alertOn && alertRules.length === 0) {
    if (email.length === 0) err('HwALERT_EMAIL', 'HwALERT=yes needs an address (or HwWATCH_ rules)');
    else alertRules.push(...defaultAlertRules(email));
  }
  const hostname = v('HwHOSTNAME') || os.hostname();

  // the store: only when asked for (HwSTORE in the file or --store; the console's default path is not a request)
  const storeText = over.store !== undefined ? path.resolve(over.store) : fw.extra.HwSTORE ? resolve(fw.extra.HwSTORE) : undefined;
  let central: CentralSettings | undefined;
  const storeUrl = v('HwSTORE_URL').trim();
  if (storeUrl !== '') {
    const sensor = v('HwSENSOR').trim() || hostname;
    const bad = checkStoreUrl(storeUrl);
    if (bad !== undefined) err('HwSTORE_URL', `${redactUrl(storeUrl)}: ${bad}`);
    else if (storeText === undefined) err('HwSTORE_URL', 'the central store is fed from the local store (the spool): set HwSTORE too');
    if (!SENSOR_NAME.test(sensor)) err('HwSENSOR', `'${printable(sensor.slice(0, 80))}' is not 1 to 64 printable characters without spaces`);
    const keep = keepDays('HwSTORE_RETENTION_DAYS');
    if (bad === undefined && storeText !== undefined && SENSOR_NAME.test(sensor)) central = { url: storeUrl, sensor, keepDays: keep };
  }
  const spool: SpoolSettings = { maxBytes: gb('HwSTORE_MAX_GB', MIN_STORE_BYTES), keepDays: keepDays('HwSTORE_KEEP_DAYS') };
  if (storeText === undefined) {
    for (const name of ['HwSTORE_MAX_GB', 'HwSTORE_KEEP_DAYS']) {
      if (fw.extra[name] !== undefined && !/^[0.]*$/.test(fw.extra[name]!.trim())) err(name, 'bounds the local store: set HwSTORE too');
    }
  }
  const store =
    storeText === undefined
      ? undefined
      : {
          file: storeText,
          honeypots: [...fw.honeypots, ...fw.honeypots6].map((a) => a.text).join(' '),
          sebekInStore: sebek !== undefined && path.resolve(sebek.db) === storeText,
          central,
          spool,
        };
  let consoleSettings: ConsoleSettings | undefined;
  if (fw.extra.HwCONSOLE_LISTEN) {
    const cs = loadConsoleSettings(file, { db: storeText });
    for (const e of cs.errors) errors.push(e);
    consoleSettings = cs.settings ?? undefined;
  }
  let syslog: GatewayConfig['syslog'];
  if (v('HwSYSLOG').trim() !== '') {
    const target = parseSyslogTarget(v('HwSYSLOG'));
    const facility = parseFacility(v('HwSYSLOG_FACILITY'));
    const severity = parseSeverity(v('HwSYSLOG_SEVERITY'));
    const format = v('HwSYSLOG_FORMAT').trim();
    if (typeof target === 'string') err('HwSYSLOG', target);
    if (typeof facility === 'string') err('HwSYSLOG_FACILITY', facility);
    if (typeof severity === 'string' && severity !== 'priority') err('HwSYSLOG_SEVERITY', severity);
    if (format !== 'sd' && format !== 'line') err('HwSYSLOG_FORMAT', `'${printable(format)}' is not sd or line`);
    if (typeof target !== 'string' && typeof facility !== 'string' && (typeof severity !== 'string' || severity === 'priority')) {
      syslog = { target, facility, severity, format: format === 'line' ? 'line' : 'sd' };
    }
  }

  const config: GatewayConfig = {
    file,
    firewall: fw,
    logDir,
    inspector: { rules, matcher, allowEmpty, vars: { HOME_NET: homeNet, EXTERNAL_NET: v('HwEXTERNAL_NET') } },
    queues,
    queueMaxLen: int('HwQUEUE_MAXLEN', v('HwQUEUE_MAXLEN'), 1, 1 << 20),
    workers,
    nflogGroup: fw.logTarget === 'nflog' ? fw.nflogGroup : undefined,
    capture,
    logKeepDays,
    allowEmpty,
    positions,
    sebek,
    statusFile: over.statusFile ?? resolve(v('HwSTATUS_FILE')),
    statusIntervalMs: int('HwSTATUS_INTERVAL', v('HwSTATUS_INTERVAL'), 1, 3600) * 1000,
    alerting: {
      rules: alertOn || Object.keys(fw.extra).some((k) => k.startsWith('HwWATCH_')) ? alertRules : [],
      smtpHost: v('HwSMTP_HOST'),
      smtpPort: int('HwSMTP_PORT', v('HwSMTP_PORT'), 1, 65535),
      from: v('HwALERT_FROM') || `honeywall@${hostname}`,
    },
    hostname,
    store,
    console: consoleSettings,
    syslog,
  };
  return { config: errors.length ? null : config, errors, warnings };
}

function nameIn(message: string): string {
  return message.split(':')[0] ?? '';
}
