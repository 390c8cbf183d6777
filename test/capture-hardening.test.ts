/**
 * Hostile captures and inputs given in the wrong place (issue 12, captures): timestamps no date can hold, a file
 * header claiming snaplen 0xffffffff, a directory, a capture given as rules and rules given as a capture. Every
 * input is made here, small; the big cases were measured by hand (see the commit messages).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildIp, ethernet } from '../src/packet/build.js';
import { CaptureNotes, encodePcap, encodePcapng, MAX_RECORD, openCaptureBatches, readCaptureAll } from '../src/packet/pcap.js';
import { MAX_TIMESTAMP_SEC } from '../src/packet/time.js';

const { main } = await import('../src/cli/main.js');

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'hw-hard-capture-'));
const RULES = join(dir, 'uid.rules');
writeFileSync(RULES, 'alert tcp any any -> any any (msg:"uid"; content:"uid=0|28|root|29|"; sid:1;)\n');
const attack = ethernet(buildIp({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { sport: 1234, dport: 80, flags: 'PA' }, payload: 'uid=0(root)' }));

/** A pcapng of `frames` whose packet number `which` has the timestamp units hi:lo (raw, any value). */
function pcapngWithTimestamp(frames: Uint8Array[], which: number, hi: number, lo: number): Uint8Array {
  const ng = encodePcapng(
    frames.map((data, i) => ({ tsSec: 100 + i, tsUsec: 0, data })),
    { interfaces: [{ linktype: 1 }] },
  );
  const dv = new DataView(ng.buffer, ng.byteOffset, ng.byteLength);
  let seen = 0;
  for (let o = 0; o < ng.length; o += dv.getUint32(o + 4, true)) {
    if (dv.getUint32(o, true) === 6 && seen++ === which) {
      dv.setUint32(o + 12, hi, true);
      dv.setUint32(o + 16, lo, true);
    }
  }
  return ng;
}

describe('timestamps out of range', () => {
  const file = join(dir, 'huge-ts.pcapng');
  // the second packet has the huge timestamp (a session picked up midstream: each data packet is inspected, as Snort does)
  writeFileSync(file, pcapngWithTimestamp([attack, attack], 1, 0xffffffff, 0xffffffff));

  it('the reader clamps them to 9999-12-31 and counts them with the byte offset', () => {
    const notes = new CaptureNotes();
    const { records, error } = readCaptureAll(pcapngWithTimestamp([attack, attack], 1, 0xffffffff, 0), 'n.pcapng', notes);
    expect(error).toBeUndefined();
    expect(records.map((r) => r.tsSec)).toEqual([100, MAX_TIMESTAMP_SEC]);
    expect(notes.clampedTimestamps).toBe(1);
    expect(notes.lines('n.pcapng')).toEqual([
      expect.stringMatching(/^n\.pcapng: byte \d+: timestamp 18446744069414\.\d+ is out of range, clamped to 1970\.\.9999$/),
    ]);
    expect(notes.firstClamped).toBeGreaterThan(0);
  });

  it('classic pcap: a fraction of a second of a second or more is carried, and counted', () => {
    const pcap = encodePcap([{ tsSec: 10, tsUsec: 2_500_000, data: attack }], { linktype: 1 });
    const notes = new CaptureNotes();
    const { records } = readCaptureAll(pcap, 'p', notes);
    expect([records[0]!.tsSec, records[0]!.tsUsec]).toEqual([12, 500_000]);
    expect(notes.clampedTimestamps).toBe(1);
  });

  for (const format of ['fast', 'eve', 'json'] as const) {
    it(`replay --format ${format} prints the alert with a real date, warns with file and offset, exits 1`, async () => {
      const code = await main(['node', 'honeywall', 'replay', file, '--rules', RULES, '--format', format, '--workers', '0']);
      expect(err).not.toMatch(/internal error|Invalid time/);
      expect(out).not.toMatch(/NaN/);
      expect(err).toMatch(new RegExp(`honeywall: ${file}: byte \\d+: timestamp .* out of range, clamped`));
      expect(code).toBe(1);
      if (format === 'fast') expect(out).toMatch(/^\d\d\/\d\d-\d\d:\d\d:\d\d\.999999 .*\[1:1:0\] uid/m);
      if (format === 'eve') {
        // both packets carry the content, so both alert (Snort inspects each); the second is the clamped one
        const alerts = out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .filter((e) => e.event_type === 'alert');
        expect(alerts.map((a) => a.pcap_cnt)).toEqual([1, 2]);
        expect(alerts[1].timestamp).toMatch(/^(9999-12-31|10000-01-01)T/);
      }
      if (format === 'json') {
        const doc = JSON.parse(out);
        expect(doc.alerts.length).toBeGreaterThan(0);
        expect(doc.warnings).toEqual([expect.stringContaining('out of range')]);
      }
    });
  }
});

