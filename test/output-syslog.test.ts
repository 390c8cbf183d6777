/**
 * Alerts to syslog (src/output/syslog.ts): RFC 5424 messages read back by a strict parser of the RFC's grammar (header
 * fields, structured data with its escapes, the MSG), for hostile rule messages and addresses (quotes, backslashes,
 * brackets, newlines, NUL, escape sequences, line separators, lone surrogates: one message each, every field read
 * back as sent with control characters made visible, fast-check over arbitrary strings too); sent to receivers on
 * this machine over UDP, TCP (octet counting), a unix datagram socket (as /dev/log is: the native addon's sendto, to
 * a python3 receiver; a reader behind or away: queued within the bound, in order, the rest counted) and a unix stream
 * socket; a TCP collector that is down: queued within the bound, the rest counted, sent once it is up; and
 * `honeywall replay --syslog` end to end (the built CLI).
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIp, ethernet } from '../src/packet/build.js';
import { encodePcap } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import {
  defaultSyslogFormat,
  formatSyslogAlert,
  noControls,
  parseSyslogTarget,
  SD_ID,
  SyslogSender,
  type SyslogFormat,
} from '../src/output/syslog.js';
import { alertEvent } from './helpers/store.js';

const repoRoot = join(fileURLToPath(import.meta.url), '..', '..');

interface Parsed {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: Map<string, Map<string, string>> | undefined;
  msg: string;
}

/** RFC 5424 section 6, strictly: throws on anything the grammar does not allow. */
function parse5424(text: string): Parsed {
  const m = /^<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!m) throw new Error(`bad header: ${JSON.stringify(text.slice(0, 80))}`);
  const header = [m[3]!, m[4]!, m[5]!, m[6]!, m[7]!];
  const lens = [64, 255, 48, 128, 32];
  header.forEach((h, i) => {
    if (h.length > lens[i]! || !/^[\x21-\x7e]+$/.test(h)) throw new Error(`bad header field ${h}`);
  });
  let i = m[0].length;
  let sd: Parsed['sd'];
  if (text[i] === '-') i++;
  else {
    sd = new Map();
    while (text[i] === '[') {
      i++;
      const id = /^[^ =\]"]{1,32}/.exec(text.slice(i));
      if (!id) throw new Error('bad SD-ID');
      i += id[0].length;
      const params = new Map<string, string>();
      while (text[i] === ' ') {
        i++;
        const name = /^([^ =\]"]{1,32})="/.exec(text.slice(i));
        if (!name) throw new Error(`bad PARAM-NAME at ${i}`);
        i += name[0].length;
        let v = '';
        for (;;) {
          const ch = text[i];
          if (ch === undefined) throw new Error('unterminated PARAM-VALUE');
          if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
            v += text[i + 1];
            i += 2;
          } else if (ch === '"') {
            i++;
            break;
          } else if (ch === ']') throw new Error('unescaped ] in PARAM-VALUE');
          else {
            v += ch;
            i++;
          }
        }
        params.set(name[1]!, v);
      }
      if (text[i] !== ']') throw new Error(`SD-ELEMENT not closed at ${i}`);
      i++;
      sd.set(id[0], params);
    }
  }
  let msg = '';
  if (i < text.length) {
    if (text[i] !== ' ') throw new Error('no space before MSG');
    msg = text.slice(i + 1).replace(/^\ufeff/, '');
  }
  return { pri: Number(m[1]), version: Number(m[2]), timestamp: m[3]!, hostname: m[4]!, app: m[5]!, procid: m[6]!, msgid: m[7]!, sd, msg };
}

const HOSTILE = 'evil "quoted" \\back\\ ]bracket] new\nline\r\0nul \u001b[31mred \u2028sep \ud800lone \u0085nel ok';
const FMT: SyslogFormat = defaultSyslogFormat({ hostname: 'gw one\n', procId: '42', facility: 4, severity: 'priority' });

function noBreaks(s: string): boolean {
  return !/[\0-\x1f\x7f\u2028\u2029\u0085]/.test(s);
}

