/**
 * `honeywall update` end to end against a local HTTPS server (node:https, a self-signed certificate made by openssl
 * here and trusted through the config's ca-file) serving real tarballs made here from ET Open files of
 * ../shared/corpus/rules (skipped, and said so, when the corpus is absent): a fresh update, a second run that
 * downloads nothing (304), a checksum mismatch, a rule that fails lint, a path-traversal tarball, a flowbits setter
 * enabled, and the SIGHUP handshake with a fake gateway that confirms (and one that never does).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etDir, hasCorpus, repoRoot } from './helpers/corpus.js';

const BIN = join(repoRoot, 'bin/honeywall.js');
const ET_FILES = ['emerging-telnet.rules', 'emerging-chat.rules', 'emerging-ftp.rules'];

interface Route {
  body: Buffer;
  etag: string;
}

let tmp = '';
let server: https.Server;
let base = '';
const routes = new Map<string, Route>();
/** Every answer the server gave: path and status. */
const served: { path: string; status: number }[] = [];

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const fileSha = (p: string) => sha256(readFileSync(p));

function serve(path: string, body: Buffer): void {
  routes.set(path, { body, etag: `"${sha256(body).slice(0, 16)}"` });
}

async function makeTarball(name: string, files: Record<string, string>): Promise<Buffer> {
  const dir = mkdtempSync(join(tmp, 'tarsrc-'));
  mkdirSync(join(dir, 'rules'));
  for (const [n, text] of Object.entries(files)) writeFileSync(join(dir, 'rules', n), text);
  const out = join(tmp, name);
  await tarCreate({ gzip: true, file: out, cwd: dir, portable: true }, ['rules']);
  return readFileSync(out);
}

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...args], { cwd: tmp, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 99) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** An update.conf for `sources`, sharing the artifact, cache and state of the whole file's runs. */
function config(name: string, sources: string[], extra: string[] = []): string {
  const p = join(tmp, name);
  writeFileSync(
    p,
    [
      '# test update.conf',
      ...sources.map((s) => `source = ${s}`),
      'policy = default',
      'policy = disable.conf',
      'artifact = state/rules.hwm',
      'cache-dir = cache',
      `ca-file = ${join(tmp, 'cert.pem')}`,
      ...extra,
    ].join('\n') + '\n',
  );
  return p;
}

const etTarballs: Record<string, string> = {};

