/**
 * A rule tarball (.tar or .tar.gz), read with node-tar's parser and never extracted: the `.rules` entries' texts come
 * back in memory, every other entry is skipped. Everything downloaded is hostile, so the archive is bounded (entry
 * count, one entry's size, the sum of all entry sizes: a gzip bomb stops at the bound) and refused as a whole when
 * an entry's path is absolute or climbs with `..`, or when a link points out of the archive (each kind counted in
 * the message). Names in messages are escaped (control characters shown as \xNN) and shortened.
 */
import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';

export interface TarLimits {
  maxEntries: number;
  /** One `.rules` entry, in bytes. */
  maxRuleFileBytes: number;
  /** All entries together (read or skipped), in bytes. */
  maxTotalBytes: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 20_000,
  maxRuleFileBytes: 64 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
};

export interface TarRuleFile {
  /** The entry's path in the archive (normalised: no leading `./`). */
  path: string;
  text: string;
}

export class TarballError extends Error {}

/** A name from a hostile archive, fit for a message: control and non-ASCII bytes escaped, at most 120 characters. */
export function escapeName(s: string): string {
  const e = s.replace(/[\u0000-\u001f\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return e.length > 120 ? `${e.slice(0, 117)}...` : e;
}

/** Why an entry path or link target is unsafe, or undefined. */
function unsafePath(p: string): 'absolute' | 'traversal' | undefined {
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) return 'absolute';
  if (p.split(/[/\\]+/).includes('..')) return 'traversal';
  return undefined;
}

/** Whether a link at `entry` pointing to `target` stays inside the archive's tree. */
function linkStaysInside(entry: string, target: string, hard: boolean): boolean {
  if (unsafePath(target) === 'absolute') return false;
  // A hard link's target is a path from the archive's root; a symlink's is relative to its own directory.
  const parts = hard ? [] : entry.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return false;
      parts.pop();
    } else parts.push(seg);
  }
  return true;
}

export async function readRuleTarball(file: string, limits: TarLimits = DEFAULT_TAR_LIMITS): Promise<TarRuleFile[]> {
  const out: TarRuleFile[] = [];
  const refused = { absolute: 0, traversal: 0, linksOut: 0 };
  const examples: string[] = [];
  let entries = 0;
  let total = 0;
  let stop: TarballError | undefined;

  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(file);
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (stop) {
          entry.resume();
          return;
        }
        entries++;
        total += entry.size;
        const name = entry.path.replace(/^(\.\/)+/, '');
        if (entries > limits.maxEntries) stop = new TarballError(`more than ${limits.maxEntries} entries`);
        else if (total > limits.maxTotalBytes) stop = new TarballError(`entries larger than ${limits.maxTotalBytes} bytes in all`);
        if (stop) {
          entry.resume();
          input.destroy();
          parser.abort(stop);
          return;
        }
        const bad = unsafePath(entry.path);
        if (bad) {
          refused[bad]++;
          if (examples.length < 3) examples.push(escapeName(entry.path));
        }
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          const target = entry.linkpath ?? '';
          if (!linkStaysInside(name, target, entry.type === 'Link')) {
            refused.linksOut++;
            if (examples.length < 3) examples.push(`${escapeName(entry.path)} -> ${escapeName(target)}`);
          }
          entry.resume();
          return;
        }
        // Old tar writers mark a regular file '\0' (OldFile) or '7' (ContiguousFile): the same thing for us.
        const regular = entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
        if (bad || !regular || !name.endsWith('.rules')) {
          entry.resume();
          return;
        }
        if (entry.size > limits.maxRuleFileBytes) {
          stop = new TarballError(`${escapeName(name)} is larger than ${limits.maxRuleFileBytes} bytes`);
          entry.resume();
          input.destroy();
          parser.abort(stop);
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => out.push({ path: name, text: Buffer.concat(chunks).toString('utf8') }));
      },
    });
    parser.on('error', (e: Error) => reject(stop ?? new TarballError(`not a readable tar archive (${e.message})`)));
    parser.on('abort', () => reject(stop ?? new TarballError('aborted')));
    parser.on('end', () => resolve());
    input.on('error', (e) => reject(stop ?? new TarballError(`cannot read (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
    input.pipe(parser);
  });
  if (stop) throw stop;
  const n = refused.absolute + refused.traversal + refused.linksOut;
  if (n > 0)
    throw new TarballError(
      `refused: ${refused.traversal} entr${refused.traversal === 1 ? 'y' : 'ies'} with '..', ${refused.absolute} with an absolute path, ` +
        `${refused.linksOut} link(s) pointing out of the archive (${examples.join(', ')})`,
    );
  if (entries === 0) throw new TarballError('an empty or unreadable archive');
  return out;
}
