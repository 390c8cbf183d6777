/**
 * `honeywall import` end to end (the library's main(), no subprocess) on real captures of the shared corpus: the
 * store's flows and alerts are those `replay --format eve` reports for the same captures (same flow ids, counts,
 * alerts, pcap_cnt); importing again, or the same bytes under another name, adds nothing; an import stopped half
 * way is removed and done again; a damaged capture is imported up to the damage (exit 1, file and byte offset);
 * bad input exits 2. Sebek records of a simulated intruder session are stored and their socket call linked to the
 * flow it made. Every alert whose packet belongs to a flow is linked to it: ICMP (which the pipeline, as Snort's
 * stream5, does not track) and the rebuilt packets of a TCP session flushed as it times out.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { svDir } from './helpers/corpus.js';

const { main } = await import('../src/cli/main.js');
const { openStore } = await import('../src/store/db.js');
const { getFlow, getProcess } = await import('../src/store/query.js');
const { parseIp } = await import('../src/packet/bytes.js');
const { buildIp, ethernet, tcpDatagram } = await import('../src/packet/build.js');
const { encodePcap, readCaptureAll } = await import('../src/packet/pcap.js');
const { LinkType } = await import('../src/packet/types.js');
const { sessionCapture } = await import('../src/sebek/simulate.js');

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'hw-store-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RULES = join(dir, 'import.rules');
writeFileSync(
  RULES,
  [
    'alert tcp any any -> any any (msg:"HTTP response"; flow:to_client,established; content:"HTTP/1."; depth:7; sid:1; rev:1;)',
    'alert tcp any any -> any any (msg:"GET request"; flow:to_server; content:"GET "; depth:4; sid:2; rev:1;)',
    'alert tcp any any -> any any (msg:"GPL ATTACK_RESPONSE id check returned root"; content:"uid=0|28|root|29|"; sid:2100498; rev:7;)',
    'alert udp any any -> any 53 (msg:"DNS query"; sid:3; rev:1;)',
    '',
  ].join('\n'),
);

const tests = join(svDir, 'tests');
const have = existsSync(tests);
if (!have) console.warn('[store-import] ../shared/corpus/suricata-verify is absent: the corpus import tests are SKIPPED');

/** Corpus captures with flows and some alerts for the rules above. */
const CAPTURES = [
  'bug-130/input.pcap',
  'alert-testmyids-midstream/input.pcap',
  'bug-5162/input.pcap',
  'dns/bug-990/input.pcap',
  'tcp-async-01/input.pcap',
];
const pcaps = () => CAPTURES.map((c) => join(tests, c)).filter((p) => existsSync(p));

