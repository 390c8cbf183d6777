/**
 * Keeps a child process running: restarts it when it exits (with a growing delay, reset after it
 * has stayed up a while), passes its stderr lines to a handler, keeps the last of them, reports
 * every exit it did not ask for (with that stderr tail) and stops it on request.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Lines of a child's stderr kept for reports, and the characters kept of each. */
export const STDERR_TAIL_LINES = 10;
export const STDERR_LINE_CHARS = 300;
/** A stderr line longer than this without a newline is cut here (the rest of it is dropped). */
const MAX_PENDING_STDERR = 64 * 1024;
/** This many exits in a row, each before the run counted as stable, make a crash loop. */
export const CRASH_LOOP_AFTER = 3;

export interface CrashReport {
  name: string;
  command: string;
  /** `exited 1`, `killed by SIGSEGV`, `could not start tcpdump: ...`. */
  exit: string;
  /** Exits in a row without a stable run between them. */
  consecutive: number;
  crashLoop: boolean;
  restartInMs: number;
  /** The child's last stderr lines (raw: escape before printing). */
  stderrTail: string[];
}

export interface SupervisorOptions {
  /** First restart delay (ms, default 500), doubled up to maxDelayMs while it keeps dying. */
  restartDelayMs?: number;
  maxDelayMs?: number;
  /** Up this long counts as a good run (delay reset), default 10 s. */
  stableMs?: number;
  onStderrLine?: (line: string) => void;
  onStdout?: (chunk: Buffer) => void;
  onStart?: (child: ChildProcess) => void;
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Every exit not asked for, after the restart is scheduled. */
  onCrash?: (report: CrashReport) => void;
  spawnOptions?: SpawnOptions;
}

/** What the status file says about a supervised child. */
export interface SupervisedStatus {
  name: string;
  command: string;
  running: boolean;
  starts: number;
  crashes: number;
  consecutiveCrashes: number;
  crashLoop: boolean;
  lastExit: string | undefined;
  lastExitAt: string | undefined;
  stderrTail: string[];
}

export class Supervisor {
  child: ChildProcess | undefined;
  starts = 0;
  /** Exits not asked for. */
  crashes = 0;
  /** Exits not asked for since the last stable run. */
  consecutiveCrashes = 0;
  lastExit: string | undefined;
  lastExitAt: Date | undefined;
  /** The last STDERR_TAIL_LINES lines the child wrote to stderr (over restarts). */
  readonly stderrTail: string[] = [];
  private stopping = false;
  private delay: number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly opts: SupervisorOptions = {},
  ) {
    this.delay = opts.restartDelayMs ?? 500;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.stopping = false;
    this.launch();
  }

  private keepLine(line: string): void {
    if (line.trim() === '') return;
    this.stderrTail.push(line.length > STDERR_LINE_CHARS ? `${line.slice(0, STDERR_LINE_CHARS)}...` : line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
  }

  private launch(): void {
    this.timer = undefined;
    if (this.stopping) return;
    const child = spawn(this.command, [...this.args], {
      stdio: ['ignore', this.opts.onStdout ? 'pipe' : 'ignore', 'pipe'],
      ...this.opts.spawnOptions,
    });
    this.child = child;
    this.starts++;
    this.startedAt = Date.now();
    let startError: string | undefined;
    let buf = '';
    const line = (text: string) => {
      this.keepLine(text);
      this.opts.onStderrLine?.(text);
    };
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        line(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      // A child writing without newlines must not grow this buffer without end.
      if (buf.length > MAX_PENDING_STDERR) {
        line(buf.slice(0, STDERR_LINE_CHARS));
        buf = '';
      }
    });
    if (this.opts.onStdout) child.stdout?.on('data', this.opts.onStdout);
    child.on('error', (err) => {
      startError = `could not start ${this.command}: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      if (buf.length > 0) line(buf);
      buf = '';
      this.opts.onExit?.(code, signal);
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.crashes++;
      this.lastExit = startError ?? (signal ? `killed by ${signal}` : `exited ${code}`);
      this.lastExitAt = new Date();
      if (Date.now() - this.startedAt > (this.opts.stableMs ?? 10_000)) {
        this.delay = this.opts.restartDelayMs ?? 500;
        this.consecutiveCrashes = 0;
      }
      this.consecutiveCrashes++;
      const restartInMs = this.delay;
      this.timer = setTimeout(() => this.launch(), this.delay);
      this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs ?? 30_000);
      this.opts.onCrash?.({
        name: this.name,
        command: this.command,
        exit: this.lastExit,
        consecutive: this.consecutiveCrashes,
        crashLoop: this.consecutiveCrashes >= CRASH_LOOP_AFTER,
        restartInMs,
        stderrTail: [...this.stderrTail],
      });
    });
    this.opts.onStart?.(child);
  }

  status(): SupervisedStatus {
    return {
      name: this.name,
      command: this.command,
      running: this.running,
      starts: this.starts,
      crashes: this.crashes,
      consecutiveCrashes: this.consecutiveCrashes,
      crashLoop: this.consecutiveCrashes >= CRASH_LOOP_AFTER,
      lastExit: this.lastExit,
      lastExitAt: this.lastExitAt?.toISOString(),
      stderrTail: [...this.stderrTail],
    };
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** Stop and wait for the child to exit (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
