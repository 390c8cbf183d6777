/**
 * Alerts to syslog, as Snort's alert_syslog and Suricata's syslog output send them: RFC 5424 messages to the local
 * socket (`/dev/log`, a datagram socket under rsyslog and journald, sent with the native addon's sendto since Node has
 * no AF_UNIX datagrams; a stream one, syslog-ng's unix-stream, when the path is one), or over UDP (RFC 5426,
 * one message a datagram) or TCP (RFC 6587 octet counting: `LEN SP MESSAGE`). Facility and severity are configurable
 * (severity fixed, or from the rule's priority); the message carries structured data (`[alert@32473 ...]`, every
 * field of the alert) and a Suricata-like line (`[Drop] [1:2000001:1] msg [Classification: ...] [Priority: 1] {TCP}
 * a:1 -> b:2`), or the line alone.
 *
 * Every field that came from the honeynet or a rule file (the rule's message and class, addresses, the app protocol)
 * is made safe for a syslog reader: in structured data `"`, `\` and `]` are escaped as RFC 5424 section 6.3.3 says;
 * everywhere, control characters (C0, DEL, C1, U+2028/2029) become visible stand-ins, so no field can end a message,
 * start another (newline injection into a file that rsyslog writes) or close the structured data early. Header fields
 * are printable US-ASCII only and cut to their RFC lengths. Sending never blocks the caller: a TCP or local connection
 * that is down or slow, a local datagram socket whose reader is behind (EAGAIN) or away (ECONNREFUSED: the daemon
 * restarting) queue at most `maxQueue` messages, retried with backoff, and count the rest as dropped.
 */
import { noControls } from './visible.js';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import { createRequire } from 'node:module';
import type { AlertEvent } from './alert.js';
import { formatFastAlert } from './alert.js';

export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

export const SEVERITIES: Readonly<Record<string, number>> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** The SD-ID of an alert's structured data (32473: the enterprise number RFC 5612 sets aside for documentation). */
export const SD_ID = 'alert@32473';

export interface SyslogFormat {
  facility: number;
  /** A fixed severity, or 'priority': the rule's priority 1 is crit, 2 err, 3 warning, 4 and up notice. */
  severity: number | 'priority';
  /** sd: structured data and the line; line: the line alone (Suricata's syslog output). */
  format: 'sd' | 'line';
  hostname: string;
  appName: string;
  procId: string;
}

/** A local socket: a datagram one (`dgram`), a stream one, or whichever the path is (`auto`: a datagram is tried first). */
export type UnixMode = 'auto' | 'dgram' | 'stream';

export type SyslogTarget =
  | { kind: 'unix'; path: string; mode?: UnixMode }
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'tcp'; host: string; port: number };

const UNIX_PREFIXES: readonly [string, UnixMode][] = [
  ['unix-dgram:', 'dgram'],
  ['unix-stream:', 'stream'],
  ['unix:', 'auto'],
];

/**
 * `HwSYSLOG` / `--syslog`: `/dev/log` or `unix:PATH` (the local socket, datagram or stream as it is),
 * `unix-dgram:PATH` or `unix-stream:PATH` (that kind only), `udp:HOST:PORT` or `HOST:PORT` (UDP), `tcp:HOST:PORT`; an
 * IPv6 host in brackets (`udp:[::1]:514`). Hosts are addresses, never names (no lookup on the packet path). An error
 * message when the text is none of these.
 */
