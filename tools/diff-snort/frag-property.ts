/**
 * The defragmenter against frag3 itself: generated sets of overlapping, repeated and odd-sized IPv4 fragments, one
 * datagram each, run through Snort 2.9.20 once per overlap policy (base.conf with that `frag3_engine: policy`), which
 * logs every datagram it rebuilds (a `flow:only_frag` rule and `log_tcpdump`), and through honeywall's Defragmenter
 * with the same policy. Each datagram's rebuilt bytes (or that none was rebuilt) must be the same.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { buildIp, ethernet } from '../../src/packet/build.js';
import { decode, decodeIpPacket } from '../../src/packet/decode.js';
import { Defragmenter, type OverlapPolicy } from '../../src/packet/defrag.js';
import { encodePcap } from '../../src/packet/pcap-encode.js';
import { readCaptureAll } from '../../src/packet/pcap.js';
import { SNORT_BASE_CONF, SNORT_BIN } from './snort.js';

export const FRAG3_POLICIES: readonly OverlapPolicy[] = ['first', 'last', 'bsd', 'bsd-right', 'linux', 'windows', 'solaris'];

/** frag3's name of each policy in its configuration. */
const CONF_NAME: Record<OverlapPolicy, string> = {
  first: 'first',
  last: 'last',
  bsd: 'bsd',
  'bsd-right': 'bsd-right',
  linux: 'linux',
  windows: 'windows',
  solaris: 'solaris',
};

/** One fragment: where (in 8-byte cells), how long, more fragments or not. Its bytes tell the fragment apart. */
interface FragSpec {
  cell: number;
  len: number;
  mf: boolean;
}

const fragArb = fc.record({ cell: fc.integer({ min: 0, max: 8 }), len: fc.integer({ min: 1, max: 40 }), mf: fc.boolean() });
const setArb = fc.array(fragArb, { minLength: 2, maxLength: 8 });

/** The fragment sets of a run (the same for every policy). */
export function fragmentSets(seed: number, count: number): FragSpec[][] {
  const mrng = new fc.Random(xoroshiro128plus(seed));
  const out: FragSpec[][] = [];
  for (let i = 0; i < count; i++) {
    const set = setArb.generate(mrng, undefined).value;
    // a datagram needs a first fragment (offset 0 with MF) and a last one to ever complete: most sets get both
    if (i % 4 !== 0) set.push({ cell: 0, len: 16 + (i % 17), mf: true }, { cell: 1 + (i % 7), len: 1 + (i % 23), mf: false });
    out.push(set.map((f) => (f.cell === 0 && !f.mf ? { ...f, mf: true } : f)));
  }
  return out;
}

const SRC = '10.1.0.1';
const DST = '10.1.0.2';

/** The IPv4 fragments of set `i` (IP id 1000 + i; byte k of fragment j is j*37 + k + i, so misplaced bytes show). */
function fragments(set: FragSpec[], i: number): Uint8Array[] {
  return set.map((f, j) =>
    buildIp({
      ip: { src: SRC, dst: DST, id: 1000 + i, fragOffset: f.cell, mf: f.mf, ttl: 64 },
      proto: 253,
      payload: Uint8Array.from({ length: f.len }, (_, k) => (j * 37 + k + i) & 0xff),
    }),
  );
}

export interface FragFinding {
  set: number;
  policy: OverlapPolicy;
  fragments: FragSpec[];
  snort: string;
  honeywall: string;
}

/** The datagram's IP payload as hex, from a rebuilt packet; '' for none. */
function payloadHex(data: Uint8Array): string {
  const p = decodeIpPacket(data, undefined, { verifyChecksums: false });
  const ip = p.ip!;
  return Buffer.from(data.subarray(ip.offset + ip.headerLength, ip.offset + ip.totalLength)).toString('hex');
}

/** Runs the sets under one policy through both; returns the datagrams whose rebuilt bytes differ. */
export async function fragProperty(sets: FragSpec[][], policy: OverlapPolicy, dir: string): Promise<FragFinding[]> {
  mkdirSync(dir, { recursive: true });
  // Snort: every fragment of every set, a second apart per set (one tracker each, none timing out)
  const packets = sets.flatMap((set, i) => fragments(set, i).map((d) => ({ tsSec: 1_600_000_000 + i, tsUsec: 0, data: ethernet(d) })));
  const pcap = join(dir, 'frags.pcap');
  writeFileSync(pcap, encodePcap(packets, { linktype: 1 }));
  const rules = join(dir, 'frag.rules');
  writeFileSync(rules, 'alert ip any any -> any any (msg:"rebuilt"; flow:only_frag; sid:1; rev:1;)\n');
  const base = readFileSync(SNORT_BASE_CONF, 'utf8').replace(/^(preprocessor frag3_engine: policy )\w+/m, `$1${CONF_NAME[policy]}`);
  const conf = join(dir, 'snort.conf');
  writeFileSync(conf, `${base}\noutput log_tcpdump: rebuilt.pcap\ninclude ${rules}\n`);
  // (not runSnort: its -N turns the packet log off)
  const logDir = join(dir, 'snort');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  execFileSync(SNORT_BIN, ['-q', '-k', 'none', '-c', conf, '-r', pcap, '-A', 'none', '-l', logDir], { stdio: 'pipe', timeout: 60_000 });
  const snort = new Map<number, string>();
  const log = readdirSync(logDir).find((f) => f.startsWith('rebuilt.pcap'));
  for (const rec of log === undefined ? [] : readCaptureAll(readFileSync(join(logDir, log))).records) {
    const p = decode(rec.linktype, rec.data);
    if (p.ip?.version === 4) snort.set(p.ip.id - 1000, payloadHex(p.data.subarray(p.ip.offset)));
  }
  const findings: FragFinding[] = [];
  const rebuild = (set: FragSpec[], i: number, holeFill: number): string => {
    const d = new Defragmenter({ policy, holeFill });
    let got = '';
    for (const f of fragments(set, i)) {
      const p = decodeIpPacket(f);
      p.tsSec = 1_600_000_000 + i;
      const whole = d.add(p);
      if (whole !== undefined) got = payloadHex(whole.data);
    }
    return got;
  };
  sets.forEach((set, i) => {
    // holes (a datagram frag3 counted complete while some bytes were missing) show Snort's stale buffer: not compared
    const got = rebuild(set, i, 0);
    const other = rebuild(set, i, 0xff);
    const want = snort.get(i) ?? '';
    let same = got.length === want.length;
    for (let k = 0; same && k < got.length; k += 2)
      if (got.slice(k, k + 2) === other.slice(k, k + 2) && got.slice(k, k + 2) !== want.slice(k, k + 2)) same = false;
    if (!same) findings.push({ set: i, policy, fragments: set, snort: want || 'none', honeywall: got || 'none' });
  });
  return findings;
}
