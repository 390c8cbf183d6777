/**
 * The seed paper's test plan (Data Control, first half) on a real bridge: network namespaces, the
 * real kernel, the emitted rules loaded by apply.sh. Delivered connections are counted at the
 * receiving host; log lines are read from NFLOG in the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CounterServer, pings, tcpConnects, udpSends } from './honeynet/agents.js';
import { applyFirewall, rebootGateway, type AppliedFirewall } from './honeynet/firewall.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Honeynet, type NodeName } from './honeynet/honeynet.js';
import { NflogCapture } from './honeynet/nflog.js';
import { haveCommand } from './honeynet/scratch-netns.js';

const availability = Honeynet.availability();
if (!availability.ok) {
  console.warn(`firewall honeynet tests skipped: ${availability.reason}`);
}

const GROUP = 7;
const TCPRATE = 3;
const UDPRATE = 2;
const ICMPRATE = 2;
const OTHERRATE = 1;
const SEBEK_IP = '10.0.0.253';

const baseConf = (extra: string) => `# test honeynet config
HwHPOT_PUBLIC_IP="10.0.0.20 10.0.0.21"
HwSCALE=minute
HwTCPRATE=${TCPRATE}
HwUDPRATE=${UDPRATE}
HwICMPRATE=${ICMPRATE}
HwOTHERRATE=${OTHERRATE}
HwNFLOG_GROUP=${GROUP}
HwSEBEK=yes
HwSEBEK_DST_IP=${SEBEK_IP}
HwSEBEK_DST_PORT=1101
HwSEBEK_LOG=yes
HwMANAGER=10.10.10.0/24
HwMANAGE_IP=10.10.10.66
HwSSHD_PORT=22
HwALLOWED_TCP_IN=443
HwRESTRICT=yes
HwALLOWED_TCP_OUT="80"
${extra}
`;

/** Raw IP protocol 253 (an OTHER protocol): socat receiver and sender. */
async function otherReceiver(net: Honeynet, node: NodeName): Promise<{ count: () => number; stop: () => void }> {
  const child = net.spawn(node, ['socat', '-u', 'IP4-RECV:253', '-']);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((r) => setTimeout(r, 300));
  return { count: () => (text.match(/other-\d+/g) ?? []).length, stop: () => child.kill('SIGKILL') };
}

async function sendOther(net: Honeynet, node: NodeName, host: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await net.exec(node, ['socat', '-u', '-', `IP4-SENDTO:${host}:253`], { input: `other-${i}\n` });
  }
}

const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

