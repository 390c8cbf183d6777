/**
 * Worker-thread entry of the gateway's store feed (store-feed.ts starts it): the store's one writing connection and
 * the capture follower (src/store/live.ts) live here, so neither SQLite's commits nor the capture's replay ever run
 * on the thread that gives packets their verdicts.
 * With HwSTORE_URL the shipper to the central store (src/store/central/ship.ts) runs here too: it reads the store
 * between the feed's steps and waits on PostgreSQL asynchronously, so the network never holds up the packet path,
 * and an outage only makes the spool wait.
 * With a bound (HwSTORE_MAX_GB, HwSTORE_KEEP_DAYS) the spool's sweep (src/store/spool.ts) runs here too, between the
 * feed's steps, in short batches: the oldest shipped rows first, unshipped ones only when the bound leaves no choice.
 * Messages in: alerts, firewall, stats, stop. Messages out: ready, error (could not start), ack (items taken),
 * stats, failed (a step or a flush threw: reported, the feed goes on), log (the shipper's outages and recoveries),
 * stopped.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/db.js';
import { HoneypotSet } from '../store/honeypots.js';
import { LiveStore, type LiveOptions } from '../store/live.js';
import { Shipper, type ShipStats } from '../store/central/ship.js';
import { redactUrl } from '../store/central/connect.js';
import { SpoolBound, type SpoolStats } from '../store/spool.js';
import type { CentralSettings } from './gateway-config.js';
import type { FirewallEvent } from '../store/writer.js';
import type { AlertEvent } from '../output/alert.js';

export interface StoreWorkerData {
  store: string;
  honeypots: string;
  live: Omit<LiveOptions, 'honeypots' | 'now'>;
  /** How often the queue is written (ms). */
  flushMs: number;
  /** How often the capture is looked at when it had nothing new (ms). */
  pollMs: number;
  /** This thread's nice value (default 19: below the packet path's). */
  nice?: number;
  /** Ship the store to the central store. */
  central?: CentralSettings;
  /** The store's bound (HwSTORE_MAX_GB in bytes, HwSTORE_KEEP_DAYS; 0: none) and how often it is swept (ms). */
  spool?: { maxBytes: number; keepDays: number; sweepMs?: number; batch?: number };
}

/** The shipper's figures in the status file: its counters, the URL without password, the sensor name. */
export interface CentralStatus extends ShipStats {
  url: string;
  sensor: string;
}

export type StoreWorkerRequest =
  | { type: 'alerts'; alerts: AlertEvent[] }
  | { type: 'firewall'; events: FirewallEvent[] }
  | { type: 'stats' }
  | { type: 'stop' };

export interface StoreWorkerStats {
  live: LiveStore['stats'];
  writer: LiveStore['writer']['stats'];
  depth: number;
  maxQueue: number;
  failures: number;
  lastFailure: string | undefined;
  central: CentralStatus | undefined;
  /** The spool's bound: bytes in use, the bound, rows deleted after shipping and dropped unshipped per table. */
  spool: SpoolStats | undefined;
}

