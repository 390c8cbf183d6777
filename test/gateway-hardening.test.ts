/**
 * The gateway's operations made loud and bounded (issue 12): no inline start without rules unless asked, every
 * supervised child's crash reported with its stderr tail, the capture under the log directory, retention of
 * captures and rotated logs (oldest first, logged, counted).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/runtime/gateway-config.js';
import { retentionPolicies } from '../src/runtime/gateway.js';
import { loadGatewayMatcher, NoRulesError } from '../src/runtime/matcher-loader.js';
import { CAPTURE_FILE, DAY_MS, MAX_LOGGED, Retention, ROTATED_LOG } from '../src/runtime/retention.js';
import { CRASH_LOOP_AFTER, STDERR_TAIL_LINES, Supervisor, type CrashReport } from '../src/runtime/supervisor.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-gw-hard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function conf(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

describe('no rules, no inline start', () => {
  it('HwQUEUE=yes with neither HwIPS_RULES nor HwIPS_MATCHER is refused, at the setting, unless allowEmpty', () => {
    const f = conf('norules.conf', 'HwCAPTURE=no\n');
    const r = loadGatewayConfig(f);
    expect(r.config).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(new RegExp(`^${f}:1:1: error no-rules: HwIPS_RULES: HwQUEUE=yes and no rules are set .*--allow-empty`));
    const g = conf('emptyrules.conf', 'HwCAPTURE=no\n# rules\nHwIPS_RULES=\n');
    expect(loadGatewayConfig(g).errors).toEqual([expect.stringMatching(new RegExp(`^${g}:3:13: error no-rules: HwIPS_RULES: `))]);
    expect(loadGatewayConfig(f, { allowEmpty: true }).errors).toEqual([]);
    expect(loadGatewayConfig(f, { allowEmpty: true }).config!.inspector.allowEmpty).toBe(true);
    // Not inline: nothing to refuse.
    expect(loadGatewayConfig(conf('noqueue.conf', 'HwCAPTURE=no\nHwQUEUE=no\n')).errors).toEqual([]);
  });

  it('rule files or an artifact that hold no rule are refused at load, the setting named', async () => {
    const empty = path.join(tmp, 'empty.rules');
    writeFileSync(empty, '# nothing here\n\n# alert tcp any any -> any any (sid:1;)\n');
    const spec = { rules: [empty], vars: {} };
    await expect(loadGatewayMatcher(spec)).rejects.toThrow(NoRulesError);
    await expect(loadGatewayMatcher(spec)).rejects.toMatchObject({
      setting: 'HwIPS_RULES',
      message: expect.stringContaining(`${empty}: no rules: every packet`),
    });
    const loaded = await loadGatewayMatcher({ ...spec, allowEmpty: true });
    expect(loaded.rules).toBe(0);
    await expect(loadGatewayMatcher({ rules: [], vars: {} })).rejects.toMatchObject({ setting: 'HwIPS_RULES' });
    const one = path.join(tmp, 'one.rules');
    writeFileSync(one, 'drop udp any any -> any 9 (msg:"x"; content:"x"; sid:1;)\n');
    expect((await loadGatewayMatcher({ rules: [one], vars: {} })).rules).toBe(1);
  });
});

describe('capture and logs under the configured directories', () => {
  it('the capture directory defaults to LOG_DIR/pcap, follows --log-dir, and an explicit HwCAPTURE_DIR wins', () => {
    const f = conf('dirs.conf', `HwLOG_DIR=${path.join(tmp, 'logs')}\nHwIPS_RULES=x.rules\n`);
    expect(loadGatewayConfig(f).config!.capture!.dir).toBe(path.join(tmp, 'logs', 'pcap'));
    const moved = loadGatewayConfig(f, { logDir: path.join(tmp, 'elsewhere') }).config!;
    expect(moved.logDir).toBe(path.join(tmp, 'elsewhere'));
    expect(moved.capture!.dir).toBe(path.join(tmp, 'elsewhere', 'pcap'));
    const g = conf('dirs2.conf', `HwLOG_DIR=${path.join(tmp, 'logs')}\nHwIPS_RULES=x.rules\nHwCAPTURE_DIR=cap\n`);
    expect(loadGatewayConfig(g, { logDir: path.join(tmp, 'elsewhere') }).config!.capture!.dir).toBe(path.join(tmp, 'cap'));
  });

  it('reads the retention settings and the capture interfaces, each error at its setting', () => {
    const f = conf('ret.conf', 'HwIPS_RULES=x.rules\nHwCAPTURE_KEEP_DAYS=7\nHwCAPTURE_MAX_GB=0.5\nHwLOG_KEEP_DAYS=3\n');
    const c = loadGatewayConfig(f).config!;
    expect(c.capture).toMatchObject({ keepDays: 7, maxBytes: 500_000_000 });
    expect(c.logKeepDays).toBe(3);
    const d = loadGatewayConfig(conf('defaults.conf', 'HwIPS_RULES=x.rules\n')).config!;
    expect(d.capture).toMatchObject({ keepDays: 30, maxBytes: 0 });
    expect(d.logKeepDays).toBe(90);
    const bad = conf(
      'retbad.conf',
      'HwIPS_RULES=x.rules\nHwCAPTURE_MAX_GB=lots\nHwLOG_KEEP_DAYS=-1\nHwCAPTURE_IFACE=-w\nHwSEBEK=yes\nHwSEBEK_IFACE=eth+\n',
    );
    expect(loadGatewayConfig(bad).errors).toEqual([
      `${bad}:2:18: error invalid-value: HwCAPTURE_MAX_GB: 'lots' is not a size in GB (a decimal number, 0 = no cap)`,
      `${bad}:4:17: error invalid-value: HwCAPTURE_IFACE: interface name '-w' starts with '-', which iptables and tcpdump would read as an option`,
      `${bad}:3:17: error invalid-value: HwLOG_KEEP_DAYS: '-1' is not a number in 0..36500`,
      `${bad}:6:15: error invalid-value: HwSEBEK_IFACE: interface name 'eth+' contains '+', iptables' wildcard: the rule would match every interface with that prefix`,
    ]);
  });
});

describe('retention', () => {
  const now = Date.UTC(2024, 5, 15, 12);
  const clock = { now: () => now };
  /** A file of `size` bytes last written `days` ago. */
  function file(dir: string, name: string, size: number, days: number): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), Buffer.alloc(size));
    const t = (now - days * DAY_MS) / 1000;
    utimesSync(path.join(dir, name), t, t);
  }
  const pcap = (i: number) => `honeywall-202406${String(i).padStart(2, '0')}-000000.pcap`;

  it('deletes captures older than the keep-days and then the oldest over the size cap, never the newest; logs and counts', () => {
    const dir = path.join(tmp, 'ret-cap');
    for (let i = 1; i <= 10; i++) file(dir, pcap(i), 1000, 40 - i * 2); // 38, 36, ... 20 days old
    file(dir, 'notes.txt', 5000, 100); // not ours
    file(dir, 'honeywall-20240101-000000.pcap.bak', 5000, 100); // not ours either
    symlinkSync('/etc/passwd', path.join(dir, 'honeywall-20230101-000000.pcap')); // planted: never followed nor removed
    const lines: string[] = [];
    const r = new Retention(
      [{ what: 'capture', dir, owns: (n) => CAPTURE_FILE.test(n), keepDays: 30, maxBytes: 4500, keepNewest: true }],
      (l) => lines.push(l),
      clock,
    );
    expect(r.sweep()).toBe(6);
    // 38..32 days: too old (4 files); then 6 files = 6000 bytes over 4500: the two oldest go.
    expect(readdirSync(dir).sort()).toEqual(
      ['honeywall-20230101-000000.pcap', 'honeywall-20240101-000000.pcap.bak', pcap(7), pcap(8), pcap(9), pcap(10), 'notes.txt'].sort(),
    );
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(`retention: deleted capture file ${path.join(dir, pcap(1))} (1.0 kB, last written 38.0 days ago, over 30)`);
    expect(lines[5]).toBe(`retention: deleted capture file ${path.join(dir, pcap(6))} (1.0 kB, over the 4.5 kB cap)`);
    expect(r.counters).toMatchObject({ sweeps: 1, deletedFiles: 6, deletedBytes: 6000, errors: 0 });
    // The newest is kept even when it alone is over the cap.
    const tiny = new Retention(
      [{ what: 'capture', dir, owns: (n) => CAPTURE_FILE.test(n), keepDays: 0, maxBytes: 1, keepNewest: true }],
      () => undefined,
      clock,
    );
    tiny.sweep();
    expect(readdirSync(dir).filter((n) => CAPTURE_FILE.test(n) && n.startsWith('honeywall-2024'))).toEqual([pcap(10)]);
  });

  it('deletes rotated logs past the keep-days, never the live ones, and names at most MAX_LOGGED files per sweep', () => {
    const dir = path.join(tmp, 'ret-log');
    for (let i = 0; i < 30; i++) {
      const day = new Date(now - (i + 1) * DAY_MS).toISOString().slice(0, 10);
      file(dir, `fast.log.${day}`, 10, i + 1);
      file(dir, `eve.json.${day}`, 10, i + 1);
    }
    file(dir, 'fast.log', 10, 400);
    file(dir, 'firewall.log', 10, 400);
    file(dir, 'fast.log.2020-01-01.3', 10, 400);
    const lines: string[] = [];
    const r = new Retention(
      [{ what: 'log', dir, owns: (n) => ROTATED_LOG.test(n), keepDays: 7, maxBytes: 0, keepNewest: false }],
      (l) => lines.push(l),
      clock,
    );
    // 23 days x 2 logs past 7 days, and the .3 one.
    expect(r.sweep()).toBe(47);
    expect(existsSync(path.join(dir, 'fast.log'))).toBe(true);
    expect(existsSync(path.join(dir, 'firewall.log'))).toBe(true);
    expect(readdirSync(dir).filter((n) => ROTATED_LOG.test(n))).toHaveLength(14);
    expect(lines).toHaveLength(MAX_LOGGED + 1);
    expect(lines[MAX_LOGGED]).toBe(`retention: and ${47 - MAX_LOGGED} more log files in ${dir} (${(47 - MAX_LOGGED) * 10} bytes)`);
    expect(r.counters.deletedFiles).toBe(47);
  });

  it('the gateway sweeps its capture directory and its log directory with the configured settings', () => {
    const f = conf(
      'retgw.conf',
      `HwIPS_RULES=x.rules\nHwLOG_DIR=${path.join(tmp, 'gwlogs')}\nHwCAPTURE_KEEP_DAYS=2\nHwCAPTURE_MAX_GB=1\nHwLOG_KEEP_DAYS=5\n`,
    );
    const policies = retentionPolicies(loadGatewayConfig(f).config!);
    expect(policies.map((p) => [p.what, p.dir, p.keepDays, p.maxBytes, p.keepNewest])).toEqual([
      ['log', path.join(tmp, 'gwlogs'), 5, 0, false],
      ['capture', path.join(tmp, 'gwlogs', 'pcap'), 2, 1e9, true],
    ]);
  });
});