describe('snaplen 0xffffffff', () => {
  it('a record larger than any frame is cut to MAX_RECORD, the rest skipped as it is read, and counted', async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 5).fill(0x41);
    const pcap = encodePcap(
      [
        { tsSec: 1, tsUsec: 0, data: attack },
        { tsSec: 2, tsUsec: 0, data: big },
        { tsSec: 3, tsUsec: 0, data: attack },
      ],
      {
        linktype: 1,
        snaplen: 0xffffffff,
      },
    );
    const file = join(dir, 'snaplen.pcap');
    writeFileSync(file, pcap);
    const notes = new CaptureNotes();
    const lengths: number[] = [];
    for await (const batch of openCaptureBatches(file, notes)) for (const r of batch) lengths.push(r.data.length);
    expect(lengths).toEqual([attack.length, MAX_RECORD, attack.length]);
    expect(notes.cutRecords).toBe(1);
    expect(notes.skippedBytes).toBe(big.length - MAX_RECORD);
    const at = 24 + 16 + attack.length;
    expect(notes.lines(file)[0]).toMatch(new RegExp(`^${file}: byte ${at}: record of ${big.length} bytes cut to its first ${MAX_RECORD}`));
    // the same from a buffer, and through replay (which says so and exits 1)
    expect(readCaptureAll(pcap).records.map((r) => r.data.length)).toEqual(lengths);
    expect(await main(['node', 'honeywall', 'replay', file, '--rules', RULES, '--workers', '0'])).toBe(1);
    expect(err).toContain(`byte ${at}: record of 3145733 bytes cut`);
    // the packet after the cut record is read and alerts (the first one opens the midstream session)
    expect(out).toMatch(/^\d\d\/\d\d-\d\d:\d\d:03\.000000 .*\[1:1:0\] uid/m);
  });

  it('pcapng: an enhanced packet block too large to hold gives its first MAX_RECORD bytes, the next packet follows', () => {
    const big = new Uint8Array(MAX_RECORD + 70_000).fill(0x42);
    const ng = encodePcapng(
      [big, attack].map((data, i) => ({ tsSec: i, tsUsec: 0, data })),
      { interfaces: [{ linktype: 1 }] },
    );
    const notes = new CaptureNotes();
    const { records, error } = readCaptureAll(ng, 'ng', notes);
    expect(error).toBeUndefined();
    expect(records.map((r) => r.data.length)).toEqual([MAX_RECORD, attack.length]);
    expect(notes.cutRecords).toBe(1);
  });

  it('a record split over many pushes is carried without a copy per push (geometric buffer)', async () => {
    // 40 chunks of 64 KiB for one 2.5 MiB pcapng block: the old reader merged the carried bytes on every push
    const big = new Uint8Array(40 * 65536).fill(0x43);
    const ng = encodePcapng([{ tsSec: 0, tsUsec: 0, data: big }], { interfaces: [{ linktype: 1 }] });
    const { CaptureParser } = await import('../src/packet/pcap.js');
    const p = new CaptureParser('chunks');
    let got = 0;
    for (let o = 0; o < ng.length; o += 65536) {
      p.push(ng.subarray(o, o + 65536));
      while (p.nextView()) got = p.bytes().length;
    }
    p.finish();
    expect(got).toBe(MAX_RECORD);
  });
});