describe('RFC 5424 alert messages', () => {
  it('carries every field, escaped, for a hostile rule message and class', () => {
    const a = alertEvent({
      msg: HOSTILE,
      classtype: 'bad]"class',
      classification: 'A "class" ]\n',
      priority: 1,
      blocked: true,
      communityId: '1:abc=',
    });
    const text = formatSyslogAlert(a, FMT);
    expect(noBreaks(text)).toBe(true);
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
    const p = parse5424(text);
    expect(p.pri).toBe(4 * 8 + 2); // auth, crit (priority 1)
    expect(p.version).toBe(1);
    expect(p.hostname).toBe('gw_one_');
    expect(p.app).toBe('honeywall');
    expect(p.procid).toBe('42');
    expect(p.msgid).toBe('alert');
    expect(p.timestamp).toBe('2023-11-14T22:13:20.000500Z');
    const sd = p.sd!.get(SD_ID)!;
    expect(sd.get('msg')).toBe(noControls(HOSTILE));
    expect(sd.get('classtype')).toBe('bad]"class');
    expect(sd.get('sid')).toBe('1000');
    expect(sd.get('blocked')).toBe('1');
    expect(sd.get('src')).toBe('10.0.0.5');
    expect(sd.get('dport')).toBe('80');
    expect(sd.get('community_id')).toBe('1:abc=');
    expect(p.msg).toContain('[Drop] [**] [1:1000:1] evil');
    expect(p.msg).toContain('{TCP} 10.0.0.5:40000 -> 198.51.100.7:80');
    expect(p.msg).toContain('\u240a'); // the newline, visible
  });

  it('line format: no structured data, the line alone; fixed severity', () => {
    const p = parse5424(formatSyslogAlert(alertEvent({ msg: 'plain' }), { ...FMT, format: 'line', severity: 6, facility: 21 }));
    expect(p.sd).toBeUndefined();
    expect(p.pri).toBe(21 * 8 + 6);
    expect(p.msg).toBe('[**] [1:1000:1] plain [**] [Priority: 2] {TCP} 10.0.0.5:40000 -> 198.51.100.7:80');
  });

  it('any message, address or class reads back as sent (control characters made visible), one line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 40 }), (msg, cls) => {
        const text = formatSyslogAlert(alertEvent({ msg, classtype: cls, src: cls }), FMT);
        expect(noBreaks(text)).toBe(true);
        const sd = parse5424(text).sd!.get(SD_ID)!;
        expect(sd.get('msg')).toBe(noControls(msg));
        expect(sd.get('classtype')).toBe(noControls(cls));
      }),
      { numRuns: 300 },
    );
  });

  it('targets: parsed, refused with the reason', () => {
    expect(parseSyslogTarget('/dev/log')).toEqual({ kind: 'unix', path: '/dev/log', mode: 'auto' });
    expect(parseSyslogTarget('unix:/run/log')).toEqual({ kind: 'unix', path: '/run/log', mode: 'auto' });
    expect(parseSyslogTarget('unix-dgram:/dev/log')).toEqual({ kind: 'unix', path: '/dev/log', mode: 'dgram' });
    expect(parseSyslogTarget('unix-stream:/dev/log')).toEqual({ kind: 'unix', path: '/dev/log', mode: 'stream' });
    expect(parseSyslogTarget('unix-dgram:dev/log')).toMatch(/absolute path/);
    expect(parseSyslogTarget('udp:127.0.0.1:514')).toEqual({ kind: 'udp', host: '127.0.0.1', port: 514 });
    expect(parseSyslogTarget('127.0.0.1:514')).toEqual({ kind: 'udp', host: '127.0.0.1', port: 514 });
    expect(parseSyslogTarget('tcp:[::1]:6514')).toEqual({ kind: 'tcp', host: '::1', port: 6514 });
    expect(parseSyslogTarget('tcp:loghost:514')).toMatch(/is not \/dev\/log/);
    expect(parseSyslogTarget('udp:127.0.0.1:70000')).toMatch(/port 70000/);
    expect(parseSyslogTarget('unix:dev/log')).toMatch(/absolute path/);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

/** RFC 6587 octet counting: LEN SP MSG, repeated. */
function octetFrames(buf: Buffer): { msgs: string[]; rest: Buffer } {
  const msgs: string[] = [];
  let at = 0;
  for (;;) {
    const sp = buf.indexOf(0x20, at);
    if (sp === -1) break;
    const len = Number(buf.subarray(at, sp).toString('ascii'));
    if (!Number.isInteger(len)) throw new Error('bad octet count');
    if (buf.length < sp + 1 + len) break;
    msgs.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    at = sp + 1 + len;
  }
  return { msgs, rest: buf.subarray(at) };
}

function tcpCollector(port = 0): Promise<{ server: net.Server; port: number; msgs: string[] }> {
  const msgs: string[] = [];
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      const r = octetFrames(Buffer.concat([buf, d]));
      msgs.push(...r.msgs);
      buf = r.rest;
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, msgs })),
  );
}

