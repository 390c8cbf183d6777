/**
 * The central console fetches a flow's pcap from the gateway that holds it (issue 16). In one test: a gateway's
 * console (the console tests' SQLite store with its flows and captures, served over HTTPS with its self-signed
 * certificate on a local port, an API token made by `honeywall console token add`) and a central console over a real
 * PostgreSQL (test/helpers/postgres.ts; skipped, saying why, without it) holding that store's rows shipped as site-a
 * and a copy's as site-b (test/helpers/central-sites.ts), with a gateways file naming site-a's gateway. Checked: every
 * flow's pcap through the central console equals the gateway's own download byte for byte, audited at both ends; a
 * wrong or revoked token, a CA that does not match, a flow the gateway lacks and the gateway down are each a 502
 * naming the gateway with nothing of a pcap written; a pcap over the byte limit is cut; a sensor without a gateway
 * keeps the 409 naming it. A stand-in gateway (an HTTPS server with the gateway's certificate that sends a pcap header
 * and then nothing) shows the analyst going away aborting the gateway's request, and the idle timeout.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { shipTwoSites } from './helpers/central-sites.js';
import { PASSWORD, USER } from './helpers/console-store.js';
import { postgresMissing, startCluster, type PgCluster } from './helpers/postgres.js';

const { buildConsole } = await import('../src/console/server.js');
const { openStore } = await import('../src/store/db.js');
const { CentralReader } = await import('../src/store/central/reader.js');
const { loadTls } = await import('../src/console/tls.js');
const { loadGateways } = await import('../src/console/gateways.js');
const { addToken, revokeToken } = await import('../src/console/tokens.js');
const { main } = await import('../src/cli/main.js');

const missing = postgresMissing();
if (missing !== undefined) console.warn(`[central fetch tests] skipped: ${missing}`);

interface Audit {
  user: string | null;
  object: string | null;
  detail: string | null;
}

describe.skipIf(missing !== undefined)("the central console fetches a flow's pcap from its gateway", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-central-fetch-'));
  let cluster: PgCluster;
  let gwDb: Database.Database;
  let centralDb: Database.Database;
  let reader: InstanceType<typeof CentralReader>;
  let gateway: FastifyInstance;
  let gatewayUrl: string;
  let certFile: string;
  let tokenFile: string;
  let flows: number[];
  const opened: FastifyInstance[] = [];
  const logged: string[] = [];

  const login = async (a: FastifyInstance) => {
    const r = await a.inject({ method: 'POST', url: '/api/login', payload: { name: USER, password: PASSWORD } });
    expect(r.statusCode).toBe(200);
    return `hw_session=${r.cookies.find((x) => x.name === 'hw_session')!.value}`;
  };

  /** A central console whose gateways file has site-a's line with these fields (each a file in `dir`). */
  async function central(fields: { url?: string; token?: string; ca?: string }, maxBytes?: number) {
    const file = join(dir, `gateways-${opened.length}.conf`);
    writeFileSync(file, `# sensor url token ca\nsite-a ${fields.url ?? gatewayUrl} ${fields.token ?? tokenFile} ${fields.ca ?? certFile}\n`);
    const g = loadGateways(file);
    expect(g.errors).toEqual([]);
    const app = await buildConsole({
      db: centralDb,
      reader,
      gateways: g.gateways,
      fetchLimits: { connectMs: 5000, idleMs: 20_000, ...(maxBytes === undefined ? {} : { maxBytes }) },
      log: (l) => logged.push(l),
    });
    opened.push(app);
    const cookie = await login(app);
    return (url: string): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url, headers: { cookie } });
  }

  const gatewayAudit = (action: string): Audit[] =>
    gwDb.prepare('SELECT user, object, detail FROM audit WHERE action = ? ORDER BY id').all(action) as Audit[];
  const centralAudit = (action: string): Audit[] =>
    centralDb.prepare('SELECT user, object, detail FROM audit WHERE action = ? ORDER BY id').all(action) as Audit[];

  /** A 502 naming site-a's gateway: JSON, nothing of a pcap, no attachment. */
  function expect502(r: LightMyRequestResponse, message: RegExp): void {
    expect(r.statusCode, r.body).toBe(502);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['content-disposition']).toBeUndefined();
    expect(Object.keys(r.json())).toEqual(['error']);
    expect(r.json().error).toContain(`gateway site-a (${gatewayUrl}/)`);
    expect(r.json().error).toMatch(message);
    expect(r.body).not.toMatch(/\bat \w+ \(|\.ts:\d+/);
  }

  beforeAll(async () => {
    cluster = await startCluster();
    const { file, url } = await shipTwoSites(dir, cluster);
    // the gateway: site-a's own store, its token made by the command an operator runs, HTTPS with its own certificate
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'honeywall', 'console', 'token', 'add', 'central', '--db', file])).toBe(0);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    tokenFile = join(dir, 'site-a.token');
    writeFileSync(tokenFile, out);
    chmodSync(tokenFile, 0o600);
    gwDb = openStore(file);
    const tls = loadTls({ store: file, host: '127.0.0.1' });
    certFile = tls.certFile;
    gateway = await buildConsole({ db: gwDb, tls, log: () => undefined });
    await gateway.listen({ host: '127.0.0.1', port: 0 });
    gatewayUrl = `https://127.0.0.1:${(gateway.server.address() as { port: number }).port}`;
    flows = (gwDb.prepare('SELECT id FROM flows ORDER BY id').all() as { id: number }[]).map((f) => f.id);
    // the central console's accounts: the copy shipped as site-b holds the analyst's account too
    centralDb = openStore(join(dir, 'site-b.sqlite'));
    reader = new CentralReader(url);
  }, 180_000);

  afterAll(async () => {
    for (const a of opened) await a.close();
    await gateway?.close();
    await reader?.close();
    gwDb?.close();
    centralDb?.close();
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every flow's pcap through the central console equals the gateway's own download, byte for byte; audited at both ends", async () => {
    const api = await central({});
    expect((await api('/api/sensors')).json()).toMatchObject({ central: true, sensors: ['site-a', 'site-b'], gateways: ['site-a'] });
    const gwCookie = await login(gateway);
    expect(flows.length).toBeGreaterThan(0);
    for (const id of flows) {
      const own = await gateway.inject({ method: 'GET', url: `/api/flows/${id}/pcap`, headers: { cookie: gwCookie } });
      expect(own.statusCode).toBe(200);
      const r = await api(`/api/flows/${id}/pcap?sensor=site-a`);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['content-type']).toBe('application/vnd.tcpdump.pcap');
      expect(r.headers['content-disposition']).toBe(`attachment; filename="honeywall-site-a-flow-${id}.pcap"`);
      expect(r.rawPayload.length).toBeGreaterThan(24);
      expect(r.rawPayload.equals(own.rawPayload), `flow ${id}`).toBe(true);
      expect(centralAudit('pcap-downloaded').at(-1)).toEqual({
        user: USER,
        object: `flow site-a/${id}`,
        detail: `from gateway site-a: ${own.rawPayload.length} bytes`,
      });
    }
    const byToken = gatewayAudit('pcap-downloaded').filter((a) => a.user === 'token:central');
    expect(byToken.map((a) => a.object)).toEqual(flows.map((id) => `flow ${id}`));
    // the flow page says where the packets come from
    const d = (await api(`/api/flows/${flows[0]}?sensor=site-a`)).json();
    expect(d.packets.error).toMatch(/gateway 'site-a': the pcap download fetches them from it/);
  });

  it('a sensor without a gateway keeps the 409 naming it; a flow the central store lacks is a 404 without asking the gateway', async () => {
    const api = await central({});
    const before = gatewayAudit('pcap-downloaded').length;
    const r = await api(`/api/flows/${flows[0]}/pcap?sensor=site-b`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatch(/full capture of gateway 'site-b': download them from that gateway's console/);
    expect((await api('/api/flows/999999/pcap?sensor=site-a')).statusCode).toBe(404);
    expect(gatewayAudit('pcap-downloaded').length).toBe(before);
  });

  it('a wrong token and a revoked one: 502 naming the gateway, which refused them (401) and audited the failures', async () => {
    const wrong = join(dir, 'wrong.token');
    writeFileSync(wrong, `hwt_${'Q'.repeat(43)}\n`, { mode: 0o600 });
    const failedBefore = gatewayAudit('token-failed').length;
    expect502(
      await (await central({ token: wrong }))(`/api/flows/${flows[0]}/pcap?sensor=site-a`),
      /refused the token \(HTTP 401: wrong or revoked API token\)/,
    );
    // a good token until the gateway's operator revokes it
    const revokable = join(dir, 'revokable.token');
    writeFileSync(revokable, `${addToken(gwDb, 'central-2')}\n`, { mode: 0o600 });
    const api = await central({ token: revokable });
    expect((await api(`/api/flows/${flows[0]}/pcap?sensor=site-a`)).statusCode).toBe(200);
    expect(revokeToken(gwDb, 'central-2')).toBe(true);
    expect502(await api(`/api/flows/${flows[0]}/pcap?sensor=site-a`), /refused the token \(HTTP 401/);
    expect(gatewayAudit('token-failed').length).toBe(failedBefore + 2);
    expect(centralAudit('pcap-downloaded').at(-1)!.detail).toMatch(/^failed: gateway site-a .* refused the token/);
  });

  it('a CA that does not match the gateway: 502, a TLS failure, and the token never sent', async () => {
    const other = loadTls({ store: join(dir, 'other.sqlite'), host: '127.0.0.1' });
    const failedBefore = gatewayAudit('token-failed').length;
    const downloadsBefore = gatewayAudit('pcap-downloaded').length;
    expect502(
      await (await central({ ca: other.certFile }))(`/api/flows/${flows[0]}/pcap?sensor=site-a`),
      /TLS failure: .*(self[- ]signed|verify|certificate)/i,
    );
    expect(gatewayAudit('token-failed').length).toBe(failedBefore);
    expect(gatewayAudit('pcap-downloaded').length).toBe(downloadsBefore);
  });

  it('a flow the gateway does not have: 502 with its 404', async () => {
    const id = flows.at(-1)!;
    const api = await central({});
    gwDb.prepare('UPDATE flows SET id = ? WHERE id = ?').run(id + 1_000_000, id);
    try {
      expect502(await api(`/api/flows/${id}/pcap?sensor=site-a`), new RegExp(`has no flow ${id} \\(HTTP 404: no flow ${id}\\)`));
    } finally {
      gwDb.prepare('UPDATE flows SET id = ? WHERE id = ?').run(id, id + 1_000_000);
    }
  });

  it('a pcap over the byte limit is cut, not passed on whole; the audit and the log say so', async () => {
    const gwCookie = await login(gateway);
    const sizes = await Promise.all(
      flows.map(async (id) => [
        id,
        (await gateway.inject({ method: 'GET', url: `/api/flows/${id}/pcap`, headers: { cookie: gwCookie } })).rawPayload.length,
      ]),
    );
    const [id, size] = sizes.reduce((a, b) => (b[1]! > a[1]! ? b : a));
    const limit = Math.floor(size! / 2);
    const api = await central({}, limit);
    // through inject nothing was sent yet, so the error is a 502 (over a socket the download is cut after `limit` bytes)
    const r = await api(`/api/flows/${id}/pcap?sensor=site-a`);
    expect502(r, /more than the \d+ bytes this console passes on: cut/);
    expect(centralAudit('pcap-downloaded').at(-1)!.detail).toMatch(
      /^incomplete, from gateway site-a: .*more than the \d+ bytes this console passes on: cut/,
    );
    expect(logged.filter((l) => /internal error|\bat /.test(l))).toEqual([]);
    expect(logged.some((l) => /more than the \d+ bytes this console passes on/.test(l))).toBe(true);
  });

  /** An HTTPS server with the gateway's certificate that answers 200, sends a pcap header, then holds the request. */
  async function standIn(): Promise<{ url: string; closed: Promise<void>; server: https.Server }> {
    let onClose: () => void = () => undefined;
    const closed = new Promise<void>((r) => (onClose = r));
    const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(certFile.replace('cert.pem', 'key.pem')) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.tcpdump.pcap' });
      res.write(Buffer.alloc(24, 0xd4));
      req.socket.once('close', onClose);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, closed, server };
  }

  it("the analyst going away mid-download aborts the gateway's request; audited as incomplete", async () => {
    const gw = await standIn();
    const file = join(dir, 'standin.conf');
    writeFileSync(file, `site-a ${gw.url}/ ${tokenFile} ${certFile}\n`);
    const app = await buildConsole({ db: centralDb, reader, gateways: loadGateways(file).gateways, log: (l) => logged.push(l) });
    opened.push(app);
    const cookie = await login(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    try {
      const first = await new Promise<Buffer>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: `/api/flows/${flows[0]}/pcap?sensor=site-a`, headers: { cookie } }, (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', (c: Buffer) => {
            resolve(c);
            req.destroy();
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('no data')), 20_000).unref();
      });
      expect(first.length).toBe(24);
      await gw.closed;
      for (let i = 0; i < 100 && !/went away/.test(centralAudit('pcap-downloaded').at(-1)?.detail ?? ''); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(centralAudit('pcap-downloaded').at(-1)!.detail).toBe('incomplete, from gateway site-a: the client went away after 24 bytes');
    } finally {
      gw.server.close();
    }
  });

  it('a gateway that stops sending: the idle timeout ends the download, audited', async () => {
    const gw = await standIn();
    const file = join(dir, 'standin-idle.conf');
    writeFileSync(file, `site-a ${gw.url}/ ${tokenFile} ${certFile}\n`);
    const app = await buildConsole({
      db: centralDb,
      reader,
      gateways: loadGateways(file).gateways,
      fetchLimits: { idleMs: 300 },
      log: (l) => logged.push(l),
    });
    opened.push(app);
    const cookie = await login(app);
    try {
      const r = await app.inject({ method: 'GET', url: `/api/flows/${flows[0]}/pcap?sensor=site-a`, headers: { cookie } }).catch((e: Error) => e);
      // the header went out before the gateway fell silent: the download ends short (or the error, if nothing was sent)
      if (!(r instanceof Error) && r.statusCode === 200) expect(r.rawPayload.length).toBeLessThanOrEqual(24);
      await gw.closed;
      expect(centralAudit('pcap-downloaded').at(-1)!.detail).toMatch(/^incomplete, from gateway site-a: .*no data for 0.3 s: the fetch was stopped$/);
    } finally {
      gw.server.close();
    }
  });

  it('the gateway down: 502, unreachable, naming it', async () => {
    const api = await central({});
    await gateway.close();
    expect502(await api(`/api/flows/${flows[0]}/pcap?sensor=site-a`), /unreachable: ECONNREFUSED/);
  });
});