describe('inputs in the wrong place', () => {
  const pcap = join(dir, 'a.pcap');
  writeFileSync(pcap, encodePcap([{ tsSec: 1, tsUsec: 0, data: attack }], { linktype: 1 }));
  const sub = join(dir, 'a-directory');
  mkdirSync(sub, { recursive: true });

  it('a directory given as a capture exits 2 (sebek, replay)', async () => {
    expect(await main(['node', 'honeywall', 'sebek', sub])).toBe(2);
    expect(err).toBe(`honeywall: ${sub} is a directory, not a capture file\n`);
    err = '';
    expect(await main(['node', 'honeywall', 'replay', sub, '--rules', RULES])).toBe(2);
    expect(err).toBe(`honeywall: ${sub} is a directory, not a capture file\n`);
  });

  it('lint of a capture says so once, with file and byte offset, and exits 2', async () => {
    expect(await main(['node', 'honeywall', 'lint', pcap])).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(`honeywall: ${pcap}: byte 0: a pcap/pcapng capture, not a text file of rules or settings\n`);
  });

  it('lint of other binary data names the first NUL byte', async () => {
    const bin = join(dir, 'blob.rules');
    writeFileSync(bin, Buffer.concat([Buffer.from('alert tcp any any -> any any (sid:1;)\n'), Buffer.alloc(5000, 0)]));
    expect(await main(['node', 'honeywall', 'lint', bin])).toBe(2);
    expect(err).toBe(`honeywall: ${bin}: byte 38: binary data (a NUL byte), not a text file of rules or settings\n`);
  });

  it('rule files read one after the other each give their own text (one read buffer kept), a FIFO and a directory too', async () => {
    const { readTextFile } = await import('../src/config/read-text.js');
    const big = join(dir, 'big.rules');
    const small = join(dir, 'small.rules');
    const bigText = `${'alert tcp any any -> any any (msg:"x"; sid:1;)\n'.repeat(5000)}`;
    writeFileSync(big, bigText);
    writeFileSync(small, 'alert udp any any -> any 53 (sid:2;)\n');
    expect(readTextFile(big)).toBe(bigText);
    // (a buffer reused without its length would give the small file with the big one's tail)
    expect(readTextFile(small)).toBe('alert udp any any -> any 53 (sid:2;)\n');
    expect(readTextFile(big)).toBe(bigText);
    writeFileSync(small, 'é\n');
    expect(readTextFile(small)).toBe('é\n');
    writeFileSync(small, '');
    expect(readTextFile(small)).toBe('');
    expect(() => readTextFile(sub)).toThrow(/EISDIR/);
    const fifo = join(dir, 'fifo.rules');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'alert ip any any -> any any (sid:3;)\\n' > ${fifo}`]);
    expect(readTextFile(fifo)).toBe('alert ip any any -> any any (sid:3;)\n');
    await new Promise((resolve) => writer.on('exit', resolve));
  });

  it('a file that tells no size is read up to a NUL byte or a bound: /dev/zero refused at byte 0, an endless pipe past the bound', async () => {
    const { readTextFile } = await import('../src/config/read-text.js');
    expect(() => readTextFile('/dev/zero')).toThrow(/\/dev\/zero: byte 0: binary data \(a NUL byte\)/);
    const fifo = join(dir, 'endless.rules');
    execFileSync('mkfifo', [fifo]);
    // (`yes` writes until its reader is gone)
    const writer = spawn('sh', ['-c', `yes 'alert ip any any -> any any (sid:4;)' > ${fifo}`]);
    expect(() => readTextFile(fifo, 1 << 20)).toThrow(/more than 1048576 bytes/);
    writer.kill();
    await new Promise((resolve) => writer.on('exit', resolve));
  });

  it('compile of a capture refuses and writes no artifact', async () => {
    const art = join(dir, 'never.hwm');
    expect(await main(['node', 'honeywall', 'compile', pcap, '--out', art])).toBe(2);
    expect(existsSync(art)).toBe(false);
    expect(err).toMatch(/a pcap\/pcapng capture, not a text file of rules/);
  });

  it('replay of a rules file exits 2 before anything runs, and says what it is', async () => {
    expect(await main(['node', 'honeywall', 'replay', RULES, '--rules', RULES])).toBe(2);
    expect(err).toBe(`honeywall: ${RULES}: byte 0: not a pcap or pcapng capture (magic 0x616c6572: text, a rules or configuration file?)\n`);
    err = '';
    expect(await main(['node', 'honeywall', 'sebek', RULES])).toBe(2);
    expect(err).toMatch(/not a pcap or pcapng capture/);
  });
});
