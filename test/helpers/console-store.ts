/**
 * The store the console tests serve, made the way an analyst makes one: `honeywall import` (the library's main()) of
 * corpus captures with a few rules (alerts linked to flows) and of a simulated intruder session: Sebek records of a
 * shell on honeypot 10.0.0.5 (the scripted session, plus two hostile keystroke lines: a `<script>` and an
 * `<img onerror>`) and the TCP flow its wget made, which the import links to the wget's socket calls. Firewall limit
 * lines are added through the store's writer (the gateway's path), so the overview has limits to show.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { svDir } from './corpus.js';

const { main } = await import('../../src/cli/main.js');
const { openStore } = await import('../../src/store/db.js');
const { StoreWriter } = await import('../../src/store/writer.js');
const { addUser } = await import('../../src/console/auth.js');
const { parseIp } = await import('../../src/packet/bytes.js');
const { ethernet, tcpDatagram } = await import('../../src/packet/build.js');
const { encodePcap, readCaptureAll } = await import('../../src/packet/pcap.js');
const { LinkType } = await import('../../src/packet/types.js');
const { scriptedSession, sessionCapture } = await import('../../src/sebek/simulate.js');
const { SebekType } = await import('../../src/sebek/format.js');

export const HONEYPOT = '10.0.0.5';
export const SHELL_PID = 2001;
export const USER = 'analyst';
export const PASSWORD = 'correct horse battery staple';
/** Keystroke lines an intruder types that would run script if the console parsed them as HTML. */
export const HOSTILE_LINES = [`echo '<script>window.__pwned = 1</script>'`, `<img src=x onerror="window.__pwned = 2">`];
export const SEBEK_MAGIC = 0x2a2a2a2a;

/** Corpus captures (with flows and alerts for RULES), when ../shared is there. */
export const CORPUS_CAPTURES = ['bug-130/input.pcap', 'alert-testmyids-midstream/input.pcap', 'dns/bug-990/input.pcap'];
export const haveCorpus = existsSync(join(svDir, 'tests'));
if (!haveCorpus)
  console.warn('[console tests] ../shared/corpus/suricata-verify is absent: the console store holds the generated intruder session only');

const RULES = [
  'alert tcp any any -> any any (msg:"HTTP response"; flow:to_client,established; content:"HTTP/1."; depth:7; sid:1; rev:1;)',
  'alert tcp any any -> any any (msg:"GET request <b>bold</b>"; flow:to_server; content:"GET "; depth:4; sid:2; rev:1;)',
  'alert tcp any any -> any any (msg:"GPL ATTACK_RESPONSE id check returned root"; content:"uid=0|28|root|29|"; sid:2100498; rev:7;)',
  'alert udp any any -> any 53 (msg:"DNS query"; sid:3; rev:1;)',
  '',
].join('\n');