export function parseSyslogTarget(text: string): SyslogTarget | string {
  const t = text.trim();
  if (t.startsWith('/')) return { kind: 'unix', path: t, mode: 'auto' };
  for (const [prefix, mode] of UNIX_PREFIXES) {
    if (!t.startsWith(prefix)) continue;
    const p = t.slice(prefix.length);
    return p.startsWith('/') ? { kind: 'unix', path: p, mode } : `'${safe(t)}': ${prefix} takes an absolute path (${prefix}/dev/log)`;
  }
  const m = /^(?:(udp|tcp):)?(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(t);
  if (m === null) return `'${safe(t)}' is not /dev/log, unix:PATH, unix-dgram:PATH, unix-stream:PATH, udp:ADDR:PORT, tcp:ADDR:PORT or ADDR:PORT`;
  const host = m[2] ?? m[3]!;
  const port = Number(m[4]);
  if (isIP(host) === 0) return `'${safe(host)}' is not an IP address`;
  if (port < 1 || port > 65535) return `port ${port} is not in 1..65535`;
  return { kind: (m[1] as 'udp' | 'tcp' | undefined) ?? 'udp', host, port };
}

/** Facility by name or number (0..23). */
export function parseFacility(text: string): number | string {
  const t = text.trim().toLowerCase();
  if (t in FACILITIES) return FACILITIES[t]!;
  if (/^\d{1,2}$/.test(t) && Number(t) <= 23) return Number(t);
  return `'${safe(text)}' is not a syslog facility (${Object.keys(FACILITIES).join(', ')}, or 0..23)`;
}

/** Severity by name or number (0..7), or 'priority'. */
export function parseSeverity(text: string): number | 'priority' | string {
  const t = text.trim().toLowerCase();
  if (t === 'priority') return 'priority';
  if (t in SEVERITIES) return SEVERITIES[t]!;
  if (/^\d$/.test(t) && Number(t) <= 7) return Number(t);
  return `'${safe(text)}' is not a syslog severity (priority, ${Object.keys(SEVERITIES).join(', ')}, or 0..7)`;
}

/** Text for an error message: printable ASCII, at most 80 characters. */
function safe(s: string): string {
  return asciiField(s, 80, '?');
}

export { noControls };

/** A PARAM-VALUE (RFC 5424 6.3.3): control characters made visible, `"` `\` `]` escaped, at most `max` characters. */
export function sdValue(s: string, max = 512): string {
  const t = noControls(s.length > max ? `${s.slice(0, max)}…` : s);
  return t.replace(/["\\\]]/g, (ch) => `\\${ch}`);
}

/** A header field: printable US-ASCII (33..126) only, others as `fill`, at most `max` characters; '-' when empty. */
export function asciiField(s: string, max: number, fill = '_'): string {
  let out = '';
  for (const ch of s) {
    if (out.length >= max) break;
    const c = ch.codePointAt(0)!;
    out += c >= 33 && c <= 126 ? ch : fill;
  }
  return out === '' ? '-' : out;
}

function severityOf(a: AlertEvent, f: SyslogFormat): number {
  if (f.severity !== 'priority') return f.severity;
  const p = a.priority;
  return p <= 1 ? 2 : p === 2 ? 3 : p === 3 ? 4 : 5;
}

function timestamp(a: AlertEvent): string {
  const d = new Date(a.tsSec * 1000);
  const iso = Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
  return `${iso.slice(0, 19)}.${String(Math.max(0, Math.min(999_999, a.tsUsec))).padStart(6, '0')}Z`;
}

/** The Suricata-like line: the fast alert without its timestamp, control characters made visible. */
export function alertLine(a: AlertEvent): string {
  return noControls(
    formatFastAlert(a)
      .replace(/\n$/, '')
      .replace(/^\S+\s+/, ''),
  );
}

/** One alert as an RFC 5424 message (no trailer: the transport frames it). */
export function formatSyslogAlert(a: AlertEvent, f: SyslogFormat): string {
  const pri = f.facility * 8 + severityOf(a, f);
  const header = `<${pri}>1 ${timestamp(a)} ${asciiField(f.hostname, 255)} ${asciiField(f.appName, 48)} ${asciiField(f.procId, 128)} alert`;
  let sd = '-';
  if (f.format === 'sd') {
    const p: [string, string | number | undefined][] = [
      ['gid', a.gid],
      ['sid', a.sid],
      ['rev', a.rev],
      ['action', a.action],
      ['blocked', a.blocked ? 1 : 0],
      ['replaced', a.replaced ? 1 : 0],
      ['priority', a.priority],
      ['classtype', a.classtype],
      ['proto', a.proto],
      ['src', a.src],
      ['sport', a.sport >= 0 ? a.sport : undefined],
      ['dst', a.dst],
      ['dport', a.dport >= 0 ? a.dport : undefined],
      ['icmp_type', a.icmpType],
      ['icmp_code', a.icmpCode],
      ['flow_id', a.flowId],
      ['community_id', a.communityId],
      ['app_proto', a.appProto],
      ['msg', a.msg],
    ];
    sd = `[${SD_ID}${p
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}="${sdValue(String(v))}"`)
      .join('')}]`;
  }
  const line = alertLine(a);
  // RFC 5424: a UTF-8 MSG starts with the BOM; ASCII needs none
  const bom = /[^\x20-\x7e]/.test(line) ? '\ufeff' : '';
  return `${header} ${sd} ${bom}${line}`;
}

/** What a sender did: messages sent, dropped (queue full, socket down), failed sends, the last error. */
export class SyslogStats {
  sent = 0;
  dropped = 0;
  errors = 0;
  lastError: string | undefined = undefined;
}

/** The native addon's local datagram socket (native/src/honeywall_unix.c). */
interface UnixDgramBinding {
  dgramOpen(): number;
  /** null when sent, else the errno's name. */
  dgramSend(fd: number, path: string, bytes: Uint8Array): string | null;
  dgramClose(fd: number): void;
}

/** The addon, or why it is not there (Node itself has no AF_UNIX datagram sockets). */
function unixDgramBinding(): UnixDgramBinding | string {
  try {
    const mod = createRequire(import.meta.url)('honeywall-native') as { unix?: UnixDgramBinding; unixError?: Error };
    if (mod.unix !== undefined) return mod.unix;
    return `the native addon's honeywall_unix is not built (${String(mod.unixError?.message ?? 'not loaded').split('\n')[0]})`;
  } catch (err) {
    return `the native addon (honeywall-native) is not installed (${String((err as Error).message).split('\n')[0]})`;
  }
}

