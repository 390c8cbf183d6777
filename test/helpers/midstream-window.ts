/**
 * The capture of fixtures/snort-seeded/midstream-window (made from a corpus pcap, not stored): the midstream HTTP
 * session of suricata-verify `http2-keywords2` (no handshake, a curl request first) three times, at 0, 100 and 200 s
 * after the first packet, the third octet of both addresses changed each time (new sessions), as bench/big-capture.mjs
 * loops it.
 */
import { readFileSync } from 'node:fs';
import { readCaptureAll } from '../../src/packet/pcap.js';
import { encodePcapHeader, encodePcapRecord } from '../../src/packet/pcap-encode.js';

export function midstreamWindowCapture(pcap: string): Uint8Array {
  const { records } = readCaptureAll(readFileSync(pcap), pcap);
  const out: Uint8Array[] = [encodePcapHeader({ linktype: 1 })];
  for (let k = 0; k < 3; k++)
    for (const r of records) {
      const d = Buffer.from(r.data);
      // Ethernet + IPv4: source and destination third octets
      d[14 + 14] = d[14 + 14]! ^ k;
      d[14 + 18] = d[14 + 18]! ^ k;
      out.push(encodePcapRecord({ tsSec: r.tsSec + 100 * k, tsUsec: r.tsUsec, data: d }));
    }
  return Buffer.concat(out);
}
