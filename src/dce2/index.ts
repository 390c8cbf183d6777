export { DCE2_SMB_PORTS, Dce2SmbSession, newDce2Stats, type Dce2Stats, type RebuiltSmb } from './session.js';
export { smbPafLength } from './smb-paf.js';
export { SMB2_MAX_CHAIN, SMB2_MAX_OUTSTANDING, SMB2_MAX_TREES, Smb2State } from './smb2.js';
