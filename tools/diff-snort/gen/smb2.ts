/**
 * SMB2 sessions on port 445 as diff-snort cases: NetBIOS-framed SMB2 messages ([MS-SMB2] 2.2) built byte by byte, for
 * the cases that pin what Snort 2.9.20's dcerpc2 does with READ and WRITE data (src/dce2, test/dce2-smb2.test.ts).
 * Each scenario is a TCP session (handshake, the exchanges each acknowledged, FINs) with rules on the written data.
 */
import fc from 'fast-check';
import type { Case, RuleSpec } from '../case.js';
import { type Exchange, type SegMode, sessionFrames } from './tcp.js';

const COM_TREE_CONNECT = 0x03;
const COM_TREE_DISCONNECT = 0x04;
const COM_READ = 0x08;
const COM_WRITE = 0x09;
const COM_ECHO = 0x0d;
export const SHARE_DISK = 0x01;
export const SHARE_PIPE = 0x02;
export const FLAGS_RESPONSE = 0x01;
export const FLAGS_ASYNC = 0x02;

function le(n: number | bigint, bytes: number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0) & 0xff);
}

export interface Smb2Hdr {
  command: number;
  mid: number;
  tid: number;
  flags?: number;
  /** NextCommand: the offset of the next header of a compound, 0 for the last. */
  next?: number;
}

/** The 64-byte SMB2 sync header. */
export function smb2Header(h: Smb2Hdr): number[] {
  return [
    0xfe,
    ...ascii('SMB'),
    ...le(64, 2), // StructureSize
    ...le(1, 2), // CreditCharge
    ...le(0, 4), // Status
    ...le(h.command, 2),
    ...le(1, 2), // Credit
    ...le(h.flags ?? 0, 4),
    ...le(h.next ?? 0, 4),
    ...le(h.mid, 8),
    ...le(0xfeff, 4), // ProcessId
    ...le(h.tid, 4),
    ...le(0x11223344, 8), // SessionId
    ...new Array<number>(16).fill(0), // Signature
  ];
}

/** A NetBIOS session message around an SMB2 message (or a compound of them). */
export function nbss(msg: number[]): number[] {
  return [0x00, (msg.length >> 16) & 0xff, (msg.length >> 8) & 0xff, msg.length & 0xff, ...msg];
}

export function treeConnectRequest(mid: number, path: string): number[] {
  const name = [...path].flatMap((c) => [c.charCodeAt(0), 0]);
  return [...smb2Header({ command: COM_TREE_CONNECT, mid, tid: 0 }), ...le(9, 2), ...le(0, 2), ...le(64 + 8, 2), ...le(name.length, 2), ...name];
}

export function treeConnectResponse(mid: number, tid: number, shareType: number): number[] {
  return [
    ...smb2Header({ command: COM_TREE_CONNECT, mid, tid, flags: FLAGS_RESPONSE }),
    ...le(16, 2),
    shareType,
    0,
    ...le(0, 4), // ShareFlags
    ...le(0, 4), // Capabilities
    ...le(0x1f01ff, 4), // MaximalAccess
  ];
}

export function treeDisconnectRequest(mid: number, tid: number): number[] {
  return [...smb2Header({ command: COM_TREE_DISCONNECT, mid, tid }), ...le(4, 2), ...le(0, 2)];
}

export interface WriteOpts {
  mid: number;
  tid: number;
  flags?: number;
  next?: number;
  offset?: bigint;
  /** The Length field (default the data's length). */
  length?: number;
}

export function writeRequest(data: number[], o: WriteOpts): number[] {
  return [
    ...smb2Header({ command: COM_WRITE, mid: o.mid, tid: o.tid, flags: o.flags, next: o.next }),
    ...le(49, 2),
    ...le(64 + 48, 2), // DataOffset
    ...le(o.length ?? data.length, 4),
    ...le(o.offset ?? 0n, 8),
    ...le(0x1234, 8), // FileId persistent
    ...le(0x5678, 8), // FileId volatile
    ...le(0, 4), // Channel
    ...le(0, 4), // RemainingBytes
    ...le(0, 2), // WriteChannelInfoOffset
    ...le(0, 2), // WriteChannelInfoLength
    ...le(0, 4), // Flags
    ...data,
  ];
}