/** Every Data Control check; run after the first load and again after a reboot. */
async function dataControlChecks(net: Honeynet): Promise<void> {
  const hp0 = net.addr.honeypots[0]!;
  const hp1 = net.addr.honeypots[1]!;
  const outside = net.addr.outside;
  const log = await NflogCapture.start(net, 'gateway', GROUP);
  const outsideSrv = await CounterServer.start(net, 'outside', { tcp: [80, 21], udp: [5000, 1101, 1102] });
  const hpSrv = await CounterServer.start(net, 'honeypot0', { tcp: [21], udp: [7], echoUdp: true });
  const gwSrv = await CounterServer.start(net, 'gateway', { tcp: [22, 443, 8080] });
  const mgrSrv = await CounterServer.start(net, 'manager', { tcp: [80, 8081] });
  const other = await otherReceiver(net, 'outside');
  try {
    // Inbound: allowed and logged.
    expect(await tcpConnects(net, 'outside', hp0, 21, 2)).toEqual({ ok: 2, fail: 0 });
    expect((await udpSends(net, 'outside', hp0, 7, 1, { replyMs: 1000 })).replies).toBe(1);
    await hpSrv.settle();
    expect(hpSrv.count('tcp', 21, outside)).toBe(2);
    expect(hpSrv.count('udp', 7, outside)).toBe(1);
    expect((await log.waitFor('INBOUND TCP: ', 2)).filter((e) => e.dst === hp0 && e.dport === 21)).toHaveLength(2);
    expect((await log.waitFor('INBOUND UDP: ', 1)).filter((e) => e.dst === hp0 && e.dport === 7)).toHaveLength(1);

    // Sebek packets never leave; the same collector address on another port does (uncounted by sebek rules).
    await udpSends(net, 'honeypot0', SEBEK_IP, 1101, 2);
    await udpSends(net, 'honeypot1', SEBEK_IP, 1102, 1);
    await outsideSrv.settle();
    expect(outsideSrv.count('udp', 1101)).toBe(0);
    expect(outsideSrv.count('udp', 1102, hp1)).toBe(1);
    expect(await log.waitFor('SEBEK: ', 2)).toHaveLength(2);

    // Outbound TCP: exactly TCPRATE connections within the scale, the rest dropped and logged once.
    expect(await tcpConnects(net, 'honeypot0', outside, 80, TCPRATE + 3)).toEqual({ ok: TCPRATE, fail: 3 });
    await outsideSrv.settle();
    expect(outsideSrv.count('tcp', 80, hp0)).toBe(TCPRATE);
    expect((await log.waitFor('OUTBOUND TCP: ', TCPRATE)).filter((e) => e.src === hp0)).toHaveLength(TCPRATE);
    expect((await log.waitFor(`Drop TCP > ${TCPRATE} attempts `, 1)).filter((e) => e.src === hp0 && e.dport === 80)).toHaveLength(1);
    // Limits are per honeypot: the second one still has its own TCP budget.
    expect(await tcpConnects(net, 'honeypot1', outside, 21, 1)).toEqual({ ok: 1, fail: 0 });

    // UDP and ICMP still work (TCP is exhausted) until their own limits.
    await udpSends(net, 'honeypot0', outside, 5000, UDPRATE + 2);
    await outsideSrv.settle();
    expect(outsideSrv.count('udp', 5000, hp0)).toBe(UDPRATE);
    expect(await log.waitFor(`Drop udp > ${UDPRATE} attempts `, 1)).toHaveLength(1);
    expect(await pings(net, 'honeypot0', outside, ICMPRATE + 2)).toBe(ICMPRATE);
    expect(await log.waitFor(`Drop icmp > ${ICMPRATE} attempts `, 1)).toHaveLength(1);

    // OTHER (IP protocol 253) has its own limit too.
    await sendOther(net, 'honeypot0', outside, OTHERRATE + 2);
    await settle();
    expect(other.count()).toBe(OTHERRATE);
    expect(await log.waitFor('OUTBOUND OTHER: ', OTHERRATE)).toHaveLength(OTHERRATE);

    // Management: only the manager's network, only the allowed ports.
    const mgr = net.addr.gatewayManage;
    expect(await tcpConnects(net, 'manager', mgr, 22, 1)).toEqual({ ok: 1, fail: 0 });
    expect(await tcpConnects(net, 'manager', mgr, 443, 1)).toEqual({ ok: 1, fail: 0 });
    expect(await tcpConnects(net, 'manager', mgr, 8080, 1)).toEqual({ ok: 0, fail: 1 });
    expect(await tcpConnects(net, 'manager', mgr, 22, 1, { source: net.addr.managerForeign })).toEqual({ ok: 0, fail: 1 });
    await gwSrv.settle();
    expect(gwSrv.count('tcp', 22, net.addr.manager)).toBe(1);
    expect(gwSrv.count('tcp', 443, net.addr.manager)).toBe(1);
    expect(gwSrv.count('tcp', 8080)).toBe(0);
    expect(gwSrv.count('tcp', 22, net.addr.managerForeign)).toBe(0);
    // HwRESTRICT: the gateway itself may open only HwALLOWED_TCP_OUT on the management side.
    expect(await tcpConnects(net, 'gateway', net.addr.manager, 80, 1)).toEqual({ ok: 1, fail: 0 });
    expect(await tcpConnects(net, 'gateway', net.addr.manager, 8081, 1)).toEqual({ ok: 0, fail: 1 });
    await mgrSrv.settle();
    expect(mgrSrv.count('tcp', 80)).toBe(1);
    expect(mgrSrv.count('tcp', 8081)).toBe(0);
  } finally {
    for (const s of [outsideSrv, hpSrv, gwSrv, mgrSrv, log, other]) s.stop();
  }
}

