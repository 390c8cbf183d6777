/**
 * The gateway process (`honeywall run`): the inline IPS on the NFQUEUE queue(s), the alert logs,
 * the firewall log from NFLOG, the supervised full capture, the Sebek tap, alerting, the status
 * file, and reload. Fail closed: the firewall queues without --queue-bypass (unless HwFAIL_OPEN),
 * so while this process is down nothing the firewall queues leaves.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatEveAlert, formatFastAlert, type AlertEvent } from '../output/alert.js';
import { Alerter } from './alerting.js';
import { FullCapture } from './full-capture.js';
import { formatFirewallLine } from './firewall-log.js';
import type { GatewayConfig } from './gateway-config.js';
import { InterfaceNames } from './iface-names.js';
import { printable } from '../config/iface-name.js';
import { loadGatewayMatcher, NoRulesError, type GatewayMatcher } from './matcher-loader.js';
import { loadNfBinding, type NfBinding, type NfHandle, type NflogPacket, type QueueOptions } from './nf-binding.js';
import { QueueRunner, type QueueRunnerStats } from './queue-runner.js';
import { CAPTURE_FILE, Retention, ROTATED_LOG, type RetentionCounters, type RetentionPolicy } from './retention.js';
import { RotatingFile } from './rotating-file.js';
import { SebekTap } from './sebek-tap.js';
import type { CrashReport, SupervisedStatus } from './supervisor.js';
import type { QueueWorkerData, WorkerRequest } from './queue-worker.js';
import { firewallEvent } from '../store/firewall.js';
import { HoneypotSet } from '../store/honeypots.js';
import type { FirewallEvent } from '../store/writer.js';
import { ConsoleRunner, type ConsoleStatus } from './console-runner.js';
import { StoreFeed, type StoreFeedStatus } from './store-feed.js';
import { redactUrl } from '../store/central/connect.js';
import { defaultSyslogFormat, describe as describeSyslog, SyslogAlertOutput, SyslogSender, type SyslogStats } from '../output/syslog.js';

export interface KernelQueueStats {
  queue: number;
  /** Packets waiting in the kernel queue. */
  waiting: number;
  /** Dropped because the queue was full. */
  queueDropped: number;
  /** Dropped because the netlink socket buffer was full. */
  userDropped: number;
  idSequence: number;
}

/** /proc/net/netfilter/nfnetlink_queue: queue, portid, waiting, copy mode, copy range, queue dropped, user dropped, last id, 1. */
export function parseNfqueueProc(text: string): KernelQueueStats[] {
  const out: KernelQueueStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length < 8 || f.some((x) => Number.isNaN(x))) continue;
    out.push({ queue: f[0]!, waiting: f[2]!, queueDropped: f[5]!, userDropped: f[6]!, idSequence: f[7]! });
  }
  return out;
}

/** Bytes of netlink socket buffer per queued packet: a whole 1500-byte packet's message and its overhead. */
const SOCKET_BYTES_PER_PACKET = 4096;

/**
 * The options every queue is opened with. The socket receive buffer is sized so that the kernel
 * queue (HwQUEUE_MAXLEN packets) is what bounds the packets waiting for a verdict: with the default
 * buffer (~200 KB) the kernel drops at the socket ("user dropped") after a few hundred packets, e.g.
 * while a worker is busy loading new rules on SIGHUP.
 */
export function queueOptions(c: Pick<GatewayConfig, 'queueMaxLen' | 'firewall'>): QueueOptions {
  // gso: a bulk transfer reaches the gateway as up to 64 KB super-packets, not ~45 segments each; the per-packet work
  // (netlink message, verdict, decode, flow lookup, the rules on the packet itself) is paid once for all of them
  return { maxLen: c.queueMaxLen, failOpen: c.firewall.failOpen, rcvBuf: Math.min(c.queueMaxLen * SOCKET_BYTES_PER_PACKET, 256 << 20), gso: true };
}

