/** classification.config: `config classification: name,description,priority`, with Snort 2.9.20's shipped defaults. */
export interface Classification {
  name: string;
  description: string;
  priority: number;
}

const SNORT_DEFAULT = `not-suspicious,Not Suspicious Traffic,3
unknown,Unknown Traffic,3
bad-unknown,Potentially Bad Traffic,2
attempted-recon,Attempted Information Leak,2
successful-recon-limited,Information Leak,2
successful-recon-largescale,Large Scale Information Leak,2
attempted-dos,Attempted Denial of Service,2
successful-dos,Denial of Service,2
attempted-user,Attempted User Privilege Gain,1
unsuccessful-user,Unsuccessful User Privilege Gain,1
successful-user,Successful User Privilege Gain,1
attempted-admin,Attempted Administrator Privilege Gain,1
successful-admin,Successful Administrator Privilege Gain,1
rpc-portmap-decode,Decode of an RPC Query,2
shellcode-detect,Executable Code was Detected,1
string-detect,A Suspicious String was Detected,3
suspicious-filename-detect,A Suspicious Filename was Detected,2
suspicious-login,An Attempted Login Using a Suspicious Username was Detected,2
system-call-detect,A System Call was Detected,2
tcp-connection,A TCP Connection was Detected,4
trojan-activity,A Network Trojan was Detected,1
unusual-client-port-connection,A Client was Using an Unusual Port,2
network-scan,Detection of a Network Scan,3
denial-of-service,Detection of a Denial of Service Attack,2
non-standard-protocol,Detection of a Non-Standard Protocol or Event,2
protocol-command-decode,Generic Protocol Command Decode,3
web-application-activity,Access to a Potentially Vulnerable Web Application,2
web-application-attack,Web Application Attack,1
misc-activity,Misc activity,3
misc-attack,Misc Attack,2
icmp-event,Generic ICMP event,3
inappropriate-content,Inappropriate Content was Detected,1
policy-violation,Potential Corporate Privacy Violation,1
default-login-attempt,Attempt to Login By a Default Username and Password,2
sdf,Senstive Data,2
file-format,Known malicious file or file based exploit,1
malware-cnc,Known malware command and control traffic,1
client-side-exploit,Known client side exploit attempt,1`;

function parseEntry(text: string): Classification | undefined {
  const parts = text.split(',');
  if (parts.length < 3) return undefined;
  const priority = Number(parts[parts.length - 1]!.trim());
  if (!Number.isInteger(priority)) return undefined;
  return { name: parts[0]!.trim(), description: parts.slice(1, -1).join(',').trim(), priority };
}

export function defaultClassifications(): Map<string, Classification> {
  const map = new Map<string, Classification>();
  for (const line of SNORT_DEFAULT.split('\n')) {
    const c = parseEntry(line)!;
    map.set(c.name, c);
  }
  return map;
}

/** Reads `config classification:` lines; returns entries and the lines it could not read. */
export function parseClassificationConfig(text: string): { entries: Classification[]; bad: { line: number; text: string }[] } {
  const entries: Classification[] = [];
  const bad: { line: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^config\s+classification\s*:\s*(.*)$/.exec(line);
    if (!m) return;
    const c = parseEntry(m[1]!);
    if (c) entries.push(c);
    else bad.push({ line: i + 1, text: raw });
  });
  return { entries, bad };
}