export function writeResponse(mid: number, tid: number, count: number): number[] {
  return [
    ...smb2Header({ command: COM_WRITE, mid, tid, flags: FLAGS_RESPONSE }),
    ...le(17, 2),
    ...le(0, 2),
    ...le(count, 4),
    ...le(0, 4),
    ...le(0, 4),
    0,
  ];
}

export function readRequest(mid: number, tid: number, length: number, offset = 0n): number[] {
  return [
    ...smb2Header({ command: COM_READ, mid, tid }),
    ...le(49, 2),
    0, // Padding
    0, // Flags
    ...le(length, 4),
    ...le(offset, 8),
    ...le(0x1234, 8),
    ...le(0x5678, 8),
    ...le(0, 4), // MinimumCount
    ...le(0, 4), // Channel
    ...le(0, 4), // RemainingBytes
    ...le(0, 2),
    ...le(0, 2),
    0,
  ];
}

export function readResponse(mid: number, tid: number, data: number[]): number[] {
  return [
    ...smb2Header({ command: COM_READ, mid, tid, flags: FLAGS_RESPONSE }),
    ...le(17, 2),
    64 + 16, // DataOffset
    0,
    ...le(data.length, 4),
    ...le(0, 4), // DataRemaining
    ...le(0, 4),
    ...data,
  ];
}

export function echoRequest(mid: number, next = 0): number[] {
  return [...smb2Header({ command: COM_ECHO, mid, tid: 0, next }), ...le(4, 2), ...le(0, 2)];
}

/** A client message and the server's answer, each in its own acknowledged exchange. */
function turn(request: number[], response: number[] | undefined): Exchange[] {
  const out: Exchange[] = [{ dir: 'c2s', bytes: request, cuts: [], modes: [], acked: true }];
  if (response !== undefined) out.push({ dir: 's2c', bytes: response, cuts: [], modes: [], acked: true });
  return out;
}

/** The session's exchanges as a case on port 445 with `rules` (server address: the case's server). */
function smbCase(exchanges: Exchange[], rules: RuleSpec[]): Case {
  return {
    area: 'tcp-stream',
    clientHome: false,
    cport: 49700,
    sport: 445,
    frames: sessionFrames({ handshake: 'full', exchanges, close: 'fin', gap: 1 }),
    rules,
  };
}

function toServer(body: string): RuleSpec {
  return {
    action: 'alert',
    proto: 'tcp',
    src: 'client',
    sport: 'any',
    dir: '->',
    dst: 'server',
    dport: '445',
    body: `flow:to_server,established; ${body}`,
  };
}

function toClient(body: string): RuleSpec {
  return {
    action: 'alert',
    proto: 'tcp',
    src: 'server',
    sport: '445',
    dir: '->',
    dst: 'client',
    dport: 'any',
    body: `flow:to_client,established; ${body}`,
  };
}

/** A DCE/RPC request as a pipe write would carry it (its first 4 bytes: version 5.0, type 0, flags 3). */
const RPC = [0x05, 0x00, 0x00, 0x03, ...ascii('RPCBODY-MARKER')];
/** Rules on written data: at the start of file_data (only when dcerpc2 set it), anywhere in it, in the payload. */
const WRITE_RULES = [
  toServer('file_data; content:"|05 00 00 03|"; depth:4;'),
  toServer('file_data; content:"RPCBODY-MARKER";'),
  toServer('content:"RPCBODY-MARKER";'),
];

export interface Smb2Scenario {
  name: string;
  /** What Snort does, as the test says it. */
  what: string;
  case: Case;
}

function connect(tid: number, share: number, path: string): Exchange[] {
  return turn(nbss(treeConnectRequest(1, path)), nbss(treeConnectResponse(1, tid, share)));
}

