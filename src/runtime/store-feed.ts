/**
 * The gateway's side of its store feed: a worker thread (store-worker.ts) holds the store and follows the full
 * capture; the gateway hands it the alerts and firewall lines as they come. Messages to a worker queue without bound
 * in Node, so the feed counts what it has posted and the worker has not yet taken (`inFlight`, acknowledged by the
 * worker) and drops past `maxInFlight`, counted: a store that cannot keep up never grows the gateway's memory, and
 * posting never waits. A worker that fails or dies is reported; the gateway goes on without its store.
 */
import { Worker } from 'node:worker_threads';
import type { AlertEvent } from '../output/alert.js';
import type { FirewallEvent } from '../store/writer.js';
import type { StoreWorkerData, StoreWorkerRequest, StoreWorkerStats } from './store-worker.js';

export interface StoreFeedStatus {
  store: string;
  running: boolean;
  /** Why it is not running (could not start, or died). */
  error: string | undefined;
  /** Items posted to the worker and not taken yet, and the bound. */
  inFlight: number;
  maxInFlight: number;
  /** Items dropped before the worker, at maxInFlight (or after it died). */
  droppedBeforeWorker: { alert: number; firewall: number };
  /** The worker's figures: the writer's queue depth, rows written, drops by kind, the capture follower's counts. */
  worker: StoreWorkerStats | undefined;
}

/** Alerts posted to the worker in one message at the most. */
const BATCH = 1024;

export class StoreFeed {
  private worker: Worker | undefined;
  private inFlight = 0;
  private error: string | undefined;
  private last: StoreWorkerStats | undefined;
  private readonly dropped = { alert: 0, firewall: 0 };
  private stopped: Promise<void> | undefined;
  /**
   * Alerts of this turn of the event loop, posted together when it ends (or at BATCH): one message (a structured
   * clone, a wake-up of the worker, an acknowledgement back) for many alerts, not one for each batch of a packet.
   */
  private batch: AlertEvent[] = [];
  private batchTimer: NodeJS.Immediate | undefined;

  constructor(
    private readonly data: StoreWorkerData,
    private readonly log: (line: string) => void,
    readonly maxInFlight = 50_000,
  ) {}

  /** Starts the worker; resolves when the store is open, rejects with the reason it could not be. */
  start(): Promise<void> {
    const worker = new Worker(new URL('./store-worker.js', import.meta.url), { workerData: this.data });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; [k: string]: unknown }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'error') {
          this.error = String(m.message);
          this.worker = undefined;
          void worker.terminate();
          reject(new Error(this.error));
        } else if (m.type === 'ack') this.inFlight = Math.max(0, this.inFlight - Number(m.n));
        else if (m.type === 'stats' || m.type === 'stopped') this.last = m.stats as StoreWorkerStats;
        else if (m.type === 'failed') this.log(`store: ${String(m.message)} (${String(m.failures)} failures so far; going on)`);
        else if (m.type === 'log') this.log(String(m.line));
      });
      worker.on('error', (err) => {
        this.error = `the store worker failed: ${err.message}`;
        this.log(`store: ${this.error}; the gateway goes on without it`);
        this.worker = undefined;
        reject(err);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker && this.stopped === undefined) {
          this.error = `the store worker exited ${code}`;
          this.log(`store: ${this.error}; the gateway goes on without it`);
          this.worker = undefined;
        }
      });
    });
  }

  private post(kind: 'alert' | 'firewall', n: number, msg: StoreWorkerRequest): void {
    if (n === 0) return;
    if (this.worker === undefined || this.stopped !== undefined || this.inFlight + n > this.maxInFlight) {
      this.dropped[kind] += n;
      return;
    }
    this.inFlight += n;
    this.worker.postMessage(msg);
  }

  alerts(alerts: AlertEvent[]): void {
    for (const a of alerts) this.batch.push(a);
    if (this.batch.length >= BATCH) this.postAlerts();
    else if (this.batch.length > 0) this.batchTimer ??= setImmediate(() => this.postAlerts());
  }

  private postAlerts(): void {
    if (this.batchTimer !== undefined) clearImmediate(this.batchTimer);
    this.batchTimer = undefined;
    const alerts = this.batch;
    this.batch = [];
    this.post('alert', alerts.length, { type: 'alerts', alerts });
  }

  firewall(events: FirewallEvent[]): void {
    this.post('firewall', events.length, { type: 'firewall', events });
  }

  /** Asks the worker for its figures and waits for them (at most `timeoutMs`). */
  refresh(timeoutMs = 1000): Promise<void> {
    this.postAlerts();
    const w = this.worker;
    if (w === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        w.off('message', on);
        resolve();
      };
      const on = (m: { type: string }) => {
        if (m.type === 'stats') done();
      };
      const t = setTimeout(done, timeoutMs);
      w.on('message', on);
      w.postMessage({ type: 'stats' } satisfies StoreWorkerRequest);
    });
  }

  status(): StoreFeedStatus {
    return {
      store: this.data.store,
      running: this.worker !== undefined && this.stopped === undefined,
      error: this.error,
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      droppedBeforeWorker: { ...this.dropped },
      worker: this.last,
    };
  }

  /**
   * Stops the feed: the worker reads the capture to its end (call this after the capture stopped), ends every open
   * flow, writes everything and closes the store; terminated after `graceMs`.
   */
  stop(graceMs = 30_000): Promise<void> {
    if (this.stopped === undefined) this.postAlerts();
    const w = this.worker;
    if (w === undefined) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.log(`store: the worker did not finish in ${graceMs / 1000} s; stopped`);
        void w.terminate().then(() => resolve());
      }, graceMs);
      w.once('exit', () => {
        clearTimeout(t);
        this.worker = undefined;
        resolve();
      });
      w.postMessage({ type: 'stop' } satisfies StoreWorkerRequest);
    });
    return this.stopped;
  }
}