describe.skipIf(!availability.ok)('honeywall firewall in a namespace honeynet', () => {
  it('has the tools it needs (Debian: iptables iproute2 socat tcpdump iputils-ping)', () => {
    const tools = ['iptables-restore', 'ip6tables-restore', 'iptables-save', 'ip', 'sysctl', 'socat', 'tcpdump', 'ping'];
    expect(tools.filter((t) => !haveCommand(t))).toEqual([]);
  });

  describe('data control without IPS queue (HwQUEUE=no)', () => {
    let net: Honeynet;
    let fw: AppliedFirewall | undefined;
    beforeAll(async () => {
      net = await Honeynet.create({ honeypots: 2, bridge: false });
      // The outside host also plays the Sebek collector's address, so a leak would be seen.
      await net.addAddress('outside', `${SEBEK_IP}/24`);
    });
    afterAll(async () => {
      fw?.cleanup();
      await net?.destroy();
    });

    it('inbound, outbound limits per protocol, Sebek, management; then again after a reboot', async () => {
      fw = await applyFirewall(net, baseConf('HwQUEUE=no'), { bridge: true });
      // The rules are live in the gateway only; bridge netfilter is on there.
      const sysctl = await net.exec('gateway', ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']);
      expect(sysctl.stdout.trim()).toBe('1');
      await dataControlChecks(net);

      await rebootGateway(net);
      // Freshly booted and unconfigured, the bridge does not exist: nothing passes.
      expect(await tcpConnects(net, 'outside', net.addr.honeypots[0]!, 21, 1)).toEqual({ ok: 0, fail: 1 });
      const r = await fw.reapply({ bridge: true });
      expect(r.stdout).toContain('loaded');
      await dataControlChecks(net);
    }, 120_000);
  });

  describe('IPS queue (HwQUEUE=yes) with no IPS running', () => {
    let net: Honeynet;
    const applied: AppliedFirewall[] = [];
    beforeAll(async () => {
      net = await Honeynet.create({ honeypots: 2 });
    });
    afterAll(async () => {
      for (const fw of applied) fw.cleanup();
      await net?.destroy();
    });

    it('fails closed: inbound arrives, nothing outbound (new or established) passes', async () => {
      applied.push(await applyFirewall(net, baseConf('HwQUEUE=yes\nHwQUEUE_NUM=3')));
      const hp0 = net.addr.honeypots[0]!;
      const outsideSrv = await CounterServer.start(net, 'outside', { tcp: [80] });
      const hpSrv = await CounterServer.start(net, 'honeypot0', { tcp: [21], udp: [7], echoUdp: true });
      try {
        // Inbound UDP arrives, the honeypot's (established) reply does not get out.
        expect((await udpSends(net, 'outside', hp0, 7, 2, { replyMs: 800 })).replies).toBe(0);
        // Inbound TCP: the SYN arrives but the SYN-ACK is queued to nobody, so no connection.
        expect(await tcpConnects(net, 'outside', hp0, 21, 1)).toEqual({ ok: 0, fail: 1 });
        // Outbound new connections: nothing reaches the outside host.
        expect(await tcpConnects(net, 'honeypot0', net.addr.outside, 80, 2)).toEqual({ ok: 0, fail: 2 });
        await hpSrv.settle();
        await outsideSrv.settle();
        expect(hpSrv.count('udp', 7, net.addr.outside)).toBe(2);
        expect(hpSrv.count('tcp', 21)).toBe(0);
        expect(outsideSrv.count('tcp', 80)).toBe(0);
      } finally {
        outsideSrv.stop();
        hpSrv.stop();
      }
    }, 60_000);

    it('with HwFAIL_OPEN=yes the same traffic passes (--queue-bypass): the check above can fail', async () => {
      applied.push(await applyFirewall(net, baseConf('HwQUEUE=yes\nHwQUEUE_NUM=3\nHwFAIL_OPEN=yes')));
      const hp0 = net.addr.honeypots[0]!;
      const outsideSrv = await CounterServer.start(net, 'outside', { tcp: [80] });
      const hpSrv = await CounterServer.start(net, 'honeypot0', { udp: [7], echoUdp: true });
      try {
        expect((await udpSends(net, 'outside', hp0, 7, 1, { replyMs: 1000 })).replies).toBe(1);
        expect(await tcpConnects(net, 'honeypot0', net.addr.outside, 80, 1)).toEqual({ ok: 1, fail: 0 });
        await outsideSrv.settle();
        expect(outsideSrv.count('tcp', 80, hp0)).toBe(1);
      } finally {
        outsideSrv.stop();
        hpSrv.stop();
      }
    }, 60_000);

    it('apply.sh loads atomically and rolls back when a rules file is rejected', async () => {
      const fw = await applyFirewall(net, baseConf('HwQUEUE=no'));
      applied.push(fw);
      const save = async (v: 4 | 6) =>
        (await net.exec('gateway', `\${${v === 4 ? 'IPTABLES_SAVE:-iptables-save' : 'IP6TABLES_SAVE:-ip6tables-save'}} -t filter`)).stdout
          .split('\n')
          .filter((l) => l.startsWith('-A') || l.startsWith(':'))
          .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
      const before4 = await save(4);
      const before6 = await save(6);
      expect(before4.some((l) => l.includes(`--limit ${TCPRATE}/min`))).toBe(true);
      const rules = path.join(fw.dir, 'honeywall.rules');
      const rules6 = path.join(fw.dir, 'honeywall6.rules');
      const good4 = readFileSync(rules, 'utf8');
      const good6 = readFileSync(rules6, 'utf8');

      // A valid new IPv4 table but a rejected IPv6 one: the IPv4 table goes back to what it was.
      writeFileSync(rules, good4.replaceAll(`--limit ${TCPRATE}/minute --limit-burst ${TCPRATE} `, '--limit 9/minute --limit-burst 9 '));
      writeFileSync(rules6, good6.replace('COMMIT', '-A FORWARD -j NO_SUCH_CHAIN\nCOMMIT'));
      const r6 = await fw.reapply({ allowFail: true });
      expect(r6.code).toBe(1);
      expect(r6.stderr).toContain('IPv4 rules rolled back');
      expect(await save(4)).toEqual(before4);
      expect(await save(6)).toEqual(before6);

      // A rejected IPv4 table: nothing changes at all (iptables-restore is one transaction).
      writeFileSync(rules, good4.replace('COMMIT', '-A FORWARD -m limit --limit-burst 20000 -j ACCEPT\nCOMMIT'));
      writeFileSync(rules6, good6);
      const r4 = await fw.reapply({ allowFail: true });
      expect(r4.code).toBe(1);
      expect(await save(4)).toEqual(before4);
      // And the honeypot still gets exactly its budget under the old rules.
      const srv = await CounterServer.start(net, 'outside', { tcp: [80] });
      try {
        expect(await tcpConnects(net, 'honeypot1', net.addr.outside, 80, TCPRATE + 1)).toEqual({ ok: TCPRATE, fail: 1 });
      } finally {
        srv.stop();
      }
    }, 60_000);

    it('roach motel: inbound still works, no new outbound connection leaves', async () => {
      applied.push(await applyFirewall(net, baseConf('HwQUEUE=no\nHwROACHMOTEL_ENABLE=yes')));
      const hp0 = net.addr.honeypots[0]!;
      const outsideSrv = await CounterServer.start(net, 'outside', { tcp: [80], udp: [5000] });
      const hpSrv = await CounterServer.start(net, 'honeypot0', { tcp: [21] });
      try {
        expect(await tcpConnects(net, 'outside', hp0, 21, 1)).toEqual({ ok: 1, fail: 0 });
        expect(await tcpConnects(net, 'honeypot0', net.addr.outside, 80, 2)).toEqual({ ok: 0, fail: 2 });
        await udpSends(net, 'honeypot0', net.addr.outside, 5000, 2);
        await outsideSrv.settle();
        expect(outsideSrv.count('tcp', 80)).toBe(0);
        expect(outsideSrv.count('udp', 5000)).toBe(0);
      } finally {
        outsideSrv.stop();
        hpSrv.stop();
      }
    }, 60_000);
  });
});
