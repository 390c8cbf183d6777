/** Made-up flows, alerts and firewall lines for the store's tests (the corpus tests import real captures). */
import type { FlowRecord } from '../../src/flow/recorder.js';
import type { AlertEvent } from '../../src/output/alert.js';
import type { FirewallEvent } from '../../src/store/writer.js';

export function flowRecord(o: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 1,
    proto: 6,
    vlan: 0,
    clientIp: '10.0.0.5',
    clientPort: 40000,
    serverIp: '198.51.100.7',
    serverPort: 80,
    icmpType: -1,
    icmpCode: -1,
    communityId: '1:x',
    startSec: 1_700_000_000,
    startUsec: 0,
    endSec: 1_700_000_001,
    endUsec: 0,
    pktsToServer: 3,
    pktsToClient: 2,
    bytesToServer: 300,
    bytesToClient: 200,
    tcpFlagsTs: 0x1b,
    tcpFlagsTc: 0x1b,
    tcpState: 'closed',
    state: 'closed',
    reason: 'timeout',
    appProto: undefined,
    payloadBytes: 100,
    midstream: false,
    firstIndex: 0,
    lastIndex: 4,
    spans: [{ capture: 1, first: 24, last: 400, packets: 5, offsets: [24, 100, 200, 300, 400] }],
    ...o,
  };
}

export function alertEvent(o: Partial<AlertEvent> = {}): AlertEvent {
  return {
    tsSec: 1_700_000_000,
    tsUsec: 500,
    gid: 1,
    sid: 1000,
    rev: 1,
    msg: 'test alert',
    priority: 2,
    action: 'alert',
    blocked: false,
    replaced: false,
    proto: 'TCP',
    src: '10.0.0.5',
    dst: '198.51.100.7',
    sport: 40000,
    dport: 80,
    ...o,
  };
}

/** An inbound firewall line to the honeypot's SSH port (what the spool's and the central store's tests fill stores with). */
export function firewallEvent(o: Partial<FirewallEvent> = {}): FirewallEvent {
  return {
    tsUs: 1_700_000_000_000_000,
    kind: 'inbound',
    prefix: 'INBOUND',
    proto: 'TCP',
    srcIp: '198.51.100.7',
    srcPort: 4000,
    dstIp: '10.0.0.5',
    dstPort: 22,
    inIface: 'eth0',
    outIface: 'eth1',
    length: 60,
    honeypot: '10.0.0.5',
    sensor: 'gw',
    line: 'line',
    ...o,
  };
}
