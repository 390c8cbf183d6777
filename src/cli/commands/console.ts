/**
 * `honeywall console [--db FILE] [--listen ADDR:PORT] [--tls-cert F --tls-key F]`: the analysis console over the
 * store (src/console), until SIGTERM/SIGINT. `honeywall console adduser NAME`: adds an account (or sets its
 * password), the password read from the terminal without echo, or from the first line of standard input when that
 * is not a terminal; never from the command line (which `ps` and shell histories show).
 *
 * Settings come from honeywall.conf with `--config` (HwSTORE, HwCONSOLE_LISTEN, HwCONSOLE_TLS_CERT,
 * HwCONSOLE_TLS_KEY), each overridden by its flag.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AuditLog } from '../../console/audit.js';
import { addUser, MAX_PASSWORD, UserError } from '../../console/auth.js';
import { addToken, DEFAULT_SCOPE, listTokens, revokeToken, TOKEN_SCOPES, TokenError } from '../../console/tokens.js';
import { CONSOLE_DEFAULTS, loadConsoleSettings, type ConsoleSettings } from '../../console/config.js';
import { ConsoleStartError, startConsole } from '../../console/start.js';
import { openStore, StoreError } from '../../store/db.js';
import { checkStoreUrl, redactUrl } from '../../store/central/connect.js';
import { EXIT_OK, UsageError, type CommandContext } from '../program.js';

interface ConsoleFlags {
  config?: string;
  db?: string;
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  captureDir?: string;
  store?: string;
  gateways?: string;
  pcapMax?: string;
  scope?: string;
  out?: string;
}

function settings(flags: ConsoleFlags): ConsoleSettings {
  if (flags.config !== undefined && !existsSync(flags.config)) throw new UsageError(`--config: ${flags.config}: no such file`);
  const r = loadConsoleSettings(flags.config, {
    db: flags.db,
    listen: flags.listen,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    gateways: flags.gateways,
    pcapMax: flags.pcapMax,
  });
  for (const w of r.warnings) process.stderr.write(`${w}\n`);
  if (r.settings === null) {
    for (const e of r.errors) process.stderr.write(`${e}\n`);
    throw new UsageError(`${r.errors.length} error(s) in the console's settings, not started`);
  }
  return r.settings;
}

function open(file: string) {
  try {
    return openStore(file);
  } catch (e) {
    if (e instanceof StoreError) throw new UsageError(e.message);
    throw e;
  }
}

/** The password: typed at a terminal without echo (twice), or the first line of standard input. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of stdin) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (size > MAX_PASSWORD + 2 || (c as Buffer).includes(10)) break;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl === -1 && size > MAX_PASSWORD) throw new UsageError(`the password on standard input is longer than ${MAX_PASSWORD} bytes`);
    return (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve, reject) => {
      process.stderr.write(prompt);
      stdin.setRawMode(true);
      stdin.resume();
      let typed = '';
      const done = (err?: Error) => {
        stdin.setRawMode(false);
        stdin.pause();
        stdin.off('data', onData);
        process.stderr.write('\n');
        if (err) reject(err);
        else resolve(typed);
      };
      const onData = (b: Buffer) => {
        for (const ch of b.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return done();
          if (ch === '\u0003') return done(new UsageError('interrupted'));
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else if (typed.length < MAX_PASSWORD) typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  const first = await ask('password: ');
  const again = await ask('again: ');
  if (first !== again) throw new UsageError('the two passwords differ; nothing changed');
  return first;
}

export function registerConsole(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command('console')
    .description('serve the analysis console (flows, alerts, Sebek, pcaps) over HTTPS from the store; `console adduser NAME` adds an account')
    .option('-c, --config <file>', 'honeywall.conf to read HwSTORE and HwCONSOLE_* from')
    .option('--db <file>', `the store (overrides HwSTORE; default ${CONSOLE_DEFAULTS.HwSTORE})`)
    .option(
      '--listen <addr:port>',
      `where to listen, an address and port ([v6]:port) (overrides HwCONSOLE_LISTEN; default ${CONSOLE_DEFAULTS.HwCONSOLE_LISTEN})`,
    )
    .option('--tls-cert <file>', 'PEM certificate (overrides HwCONSOLE_TLS_CERT; default: a self-signed one made and kept beside the store)')
    .option('--tls-key <file>', 'PEM key of the certificate (overrides HwCONSOLE_TLS_KEY)')
    .option(
      '--insecure-http',
      'serve plain HTTP instead of TLS, on a loopback address only: for a tunnel (ssh -L) that already encrypts; sessions and intruder data never cross a network in clear',
    )
    .option('--capture-dir <dir>', 'look here (by file name) for capture files moved since their import, for pcap downloads')
    .option(
      '--store <url>',
      'serve the central store of many gateways (postgres://USER@HOST/DB, TLS parameters as HwSTORE_URL takes them) instead of --db, which then holds the accounts, sessions and audit log only',
    )
    .option(
      '--gateways <file>',
      "the central console: which gateway's console serves each sensor's pcaps (SENSOR URL TOKEN-FILE CA-FILE a line; overrides HwCONSOLE_GATEWAYS)",
    )
    .option(
      '--pcap-max <bytes>',
      `the largest pcap fetched from a gateway (K, M, G suffixes; overrides HwCONSOLE_PCAP_MAX; default ${CONSOLE_DEFAULTS.HwCONSOLE_PCAP_MAX})`,
    )
    .action(async (flags: ConsoleFlags) => {
      const s = settings(flags);
      if (s.gateways.length > 0 && flags.store === undefined)
        throw new UsageError('gateways (--gateways, HwCONSOLE_GATEWAYS) are for the central console: give --store postgres://... too');
      if (flags.insecureHttp && (flags.tlsCert !== undefined || flags.tlsKey !== undefined))
        throw new UsageError('--insecure-http with --tls-cert/--tls-key: choose one');
      if (flags.insecureHttp && !s.listen.loopback)
        throw new UsageError(
          `--insecure-http listens on loopback addresses only (127.0.0.1, ::1), not ${s.listen.host}: over a network, plain HTTP would show the session cookie and the intruder data to anyone on the path`,
        );
      if (flags.store !== undefined) {
        const bad = checkStoreUrl(flags.store);
        if (bad !== undefined) throw new UsageError(`--store: ${redactUrl(flags.store)}: ${bad}`);
      }
      let started;
      try {
        started = await startConsole(s, { insecureHttp: flags.insecureHttp, captureDir: flags.captureDir, storeUrl: flags.store });
      } catch (e) {
        if (e instanceof ConsoleStartError) throw new UsageError(e.message);
        throw e;
      }
      const serving =
        flags.store === undefined
          ? s.store
          : `the central store ${redactUrl(flags.store)} (accounts in ${s.store}; pcaps fetched from ${s.gateways.length} gateway(s))`;
      process.stderr.write(`honeywall console: ${started.url} serving ${serving}${started.note}\n`);
      if (started.users === 0) process.stderr.write('honeywall console: no accounts yet: add one with honeywall console adduser NAME\n');
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await started.close();
      process.stderr.write('honeywall console: stopped\n');
      ctx.exitCode = EXIT_OK;
    });

  cmd
    .command('adduser')
    .description('add a console account, or set its password (read from the terminal, or the first line of standard input)')
    .argument('<name>', 'account name: 1 to 64 of A-Z a-z 0-9 . _ -')
    .option('-c, --config <file>', 'honeywall.conf to read HwSTORE from')
    .option('--db <file>', `the store (overrides HwSTORE; default ${CONSOLE_DEFAULTS.HwSTORE}; made if absent)`)
    .action(async (name: string, _flags: ConsoleFlags, command: Command) => {
      // --db and --config given after `adduser` or before it (commander hands the parent's to the parent)
      const s = settings(command.optsWithGlobals<ConsoleFlags>());
      const password = await readPassword();
      const db = open(s.store);
      try {
        const what = await addUser(db, name, password);
        new AuditLog(db).write({ user: name, address: 'command line', action: what === 'added' ? 'user-added' : 'password-changed' });
        process.stdout.write(`honeywall console: account ${name} ${what === 'added' ? 'added' : 'updated (its sessions ended)'} in ${s.store}\n`);
      } catch (e) {
        if (e instanceof UserError) throw new UsageError(e.message);
        throw e;
      } finally {
        db.close();
      }
      ctx.exitCode = EXIT_OK;
    });

  const token = cmd
    .command('token')
    .description("API tokens for machines: the central console fetching this gateway's pcaps (`token add NAME`, `token list`, `token revoke NAME`)");
  const storeOf = (command: Command) => settings(command.optsWithGlobals<ConsoleFlags>()).store;
  const audit = (db: ReturnType<typeof open>, action: 'token-added' | 'token-revoked', name: string, detail?: string) =>
    new AuditLog(db).write({ user: null, address: 'command line', action, object: `token ${name}`, detail });
  token
    .command('add')
    .description("make an API token and print it once (only its SHA-256 is kept): put it in the central console's token file")
    .argument('<name>', 'token name: 1 to 64 of A-Z a-z 0-9 . _ - (audit rows say token:NAME)')
    .option(
      '--scope <scope>',
      `what it opens, read-only: ${Object.keys(TOKEN_SCOPES).join(', ')} (default ${DEFAULT_SCOPE}: GET /api/flows/:id/pcap)`,
      DEFAULT_SCOPE,
    )
    .option('--out <file>', 'write the token to this new file (mode 0600) instead of standard output')
    .option('-c, --config <file>', 'honeywall.conf to read HwSTORE from')
    .option('--db <file>', `the store (overrides HwSTORE; default ${CONSOLE_DEFAULTS.HwSTORE}; made if absent)`)
    .action((name: string, _flags: ConsoleFlags, command: Command) => {
      const flags = command.optsWithGlobals<ConsoleFlags>();
      const db = open(storeOf(command));
      try {
        if (flags.out !== undefined && existsSync(flags.out)) throw new UsageError(`--out: ${flags.out} exists: not overwritten`);
        const t = addToken(db, name, flags.scope);
        audit(db, 'token-added', name, `scope ${flags.scope ?? DEFAULT_SCOPE}`);
        // a new file only (wx), readable by its owner only: the token is a credential
        if (flags.out !== undefined) writeFileSync(flags.out, `${t}\n`, { mode: 0o600, flag: 'wx' });
        else process.stdout.write(`${t}\n`);
        process.stderr.write(
          `honeywall console: token ${name} added (${flags.out === undefined ? 'shown once' : `written to ${flags.out}`}: only its SHA-256 is kept)\n`,
        );
      } catch (e) {
        if (e instanceof TokenError) throw new UsageError(e.message);
        throw e;
      } finally {
        db.close();
      }
      ctx.exitCode = EXIT_OK;
    });
  token
    .command('list')
    .description('the API tokens: name, scope, when made and last used (never the tokens)')
    .option('-c, --config <file>', 'honeywall.conf to read HwSTORE from')
    .option('--db <file>', `the store (overrides HwSTORE; default ${CONSOLE_DEFAULTS.HwSTORE})`)
    .action((_flags: ConsoleFlags, command: Command) => {
      const db = open(storeOf(command));
      try {
        const iso = (us: number | null) => (us === null ? 'never' : new Date(us / 1000).toISOString());
        for (const t of listTokens(db)) process.stdout.write(`${t.name}\t${t.scope}\tmade ${iso(t.created_us)}\tlast used ${iso(t.last_us)}\n`);
      } finally {
        db.close();
      }
      ctx.exitCode = EXIT_OK;
    });
  token
    .command('revoke')
    .description('delete an API token: requests with it are refused (401) from now on')
    .argument('<name>', 'the token name')
    .option('-c, --config <file>', 'honeywall.conf to read HwSTORE from')
    .option('--db <file>', `the store (overrides HwSTORE; default ${CONSOLE_DEFAULTS.HwSTORE})`)
    .action((name: string, _flags: ConsoleFlags, command: Command) => {
      const db = open(storeOf(command));
      try {
        if (!revokeToken(db, name)) throw new UsageError(`no token named ${name.slice(0, 80)} (honeywall console token list)`);
        audit(db, 'token-revoked', name);
        process.stderr.write(`honeywall console: token ${name} revoked\n`);
      } finally {
        db.close();
      }
      ctx.exitCode = EXIT_OK;
    });
}
