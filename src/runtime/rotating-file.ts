/**
 * A line log file rotated daily, shared by every log of the gateway (fast alerts, EVE JSON, the
 * firewall log). The live file keeps its name (`fast.log`), so `tail -f` and `grep` work as they did
 * with snort_inline; when the first line of a new local day is written, the live file is renamed to
 * `fast.log.YYYY-MM-DD` (the day it covers) and a new one is started. Writes are synchronous
 * appends: a line is on disk (in the page cache) when write() returns, so a crash loses nothing
 * that was logged. The clock is injectable for tests.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { dayStamp, systemClock, type Clock } from './clock.js';

export interface RotatingFileOptions {
  clock?: Clock;
  /** File mode for new files (default 0o640). */
  mode?: number;
}

export class RotatingFile {
  private fd = -1;
  private day = '';
  private readonly clock: Clock;
  private readonly mode: number;
  lines = 0;
  rotations = 0;
  /** Write errors (disk full, ...): counted, never thrown at the packet path. */
  errors = 0;
  lastError: string | undefined;

  constructor(
    readonly file: string,
    opts: RotatingFileOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.mode = opts.mode ?? 0o640;
  }

  /** The name a day's file gets once rotated. */
  rotatedName(day: string): string {
    return `${this.file}.${day}`;
  }

  private open(now: number): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const today = dayStamp(now);
    if (this.fd === -1 && existsSync(this.file)) {
      // Reopening after a restart: a live file last written on an earlier day is rotated first.
      const fd = openSync(this.file, 'a', this.mode);
      const mtime = fstatSync(fd).mtimeMs;
      closeSync(fd);
      const fileDay = dayStamp(mtime);
      if (fileDay !== today) this.rotateTo(fileDay);
    }
    this.fd = openSync(this.file, 'a', this.mode);
    this.day = today;
  }

  private rotateTo(day: string): void {
    let target = this.rotatedName(day);
    for (let i = 1; existsSync(target); i++) target = `${this.rotatedName(day)}.${i}`;
    renameSync(this.file, target);
    this.rotations++;
  }

  /** Append one line (a newline is added). */
  write(line: string): void {
    const now = this.clock.now();
    try {
      if (this.fd === -1) this.open(now);
      else if (dayStamp(now) !== this.day) {
        closeSync(this.fd);
        this.fd = -1;
        this.rotateTo(this.day);
        this.open(now);
      }
      writeSync(this.fd, line.endsWith('\n') ? line : `${line}\n`);
      this.lines++;
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
    }
  }

  close(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }
}
