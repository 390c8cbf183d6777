/**
 * The Honeywall bridge firewall (successor of roo's rc.firewall) as a filter-table ruleset.
 *
 * FORWARD, in order: BlackList, WhiteList, FenceList (LAN-originated), broadcast, inbound (logged per
 * protocol, accepted, never queued), Sebek fate, DHCP, legal DNS, honeypot -> honeypot, LAN
 * established -> IPS queue, then either roach-motel drop or per-honeypot per-protocol connection
 * limits feeding the handler chains. INPUT/OUTPUT lock the gateway down to the management interface.
 */
import { dropPrefix, type HoneywallConfig, type Proto } from '../../config/honeywall-conf.js';
import type { NetAddress } from '../../config/net-address.js';
import { Ruleset, type Family } from './ruleset.js';

const PROTOS: readonly Proto[] = ['tcp', 'udp', 'icmp', 'other'];
const HANDLER: Record<Proto, string> = { tcp: 'tcpHandler', udp: 'udpHandler', icmp: 'icmpHandler', other: 'otherHandler' };
/** IPv6 neighbour discovery (router/neighbour solicitation and advertisement, redirect) must cross the bridge. */
const ND_TYPES = [133, 134, 135, 136, 137];
/** multiport takes at most 15 ports per rule. */
const MULTIPORT_MAX = 15;

export function buildRuleset(config: HoneywallConfig, family: Family): Ruleset {
  const rs = new Ruleset(family);
  const emit = new Emitter(config, rs);
  if (family === 6 && !config.ipv6) emit.ipv6Disabled();
  else emit.full();
  return rs;
}

class Emitter {
  private readonly family: Family;
  constructor(
    private readonly c: HoneywallConfig,
    private readonly rs: Ruleset,
  ) {
    this.family = rs.family;
  }

  private get honeypots(): NetAddress[] {
    return this.family === 4 ? this.c.honeypots : this.c.honeypots6;
  }

  private of(list: readonly NetAddress[]): NetAddress[] {
    return list.filter((a) => a.family === this.family);
  }

  private log(prefix: string): string[] {
    const p = this.c.logPrefix + prefix;
    return this.c.logTarget === 'nflog'
      ? ['-j', 'NFLOG', '--nflog-group', String(this.c.nflogGroup), '--nflog-prefix', p]
      : ['-j', 'LOG', '--log-prefix', p, '--log-level', 'debug'];
  }

  /**
   * Where outbound traffic goes: the IPS queue (fail-closed unless HwFAIL_OPEN) or straight out.
   * With HwQUEUE_BALANCE the kernel spreads flows over FIRST..LAST (one flow stays on one queue).
   */
  private ips(): string[] {
    if (!this.c.queue) return ['-j', 'ACCEPT'];
    const b = this.c.queueBalance;
    const target = b ? ['--queue-balance', `${b.first}:${b.last}`] : ['--queue-num', String(this.c.queueNum)];
    return ['-j', 'NFQUEUE', ...target, ...(this.c.failOpen ? ['--queue-bypass'] : [])];
  }

  private proto(p: Proto): string[] {
    if (p === 'other') return [];
    if (p === 'icmp') return ['-p', this.family === 4 ? 'icmp' : 'ipv6-icmp'];
    return ['-p', p];
  }

  private physIn(iface: string): string[] {
    return ['-m', 'physdev', '--physdev-in', iface];
  }

  private scaleUnit(): string {
    return this.c.scale;
  }

  private static readonly NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
  private static readonly EST = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'];

  ipv6Disabled(): void {
    const rs = this.rs;
    rs.append('INPUT', '-i', 'lo', '-j', 'ACCEPT');
    rs.append('OUTPUT', '-o', 'lo', '-j', 'ACCEPT');
    // No IPv6 honeypots: nothing IPv6 crosses the bridge (it would bypass all counting otherwise).
    rs.append('FORWARD', ...Emitter.NEW, '-m', 'limit', '--limit', '1/second', '--limit-burst', '5', ...this.log('DROP IPv6: '));
  }

