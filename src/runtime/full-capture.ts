/**
 * Full capture, the paper's "second element" of Data Capture: a supervised tcpdump on the
 * honeypot-side interface writing every packet whole (-s 0) into pcap files, a new file every
 * `rotateSeconds` (-G, default one day). It is a separate process so that an IPS failure does not
 * blind the capture, and the reverse. Drop counters come from tcpdump's own statistics (asked for
 * with SIGUSR1, and printed at every exit), summed over restarts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Supervisor, type CrashReport } from './supervisor.js';

export interface CaptureOptions {
  iface: string;
  dir: string;
  /** Seconds per file (tcpdump -G), default 86400. */
  rotateSeconds?: number;
  /** File name pattern (strftime, tcpdump -w), default `honeywall-%Y%m%d-%H%M%S.pcap`. */
  pattern?: string;
  /** Kernel buffer in KiB (tcpdump -B). */
  bufferKiB?: number;
  tcpdump?: string;
  /** Extra BPF filter (default none: everything). */
  filter?: string;
  /** Every exit of tcpdump not asked for (the gateway reports it on stderr). */
  onCrash?: (report: CrashReport) => void;
}

export interface CaptureStats {
  running: boolean;
  starts: number;
  crashes: number;
  lastExit: string | undefined;
  lastExitAt: string | undefined;
  consecutiveCrashes: number;
  /** Several exits in a row, each soon after its start: the capture is not running. */
  crashLoop: boolean;
  /** tcpdump's last stderr lines (raw). */
  stderrTail: string[];
  /** Totals over every run so far (finished runs + the latest report of the current one). */
  captured: number;
  received: number;
  droppedByKernel: number;
  droppedByInterface: number;
}

interface RunStats {
  captured: number;
  received: number;
  droppedByKernel: number;
  droppedByInterface: number;
}

const zero = (): RunStats => ({ captured: 0, received: 0, droppedByKernel: 0, droppedByInterface: 0 });

/** tcpdump's statistics lines: "12 packets captured", "12 packets received by filter", "0 packets dropped by kernel". */
export function parseTcpdumpStat(line: string, into: RunStats): boolean {
  const m = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/.exec(line.trim());
  if (!m) return false;
  const n = Number(m[1]);
  if (m[2] === 'captured') into.captured = n;
  else if (m[2] === 'received by filter') into.received = n;
  else if (m[2] === 'dropped by kernel') into.droppedByKernel = n;
  else into.droppedByInterface = n;
  return true;
}

export class FullCapture {
  readonly supervisor: Supervisor;
  private finished = zero();
  private current = zero();
  readonly messages: string[] = [];

  constructor(readonly opts: CaptureOptions) {
    const pattern = path.join(opts.dir, opts.pattern ?? 'honeywall-%Y%m%d-%H%M%S.pcap');
    // `--` is not needed before the filter: the interface name is validated (never starts with '-').
    const args = ['-i', opts.iface, '-n', '-s', '0', '-U', '-Z', 'root', '-G', String(opts.rotateSeconds ?? 86400), '-w', pattern];
    if (opts.bufferKiB) args.push('-B', String(opts.bufferKiB));
    if (opts.filter) args.push(opts.filter);
    this.supervisor = new Supervisor('full capture', opts.tcpdump ?? 'tcpdump', args, {
      onStderrLine: (line) => {
        if (!parseTcpdumpStat(line, this.current) && line.trim()) {
          this.messages.push(line.trim());
          if (this.messages.length > 50) this.messages.shift();
        }
      },
      onStart: () => {
        this.current = zero();
      },
      onExit: () => {
        // The exit statistics were parsed into `current`: fold them into the totals.
        for (const k of Object.keys(this.finished) as (keyof RunStats)[]) this.finished[k] += this.current[k];
        this.current = zero();
      },
      onCrash: opts.onCrash,
    });
  }

  start(): void {
    mkdirSync(this.opts.dir, { recursive: true });
    this.supervisor.start();
  }

  /** Ask tcpdump for fresh counters (they arrive on its stderr a moment later). */
  requestStats(): void {
    this.supervisor.signal('SIGUSR1');
  }

  stats(): CaptureStats {
    const s = this.supervisor.status();
    const sum = (k: keyof RunStats) => this.finished[k] + this.current[k];
    return {
      running: s.running,
      starts: s.starts,
      crashes: s.crashes,
      lastExit: s.lastExit,
      lastExitAt: s.lastExitAt,
      consecutiveCrashes: s.consecutiveCrashes,
      crashLoop: s.crashLoop,
      stderrTail: s.stderrTail,
      captured: sum('captured'),
      received: sum('received'),
      droppedByKernel: sum('droppedByKernel'),
      droppedByInterface: sum('droppedByInterface'),
    };
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }
}
