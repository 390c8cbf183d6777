/**
 * dcerpc2's session on an SMB port, as far as it changes detection (Snort 2.9.20 snort_dce2.c DCE2_Process,
 * dce2_smb.c DCE2_SmbProcess). dcerpc2 looks only at rebuilt packets of a TCP session (PAF payload; a packet queued for
 * reassembly is left to detection as it is), runs detection on each one itself (DCE2_Detect, then DCE2_DisableDetect:
 * the same rules on the same packet as Snort's own detection would run) or, for the data of an SMB2 READ or WRITE on
 * a tree it tracks, with file_data set to that data (DCE2_FileDetect, once per READ or WRITE in the packet). So what
 * honeywall needs of it is which rebuilt packet gets which file_data; SMB1 (DCE/RPC over named pipes, its own file inspection) is not followed: an SMB1
 * message is detected as a plain rebuilt packet.
 */
import { SMB1_ID, SMB2_ID, smbPafLength } from './smb-paf.js';
import { newSmb2Stats, Smb2State, type Smb2Stats } from './smb2.js';

/** base.conf `preprocessor dcerpc2_server: default, ... detect [smb [139,445], ...]`. */
export const DCE2_SMB_PORTS: readonly number[] = [139, 445];

/** What dcerpc2's SMB handling counted over a capture (Smb2Stats and the sessions it stopped inspecting). */
export interface Dce2Stats extends Smb2Stats {
  /** Sessions dcerpc2 stopped inspecting: a gap or overlap between rebuilt packets (DCE2_SetSsnState). */
  sessionsAbandoned: number;
}

export function newDce2Stats(): Dce2Stats {
  return { ...newSmb2Stats(), sessionsAbandoned: 0 };
}

/** One rebuilt packet as dcerpc2 sees it. */
export interface RebuiltSmb {
  fromClient: boolean;
  seq: number;
  ack: number;
  data: Uint8Array;
  /** The rebuilt packet starts a NetBIOS message (PKT_PDU_HEAD: PAF flushed it from a message boundary). */
  pduHead: boolean;
}

function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** The dcerpc2 state of one TCP session on an SMB port (DCE2_SmbSsnData). */
export class Dce2SmbSession {
  /** DCE2_SsnNoInspect: dcerpc2 gave up on the session (its PAF aborts too, dce2_paf.c DCE2_PafAbort). */
  noInspect = false;
  private seenClient = false;
  private seenServer = false;
  private cliSeq = 0;
  private cliNseq = 0;
  private srvSeq = 0;
  private srvNseq = 0;
  /** DCE2_SSN_FLAG__SMB2: the last SMB message seen was SMB2. */
  private smb2 = false;
  readonly state: Smb2State;

  constructor(private readonly stats: Dce2Stats) {
    this.state = new Smb2State(stats);
  }

  /** The PAF flush point of a direction's data (smb-paf.ts), -1 once dcerpc2 gave up on the session (PAF_ABORT). */
  pafLength(data: Uint8Array): number {
    return this.noInspect ? -1 : smbPafLength(data);
  }

  /**
   * DCE2_Process for a rebuilt packet: the file data of each of its detections (undefined: one plain detection).
   * The first rebuilt packet opens dcerpc2's session (DCE2_NewSession leaves stream-inserted packets alone).
   */
  rebuilt(r: RebuiltSmb): Uint8Array[] | undefined {
    if (this.noInspect || r.data.length === 0) return undefined;
    if (!this.sequence(r)) {
      this.noInspect = true;
      this.stats.sessionsAbandoned++;
      return undefined;
    }
    // DCE2_Smb2Version: a rebuilt packet longer than the NetBIOS header and an SMB id tells the version; otherwise
    // the session keeps the last one
    const d = r.data;
    const id = d.length > 8 ? ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0 : 0;
    if (id === SMB1_ID) {
      this.smb2 = false;
      this.state.smb1();
    } else if (id === SMB2_ID) this.smb2 = true;
    return this.smb2 ? this.state.process(d, r.pduHead) : undefined;
  }

  /**
   * DCE2_SetSsnState: each side's rebuilt packets must follow on from the one before (a first server packet before
   * any client one, a sequence gap or an overlap end the session's inspection).
   */
  private sequence(r: RebuiltSmb): boolean {
    const len = r.data.length;
    if (r.fromClient && !this.seenClient) {
      if (this.seenServer && seqLt(this.cliSeq, r.seq)) return false;
      this.seenClient = true;
      this.cliSeq = r.seq;
      this.cliNseq = (r.seq + len) >>> 0;
      if (!this.seenServer) this.srvSeq = this.srvNseq = r.ack;
      return true;
    }
    if (!r.fromClient && !this.seenServer) {
      if (!this.seenClient || seqLt(this.srvSeq, r.seq)) return false;
      this.seenServer = true;
      this.srvSeq = r.seq;
      this.srvNseq = (r.seq + len) >>> 0;
      return true;
    }
    const nseq = r.fromClient ? this.cliNseq : this.srvNseq;
    if (nseq !== r.seq) return false;
    if (r.fromClient) {
      this.cliSeq = r.seq;
      this.cliNseq = (r.seq + len) >>> 0;
    } else {
      this.srvSeq = r.seq;
      this.srvNseq = (r.seq + len) >>> 0;
    }
    return true;
  }
}