  full(): void {
    this.gateway();
    this.forward();
  }

  /** INPUT/OUTPUT: loopback, and the management interface for the manager's networks only. */
  private gateway(): void {
    const { rs, c } = this;
    const manage = c.manageIface;
    const managers = this.family === 4 ? c.manager : c.manager6;
    const manageIp = this.family === 4 ? c.manageIp : c.manageIp6;
    rs.append('INPUT', '-i', 'lo', '-j', 'ACCEPT');
    rs.append('OUTPUT', '-o', 'lo', '-j', 'ACCEPT');
    if (this.family === 6) {
      for (const t of ND_TYPES) {
        rs.append('INPUT', '-i', manage, '-p', 'ipv6-icmp', '--icmpv6-type', t, '-j', 'ACCEPT');
        rs.append('OUTPUT', '-o', manage, '-p', 'ipv6-icmp', '--icmpv6-type', t, '-j', 'ACCEPT');
      }
    }
    rs.append('INPUT', '-i', manage, ...Emitter.EST, '-j', 'ACCEPT');
    const inPorts = [c.sshdPort, ...c.allowedTcpIn.filter((p) => p !== c.sshdPort)];
    for (const mgr of managers) {
      for (const ports of chunks(inPorts)) {
        rs.append(
          'INPUT',
          '-i',
          manage,
          '-s',
          mgr.text,
          ...(manageIp ? ['-d', manageIp.text] : []),
          '-p',
          'tcp',
          '-m',
          'multiport',
          '--dports',
          ports.join(','),
          ...Emitter.NEW,
          '-j',
          'ACCEPT',
        );
      }
    }
    rs.append('OUTPUT', '-o', manage, ...Emitter.EST, '-j', 'ACCEPT');
    if (c.restrict) {
      for (const [proto, list] of [
        ['tcp', c.allowedTcpOut],
        ['udp', c.allowedUdpOut],
      ] as const) {
        for (const ports of chunks(list)) {
          rs.append('OUTPUT', '-o', manage, '-p', proto, '-m', 'multiport', '--dports', ports.join(','), ...Emitter.NEW, '-j', 'ACCEPT');
        }
      }
    } else {
      rs.append('OUTPUT', '-o', manage, '-j', 'ACCEPT');
    }
  }