async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('store-worker.js must run in a worker thread');
  const data = workerData as StoreWorkerData;
  // The verdict path comes first: this thread (alone: Linux's nice is per thread, setpriority of thread 0 is the
  // caller's) yields the CPU to it. The store loses nothing by waiting: the capture is on disk and the alerts wait in
  // bounded queues; it reads on when a core is free.
  try {
    os.setPriority(0, data.nice ?? 19);
  } catch {
    // not permitted (a raise needs CAP_SYS_NICE; a lowering never does): the thread keeps its priority
  }
  let live: LiveStore;
  let db: ReturnType<typeof openStore>;
  try {
    const honeypots = HoneypotSet.parse(data.honeypots);
    if (typeof honeypots === 'string') throw new Error(`honeypots: ${honeypots}`);
    db = openStore(data.store);
    live = new LiveStore(db, { ...data.live, honeypots });
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
    return;
  }
  let shipper: Shipper | undefined;
  if (data.central !== undefined) {
    try {
      shipper = new Shipper(db, {
        url: data.central.url,
        sensor: data.central.sensor,
        keepDays: data.central.keepDays,
        log: (line) => port.postMessage({ type: 'log', line }),
      });
      shipper.start();
    } catch (err) {
      port.postMessage({ type: 'log', line: `central store: not shipping: ${(err as Error).message}` });
    }
  }
  let bound: SpoolBound | undefined;
  const sp = data.spool;
  if (sp !== undefined && (sp.maxBytes > 0 || sp.keepDays > 0)) {
    bound = new SpoolBound(
      db,
      { maxBytes: sp.maxBytes, keepDays: sp.keepDays, batch: sp.batch, budgetMs: 50, log: (line) => port.postMessage({ type: 'log', line }) },
      shipper,
    );
  }
  let failures = 0;
  let lastFailure: string | undefined;
  const guard = (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      failures++;
      lastFailure = `${what}: ${(err as Error).message}`;
      if (failures <= 20 || failures % 1000 === 0) port.postMessage({ type: 'failed', message: lastFailure, failures });
    }
  };
  const stats = (): StoreWorkerStats => ({
    live: { ...live.stats },
    writer: { ...live.writer.stats, dropped: { ...live.writer.stats.dropped } },
    depth: live.writer.depth,
    maxQueue: live.writer.maxQueue,
    failures,
    lastFailure,
    central: centralStatus(),
    spool: bound === undefined ? undefined : spoolStatus(bound),
  });
  const spoolStatus = (b: SpoolBound): SpoolStats => {
    guard('spool size', () => b.measure());
    return { ...b.stats, deleted: { ...b.stats.deleted }, dropped: { ...b.stats.dropped } };
  };
  const centralStatus = (): CentralStatus | undefined => {
    if (shipper === undefined || data.central === undefined) return undefined;
    guard('central lag', () => shipper?.lag());
    return { ...shipper.stats, shipped: { ...shipper.stats.shipped }, url: redactUrl(data.central.url), sensor: data.central.sensor };
  };
  let stopping = false;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let lastFlush = 0;
  let lastSweep = 0;
  let sweepMore = false;
  const pump = () => {
    if (stopping) return;
    let more = false;
    guard('capture', () => {
      more = live.step(50);
    });
    const now = Date.now();
    if (now - lastFlush >= data.flushMs || live.writer.depth >= 2000) {
      lastFlush = now;
      guard('store', () => live.flush());
    }
    // the bound: every sweepMs, and again at once while a sweep stopped short (its batches between the feed's steps)
    if (bound !== undefined && (sweepMore || now - lastSweep >= (sp?.sweepMs ?? 10_000))) {
      lastSweep = now;
      sweepMore = false;
      guard('spool', () => {
        sweepMore = bound.sweep();
      });
    }
    timer = more || sweepMore ? setImmediate(pump) : setTimeout(pump, data.pollMs);
  };
  port.on('message', (msg: StoreWorkerRequest) => {
    if (msg.type === 'alerts') {
      guard('alerts', () => live.alerts(msg.alerts));
      port.postMessage({ type: 'ack', n: msg.alerts.length });
    } else if (msg.type === 'firewall') {
      guard('firewall', () => live.firewall(msg.events));
      port.postMessage({ type: 'ack', n: msg.events.length });
    } else if (msg.type === 'stats') port.postMessage({ type: 'stats', stats: stats() });
    else if (msg.type === 'stop') {
      stopping = true;
      if (timer !== undefined) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
      }
      guard('close', () => live.close());
      void live
        .settled()
        .catch(() => undefined)
        .then(() => shipper?.stop())
        .catch(() => undefined)
        .then(() => {
          const s = stats();
          db.close();
          port.postMessage({ type: 'stopped', stats: s });
          port.close();
        });
    }
  });
  port.postMessage({ type: 'ready' });
  pump();
}

void run();
