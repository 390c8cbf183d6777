/**
 * The law of flow classes (keywords/non-payload.ts): a `flow` test's to_server, to_client, established and
 * not_established pass a subject exactly when the rule's classes hold the subject's class, on subjects with and
 * without a session, either way, established or not, TCP or UDP, fragment or not. The prefilter's class databases,
 * the matcher's candidates and a flow direction's list of rules without a fast pattern all rest on it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Endpoint, Flow } from '../src/flow/flow.js';
import { directionFlowClasses, flowClasses, flowMatches, subjectFlowClass } from '../src/keywords/non-payload.js';
import type { FlowTest } from '../src/match/plan.js';
import { makeSubject } from '../src/match/subject.js';
import { tcpPacket } from './helpers/match.js';

const test = fc.record({ toServer: fc.boolean(), toClient: fc.boolean(), established: fc.boolean(), notEstablished: fc.boolean() });
const subject = fc.record({ session: fc.boolean(), fromClient: fc.boolean(), established: fc.boolean(), udp: fc.boolean(), fragment: fc.boolean() });

describe('flow classes', () => {
  it("a test's four direction and state flags pass a subject exactly when its classes hold the subject's class", () => {
    fc.assert(
      fc.property(test, fc.option(test, { nil: undefined }), subject, (t, maybe, sub) => {
        const packet = sub.udp
          ? tcpPacket('x', { udp: { sport: 40000, dport: 53 } })
          : tcpPacket('x', { tcp: { sport: 40000, dport: 80, flags: 'PA', seq: 1, ack: 1, window: 512 } });
        if (sub.fragment) packet.ip!.isFragment = true;
        const ip = packet.ip!;
        const flow = sub.session
          ? new Flow(sub.udp ? 'udp' : 'tcp', ip.proto, 0, 0, new Endpoint(ip.src, 40000), new Endpoint(ip.dst, 80), 0, 'established', false)
          : undefined;
        if (flow !== undefined) flow.established = sub.established;
        const s = makeSubject(packet, { flow, fromClient: sub.fromClient, established: sub.established });
        for (const f of [t, maybe] as (FlowTest | undefined)[]) {
          const inClass = ((flowClasses(f) >> subjectFlowClass(s)) & 1) === 1;
          expect(inClass).toBe(f === undefined || flowMatches(f, s));
        }
        // a session's subjects are of one of its direction's two classes
        if (flow !== undefined) expect((directionFlowClasses(sub.fromClient) >> subjectFlowClass(s)) & 1).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });
});