  private forward(): void {
    const { rs, c } = this;
    const lan = this.physIn(c.lanIface);
    const inet = this.physIn(c.inetIface);

    if (this.family === 6) {
      for (const t of ND_TYPES) rs.append('FORWARD', '-p', 'ipv6-icmp', '--icmpv6-type', t, '-j', 'ACCEPT');
    }

    if (c.blackList.enabled) {
      rs.chain('BlackList');
      for (const e of this.of(c.blackList.entries)) {
        rs.append('BlackList', '-s', e.text, '-j', 'DROP');
        rs.append('BlackList', '-d', e.text, '-j', 'DROP');
      }
      rs.append('FORWARD', '-j', 'BlackList');
    }
    if (c.whiteList.enabled) {
      rs.chain('WhiteList');
      for (const e of this.of(c.whiteList.entries)) {
        rs.append('WhiteList', '-s', e.text, '-j', 'ACCEPT');
        rs.append('WhiteList', '-d', e.text, '-j', 'ACCEPT');
      }
      rs.append('FORWARD', '-j', 'WhiteList');
    }
    if (c.fenceList.enabled) {
      rs.chain('FenceList');
      for (const e of this.of(c.fenceList.entries)) {
        rs.append('FenceList', '-d', e.text, ...this.log('BOUNCED OFF Fence: '));
        rs.append('FenceList', '-d', e.text, '-j', 'DROP');
      }
      rs.append('FORWARD', ...lan, '-j', 'FenceList');
    }

    if (this.family === 4) {
      if (c.lanBroadcast) rs.append('FORWARD', '-d', c.lanBroadcast.text, '-j', 'ACCEPT');
      rs.append('FORWARD', '-d', '255.255.255.255', '-j', 'ACCEPT');
    }

    // Inbound: every new connection logged per protocol, then accepted (never queued).
    rs.chain('InboundLog');
    for (const p of PROTOS) {
      rs.append('InboundLog', ...this.proto(p), ...Emitter.NEW, ...this.log(`INBOUND ${p.toUpperCase()}: `));
      if (p !== 'other') rs.append('InboundLog', ...this.proto(p), '-j', 'RETURN');
    }
    rs.append('FORWARD', ...inet, '-j', 'InboundLog');
    rs.append('FORWARD', ...inet, '-j', 'ACCEPT');

    if (this.family === 4 && c.sebek && c.sebekDstIp) {
      const match = ['-p', 'udp', '-d', c.sebekDstIp.text, '--dport', String(c.sebekDstPort)];
      if (c.sebekLog) rs.append('FORWARD', ...lan, ...match, ...this.log('SEBEK: '));
      rs.append('FORWARD', ...lan, ...match, '-j', c.sebekFate);
    }

    const dhcp = this.family === 4 ? ['--sport', '68', '--dport', '67'] : ['--sport', '546', '--dport', '547'];
    rs.append('FORWARD', ...lan, '-p', 'udp', ...dhcp, ...this.log('DHCP OUT REQUEST: '));
    rs.append('FORWARD', ...lan, '-p', 'udp', ...dhcp, '-j', 'ACCEPT');

    const dnsHosts = this.family === 4 ? c.dnsHosts : c.honeypots6;
    const dnsServers: Array<NetAddress | null> = this.family === 4 ? c.dnsServers : c.dnsServers6;
    // Roach motel: no new outbound connection at all, so no uncounted DNS either.
    for (const host of c.roachMotel ? [] : dnsHosts) {
      for (const server of dnsServers.length > 0 ? dnsServers : [null]) {
        for (const proto of ['udp', 'tcp']) {
          const match = [...lan, '-p', proto, '-s', host.text, ...(server ? ['-d', server.text] : []), '--dport', '53'];
          rs.append('FORWARD', ...match, ...Emitter.NEW, ...this.log('Legal DNS: '));
          rs.append('FORWARD', ...match, '-j', 'ACCEPT');
        }
      }
    }

    const h2h = ['-m', 'physdev', '--physdev-in', c.lanIface, '--physdev-out', c.lanIface];
    rs.append('FORWARD', ...h2h, ...Emitter.NEW, ...this.log('Honeypot -> Honeypot: '));
    rs.append('FORWARD', ...h2h, '-j', 'ACCEPT');

    // Established outbound traffic goes to the IPS too: nothing leaves while it is down.
    rs.append('FORWARD', ...lan, ...Emitter.EST, ...this.ips());

    if (c.roachMotel) {
      rs.append('FORWARD', ...lan, ...Emitter.NEW, '-m', 'limit', '--limit', '1/second', '--limit-burst', '5', ...this.log('ROACH MOTEL: '));
      rs.append('FORWARD', ...lan, ...Emitter.NEW, '-j', 'DROP');
      return;
    }

    for (const p of PROTOS) {
      rs.chain(HANDLER[p]);
      rs.append(HANDLER[p], ...this.log(`OUTBOUND ${p.toUpperCase()}: `));
      rs.append(HANDLER[p], ...this.ips());
    }
    for (const hp of this.honeypots) {
      for (const p of PROTOS) {
        const rate = c.rates[p];
        const match = [...lan, '-s', hp.text, ...this.proto(p), ...Emitter.NEW];
        if (rate > 0) {
          rs.append('FORWARD', ...match, '-m', 'limit', '--limit', `${rate}/${this.scaleUnit()}`, '--limit-burst', rate, '-j', HANDLER[p]);
        }
        rs.append('FORWARD', ...match, '-m', 'limit', '--limit', `1/${this.scaleUnit()}`, '--limit-burst', '1', ...this.log(dropPrefix(p, rate)));
        rs.append('FORWARD', ...match, '-j', 'DROP');
      }
    }
  }
}

function chunks(ports: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ports.length; i += MULTIPORT_MAX) out.push(ports.slice(i, i + MULTIPORT_MAX));
  return out;
}
