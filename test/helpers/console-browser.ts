/**
 * The console in chromium, for the browser tests (console-browser.test.ts on an imported store, the gateway honeynet
 * test on the gateway's own): Debian's chromium driven by playwright-core (no browser download), one page that records
 * every Content-Security-Policy violation before any of the console's scripts run, and the steps the tests share
 * (log in, go to a view and wait for its data, screenshots).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

type PW = typeof import('playwright-core');
export type ConsoleBrowser = Awaited<ReturnType<PW['chromium']['launch']>>;
export type ConsolePage = Awaited<ReturnType<ConsoleBrowser['newPage']>>;

/**
 * Chromium (`executablePath`, default Debian's) with one page: HTTPS errors ignored (the console's self-signed
 * certificate), downloads accepted, CSP violations recorded in `window.__csp`.
 */
export async function launchConsoleBrowser(executablePath = CHROMIUM): Promise<{ browser: ConsoleBrowser; page: ConsolePage }> {
  const { chromium } = (await import('playwright-core')) as PW;
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // every CSP violation and every sign of script run from data is recorded before any of the page's own scripts
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { browser, page };
}

/**
 * A chromium that runs in network namespace `ns` (`ip netns exec`, which execs it: playwright's pipe to the browser
 * passes through), written as a script into `dir`: the browser is then where the analyst is (the manager host).
 */
export function chromiumInNamespace(dir: string, ns: string): string {
  const path = join(dir, 'chromium-in-namespace.sh');
  writeFileSync(path, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
  return path;
}

/** Marks the view as loading, so that `ready` waits for the next one (before a click that changes the view). */
export async function loading(page: ConsolePage): Promise<void> {
  await page.evaluate(() => (document.getElementById('main')!.dataset.state = 'loading'));
}

/** Waits until the page's view has loaded its data (main[data-state=ready]). */
export async function ready(page: ConsolePage): Promise<void> {
  await page.waitForSelector('#main[data-state="ready"]', { timeout: 15_000 });
}

/** Goes to a view (`#/flows?...`) and waits for its data. */
export async function goto(page: ConsolePage, hash: string): Promise<void> {
  await page.evaluate((h) => {
    document.getElementById('main')!.dataset.state = 'loading';
    location.hash = h;
  }, hash);
  await ready(page);
}

/** Opens the console at `base` and logs in (the password typed into the form). */
export async function logIn(page: ConsolePage, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-form');
  await page.fill('#login-name', user);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await ready(page);
}

/** A screenshot of the whole page, `dir/name.png`. */
export async function shot(page: ConsolePage, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