/** The intruder session: Sebek records and the wget's TCP flow, in one pcap. */
export function sessionPcap(file: string): void {
  const records = scriptedSession({ clientIp: HONEYPOT, shellPid: SHELL_PID });
  const last = records[records.length - 1]!;
  let sec = last.timeSec;
  let usec = last.timeUsec;
  let counter = last.counter;
  for (const line of HOSTILE_LINES) {
    for (const ch of `${line}\r`) {
      usec += 91_000;
      if (usec >= 1_000_000) (sec += 1), (usec -= 1_000_000);
      records.push({
        type: SebekType.READ,
        version: 3,
        counter: ++counter,
        timeSec: sec,
        timeUsec: usec,
        ppid: SHELL_PID - 1,
        pid: SHELL_PID,
        uid: 0,
        fd: 0,
        inode: 0,
        com: 'bash',
        data: Uint8Array.of(ch.charCodeAt(0)),
      });
    }
  }
  const sebek = sessionCapture({ magic: SEBEK_MAGIC, client: HONEYPOT, records });
  const frames = readCaptureAll(sebek.pcap).records.map((r) => ({ tsSec: r.tsSec, tsUsec: r.tsUsec, data: r.data }));
  const connect = sebek.captured.find((r) => r.type === SebekType.SOCKET && r.com === 'wget')!;
  const c = parseIp(HONEYPOT)!;
  const s = parseIp('198.51.100.7')!;
  const t = connect.timeSec;
  const tcp = [
    tcpDatagram(c, s, 40001, 80, 1000, 0, 0x02, new Uint8Array(0)),
    tcpDatagram(s, c, 80, 40001, 5000, 1001, 0x12, new Uint8Array(0)),
    tcpDatagram(c, s, 40001, 80, 1001, 5001, 0x10, new Uint8Array(0)),
    tcpDatagram(c, s, 40001, 80, 1001, 5001, 0x18, new TextEncoder().encode('GET /x.tgz HTTP/1.0\r\n\r\n')),
    tcpDatagram(s, c, 80, 40001, 5001, 1024, 0x18, new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\n')),
  ].map((d, i) => ({ tsSec: t, tsUsec: 100 + i, data: ethernet(d, {}) }));
  const all = [...frames, ...tcp].sort((a, b) => a.tsSec - b.tsSec || a.tsUsec - b.tsUsec);
  writeFileSync(file, encodePcap(all, { linktype: LinkType.ETHERNET }));
}

export interface ConsoleStore {
  db: string;
  sessionPcap: string;
  corpus: string[];
}

/** Makes the store in `dir`, with the account USER unless told not to (main() writes its report to stdout: callers that mind silence it). */
export async function makeConsoleStore(dir: string, opts: { account?: boolean } = {}): Promise<ConsoleStore> {
  const db = join(dir, 'console.sqlite');
  const rules = join(dir, 'console.rules');
  writeFileSync(rules, RULES);
  const session = join(dir, 'intruder-session.pcap');
  sessionPcap(session);
  const corpus = haveCorpus ? CORPUS_CAPTURES.map((c) => join(svDir, 'tests', c)).filter((p) => existsSync(p)) : [];
  const code = await main([
    'node',
    'honeywall',
    'import',
    ...corpus,
    session,
    '--db',
    db,
    '--rules',
    rules,
    '--sebek-magic',
    `0x${SEBEK_MAGIC.toString(16)}`,
    '--honeypots',
    '10.0.0.0/8 192.168.0.0/16',
  ]);
  if (code !== 0) throw new Error(`honeywall import exited ${code}`);
  const st = openStore(db);
  try {
    // the gateway's firewall lines for the honeypot: two outbound connections and the limit they hit
    const w = new StoreWriter(st, { onFull: 'flush' });
    const base = (scriptedSession()[0]!.timeSec + 30) * 1_000_000;
    const line = (kind: 'outbound' | 'limit', prefix: string, i: number) =>
      w.firewall({
        tsUs: base + i * 1_000_000,
        kind,
        prefix,
        proto: 'TCP',
        srcIp: HONEYPOT,
        srcPort: 40100 + i,
        dstIp: '198.51.100.9',
        dstPort: 6667,
        inIface: 'eth1',
        outIface: 'eth0',
        length: 60,
        honeypot: HONEYPOT,
        sensor: 'gateway',
        line: `${prefix}IN=br0 OUT=br0 SRC=${HONEYPOT} DST=198.51.100.9 PROTO=TCP SPT=${40100 + i} DPT=6667`,
      });
    line('outbound', 'OUTBOUND TCP: ', 0);
    line('outbound', 'OUTBOUND TCP: ', 1);
    line('limit', 'Drop TCP > 20 attempts ', 2);
    w.flush();
    if (opts.account !== false) await addUser(st, USER, PASSWORD);
  } finally {
    st.close();
  }
  return { db, sessionPcap: session, corpus };
}

/** makeConsoleStore with its report to stdout silenced (the tests that want a quiet log). */
export async function makeQuietConsoleStore(dir: string, opts: { account?: boolean } = {}): Promise<ConsoleStore> {
  const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await makeConsoleStore(dir, opts);
  } finally {
    quiet.mockRestore();
  }
}
