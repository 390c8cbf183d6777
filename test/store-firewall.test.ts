/**
 * Firewall log entries as store rows: the kind from the roo prefix (with or without the operator's HwLOG_PREFIX),
 * the addresses and ports from the logged datagram, the honeypot, and the counts they add to their minute.
 */
import { describe, expect, it } from 'vitest';
import { buildIp } from '../src/packet/build.js';
import { formatFirewallLine, type LoggedPacket } from '../src/runtime/firewall-log.js';
import { openStore } from '../src/store/db.js';
import { firewallEvent, firewallKind } from '../src/store/firewall.js';
import { HoneypotSet } from '../src/store/honeypots.js';
import { StoreWriter } from '../src/store/writer.js';

const honeypots = HoneypotSet.parse('10.0.0.0/24') as HoneypotSet;
const ifname = (i: number) => ['', 'br0', 'eth0', 'eth1'][i] ?? `if${i}`;

describe('firewall events', () => {
  it('kinds from the rc.firewall prefixes', () => {
    const cases: [string, string][] = [
      ['INBOUND TCP: ', 'inbound'],
      ['OUTBOUND UDP: ', 'outbound'],
      ['Drop TCP > 20 attempts', 'limit'],
      ['hw1 Drop ICMP > 50 attempts', 'limit'],
      ['ROACH MOTEL: ', 'limit'],
      ['BOUNCED OFF Fence: ', 'fence'],
      ['SEBEK: ', 'sebek'],
      ['DHCP OUT REQUEST: ', 'dhcp'],
      ['Legal DNS: ', 'dns'],
      ['hw1 OUTBOUND ICMP: ', 'outbound'],
      ['Honeypot -> Honeypot: ', 'other'],
    ];
    for (const [prefix, kind] of cases) expect(firewallKind(prefix), prefix).toBe(kind);
  });

  it('a logged packet becomes a row with its fields, and counts in its minute', () => {
    const data = buildIp({ ip: { src: '10.0.0.5', dst: '203.0.113.9' }, tcp: { sport: 40000, dport: 6667, flags: 'S' } });
    const p: LoggedPacket = { prefix: 'OUTBOUND TCP: ', data, indev: 1, outdev: 1, physindev: 3, physoutdev: 2, tsSec: 1_700_000_000 };
    const line = formatFirewallLine(p, { host: 'hw', ifname });
    const e = firewallEvent(p, line, ifname, honeypots, 'gw1', 250);
    expect(e).toEqual({
      tsUs: 1_700_000_000_000_250,
      kind: 'outbound',
      prefix: 'OUTBOUND TCP:',
      proto: 'TCP',
      srcIp: '10.0.0.5',
      srcPort: 40000,
      dstIp: '203.0.113.9',
      dstPort: 6667,
      inIface: 'br0',
      outIface: 'br0',
      length: data.length,
      honeypot: '10.0.0.5',
      sensor: 'gw1',
      line,
    });
    const db = openStore(':memory:');
    const w = new StoreWriter(db);
    w.firewall(e);
    w.firewall({ ...e, kind: 'limit', prefix: 'Drop TCP > 20 attempts' });
    w.flush();
    expect(db.prepare('SELECT kind, src_port, line FROM firewall_events ORDER BY id').all()).toEqual([
      { kind: 'outbound', src_port: 40000, line },
      { kind: 'limit', src_port: 40000, line },
    ]);
    expect(db.prepare('SELECT honeypot, firewall, limits FROM minutes').all()).toEqual([{ honeypot: '10.0.0.5', firewall: 2, limits: 1 }]);
    db.close();
  });
});
