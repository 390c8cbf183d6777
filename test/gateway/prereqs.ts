/**
 * What the gateway namespace tests need, in one place. They skip, with the reason printed, only where the machine
 * cannot create network namespaces. Under CI (CI=true) anything else missing (tcpdump, the native addon, dist/) is
 * a failure, not a skip: a missing build must not pass as a green run.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Honeynet } from '../honeynet/honeynet.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function haveCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the gateway tests of `what` cannot run here, or undefined when they can. */
export function gatewaySkipReason(what: string, opts: { tcpdump?: boolean } = {}): string | undefined {
  const avail = Honeynet.availability();
  if (!avail.ok) {
    console.log(`${what} skipped: ${avail.reason}`);
    return avail.reason;
  }
  const missing =
    opts.tcpdump && !haveCommand('tcpdump')
      ? 'tcpdump is not installed'
      : !existsSync(path.join(repoRoot, 'native', 'build', 'Release', 'honeywall_nf.node'))
        ? 'the native addon is not built (npm ci builds it; needs libnetfilter-queue-dev libnetfilter-log-dev)'
        : !existsSync(path.join(repoRoot, 'dist', 'runtime', 'gateway.js'))
          ? 'dist/ is not built (npm run build)'
          : undefined;
  if (missing && process.env.CI) throw new Error(`${what} cannot run in CI: ${missing}`);
  if (missing) console.log(`${what} skipped: ${missing}`);
  return missing;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not undefined or false), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/**
 * Starts `honeywall run --config <conf>` in the honeynet's gateway namespace and resolves once it says it runs;
 * `onStderr` gets what it writes to stderr as it comes (the tests read its log lines from there).
 */
export async function spawnGateway(net: Honeynet, conf: string, onStderr: (text: string) => void, timeoutMs = 20_000): Promise<ChildProcess> {
  let stderr = '';
  const child = net.spawn('gateway', [process.execPath, path.join(repoRoot, 'bin', 'honeywall.js'), 'run', '--config', conf]);
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr += text;
    onStderr(text);
  });
  await waitFor('the gateway to start', () => stderr.includes('running (pid') || (child.exitCode !== null && 'exited'), timeoutMs);
  if (child.exitCode !== null) throw new Error(`gateway exited: ${stderr}`);
  return child;
}

/** Stops a child with SIGTERM and waits for it to exit, at most `graceMs`. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([done, sleep(graceMs)]);
}

/** Polls an async probe until it returns a value, or fails with its last error after `timeoutMs`. */
export async function waitForAsync<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(500);
  }
}
