/**
 * The console as the gateway runs it (HwCONSOLE_LISTEN set): in a worker thread (console-worker.ts), with the same
 * settings and start path as `honeywall console`. It never takes the gateway down: a failure to start, or a worker
 * that dies, is reported on stderr and in the status file (`console`), and the gateway goes on.
 */
import { Worker } from 'node:worker_threads';
import type { ConsoleWorkerData } from './console-worker.js';

export interface ConsoleStatus {
  listening: boolean;
  url: string | undefined;
  error: string | undefined;
}

export class ConsoleRunner {
  private worker: Worker | undefined;
  private readonly state: ConsoleStatus = { listening: false, url: undefined, error: undefined };
  private stopping = false;

  constructor(
    private readonly data: ConsoleWorkerData,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts it and waits until it listens or failed (never rejects: a failure is logged and kept in the status). */
  start(): Promise<void> {
    const worker = new Worker(new URL('./console-worker.js', import.meta.url), { workerData: this.data });
    this.worker = worker;
    return new Promise<void>((resolve) => {
      worker.on('message', (m: { type: string; [k: string]: unknown }) => {
        if (m.type === 'listening') {
          this.state.listening = true;
          this.state.url = String(m.url);
          this.log(`console: ${String(m.url)} serving ${this.data.settings.store}${String(m.note)}`);
          if (m.users === 0) this.log('console: no accounts yet: add one with honeywall console adduser NAME');
          resolve();
        } else if (m.type === 'error') {
          this.state.error = String(m.message);
          this.log(`console: not started: ${this.state.error} (the gateway runs on without it)`);
          resolve();
        }
      });
      worker.on('error', (err) => {
        this.state.error = `the console failed: ${err.message}`;
        this.state.listening = false;
        this.log(`console: ${this.state.error} (the gateway runs on without it)`);
        resolve();
      });
      worker.on('exit', (code) => {
        this.worker = undefined;
        if (!this.stopping && this.state.listening) {
          this.state.listening = false;
          this.state.error = `the console's worker exited ${code}`;
          this.log(`console: ${this.state.error} (the gateway runs on without it)`);
        }
        resolve();
      });
    });
  }

  status(): ConsoleStatus {
    return { ...this.state };
  }

  /** Closes the server (open connections ended) and the worker; terminated after `graceMs`. */
  stop(graceMs = 5000): Promise<void> {
    const w = this.worker;
    this.stopping = true;
    if (w === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => void w.terminate().then(() => resolve()), graceMs);
      w.once('exit', () => {
        clearTimeout(t);
        this.state.listening = false;
        resolve();
      });
      w.postMessage({ type: 'stop' });
    });
  }
}
