/**
 * Retention for what the gateway writes without end: the full capture's pcap files (tcpdump -G starts a new one every
 * HwCAPTURE_ROTATE seconds and never deletes one) and the logs' rotated days (`fast.log.2024-01-01`, ...).
 *
 * A sweep looks only at the files this gateway names (a capture file pattern, a rotated-log pattern), regular files
 * only (a symlink planted in the directory is never followed or counted), oldest first by modification time: first
 * every file older than the keep-days, then, while the directory's files are over the byte cap, the oldest. The newest
 * capture file is never deleted (tcpdump may be writing it). Every deletion is logged (the first MAX_LOGGED per sweep
 * by name, the rest as a count) and counted; a directory with more than MAX_ENTRIES names is swept over the first
 * MAX_ENTRIES read, and the rest counted as not listed.
 */
import { lstatSync, opendirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

export const DAY_MS = 86_400_000;
/** Directory entries read per sweep and directory. */
export const MAX_ENTRIES = 200_000;
/** Deletions logged by name per sweep; the rest are summed in one line. */
export const MAX_LOGGED = 20;

export interface RetentionPolicy {
  /** What the files are, for the log (`capture`, `logs`). */
  what: string;
  dir: string;
  /** Which names in `dir` this policy owns. */
  owns: (name: string) => boolean;
  /** Delete files last written more than this many days ago; 0 = keep. */
  keepDays: number;
  /** Keep the files' total size at most this; 0 = no cap. */
  maxBytes: number;
  /** Never delete the newest file (a capture tcpdump may be writing). */
  keepNewest: boolean;
}

export interface RetentionCounters {
  sweeps: number;
  deletedFiles: number;
  deletedBytes: number;
  errors: number;
  notListed: number;
  lastSweepAt: string | undefined;
  lastError: string | undefined;
}

interface Candidate {
  name: string;
  size: number;
  mtimeMs: number;
}

/** The capture files `tcpdump -w DIR/honeywall-%Y%m%d-%H%M%S.pcap` makes. */
export const CAPTURE_FILE = /^honeywall-\d{8}-\d{6}\.pcap$/;
/** The rotated logs RotatingFile makes (`fast.log.2024-01-01`, `eve.json.2024-01-01.1`), never the live ones. */
export const ROTATED_LOG = /^(?:fast\.log|eve\.json|firewall\.log)\.\d{4}-\d{2}-\d{2}(?:\.\d{1,6})?$/;

export class Retention {
  readonly counters: RetentionCounters = {
    sweeps: 0,
    deletedFiles: 0,
    deletedBytes: 0,
    errors: 0,
    notListed: 0,
    lastSweepAt: undefined,
    lastError: undefined,
  };

  constructor(
    readonly policies: readonly RetentionPolicy[],
    private readonly log: (line: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** One sweep over every policy; returns the number of files deleted. */
  sweep(): number {
    let deleted = 0;
    for (const p of this.policies) if (p.keepDays > 0 || p.maxBytes > 0) deleted += this.sweepOne(p);
    this.counters.sweeps++;
    this.counters.lastSweepAt = new Date(this.clock.now()).toISOString();
    return deleted;
  }

  private fail(message: string): void {
    this.counters.errors++;
    this.counters.lastError = message;
  }

  private list(p: RetentionPolicy): Candidate[] {
    const out: Candidate[] = [];
    let dir;
    try {
      dir = opendirSync(p.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(`${p.dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return out;
    }
    try {
      let seen = 0;
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        if (++seen > MAX_ENTRIES) {
          this.counters.notListed++;
          continue;
        }
        if (!e.isFile() || !p.owns(e.name)) continue;
        try {
          const st = lstatSync(path.join(p.dir, e.name));
          if (st.isFile()) out.push({ name: e.name, size: st.size, mtimeMs: st.mtimeMs });
        } catch {
          /* gone meanwhile */
        }
      }
    } finally {
      dir.closeSync();
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private sweepOne(p: RetentionPolicy): number {
    const files = this.list(p);
    const now = this.clock.now();
    const protectedName = p.keepNewest && files.length > 0 ? files[files.length - 1]!.name : undefined;
    let total = files.reduce((n, f) => n + f.size, 0);
    let logged = 0;
    let unloggedFiles = 0;
    let unloggedBytes = 0;
    let deleted = 0;
    for (const f of files) {
      if (f.name === protectedName) continue;
      const ageDays = (now - f.mtimeMs) / DAY_MS;
      const tooOld = p.keepDays > 0 && ageDays > p.keepDays;
      const overCap = p.maxBytes > 0 && total > p.maxBytes;
      // Oldest first: once a file is young enough and the total fits, every later file is kept too.
      if (!tooOld && !overCap) break;
      try {
        unlinkSync(path.join(p.dir, f.name));
      } catch (err) {
        this.fail(`${path.join(p.dir, f.name)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        continue;
      }
      deleted++;
      total -= f.size;
      this.counters.deletedFiles++;
      this.counters.deletedBytes += f.size;
      const why = tooOld ? `last written ${ageDays.toFixed(1)} days ago, over ${p.keepDays}` : `over the ${formatBytes(p.maxBytes)} cap`;
      if (logged < MAX_LOGGED) {
        logged++;
        this.log(`retention: deleted ${p.what} file ${path.join(p.dir, f.name)} (${formatBytes(f.size)}, ${why})`);
      } else {
        unloggedFiles++;
        unloggedBytes += f.size;
      }
    }
    if (unloggedFiles > 0) this.log(`retention: and ${unloggedFiles} more ${p.what} files in ${p.dir} (${formatBytes(unloggedBytes)})`);
    return deleted;
  }
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} bytes`;
}
