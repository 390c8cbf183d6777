/**
 * Keeps a child process running: restarts it when it exits (with a growing delay, reset after it
 * has stayed up a while), passes its stderr lines to a handler, and stops it on request.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

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
  spawnOptions?: SpawnOptions;
}

export class Supervisor {
  child: ChildProcess | undefined;
  starts = 0;
  /** Exits not asked for. */
  crashes = 0;
  lastExit: string | undefined;
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

  private launch(): void {
    this.timer = undefined;
    if (this.stopping) return;
    const child = spawn(this.command, [...this.args], { stdio: ['ignore', this.opts.onStdout ? 'pipe' : 'ignore', 'pipe'], ...this.opts.spawnOptions });
    this.child = child;
    this.starts++;
    this.startedAt = Date.now();
    let buf = '';
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.opts.onStderrLine?.(line);
      }
    });
    if (this.opts.onStdout) child.stdout?.on('data', this.opts.onStdout);
    child.on('error', (err) => {
      this.lastExit = `could not start ${this.command}: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      if (buf.length > 0) this.opts.onStderrLine?.(buf);
      buf = '';
      this.opts.onExit?.(code, signal);
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.crashes++;
      this.lastExit = this.lastExit?.startsWith('could not start') ? this.lastExit : `exited ${code ?? signal}`;
      if (Date.now() - this.startedAt > (this.opts.stableMs ?? 10_000)) this.delay = this.opts.restartDelayMs ?? 500;
      this.timer = setTimeout(() => this.launch(), this.delay);
      this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs ?? 30_000);
    });
    this.opts.onStart?.(child);
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
