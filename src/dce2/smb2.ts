/**
 * The part of Snort 2.9.20's dcerpc2 SMB2 handling (dynamic-preprocessors/dcerpc2/dce2_smb2.c) that decides which
 * SMB2 READ and WRITE data gets a detection of its own with file_data set to it (DCE2_Smb2ProcessFileData ->
 * snort_dce2.c DCE2_FileDetect), under base.conf's dcerpc2 settings (`smb_file_inspection` off, so its file depth is
 * -1: dce2_config.h DCE2_ScSmbFileDepth).
 *
 * What it keeps per session: the tree ids of TREE_CONNECT responses whose share is not a disk (IPC$, a printer:
 * DCE2_Smb2InsertTid refuses a disk share unless file inspection is on), the outstanding CREATE and READ requests by
 * message id (DCE2_Smb2StoreRequest: at most 127, a 128th is refused), the file offset, and whether the data of a
 * READ or WRITE continues past the rebuilt packet (pdu_state RAW_DATA). The file cache, file names, file sizes, SMB
 * events (base.conf enables only `events [co]`) and SET_INFO / CLOSE (they detect nothing with file inspection off)
 * are left out. Input is hostile: every read is bounded by the PDU, chained commands are counted and capped, the tree
 * table is bounded with counted evictions.
 */

/** SMB2 command codes (dce2_smb2.h). */
const SMB2_COM_TREE_CONNECT = 0x03;
const SMB2_COM_TREE_DISCONNECT = 0x04;
const SMB2_COM_CREATE = 0x05;
const SMB2_COM_READ = 0x08;
const SMB2_COM_WRITE = 0x09;
const SMB2_FLAGS_ASYNC_COMMAND = 0x00000002;
const SMB2_STATUS_PENDING = 0x00000103;
const SMB2_SHARE_TYPE_DISK = 0x01;
const SMB2_HEADER_LENGTH = 64;
/** NbssHdr: the NetBIOS session header in front of each SMB message. */
const NBSS_HEADER_LENGTH = 4;
/** Structure sizes (dce2_smb2.h SMB2_*_STRUC_SIZE): the field tells a request from a response. */
const ERROR_RESPONSE = 9;
const CREATE_REQUEST = 57;
const CREATE_RESPONSE = 89;
const READ_REQUEST = 49;
const READ_RESPONSE = 17;
const WRITE_REQUEST = 49;
const TREE_CONNECT_RESPONSE = 16;
const TREE_DISCONNECT = 4;
/** DCE2_Smb2StoreRequest: max_outstanding_requests 128 ("windows client max"), refused once the count reaches it. */
export const SMB2_MAX_OUTSTANDING = 128;
/** Tree ids a session keeps (Snort bounds them only by dcerpc2's memcap); the oldest is evicted past it. */
export const SMB2_MAX_TREES = 256;
/** Commands followed in one PDU's NextCommand chain (Snort follows them to the end of the packet). */
export const SMB2_MAX_CHAIN = 1024;
/** setFileDataPtr takes a uint16_t length: DCE2_Smb2ProcessFileData hands at most this much to detection. */
const FILE_DATA_MAX = 0xffff;
const U64_MAX = (1n << 64n) - 1n;

/** What the SMB2 handling counted, for the replay's warnings (limits hit on hostile input). */
export interface Smb2Stats {
  /** PDUs parsed as SMB2 (the start of a NetBIOS message). */
  pdus: number;
  /** Detections with file_data set to READ or WRITE data. */
  fileDetections: number;
  /** PDUs whose command chain was cut at SMB2_MAX_CHAIN. */
  chainsCut: number;
  /** Tree ids dropped at SMB2_MAX_TREES. */
  treesEvicted: number;
  /** Requests refused at SMB2_MAX_OUTSTANDING (as Snort refuses them). */
  requestsRefused: number;
}

