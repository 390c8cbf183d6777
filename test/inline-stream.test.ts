/**
 * The inline gateway's stream inspection (src/inline), packet by packet, without a network: the drop lands on the
 * packet that completes an attack, whatever the segmentation, order, overlaps or fragmentation, and benign traffic of
 * the same shapes passes.
 */
import { describe, expect, it } from 'vitest';
import { InlineInspector, SEGMENT_PIECE, type InlineDecision } from '../src/inline/inspector.js';
import { Matcher } from '../src/match/engine.js';
import { buildIp, fragmentDatagram } from '../src/packet/build.js';
import { decodeIpPacket } from '../src/packet/decode.js';
import { compileText } from './helpers/match.js';

const HP = '10.0.0.20';
const OUT = '10.0.0.1';
const RULES = [
  'drop tcp $HOME_NET any -> $EXTERNAL_NET 21 (msg:"ftp pass wh00t"; flow:to_server,established; content:"pass wh00t"; nocase; sid:1;)',
  'drop tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"environ"; flow:to_server,established; content:"/proc/self/environ"; http_uri; nocase; sid:2;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET 21 (msg:"syn"; flags:S; sid:3;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET 6667 (msg:"irc"; content:"JOIN #"; content:"chan"; distance:0; within:8; sid:4;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET 7000 (msg:"replace"; content:"secret"; replace:"XXXXXX"; sid:5;)',
  'alert tcp $HOME_NET any -> $EXTERNAL_NET 4444 (msg:"login"; flow:to_server,established; content:"LOGIN "; flowbits:set,logged; flowbits:noalert; sid:6;)',
  'drop tcp $HOME_NET any -> $EXTERNAL_NET 4444 (msg:"after login"; flow:to_server,established; flowbits:isset,logged; content:"GETFILE"; sid:7;)',
].join('\n');
const compiled = compileText(`${RULES}\n`, [`HOME_NET=${HP}`, 'EXTERNAL_NET=any']);
if (compiled.failures.length) throw new Error(JSON.stringify(compiled.failures));
const matcher = new Matcher(compiled.plan, undefined, { checksumMode: 'none', inline: true });

/** A client session from the honeypot: SYN, then data segments at chosen offsets. */
class Session {
  readonly gw = new InlineInspector<number>(matcher);
  private id = 0;
  readonly decisions: InlineDecision<number>[] = [];
  constructor(
    readonly dport: number,
    readonly sport = 40000 + Math.floor(Math.random() * 20000),
    readonly isn = 1000,
  ) {
    this.send(this.packet('S', this.isn, new Uint8Array(0)));
  }

  packet(flags: string, seq: number, payload: Uint8Array | string): Uint8Array {
    return buildIp({ ip: { src: HP, dst: OUT, id: 7 }, tcp: { sport: this.sport, dport: this.dport, seq, ack: 5001, flags }, payload });
  }

  /** Data at stream offset `at` (0 = first byte after the SYN). */
  data(at: number, bytes: string): InlineDecision<number>[] {
    return this.send(this.packet('PA', this.isn + 1 + at, bytes));
  }

  send(datagram: Uint8Array, now = 1000): InlineDecision<number>[] {
    const p = decodeIpPacket(datagram, undefined, { verifyChecksums: false });
    p.tsSec = 1_600_000_000;
    const d = this.gw.push(p, ++this.id, now);
    this.decisions.push(...d);
    return d;
  }

  /** The verdict of packet number `n` (1 = the SYN). */
  verdictOf(n: number): string | undefined {
    return this.decisions.find((d) => d.handle === n)?.verdict;
  }

  sids(n: number): number[] {
    return (this.decisions.find((d) => d.handle === n)?.events ?? []).map((e) => e.rule.sid);
  }
}

