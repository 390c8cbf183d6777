/**
 * The gateway's store feed (src/store/live.ts) on capture files written as tcpdump writes them: a flow's rows while it
 * is open (counts and frame places brought up to date), a flow that spans a rotation (one flow, a span in each file,
 * its pcap cut back frame for frame from both files), a finished file marked done with its SHA-256 (so an import of it
 * is skipped), alerts linked to their flow by Community ID and time (one that arrives before its flow's frames waits;
 * one whose flow never shows is stored alone after the wait, and past the bound at once), firewall lines, the Sebek
 * records in the capture with their socket linked to the flow it made, files of an earlier run and planted symlinks
 * left alone, and the writer's bound (drops counted, nothing blocks).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { communityId } from '../src/flow/community-id.js';
import { parseIp } from '../src/packet/bytes.js';
import { buildIp, ethernet } from '../src/packet/build.js';
import { encodePcapHeader, encodePcapRecord, readCaptureAll } from '../src/packet/pcap.js';
import { LinkType } from '../src/packet/types.js';
import { sessionCapture } from '../src/sebek/simulate.js';
import { openStore } from '../src/store/db.js';
import { HoneypotSet } from '../src/store/honeypots.js';
import { Importer } from '../src/store/import.js';
import { LiveStore, type LiveOptions } from '../src/store/live.js';
import { cutFlow } from '../src/store/pcap-cut.js';
import { alertEvent } from './helpers/store.js';

const HP = '10.0.0.20';
const REMOTE = '198.51.100.7';
const T0 = 1_704_164_650; // a few seconds into the scripted Sebek session, whose wget connects from port 40001
const honeypots = HoneypotSet.parse('10.0.0.20 10.0.0.21') as HoneypotSet;

interface Frame {
  tsSec: number;
  tsUsec: number;
  data: Uint8Array;
}

/** A frame of the flow HP:40001 -> REMOTE:80 (from the client when `out`). */
function tcp(i: number, out: boolean, flags: string, seq: number, ack: number, payload = ''): Frame {
  const ip = out ? { src: HP, dst: REMOTE } : { src: REMOTE, dst: HP };
  const t = out ? { sport: 40001, dport: 80 } : { sport: 80, dport: 40001 };
  return {
    tsSec: T0,
    tsUsec: i * 1000,
    data: ethernet(buildIp({ ip, tcp: { ...t, flags, seq, ack }, payload }), { src: '02:00:00:00:00:20', dst: '02:00:00:00:00:01' }),
  };
}

