/**
 * A flow's pcap cut from the store equals what tcpdump reads from the whole capture with the flow's BPF filter:
 * every flow of every suricata-verify capture, frame by frame (`tcpdump -r -nn -tt -x`: times, headers and every
 * byte). The flows BPF cannot describe the way the flow table does (tunnels, whose filter sees only the outer
 * header; fragmented datagrams, whose flow holds the frame that completed them; a stray ACK after a session ended,
 * which belongs to no flow) are listed with the reason, and the
 * test fails if that list grows or shrinks. Also: the same for a pcapng of nanosecond interfaces, and for flows too
 * long for every offset to be kept (their span scanned); a cut of captures with different link types is a pcapng.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';
import { HoneypotSet, PRIVATE_NETS } from '../src/store/honeypots.js';
import { Importer } from '../src/store/import.js';
import { cutFlow, CutError } from '../src/store/pcap-cut.js';
import { encodePcapng, readCaptureAll } from '../src/packet/pcap.js';
import { linuxSll } from '../src/packet/build.js';
import { decode } from '../src/packet/decode.js';
import { svDir } from './helpers/corpus.js';

const tests = join(svDir, 'tests');
const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p));
const have = existsSync(tests) && tcpdump !== undefined;
if (!have) console.warn(`[store-pcap-cut] SKIPPED: ${existsSync(tests) ? 'tcpdump is not installed' : '../shared/corpus/suricata-verify is absent'}`);

/** Captures where the cut and the BPF filter differ by design, and why. */
const KNOWN: Record<string, string> = {
  'bug-4571-03/ipv6_over_ipv6.pcap': 'tunnel: the filter sees the outer IPv6 header only',
  'bug-4571-04/ipv6_over_ipv4.pcap': 'tunnel: the filter sees the outer IPv4 header only',
  'bug-4571-06/ipv4_over_ipv6.pcap': 'tunnel: the filter sees the outer IPv6 header only',
  'bug-5633-gre-01/gre-udp.pcap': 'GRE tunnel: the filter sees the outer header only',
  'bug-5867-fp-drop-01/input.pcap':
    'a duplicate ACK after the session ended: stream5 ended the session at the last ACK and a packet without SYN or data opens none, so it is in no flow',
  'defrag/bug-6887-defrag-eth-vlan-ipv6-tcp/frag-eth-vlan-ipv6-tcp.pcap': 'fragments: the flow holds the frame that completed the datagram',
  'defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap': 'fragments: the flow holds the frame that completed the datagram',
  'defrag/bug-6887-defrag-ppp-ipv6-tcp/frag-ppp-ipv6-tcp.pcap': 'fragments: the flow holds the frame that completed the datagram',
};

function capturesUnder(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...capturesUnder(p));
    else if (name.endsWith('.pcap')) out.push(p);
  }
  return out;
}

interface FlowKey {
  id: number;
  proto: number;
  vlan: number;
  client_ip: string;
  client_port: number | null;
  server_ip: string;
  server_port: number | null;
  path: string;
  n: number;
}

/** The flow's BPF filter: protocol, VLAN, and its two endpoints in either direction. */
function bpf(f: FlowKey): string {
  const proto = f.proto === 6 ? 'tcp' : f.proto === 17 ? 'udp' : `proto ${f.proto}`;
  const side = (a: string, ap: number | null, b: string, bp: number | null) =>
    `(src host ${a}${ap === null ? '' : ` and src port ${ap}`} and dst host ${b}${bp === null ? '' : ` and dst port ${bp}`})`;
  const v = f.vlan ? 'vlan and ' : '';
  return `${v}${proto} and (${side(f.client_ip, f.client_port, f.server_ip, f.server_port)} or ${side(f.server_ip, f.server_port, f.client_ip, f.client_port)})`;
}

function td(file: string, filter?: string): string {
  return execFileSync(tcpdump!, ['-nn', '-tt', '-x', '-r', file, ...(filter ? [filter] : [])], {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  }).toString();
}

async function cutTo(db: Database.Database, id: number, file: string): Promise<number> {
  const chunks: Uint8Array[] = [];
  const r = await cutFlow(db, id, (c) => chunks.push(c));
  writeFileSync(file, Buffer.concat(chunks));
  return r.packets;
}

async function importAll(file: string, pcaps: string[], maxOffsets?: number): Promise<Database.Database> {
  const db = openStore(file);
  const im = new Importer(db, { checksumMode: 'none', honeypots: HoneypotSet.parse(PRIVATE_NETS) as HoneypotSet, sensor: 't', maxOffsets });
  for (const p of pcaps) await im.importCapture(p);
  return db;
}

