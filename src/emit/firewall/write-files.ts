/**
 * Writing the firewall's files into the operator's directory without following anything planted there.
 *
 * `honeywall firewall --out DIR` runs as root, often in a directory others can write to (or with a stale file of an
 * earlier run). Each file is created with O_CREAT|O_EXCL|O_NOFOLLOW inside a private directory made by mkdtemp next
 * to the targets (mode 0700, an unpredictable name, on the same file system), given its mode with fchmod, synced,
 * and renamed over its target: rename replaces whatever is at the target name, a symlink included, and never writes
 * through it. The private directory is removed afterwards, also when a step fails.
 */
import { closeSync, constants, fchmodSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface OutFile {
  name: string;
  text: string;
  mode: number;
}

/** Write `files` into `dir` (which must exist). Throws the first error (nothing half-written stays at a target). */
export function writeFilesExclusive(dir: string, files: readonly OutFile[]): void {
  const staging = mkdtempSync(path.join(dir, '.honeywall-firewall-'));
  try {
    for (const f of files) {
      if (f.name.includes('/') || f.name === '' || f.name === '.' || f.name === '..') throw new Error(`bad output name ${f.name}`);
      const tmp = path.join(staging, f.name);
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        const bytes = Buffer.from(f.text, 'utf8');
        for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
        // fchmod after creation: the mode given to open is cut by the umask.
        fchmodSync(fd, f.mode);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    // All written: only now replace the targets, one rename each.
    for (const f of files) renameSync(path.join(staging, f.name), path.join(dir, f.name));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