/** The scenarios: each differs from the one it is named after in one thing dcerpc2 looks at. */
export function smb2Scenarios(): Smb2Scenario[] {
  const big = [...RPC, ...new Array<number>(20_000).fill(0x41), ...ascii('TAIL-MARKER')];
  const bigWrite = nbss(writeRequest(big, { mid: 2, tid: 1 }));
  const split = 17_520;
  return [
    {
      name: 'pipe-write',
      what: 'a WRITE on a pipe tree (IPC$) is detected with file_data set to the written data',
      case: smbCase(
        [...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'), ...turn(nbss(writeRequest(RPC, { mid: 2, tid: 1 })), nbss(writeResponse(2, 1, RPC.length)))],
        WRITE_RULES,
      ),
    },
    {
      name: 'disk-write',
      what: 'a WRITE of a file to a disk share is not (smb_file_inspection is off: the tree is not kept)',
      case: smbCase(
        [...connect(1, SHARE_DISK, '\\\\srv\\share'), ...turn(nbss(writeRequest(RPC, { mid: 2, tid: 1 })), nbss(writeResponse(2, 1, RPC.length)))],
        WRITE_RULES,
      ),
    },
    {
      name: 'unknown-tree',
      what: 'a WRITE on a tree id no TREE_CONNECT response named is not',
      case: smbCase(
        [...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'), ...turn(nbss(writeRequest(RPC, { mid: 2, tid: 7 })), nbss(writeResponse(2, 7, RPC.length)))],
        WRITE_RULES,
      ),
    },
    {
      name: 'async-unknown-tree',
      what: 'an async WRITE is, on any tree id (DCE2_Smb2FindTid lets async commands through)',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(nbss(writeRequest(RPC, { mid: 2, tid: 7, flags: FLAGS_ASYNC })), nbss(writeResponse(2, 7, RPC.length))),
        ],
        WRITE_RULES,
      ),
    },
    {
      name: 'tree-disconnect',
      what: 'a WRITE after the tree was disconnected is not',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(nbss(treeDisconnectRequest(2, 1)), undefined),
          ...turn(nbss(writeRequest(RPC, { mid: 3, tid: 1 })), nbss(writeResponse(3, 1, RPC.length))),
        ],
        WRITE_RULES,
      ),
    },
    {
      name: 'compound-echo-write',
      what: 'a WRITE chained after another command (NextCommand) is detected; its data runs to the end of the packet',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(nbss([...echoRequest(2, 72), 0, 0, 0, 0, ...writeRequest(RPC, { mid: 3, tid: 1 })]), undefined),
        ],
        WRITE_RULES,
      ),
    },
    {
      name: 'compound-two-writes',
      what: 'two WRITEs in one packet: one detection each, every rule evaluated afresh in the second (FLAG_ALLOW_MULTIPLE_DETECT)',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(
            nbss([
              ...writeRequest(ascii('one'), { mid: 3, tid: 1, next: 120 }),
              0,
              0,
              0,
              0,
              0,
              ...writeRequest(ascii('two-data'), { mid: 4, tid: 1 }),
            ]),
            undefined,
          ),
        ],
        [
          toServer('file_data; content:"two"; depth:3;'),
          toServer('file_data; content:"one"; depth:3;'),
          toServer('file_data; content:"-data"; depth:5; offset:3;'),
          // both detections match it, the raw packet does not: the second does not queue it again (the session alert
          // list, fpSessionAlerted, has it from the first)
          toServer('file_data; pcre:"/^(?:one|two)/";'),
        ],
      ),
    },
    {
      name: 'pipe-read',
      what: 'a READ response on a pipe tree is detected with file_data set to the data read',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(nbss(readRequest(2, 1, 1024)), nbss(readResponse(2, 1, [0x05, 0x00, 0x02, 0x03, ...ascii('READ-MARKER')]))),
        ],
        [toClient('file_data; content:"|05 00 02 03|"; depth:4;'), toClient('file_data; content:"READ-MARKER";'), toClient('content:"READ-MARKER";')],
      ),
    },
    {
      name: 'offset-near-2-64',
      what: 'a WRITE at offset 2^64 - 10 has only its first 9 bytes detected (uint64_t arithmetic of the file depth)',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          ...turn(nbss(writeRequest(ascii('ABCDEFGHIJKLMNOP'), { mid: 2, tid: 1, offset: (1n << 64n) - 10n })), undefined),
        ],
        [
          toServer('file_data; content:"ABC"; depth:3;'),
          // the file data ends after 9 bytes; the raw packet's file_data (its payload) has "JK" but not at its start
          toServer('file_data; content:"ABCDEFGHI"; depth:9; isdataat:!1,relative;'),
          toServer('file_data; content:"ABCDEFGHIJ"; depth:10;'),
          toServer('file_data; content:"JK";'),
        ],
      ),
    },
    {
      name: 'paf-max-write',
      what: 'a 20 KB WRITE acknowledged in two parts is flushed at paf_max: both rebuilt packets are detected, the second as more data',
      case: smbCase(
        [
          ...connect(1, SHARE_PIPE, '\\\\srv\\IPC$'),
          {
            dir: 'c2s',
            bytes: bigWrite.slice(0, split),
            cuts: [1460, 2920, 4380, 5840, 7300, 8760, 10220, 11680, 13140, 14600, 16060],
            modes: [],
            acked: true,
          },
          { dir: 'c2s', bytes: bigWrite.slice(split), cuts: [1460], modes: [], acked: true },
        ],
        [
          // the first rebuilt packet ends at the ACK after 17,520 bytes: 17,404 bytes of data follow the WRITE's header
          toServer('file_data; content:"|05 00 00 03|"; depth:4; isdataat:!17404;'),
          toServer('file_data; content:"|05 00 00 03|"; depth:4; isdataat:17404;'),
          toServer('file_data; content:"TAIL-MARKER";'),
        ],
      ),
    },
  ];
}

