/**
 * The one Snort 2.9.20 runner: a rule file included after the shipped base.conf, a list of captures read with
 * `--pcap-reset` (Snort resets its preprocessors, event queue and thresholds between captures: snort.c SnortReset),
 * alerts read back from alert_fast. Snort stops at the first rule it refuses; the refusal (file and line, from
 * parser.c's ParseError "ERROR: FILE(LINE) message") is returned for the caller to take the rule out and run again.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SNORT_PREFIX = process.env.SNORT_PREFIX || '/opt/snort-2.9.20';
export const SNORT_BIN = join(SNORT_PREFIX, 'bin/snort');
export const SNORT_BASE_CONF = join(SNORT_PREFIX, 'etc/base.conf');

/** Why Snort cannot be used here, or undefined when it can. */
export function snortMissing(): string | undefined {
  if (!existsSync(SNORT_BIN)) return `${SNORT_BIN} is absent (build it with ../shared/anchors/build-snort.sh ${SNORT_PREFIX})`;
  if (!existsSync(SNORT_BASE_CONF)) return `${SNORT_BASE_CONF} is absent`;
  return undefined;
}

/** One alert line of alert_fast: gid, sid and the two addresses (ports left out). */
export interface SnortAlert {
  gid: number;
  sid: number;
  src: string;
  dst: string;
}

export interface SnortRefusal {
  file: string;
  line: number;
  message: string;
}

export interface SnortResult {
  alerts: SnortAlert[];
  /**
   * The capture Snort was stuck on when the watchdog killed it (alerts are those logged up to then). Snort 2.9.20 can
   * loop forever in detection (seen: `byte_extract:1,0,v; content:"%41"; distance:v; ...` against an unrelated flow).
   */
  hung?: string;
  /**
   * With `hung`: the gid:sid of the rules Snort was looping in (snort-culprit.py, when gdb is installed), which may
   * belong to another case of the batch than the stuck capture.
   */
  culprits?: string[];
  /** The rule Snort refused to load (nothing was inspected then). */
  refused?: SnortRefusal;
  /** Snort failed for another reason: its last lines of output. */
  failed?: string;
  seconds: number;
}

/** `base.conf` with one include per rule file: the configuration both engines load. */
export function writeConf(dir: string, ruleFiles: readonly string[]): string {
  const conf = join(dir, 'snort.conf');
  writeFileSync(conf, `${readFileSync(SNORT_BASE_CONF, 'utf8')}\n${ruleFiles.map((f) => `include ${f}`).join('\n')}\n`);
  return conf;
}

// `08/12-10:01:02.123456  [**] [1:1000:1] msg [**] [Classification: x] [Priority: 2] {TCP} 1.2.3.4:5 -> 6.7.8.9:80`
const FAST = /\[\*\*\] \[(\d+):(\d+):\d+\] .*\{[^}]+\} ([0-9a-fA-F:.]+?)(?::\d+)? -> ([0-9a-fA-F:.]+?)(?::\d+)?$/;

export function parseFastAlerts(text: string): SnortAlert[] {
  const out: SnortAlert[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = FAST.exec(line);
    if (!m) throw new Error(`unreadable alert_fast line: ${line}`);
    out.push({ gid: Number(m[1]), sid: Number(m[2]), src: m[3]!, dst: m[4]! });
  }
  return out;
}

// parser.c writes `ERROR: FILE(LINE) msg`, some keyword parsers `ERROR: FILE(LINE): msg`, `ERROR: FILE:LINE: msg`
// or `ERROR: Line FILE (LINE): msg`
const REFUSAL = /ERROR: (?:Line )?(\S+?) ?(?:\((\d+)\):?|:(\d+):) ?(.*)/;

/**
 * Runs Snort over `pcaps` in order (each with fresh state). With no captures it only loads the rules (`-T`), which is
 * how the lint property asks whether Snort accepts a rule file. `extraArgs` go before the capture options (the real-traffic
 * comparison adds `-y -U` so each alert's time says which capture it came from).
 */
