/**
 * A time bound for regular expressions V8's linear-time engine cannot run (backreferences, lookarounds): they run
 * in a worker thread, called synchronously (shared memory + Atomics.wait with a timeout). A call that takes longer
 * than the budget ends the worker (V8 interrupts a running regexp) and counts as no match, as Snort counts a pcre
 * that hits pcre_match_limit; the next call starts a fresh worker. Patterns are registered once and sent to the
 * worker over a message port it drains synchronously before each call.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** Budget of one regexp execution, in milliseconds. */
export const REGEX_TIME_BUDGET_MS = 25;
/** Longest subject (bytes) sent to the worker; longer buffers are cut (HTTP bodies beyond 1 MiB). */
export const GUARDED_SUBJECT_LIMIT = 1 << 20;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, data, port } = workerData;
const bytes = new Uint8Array(data);
const res = [];
Atomics.store(ctrl, 6, 1);
Atomics.notify(ctrl, 6);
for (;;) {
  // spin a little before sleeping: calls come in bursts, and a futex wake-up costs more than the regexp
  for (let spin = 0; spin < 20000 && Atomics.load(ctrl, 0) === 0; spin++);
  Atomics.wait(ctrl, 0, 0);
  let m;
  while ((m = receiveMessageOnPort(port))) res[m.message.id] = new RegExp(m.message.source, m.message.flags);
  const re = res[ctrl[1]];
  const s = Buffer.from(bytes.buffer, 0, ctrl[2]).toString('latin1');
  re.lastIndex = ctrl[3];
  const mm = re.exec(s);
  ctrl[4] = mm ? mm.index : -1;
  ctrl[5] = mm ? mm.index + mm[0].length : -1;
  Atomics.store(ctrl, 0, 0);
  Atomics.notify(ctrl, 0);
}
`;

export interface GuardedMatch {
  index: number;
  end: number;
}

export class RegexGuard {
  private readonly patterns: { source: string; flags: string }[] = [];
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
  private data = new SharedArrayBuffer(GUARDED_SUBJECT_LIMIT);
  private bytes = new Uint8Array(this.data);
  /** Executions that ran out of time (counted as no match). */
  timeouts = 0;
  calls = 0;

  constructor(private readonly budgetMs = REGEX_TIME_BUDGET_MS) {}

  register(source: string, flags: string): number {
    const id = this.patterns.length;
    this.patterns.push({ source, flags });
    this.port?.postMessage({ id, source, flags });
    return id;
  }

  private start(): void {
    const { port1, port2 } = new MessageChannel();
    this.ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctrl: this.ctrl, data: this.data, port: port2 }, transferList: [port2] });
    w.unref();
    w.on('error', () => undefined);
    this.worker = w;
    this.port = port1;
    this.patterns.forEach((p, id) => port1.postMessage({ id, ...p }));
    // the worker's start-up is not part of any call's budget
    Atomics.wait(this.ctrl, 6, 0, 10_000);
  }

  /** First match of pattern `id` in `subject` from `lastIndex`, null when none, 'timeout' when out of time. */
  exec(id: number, subject: Uint8Array, lastIndex: number): GuardedMatch | null | 'timeout' {
    if (this.worker === undefined) this.start();
    this.calls++;
    const n = Math.min(subject.length, GUARDED_SUBJECT_LIMIT);
    this.bytes.set(n === subject.length ? subject : subject.subarray(0, n), 0);
    const c = this.ctrl;
    c[1] = id;
    c[2] = n;
    c[3] = lastIndex;
    Atomics.store(c, 0, 1);
    Atomics.notify(c, 0);
    // most calls take microseconds: spin briefly, then sleep for the rest of the budget
    let spin = 0;
    while (spin < 5000 && Atomics.load(c, 0) === 1) spin++;
    if (Atomics.load(c, 0) === 1) Atomics.wait(c, 0, 1, this.budgetMs);
    if (Atomics.load(c, 0) === 1) {
      this.timeouts++;
      void this.worker!.terminate();
      this.worker = undefined;
      this.port?.close();
      this.port = undefined;
      return 'timeout';
    }
    return c[4]! < 0 ? null : { index: c[4]!, end: c[5]! };
  }

  /** Ends the worker (tests, shutdown). */
  close(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }
}
