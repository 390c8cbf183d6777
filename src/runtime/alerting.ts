/**
 * Alerting, the Swatch successor. Rules come from honeywall.conf, one per `HwWATCH_<name>` line:
 *
 *   HwWATCH_<name>="<watch> [filters] <actions> [throttle=DURATION]"
 *
 * watch:   outbound   a new outbound connection (firewall "OUTBOUND <PROTO>: " lines)
 *          limit      a honeypot hit its connection limit (firewall "Drop ..." lines)
 *          firewall   any firewall line, with pattern=/REGEX/
 *          ids        an IDS/IPS event; filters sid=1,2 classtype=a,b action=drop,reject
 *          keystrokes a Sebek keystroke line matching pattern=/REGEX/
 * filters: proto=tcp,udp,icmp,other (outbound, limit), sid=, classtype=, action=, pattern=/REGEX/flags
 * actions: mail=ADDR[,ADDR] (SMTP via HwSMTP_HOST:HwSMTP_PORT, from HwALERT_FROM), subject='TEXT',
 *          exec='COMMAND' (sh -c; HW_ALERT_RULE, HW_ALERT_SUBJECT, HW_ALERT_TEXT in its environment, the text on stdin),
 *          webhook=URL (POST of a JSON body)
 * throttle: like Swatch's: at most one notice per rule and key (the honeypot, or the sid) per DURATION
 *          (`90s`, `10m`, `10h`, `1d`, or `H:M:S`); the suppressed count goes with the next one.
 *
 * With HwALERT=yes and no HwWATCH_ rule, the Honeywall's own watches apply: outbound and limit,
 * mailed to HwALERT_EMAIL, throttled 10 hours.
 */
import { noControls } from '../output/visible.js';
import { spawn } from 'node:child_process';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertEvent } from '../output/alert.js';
import { systemClock, type Clock } from './clock.js';
import type { KeystrokeLine } from '../sebek/session.js';

export type WatchKind = 'outbound' | 'limit' | 'firewall' | 'ids' | 'keystrokes';
const WATCHES: readonly WatchKind[] = ['outbound', 'limit', 'firewall', 'ids', 'keystrokes'];

export interface AlertRule {
  name: string;
  watch: WatchKind;
  protos?: string[];
  sids?: number[];
  classtypes?: string[];
  actions?: string[];
  pattern?: RegExp;
  mail?: string[];
  subject?: string;
  exec?: string;
  webhook?: string;
  throttleMs: number;
}

export class AlertRuleError extends Error {}