export interface GatewayStatus {
  pid: number;
  startedAt: string;
  updatedAt: string;
  config: string;
  reloads: number;
  reloadErrors: number;
  lastReloadError: string | undefined;
  /** Queue workers that have not yet answered the last reload (0 when it is over: `honeywall update` waits for it). */
  reloadPending: number;
  queues: QueueRunnerStats[];
  kernelQueues: KernelQueueStats[];
  totals: {
    packets: number;
    accepted: number;
    dropped: number;
    rejected: number;
    replaced: number;
    alerts: number;
    queueDropped: number;
    userDropped: number;
  };
  firewallLog: { lines: number; errors: number } | undefined;
  alertLog: { lines: number; errors: number };
  capture: ReturnType<FullCapture['stats']> | undefined;
  sebek: ReturnType<SebekTap['stats']> | undefined;
  /** Every supervised child (full capture, Sebek tap): running, crashes, crash loop, last exit, stderr tail. */
  supervised: SupervisedStatus[];
  retention: RetentionCounters;
  alerting: Alerter['counters'];
  /** The store the gateway fills (HwSTORE): queue depth, rows written, drops by kind, the capture follower's counts. */
  store: StoreFeedStatus | undefined;
  /** The console `run` started (HwCONSOLE_LISTEN). */
  console: ConsoleStatus | undefined;
  /** Alerts to syslog (HwSYSLOG): sent, dropped, errors. */
  syslog: (SyslogStats & { target: string }) | undefined;
}

interface WorkerSlot {
  queue: number;
  worker: Worker;
  stats: QueueRunnerStats | undefined;
  /** A reload was sent and not answered yet. */
  reloadPending: boolean;
  /** Called at the worker's next `reloaded` answer (reload() waits for it). */
  onReloaded?: () => void;
}

/**
 * How long reload() waits for the workers' answers, so that the status file written after a reload tells its outcome
 * (`honeywall update` confirms from it). A worker that answers later rewrites the status file then; the wait stays
 * well under systemd's stop timeout, since a SIGTERM waits for the reload in progress.
 */
const WORKER_RELOAD_WAIT_MS = 10_000;

export class Gateway {
  private nf: NfBinding | undefined;
  private runners: QueueRunner[] = [];
  private workers: WorkerSlot[] = [];
  private nflog: NfHandle | undefined;
  private readonly fast: RotatingFile;
  private readonly eve: RotatingFile;
  private readonly fwlog: RotatingFile;
  private capture: FullCapture | undefined;
  private sebek: SebekTap | undefined;
  private alerter: Alerter;
  private store: StoreFeed | undefined;
  private console: ConsoleRunner | undefined;
  private syslog: SyslogAlertOutput | undefined;
  private readonly honeypots: HoneypotSet | undefined;
  private readonly ifnames = new InterfaceNames();
  private statusTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retention: Retention;
  private readonly startedAt = new Date();
  reloads = 0;
  reloadErrors = 0;
  lastReloadError: string | undefined;
  /** Messages for the operator (stderr). */
  log: (line: string) => void = (line) => process.stderr.write(`honeywall: ${line}\n`);

  constructor(public config: GatewayConfig) {
    this.fast = new RotatingFile(path.join(config.logDir, 'fast.log'));
    this.eve = new RotatingFile(path.join(config.logDir, 'eve.json'));
    this.fwlog = new RotatingFile(path.join(config.logDir, 'firewall.log'));
    this.alerter = this.makeAlerter(config);
    this.retention = new Retention(retentionPolicies(config), (line) => this.log(line));
    if (config.store !== undefined) {
      const h = HoneypotSet.parse(config.store.honeypots);
      this.honeypots = typeof h === 'string' ? undefined : h;
    }
  }