export async function runSnort(workDir: string, conf: string, pcaps: readonly string[], extraArgs: readonly string[] = []): Promise<SnortResult> {
  mkdirSync(workDir, { recursive: true });
  const t0 = performance.now();
  const args = ['-q', '-k', 'none', '-c', conf, '-N', '--treat-drop-as-alert', ...extraArgs];
  if (pcaps.length === 0) args.push('-T');
  else {
    const list = join(workDir, 'pcaps.txt');
    writeFileSync(list, pcaps.join('\n') + '\n');
    writeFileSync(join(workDir, 'alert'), '');
    args.push('--pcap-file', list, '--pcap-reset', '-A', 'fast', '-l', workDir);
  }
  const { code, output, hung, culprits } = await run(SNORT_BIN, args);
  const seconds = (performance.now() - t0) / 1000;
  if (hung !== undefined) return { alerts: parseFastAlerts(readFileSync(join(workDir, 'alert'), 'utf8')), hung, culprits, seconds };
  const refusal = REFUSAL.exec(output);
  if (refusal)
    return {
      alerts: [],
      refused: { file: refusal[1]!, line: Number(refusal[2] ?? refusal[3]), message: refusal[4]!.replace(/Fatal Error, Quitting\.\.$/, '').trim() },
      seconds,
    };
  if (code !== 0 || /Fatal Error/.test(output)) return { alerts: [], failed: output.split('\n').slice(-8).join('\n'), seconds };
  const alerts = pcaps.length === 0 ? [] : parseFastAlerts(readFileSync(join(workDir, 'alert'), 'utf8'));
  return { alerts, seconds };
}

/**
 * Seconds one capture may stay open before Snort is taken for stuck. A case's capture takes Snort milliseconds, even
 * on a loaded machine; a stuck Snort 2.9.20 spins for ever (a rule like `byte_extract:1,1,v; content:"AAAA"; offset:v;
 * byte_test:2,!,186,8,relative; byte_jump:2,3,string,dec,align;` loops in detection_options.c's retry loop on any
 * packet holding its content), so every second here is paid for each such capture.
 */
export const HANG_SECONDS = Number(process.env.DIFF_SNORT_HANG_SECONDS || 3);

/** The capture a process has open, from /proc (Linux). */
function openCapture(pid: number): string | undefined {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSafe(`/proc/${pid}/fd/${fd}`);
      if (target?.endsWith('.pcap')) return target;
    }
  } catch {
    // the process has just exited
  }
  return undefined;
}

function readlinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

const CULPRIT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'snort-culprit.py');
const GDB = ['/usr/bin/gdb', '/bin/gdb'].find((p) => existsSync(p));

/**
 * The rules a stuck Snort is looping in, read with gdb from its detection option tree (snort-culprit.py); empty when
 * gdb is absent, fails, or takes over 20 s.
 */
function stuckRules(pid: number): Promise<string[]> {
  if (GDB === undefined) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile(
      GDB,
      ['-p', String(pid), '-batch', '-nx', '-ex', `source ${CULPRIT_SCRIPT}`],
      { timeout: 20_000, maxBuffer: 1 << 20 },
      (_err, stdout) => {
        const line = /^CULPRIT (.*)$/m.exec(String(stdout));
        resolve(line ? line[1]!.split(' ').filter((s) => /^\d+:\d+$/.test(s)) : []);
      },
    );
  });
}

function run(bin: string, args: string[]): Promise<{ code: number; output: string; hung?: string; culprits?: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // Bounded: Snort's output here is its error or a few warnings; keep the last 64 KiB.
    const keep = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-65536);
    };
    p.stdout.on('data', keep);
    p.stderr.on('data', keep);
    // The watchdog: the same capture open for HANG_SECONDS means a stuck Snort (it ignores SIGTERM then): SIGKILL.
    let last: string | undefined;
    let since = performance.now();
    let hung: string | undefined;
    let culprits: string[] | undefined;
    const timer = setInterval(() => {
      const now = openCapture(p.pid ?? -1);
      if (now !== last) {
        last = now;
        since = performance.now();
      } else if (now !== undefined && performance.now() - since > HANG_SECONDS * 1000) {
        hung = now;
        clearInterval(timer);
        void stuckRules(p.pid ?? -1).then((c) => {
          culprits = c;
          p.kill('SIGKILL');
        });
      }
    }, 1000);
    p.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearInterval(timer);
      resolve({ code: code ?? -1, output, hung, culprits });
    });
  });
}