describe('inline stream inspection: the packet completing an attack is dropped', () => {
  it('whole, in one segment', () => {
    const s = new Session(21);
    s.data(0, 'PASS wh00t\r\n');
    expect(s.verdictOf(2)).toBe('drop');
    expect(s.sids(2)).toEqual([1]);
    expect(s.sids(1)).toEqual([3]);
  });

  it('split over two segments: the first passes, the second is dropped', () => {
    const s = new Session(21);
    s.data(0, 'PASS wh');
    s.data(7, '00t\r\n');
    expect([s.verdictOf(2), s.verdictOf(3)]).toEqual(['accept', 'drop']);
    expect(s.sids(3)).toEqual([1]);
  });

  it('one byte per segment: the tenth byte is dropped', () => {
    const s = new Session(21);
    const text = 'PASS wh00t';
    for (let i = 0; i < text.length; i++) s.data(i, text[i]!);
    const verdicts = Array.from({ length: 10 }, (_, i) => s.verdictOf(i + 2));
    expect(verdicts).toEqual([...Array(9).fill('accept'), 'drop']);
  });

  it('out of order: the later part is held until the gap fills, then both are judged, together', () => {
    const s = new Session(21);
    expect(s.data(5, 'wh00t\r\n')).toEqual([]); // held: no verdict yet
    expect(s.gw.heldNow).toBe(1);
    const d = s.data(0, 'PASS ');
    // the held segment completes the match; the gap filler released it and has not left either: both are dropped
    expect(d.map((x) => [x.handle, x.verdict, x.reason])).toEqual([
      [3, 'drop', 'blocked-session'],
      [2, 'drop', 'drop'],
    ]);
    expect(d[1]!.events.map((e) => e.rule.sid)).toEqual([1]);
    expect(s.gw.heldNow).toBe(0);
  });

  it('a segment overlapping earlier data with different bytes is dropped and logged; the same bytes pass', () => {
    const s = new Session(21);
    s.data(0, 'PASS wh0');
    // a retransmission with the same bytes passes as a duplicate
    expect(s.data(4, ' wh0')[0]).toMatchObject({ verdict: 'accept', reason: 'duplicate' });
    // the same range with another byte is refused
    const d = s.data(7, 'X');
    expect(d[0]).toMatchObject({ verdict: 'drop', reason: 'overlap-conflict' });
    expect(d[0]!.events.map((e) => [e.rule.gid, e.rule.sid])).toEqual([[1000, 1]]);
    // the stream still holds what passed: completing it completes the attack
    expect(s.data(8, '0t\r\n')[0]).toMatchObject({ verdict: 'drop', reason: 'drop' });
  });

  it('a held segment conflicting with a later one is caught too', () => {
    const s = new Session(21);
    s.data(6, 'h00t');
    expect(s.data(6, 'hXXt')[0]).toMatchObject({ verdict: 'drop', reason: 'overlap-conflict' });
  });

  it('IP fragments: held until the datagram is whole, all judged by it', () => {
    const s = new Session(21);
    const whole = s.packet('PA', 1001, 'PASS wh00t\r\n');
    const frags = fragmentDatagram(whole, 16, 0x4242);
    expect(frags.length).toBeGreaterThan(1);
    const got = frags.flatMap((f) => s.send(f));
    expect(got.map((d) => d.verdict)).toEqual(frags.map(() => 'drop'));
    expect(got[0]!.events.map((e) => e.rule.sid)).toEqual([1]);
  });

  it('HTTP: a request whose URI is split over segments is dropped by the http_uri rule at the segment completing it', () => {
    const s = new Session(80);
    s.data(0, 'GET /index.php?page=/proc/se');
    s.data(28, 'lf/envi');
    s.data(35, 'ron HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([s.verdictOf(2), s.verdictOf(3), s.verdictOf(4)]).toEqual(['accept', 'accept', 'drop']);
    expect(s.sids(4)).toEqual([2]);
  });

  it('a relative content spanning segments fires once, on the completing packet', () => {
    const s = new Session(6667);
    s.data(0, 'NICK x\r\nJOIN #c');
    s.data(15, 'ha');
    s.data(17, 'n\r\n');
    s.data(20, 'PRIVMSG #chan :hi\r\n');
    expect([2, 3, 4, 5].map((n) => s.sids(n))).toEqual([[], [], [4], []]);
  });

  it('flowbits carry across packets of the session inline, as in replay', () => {
    const s = new Session(4444);
    s.data(0, 'LOGIN x\r\n');
    s.data(9, 'GETF');
    s.data(13, 'ILE secret\r\n');
    expect([s.verdictOf(2), s.verdictOf(3), s.verdictOf(4)]).toEqual(['accept', 'accept', 'drop']);
    expect([s.sids(2), s.sids(4)]).toEqual([[], [7]]);
    // without the login, the same request passes
    const other = new Session(4444);
    other.data(0, 'GETFILE secret\r\n');
    expect(other.verdictOf(2)).toBe('accept');
  });

  it('benign traffic of the same shapes passes', () => {
    const s = new Session(21);
    s.data(5, 'wh00f\r\n');
    s.data(0, 'PASS ');
    for (const b of 'USER x\r\n') s.data(12 + 'USER x\r\n'.indexOf(b), b);
    expect(s.decisions.every((d) => d.verdict === 'accept')).toBe(true);
  });

  it('replace rewrites the bytes of the packet at hand; a retransmission gets the same rewrite', () => {
    const s = new Session(7000);
    const d = s.data(0, 'the secret is 42');
    expect(d[0]).toMatchObject({ verdict: 'accept', replaced: true });
    expect(Buffer.from(d[0]!.packet.payload).toString()).toBe('the XXXXXX is 42');
    const again = s.data(0, 'the secret is 42');
    expect(again[0]).toMatchObject({ verdict: 'accept', replaced: true, reason: 'duplicate' });
    expect(Buffer.from(again[0]!.packet.payload).toString()).toBe('the XXXXXX is 42');
  });

  it('held segments whose gap never fills are dropped after the hold time, and counted', () => {
    const s = new Session(21);
    s.data(100, 'later');
    expect(s.gw.expire(1500)).toEqual([]);
    const d = s.gw.expire(10_000);
    expect(d.map((x) => [x.handle, x.verdict, x.reason])).toEqual([[2, 'drop', 'hold-expired']]);
    expect(s.gw.stats.events['hold-expired']).toBe(1);
  });

  it('the hold limit: beyond it an out-of-order segment is dropped at once', () => {
    const s = new Session(21);
    const gw = new InlineInspector<number>(matcher, { maxHeld: 2 });
    (s as unknown as { gw: InlineInspector<number> }).gw = gw;
    s.send(s.packet('S', 1000, new Uint8Array(0)));
    s.data(100, 'a');
    s.data(200, 'b');
    expect(s.data(300, 'c')[0]).toMatchObject({ verdict: 'drop', reason: 'hold-limit' });
  });
});

describe('GSO/GRO super-packets: a 64 KB segment is inspected whole', () => {
  /** Lower-case letters (never "pass wh00t": no digits), the same for every run. */
  function filler(n: number): Uint8Array {
    const b = new Uint8Array(n);
    let x = 7;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = 0x61 + ((x >>> 16) % 26);
    }
    return b;
  }
  function withText(n: number, at: number, text: string): Uint8Array {
    const b = filler(n);
    b.set(new TextEncoder().encode(text), at);
    return b;
  }
  const BIG = 65_000;

  it('an attack at its start, across the boundary of two inspection pieces, or at its end drops it', () => {
    for (const at of [0, SEGMENT_PIECE - 4, 3 * SEGMENT_PIECE - 5, BIG - 10]) {
      const s = new Session(21);
      const d = s.send(s.packet('PA', s.isn + 1, withText(BIG, at, 'PASS wh00t')));
      expect(d.map((x) => [x.verdict, x.reason])).toEqual([['drop', 'drop']]);
      expect(s.sids(2)).toEqual([1]);
      expect(s.gw.stats.largeSegments).toBe(1);
    }
  });

  it('a benign one passes, and an attack it starts is dropped with the segment completing it', () => {
    const s = new Session(21);
    const first = withText(BIG, BIG - 7, 'PASS wh');
    expect(s.send(s.packet('PA', s.isn + 1, first))[0]).toMatchObject({ verdict: 'accept', reason: 'clean' });
    expect(s.send(s.packet('PA', s.isn + 1 + BIG, '00t\r\n'))[0]).toMatchObject({ verdict: 'drop', reason: 'drop' });
    expect(s.sids(3)).toEqual([1]);
  });

  it('replace in a super-packet rewrites the bytes where they are', () => {
    const s = new Session(7000);
    const d = s.send(s.packet('PA', s.isn + 1, withText(BIG, 40_000, 'secret')));
    expect(d[0]).toMatchObject({ verdict: 'accept', replaced: true });
    expect(Buffer.from(d[0]!.packet.payload.subarray(40_000, 40_006)).toString()).toBe('XXXXXX');
  });
});