// ---------------------------------------------------------------- generated sessions (area `smb`)

/** One step of a generated session: what the client sends, and the server's answer. */
type Step =
  | { t: 'connect'; tid: number; share: number }
  | { t: 'disconnect'; tid: number }
  | { t: 'write'; tid: number; async: boolean; offset: bigint; data: number[]; extra: number; chained: boolean; echoFirst: boolean }
  | { t: 'read'; tid: number; data: number[] }
  /** Bytes that are no NetBIOS message (PAF's junk states), or an SMB1 message (the session leaves SMB2). */
  | { t: 'junk'; data: number[] }
  | { t: 'smb1' };

/** Written or read data: a marker ("MK" and a digit) at the start now and then, filler, maybe a lot of it. */
const dataArb: fc.Arbitrary<number[]> = fc
  .record({
    lead: fc.constantFrom('MK1', 'MK2', 'MK3', 'xx', ''),
    fill: fc.array(fc.constantFrom(0x41, 0x00, 0x4d, 0x4b, 0x31, 0x32), { maxLength: 24 }),
    tail: fc.constantFrom('', 'MK2', 'MK3'),
    big: fc.constantFrom(0, 0, 0, 0, 0, 3000, 17000),
  })
  .map(({ lead, fill, tail, big }) => [...ascii(lead), ...fill, ...new Array<number>(big).fill(0x42), ...ascii(tail)]);

const tidArb = fc.constantFrom(1, 1, 1, 2, 3);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('connect' as const), tid: tidArb, share: fc.constantFrom(SHARE_PIPE, SHARE_PIPE, SHARE_DISK, 3, 0x07) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('disconnect' as const), tid: tidArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('write' as const),
      tid: tidArb,
      async: fc.constantFrom(false, false, false, true),
      offset: fc.constantFrom(0n, 0n, 4096n, (1n << 64n) - 1n, (1n << 64n) - 3n),
      data: dataArb,
      extra: fc.constantFrom(0, 0, 0, 500),
      chained: fc.constantFrom(false, false, false, true),
      echoFirst: fc.constantFrom(false, false, true),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('read' as const), tid: tidArb, data: dataArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('junk' as const), data: fc.array(fc.constantFrom(0x41, 0x00, 0xfe, 0x53, 0x4d, 0x42), { maxLength: 12 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'smb1' as const }) },
);

