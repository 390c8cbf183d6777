/**
 * The running gateway picks up the new artifact on SIGHUP (`honeywall run` reloads its config and rules and then
 * rewrites its status file, whose `reloads` counter goes up; `reloadErrors` goes up instead of the rules changing
 * when the reload failed; `reloadPending` counts the queue workers still loading, and the reload is over at 0).
 * The pid comes from that status file; before signalling, /proc says whether the pid is still a honeywall process
 * (a stale status file must not make us signal whatever process got the pid since).
 */
import { readFileSync, statSync } from 'node:fs';
import { UpdateRefused } from './errors.js';

export interface ReloadResult {
  /** signalled: confirmed by the status file; not-running: no gateway to tell (it loads the artifact when it starts). */
  outcome: 'reloaded' | 'not-running';
  pid?: number;
  detail: string;
  ms: number;
}

interface Status {
  pid: number;
  reloads: number;
  reloadErrors: number;
  /** Queue workers still loading the last reload's rules (absent from older gateways: 0). */
  reloadPending: number;
  lastReloadError?: string;
  updatedAt?: string;
}

function readStatus(file: string): Status | undefined {
  try {
    if (statSync(file).size > 16 * 1024 * 1024) return undefined;
    const j = JSON.parse(readFileSync(file, 'utf8')) as Partial<Status>;
    if (!Number.isSafeInteger(j.pid) || (j.pid as number) <= 1) return undefined;
    return {
      pid: j.pid!,
      reloads: Number(j.reloads ?? 0),
      reloadErrors: Number(j.reloadErrors ?? 0),
      reloadPending: Number(j.reloadPending ?? 0),
      lastReloadError: j.lastReloadError,
      updatedAt: j.updatedAt,
    };
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs and (where /proc tells) is a honeywall process. */
function isGateway(pid: number): 'yes' | 'gone' | 'other' {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    throw new UpdateRefused(`cannot signal the gateway (pid ${pid}): ${(e as NodeJS.ErrnoException).code}`, 2);
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /honeywall/i.test(cmd) ? 'yes' : 'other';
  } catch {
    return 'yes';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function reloadGateway(statusFile: string, timeoutMs: number): Promise<ReloadResult> {
  const t0 = Date.now();
  const before = readStatus(statusFile);
  if (!before) return { outcome: 'not-running', detail: `no readable status file ${statusFile}: no gateway to reload`, ms: 0 };
  const who = isGateway(before.pid);
  if (who === 'gone')
    return { outcome: 'not-running', pid: before.pid, detail: `the gateway (pid ${before.pid}, from ${statusFile}) is not running`, ms: 0 };
  if (who === 'other')
    throw new UpdateRefused(`pid ${before.pid} in ${statusFile} is not a honeywall process (a stale status file?): not signalled`, 2);
  process.kill(before.pid, 'SIGHUP');
  for (;;) {
    await sleep(100);
    const now = readStatus(statusFile);
    // Confirmed when the reload counter went up and no queue worker is still loading (each answers ok or failed).
    if (now && now.pid === before.pid && now.reloads > before.reloads && now.reloadPending === 0) {
      if (now.reloadErrors > before.reloadErrors)
        throw new UpdateRefused(
          `the gateway (pid ${before.pid}) could not load the new rules: ${now.lastReloadError ?? 'no reason given'}; it kept the old ones`,
          2,
        );
      return { outcome: 'reloaded', pid: before.pid, detail: `reload ${now.reloads} confirmed by ${statusFile}`, ms: Date.now() - t0 };
    }
    if (Date.now() - t0 >= timeoutMs)
      throw new UpdateRefused(
        `the gateway (pid ${before.pid}) did not confirm the reload within ${(timeoutMs / 1000).toFixed(1)} s (${statusFile}: reloads still ${now?.reloads ?? before.reloads})`,
        2,
      );
  }
}