describe('the streaming prefilter over a long session', () => {
  it('a fast pattern is found at each of its occurrences, however far apart (one-pattern rule set)', () => {
    const one = compileText('alert tcp $HOME_NET any -> $EXTERNAL_NET 7000 (msg:"replace"; content:"secret"; replace:"XXXXXX"; sid:5;)\n', [
      `HOME_NET=${HP}`,
      'EXTERNAL_NET=any',
    ]);
    const gw = new InlineInspector<number>(new Matcher(one.plan, undefined, { checksumMode: 'none', inline: true }));
    const send = (seq: number, payload: Uint8Array | string, id: number) => {
      const p = decodeIpPacket(
        buildIp({ ip: { src: HP, dst: OUT }, tcp: { sport: 45000, dport: 7000, seq, ack: 1, flags: 'A' }, payload }),
        undefined,
        { verifyChecksums: false },
      );
      return gw.push(p, id, 1000);
    };
    const filler = new Uint8Array(1000).fill(0x2e);
    const replaced: number[] = [];
    let seq = 1;
    for (let i = 0; i < 100; i++) {
      const d = send(seq, i % 30 === 0 ? 'the secret' : filler, i)[0]!;
      if (d.replaced) replaced.push(i);
      seq += i % 30 === 0 ? 10 : 1000;
    }
    expect(replaced).toEqual([0, 30, 60, 90]);
    expect(gw.stats.streamRestarts).toBe(0);
  });
});
