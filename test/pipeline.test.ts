import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildIp, ethernet, fragmentDatagram } from '../src/packet/build.js';
import { readCaptureAll } from '../src/packet/pcap.js';
import { PacketPipeline, SNORT_CONF_STREAM5_BOTH_PORTS, type InspectionItem } from '../src/flow/index.js';

const S = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

describe('pipeline on built packets', () => {
  it('returns fragments as frag3 leaves them to detection, the reassembled datagram before the fragment completing it', () => {
    const pl = new PacketPipeline({ flow: { trackIcmp: true } });
    const d = buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 3 }, icmp: { type: 8, id: 1, seq: 1 }, payload: 'x'.repeat(100) });
    const items: InspectionItem[] = [];
    for (const f of fragmentDatagram(d, 40)) items.push(...pl.push(1, ethernet(f)));
    expect(items.map((i) => [i.packet.origin, i.detection, i.streamInserted])).toEqual([
      // not the first fragment of a UDP datagram: content detection off (DisableDetect), and no session
      ['wire', 'all', true],
      ['wire', 'all', true],
      ['defrag', 'all', false],
      // the fragment that completed the datagram: no detection (only decode-time rules)
      ['wire', 'decode-only', true],
    ]);
    expect(items[2].packet.icmp?.type).toBe(8);
    expect(items[2].flow).toBeDefined();
    expect(items[0].flow).toBeUndefined();
    expect(items[0].fragAlerts).toBe(items[2].fragAlerts);
  });
  it('the first fragment of a UDP datagram is a UDP packet with content detection on; completing last, it is cached', () => {
    const pl = new PacketPipeline();
    const d = buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2', id: 4 }, udp: { sport: 53, dport: 9 }, payload: 'y'.repeat(20) });
    const [first, second] = fragmentDatagram(d, 16);
    const a = pl.push(1, ethernet(first!));
    expect(a.map((i) => [i.packet.udp?.srcPort, i.streamInserted, i.detection])).toEqual([[53, false, 'all']]);
    const pl2 = new PacketPipeline();
    pl2.push(1, ethernet(second!));
    const b = pl2.push(1, ethernet(first!));
    // Snort's rebuilt packet when the first UDP fragment completes the datagram: its UDP header stays in front
    expect(b.map((i) => [i.packet.origin, i.detection, i.packet.payloadLength])).toEqual([
      ['defrag', 'all', 8 + 20], // the datagram's UDP header and its 20 bytes
      ['wire', 'relative-first', 8],
    ]);
  });
  it('parses HTTP on packets of directions that are not reassembled', () => {
    const pl = new PacketPipeline({ flow: { reassembleClientPorts: 'none' } });
    const req = buildIp({
      ip: { src: '10.0.0.1', dst: '10.0.0.2' },
      tcp: { sport: 40000, dport: 8080, seq: 1, ack: 1, flags: 'PA' },
      payload: 'GET /a//b HTTP/1.1\r\nHost: h\r\n\r\n',
    });
    const [it1] = pl.push(-1, req);
    expect(it1.streamInserted).toBe(false);
    expect(S(it1.http[0]?.uri)).toBe('/a/b');
  });
});

const corpus = path.resolve(__dirname, '..', '..', 'shared', 'corpus', 'suricata-verify', 'tests');
const have = existsSync(corpus);
if (!have) console.warn(`suricata-verify corpus absent at ${corpus}: pipeline capture test skipped`);

describe.skipIf(!have)('pipeline on a capture', () => {
  it('http-all-headers: rebuilt segments carry the request and the response buffers', () => {
    const pl = new PacketPipeline({ flow: { reassembleClientPorts: 'all', reassembleServerPorts: SNORT_CONF_STREAM5_BOTH_PORTS } });
    const items: InspectionItem[] = [];
    for (const r of readCaptureAll(readFileSync(path.join(corpus, 'http-all-headers/input.pcap'))).records)
      items.push(...pl.push(r.linktype, r.data, r.tsSec, r.tsUsec));
    items.push(...pl.finish());
    const http = items.flatMap((i) => i.http.map((h) => ({ i, h })));
    const req = http.find((x) => x.h.kind === 'request');
    expect(req?.i.kind).toBe('stream');
    expect(req?.i.fromClient).toBe(true);
    expect(S(req?.h.uri)).toBe('/download.html');
    expect(S(req?.h.method)).toBe('GET');
    const resp = http.find((x) => x.h.kind === 'response');
    expect(S(resp?.h.statCode)).toBe('200');
    expect(resp?.i.fromClient).toBe(false);
    const body = http
      .filter((x) => !x.i.fromClient)
      .map((x) => S(x.h.fileData) ?? '')
      .join('');
    expect(body).toContain('</html>');
    // the synthetic packet of a stream item has the flow's addresses and the segment payload
    const st = req!.i.packet;
    expect(st.origin).toBe('stream');
    expect(st.tcp?.dstPort).toBe(80);
    expect(S(st.payload)).toBe(S(req!.i.segment!.data));
    expect(pl.decodeStats.malformed).toBe(0);
  });
  it('runs every capture of the corpus through decode, defrag, flows and HTTP without throwing', () => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((e) => {
        const f = path.join(d, e);
        return statSync(f).isDirectory() ? walk(f) : /\.pcap(ng)?$/.test(e) ? [f] : [];
      });
    let items = 0;
    let httpBuffers = 0;
    const pl = new PacketPipeline({ flow: { trackIcmp: true, trackIp: true, reassembleClientPorts: 'all', reassembleServerPorts: 'all' } });
    for (const f of walk(corpus)) {
      for (const r of readCaptureAll(readFileSync(f), f).records) {
        for (const it of pl.push(r.linktype, r.data, r.tsSec, r.tsUsec)) {
          items++;
          httpBuffers += it.http.length;
        }
      }
    }
    items += pl.finish().length;
    console.log(
      `corpus through the pipeline: ${items} items, ${httpBuffers} HTTP messages, flows ${JSON.stringify(pl.flows.stats)}, defrag ${JSON.stringify(pl.defrag.stats)}`,
    );
    expect(items).toBeGreaterThan(pl.decodeStats.packets);
    expect(httpBuffers).toBeGreaterThan(10);
    expect(pl.defrag.stats.reassembled).toBeGreaterThan(0);
  });
});