describe('syslog senders to receivers on this machine', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'honeywall-syslog-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const hostile = () => formatSyslogAlert(alertEvent({ msg: HOSTILE }), FMT);

  it('UDP: one message a datagram', async () => {
    const rx = dgram.createSocket('udp4');
    const got: string[] = [];
    rx.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const s = new SyslogSender({ kind: 'udp', host: '127.0.0.1', port: rx.address().port });
    for (let i = 0; i < 5; i++) s.send(hostile());
    await until('5 datagrams', () => got.length === 5);
    await s.close();
    rx.close();
    expect(got.every((m) => parse5424(m).sd!.get(SD_ID)!.get('msg') === noControls(HOSTILE))).toBe(true);
    expect(s.stats).toMatchObject({ sent: 5, dropped: 0 });
  });

  it('TCP: octet counting; a collector that is down gets what was queued (within the bound) once it is up', async () => {
    const probe = await tcpCollector();
    const port = probe.port;
    await new Promise<void>((r) => probe.server.close(() => r()));
    const s = new SyslogSender({ kind: 'tcp', host: '127.0.0.1', port }, { maxQueue: 3 });
    for (let i = 0; i < 5; i++) s.send(formatSyslogAlert(alertEvent({ sid: i, msg: `m${i}\n` }), FMT));
    expect(s.stats.dropped).toBe(2);
    const rx = await tcpCollector(port);
    await until('the queued messages after reconnecting', () => rx.msgs.length === 3, 8000);
    s.send(hostile());
    await until('one more', () => rx.msgs.length === 4);
    await s.close();
    await new Promise<void>((r) => rx.server.close(() => r()));
    expect(rx.msgs.map((m) => parse5424(m).sd!.get(SD_ID)!.get('sid'))).toEqual(['0', '1', '2', '1000']);
    expect(s.stats.errors).toBeGreaterThan(0); // the refused connection, counted
  });

  /**
   * A local datagram receiver, as rsyslog's imuxsock binds /dev/log: python3 prints each datagram as one hex line,
   * and reads only after a line on its stdin when `hold` (a reader that is behind: the kernel queues 10 datagrams,
   * net.unix.max_dgram_qlen, then the sender gets EAGAIN).
   */
  const receiver = (path: string, hold = false) => {
    const py = [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print("ready", flush=True)',
      ...(hold ? ['sys.stdin.readline()'] : []),
      'while True:',
      '    print(s.recv(65536).hex(), flush=True)',
    ].join('\n');
    const child = execFile('python3', ['-c', py, path]);
    let buf = '';
    child.stdout!.on('data', (d) => (buf += String(d)));
    return {
      ready: () => until('the receiver', () => buf.startsWith('ready\n')),
      go: () => child.stdin!.write('go\n'),
      got: () =>
        buf
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((h) => Buffer.from(h, 'hex').toString('utf8')),
      kill: () => child.kill(),
    };
  };

  it("a unix datagram socket, as /dev/log is (the native addon's sendto): unix-dgram: and the auto-detected path", async () => {
    for (const [name, mode] of [
      ['log.dgram', 'dgram'],
      ['log.auto', 'auto'],
    ] as const) {
      const path = join(dir, name);
      const rx = receiver(path);
      try {
        await rx.ready();
        const s = new SyslogSender({ kind: 'unix', path, mode });
        s.send(hostile());
        s.send(hostile());
        await until('2 datagrams', () => rx.got().length === 2);
        await s.close();
        expect(s.stats).toMatchObject({ sent: 2, dropped: 0, errors: 0 });
        for (const m of rx.got()) expect(parse5424(m).sd!.get(SD_ID)!.get('msg')).toBe(noControls(HOSTILE));
      } finally {
        rx.kill();
      }
    }
  });

  it('a datagram reader that is behind: queued within the bound, in order, the rest counted; sent once it reads', async () => {
    const path = join(dir, 'log.slow');
    const rx = receiver(path, true);
    try {
      await rx.ready();
      const s = new SyslogSender({ kind: 'unix', path, mode: 'dgram' }, { maxQueue: 20 });
      const N = 100;
      for (let i = 0; i < N; i++) s.send(formatSyslogAlert(alertEvent({ msg: `seq ${i}` }), FMT));
      // the kernel took some (its queue), 20 wait here, the rest were dropped: counted, never blocking
      expect(s.stats.dropped).toBeGreaterThan(0);
      expect(s.stats.sent + s.stats.dropped + 20).toBe(N);
      rx.go();
      await until('the queue sent', () => s.stats.sent + s.stats.dropped === N);
      await until('all read', () => rx.got().length === s.stats.sent);
      await s.close();
      const seq = rx.got().map((m) => Number(/seq (\d+)/.exec(m)![1]));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      expect(seq[0]).toBe(0);
    } finally {
      rx.kill();
    }
  });

  it('a datagram socket that is not there yet (the daemon restarting): the messages wait and go when it is', async () => {
    const path = join(dir, 'log.later');
    const s = new SyslogSender({ kind: 'unix', path, mode: 'dgram' }, { maxQueue: 10 });
    s.send(hostile());
    await until('the error said', () => s.stats.errors > 0);
    expect(s.stats.lastError).toMatch(/ENOENT/);
    const rx = receiver(path);
    try {
      await rx.ready();
      await until('sent after the restart', () => rx.got().length === 1, 10_000);
      await s.close();
      expect(s.stats).toMatchObject({ sent: 1, dropped: 0 });
    } finally {
      rx.kill();
    }
  });

  it('unix-dgram: to a stream socket is refused (EPROTOTYPE), said and counted', async () => {
    const path = join(dir, 'log.notdgram');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path, () => r()));
    const s = new SyslogSender({ kind: 'unix', path, mode: 'dgram' });
    s.send(hostile());
    await s.close();
    await new Promise<void>((r) => server.close(() => r()));
    expect(s.stats).toMatchObject({ sent: 0, dropped: 1 });
    expect(s.stats.lastError).toMatch(/EPROTOTYPE/);
  });

  it('a unix stream socket (syslog-ng unix-stream): NUL after each message', async () => {
    const path = join(dir, 'log.stream');
    let buf = '';
    const server = net.createServer((c) => c.on('data', (d) => (buf += d.toString('utf8'))));
    await new Promise<void>((r) => server.listen(path, () => r()));
    const s = new SyslogSender({ kind: 'unix', path });
    s.send(hostile());
    s.send(hostile());
    await until('2 messages', () => buf.split('\0').length === 3);
    await s.close();
    await new Promise<void>((r) => server.close(() => r()));
    const msgs = buf.split('\0').slice(0, 2);
    expect(msgs.every((m) => parse5424(m).sd!.get(SD_ID)!.get('msg') === noControls(HOSTILE))).toBe(true);
  });
});