describe('supervised children report their crashes', () => {
  it('every exit not asked for is reported with the stderr tail; a crash loop is flagged; stderr is bounded', async () => {
    const script = path.join(tmp, 'dies.sh');
    // 12 stderr lines, one 200 KB line without a newline, then exit 1.
    writeFileSync(
      script,
      `for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "tcpdump: line $i" >&2; done\nhead -c 200000 /dev/zero | tr '\\0' x >&2\nexit 1\n`,
    );
    const reports: CrashReport[] = [];
    const s = new Supervisor('full capture', 'sh', [script], { restartDelayMs: 20, maxDelayMs: 40, onCrash: (r) => reports.push(r) });
    s.start();
    const deadline = Date.now() + 10_000;
    while (reports.length < CRASH_LOOP_AFTER && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(reports.length).toBeGreaterThanOrEqual(CRASH_LOOP_AFTER);
    expect(reports[0]).toMatchObject({ name: 'full capture', command: 'sh', exit: 'exited 1', consecutive: 1, crashLoop: false });
    expect(reports[CRASH_LOOP_AFTER - 1]).toMatchObject({ consecutive: CRASH_LOOP_AFTER, crashLoop: true });
    const tail = reports[0]!.stderrTail;
    expect(tail.length).toBeLessThanOrEqual(STDERR_TAIL_LINES);
    expect(tail).toContain('tcpdump: line 12');
    for (const l of tail) expect(l.length).toBeLessThanOrEqual(303);
    const st = s.status();
    expect(st).toMatchObject({ crashLoop: true, lastExit: 'exited 1', running: false });
    expect(st.crashes).toBe(reports.length);
  });

  it('a command that cannot start is reported as such', async () => {
    const reports: CrashReport[] = [];
    const s = new Supervisor('sebek tap', path.join(tmp, 'no-such-tcpdump'), [], { restartDelayMs: 1000, onCrash: (r) => reports.push(r) });
    s.start();
    const deadline = Date.now() + 5000;
    while (reports.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(reports[0]!.exit).toMatch(/^could not start .*no-such-tcpdump: spawn .* ENOENT$/);
  });
});

describe('deploy', () => {
  it('the package ships deploy/ and the GPL-2.0 LICENSE that package.json names', () => {
    const root = path.resolve(__dirname, '..');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[]; license: string };
    expect(pkg.files).toContain('deploy');
    expect(pkg.license).toBe('GPL-2.0-only');
    const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
    expect(license).toContain('GNU GENERAL PUBLIC LICENSE');
    expect(license).toContain('Version 2, June 1991');
    expect(readdirSync(path.join(root, 'deploy')).sort()).toEqual([
      'honeywall-firewall.service',
      'honeywall-update.service',
      'honeywall-update.timer',
      'honeywall.service',
    ]);
  });
});