describe.skipIf(!hasCorpus)('honeywall update over HTTPS (ET Open files from ../shared/corpus)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hw-update-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(tmp, 'key.pem'),
        '-out',
        join(tmp, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    for (const f of ET_FILES) etTarballs[f] = readFileSync(join(etDir, f), 'utf8');
    const et = await makeTarball('emerging.rules.tar.gz', etTarballs);
    serve('/et/emerging.rules.tar.gz', et);
    serve('/et/emerging.rules.tar.gz.md5', Buffer.from(`${md5(et)}\n`));
    // The same tarball, published with a checksum that does not match it.
    serve('/tampered/emerging.rules.tar.gz', Buffer.concat([et.subarray(0, et.length - 1), Buffer.from([et[et.length - 1]! ^ 1])]));
    serve('/tampered/emerging.rules.tar.gz.md5', Buffer.from(`${md5(et)}\n`));
    // disable.conf from the operator: the Busybox telnet setter off (an enabled rule checks its bit).
    writeFileSync(join(tmp, 'disable.conf'), '# suricata-update disable.conf\n1:2023016\n');
    server = https.createServer({ key: readFileSync(join(tmp, 'key.pem')), cert: readFileSync(join(tmp, 'cert.pem')) }, (req, res) => {
      const r = routes.get(req.url ?? '');
      if (!r) {
        served.push({ path: req.url ?? '', status: 404 });
        res.writeHead(404).end();
        return;
      }
      if (req.headers['if-none-match'] === r.etag) {
        served.push({ path: req.url!, status: 304 });
        res.writeHead(304, { etag: r.etag }).end();
        return;
      }
      served.push({ path: req.url!, status: 200 });
      res.writeHead(200, { etag: r.etag, 'content-length': r.body.length }).end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a fresh update: downloads, verifies the md5, converts, lints, compiles, installs; the flowbits setter is enabled', async () => {
    const cfg = config('fresh.conf', [`${base}/et/emerging.rules.tar.gz md5-url`]);
    const r = await run(['update', '--config', cfg, '--report', 'json']);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.ok).toBe(true);
    expect(s.downloads.map((d: { how: number }) => d.how)).toEqual([200, 200]);
    expect(s.files).toBe(3);
    expect(s.rules.loaded).toBeGreaterThan(200);
    expect(s.rules.enabled).toBe(s.compiled);
    expect(s.artifact.installed).toBe(true);
    expect(existsSync(join(tmp, 'state/rules.hwm'))).toBe(true);
    // The honeynet policy (bundled) drops some outbound attacks.
    expect(s.rules.dropped).toBeGreaterThan(0);
    // 2023016 sets ET.telnet.busybox, which the enabled 2023019 checks: disable.conf turned it off, flowbits back on.
    const fb = s.flowbitsEnabled.find((f: { sid: number }) => f.sid === 2023016);
    expect(fb, JSON.stringify(s.flowbitsEnabled)).toMatchObject({ bits: ['ET.telnet.busybox'] });
    expect(fb.checkedBy).toContain('1:2023019');
    expect(fb.file).toBe(`${base}/et/emerging.rules.tar.gz!rules/emerging-telnet.rules`);
    expect(s.diff.known).toBe(false);
    expect(existsSync(join(tmp, 'state/rules.hwm.update-state.json'))).toBe(true);
  }, 120_000);

  it('a second run downloads nothing (304 for the .md5 and the tarball) and reports no change', async () => {
    const before = served.filter((x) => x.status === 200).length;
    const cfg = config('fresh.conf', [`${base}/et/emerging.rules.tar.gz md5-url`]);
    const r = await run(['update', '--config', cfg]);
    expect(r.code, r.err).toBe(0);
    expect(served.filter((x) => x.status === 200).length).toBe(before);
    expect(served.slice(-2)).toEqual([
      { path: '/et/emerging.rules.tar.gz.md5', status: 304 },
      { path: '/et/emerging.rules.tar.gz', status: 304 },
    ]);
    expect(r.err).toContain('/et/emerging.rules.tar.gz: not modified (cached copy)');
    expect(r.out).toContain('Since the last update: 0 added, 0 removed, 0 changed.');
    // --offline: no request at all.
    const n = served.length;
    const off = await run(['update', '--config', cfg, '--offline', '--dry-run']);
    expect(off.code, off.err).toBe(0);
    expect(served.length).toBe(n);
    expect(off.err).toContain('offline (cached copy)');
  }, 120_000);

  it('a checksum mismatch is refused: nothing installed, nothing cached, exit 1', async () => {
    const art = fileSha(join(tmp, 'state/rules.hwm'));
    const cached = readdirSync(join(tmp, 'cache')).sort();
    const cfg = config('tampered.conf', [`${base}/tampered/emerging.rules.tar.gz md5-url`]);
    const r = await run(['update', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `${base.replace(/[.]/g, '\\.')}/tampered/emerging\\.rules\\.tar\\.gz: md5 checksum mismatch \\(expected [0-9a-f]{32}, got [0-9a-f]{32}\\): refused, nothing changed`,
      ),
    );
    expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
    // The verified .md5 of a refused source is not kept either (no partial files left).
    expect(readdirSync(join(tmp, 'cache')).sort()).toEqual(cached);
    // A configured sha256 that does not match, for a local tarball.
    writeFileSync(join(tmp, 'local.tar.gz'), routes.get('/et/emerging.rules.tar.gz')!.body);
    const r2 = await run(['update', '--config', config('sha.conf', [`local.tar.gz sha256:${'0'.repeat(64)}`])]);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('sha256 checksum mismatch');
    expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
  }, 60_000);

  it('a tarball with a rule that fails lint is refused with the source file:line; the old rules stay', async () => {
    const art = fileSha(join(tmp, 'state/rules.hwm'));
    const state = fileSha(join(tmp, 'state/rules.hwm.update-state.json'));
    const bad = await makeTarball('bad.tar.gz', {
      ...etTarballs,
      'local.rules': '# local rules\nalert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"bad hex"; content:"|4G|"; sid:9000001; rev:1;)\n',
    });
    serve('/bad/rules.tar.gz', bad);
    const r = await run(['update', '--config', config('bad.conf', [`${base}/bad/rules.tar.gz sha256:${sha256(bad)}`])]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`^${base.replace(/[.]/g, '\\.')}/bad/rules\\.tar\\.gz!rules/local\\.rules:2:\\d+: error [a-z-]+: .*\\[sid 9000001\\]$`, 'm'),
    );
    expect(r.err).toContain('lint: 1 error(s) in the new rules: refused, the rules in force are unchanged');
    expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
    expect(fileSha(join(tmp, 'state/rules.hwm.update-state.json'))).toBe(state);
    // No work directory left beside the artifact.
    expect(readdirSync(join(tmp, 'state')).filter((f) => f.startsWith('.honeywall-update-'))).toEqual([]);
  }, 60_000);

  it('a path-traversal tarball (.., absolute path, symlink out) is refused as a whole, counted', async () => {
    const art = fileSha(join(tmp, 'state/rules.hwm'));
    const evil = join(tmp, 'evil.tar.gz');
    execFileSync('python3', [
      '-c',
      `import tarfile, io, sys
t = tarfile.open(sys.argv[1], 'w:gz')
def add(name, data=b'alert tcp any any -> any any (msg:"x"; sid:1; rev:1;)\\n', kind=None, target=None):
    i = tarfile.TarInfo(name)
    if kind:
        i.type = kind; i.linkname = target; t.addfile(i)
    else:
        i.size = len(data); t.addfile(i, io.BytesIO(data))
add('rules/ok.rules')
add('../escape.rules')
add('/etc/cron.d/x.rules')
add('rules/link.rules', kind=tarfile.SYMTYPE, target='../../../etc/shadow')
add('rules/inside.rules', kind=tarfile.SYMTYPE, target='ok.rules')
t.close()`,
      evil,
    ]);
    const body = readFileSync(evil);
    serve('/evil/rules.tar.gz', body);
    const r = await run(['update', '--config', config('evil.conf', [`${base}/evil/rules.tar.gz sha256:${sha256(body)}`])]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("refused: 1 entry with '..', 1 with an absolute path, 1 link(s) pointing out of the archive");
    expect(r.err).toContain('rules/link.rules -> ../../../etc/shadow');
    expect(existsSync(join(tmp, 'escape.rules'))).toBe(false);
    expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
  }, 60_000);

  describe('the running gateway: SIGHUP via its status file, reload confirmed there', () => {
    let gw: ChildProcess | undefined;
    const fake = () => join(tmp, 'fake-honeywall-gateway.mjs');

    /** A stand-in for `honeywall run`: writes its status file; on SIGHUP reloads (reads the artifact) or not. */
    function startFake(mode: 'reload' | 'ignore' | 'late-failure', status: string): Promise<void> {
      writeFileSync(
        fake(),
        `import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const [status, artifact, mode] = process.argv.slice(2);
let reloads = 0;
let loaded = '';
let reloadErrors = 0;
let reloadPending = 0;
let lastReloadError;
const write = () => { writeFileSync(status + '.tmp', JSON.stringify({ pid: process.pid, reloads, reloadErrors, reloadPending, lastReloadError, loaded })); renameSync(status + '.tmp', status); };
process.on('SIGHUP', () => {
  if (mode === 'late-failure') {
    // As honeywall run with a queue worker that is still loading: the counter first, the worker's failure later.
    reloads++;
    reloadPending = 1;
    setTimeout(write, 100);
    setTimeout(() => { reloadPending = 0; reloadErrors++; lastReloadError = 'queue 0: cannot load the database'; write(); }, 800);
    return;
  }
  if (mode !== 'reload') return;
  loaded = createHash('sha256').update(readFileSync(artifact)).digest('hex');
  reloads++;
  setTimeout(write, 150);
});
write();
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
      );
      gw = spawn('node', [fake(), status, join(tmp, 'state/rules.hwm'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      return new Promise((resolve) => gw!.stdout!.once('data', () => resolve()));
    }

    afterAll(() => {
      gw?.kill('SIGKILL');
    });

    it('a gateway that reloads: the new artifact is installed and the status file confirms it', async () => {
      const status = join(tmp, 'status-ok.json');
      await startFake('reload', status);
      const extra = await makeTarball('extra.tar.gz', {
        ...etTarballs,
        'local.rules':
          'drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"new outbound telnet block"; flow:to_server; content:"login"; classtype:attempted-admin; sid:9000002; rev:1;)\n',
      });
      serve('/extra/rules.tar.gz', extra);
      const r = await run([
        'update',
        '--config',
        config('gw.conf', [`${base}/extra/rules.tar.gz sha256:${sha256(extra)}`], [`status-file = ${status}`, 'reload-timeout = 20']),
        '--report',
        'json',
      ]);
      expect(r.code, r.err).toBe(0);
      const s = JSON.parse(r.out);
      expect(s.reload).toMatchObject({ outcome: 'reloaded', pid: gw!.pid });
      expect(s.diff).toMatchObject({ known: true, added: ['1:9000002'], removed: [] });
      const st = JSON.parse(readFileSync(status, 'utf8'));
      expect(st.reloads).toBe(1);
      // What the gateway loaded at SIGHUP is the installed artifact.
      expect(st.loaded).toBe(fileSha(join(tmp, 'state/rules.hwm')));
      gw!.kill('SIGKILL');
    }, 120_000);

    it('a gateway that never confirms: the timeout is said, the previous artifact goes back, exit 2', async () => {
      const status = join(tmp, 'status-silent.json');
      await startFake('ignore', status);
      const art = fileSha(join(tmp, 'state/rules.hwm'));
      const state = fileSha(join(tmp, 'state/rules.hwm.update-state.json'));
      const r = await run([
        'update',
        '--config',
        config('silent.conf', [`${base}/et/emerging.rules.tar.gz md5-url`], [`status-file = ${status}`, 'reload-timeout = 1']),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`the gateway (pid ${gw!.pid}) did not confirm the reload within 1.0 s (${status}: reloads still 0)`);
      expect(r.err).toContain('the previous rules.hwm is back in place');
      expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
      expect(fileSha(join(tmp, 'state/rules.hwm.update-state.json'))).toBe(state);
      gw!.kill('SIGKILL');
    }, 120_000);

    it('a queue worker that fails after the reload counter went up: update waits for reloadPending 0 and refuses', async () => {
      const status = join(tmp, 'status-late.json');
      await startFake('late-failure', status);
      const art = fileSha(join(tmp, 'state/rules.hwm'));
      const r = await run([
        'update',
        '--config',
        config('late.conf', [`${base}/et/emerging.rules.tar.gz md5-url`], [`status-file = ${status}`, 'reload-timeout = 10']),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`the gateway (pid ${gw!.pid}) could not load the new rules: queue 0: cannot load the database; it kept the old ones`);
      expect(fileSha(join(tmp, 'state/rules.hwm'))).toBe(art);
      gw!.kill('SIGKILL');
    }, 120_000);

    it('a stale status file (its pid is not a honeywall process) is not signalled', async () => {
      const status = join(tmp, 'status-stale.json');
      const other = spawn('sleep', ['30']);
      writeFileSync(status, JSON.stringify({ pid: other.pid, reloads: 0, reloadErrors: 0 }));
      const r = await run(['update', '--config', config('stale.conf', [`${base}/et/emerging.rules.tar.gz md5-url`], [`status-file = ${status}`])]);
      other.kill('SIGKILL');
      expect(r.code).toBe(2);
      expect(r.err).toContain(`pid ${other.pid} in ${status} is not a honeywall process (a stale status file?): not signalled`);
    }, 120_000);
  });

  it('config errors are file:line:column, exit 2, nothing done', async () => {
    writeFileSync(
      join(tmp, 'broken.conf'),
      `source = http://example.org/x.tar.gz\nsource = ${base}/et/emerging.rules.tar.gz\nbogus = 1\nartifact = a.hwm\n`,
    );
    const r = await run(['update', '--config', 'broken.conf']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('broken.conf:1:10: error invalid-value: only https:// URLs are fetched');
    expect(r.err).toContain('broken.conf:2:10: error no-checksum: an https source needs md5-url');
    expect(r.err).toContain("broken.conf:3:1: error unknown-key: unknown key 'bogus'");
  });
});