const hw = (...args: string[]) => main(['node', 'honeywall', ...args]);
const rows = (db: Database.Database, sql: string, ...p: unknown[]) => db.prepare(sql).all(...p) as Record<string, unknown>[];
const n = (db: Database.Database, table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe.skipIf(!have)('honeywall import (corpus)', () => {
  const db = join(dir, 'store.sqlite');

  it('stores the flows and alerts replay reports, alerts linked to their flows', async () => {
    expect(pcaps().length).toBeGreaterThanOrEqual(4);
    expect(await hw('import', ...pcaps(), '--db', db, '--rules', RULES, '--checksum-mode', 'none')).toBe(0);
    expect(out).toMatch(/bug-130\/input\.pcap: \d+ packets \([\d.]+ MB\), 1 flows, \d+ alerts in/);
    // the same captures replayed, as EVE with flow events
    const eve: Record<string, unknown>[] = [];
    for (const p of pcaps()) {
      out = '';
      expect(await hw('replay', p, '--rules', RULES, '--format', 'eve', '--checksum-mode', 'none')).toBe(0);
      for (const line of out.split('\n').filter(Boolean)) eve.push({ ...JSON.parse(line), file: p });
    }
    const s = new Database(db, { readonly: true });
    const alerts = eve.filter((e) => e.event_type === 'alert');
    const flows = eve.filter((e) => e.event_type === 'flow');
    expect(alerts.length).toBeGreaterThan(3);
    const stored = rows(
      s,
      'SELECT a.sid, a.eve_flow_id, a.pcap_cnt, a.ts_us, a.community_id, f.flow_id AS ff FROM alerts a LEFT JOIN flows f ON f.id = a.flow_id ORDER BY a.id',
    );
    expect(stored.map((a) => [a.sid, a.eve_flow_id, a.pcap_cnt ?? undefined, a.community_id])).toEqual(
      alerts.map((a) => [(a.alert as { signature_id: number }).signature_id, a.flow_id, a.pcap_cnt, a.community_id]),
    );
    // each alert's flow row is the flow its EVE flow_id names, and counts it
    for (const a of stored) expect(a.ff).toBe(a.eve_flow_id);
    expect(rows(s, 'SELECT SUM(alerts) AS n FROM flows')).toEqual([{ n: stored.filter((a) => a.ff !== null).length }]);
    // replay's flow events are the flows of Snort's stream5 (TCP and UDP); the store has the ICMP and IP-only ones too
    const storedFlows = rows(
      s,
      'SELECT flow_id, community_id, pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, state, reason FROM flows WHERE proto IN (6, 17) ORDER BY id',
    );
    expect(rows(s, 'SELECT COUNT(*) AS n FROM flows WHERE proto NOT IN (6, 17)')[0]!.n).toBeGreaterThan(0);
    expect(
      storedFlows
        .map((f) => [f.flow_id, f.community_id, f.pkts_toserver, f.pkts_toclient, f.bytes_toserver, f.bytes_toclient, f.state, f.reason])
        .sort(),
    ).toEqual(
      flows
        .map((f) => {
          const x = f.flow as Record<string, unknown>;
          return [f.flow_id, f.community_id, x.pkts_toserver, x.pkts_toclient, x.bytes_toserver, x.bytes_toclient, x.state, x.reason];
        })
        .sort(),
    );
    // every flow's packets add up to the capture's (every frame of these captures belongs to a flow)
    const caps = rows(s, 'SELECT id, packets FROM captures ORDER BY id');
    for (const c of caps) {
      const f = s.prepare('SELECT SUM(pkts_toserver + pkts_toclient) AS p FROM flows WHERE capture_id = ?').get(c.id) as { p: number };
      expect(f.p).toBeLessThanOrEqual(c.packets as number);
    }
    s.close();
  });

  it('importing the same captures again, or their bytes under another name, adds nothing', async () => {
    const s0 = openStore(db);
    const before = ['flows', 'alerts', 'flow_files', 'minutes', 'captures'].map((t) => n(s0, t));
    s0.close();
    const copy = join(dir, 'renamed.pcap');
    copyFileSync(pcaps()[0]!, copy);
    out = '';
    expect(await hw('import', ...pcaps(), copy, '--db', db, '--rules', RULES, '--checksum-mode', 'none', '--format', 'json')).toBe(0);
    const doc = JSON.parse(out) as { captures: { status: string; same_as: string }[] };
    expect(doc.captures.map((c) => c.status)).toEqual([...pcaps(), copy].map(() => 'skipped'));
    expect(doc.captures.at(-1)!.same_as).toBe(pcaps()[0]);
    const s = openStore(db);
    expect(['flows', 'alerts', 'flow_files', 'minutes', 'captures'].map((t) => n(s, t))).toEqual(before);
    s.close();
  });

  it('an import stopped half way is removed and done again', async () => {
    const s = openStore(db);
    const id = (s.prepare('SELECT id FROM captures WHERE path = ?').get(pcaps()[2]) as { id: number }).id;
    const flows = n(s, 'flows');
    const minutes = rows(s, 'SELECT * FROM minutes ORDER BY honeypot, minute');
    // what a killed import leaves: its capture marked unfinished, part of its rows written
    s.prepare("UPDATE captures SET status = 'importing' WHERE id = ?").run(id);
    s.prepare('DELETE FROM flows WHERE id IN (SELECT id FROM flows WHERE capture_id = ? ORDER BY id DESC LIMIT 3)').run(id);
    s.close();
    out = '';
    expect(await hw('import', pcaps()[2]!, '--db', db, '--rules', RULES, '--checksum-mode', 'none')).toBe(0);
    expect(out).toMatch(/an unfinished import removed, then/);
    const t = openStore(db);
    expect(n(t, 'flows')).toBe(flows);
    expect(rows(t, 'SELECT * FROM minutes ORDER BY honeypot, minute')).toEqual(minutes);
    expect(rows(t, "SELECT COUNT(*) AS n FROM captures WHERE status != 'done'")).toEqual([{ n: 0 }]);
    t.close();
  });

  it('a damaged capture is imported up to the damage: exit 1, the file and byte offset said', async () => {
    const src = pcaps()[2]!;
    const bytes = readFileSync(src);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const d2 = join(dir, 'damaged.sqlite');
    expect(await hw('import', cut, '--db', d2)).toBe(1);
    expect(err).toMatch(new RegExp(`${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte \\d+: truncated.*\\(imported up to there\\)`));
    const s = openStore(d2);
    expect(n(s, 'flows')).toBeGreaterThan(0);
    expect(rows(s, 'SELECT status, error IS NOT NULL AS e FROM captures')).toEqual([{ status: 'done', e: 1 }]);
    s.close();
  });

  it('refuses what it cannot import: exit 2, one line', async () => {
    expect(await hw('import', RULES, '--db', join(dir, 'x.sqlite'))).toBe(2);
    expect(err).toMatch(/not a pcap|not a capture/);
    err = '';
    expect(await hw('import', pcaps()[0]!, '--db', join(dir, 'no', 'such', 'dir', 'x.sqlite'))).toBe(2);
    expect(err).toMatch(/cannot open the store/);
    expect(err.trim().split('\n')).toHaveLength(1);
    err = '';
    expect(await hw('import', pcaps()[0]!, '--db', join(dir, 'y.sqlite'), '--honeypots', '10.0.0.0/33')).toBe(2);
    expect(err).toMatch(/--honeypots/);
    expect(await hw('import', pcaps()[0]!, '--db', join(dir, 'y.sqlite'), '--matcher', 'x.hwm', '--rules', RULES)).toBe(2);
  });
});

describe('honeywall import --sebek-magic', () => {
  it("stores the intruder's session and links the wget's socket call to the flow it made", async () => {
    const magic = 0x2a2a2a2a;
    const sebek = sessionCapture({ magic });
    const frames = readCaptureAll(sebek.pcap).records.map((r) => ({ tsSec: r.tsSec, tsUsec: r.tsUsec, data: r.data }));
    // the flow the scripted wget makes (10.0.0.5:40001 -> 198.51.100.7:80), seen on the wire as the socket call goes
    const connect = sebek.captured.find((r) => r.type === 2 && r.com === 'wget')!;
    const c = parseIp('10.0.0.5')!;
    const s = parseIp('198.51.100.7')!;
    const eth = (d: Uint8Array) => ethernet(d, {});
    const t = connect.timeSec;
    const tcp = [
      tcpDatagram(c, s, 40001, 80, 1000, 0, 0x02, new Uint8Array(0)),
      tcpDatagram(s, c, 80, 40001, 5000, 1001, 0x12, new Uint8Array(0)),
      tcpDatagram(c, s, 40001, 80, 1001, 5001, 0x10, new Uint8Array(0)),
      tcpDatagram(c, s, 40001, 80, 1001, 5001, 0x18, new TextEncoder().encode('GET /x.tgz HTTP/1.0\r\n\r\n')),
      // the server's answer acknowledges the request: stream5 reassembles (and HTTP recognises) acknowledged data only
      tcpDatagram(s, c, 80, 40001, 5001, 1024, 0x18, new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\n')),
    ].map((d, i) => ({ tsSec: t, tsUsec: 100 + i, data: eth(d) }));
    const all = [...frames, ...tcp].sort((a, b) => a.tsSec - b.tsSec || a.tsUsec - b.tsUsec);
    const pcap = join(dir, 'sebek-session.pcap');
    writeFileSync(pcap, encodePcap(all, { linktype: LinkType.ETHERNET }));
    const db = join(dir, 'sebek.sqlite');
    expect(await hw('import', pcap, '--db', db, '--sebek-magic', '0x2a2a2a2a', '--honeypots', '10.0.0.0/24')).toBe(0);
    expect(out).toMatch(/\d+ Sebek records, 2 sockets linked to flows/);
    const st = openStore(db);
    const flow = st.prepare('SELECT id, honeypot, direction, app_proto FROM flows WHERE server_port = 80').get() as Record<string, unknown>;
    expect(flow).toMatchObject({ honeypot: '10.0.0.5', direction: 'outbound', app_proto: 'http' });
    const d = getFlow(st, flow.id as number)!;
    expect(d.processes.map((p) => p.com)).toEqual(['wget']);
    expect(d.sockets.map((x) => x.call_name)).toEqual(['socket', 'connect']);
    const shell = getProcess(st, '10.0.0.5', 2001)!;
    expect(shell.keystrokes.map((k) => k.line)).toContain('wget http://198.51.100.7/x.tgz');
    expect(n(st, 'records')).toBe(sebek.captured.length);
    expect(rows(st, 'SELECT DISTINCT capture_id FROM keystroke_lines')).toEqual([{ capture_id: 1 }]);
    st.close();
  });
});

describe('honeywall import: every alert whose packet belongs to a flow is linked to it', () => {
  it('links ICMP alerts, and the alerts of data flushed when its TCP session times out, to their flows', async () => {
    const rules = join(dir, 'link.rules');
    writeFileSync(
      rules,
      [
        'alert icmp any any -> any any (msg:"ping"; itype:8; sid:10; rev:1;)',
        'alert icmp any any -> any any (msg:"pong"; itype:0; sid:11; rev:1;)',
        // only the rebuilt stream holds both halves
        'alert tcp any any -> any 23 (msg:"telnet word"; content:"ATTACK!"; sid:12; rev:1;)',
        '',
      ].join('\n'),
    );
    const c = parseIp('10.0.0.5')!;
    const s = parseIp('198.51.100.7')!;
    const enc = new TextEncoder();
    const T = 1_700_000_000;
    const frames: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];
    const at = (sec: number, d: Uint8Array) => frames.push({ tsSec: T + sec, tsUsec: frames.length, data: ethernet(d, {}) });
    // two pings of one echo id each way: one ICMP flow
    for (let k = 0; k < 2; k++) {
      at(0, buildIp({ ip: { src: '198.51.100.7', dst: '10.0.0.5' }, icmp: { type: 8, id: 77, seq: k }, payload: 'abcd' }));
      at(0, buildIp({ ip: { src: '10.0.0.5', dst: '198.51.100.7' }, icmp: { type: 0, id: 77, seq: k }, payload: 'abcd' }));
    }
    // a Telnet session whose word comes in two segments, acknowledged, then nothing: its data is flushed (and
    // inspected) when the session times out, on a later packet of another session
    at(1, tcpDatagram(s, c, 40001, 23, 1000, 0, 0x02, new Uint8Array(0)));
    at(1, tcpDatagram(c, s, 23, 40001, 5000, 1001, 0x12, new Uint8Array(0)));
    at(1, tcpDatagram(s, c, 40001, 23, 1001, 5001, 0x10, new Uint8Array(0)));
    at(1, tcpDatagram(s, c, 40001, 23, 1001, 5001, 0x18, enc.encode('ATT')));
    at(1, tcpDatagram(s, c, 40001, 23, 1004, 5001, 0x18, enc.encode('ACK!')));
    at(1, tcpDatagram(c, s, 23, 40001, 5001, 1008, 0x10, new Uint8Array(0)));
    at(200, tcpDatagram(s, c, 40002, 22, 1, 0, 0x02, new Uint8Array(0)));
    const pcap = join(dir, 'link.pcap');
    writeFileSync(pcap, encodePcap(frames, { linktype: LinkType.ETHERNET }));
    const db = join(dir, 'link.sqlite');
    expect(await hw('import', pcap, '--db', db, '--rules', rules, '--checksum-mode', 'none', '--honeypots', '10.0.0.0/24')).toBe(0);
    const st = openStore(db);
    const alerts = rows(st, 'SELECT sid, flow_id, eve_flow_id FROM alerts ORDER BY id');
    expect(alerts.map((a) => a.sid).sort()).toEqual([10, 10, 11, 11, 12]);
    for (const a of alerts) {
      expect(a.flow_id, `sid ${a.sid}`).not.toBeNull();
      const f = rows(st, 'SELECT proto, server_port, icmp_type, flow_id, alerts FROM flows WHERE id = ?', a.flow_id)[0]!;
      if (a.sid === 12) expect(f).toMatchObject({ proto: 6, server_port: 23 });
      else expect(f).toMatchObject({ proto: 1, icmp_type: 8 });
      // the alert carries its flow's EVE flow_id (joins with the flow events)
      expect(a.eve_flow_id).toBe(f.flow_id);
    }
    const icmp = rows(st, 'SELECT pkts_toserver, pkts_toclient, alerts, reason FROM flows WHERE proto = 1');
    expect(icmp).toEqual([{ pkts_toserver: 2, pkts_toclient: 2, alerts: 4, reason: 'shutdown' }]);
    expect(rows(st, 'SELECT reason, alerts FROM flows WHERE server_port = 23')).toEqual([{ reason: 'timeout', alerts: 1 }]);
    st.close();
  });
});