/** The exchanges of one step (message ids from `mid`, each message cut at `cuts` and its segments sent by `modes`). */
function stepExchanges(s: Step, mid: number, cuts: number[], modes: SegMode[], acked: boolean): Exchange[] {
  const c2s = (bytes: number[]): Exchange => ({ dir: 'c2s', bytes, cuts, modes, acked });
  const s2c = (bytes: number[]): Exchange => ({ dir: 's2c', bytes, cuts, modes, acked });
  switch (s.t) {
    case 'junk':
      return [c2s(s.data)];
    case 'smb1':
      return [c2s(nbss([0xff, ...ascii('SMB'), 0x72, ...new Array<number>(27).fill(0), 0, 0, 0]))];
    case 'connect':
      return [c2s(nbss(treeConnectRequest(mid, '\\\\srv\\IPC$'))), s2c(nbss(treeConnectResponse(mid, s.tid, s.share)))];
    case 'disconnect':
      return [c2s(nbss(treeDisconnectRequest(mid, s.tid)))];
    case 'read':
      return [c2s(nbss(readRequest(mid, s.tid, s.data.length))), s2c(nbss(readResponse(mid, s.tid, s.data)))];
    case 'write': {
      const o = { mid, tid: s.tid, flags: s.async ? FLAGS_ASYNC : 0, offset: s.offset, length: s.data.length + s.extra };
      let msg = writeRequest(s.data, o);
      if (s.chained) {
        // a second WRITE after it (NextCommand 8-byte aligned)
        const pad = (8 - (msg.length % 8)) % 8;
        msg = [
          ...writeRequest(s.data, { ...o, next: msg.length + pad }),
          ...new Array<number>(pad).fill(0),
          ...writeRequest(ascii('MK3'), { ...o, mid: mid + 1 }),
        ];
      }
      if (s.echoFirst) msg = [...echoRequest(mid + 2, 72), 0, 0, 0, 0, ...msg];
      return [c2s(nbss(msg))];
    }
  }
}

const SMB_RULES: RuleSpec[] = [
  toServer('file_data; content:"MK"; depth:2;'),
  toServer('file_data; content:"MK1";'),
  toServer('file_data; pcre:"/^MK[23]/";'),
  toServer('content:"MK2";'),
  toServer('file_data; content:"MK"; depth:2; isdataat:!40,relative;'),
  toClient('file_data; content:"MK"; depth:2;'),
  toClient('file_data; content:"MK3";'),
  toClient('content:"MK1";'),
];

/** Generated SMB2 sessions on port 445 (diff-snort's opt-in area `smb`): trees, writes and reads in any order. */
export const smb2CaseArb: fc.Arbitrary<Case> = fc
  .record({
    steps: fc.array(stepArb, { minLength: 1, maxLength: 6 }),
    cuts: fc.array(fc.integer({ min: 1, max: 1460 }), { maxLength: 3 }),
    modes: fc.array(fc.constantFrom<SegMode>('once', 'once', 'once', 'retransmit', 'overlap', 'late'), { maxLength: 3 }),
    acked: fc.constantFrom(true, true, true, true, false),
    handshake: fc.constantFrom<'full' | 'none'>('full', 'full', 'full', 'none'),
    close: fc.constantFrom<'fin' | 'rst-client' | 'none'>('fin', 'fin', 'rst-client', 'none'),
    rules: fc.subarray(SMB_RULES, { minLength: 1 }),
  })
  .map(({ steps, cuts, modes, acked, handshake, close, rules }) => {
    const exchanges: Exchange[] = [];
    steps.forEach((s, i) => exchanges.push(...stepExchanges(s, 10 + 4 * i, cuts, modes, acked)));
    return {
      area: 'smb' as const,
      clientHome: false,
      cport: 49700,
      sport: 445,
      frames: sessionFrames({ handshake, exchanges, close, gap: 1 }),
      rules,
    };
  });
