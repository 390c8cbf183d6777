/**
 * SMB2 sessions on port 445 as diff-snort cases: NetBIOS-framed SMB2 messages ([MS-SMB2] 2.2) built byte by byte, for
 * the cases that pin what Snort 2.9.20's dcerpc2 does with READ and WRITE data (src/dce2, test/dce2-smb2.test.ts).
 * Each scenario is a TCP session (handshake, the exchanges each acknowledged, FINs) with rules on the written data.
 */
import type { Case, RuleSpec } from '../case.js';
import { type Exchange, sessionFrames } from './tcp.js';

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
