/**
 * Per-flow state is small (issue 12: 2 M distinct SYNs reached 2.15 GB): a flow that never carries data holds no
 * reassembly buffer, no flowbits set and no app map; flows to the same service share the matcher's list of rules
 * without a fast pattern. (Figures measured by hand are in the commit message, not asserted here.)
 */
import { describe, expect, it } from 'vitest';
import { PacketPipeline } from '../src/flow/index.js';
import { Matcher } from '../src/match/engine.js';
import { buildIp } from '../src/packet/build.js';
import { compileText } from './helpers/match.js';

const syn = (i: number, dport = 80) =>
  buildIp({ ip: { src: `10.0.${(i >> 8) & 255}.${i & 255}`, dst: '192.168.0.1' }, tcp: { sport: 1024 + i, dport, flags: 'S', seq: 1000 } });

describe('per-flow state', () => {
  it('a SYN on a reassembled port makes no stream buffer, no flowbits set, no app map; the first data does', () => {
    const pipe = new PacketPipeline();
    for (let i = 0; i < 500; i++) pipe.push(-1, syn(i));
    expect(pipe.flows.size).toBe(500);
    for (const f of pipe.flows.values()) {
      expect(f.client.stream).toBeUndefined();
      expect(f.server.stream).toBeUndefined();
      expect(f.flowbits).toBeUndefined();
      expect(f.hasApp).toBe(false);
      // both addresses in one buffer
      expect(f.client.ip.buffer).toBe(f.server.ip.buffer);
    }
    // data after the SYN: the stream starts at SYN seq + 1, as before
    const data = buildIp({
      ip: { src: '10.0.0.0', dst: '192.168.0.1' },
      tcp: { sport: 1024, dport: 80, flags: 'PA', seq: 1001 },
      payload: 'GET / HTTP/1.0\r\n\r\n',
    });
    const items = pipe.push(-1, data);
    const flow = items[items.length - 1]!.flow!;
    expect(flow.client.stream?.base).toBe(1001);
    expect(flow.client.stream?.queuedBytes).toBe(18);
  });

  it('flows to one service share one list of rules without a fast pattern, and a reloaded matcher makes its own', () => {
    const plan = compileText('alert tcp any any -> any 80 (msg:"no fp"; dsize:0; sid:1;)\n').plan;
    const m = new Matcher(plan, undefined, { checksumMode: 'none' });
    const pipe = new PacketPipeline({ flow: { reassembleClientPorts: 'none' } });
    const lists = new Set<Int32Array>();
    let alerts = 0;
    for (let i = 0; i < 200; i++) {
      for (const item of pipe.push(-1, syn(i))) {
        alerts += m.inspect(item).length;
        lists.add(item.flow!.noFpClient!);
      }
    }
    expect(alerts).toBe(200);
    expect(lists.size).toBe(1);
    expect([...lists][0]!.length).toBe(1);
    const again = new Matcher(plan, undefined, { checksumMode: 'none' });
    const item = pipe.push(-1, syn(0))[0]!;
    expect(again.inspect(item).length).toBe(1);
    expect(item.flow!.noFpOwner).toBe(again);
  });
});
