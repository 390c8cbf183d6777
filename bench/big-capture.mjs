// The match bench's big capture, shared with the store bench: the Ethernet frames of the suricata-verify pcaps
// looped (at least MIN_LOOPS times, more if needed for MIN_BYTES of frames) with addresses rewritten per loop (each
// loop is new flows), written to TMP/big.pcap (aside, then renamed: a concurrent run never reads half a file).
import { closeSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const { readCaptureAll } = await import('../dist/packet/pcap.js');

function pcapsUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...pcapsUnder(p));
    else if (name.endsWith('.pcap')) out.push(p);
  }
  return out;
}

export const globalHeader = () => {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(1, 20);
  return gh;
};

/** Builds TMP/big.pcap; returns its path, packets, bytes of frames, loops and bytes per loop. */
export function buildBigCapture(svTests, tmp, MIN_BYTES, MIN_LOOPS) {
  const frames = [];
  for (const f of pcapsUnder(svTests)) {
    const { records } = readCaptureAll(readFileSync(f), f);
    for (const r of records) if (r.linktype === 1) frames.push(r);
  }
  const perLoop = frames.reduce((n, r) => n + r.data.length, 0);
  const LOOPS = Math.max(MIN_LOOPS, Math.ceil(MIN_BYTES / perLoop));
  const big = join(tmp, 'big.pcap');
  const bigTmp = `${big}.${process.pid}`; // written aside, then renamed: a concurrent run never reads half a file
  const fd = openSync(bigTmp, 'w');
  writeSync(fd, globalHeader());
  let total = 0;
  let count = 0;
  for (let k = 0; k < LOOPS; k++) {
    const recs = [];
    for (const r of frames) {
      const d = Buffer.from(r.data);
      // rewrite the low address bytes (keeps HOME_NET membership): IPv4 (with or without one VLAN tag) and IPv6
      let o = 12;
      let et = d.readUInt16BE(o);
      if (et === 0x8100 && d.length > 18) {
        o += 4;
        et = d.readUInt16BE(o);
      }
      const ip = o + 2;
      if (et === 0x0800 && d.length >= ip + 20) {
        d[ip + 14] ^= k & 0xff;
        d[ip + 15] ^= (k >> 8) & 0xff;
        d[ip + 18] ^= k & 0xff;
        d[ip + 19] ^= (k >> 8) & 0xff;
      } else if (et === 0x86dd && d.length >= ip + 40) {
        d[ip + 22] ^= k & 0xff;
        d[ip + 23] ^= (k >> 8) & 0xff;
        d[ip + 38] ^= k & 0xff;
        d[ip + 39] ^= (k >> 8) & 0xff;
      }
      const h = Buffer.alloc(16);
      h.writeUInt32LE(1_600_000_000 + k * 100, 0);
      h.writeUInt32LE(count % 1_000_000, 4);
      h.writeUInt32LE(d.length, 8);
      h.writeUInt32LE(d.length, 12);
      recs.push(h, d);
      total += d.length;
      count++;
    }
    writeSync(fd, Buffer.concat(recs));
  }
  closeSync(fd);
  renameSync(bigTmp, big);

  return { big, count, total, loops: LOOPS, perLoop };
}