const HANDSHAKE = [tcp(1, true, 'S', 100, 0), tcp(2, false, 'SA', 500, 101), tcp(3, true, 'A', 101, 501)];
const REQUEST = tcp(4, true, 'PA', 101, 501, 'GET /x.tgz HTTP/1.0\r\n\r\n');
const REST = [
  tcp(5, false, 'PA', 501, 125, 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'),
  tcp(6, true, 'FA', 125, 542),
  tcp(7, false, 'FA', 542, 126),
];

const cid = communityId(6, parseIp(HP)!, parseIp(REMOTE)!, 40001, 80);

function pcapOf(frames: Frame[]): Uint8Array {
  return Buffer.concat([encodePcapHeader({ linktype: LinkType.ETHERNET }), ...frames.map((f) => encodePcapRecord(f))]);
}

describe('the gateway store feed (LiveStore) on a capture being written', () => {
  let dir: string;
  let pcapDir: string;
  let db: Database.Database;
  let clock: number;
  const live = (o: Partial<LiveOptions> = {}) =>
    new LiveStore(db, { dir: pcapDir, honeypots, sensor: 'gw', since: Date.now() - 5000, now: () => clock, alertWaitMs: 5000, ...o });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'honeywall-live-'));
    pcapDir = join(dir, 'pcap');
    mkdirSync(pcapDir);
    db = openStore(join(dir, 'store.sqlite'));
    clock = 1_000_000;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a flow as it grows, across a rotation, and cuts it back from both files', async () => {
    const a = join(pcapDir, 'honeywall-20240102-030400.pcap');
    const b = join(pcapDir, 'honeywall-20240102-030500.pcap');
    writeFileSync(a, pcapOf(HANDSHAKE));
    const s = live({ refreshMs: 0 });
    s.step();
    s.flush();
    // open: a row already, with where its frames are so far
    let row = db.prepare('SELECT id, reason, pkts_toserver, pkts_toclient, honeypot, direction, state FROM flows').get() as Record<string, unknown>;
    // its state so far (not 'new' until it ends)
    expect(row).toMatchObject({ reason: null, honeypot: HP, direction: 'outbound', state: 'established' });
    expect(Number(row.pkts_toserver) + Number(row.pkts_toclient)).toBe(3);
    const flowRow = Number(row.id);
    expect((db.prepare('SELECT packets FROM flow_files WHERE flow_id = ?').get(flowRow) as { packets: number }).packets).toBe(3);
    expect(db.prepare('SELECT status, sha256 FROM captures WHERE path = ?').get(a)).toEqual({ status: 'live', sha256: `live:${a}` });

    // the request arrives in pieces (tcpdump -U writes whole records, a read may still catch half of one)
    const req = encodePcapRecord(REQUEST);
    appendFileSync(a, req.subarray(0, 20));
    s.step();
    appendFileSync(a, req.subarray(20));
    s.step();
    s.flush();
    row = db.prepare('SELECT pkts_toserver FROM flows WHERE id = ?').get(flowRow) as Record<string, unknown>;
    expect(row.pkts_toserver).toBe(3);

    // rotation: tcpdump closes the file and opens the next; the flow goes on there
    writeFileSync(b, pcapOf(REST));
    s.step();
    s.close();
    await s.settled();
    const flows = db.prepare('SELECT id, reason, pkts_toserver, pkts_toclient, state FROM flows').all() as Record<string, unknown>[];
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ id: flowRow, pkts_toserver: 4, pkts_toclient: 3, state: 'closed' });
    const files = db
      .prepare('SELECT c.path, ff.packets FROM flow_files ff JOIN captures c ON c.id = ff.capture_id WHERE ff.flow_id = ? ORDER BY c.path')
      .all(flowRow);
    expect(files).toEqual([
      { path: a, packets: 4 },
      { path: b, packets: 3 },
    ]);
    const caps = db.prepare('SELECT path, status, sha256, packets FROM captures ORDER BY path').all() as {
      path: string;
      status: string;
      sha256: string;
      packets: number;
    }[];
    expect(caps.map((c) => [c.status, c.packets])).toEqual([
      ['done', 4],
      ['done', 3],
    ]);
    expect(caps.every((c) => /^[0-9a-f]{64}$/.test(c.sha256))).toBe(true);

    // the cut: every frame of the flow from both files, in order, byte for byte
    const chunks: Uint8Array[] = [];
    const cut = await cutFlow(db, flowRow, (c) => chunks.push(c));
    expect(cut).toMatchObject({ packets: 7, files: 2 });
    const back = readCaptureAll(Buffer.concat(chunks)).records;
    expect(back.map((r) => Buffer.from(r.data).toString('hex'))).toEqual(
      [...HANDSHAKE, REQUEST, ...REST].map((f) => Buffer.from(f.data).toString('hex')),
    );

    // an import of the finished files is skipped: the same bytes are in the store already
    const imp = new Importer(db, { checksumMode: 'none', honeypots, sensor: 'laptop' });
    expect((await imp.importCapture(a)).status).toBe('skipped');
  });

  it('links alerts to their flow by Community ID and time, waits for flows not read yet, and gives up in bounds', () => {
    const a = join(pcapDir, 'honeywall-20240102-030400.pcap');
    writeFileSync(a, pcapOf(HANDSHAKE));
    const s = live({ maxPendingAlerts: 2 });
    // before the capture is read: the alert waits
    const mine = alertEvent({ tsSec: T0, tsUsec: 4000, src: HP, sport: 40001, dst: REMOTE, dport: 80, communityId: cid, msg: 'mine' });
    s.alerts([mine]);
    expect(s.stats.alertsPending).toBe(1);
    s.step();
    s.flush();
    expect(s.stats.alertsLinked).toBe(1);
    const flowRow = (db.prepare('SELECT id FROM flows').get() as { id: number }).id;
    expect(db.prepare("SELECT flow_id, honeypot FROM alerts WHERE msg = 'mine'").get()).toEqual({ flow_id: flowRow, honeypot: HP });
    expect((db.prepare('SELECT alerts FROM flows WHERE id = ?').get(flowRow) as { alerts: number }).alerts).toBe(1);

    // no flow with that Community ID: waits, then stored alone; past the bound at once; without one at once
    const stray = (msg: string) => alertEvent({ tsSec: T0, tsUsec: 5000, src: HP, dst: '203.0.113.9', communityId: `1:${msg}`, msg });
    s.alerts([stray('s1'), stray('s2'), stray('s3')]);
    expect(s.stats.alertsPending).toBe(2);
    expect(s.stats.alertsPendingOverflow).toBe(1);
    s.alerts([alertEvent({ msg: 'no-cid', communityId: undefined })]);
    s.flush();
    expect(s.stats.alertsPending).toBe(2);
    clock += 5000;
    s.flush();
    expect(s.stats.alertsPending).toBe(0);
    expect(db.prepare('SELECT msg FROM alerts WHERE flow_id IS NULL ORDER BY msg').all()).toEqual([
      { msg: 'no-cid' },
      { msg: 's1' },
      { msg: 's2' },
      { msg: 's3' },
    ]);
    expect(s.stats).toMatchObject({ alerts: 5, alertsLinked: 1, alertsUnlinked: 4 });

    // an alert of an ended flow still finds it (late alerts), an alert of another time does not
    appendFileSync(a, Buffer.concat([REQUEST, ...REST].map((f) => encodePcapRecord(f))));
    s.step();
    s.alerts([
      { ...mine, msg: 'late' },
      { ...mine, tsSec: T0 + 3600, msg: 'later' },
    ]);
    s.close();
    expect(db.prepare("SELECT msg, flow_id FROM alerts WHERE msg IN ('late', 'later') ORDER BY msg").all()).toEqual([
      { msg: 'late', flow_id: flowRow },
      { msg: 'later', flow_id: null },
    ]);
  });

  it('links the alerts of ICMP (no flow of the pipeline) and of data flushed as a session times out', () => {
    const ping = (i: number, out: boolean): Frame => ({
      tsSec: T0,
      tsUsec: 10_000 + i,
      data: ethernet(buildIp({ ip: out ? { src: HP, dst: REMOTE } : { src: REMOTE, dst: HP }, icmp: { type: out ? 0 : 8, id: 9, seq: 1 } })),
    });
    // the session stops after its request; a packet of another session 100 s later times it out (its queued
    // request is inspected then, with that packet's time: the gateway's alert carries it)
    const later: Frame = {
      tsSec: T0 + 100,
      tsUsec: 0,
      data: ethernet(buildIp({ ip: { src: REMOTE, dst: HP }, tcp: { sport: 50000, dport: 22, flags: 'S', seq: 1 } })),
    };
    writeFileSync(join(pcapDir, 'honeywall-20240102-030400.pcap'), pcapOf([...HANDSHAKE, REQUEST, ping(1, false), ping(2, true), later]));
    const s = live();
    s.step();
    const icmpCid = communityId(1, parseIp(REMOTE)!, parseIp(HP)!, 8, 0);
    s.alerts([
      alertEvent({ tsSec: T0, tsUsec: 10_001, proto: 'ICMP', src: REMOTE, dst: HP, sport: -1, dport: -1, communityId: icmpCid, msg: 'ping' }),
      alertEvent({ tsSec: T0 + 100, tsUsec: 0, src: HP, sport: 40001, dst: REMOTE, dport: 80, communityId: cid, msg: 'flushed' }),
    ]);
    s.close();
    const linked = db
      .prepare(
        "SELECT a.msg, f.proto, f.server_port FROM alerts a JOIN flows f ON f.id = a.flow_id WHERE a.msg IN ('ping', 'flushed') ORDER BY a.msg",
      )
      .all();
    expect(linked).toEqual([
      { msg: 'flushed', proto: 6, server_port: 80 },
      { msg: 'ping', proto: 1, server_port: null },
    ]);
    expect(s.stats).toMatchObject({ alertsLinked: 2, alertsUnlinked: 0 });
  });

  it('records a TCP session picked up midstream (which replay, as stream5 with require_3whs, leaves without a session) and links its alerts', () => {
    // past stream5's 180 s startup window, a SYN-less session opens no session in the pipeline's table; the inline
    // gateway inspects it all the same (it may have started mid-connection), so its alerts need a flow
    const at = (i: number, f: Frame): Frame => ({ ...f, tsSec: T0 + 300, tsUsec: i * 1000 });
    const opener: Frame = {
      tsSec: T0,
      tsUsec: 0,
      data: ethernet(buildIp({ ip: { src: REMOTE, dst: HP }, tcp: { sport: 50000, dport: 22, flags: 'S', seq: 1 } })),
    };
    const midstream = [at(1, REQUEST), at(2, REST[0]!), at(3, tcp(0, true, 'A', 125, 542))];
    // later the same tuple starts anew with a handshake: the pipeline's session, a second row
    const again = HANDSHAKE.map((f, i) => ({ ...f, tsSec: T0 + 400, tsUsec: i }));
    writeFileSync(join(pcapDir, 'honeywall-20240102-030400.pcap'), pcapOf([opener, ...midstream, ...again]));
    const s = live();
    s.step();
    s.alerts([alertEvent({ tsSec: T0 + 300, tsUsec: 1000, src: HP, sport: 40001, dst: REMOTE, dport: 80, communityId: cid, msg: 'midstream' })]);
    s.close();
    const rows = db
      .prepare('SELECT midstream, pkts_toserver, pkts_toclient, first_us, alerts FROM flows WHERE community_id = ? ORDER BY first_us')
      .all(cid) as { midstream: number; pkts_toserver: number; pkts_toclient: number; first_us: number; alerts: number }[];
    expect(rows.map((r) => [r.midstream, r.pkts_toserver, r.pkts_toclient])).toEqual([
      [1, 2, 1],
      [0, 2, 1],
    ]);
    const linked = db.prepare("SELECT f.first_us FROM alerts a JOIN flows f ON f.id = a.flow_id WHERE a.msg = 'midstream'").all();
    expect(linked).toEqual([{ first_us: (T0 + 300) * 1_000_000 + 1000 }]);
    expect(s.stats).toMatchObject({ alertsLinked: 1, alertsUnlinked: 0 });
  });

  it('stores firewall lines and the Sebek records in the capture, the wget socket linked to its flow', () => {
    const sebek = readCaptureAll(sessionCapture({ magic: 0x5eb3c0de, client: HP, collector: '10.0.0.253' }).pcap).records;
    const frames = [...sebek.map((r) => ({ tsSec: r.tsSec, tsUsec: r.tsUsec, data: r.data })), ...HANDSHAKE, REQUEST, ...REST].sort(
      (x, y) => x.tsSec - y.tsSec || x.tsUsec - y.tsUsec,
    );
    writeFileSync(join(pcapDir, 'honeywall-20240102-030400.pcap'), pcapOf(frames));
    const s = live({ sebek: { magic: 0x5eb3c0de, port: 1101 } });
    s.firewall([
      {
        tsUs: T0 * 1e6,
        kind: 'outbound',
        prefix: 'OUTBOUND TCP:',
        proto: 'TCP',
        srcIp: HP,
        srcPort: 40001,
        dstIp: REMOTE,
        dstPort: 80,
        inIface: 'br0',
        outIface: 'br0',
        length: 60,
        honeypot: HP,
        sensor: 'gw',
        line: 'OUTBOUND TCP: IN=br0 "quoted" \u001b[31m',
      },
    ]);
    s.step();
    s.close();
    expect(db.prepare('SELECT kind, honeypot, line FROM firewall_events').all()).toEqual([
      { kind: 'outbound', honeypot: HP, line: 'OUTBOUND TCP: IN=br0 "quoted" \u001b[31m' },
    ]);
    expect((db.prepare('SELECT COUNT(*) AS n FROM records WHERE client = ?').get(HP) as { n: number }).n).toBe(sebek.length);
    expect((db.prepare('SELECT COUNT(*) AS n FROM keystroke_lines WHERE client = ?').get(HP) as { n: number }).n).toBeGreaterThan(0);
    const flow = db.prepare('SELECT id FROM flows WHERE client_port = 40001').get() as { id: number };
    const socks = db.prepare("SELECT flow_id FROM sockets WHERE com = 'wget'").all() as { flow_id: number | null }[];
    expect(socks.length).toBeGreaterThan(0);
    expect(socks.every((x) => x.flow_id === flow.id)).toBe(true);
    expect(s.stats.socketsLinked).toBe(socks.length);
  });

  it("leaves an earlier run's files and planted symlinks alone", () => {
    const old = join(pcapDir, 'honeywall-20240101-000000.pcap');
    writeFileSync(old, pcapOf(HANDSHAKE));
    const past = new Date(Date.now() - 3600_000);
    utimesSync(old, past, past);
    writeFileSync(join(dir, 'elsewhere.pcap'), pcapOf(HANDSHAKE));
    symlinkSync(join(dir, 'elsewhere.pcap'), join(pcapDir, 'honeywall-20240102-000000.pcap'));
    writeFileSync(join(pcapDir, 'notes.pcap'), pcapOf(HANDSHAKE));
    const s = live();
    s.step();
    s.close();
    expect(s.stats.files).toBe(0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM flows').get()).toEqual({ n: 0 });
  });

  it('drops past its queue bound and counts the drops by kind, never waiting', () => {
    const frames: Frame[] = [];
    // 50 short UDP flows
    for (let i = 0; i < 50; i++) {
      frames.push({
        tsSec: T0,
        tsUsec: i,
        data: ethernet(buildIp({ ip: { src: HP, dst: REMOTE }, udp: { sport: 10000 + i, dport: 53 }, payload: 'x' })),
      });
    }
    writeFileSync(join(pcapDir, 'honeywall-20240102-030400.pcap'), pcapOf(frames));
    const s = live({ writer: { maxQueue: 10 } });
    s.step();
    expect(s.writer.depth).toBe(10);
    expect(s.writer.stats.dropped.flowStart).toBe(40);
    s.flush();
    expect(s.writer.stats.written).toBe(10);
    s.close();
    // 50 starts and 50 ends: each queued (and written) or dropped and counted; a flow's end makes its row even when
    // its start was dropped
    const st = s.writer.stats;
    const dropped = Object.values(st.dropped).reduce((x, y) => x + y, 0);
    expect(st.queued + dropped).toBe(100);
    expect(st.written).toBe(st.queued);
    expect(st.dropped.flowEnd).toBe(40);
    expect((db.prepare('SELECT COUNT(*) AS n FROM flows').get() as { n: number }).n).toBeGreaterThanOrEqual(10);
  });
});
