/**
 * A throwaway PostgreSQL cluster for the central store's tests: `initdb` in a temp dir, the server on a free local
 * TCP port (and its unix socket in the same dir, never /var/run/postgresql), trust authentication for the one local
 * superuser, stopped and deleted by destroy() (and, should the test process die first, by an exit hook).
 *
 * PostgreSQL refuses to run as root: as root the cluster is made and run as the `postgres` user (`runuser -u
 * postgres --`, Debian's postgresql package makes that user); as anyone else it runs as that user. Needs Debian's
 * postgresql (15: /usr/lib/postgresql/15/bin, or PG_BIN); postgresMissing() says why not, and the tests skip.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

interface Owner {
  uid: number;
  gid: number;
  /** The command prefix that runs a program as the cluster's owner. */
  prefix: string[];
}

function owner(): Owner | string {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, prefix: [] };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0 || gid.status !== 0) return 'there is no postgres user to run PostgreSQL as (it refuses root)';
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'runuser (util-linux) is absent';
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()), prefix: ['runuser', '-u', 'postgres', '--'] };
}

/** Why the central store's tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  for (const b of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(path.join(PG_BIN, b))) return `${path.join(PG_BIN, b)} is absent (Debian's postgresql package; .ci/run installs it)`;
  }
  const o = owner();
  return typeof o === 'string' ? o : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server (fast shutdown: sessions cut, as an outage does); the data stays. */
  stop(): void;
  /** Starts it again on the same port and data. */
  start(): void;
  /** Stops it and deletes everything. */
  destroy(): void;
  /** A new database in the cluster; its URL. */
  createDatabase(name: string): string;
  /**
   * The URL of database `name` through the cluster's unix socket (in `dir`): reachable from every network namespace
   * (a pathname socket belongs to the file system, not to a network namespace), e.g. by a gateway in a honeynet.
   */
  socketUrl(name: string): string;
}

export interface ClusterOptions {
  /**
   * TLS only on its TCP listener: a CA and a server certificate for 127.0.0.1 and localhost are made (openssl) in the
   * cluster's directory, `ssl = on`, and pg_hba admits TCP connections with TLS only (unix-socket ones as before).
   */
  tls?: boolean;
}

export interface PgTls {
  /** The CA that signed the server's certificate (PEM file), for `sslrootcert`. */
  ca: string;
  /** Another CA, which signed nothing of this cluster's: a client trusting it must refuse the server. */
  otherCa: string;
}

export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster & { tls: PgTls | undefined }> {
  const why = postgresMissing();
  if (why !== undefined) throw new Error(why);
  const o = owner() as Owner;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-pg-'));
  chmodSync(dir, 0o755);
  if (o.prefix.length > 0) chownSync(dir, o.uid, o.gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const run = (bin: string, args: string[]) => {
    const cmd = [...o.prefix, path.join(PG_BIN, bin), ...args];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', cwd: dir, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${bin} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
    return r.stdout;
  };
  let running = false;
  const stop = () => {
    if (!running) return;
    running = false;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  const destroy = () => {
    try {
      stop();
    } catch {
      /* already gone: the data is deleted anyway */
    }
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', destroy);
  };
  process.on('exit', destroy);
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const tls = options.tls === true ? makeTls(dir, data, o) : undefined;
    // fsync off: a throwaway cluster; the unix socket in the temp dir (the default /var/run/postgresql may not exist)
    const opts =
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off` +
      (tls !== undefined ? ' -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key' : '');
    const start = () => {
      run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
      running = true;
    };
    start();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      dir,
      tls,
      stop,
      start,
      destroy,
      createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new Error(`bad database name ${name}`);
        run('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`]);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      socketUrl(name: string) {
        // node-postgres: the host parameter overrides the URL's host; the port names the socket file (.s.PGSQL.PORT)
        return `postgres://postgres@localhost:${port}/${name}?host=${encodeURIComponent(dir)}`;
      },
    };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** openssl, failing with its output. */
function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(r.stderr || r.stdout || '').slice(-1000)}`);
}

/**
 * A CA, a server certificate it signs (127.0.0.1 and localhost as subject alternative names, as `sslmode=verify-full`
 * checks them), a second CA that signs nothing, and pg_hba lines admitting TCP with TLS only.
 */
function makeTls(dir: string, data: string, o: Owner): PgTls {
  const ca = (name: string) =>
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`],
      dir,
    );
  ca('honeywall-test-ca');
  ca('honeywall-other-ca');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', path.join(data, 'server.key'), '-out', 'server.csr'], dir);
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'honeywall-test-ca.crt',
      '-CAkey',
      'honeywall-test-ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      path.join(data, 'server.crt'),
    ],
    dir,
  );
  // the server refuses a key others can read; the cluster's files belong to its user
  chmodSync(path.join(data, 'server.key'), 0o600);
  if (o.prefix.length > 0) {
    chownSync(path.join(data, 'server.key'), o.uid, o.gid);
    chownSync(path.join(data, 'server.crt'), o.uid, o.gid);
  }
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n');
  if (o.prefix.length > 0) chownSync(path.join(data, 'pg_hba.conf'), o.uid, o.gid);
  return { ca: path.join(dir, 'honeywall-test-ca.crt'), otherCa: path.join(dir, 'honeywall-other-ca.crt') };
}