/** Compares every flow's cut with tcpdump's filtered read; returns the captures where some flow differs. */
async function compareAll(db: Database.Database, dir: string): Promise<{ same: number; differ: Set<string>; packets: number }> {
  const flows = db
    .prepare(
      `SELECT f.id, f.proto, f.vlan, f.client_ip, f.client_port, f.server_ip, f.server_port, c.path,
       (SELECT COUNT(*) FROM flows g WHERE g.capture_id = f.capture_id AND g.proto = f.proto AND g.client_ip = f.client_ip
         AND g.server_ip = f.server_ip AND g.client_port IS f.client_port AND g.server_port IS f.server_port) AS n
       FROM flows f JOIN captures c ON c.id = f.capture_id WHERE f.proto IN (6, 17) ORDER BY f.id`,
    )
    .all() as FlowKey[];
  let same = 0;
  let packets = 0;
  const differ = new Set<string>();
  for (const f of flows) {
    // a 5-tuple used by two flows (a new SYN after a close): the filter shows both; compare their cuts together
    if (f.n > 1) continue;
    const cut = join(dir, `flow-${f.id}.pcap`);
    packets += await cutTo(db, f.id, cut);
    if (td(cut) === td(f.path, bpf(f))) same++;
    else differ.add(relative(tests, f.path));
  }
  return { same, differ, packets };
}

describe.skipIf(!have)('pcap cut of a flow == tcpdump -r CAPTURE with the flow filter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-store-cut-'));
  let pcaps: string[];
  let db: Database.Database;
  beforeAll(async () => {
    pcaps = capturesUnder(tests);
    db = await importAll(join(dir, 'cut.sqlite'), pcaps);
  }, 120_000);
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('for every flow of the corpus, but the known tunnels and fragments', async () => {
    const r = await compareAll(db, dir);
    expect(r.same).toBeGreaterThan(50);
    expect(r.packets).toBeGreaterThan(3000);
    const known = Object.keys(KNOWN).filter((k) => existsSync(join(tests, k)));
    expect([...r.differ].sort()).toEqual(known.sort());
  }, 120_000);

  it('for a pcapng with nanosecond interfaces (read back by the states it had)', async () => {
    // two captures in one pcapng, each on its own interface (one with if_tsresol 9), with an unknown block between
    const a = readCaptureAll(readFileSync(join(tests, 'bug-5162/input.pcap'))).records;
    const b = readCaptureAll(readFileSync(join(tests, 'bug-130/input.pcap'))).records;
    const ng = join(dir, 'two.pcapng');
    writeFileSync(
      ng,
      encodePcapng([...a.map((r) => ({ ...r, iface: 0 })), ...b.map((r) => ({ ...r, iface: 1 }))], {
        interfaces: [{ linktype: 1 }, { linktype: 1, tsresol: 9 }],
        unknownBlocks: [{ type: 0x0bad, body: new Uint8Array(12) }],
      }),
    );
    const d2 = await importAll(join(dir, 'ng.sqlite'), [ng]);
    const r = await compareAll(d2, dir);
    expect(r.differ.size).toBe(0);
    expect(r.same).toBeGreaterThanOrEqual(10);
    d2.close();
  });

  it('for flows too long for every offset to be kept (their span scanned for their 5-tuple)', async () => {
    const few = ['bug-5162/input.pcap', 'tcp-async-01/input.pcap', 'bug-130/input.pcap'].map((p) => join(tests, p));
    const d3 = await importAll(join(dir, 'scan.sqlite'), few, 2);
    expect((d3.prepare('SELECT COUNT(*) AS n FROM flow_files WHERE offsets IS NULL').get() as { n: number }).n).toBeGreaterThan(5);
    const r = await compareAll(d3, dir);
    expect(r.differ.size).toBe(0);
    expect(r.same).toBeGreaterThanOrEqual(10);
    d3.close();
  });

  it('a flow over captures of different link types comes out as a pcapng; a missing file is a CutError', async () => {
    // the same packets as Linux cooked captures: another file, another link type, joined to one flow by hand
    const src = join(tests, 'bug-130/input.pcap');
    const recs = readCaptureAll(readFileSync(src)).records;
    const sll = join(dir, 'sll.pcapng');
    writeFileSync(
      sll,
      encodePcapng(
        recs.map((r) => ({ ...r, data: linuxSll(decode(1, r.data).data.subarray(14)) })),
        { interfaces: [{ linktype: 113 }] },
      ),
    );
    const d4 = await importAll(join(dir, 'mixed.sqlite'), [src, sll]);
    const [f1, f2] = (d4.prepare('SELECT id FROM flows ORDER BY id').all() as { id: number }[]).map((x) => x.id);
    d4.prepare('UPDATE flow_files SET flow_id = ? WHERE flow_id = ?').run(f1, f2);
    const chunks: Uint8Array[] = [];
    const r = await cutFlow(d4, f1!, (c) => chunks.push(c));
    expect(r.linktypes).toEqual([1, 113]);
    expect(r.packets).toBe(2 * recs.length);
    const back = readCaptureAll(Buffer.concat(chunks));
    expect(back.error).toBeUndefined();
    expect(back.records.map((x) => x.linktype)).toEqual([...recs.map(() => 1), ...recs.map(() => 113)]);
    expect(back.records.slice(0, recs.length).map((x) => Buffer.from(x.data).toString('hex'))).toEqual(
      recs.map((x) => Buffer.from(x.data).toString('hex')),
    );
    await expect(cutFlow(d4, 12345, () => undefined)).rejects.toThrow(CutError);
    rmSync(sll);
    await expect(cutFlow(d4, f1!, () => undefined)).rejects.toThrow(/capture file not found/);
    d4.close();
  });
});
