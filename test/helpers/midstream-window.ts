/**
 * The capture of fixtures/snort-seeded/midstream-window (made from a corpus pcap, not stored): the midstream HTTP
 * session of suricata-verify `http2-keywords2` (no handshake, a curl request first) three times, at 0, 100 and 200 s
 * after the first packet, the third octet of both addresses changed each time (new sessions), as bench/big-capture.mjs
 * loops it.
 */
import { readFileSync } from 'node:fs';
import { readCaptureAll } from '../../src/packet/pcap.js';

export function midstreamWindowCapture(pcap: string): Uint8Array {
  const { records } = readCaptureAll(readFileSync(pcap), pcap);
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(1, 20);
  const out: Buffer[] = [gh];
  const t0 = records[0]!.tsSec;
  for (let k = 0; k < 3; k++)
    for (const r of records) {
      const d = Buffer.from(r.data);
      // Ethernet + IPv4: source and destination third octets
      d[14 + 14] = d[14 + 14]! ^ k;
      d[14 + 18] = d[14 + 18]! ^ k;
      const h = Buffer.alloc(16);
      h.writeUInt32LE(t0 + (r.tsSec - t0) + 100 * k, 0);
      h.writeUInt32LE(r.tsUsec, 4);
      h.writeUInt32LE(d.length, 8);
      h.writeUInt32LE(d.length, 12);
      out.push(h, d);
    }
  return Buffer.concat(out);
}