export function newSmb2Stats(): Smb2Stats {
  return { pdus: 0, fileDetections: 0, chainsCut: 0, treesEvicted: 0, requestsRefused: 0 };
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function u64(b: Uint8Array, at: number): bigint {
  return BigInt(u32(b, at)) | (BigInt(u32(b, at + 4)) << 32n);
}

interface Request {
  command: number;
  /** read_req.offset of a READ request. */
  offset: bigint;
}

/** One SMB session's SMB2 state (the SMB2 part of DCE2_SmbSsnData). */
export class Smb2State {
  /** Tree id -> share type, in insertion order (the oldest is evicted first). */
  private readonly trees = new Map<number, number>();
  /** Outstanding requests by message id (smb2_requests). */
  private readonly requests = new Map<bigint, Request>();
  /** ftracker.tracker.file.file_offset (uint64). */
  private fileOffset = 0n;
  /** pdu_state == DCE2_SMB_PDU_STATE__RAW_DATA: a READ/WRITE's data continues in the next rebuilt packets. */
  rawData = false;
  /** The file data found in the packet being processed, one detection each. */
  private found: Uint8Array[] = [];

  constructor(private readonly stats: Smb2Stats) {}

  /** Tree ids known (tests). */
  get treeIds(): number[] {
    return [...this.trees.keys()];
  }

  /** Outstanding requests (tests). */
  get outstanding(): number {
    return this.requests.size;
  }

  /**
   * DCE2_Smb2Process for one rebuilt packet of the session (`data`: its payload, a NetBIOS message when `pduHead`).
   * Returns the data of each READ response or WRITE request in it that gets a detection of its own, in order (Snort
   * runs one detection per data: DCE2_Process sets FLAG_ALLOW_MULTIPLE_DETECT, so none reuses the results of the one
   * before), or undefined for none.
   */
  process(data: Uint8Array, pduHead: boolean): Uint8Array[] | undefined {
    this.found = [];
    if (!this.rawData && data.length < NBSS_HEADER_LENGTH + SMB2_HEADER_LENGTH) return undefined;
    if (pduHead) {
      this.stats.pdus++;
      let at = NBSS_HEADER_LENGTH;
      for (let n = 0; ; n++) {
        if (n === SMB2_MAX_CHAIN) {
          this.stats.chainsCut++;
          break;
        }
        // Snort reads a header that runs past the packet's end (only the NextCommand offset is checked); here the
        // chain ends there
        if (at + SMB2_HEADER_LENGTH > data.length) break;
        this.inspect(data, at);
        const next = u32(data, at + 20);
        // DCE2_EVENT__SMB_BAD_NEXT_COMMAND_OFFSET (an SMB event, not enabled in base.conf)
        if (next === 0 || at + next > data.length) break;
        at += next;
      }
    } else if (this.rawData) {
      // the rest of a READ or WRITE whose data did not fit in the PDU's first rebuilt packet
      this.fileData(data, 0, data.length);
      this.fileOffset = (this.fileOffset + BigInt(data.length)) & U64_MAX;
    }
    return this.found.length === 0 ? undefined : this.found;
  }

  /** An SMB1 message on the session: SMB1's own processing (not followed) starts from its command state. */
  smb1(): void {
    this.rawData = false;
  }

  /** DCE2_Smb2Inspect: one command of the chain, its header at `h`. */
  private inspect(b: Uint8Array, h: number): void {
    const command = u16(b, h + 12);
    const flags = u32(b, h + 16);
    const async = (flags & SMB2_FLAGS_ASYNC_COMMAND) !== 0;
    // Smb2Tid: the sync header's tree id (an async header has an async id there; DCE2_Smb2FindTid lets it through)
    const tid = u32(b, h + 36);
    const known = async || this.trees.has(tid);
    const d = h + SMB2_HEADER_LENGTH;
    switch (command) {
      case SMB2_COM_CREATE:
        // only on a disk share (or async); an unknown tree is inserted as a disk share first (refused: no file inspection)
        if (known && (async || this.trees.get(tid) === SMB2_SHARE_TYPE_DISK)) this.create(b, h, d);
        else if (!known) {
          this.insertTree(tid, SMB2_SHARE_TYPE_DISK);
          this.create(b, h, d);
        }
        break;
      case SMB2_COM_READ:
        if (known) this.read(b, h, d);
        break;
      case SMB2_COM_WRITE:
        if (known) this.write(b, d);
        break;
      case SMB2_COM_TREE_CONNECT:
        // DCE2_Smb2TreeConnect: a structure of the response's size, in either direction, inserts the header's tree id
        if (d + TREE_CONNECT_RESPONSE <= b.length && u16(b, d) === TREE_CONNECT_RESPONSE) this.insertTree(tid, b[d + 2]!);
        break;
      case SMB2_COM_TREE_DISCONNECT:
        if (d + TREE_DISCONNECT <= b.length && u16(b, d) === TREE_DISCONNECT) this.trees.delete(tid);
        break;
      // SET_INFO and CLOSE change the file's size and cache entry only; nothing else is looked at
    }
  }

  /** DCE2_Smb2InsertTid with file inspection off: a disk share is not kept; a known tree id keeps its type (NO_DUPS). */
  private insertTree(tid: number, shareType: number): void {
    if (shareType === SMB2_SHARE_TYPE_DISK || this.trees.has(tid)) return;
    if (this.trees.size >= SMB2_MAX_TREES) {
      this.trees.delete(this.trees.keys().next().value!);
      this.stats.treesEvicted++;
    }
    this.trees.set(tid, shareType);
  }

  /** DCE2_Smb2StoreRequest: an existing request of the same message id is returned as it is (its command kept). */
  private storeRequest(mid: bigint, command: number): Request | undefined {
    const old = this.requests.get(mid);
    if (old !== undefined) return old;
    if (this.requests.size + 1 >= SMB2_MAX_OUTSTANDING) {
      // DCE2_EVENT__SMB_MAX_REQS_EXCEEDED (not enabled)
      this.stats.requestsRefused++;
      return undefined;
    }
    const r: Request = { command, offset: 0n };
    this.requests.set(mid, r);
    return r;
  }

  /** DCE2_Smb2Create: the request is stored until its response or error response. */
  private create(b: Uint8Array, h: number, d: number): void {
    if (d + 2 > b.length) return;
    const size = u16(b, d);
    const mid = u64(b, h + 24);
    if (size === CREATE_REQUEST) {
      if (d + CREATE_REQUEST - 1 > b.length) return;
      // DCE2_Smb2CreateRequest: a name that is not within the packet stores nothing
      const nameOffset = u16(b, d + 44);
      if (nameOffset > SMB2_HEADER_LENGTH) {
        const name = d + nameOffset - SMB2_HEADER_LENGTH;
        if (name >= b.length) return;
        const nameLength = u16(b, d + 46);
        if (nameLength === 0 || name + nameLength > b.length) return;
      }
      this.storeRequest(mid, SMB2_COM_CREATE);
    } else if (size === CREATE_RESPONSE) {
      if (d + CREATE_RESPONSE - 1 > b.length) return;
      if (this.requests.get(mid)?.command === SMB2_COM_CREATE) this.requests.delete(mid);
    } else if (size === ERROR_RESPONSE) {
      if (d + ERROR_RESPONSE - 1 > b.length) return;
      if ((u32(b, h + 16) & SMB2_FLAGS_ASYNC_COMMAND) !== 0 && u32(b, h + 8) === SMB2_STATUS_PENDING) return;
      this.requests.delete(mid);
    }
  }

  /** DCE2_Smb2Read: a READ request is stored; its response's data is detected. */
  private read(b: Uint8Array, h: number, d: number): void {
    if (d + 2 > b.length) return;
    const size = u16(b, d);
    const mid = u64(b, h + 24);
    if (size === READ_REQUEST) {
      if (d + READ_REQUEST - 1 > b.length) return;
      const r = this.storeRequest(mid, SMB2_COM_READ);
      if (r !== undefined) r.offset = u64(b, d + 8);
    } else if (size === READ_RESPONSE) {
      if (d + READ_RESPONSE - 1 > b.length) return;
      const r = this.requests.get(mid);
      if (r === undefined || r.command !== SMB2_COM_READ) return;
      this.fileOffset = r.offset;
      this.requests.delete(mid);
      this.dataCommand(b, d + READ_RESPONSE - 1, u32(b, d + 4));
    } else this.requests.delete(mid);
  }

  /** DCE2_Smb2Write: a WRITE request's data is detected (its response is not looked at). */
  private write(b: Uint8Array, d: number): void {
    if (d + 2 > b.length || u16(b, d) !== WRITE_REQUEST || d + WRITE_REQUEST - 1 > b.length) return;
    this.fileOffset = u64(b, d + 8);
    this.dataCommand(b, d + WRITE_REQUEST - 1, u32(b, d + 4));
  }

  /**
   * DCE2_Smb2WriteRequest / ReadResponse: the data runs from the end of the fixed structure to the end of the packet
   * (not the command's DataOffset and Length, and past a chained command's end); when Length says more is coming, the
   * next rebuilt packets that start no PDU are more of it.
   */
  private dataCommand(b: Uint8Array, from: number, length: number): void {
    const size = b.length - from;
    this.fileData(b, from, size);
    this.fileOffset = (this.fileOffset + BigInt(size)) & U64_MAX;
    if (length > size) this.rawData = true;
  }

  /**
   * DCE2_Smb2ProcessFileData with file depth -1 (file inspection off): `file_detection_depth - file_offset` is
   * computed in uint64_t, so the data is detected whole unless the offset is within `size` of 2^64 - 1 (the offset
   * comes from the request: 2^64 - 1 detects nothing, 2^64 - 10 the first 9 bytes), and at most 65535 bytes of it.
   */
  private fileData(b: Uint8Array, from: number, size: number): void {
    if (this.fileOffset >= U64_MAX) return;
    const room = U64_MAX - this.fileOffset;
    const n = room < BigInt(size) ? Number(room) : size;
    if (n <= 0) return;
    this.stats.fileDetections++;
    this.found.push(b.subarray(from, from + Math.min(n, FILE_DATA_MAX)));
  }
}
