/**
 * Rules without a fast pattern are found once per flow direction and kept on the flow, without those whose
 * direction (`flow:to_server|to_client`) or `ip_proto`/`sameip` test fails for that direction. The list must give
 * the same alerts as evaluating every such rule on every packet: both directions of one flow, the first packet from
 * either side, against the reference evaluator (no flow-level list).
 */
import { describe, expect, it } from 'vitest';
import { PacketPipeline } from '../src/flow/index.js';
import { Matcher } from '../src/match/engine.js';
import { buildIp } from '../src/packet/build.js';
import { ReferenceMatcher } from './helpers/reference-matcher.js';
import { compileText } from './helpers/match.js';

const RULES = `
alert tcp any any -> any any (msg:"to client"; flow:to_client; dsize:>0; sid:1;)
alert tcp any any -> any any (msg:"to server"; flow:to_server; dsize:>0; sid:2;)
alert ip any any -> any any (msg:"tcp proto"; ip_proto:6; sid:3;)
alert ip any any -> any any (msg:"6in4"; ip_proto:41; sid:4;)
alert ip any any -> any any (msg:"not tcp"; ip_proto:!6; sid:5;)
alert ip any any -> any any (msg:"same ip"; sameip; sid:6;)
alert udp any any -> any any (msg:"udp to server"; flow:to_server; sid:7;)
alert udp any any -> any any (msg:"udp to client"; flow:to_client; sid:8;)
`;

type Dir = 'c2s' | 's2c';
const tcp = (dir: Dir, flags: string, payload = '', seq = 1, ack = 1) =>
  buildIp({
    ip: dir === 'c2s' ? { src: '10.0.0.1', dst: '10.0.0.2', ttl: 64 } : { src: '10.0.0.2', dst: '10.0.0.1', ttl: 64 },
    tcp: dir === 'c2s' ? { sport: 40000, dport: 9999, flags, seq, ack, window: 100 } : { sport: 9999, dport: 40000, flags, seq, ack, window: 100 },
    payload,
  });
const udp = (dir: Dir, payload: string) =>
  buildIp({
    ip: dir === 'c2s' ? { src: '10.0.0.1', dst: '10.0.0.2', ttl: 64 } : { src: '10.0.0.2', dst: '10.0.0.1', ttl: 64 },
    udp: dir === 'c2s' ? { sport: 5000, dport: 53 } : { sport: 53, dport: 5000 },
    payload,
  });

function sids(frames: Uint8Array[]): { engine: number[][]; reference: number[][] } {
  const plan = compileText(RULES).plan;
  const m = new Matcher(plan, undefined, { checksumMode: 'none' });
  const ref = new ReferenceMatcher(plan);
  const run = (inspect: (item: Parameters<Matcher['inspect']>[0]) => { rule: { sid: number } }[]) => {
    const pipe = new PacketPipeline({ flow: { reassembleClientPorts: 'none' } });
    return frames.map((f) =>
      pipe
        .push(-1, f)
        .flatMap((item) => inspect(item).map((e) => e.rule.sid))
        .sort((a, b) => a - b),
    );
  };
  return { engine: run((i) => m.inspect(i)), reference: run((i) => ref.inspect(i)) };
}

describe('per-flow list of rules without a fast pattern', () => {
  it('gives the alerts of every rule evaluated on every packet, either side first', () => {
    const opened = [
      tcp('c2s', 'S', '', 100, 0),
      tcp('s2c', 'SA', '', 500, 101),
      tcp('c2s', 'A', '', 101, 501),
      tcp('c2s', 'PA', 'hello', 101, 501),
      tcp('s2c', 'PA', 'world', 501, 106),
    ];
    const a = sids(opened);
    expect(a.engine).toEqual(a.reference);
    expect(a.engine[3]).toEqual([2, 3]);
    expect(a.engine[4]).toEqual([1, 3]);
    // picked up midstream, the server speaking first: the list made for its direction must not serve the other
    const midstream = [tcp('s2c', 'PA', 'banner', 501, 101), tcp('c2s', 'PA', 'hello', 101, 507), tcp('s2c', 'PA', 'again', 507, 106)];
    const b = sids(midstream);
    expect(b.engine).toEqual(b.reference);
    const dns = [udp('c2s', 'q'), udp('s2c', 'r'), udp('c2s', 'q2')];
    const c = sids(dns);
    expect(c.engine).toEqual(c.reference);
    expect(c.engine.flat()).toContain(5);
  });
});
