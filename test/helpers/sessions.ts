/**
 * Small TCP captures for replay tests (test/flow-limits.test.ts, test/shard-protectors.test.ts,
 * test/sharded-events.test.ts): Ethernet frames in order, sessions opened with a three-way handshake (the client's
 * SYN at sequence 100, the server's at 500), data segments, written as a classic pcap.
 */
import { writeFileSync } from 'node:fs';
import { ethernet, tcpDatagram } from '../../src/packet/build.js';
import { encodePcap } from '../../src/packet/pcap.js';
import { LinkType } from '../../src/packet/types.js';

export const latin1 = (s: string) => Buffer.from(s, 'latin1');

export class SessionCapture {
  readonly frames: { tsSec: number; tsUsec: number; data: Uint8Array }[] = [];

  /** `clock`: a frame's timestamp by its number (default: one second, the frame number as microseconds). */
  constructor(private readonly clock: (n: number) => { tsSec: number; tsUsec: number } = (n) => ({ tsSec: 1_700_000_000, tsUsec: n })) {}

  /** One IP datagram, as an Ethernet frame. */
  add(datagram: Uint8Array): void {
    this.frames.push({ ...this.clock(this.frames.length), data: ethernet(datagram) });
  }

  /** SYN, SYN-ACK, ACK from client:sport to server:dport; the client's data then starts at sequence 101. */
  handshake(client: Uint8Array, server: Uint8Array, sport: number, dport: number): void {
    this.add(tcpDatagram(client, server, sport, dport, 100, 0, 0x02, latin1('')));
    this.add(tcpDatagram(server, client, dport, sport, 500, 101, 0x12, latin1('')));
    this.add(tcpDatagram(client, server, sport, dport, 101, 501, 0x10, latin1('')));
  }

  /** A client segment (PSH-ACK) at sequence `seq`. */
  data(client: Uint8Array, server: Uint8Array, sport: number, dport: number, seq: number, payload: string): void {
    this.add(tcpDatagram(client, server, sport, dport, seq, 501, 0x18, latin1(payload)));
  }

  write(path: string): string {
    writeFileSync(path, encodePcap(this.frames, { linktype: LinkType.ETHERNET }));
    return path;
  }
}
