/**
 * The addon's walk of classic pcap records (CaptureParser.walkPcap, native/src/honeywall_capture.c) is a fast path of
 * the one capture reader, held to it here: visitCapture with the walk hands out the same records as without it (link
 * type, time, length on the wire, bytes), in the same order, with the same notes and the same error, whatever the file
 * holds (either byte order, microsecond and nanosecond files, fractions of a second out of range, records cut at
 * MAX_RECORD, garbage lengths, a truncated tail, records across the reader's 1 MiB chunks); and the shards it gives
 * are those a shard plan asked about every record in order gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardPlan } from '../src/flow/shard.js';
import { loadEngine } from '../src/native/engine.js';
import { CaptureNotes, MAX_RECORD, visitCapture } from '../src/packet/pcap.js';
import { frame } from './helpers/frames.js';

const engine = loadEngine();
const dir = mkdtempSync(join(tmpdir(), 'hw-capture-walk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Rec {
  linktype: number;
  tsSec: number;
  tsUsec: number;
  origLen: number;
  bytes: Uint8Array;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const record = fc.record({
  sec: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }), u32),
  // mostly in range for either unit; sometimes past one second (the reader clamps and notes it)
  frac: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 999_999 }) }, { weight: 1, arbitrary: u32 }),
  origLen: u32,
  body: fc.oneof(
    { weight: 20, arbitrary: frame.map((f) => f.bytes) },
    // larger than MAX_RECORD sometimes: cut to it when the snaplen allows, an error when it does not
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: MAX_RECORD + 40_000 }).map((n) => new Uint8Array(n).fill(0x45)) },
  ),
  // a garbage captured length in the header (the bytes stay as they are)
  garbage: fc.oneof({ weight: 60, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: u32 }),
});

const capture = fc.record({
  little: fc.boolean(),
  nano: fc.boolean(),
  snaplen: fc.constantFrom(65535, 0, MAX_RECORD, MAX_RECORD + 100_000, 0xffffffff),
  linktype: fc.constantFrom(1, 101, 12, 113),
  records: fc.array(record, { maxLength: 40 }),
  // cut the file short somewhere (a truncated tail)
  cut: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
  shards: fc.integer({ min: 1, max: 4 }),
  batch: fc.integer({ min: 1, max: 9 }),
});

type CaptureSpec = typeof capture extends fc.Arbitrary<infer T> ? T : never;

function pcapBytes(c: CaptureSpec): Uint8Array {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number) => (c.little ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  w32(head, c.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  (c.little ? head.writeUInt16LE.bind(head) : head.writeUInt16BE.bind(head))(2, 4);
  (c.little ? head.writeUInt16LE.bind(head) : head.writeUInt16BE.bind(head))(4, 6);
  w32(head, c.snaplen, 16);
  w32(head, c.linktype, 20);
  parts.push(head);
  for (const r of c.records) {
    const h = Buffer.alloc(16);
    w32(h, r.sec, 0);
    w32(h, r.frac, 4);
    w32(h, r.garbage ?? r.body.length, 8);
    w32(h, r.origLen, 12);
    parts.push(h, Buffer.from(r.body));
  }
  const all = Buffer.concat(parts);
  return c.cut === undefined ? all : all.subarray(0, c.cut % (all.length + 1));
}

/** The capture's records through visitCapture, with the walk (`batch` records a call) or without it. */
async function read(path: string, shardCount: number, batch?: number) {
  const records: Rec[] = [];
  const shards: number[] = [];
  let walked = 0;
  const notes = new CaptureNotes();
  const out = new Int32Array(6 * (batch ?? 1));
  // one plan asked about every record in order, by the walk or here (as a sharded replay's shard does)
  const plan = new ShardPlan(shardCount);
  const error = await visitCapture(
    path,
    (r) => {
      records.push({ linktype: r.linktype, tsSec: r.tsSec, tsUsec: r.tsUsec, origLen: r.origLen, bytes: r.bytes().slice() });
      shards.push(plan.frame(r.linktype, r.bytes()));
    },
    notes,
    batch === undefined
      ? undefined
      : {
          walk: engine.captureWalk,
          plan: plan.handle,
          out,
          visit: (buf, linktype, n) => {
            walked += n;
            for (let k = 0; k < 6 * n; k += 6) {
              const bytes = buf.slice(out[k]!, out[k]! + out[k + 1]!);
              records.push({ linktype, tsSec: out[k + 2]! >>> 0, tsUsec: out[k + 3]!, origLen: out[k + 4]! >>> 0, bytes });
              shards.push(out[k + 5]!);
            }
          },
        },
  );
  return { records, shards, walked, notes: notes.lines(path), error: error && { offset: error.offset, detail: error.detail } };
}

describe('the capture walk (CaptureParser.walkPcap)', () => {
  it('hands out what the reader does without it, and the shard plan’s answers', async () => {
    let walkedRecords = 0;
    let withErrors = 0;
    let withNotes = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(capture, async (c) => {
        const path = join(dir, `c${n++}.pcap`);
        writeFileSync(path, pcapBytes(c));
        const plain = await read(path, c.shards);
        const walked = await read(path, c.shards, c.batch);
        expect(walked.records).toEqual(plain.records);
        expect(walked.shards).toEqual(plain.shards);
        expect(walked.error).toEqual(plain.error);
        expect(walked.notes).toEqual(plain.notes);
        walkedRecords += walked.walked;
        if (plain.error !== undefined) withErrors++;
        if (plain.notes.length > 0) withNotes++;
        rmSync(path);
      }),
      { numRuns: 200 },
    );
    // the generator reaches the walk, and the records it leaves to the reader
    expect(walkedRecords).toBeGreaterThan(300);
    expect(withErrors).toBeGreaterThan(20);
    expect(withNotes).toBeGreaterThan(20);
  });

  it('walks a capture larger than a read chunk, records across the chunks included', async () => {
    const frames = fc.sample(frame, { numRuns: 30_000, seed: 7 });
    const c: CaptureSpec = {
      little: true,
      nano: false,
      snaplen: 65535,
      linktype: 1,
      records: frames.map((f, i) => ({ sec: 1_600_000_000 + i, frac: i % 1_000_000, origLen: f.bytes.length, body: f.bytes, garbage: undefined })),
      cut: undefined,
      shards: 2,
      batch: 1024,
    };
    const path = join(dir, 'large.pcap');
    writeFileSync(path, pcapBytes(c));
    const plain = await read(path, 2);
    const walked = await read(path, 2, 1024);
    expect(walked.records.length).toBe(30_000);
    expect(walked.records).toEqual(plain.records);
    expect(walked.shards).toEqual(plain.shards);
    // all but the first, which the reader takes with the file header
    expect(walked.walked).toBe(29_999);
  });
});
