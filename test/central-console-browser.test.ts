/**
 * `honeywall console --store postgres://...` in a real browser (Debian's chromium driven by playwright-core, as
 * console-browser.test.ts): the real console process (bin/honeywall.js, dist/) over a real PostgreSQL
 * (test/helpers/postgres.ts) into which two gateways shipped the same imported store as sites site-a and site-b (so
 * every id exists twice). It logs in, sees the overview with a card per site for the honeypot, filters the connection
 * list by site, opens a site-b flow from the list (its page says which gateway holds the packets), opens the Sebek
 * shell of site-a and sees its keystrokes, the hostile lines shown as text and nothing run. Skipped, saying why,
 * without chromium, dist/ or PostgreSQL. Screenshots go to HW_SCREENSHOTS when set (central-*.png).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';
import { CHROMIUM, goto, launchConsoleBrowser, logIn, shot, type ConsoleBrowser, type ConsolePage } from './helpers/console-browser.js';
import { HONEYPOT, HOSTILE_LINES, PASSWORD, SHELL_PID, USER } from './helpers/console-store.js';
import { shipTwoSites } from './helpers/central-sites.js';
import { postgresMissing, startCluster, type PgCluster } from './helpers/postgres.js';

const bin = join(repoRoot, 'bin/honeywall.js');
const why = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent`
  : !existsSync(join(repoRoot, 'dist/store/central/reader.js'))
    ? 'dist/ is not built (npm run build)'
    : postgresMissing();
if (why !== undefined) console.warn(`[central console browser] SKIPPED: ${why}`);

describe.skipIf(why !== undefined)('honeywall console --store postgres:// in chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-central-browser-'));
  const shots = process.env.HW_SCREENSHOTS ? resolve(repoRoot, process.env.HW_SCREENSHOTS) : join(dir, 'screenshots');
  let cluster: PgCluster;
  let server: ChildProcess | undefined;
  let browser: ConsoleBrowser | undefined;
  let page: ConsolePage;
  let base = '';

  beforeAll(async () => {
    cluster = await startCluster();
    const { file, url } = await shipTwoSites(dir, cluster, { account: false });
    // the accounts: a store file of their own
    const accounts = join(dir, 'accounts.sqlite');
    const add = spawnSync(process.execPath, [bin, 'console', 'adduser', USER, '--db', accounts], { input: `${PASSWORD}\n`, encoding: 'utf8' });
    expect(add.status).toBe(0);
    execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle-console.js')], { stdio: 'ignore' });
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    server = spawn(process.execPath, [bin, 'console', '--db', accounts, '--store', url, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`the console did not start: ${err}`)), 20_000);
      server!.stderr!.on('data', (b: Buffer) => {
        err += b.toString();
        if (/honeywall console: https:\/\//.test(err)) {
          clearTimeout(t);
          res();
        }
      });
      server!.once('exit', (code) => rej(new Error(`the console exited ${code}: ${err}`)));
    });
    expect(err).toMatch(/serving the central store postgres:\/\/postgres@127\.0\.0\.1:\d+\/central \(accounts in .*accounts\.sqlite\)/);
    base = `https://127.0.0.1:${port}`;
    ({ browser, page } = await launchConsoleBrowser());
    mkdirSync(shots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the overview: a card per site for the honeypot, each with its charts', async () => {
    await logIn(page, base, USER, PASSWORD);
    for (const site of ['site-a', 'site-b']) {
      const card = page.locator(`section.card[data-honeypot="${HONEYPOT}"][data-sensor="${site}"]`);
      await card.waitFor();
      expect(await card.locator('h2').textContent()).toBe(`${HONEYPOT} at ${site}`);
      expect(await card.locator('.chart canvas').count()).toBe(2);
    }
    await shot(page, shots, 'central-overview');
  });

  it('the connection list filtered by site; a site-b flow opened from it says which gateway holds its packets', async () => {
    await goto(page, '#/flows?sensor=site-b');
    const sensors = await page.locator('table.list tbody tr td:first-child').allTextContents();
    expect(sensors.length).toBeGreaterThan(0);
    expect(new Set(sensors)).toEqual(new Set(['site-b']));
    await shot(page, shots, 'central-flows');
    const first = page.locator('table.list tbody tr a[data-flow]').first();
    const id = await first.textContent();
    await page.evaluate(() => (document.getElementById('main')!.dataset.state = 'loading'));
    await first.click();
    await page.waitForSelector('#main[data-state="ready"]');
    expect(page.url()).toContain(`#/flow/${id}?sensor=site-b`);
    expect(await page.textContent('#pcap-elsewhere')).toBe(
      'The packets are in the full capture of gateway site-b: download the pcap from its console.',
    );
    expect(await page.locator('#download-pcap').count()).toBe(0);
  });

  it("site-a's Sebek shell: its keystrokes, the hostile lines as text, nothing run", async () => {
    await goto(page, `#/process/${HONEYPOT}/${SHELL_PID}?sensor=site-a`);
    const text = await page.textContent('#main');
    for (const line of HOSTILE_LINES) expect(text).toContain(line);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    await shot(page, shots, 'central-process');
  });
});
