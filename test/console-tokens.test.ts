/**
 * API tokens of a gateway's console (issue 16: the central console fetches a flow's pcap from the gateway that holds
 * it): `honeywall console token add/list/revoke` (printed once, only the SHA-256 stored), a bearer request allowed its
 * scope's read-only route and nothing else (no state change, no other page), a wrong or revoked token one 401, failures
 * rate limited per address and audited, the download audited as `token:NAME`; and the central console's gateways file
 * checked at start with file:line:column errors.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeQuietConsoleStore, PASSWORD, USER, type ConsoleStore } from './helpers/console-store.js';

const { buildConsole } = await import('../src/console/server.js');
const { openStore } = await import('../src/store/db.js');
const { loadTls } = await import('../src/console/tls.js');
const { loadGateways } = await import('../src/console/gateways.js');
const { loadConsoleSettings } = await import('../src/console/config.js');
const { main } = await import('../src/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'hw-console-tokens-'));
let store: ConsoleStore;
let db: Database.Database;
let app: FastifyInstance;

/** Runs `honeywall ARGS`; its exit code and what it wrote. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(['node', 'honeywall', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  store = await makeQuietConsoleStore(dir);
  db = openStore(store.db);
  app = await buildConsole({ db, rateLimits: { perAccount: 3, perAddress: 8, windowMs: 60_000, maxKeys: 100 }, log: () => undefined });
}, 120_000);

afterAll(async () => {
  await app?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const bearer = (token: string, url: string, address = '10.9.0.1', method: 'GET' | 'POST' = 'GET') =>
  app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, remoteAddress: address });

function audit(action: string): { user: string | null; address: string; object: string | null; detail: string | null }[] {
  return db.prepare('SELECT user, address, object, detail FROM audit WHERE action = ? ORDER BY id').all(action) as never;
}

describe('API tokens', () => {
  let token = '';
  let flow = 0;

  it('token add prints a 256-bit token once and keeps only its SHA-256; list shows names, never tokens', async () => {
    const r = await cli('console', 'token', 'add', 'central', '--db', store.db);
    expect(r.code, r.err).toBe(0);
    token = r.out.trim();
    expect(token).toMatch(/^hwt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url').length).toBe(32);
    const row = db.prepare('SELECT * FROM api_tokens WHERE name = ?').get('central') as { hash: string; scope: string };
    expect(row).toMatchObject({ hash: createHash('sha256').update(token).digest('hex'), scope: 'pcap' });
    expect(JSON.stringify(db.prepare('SELECT * FROM api_tokens').all())).not.toContain(token.slice(4));
    const again = await cli('console', 'token', 'add', 'central', '--db', store.db);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/a token named central exists/);
    expect((await cli('console', 'token', 'add', 'x', '--scope', 'admin', '--db', store.db)).err).toMatch(/scope 'admin': one of pcap/);
    // --out: a new file of mode 0600, never an existing one overwritten
    const out = join(dir, 'other.token');
    expect((await cli('console', 'token', 'add', 'other', '--out', out, '--db', store.db)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^hwt_[A-Za-z0-9_-]{43}\n$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await cli('console', 'token', 'add', 'other2', '--out', out, '--db', store.db)).err).toMatch(/exists: not overwritten/);
    expect(await cli('console', 'token', 'revoke', 'other', '--db', store.db)).toMatchObject({ code: 0 });
    const list = await cli('console', 'token', 'list', '--db', store.db);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^central\tpcap\tmade \d{4}-\d\d-\d\dT[\d:.]+Z\tlast used never\n$/);
    expect(list.out).not.toContain(token);
    expect(audit('token-added').map((a) => [a.address, a.object, a.detail])).toEqual([
      ['command line', 'token central', 'scope pcap'],
      ['command line', 'token other', 'scope pcap'],
    ]);
  });

  it("a bearer token downloads a flow's pcap, the same bytes as a session's, audited as token:NAME", async () => {
    flow = (db.prepare('SELECT id FROM flows ORDER BY id LIMIT 1').get() as { id: number }).id;
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { name: USER, password: PASSWORD } });
    const cookie = `hw_session=${login.cookies.find((c) => c.name === 'hw_session')!.value}`;
    const own = await app.inject({ method: 'GET', url: `/api/flows/${flow}/pcap`, headers: { cookie } });
    expect(own.statusCode).toBe(200);
    const r = await bearer(token, `/api/flows/${flow}/pcap`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.rawPayload.length).toBeGreaterThan(24);
    expect(r.rawPayload.equals(own.rawPayload)).toBe(true);
    expect(audit('pcap-downloaded').at(-1)).toMatchObject({ user: 'token:central', address: '10.9.0.1', object: `flow ${flow}` });
    expect((await cli('console', 'token', 'list', '--db', store.db)).out).toMatch(/last used \d{4}-/);
  });

  it('the token opens its scope only: no other page, no state change, and the cookie is not looked at', async () => {
    for (const url of ['/api/flows', `/api/flows/${flow}`, '/api/audit', '/api/session', '/api/sebek/processes']) {
      const r = await bearer(token, url);
      expect(r.statusCode, url).toBe(403);
      expect(r.json().error).toMatch(/^token central \(scope pcap\) does not open GET/);
    }
    expect((await bearer(token, '/api/logout', '10.9.0.1', 'POST')).statusCode).toBe(403);
    const head = await app.inject({ method: 'HEAD', url: `/api/flows/${flow}/pcap`, headers: { authorization: `Bearer ${token}` } });
    expect(head.statusCode).toBe(403);
  });

  it('a wrong, malformed or revoked token is one 401 that does not say which; failures are audited and rate limited per address', async () => {
    const wrong = `hwt_${'A'.repeat(43)}`;
    const answers = [];
    for (const t of [wrong, 'not-a-token', `${token}x`]) answers.push(await bearer(t, `/api/flows/${flow}/pcap`, '10.9.0.2'));
    expect(await cli('console', 'token', 'revoke', 'central', '--db', store.db)).toMatchObject({ code: 0 });
    expect(audit('token-revoked').at(-1)).toMatchObject({ object: 'token central' });
    answers.push(await bearer(token, `/api/flows/${flow}/pcap`, '10.9.0.4'));
    for (const r of answers) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'wrong or revoked API token' });
    }
    expect(audit('token-failed').filter((a) => a.address === '10.9.0.2').length).toBe(3);
    expect(audit('token-failed').filter((a) => a.address === '10.9.0.4').length).toBe(1);
    // the limit (3 a key in this console) is reached: refused without looking at the token, even a good one
    const fresh = (await cli('console', 'token', 'add', 'central2', '--db', store.db)).out.trim();
    const limited = await bearer(fresh, `/api/flows/${flow}/pcap`, '10.9.0.2');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(audit('token-limited').length).toBeGreaterThan(0);
    // another address is not held back, and logins are not either
    expect((await bearer(fresh, `/api/flows/${flow}/pcap`, '10.9.0.3')).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: '/api/login', payload: { name: USER, password: PASSWORD }, remoteAddress: '10.9.0.2' })).statusCode,
    ).toBe(200);
    expect((await cli('console', 'token', 'revoke', 'nope', '--db', store.db)).err).toMatch(/no token named nope/);
  });
});

describe("the central console's gateways file", () => {
  it('checked at start: each problem is a file:line:column line; good lines make gateways', () => {
    const tls = loadTls({ store: join(dir, 'gw.sqlite'), host: '127.0.0.1' });
    const tok = join(dir, 'site-a.token');
    writeFileSync(tok, `hwt_${'b'.repeat(43)}\n`);
    chmodSync(tok, 0o600);
    const loose = join(dir, 'loose.token');
    writeFileSync(loose, `hwt_${'c'.repeat(43)}\n`);
    chmodSync(loose, 0o644);
    writeFileSync(join(dir, 'junk.token'), 'password123\n');
    const file = join(dir, 'gateways.conf');
    writeFileSync(
      file,
      [
        '# sensor url token ca',
        `site-a https://127.0.0.1:8443 site-a.token ${tls.certFile}   # the first`,
        `site-a https://127.0.0.1:8444/ site-a.token ${tls.certFile}`,
        `site-b http://10.0.0.2:8443/ site-a.token ${tls.certFile}`,
        `site-c https://user:pw@10.0.0.3/ site-a.token ${tls.certFile}`,
        `site-d https://10.0.0.4/ missing.token ${tls.certFile}`,
        `site-e https://10.0.0.5/ junk.token ${tls.certFile}`,
        'site-f https://10.0.0.6/ site-a.token site-a.token',
        'site-g https://10.0.0.7/ site-a.token',
        `site-h https://10.0.0.8/ loose.token ${tls.certFile}`,
        `bad\x1bname https://10.0.0.9/ site-a.token ${tls.certFile}`,
        '',
      ].join('\n'),
    );
    const r = loadGateways(file);
    expect(r.errors).toEqual([
      `${file}:3:1: error invalid-gateway: sensor site-a is already on line 2`,
      `${file}:4:8: error invalid-gateway: 'http://10.0.0.2:8443/': https only (the token and the packets cross the network)`,
      `${file}:5:8: error invalid-gateway: no user or password in the URL: the token file authenticates`,
      `${file}:6:26: error invalid-gateway: token file ${join(dir, 'missing.token')} no such file`,
      `${file}:7:26: error invalid-gateway: ${join(dir, 'junk.token')} does not hold a token (what honeywall console token add printed on the gateway)`,
      expect.stringMatching(new RegExp(`^${file}:8:39: error invalid-gateway: ${join(dir, 'site-a.token')} is not a PEM certificate`)),
      `${file}:9:38: error invalid-gateway: 3 fields: a line is SENSOR URL TOKEN-FILE CA-FILE`,
      `${file}:11:1: error invalid-gateway: 'bad\\x1bname' is not a sensor name (1 to 64 printable characters, as HwSENSOR)`,
    ]);
    expect(r.warnings).toEqual([`${file}:10:26: warning token-file-mode: ${loose} is readable by others than its owner (chmod 600)`]);
    expect(r.gateways.map((g) => [g.sensor, g.url, g.at])).toEqual([
      ['site-a', 'https://127.0.0.1:8443/', `${file}:2:1`],
      ['site-h', 'https://10.0.0.8/', `${file}:10:1`],
    ]);
    expect(r.gateways[0]!.token).toBe(`hwt_${'b'.repeat(43)}`);
    // through the settings: HwCONSOLE_GATEWAYS relative to honeywall.conf; errors stop the start
    const conf = join(dir, 'honeywall.conf');
    writeFileSync(conf, 'HwCONSOLE_GATEWAYS=gateways.conf\nHwCONSOLE_PCAP_MAX=64M\n');
    const s = loadConsoleSettings(conf, { db: store.db });
    expect(s.settings).toBeNull();
    expect(s.errors).toEqual(r.errors);
    writeFileSync(join(dir, 'good.conf'), `site-a https://127.0.0.1:8443/ site-a.token ${tls.certFile}\n`);
    const good = loadConsoleSettings(conf, { db: store.db, gateways: join(dir, 'good.conf') });
    expect(good.errors).toEqual([]);
    expect(good.settings).toMatchObject({ pcapMax: 64 * 1024 * 1024, gateways: [{ sensor: 'site-a' }] });
    expect(loadConsoleSettings(undefined, { pcapMax: 'lots' }).errors).toEqual([
      "honeywall: --pcap-max: 'lots' is not a byte count (digits, or with K, M or G)",
    ]);
  });

  it('honeywall console refuses a bad gateways file (exit 2, the lines, no stack trace), and gateways without --store', async () => {
    const r = await cli('console', '--db', store.db, '--gateways', join(dir, 'gateways.conf'), '--store', 'postgres://hw@127.0.0.1:1/x');
    expect(r.code).toBe(2);
    expect(r.err).toContain(':3:1: error invalid-gateway: sensor site-a is already on line 2');
    expect(r.err).not.toMatch(/\bat \w+ \(|\.ts:\d+/);
    const n = await cli('console', '--db', store.db, '--gateways', join(dir, 'good.conf'));
    expect(n.code).toBe(2);
    expect(n.err).toMatch(/gateways .* are for the central console: give --store/);
  });
});
