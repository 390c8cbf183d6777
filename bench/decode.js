// Decoder throughput: node bench/decode.js [capture.pcap ...]   (after `npm run build`)
// Without arguments it decodes a synthetic mix (TCP/UDP/ICMP over IPv4 and IPv6, 60..1514 bytes).
// Prints MB/s and packets/s with checksum verification on (Snort -k all) and off (-k none).
import { readFileSync } from 'node:fs';
import { decode, DecodeStats } from '../dist/packet/decode.js';
import { buildIp, ethernet } from '../dist/packet/build.js';
import { readCaptureAll } from '../dist/packet/pcap.js';
import { PacketPipeline } from '../dist/flow/pipeline.js';

function synthetic(n) {
  const frames = [];
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const size = r < 0.4 ? 0 : r < 0.6 ? Math.floor(rnd() * 500) : 1448;
    const payload = new Uint8Array(size).map(() => (rnd() * 256) | 0);
    const v6 = rnd() < 0.1;
    const ip = v6 ? { src: '2001:db8::1', dst: '2001:db8::2' } : { src: '10.0.0.1', dst: '192.168.1.1' };
    const k = rnd();
    const spec =
      k < 0.85
        ? {
            ip,
            tcp: { sport: 1024 + (i % 5000), dport: 80, seq: i, ack: 1, flags: 'PA', options: Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2) },
            payload,
          }
        : k < 0.97
          ? { ip, udp: { sport: 5353, dport: 53 }, payload: payload.subarray(0, 512) }
          : { ip, icmp: { type: v6 ? 128 : 8, id: 1, seq: i }, payload: payload.subarray(0, 64) };
    frames.push({ linktype: 1, data: ethernet(buildIp(spec)) });
  }
  return frames;
}

const files = process.argv.slice(2);
const frames = files.length ? files.flatMap((f) => readCaptureAll(readFileSync(f), f).records) : synthetic(50_000);
const bytes = frames.reduce((a, f) => a + f.data.length, 0);

function run(verifyChecksums) {
  const opts = { verifyChecksums };
  // warm up
  for (let i = 0; i < 3; i++) for (const f of frames) decode(f.linktype, f.data, undefined, opts);
  const stats = new DecodeStats();
  const rounds = Math.max(1, Math.ceil(200e6 / Math.max(1, bytes)));
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const f of frames) decode(f.linktype, f.data, stats, opts);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = (bytes * rounds) / 1e6;
  console.log(
    `decode ${verifyChecksums ? 'with checksums   ' : 'without checksums'}: ${(mb / s).toFixed(1)} MB/s, ${((frames.length * rounds) / s / 1e3).toFixed(0)} kpackets/s ` +
      `(${frames.length} frames x ${rounds}, ${(bytes / frames.length).toFixed(0)} B avg, malformed ${stats.malformed / rounds})`,
  );
}
console.log(`input: ${files.length ? files.join(' ') : 'synthetic mix'}; node ${process.version}`);
run(true);
run(false);

// decode + defrag + flow tracking/reassembly (all ports) + HTTP, checksums off
{
  const rounds = Math.max(1, Math.ceil(50e6 / Math.max(1, bytes)));
  let items = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const pl = new PacketPipeline({ decode: { verifyChecksums: false }, flow: { reassembleClientPorts: 'all', reassembleServerPorts: 'all' } });
    for (const f of frames) items += pl.push(f.linktype, f.data, f.tsSec ?? 0, f.tsUsec ?? 0).length;
    items += pl.finish().length;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `pipeline (decode+defrag+flows+reassembly+http): ${((bytes * rounds) / 1e6 / s).toFixed(1)} MB/s, ${((frames.length * rounds) / s / 1e3).toFixed(0)} kpackets/s (${items / rounds} items per round)`,
  );
}
