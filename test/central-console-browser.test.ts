/**
 * `honeywall console --store postgres://...` in a real browser (Debian's chromium driven by playwright-core, as
 * console-browser.test.ts): the real console process (bin/honeywall.js, dist/) over a real PostgreSQL
 * (test/helpers/postgres.ts) into which two gateways shipped the same imported store as sites site-a and site-b (so
 * every id exists twice). It logs in, sees the overview with a card per site for the honeypot, filters the connection
 * list by site, opens a site-b flow from the list (its page says which gateway holds the packets), opens a site-a flow,
 * whose gateway (a second `honeywall console` over site-a's store, with an API token) is in the central console's
 * gateways file, and downloads its pcap through the central console (the gateway's bytes), opens the Sebek
 * shell of site-a and sees its keystrokes, the hostile lines shown as text and nothing run. Skipped, saying why,
 * without chromium, dist/ or PostgreSQL. Screenshots go to HW_SCREENSHOTS when set (central-*.png).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  const servers: ChildProcess[] = [];
  let gatewayFile = '';
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
    const freePort = () =>
      new Promise<number>((res) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => res(p));
        });
      });
    /** `honeywall console ARGS`, once it printed its start line; that line and what it printed before. */
    const startConsole = (args: string[]) => {
      const child = spawn(process.execPath, [bin, 'console', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      servers.push(child);
      let err = '';
      return new Promise<string>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`the console did not start: ${err}`)), 20_000);
        child.stderr!.on('data', (b: Buffer) => {
          err += b.toString();
          if (/honeywall console: https:\/\//.test(err)) {
            clearTimeout(t);
            res(err);
          }
        });
        child.once('exit', (code) => rej(new Error(`the console exited ${code}: ${err}`)));
      });
    };
    // site-a's gateway: its own console over its store (a self-signed certificate made beside it), an API token
    const gwPort = await freePort();
    await startConsole(['--db', file, '--listen', `127.0.0.1:${gwPort}`]);
    const token = spawnSync(process.execPath, [bin, 'console', 'token', 'add', 'central', '--db', file], { encoding: 'utf8' });
    expect(token.status).toBe(0);
    writeFileSync(join(dir, 'site-a.token'), token.stdout, { mode: 0o600 });
    writeFileSync(join(dir, 'gateways.conf'), `site-a https://127.0.0.1:${gwPort}/ site-a.token ${file}.console-cert.pem\n`);
    const port = await freePort();
    const err = await startConsole(['--db', accounts, '--store', url, '--gateways', join(dir, 'gateways.conf'), '--listen', `127.0.0.1:${port}`]);
    expect(err).toMatch(
      /serving the central store postgres:\/\/postgres@127\.0\.0\.1:\d+\/central \(accounts in .*accounts\.sqlite; pcaps fetched from 1 gateway\(s\)\)/,
    );
    gatewayFile = file;
    base = `https://127.0.0.1:${port}`;
    ({ browser, page } = await launchConsoleBrowser());
    mkdirSync(shots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) {
      if (server.exitCode !== null) continue;
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
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

  it('a site-a flow, whose gateway is configured: the page offers the download, fetched from that gateway', async () => {
    const { openStore } = await import('../src/store/db.js');
    const gw = openStore(gatewayFile);
    const id = (gw.prepare('SELECT id FROM flows ORDER BY id LIMIT 1').get() as { id: number }).id;
    gw.close();
    await goto(page, `#/flow/${id}?sensor=site-a`);
    expect(await page.locator('#pcap-elsewhere').count()).toBe(0);
    const link = page.locator('#download-pcap');
    expect(await link.textContent()).toBe('download pcap (from gateway site-a)');
    const href = await link.getAttribute('href');
    expect(href).toBe(`/api/flows/${id}/pcap?sensor=site-a`);
    const got = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, bytes: [...new Uint8Array(await r.arrayBuffer())] };
    }, href!);
    expect(got.status).toBe(200);
    expect(got.bytes.length).toBeGreaterThan(24);
    // pcap magic (either byte order): the gateway's cut, passed on
    expect([0xa1b2c3d4, 0xd4c3b2a1]).toContain(Buffer.from(got.bytes.slice(0, 4)).readUInt32BE(0));
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
