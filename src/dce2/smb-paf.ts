/**
 * dcerpc2's protocol aware flushing for SMB (Snort 2.9.20 dce2_paf.c DCE2_SmbPaf): a stream on an SMB port is flushed
 * at the end of each NetBIOS session message, so each rebuilt packet is one NBSS PDU (an SMB1 or SMB2 message).
 */

/** NBSS_SESSION_TYPE__* (includes/smb.h): the message types a header may start with outside the junk states. */
const NBSS_TYPES: ReadonlySet<number> = new Set([0x00, 0x81, 0x82, 0x83, 0x84, 0x85]);
/** DCE2_SMB_ID (`\xffSMB`) and DCE2_SMB2_ID (`\xfeSMB`), big-endian. */
export const SMB1_ID = 0xff534d42;
export const SMB2_ID = 0xfe534d42;

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * The message length a NetBIOS header at `at` gives, or -1 when it is not valid there (DCE2_PafSmbIsValidNetbiosHdr).
 * In the junk states only a session message (type 0) is valid. The SMB1 bit check and the length's width depend on
 * the protocol identifier after the header, when it is in `b`: SMB1's length has 17 bits and the flags byte must be 0
 * or 1 ([MS-SMB] 2.1, NbssLen), SMB2's 24 bits (NbssLen2); without an identifier, 17 bits and no check.
 */
function netbiosLength(b: Uint8Array, at: number, junk: boolean): number {
  const type = b[at]!;
  const bit = b[at + 1]!;
  if (junk ? type !== 0x00 : !NBSS_TYPES.has(type)) return -1;
  const id = at + 8 <= b.length ? u32(b, at + 4) : 0;
  if (id === SMB1_ID && bit !== 0x00 && bit !== 0x01) return -1;
  const len = (b[at + 2]! << 8) | b[at + 3]!;
  return id === SMB2_ID ? bit * 0x10000 + len : (bit & 0x01) * 0x10000 + len;
}

/**
 * Length of the first PDU in `b` (the in-order data from a flush point), counted from b[0]: its NetBIOS header and
 * message, and any junk before it. 0 while no header is found in `b`. DCE2_SmbPaf reads a header at the start (states
 * 0-3); when it is not valid it slides an 8-byte window (states 4-7, the window's first byte moving from 0) until a
 * session message header is followed by `\xffSMB` or `\xfeSMB`, and flushes at the end of that message. Work is
 * linear in `b.length` (the flow table shows at most PAF_PEEK bytes).
 */
export function smbPafLength(b: Uint8Array): number {
  if (b.length < 4) return 0;
  const n = netbiosLength(b, 0, false);
  if (n >= 0) return 4 + n;
  for (let at = 0; at + 8 <= b.length; at++) {
    const id = u32(b, at + 4);
    if (id !== SMB1_ID && id !== SMB2_ID) continue;
    const len = netbiosLength(b, at, true);
    if (len >= 0) return at + 4 + len;
  }
  return 0;
}

/**
 * Whether `b` holds what makes smbPafLength find a PDU: a valid header at the start of the queued data (`atStart`),
 * or anywhere a junk-state window (a session message header followed by an SMB identifier) lying wholly in `b`. The
 * flow table searches only the bytes each ACK adds with it (and the 7 before them), as DCE2_SmbPaf reads each byte
 * once: re-reading up to paf_max bytes at every ACK made a message of one-byte segments cost seconds.
 */
export function smbPduHeadIn(b: Uint8Array, atStart: boolean): boolean {
  if (atStart && b.length >= 4 && netbiosLength(b, 0, false) >= 0) return true;
  for (let at = 0; at + 8 <= b.length; at++) {
    const id = u32(b, at + 4);
    if ((id === SMB1_ID || id === SMB2_ID) && netbiosLength(b, at, true) >= 0) return true;
  }
  return false;
}