const BIN = join(repoRoot, 'bin', 'honeywall.js');
const built = existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) || existsSync(join(repoRoot, 'dist', 'index.js'));

describe.skipIf(!built)('honeywall replay --syslog', () => {
  it('sends every alert of the capture, the rule message escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'honeywall-syslog-replay-'));
    try {
      const frames = [0, 1, 2].map((i) => ({
        tsSec: 1_700_000_000 + i,
        tsUsec: 0,
        data: ethernet(buildIp({ ip: { src: '10.0.0.5', dst: '198.51.100.7' }, udp: { sport: 4000 + i, dport: 53 }, payload: 'EVIL payload' })),
      }));
      writeFileSync(join(dir, 'c.pcap'), encodePcap(frames, { linktype: LinkType.ETHERNET }));
      writeFileSync(join(dir, 'r.rules'), 'alert udp any any -> any 53 (msg:"x \\"q\\" ]b] \\\\ z"; content:"EVIL"; sid:7; rev:2;)\n');
      const rx = dgram.createSocket('udp4');
      const got: string[] = [];
      rx.on('message', (m) => got.push(m.toString('utf8')));
      await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            BIN,
            'replay',
            join(dir, 'c.pcap'),
            '--rules',
            join(dir, 'r.rules'),
            '--syslog',
            `udp:127.0.0.1:${rx.address().port}`,
            '--syslog-facility',
            'local3',
          ],
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
        ),
      );
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout.trim().split('\n')).toHaveLength(3);
      await until('3 syslog messages', () => got.length === 3);
      rx.close();
      const parsed = got.map(parse5424);
      // local3; the severity from the rule's priority, as the fast line prints it (1 crit, 2 err, 3 warning, else notice)
      const prio = Number(/\[Priority: (\d+)\]/.exec(out.stdout)![1]);
      const sev = prio <= 1 ? 2 : prio === 2 ? 3 : prio === 3 ? 4 : 5;
      expect(parsed.map((p) => p.pri)).toEqual([19 * 8 + sev, 19 * 8 + sev, 19 * 8 + sev]);
      expect(parsed[0]!.msg).toBe(out.stdout.split('\n')[0]!.replace(/^\S+\s+/, ''));
      expect(parsed.map((p) => p.sd!.get(SD_ID)!.get('sport'))).toEqual(['4000', '4001', '4002']);
      const fastMsg = /\[1:7:2\] (.*) \[\*\*\]/.exec(out.stdout)![1]!;
      expect(fastMsg).toContain('"q"');
      expect(parsed[0]!.sd!.get(SD_ID)!.get('msg')).toBe(fastMsg);
      // a bad target is a usage error before anything runs
      const bad = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [BIN, 'replay', join(dir, 'c.pcap'), '--rules', join(dir, 'r.rules'), '--syslog', 'tcp:loghost:514'],
          (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr }),
        ),
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--syslog:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