/** Split a rule value into words; '...' and "..." quote, /.../flags stays one word. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    while (i < text.length && !/\s/.test(text[i]!)) {
      const ch = text[i]!;
      if (ch === "'" || ch === '"') {
        const end = text.indexOf(ch, i + 1);
        if (end === -1) throw new AlertRuleError(`unterminated ${ch} quote`);
        word += text.slice(i + 1, end);
        i = end + 1;
      } else if (ch === '/' && (word.endsWith('=') || word === '')) {
        let j = i + 1;
        while (j < text.length && text[j] !== '/') j += text[j] === '\\' ? 2 : 1;
        if (j >= text.length) throw new AlertRuleError('unterminated /regex/');
        word += text.slice(i, j + 1);
        i = j + 1;
      } else {
        word += ch;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}

/** `90s`, `10m`, `10h`, `1d`, `H:M:S` or plain seconds -> ms. */
export function parseDuration(text: string): number {
  const hms = /^(\d+):(\d+):(\d+)$/.exec(text);
  if (hms) return ((Number(hms[1]) * 60 + Number(hms[2])) * 60 + Number(hms[3])) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new AlertRuleError(`throttle: '${text}' is not a duration (90s, 10m, 10h, 1d or H:M:S)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function parseRegex(text: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(text);
  try {
    return m ? new RegExp(m[1]!, m[2]) : new RegExp(text);
  } catch (err) {
    throw new AlertRuleError(`pattern: ${(err as Error).message}`);
  }
}

/** Parse one `HwWATCH_<name>` value. Throws AlertRuleError with the offending word. */
export function parseAlertRule(name: string, text: string, defaultMail: string[] = []): AlertRule {
  const words = splitWords(text);
  const watch = words.shift();
  if (watch === undefined || !WATCHES.includes(watch as WatchKind)) {
    throw new AlertRuleError(`'${watch ?? ''}' is not a watch (one of ${WATCHES.join(', ')})`);
  }
  const rule: AlertRule = { name, watch: watch as WatchKind, throttleMs: 0 };
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  for (const w of words) {
    const eq = w.indexOf('=');
    const key = eq === -1 ? w : w.slice(0, eq);
    const value = eq === -1 ? '' : w.slice(eq + 1);
    switch (key) {
      case 'proto':
        rule.protos = list(value.toLowerCase());
        break;
      case 'sid': {
        rule.sids = list(value).map((s) => {
          const n = Number(s);
          if (!Number.isInteger(n) || n <= 0) throw new AlertRuleError(`sid: '${s}' is not a rule id`);
          return n;
        });
        break;
      }
      case 'classtype':
        rule.classtypes = list(value);
        break;
      case 'action':
        rule.actions = list(value);
        break;
      case 'pattern':
        rule.pattern = parseRegex(value);
        break;
      case 'mail':
        rule.mail = value ? list(value) : defaultMail;
        break;
      case 'subject':
        rule.subject = value;
        break;
      case 'exec':
        rule.exec = value;
        break;
      case 'webhook':
        if (!/^https?:\/\//.test(value)) throw new AlertRuleError(`webhook: '${value}' is not an http(s) URL`);
        rule.webhook = value;
        break;
      case 'throttle':
        rule.throttleMs = parseDuration(value);
        break;
      default:
        throw new AlertRuleError(`'${w}' is not a filter or action`);
    }
  }
  if (rule.mail !== undefined && rule.mail.length === 0) throw new AlertRuleError('mail: no address (and HwALERT_EMAIL is empty)');
  if (!rule.mail && !rule.exec && !rule.webhook) throw new AlertRuleError('no action (mail=, exec= or webhook=)');
  if ((rule.watch === 'keystrokes' || rule.watch === 'firewall') && !rule.pattern)
    throw new AlertRuleError(`${rule.watch}: pattern=/REGEX/ is required`);
  return rule;
}

/** The Honeywall's default watches (HwALERT=yes without HwWATCH_ rules). */
export function defaultAlertRules(email: string[]): AlertRule[] {
  return [
    { name: 'outbound', watch: 'outbound', mail: email, throttleMs: 10 * 3_600_000 },
    { name: 'limit', watch: 'limit', mail: email, throttleMs: 10 * 3_600_000 },
  ];
}

export interface Notice {
  rule: AlertRule;
  key: string;
  subject: string;
  text: string;
}

export interface AlerterOptions {
  smtpHost: string;
  smtpPort: number;
  from: string;
  clock?: Clock;
  hostname?: string;
}

export class AlertCounters {
  matched = 0;
  throttled = 0;
  mailsSent = 0;
  mailErrors = 0;
  execs = 0;
  execErrors = 0;
  webhooks = 0;
  webhookErrors = 0;
  lastError: string | undefined;
}

export class Alerter {
  readonly counters = new AlertCounters();
  private readonly lastSent = new Map<string, { at: number; suppressed: number }>();
  private readonly transport: Transporter;
  private readonly clock: Clock;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    public rules: AlertRule[],
    private readonly opts: AlerterOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.transport = nodemailer.createTransport({
      host: opts.smtpHost,
      port: opts.smtpPort,
      secure: false,
      ignoreTLS: true,
      connectionTimeout: 10_000,
    });
  }

  /** A firewall log line with its NFLOG prefix. */
  firewall(prefix: string, line: string, src: string | undefined): void {
    const p = prefix.trim();
    const out = /^OUTBOUND (TCP|UDP|ICMP|OTHER)\b/i.exec(p);
    const lim = /^Drop (TCP|UDP|ICMP|OTHER)\b/i.exec(p);
    for (const r of this.rules) {
      if (r.watch === 'outbound' && out && (!r.protos || r.protos.includes(out[1]!.toLowerCase()))) {
        this.fire(r, src ?? p, `Honeywall: ${p.replace(/:$/, '')} ${src ?? ''}`.trim(), line);
      } else if (r.watch === 'limit' && lim && (!r.protos || r.protos.includes(lim[1]!.toLowerCase()))) {
        this.fire(r, src ?? p, `Honeywall: ${p}${src ? ` (${src})` : ''}`, line);
      } else if (r.watch === 'firewall' && r.pattern!.test(line)) {
        this.fire(r, p, `Honeywall: ${p}`, line);
      }
    }
  }

  ids(e: AlertEvent, line: string): void {
    for (const r of this.rules) {
      if (r.watch !== 'ids') continue;
      if (r.sids && !r.sids.includes(e.sid)) continue;
      if (r.classtypes && (e.classtype === undefined || !r.classtypes.includes(e.classtype))) continue;
      if (r.actions && !r.actions.includes(e.action)) continue;
      if (r.pattern && !r.pattern.test(line)) continue;
      // (the rule's msg, text from a rule file: as one line safe for a terminal, a subject line and an environment value)
      this.fire(r, `${e.gid}:${e.sid}`, `Honeywall IDS: ${e.blocked ? '[Drop] ' : ''}${noControls(e.msg)}`, line);
    }
  }

  keystrokes(lines: readonly KeystrokeLine[]): void {
    for (const l of lines) {
      for (const r of this.rules) {
        if (r.watch !== 'keystrokes' || !r.pattern!.test(l.line)) continue;
        const text = `${l.client} pid ${l.pid} uid ${l.uid} (${l.com}) fd ${l.fd}: ${l.line}`;
        this.fire(r, l.client, `Honeywall Sebek: ${l.client} typed a watched command`, text);
      }
    }
  }

  private fire(rule: AlertRule, key: string, subject: string, text: string): void {
    this.counters.matched++;
    const now = this.clock.now();
    const k = `${rule.name}|${key}`;
    const last = this.lastSent.get(k);
    if (last && rule.throttleMs > 0 && now - last.at < rule.throttleMs) {
      last.suppressed++;
      this.counters.throttled++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastSent.set(k, { at: now, suppressed: 0 });
    const body = suppressed > 0 ? `${text}\n(${suppressed} more like this were throttled since the last notice)` : text;
    this.dispatch({ rule, key, subject: rule.subject ?? subject, text: body });
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private dispatch(n: Notice): void {
    const r = n.rule;
    if (r.mail) {
      this.track(
        this.transport.sendMail({ from: this.opts.from, to: r.mail.join(', '), subject: n.subject, text: `${n.text}\n` }).then(
          () => void this.counters.mailsSent++,
          (err: Error) => this.error('mail', err),
        ),
      );
    }
    if (r.exec) {
      this.track(
        new Promise<void>((resolve) => {
          const child = spawn('/bin/sh', ['-c', r.exec!], {
            stdio: ['pipe', 'ignore', 'ignore'],
            env: { ...process.env, HW_ALERT_RULE: r.name, HW_ALERT_SUBJECT: n.subject, HW_ALERT_TEXT: n.text },
          });
          child.on('error', (err) => {
            this.error('exec', err);
            resolve();
          });
          child.on('close', (code) => {
            if (code === 0) this.counters.execs++;
            else this.error('exec', new Error(`${r.exec} exited ${code}`));
            resolve();
          });
          child.stdin.on('error', () => undefined);
          child.stdin.end(`${n.text}\n`);
        }),
      );
    }
    if (r.webhook) {
      this.track(
        fetch(r.webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rule: r.name, watch: r.watch, subject: n.subject, text: n.text, host: this.opts.hostname }),
          signal: AbortSignal.timeout(10_000),
        }).then(
          (res) => {
            if (res.ok) this.counters.webhooks++;
            else this.error('webhook', new Error(`${r.webhook} answered ${res.status}`));
          },
          (err: Error) => this.error('webhook', err),
        ),
      );
    }
  }

  private error(kind: 'mail' | 'exec' | 'webhook', err: Error): void {
    if (kind === 'mail') this.counters.mailErrors++;
    else if (kind === 'exec') this.counters.execErrors++;
    else this.counters.webhookErrors++;
    this.counters.lastError = `${kind}: ${err.message}`;
  }

  /** Wait for notices in flight (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  close(): void {
    this.transport.close();
  }
}
