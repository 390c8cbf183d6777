/** Runs `iptables-restore --test` (a dry run: nothing is loaded) on emitted rules. */
import { spawnSync } from 'node:child_process';
import type { Family } from './ruleset.js';

export interface RestoreCheck {
  ok: boolean;
  /** The tool's complaint, with the failing line of the rules text when it names one. */
  message: string;
  line?: number;
}

export interface RestoreCheckOptions {
  /** Run inside this existing network namespace (`ip netns exec NAME`), e.g. a throwaway one in tests. */
  netns?: string;
  /** Override the binary (default: $IPTABLES_RESTORE / $IP6TABLES_RESTORE, else iptables-restore / ip6tables-restore). */
  binary?: string;
}

export function restoreBinary(family: Family): string {
  return family === 4 ? (process.env.IPTABLES_RESTORE ?? 'iptables-restore') : (process.env.IP6TABLES_RESTORE ?? 'ip6tables-restore');
}

export function checkRestore(text: string, family: Family, opts: RestoreCheckOptions = {}): RestoreCheck {
  const binary = opts.binary ?? restoreBinary(family);
  const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, binary, '-w', '--test'] : [binary, '-w', '--test'];
  const r = spawnSync(argv[0]!, argv.slice(1), { input: text, encoding: 'utf8' });
  // EPIPE only means the tool stopped reading early; its exit status and message still tell.
  if (r.error && (r.status === null || (r.error as NodeJS.ErrnoException).code !== 'EPIPE')) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { ok: false, message: `cannot run ${argv[0]}: ${code === 'ENOENT' ? 'not installed' : r.error.message}` };
  }
  if (r.status === 0) return { ok: true, message: '' };
  const out = `${r.stderr}${r.stdout}`.trim();
  const m = /(?:line:?|at line:)\s*(\d+)/i.exec(out);
  const line = m ? Number(m[1]) : undefined;
  const first = out.split('\n').find((l) => l.trim() !== '' && !l.startsWith('Try ')) ?? `exit status ${r.status}`;
  const shown = line !== undefined ? `${first.trim()} (rules line ${line}: ${text.split('\n')[line - 1] ?? ''})` : first.trim();
  return { ok: false, message: shown, ...(line !== undefined ? { line } : {}) };
}