/** Datagram send errors that pass (the reader is behind, or the daemon restarting): the message waits and is retried. */
const DGRAM_RETRY = new Set(['EAGAIN', 'ENOBUFS', 'ECONNREFUSED', 'ENOENT', 'EINTR']);
const DGRAM_BACKOFF_MS = 50;

function errnoError(code: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: sendto ${path}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export interface SyslogSenderOptions {
  /** Messages waiting for a TCP connection or the local socket at most (default 10,000); more are dropped, counted. */
  maxQueue?: number;
  /** Told once of each kind of failure (the gateway's stderr). */
  log?: (line: string) => void;
}

/**
 * Sends RFC 5424 messages to a target. `send` never throws and never waits; `close` flushes what is queued (at most
 * `graceMs`).
 */
export class SyslogSender {
  readonly stats = new SyslogStats();
  private udp: dgram.Socket | undefined;
  private dgramUnix: { binding: UnixDgramBinding; fd: number } | undefined;
  private stream: net.Socket | undefined;
  private connected = false;
  private queue: Buffer[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 500;
  private dgramBackoffMs = DGRAM_BACKOFF_MS;
  private closed = false;
  private unixMode: 'dgram' | 'stream' | undefined;
  private readonly maxQueue: number;
  private readonly said = new Set<string>();

  constructor(
    readonly target: SyslogTarget,
    private readonly opts: SyslogSenderOptions = {},
  ) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    if (target.kind === 'udp') {
      this.udp = dgram.createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => this.fail(err));
      this.udp.unref();
    } else if (target.kind === 'unix') {
      const mode = target.mode ?? 'auto';
      // a datagram socket first (rsyslog's and journald's /dev/log); a stream socket when the path is one
      const binding = mode === 'stream' ? undefined : unixDgramBinding();
      if (typeof binding === 'object') {
        try {
          this.dgramUnix = { binding, fd: binding.dgramOpen() };
        } catch (err) {
          this.fail(err as Error);
        }
      } else if (binding !== undefined) {
        if (mode === 'dgram') this.fail(new Error(binding));
        else this.opts.log?.(`syslog ${describe(target)}: ${binding}; a stream socket only`);
      }
      this.unixMode = this.dgramUnix !== undefined ? 'dgram' : mode === 'dgram' ? undefined : 'stream';
      if (this.unixMode === 'stream') this.connect();
    } else this.connect();
  }

  private fail(err: Error): void {
    this.stats.errors++;
    this.stats.lastError = err.message;
    const key = (err as NodeJS.ErrnoException).code ?? err.message;
    if (!this.said.has(key) && this.said.size < 20) {
      this.said.add(key);
      this.opts.log?.(`syslog ${describe(this.target)}: ${err.message}`);
    }
  }

  send(message: string): void {
    if (this.closed) return;
    const t = this.target;
    const body = Buffer.from(message, 'utf8');
    if (t.kind === 'udp') {
      this.udp!.send(body, t.port, t.host, (err) => {
        if (err) {
          this.stats.dropped++;
          this.fail(err);
        } else this.stats.sent++;
      });
      return;
    }
    if (t.kind === 'unix' && this.unixMode === undefined) {
      // a datagram socket asked for, and no way to send one (said once at the start)
      this.stats.dropped++;
      return;
    }
    if (t.kind === 'unix' && this.unixMode === 'dgram') {
      this.datagram(body);
      return;
    }
    this.enqueue(this.frame(body));
  }

  /**
   * One datagram to the local socket: sent; to wait (the reader is behind or away: retried); dropped (counted); or
   * the path is a stream socket, and what waits was reframed for it.
   */
  private sendDatagram(body: Buffer): 'sent' | 'wait' | 'dropped' | 'stream' {
    const u = this.dgramUnix!;
    const path = (this.target as { path: string }).path;
    const code = u.binding.dgramSend(u.fd, path, body);
    if (code === null) {
      this.stats.sent++;
      this.dgramBackoffMs = DGRAM_BACKOFF_MS;
      return 'sent';
    }
    // EPROTOTYPE: a stream socket there (syslog-ng's unix-stream): connect to it instead, unless a datagram socket
    // was asked for
    if (code === 'EPROTOTYPE' && (this.target as { mode?: UnixMode }).mode !== 'dgram') {
      this.unixMode = 'stream';
      this.queue = this.queue.map((b) => this.frame(b));
      this.connect();
      return 'stream';
    }
    if (DGRAM_RETRY.has(code)) {
      if (code !== 'EAGAIN' && code !== 'EINTR') this.fail(errnoError(code, path));
      return 'wait';
    }
    this.stats.dropped++;
    this.fail(errnoError(code, path));
    return 'dropped';
  }

  /** A new datagram: sent now, or queued behind those that wait (in order), within the bound. */
  private datagram(body: Buffer): void {
    if (this.queue.length === 0) {
      const r = this.sendDatagram(body);
      if (r === 'stream') this.enqueue(this.frame(body));
      if (r !== 'wait') return;
    }
    this.enqueue(body);
    this.retryDatagrams();
  }

  /** Sends what waits, in order, until one has to wait again. */
  private drainDatagrams(): void {
    while (this.queue.length > 0 && this.unixMode === 'dgram') {
      const r = this.sendDatagram(this.queue[0]!);
      if (r === 'wait' || r === 'stream') return;
      this.queue.shift();
    }
  }

  /** The datagrams that wait, tried again after a backoff (50 ms, doubling to 30 s while they cannot go). */
  private retryDatagrams(): void {
    if (this.retryTimer !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.drainDatagrams();
      if (this.queue.length > 0 && this.unixMode === 'dgram') {
        this.dgramBackoffMs = Math.min(this.dgramBackoffMs * 2, 30_000);
        this.retryDatagrams();
      }
    }, this.dgramBackoffMs);
    this.retryTimer.unref();
  }

  /** A message framed for a stream: octet counting over TCP (RFC 6587), a NUL after it on a local socket (as glibc's syslog). */
  private frame(body: Buffer): Buffer {
    return this.target.kind === 'tcp' ? Buffer.concat([Buffer.from(`${body.length} `), body]) : Buffer.concat([body, Buffer.from([0])]);
  }

  private enqueue(frame: Buffer): void {
    if (this.connected && this.stream !== undefined && this.queue.length === 0 && !this.stream.writableNeedDrain) {
      this.stream.write(frame);
      this.stats.sent++;
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(frame);
  }

  private drain(): void {
    const s = this.stream;
    if (s === undefined || !this.connected) return;
    while (this.queue.length > 0 && !s.writableNeedDrain) {
      s.write(this.queue.shift()!);
      this.stats.sent++;
    }
  }

  private connect(): void {
    if (this.closed || this.stream !== undefined) return;
    const t = this.target;
    const s = t.kind === 'tcp' ? net.connect({ host: t.host, port: t.port }) : net.connect({ path: (t as { path: string }).path });
    this.stream = s;
    s.unref();
    s.on('connect', () => {
      this.connected = true;
      this.backoffMs = 500;
      this.drain();
    });
    s.on('drain', () => this.drain());
    s.on('error', (err) => this.fail(err));
    s.on('close', () => {
      this.connected = false;
      this.stream = undefined;
      if (this.closed) return;
      // reconnect with backoff (0.5 s doubling to 30 s); what waits stays queued within maxQueue
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.retryTimer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    });
  }

  /** Sends what waits (at most `graceMs`), then closes. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    const deadline = Date.now() + graceMs;
    while (this.queue.length > 0 && (this.connected || this.unixMode === 'dgram') && Date.now() < deadline) {
      if (this.unixMode === 'dgram') this.drainDatagrams();
      else this.drain();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stats.dropped += this.queue.length;
    this.queue = [];
    if (this.stream !== undefined) {
      const s = this.stream;
      await new Promise<void>((r) => {
        s.end(() => r());
        setTimeout(r, Math.max(0, deadline - Date.now())).unref();
      });
      s.destroy();
    }
    // a UDP send completes on a later tick
    if (this.udp !== undefined) await new Promise<void>((r) => setImmediate(r));
    this.udp?.close();
    if (this.dgramUnix !== undefined) this.dgramUnix.binding.dgramClose(this.dgramUnix.fd);
    this.dgramUnix = undefined;
  }
}

export function describe(t: SyslogTarget): string {
  return t.kind === 'unix'
    ? `${t.mode === 'dgram' || t.mode === 'stream' ? `unix-${t.mode}` : 'unix'}:${t.path}`
    : `${t.kind}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** The usual header fields of this process (its host name, honeywall, its pid). */
export function defaultSyslogFormat(over: Partial<SyslogFormat> = {}): SyslogFormat {
  return {
    facility: FACILITIES.local5!,
    severity: 'priority',
    format: 'sd',
    hostname: os.hostname(),
    appName: 'honeywall',
    procId: String(process.pid),
    ...over,
  };
}

/** An alert writer's syslog side: format and send each alert. */
export class SyslogAlertOutput {
  constructor(
    readonly sender: SyslogSender,
    readonly format: SyslogFormat,
  ) {}

  write(a: AlertEvent): void {
    this.sender.send(formatSyslogAlert(a, this.format));
  }

  close(graceMs?: number): Promise<void> {
    return this.sender.close(graceMs);
  }
}