  /**
   * A supervised child died: said on stderr every time (with its last stderr lines, escaped), so a capture that
   * cannot start is never silent. The restart delay doubles up to 30 s, which bounds these lines.
   */
  private onCrash(r: CrashReport): void {
    const tail = r.stderrTail.length ? `; its last stderr: ${r.stderrTail.map((l) => printable(l, 300)).join(' | ')}` : '; nothing on its stderr';
    const loop = r.crashLoop ? `CRASH LOOP: ${r.consecutive} exits in a row, ` : '';
    this.log(
      `${r.name} (${printable(r.command, 200)}) ${printable(r.exit, 300)}: ${loop}restarting in ${(r.restartInMs / 1000).toFixed(1)} s${tail}`,
    );
  }

  private makeAlerter(c: GatewayConfig): Alerter {
    return new Alerter(c.alerting.rules, {
      smtpHost: c.alerting.smtpHost,
      smtpPort: c.alerting.smtpPort,
      from: c.alerting.from,
      hostname: c.hostname,
    });
  }

  async start(): Promise<void> {
    const c = this.config;
    mkdirSync(c.logDir, { recursive: true });
    this.nf = loadNfBinding();
    // Capture first: it sees traffic even if the IPS cannot start.
    if (c.capture) {
      this.capture = new FullCapture({
        iface: c.capture.iface,
        dir: c.capture.dir,
        rotateSeconds: c.capture.rotateSeconds,
        onCrash: (r) => this.onCrash(r),
      });
      this.capture.start();
    }
    if (c.sebek) {
      mkdirSync(path.dirname(c.sebek.db), { recursive: true });
      this.sebek = new SebekTap({
        iface: c.sebek.iface,
        port: c.sebek.port,
        magic: c.sebek.magic,
        db: c.sebek.db,
        onLines: (lines) => this.alerter.keystrokes(lines),
        onCrash: (r) => this.onCrash(r),
      });
      this.sebek.start();
    }
    if (c.syslog !== undefined) {
      const sender = new SyslogSender(c.syslog.target, { log: (line) => this.log(line) });
      this.syslog = new SyslogAlertOutput(
        sender,
        defaultSyslogFormat({ facility: c.syslog.facility, severity: c.syslog.severity, format: c.syslog.format, hostname: c.hostname }),
      );
    }
    if (c.store !== undefined) await this.startStore(c, c.store);
    if (c.console !== undefined) {
      this.console = new ConsoleRunner({ settings: c.console, captureDir: c.capture?.dir }, (line) => this.log(line));
      await this.console.start();
    }
    if (c.nflogGroup !== undefined) {
      this.nflog = this.nf.openLog(c.nflogGroup, { timeout: 5, qthresh: 16, copyRange: 0xffff }, (entries) => this.onFirewallLog(entries));
    }
    if (c.firewall.queue) {
      if (c.workers > 0) await this.startWorkers();
      else {
        for (const q of c.queues) {
          // each queue its own matcher: flows, streams and the prefilter's scratch space are per queue
          const loaded = await loadGatewayMatcher(c.inspector); // refuses an empty set unless allowEmpty
          const r = new QueueRunner(this.nf, q, loaded, (events) => this.onEvents(events), queueOptions(c));
          r.start();
          this.runners.push(r);
          if (q === c.queues[0]) this.log(`IPS on queue ${c.queues.join(',')}: ${loaded.description}`);
        }
      }
    }
    this.statusTimer = setInterval(() => void this.writeFreshStatus(), c.statusIntervalMs);
    this.statusTimer.unref();
    // Retention at start (a gateway down for a month finds a month of expired files) and then hourly.
    this.retention.sweep();
    this.retentionTimer = setInterval(() => this.retention.sweep(), RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
    await this.writeFreshStatus();
  }

  /**
   * The store feed (its own worker thread): a failure to open the store is reported and the gateway runs on without
   * it, since refusing to start would take the honeynet's IPS down with it.
   */
  private async startStore(c: GatewayConfig, store: NonNullable<GatewayConfig['store']>): Promise<void> {
    const feed = new StoreFeed(
      {
        store: store.file,
        honeypots: store.honeypots,
        live: {
          dir: c.capture?.dir,
          sensor: c.hostname,
          since: this.startedAt.getTime(),
          // the Sebek records in the full capture, unless the Sebek tap already writes them into this file
          sebek: c.sebek !== undefined && !store.sebekInStore ? { magic: c.sebek.magic, port: c.sebek.port } : undefined,
          linkSockets: c.sebek !== undefined,
        },
        flushMs: 500,
        pollMs: 200,
        central: store.central,
        spool: store.spool,
      },
      (line) => this.log(line),
    );
    try {
      await feed.start();
      this.store = feed;
      this.log(
        `store: ${store.file}${c.capture ? `, flows from the full capture in ${c.capture.dir}` : ' (no full capture: alerts and firewall lines only)'}`,
      );
      if (store.central !== undefined)
        this.log(`store: shipped to the central store ${redactUrl(store.central.url)} as sensor ${store.central.sensor}`);
      const { maxBytes, keepDays } = store.spool;
      if (maxBytes > 0 || keepDays > 0) {
        const what = [maxBytes > 0 ? `${maxBytes / 1e9} GB of pages in use` : '', keepDays > 0 ? `${keepDays} days` : ''].filter(Boolean).join(', ');
        this.log(
          `store: bounded to ${what}${store.central !== undefined ? ' (shipped rows first; unshipped ones dropped, counted, only to hold the size bound)' : ''}`,
        );
      }
    } catch (err) {
      this.store = feed; // its status says why
      this.log(`store: not started: ${(err as Error).message} (the gateway runs on without it)`);
    }
  }

  private startWorkers(): Promise<void> {
    const c = this.config;
    const url = new URL('./queue-worker.js', import.meta.url);
    const started = c.queues.map(
      (queue) =>
        new Promise<void>((resolve, reject) => {
          const data: QueueWorkerData = { queue, spec: c.inspector, queueOptions: queueOptions(c) };
          const worker = new Worker(url, { workerData: data });
          const slot: WorkerSlot = { queue, worker, stats: undefined, reloadPending: false };
          this.workers.push(slot);
          worker.on('message', (m: { type: string; [k: string]: unknown }) => {
            if (m.type === 'ready') {
              this.log(`IPS worker on queue ${queue}: ${String(m.inspector)}`);
              resolve();
            } else if (m.type === 'error') {
              const setting = m.setting as 'HwIPS_RULES' | 'HwIPS_MATCHER' | undefined;
              reject(setting ? new NoRulesError(setting, String(m.message)) : new Error(`queue ${queue}: ${String(m.message)}`));
            } else if (m.type === 'events') this.onEvents(m.events as AlertEvent[]);
            else if (m.type === 'stats') slot.stats = m.stats as QueueRunnerStats;
            else if (m.type === 'reloaded') {
              if (m.ok) this.log(`queue ${queue} reloaded: ${String(m.inspector)}`);
              else {
                this.reloadErrors++;
                this.lastReloadError = String(m.error);
                this.log(`queue ${queue}: reload failed, old rules kept: ${String(m.error)}`);
              }
              slot.reloadPending = false;
              const done = slot.onReloaded;
              slot.onReloaded = undefined;
              // reload() is waiting: it writes the status after. Otherwise this answer came late: write it now.
              if (done) done();
              else this.writeStatus();
            }
          });
          worker.on('error', (err) => {
            this.log(`queue ${queue} worker failed: ${err.message}`);
            reject(err);
          });
          worker.on('exit', (code) => {
            if (code !== 0) this.log(`queue ${queue} worker exited ${code}`);
          });
        }),
    );
    return Promise.all(started).then(() => undefined);
  }

  private onEvents(events: AlertEvent[]): void {
    for (const e of events) {
      const line = formatFastAlert(e);
      this.fast.write(line);
      this.eve.write(formatEveAlert(e, { host: this.config.hostname }));
      this.syslog?.write(e);
      this.alerter.ids(e, line);
    }
    this.store?.alerts(events);
  }

  private onFirewallLog(entries: NflogPacket[]): void {
    const rows: FirewallEvent[] | undefined = this.store !== undefined && this.honeypots !== undefined ? [] : undefined;
    const ifname = (i: number) => this.ifnames.name(i);
    for (const e of entries) {
      const line = formatFirewallLine(e, { host: this.config.hostname, ifname });
      this.fwlog.write(line);
      rows?.push(firewallEvent(e, line.replace(/\n$/, ''), ifname, this.honeypots!, this.config.hostname, e.tsUsec));
      const src = e.data.length >= 20 && e.data[0]! >> 4 === 4 ? `${e.data[12]}.${e.data[13]}.${e.data[14]}.${e.data[15]}` : undefined;
      this.alerter.firewall(e.prefix, line, src);
    }
    if (rows !== undefined) this.store!.firewall(rows);
  }

  /** SIGHUP: new config (alerting, logs' host name) and new rules; the queues stay bound. */
  async reload(next: GatewayConfig): Promise<void> {
    this.reloads++;
    try {
      if (this.workers.length > 0) {
        const answered = this.workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.reloadPending = true;
              const t = setTimeout(() => {
                w.onReloaded = undefined;
                resolve();
              }, WORKER_RELOAD_WAIT_MS);
              w.onReloaded = () => {
                clearTimeout(t);
                resolve();
              };
            }),
        );
        for (const w of this.workers) w.worker.postMessage({ type: 'reload', spec: next.inspector } satisfies WorkerRequest);
        await Promise.all(answered);
      } else if (this.runners.length > 0) {
        const loaded: GatewayMatcher[] = [];
        for (let i = 0; i < this.runners.length; i++) loaded.push(await loadGatewayMatcher(next.inspector));
        this.runners.forEach((r, i) => r.setMatcher(loaded[i]!));
        this.log(`reloaded: ${loaded[0]!.description}`);
      }
      const old = this.alerter;
      this.alerter = this.makeAlerter(next);
      void old.flush().then(() => old.close());
      const kept = {
        queues: this.config.queues,
        logDir: this.config.logDir,
        capture: this.config.capture,
        sebek: this.config.sebek,
        nflogGroup: this.config.nflogGroup,
        // started once: a change of these takes a restart
        store: this.config.store,
        console: this.config.console,
        syslog: this.config.syslog,
      };
      this.config = { ...next, ...kept };
    } catch (err) {
      this.reloadErrors++;
      this.lastReloadError = (err as Error).message;
      this.log(`reload failed, old rules kept: ${(err as Error).message}`);
    }
  }

  kernelQueues(): KernelQueueStats[] {
    try {
      return parseNfqueueProc(readFileSync('/proc/net/netfilter/nfnetlink_queue', 'utf8')).filter((q) => this.config.queues.includes(q.queue));
    } catch {
      return [];
    }
  }

  /**
   * Ask every queue worker for its counters and wait for the answers (each at most `timeoutMs`), so
   * that a status written right after (SIGUSR1, the status timer) holds this moment's counters, not
   * the previous request's.
   */
  refreshWorkerStats(timeoutMs = 1000): Promise<void> {
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              w.worker.off('message', onMessage);
              resolve();
            };
            const onMessage = (m: { type: string }) => {
              if (m.type === 'stats') done();
            };
            const timer = setTimeout(done, timeoutMs);
            w.worker.on('message', onMessage);
            w.worker.postMessage({ type: 'stats' } satisfies WorkerRequest);
          }),
      ),
    ).then(() => undefined);
  }

  /** The status with current worker counters, written to the status file. */
  async writeFreshStatus(): Promise<GatewayStatus> {
    await Promise.all([this.refreshWorkerStats(), this.store?.refresh()]);
    return this.writeStatus();
  }

  status(): GatewayStatus {
    this.capture?.requestStats();
    const queues = [...this.runners.map((r) => r.stats()), ...this.workers.flatMap((w) => (w.stats ? [w.stats] : []))];
    const kq = this.kernelQueues();
    const sum = (f: (q: QueueRunnerStats) => number) => queues.reduce((n, q) => n + f(q), 0);
    return {
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      updatedAt: new Date().toISOString(),
      config: this.config.file,
      reloads: this.reloads,
      reloadErrors: this.reloadErrors,
      lastReloadError: this.lastReloadError,
      reloadPending: this.workers.filter((w) => w.reloadPending).length,
      queues,
      kernelQueues: kq,
      totals: {
        packets: sum((q) => q.verdicts.packets),
        accepted: sum((q) => q.verdicts.accepted),
        dropped: sum((q) => q.verdicts.dropped),
        rejected: sum((q) => q.verdicts.rejected),
        replaced: sum((q) => q.verdicts.replaced),
        alerts: sum((q) => q.verdicts.alerts),
        queueDropped: kq.reduce((n, q) => n + q.queueDropped, 0),
        userDropped: kq.reduce((n, q) => n + q.userDropped, 0),
      },
      firewallLog: this.nflog ? { lines: this.fwlog.lines, errors: this.fwlog.errors } : undefined,
      alertLog: { lines: this.fast.lines, errors: this.fast.errors },
      capture: this.capture?.stats(),
      sebek: this.sebek?.stats(),
      supervised: [this.capture?.supervisor.status(), this.sebek?.supervisor.status()].filter((x): x is SupervisedStatus => x !== undefined),
      retention: { ...this.retention.counters },
      alerting: { ...this.alerter.counters },
      store: this.store?.status(),
      console: this.console?.status(),
      syslog: this.syslog ? { ...this.syslog.sender.stats, target: describeSyslog(this.syslog.sender.target) } : undefined,
    };
  }

  /** Write the status file atomically (temp file + rename). */
  writeStatus(): GatewayStatus {
    const s = this.status();
    try {
      mkdirSync(path.dirname(this.config.statusFile), { recursive: true });
      const tmp = `${this.config.statusFile}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
      renameSync(tmp, this.config.statusFile);
    } catch (err) {
      this.log(`cannot write the status file: ${(err as Error).message}`);
    }
    return s;
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const r of this.runners) r.stop();
    for (const w of this.workers) {
      w.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
    }
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => void w.worker.terminate().then(() => resolve()), 2000);
            w.worker.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
    if (this.nflog && this.nf) this.nf.close(this.nflog);
    await Promise.all([this.capture?.stop(), this.sebek?.stop(), this.console?.stop()]);
    // after the capture stopped: the feed reads it to its end, ends the open flows and closes the store
    await this.store?.stop();
    await this.syslog?.close();
    await this.alerter.flush();
    this.alerter.close();
    this.writeStatus();
    this.fast.close();
    this.eve.close();
    this.fwlog.close();
  }
}

const RETENTION_INTERVAL_MS = 3_600_000;

/** What retention sweeps: the capture directory's pcap files and the log directory's rotated days. */
export function retentionPolicies(c: GatewayConfig): RetentionPolicy[] {
  const out: RetentionPolicy[] = [
    { what: 'log', dir: c.logDir, owns: (n) => ROTATED_LOG.test(n), keepDays: c.logKeepDays, maxBytes: 0, keepNewest: false },
  ];
  if (c.capture) {
    out.push({
      what: 'capture',
      dir: c.capture.dir,
      owns: (n) => CAPTURE_FILE.test(n),
      keepDays: c.capture.keepDays,
      maxBytes: c.capture.maxBytes,
      keepNewest: true,
    });
  }
  return out;
}
