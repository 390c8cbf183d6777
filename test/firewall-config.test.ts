import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, formatDiagnostic, loadHoneywallConf, parseHoneywallConf } from '../src/config/honeywall-conf.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundled = path.join(repoRoot, 'rulesets', 'honeywall.conf');

const errorsOf = (text: string, file = 'hw.conf') =>
  parseHoneywallConf(text, file, () => ({ error: 'no such file' }))
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

describe('honeywall.conf reader', () => {
  it('the bundled config sets exactly the defaults (so it documents them truthfully)', () => {
    const fromFile = loadHoneywallConf(bundled);
    expect(fromFile.diagnostics).toEqual([]);
    const fromNothing = parseHoneywallConf('', bundled);
    expect(fromNothing.diagnostics).toEqual([]);
    expect(fromFile.config).toEqual(fromNothing.config);
    // Every known variable appears in the bundled file.
    const text = readFileSync(bundled, 'utf8');
    for (const name of Object.keys(DEFAULTS)) expect(text).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('reads the roo defaults', () => {
    const { config } = parseHoneywallConf('', 'hw.conf');
    expect(config).not.toBeNull();
    expect(config!.manager.map((a) => a.text)).toEqual(['10.10.10.0/24']);
    expect(config!.honeypots.map((a) => a.text)).toEqual(['10.0.0.20']);
    expect(config!.rates).toEqual({ tcp: 20, udp: 20, icmp: 50, other: 10 });
    expect(config!.scale).toBe('hour');
    expect(config!.queue).toBe(true);
    expect(config!.failOpen).toBe(false);
    expect(config!.allowedTcpOut).toEqual([22, 25, 43, 80, 443]);
    expect(config!.allowedUdpOut).toEqual([53, 123]);
    expect(config!.sebekDstIp?.text).toBe('10.0.0.253');
    expect(config!.dnsServers).toEqual([]);
    expect(config!.dnsHosts).toEqual(config!.honeypots);
  });

  it('accepts roo files as they are: quotes, comments, other roo settings, export', () => {
    const text = [
      '# /etc/honeywall.conf',
      'HwHOSTNAME=honeywall',
      'HwHPOT_PUBLIC_IP="10.0.0.20 10.0.0.21"   ',
      "HwALLOWED_TCP_OUT='22 80'",
      'HwTCPRATE=15 # per day',
      'export HwSCALE=day',
      '',
      '  HwQUEUE=no',
    ].join('\n');
    const { config, diagnostics } = parseHoneywallConf(text, 'hw.conf');
    expect(diagnostics).toEqual([]);
    expect(config!.honeypots.map((a) => a.text)).toEqual(['10.0.0.20', '10.0.0.21']);
    expect(config!.allowedTcpOut).toEqual([22, 80]);
    expect(config!.rates.tcp).toBe(15);
    expect(config!.scale).toBe('day');
    expect(config!.queue).toBe(false);
    expect(config!.extra.HwHOSTNAME).toBe('honeywall');
  });

  it('warns (does not fail) on unknown Hw variables and duplicates', () => {
    const { config, diagnostics } = parseHoneywallConf('HwTCPRAT=5\nHwUDPRATE=3\nHwUDPRATE=4\n', 'hw.conf');
    expect(config!.rates.udp).toBe(4);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'hw.conf:1:1: warning unknown-variable: HwTCPRAT: not a firewall setting, ignored',
      'hw.conf:3:1: warning duplicate-variable: HwUDPRATE: set again (line 2 is overridden)',
    ]);
  });

  it.each([
    ['HwSCALE=fortnight', 'hw.conf:1:9: error invalid-value: HwSCALE: expected one of second, minute, hour, day'],
    ['HwTCPRATE=20000', "hw.conf:1:11: error invalid-value: HwTCPRATE: 20000 is over iptables' limit-burst maximum of 10000"],
    ['HwUDPRATE=-1', "hw.conf:1:11: error invalid-value: HwUDPRATE: expected a connection count (an integer 0..10000), got '-1'"],
    ['HwMANAGER=10.10.10.0/33', "hw.conf:1:11: error invalid-value: HwMANAGER: '10.10.10.0/33' has a bad prefix length (0..32)"],
    ['HwMANAGER="10.1.1.0/24 10.1.1.300"', "hw.conf:1:24: error invalid-value: HwMANAGER: '10.1.1.300' is not an IPv4 or IPv6 address"],
    ['HwDNS_SVRS=2001:db8::1', "hw.conf:1:12: error invalid-value: HwDNS_SVRS: '2001:db8::1' is an IPv6 address, expected IPv4"],
    ['HwHPOT_PUBLIC_IP=10.0.0.0/24', "hw.conf:1:18: error invalid-value: HwHPOT_PUBLIC_IP: '10.0.0.0/24' must be a single address"],
    [
      'HwLAN_IFACE=averyveryverylongname0',
      "hw.conf:1:13: error invalid-value: HwLAN_IFACE: interface name 'averyveryverylongname0' is 22 bytes long, the kernel allows at most 15 (IFNAMSIZ)",
    ],
    ['HwLAN_IFACE=eth0', "hw.conf:1:13: error invalid-value: HwLAN_IFACE: 'eth0' is also HwINET_IFACE; the interfaces must differ"],
    [
      'HwLOG_PREFIX="honeywall-site-a "',
      "hw.conf:1:15: error invalid-value: HwLOG_PREFIX: log prefix 'honeywall-site-a Drop other > 10 attempts ' would be 42 characters, over the 29-character limit",
    ],
    ['HwQUEUE_BALANCE=3:2', "hw.conf:1:17: error invalid-value: HwQUEUE_BALANCE: '3:2': LAST must be greater than FIRST"],
    [
      'HwQUEUE_BALANCE=4:4',
      "hw.conf:1:17: error invalid-value: HwQUEUE_BALANCE: '4:4': LAST must be greater than FIRST (iptables balances over two queues or more; for one, use HwQUEUE_NUM)",
    ],
    ['HwQUEUE_BALANCE=0:64', "hw.conf:1:17: error invalid-value: HwQUEUE_BALANCE: '0:64' spans 65 queues, at most 64"],
    ['HwQUEUE_BALANCE=65535:65536', "hw.conf:1:17: error invalid-value: HwQUEUE_BALANCE: '65535:65536': queue numbers go up to 65535"],
    ['HwQUEUE_BALANCE=2', "hw.conf:1:17: error invalid-value: HwQUEUE_BALANCE: expected FIRST:LAST (NFQUEUE numbers, e.g. 0:1), got '2'"],
    ['HwSSHD_PORT=70000', 'hw.conf:1:13: error invalid-value: HwSSHD_PORT: 70000 is out of range for a port (1..65535)'],
    ['HwALLOWED_TCP_OUT="22 http"', "hw.conf:1:23: error invalid-value: HwALLOWED_TCP_OUT: 'http' is not a port (1..65535)"],
    ['HwQUEUE=maybe', "hw.conf:1:9: error invalid-value: HwQUEUE: expected yes or no, got 'maybe'"],
    ['HwSEBEK_FATE=REJECT', 'hw.conf:1:14: error invalid-value: HwSEBEK_FATE: expected one of DROP, ACCEPT'],
    ['HwIPV6=yes', 'error invalid-value: HwHPOT_PUBLIC_IP6: at least one IPv6 honeypot address is required when HwIPV6=yes (default value)'],
    ['HwBWLIST_ENABLE=yes', "error invalid-value: HwFWBLACK: list file '/etc/blacklist.txt': no such file (default value)"],
    ['this is not a setting', "hw.conf:1:1: error syntax: expected VAR=VALUE, got 'this is not a setting'"],
    ['HwTCPRATE="15', 'hw.conf:1:11: error syntax: HwTCPRATE: unterminated or trailing text after quoted value'],
    ['HwTCPRATE=$(reboot)', 'hw.conf:1:11: error syntax: HwTCPRATE: unexpected quote or shell character'],
  ])('rejects %s with a located, named error', (line, expected) => {
    const errors = errorsOf(`${line}\n`);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.includes(expected))).toBe(true);
  });

  it("holds the log prefix limit with each prefix's trailing space counted: 29 characters pass, 30 do not", () => {
    // "Drop other > 10000 attempts " is the longest built-in prefix at 28 characters, trailing space included.
    expect(errorsOf('HwOTHERRATE=10000\nHwLOG_PREFIX=a\n')).toEqual([]);
    expect(errorsOf('HwOTHERRATE=10000\nHwLOG_PREFIX=ab\n')).toEqual([
      "hw.conf:2:14: error invalid-value: HwLOG_PREFIX: log prefix 'abDrop other > 10000 attempts ' would be 30 characters, over the 29-character limit of iptables' LOG target",
    ]);
  });

  it('reads HwQUEUE_BALANCE as a queue range and warns when HwQUEUE_NUM says otherwise', () => {
    const r = parseHoneywallConf('HwQUEUE_NUM=4\nHwQUEUE_BALANCE=2:5\n', 'hw.conf');
    expect(r.config!.queueBalance).toEqual({ first: 2, last: 5 });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([
      'hw.conf:1:13: warning ignored-setting: HwQUEUE_NUM: ignored, HwQUEUE_BALANCE=2:5 is in force',
    ]);
    const same = parseHoneywallConf('HwQUEUE_NUM=2\nHwQUEUE_BALANCE=2:5\n', 'hw.conf');
    expect(same.diagnostics).toEqual([]);
    expect(parseHoneywallConf('', 'hw.conf').config!.queueBalance).toBeNull();
  });

  it('points at the right line among many', () => {
    const errors = errorsOf('# comment\nHwTCPRATE=5\n\nHwSCALE=weekly\n');
    expect(errors).toEqual(["hw.conf:4:9: error invalid-value: HwSCALE: expected one of second, minute, hour, day, got 'weekly'"]);
  });

  describe('list files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hwconf-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads black/white/fence lists relative to the config, with comments and IPv6 entries', () => {
      writeFileSync(path.join(dir, 'black.txt'), '# bad actors\n192.0.2.0/24\n198.51.100.7  # one host\n\n2001:db8:bad::/48\n');
      writeFileSync(path.join(dir, 'white.txt'), '203.0.113.5\n');
      writeFileSync(path.join(dir, 'fence.txt'), '10.200.0.0/16\n');
      const conf = path.join(dir, 'honeywall.conf');
      writeFileSync(conf, 'HwBWLIST_ENABLE=yes\nHwFENCELIST_ENABLE=yes\nHwFWBLACK=black.txt\nHwFWWHITE=white.txt\nHwFWFENCE=fence.txt\n');
      const { config, diagnostics } = loadHoneywallConf(conf);
      expect(diagnostics).toEqual([]);
      expect(config!.blackList.entries.map((e) => e.text)).toEqual(['192.0.2.0/24', '198.51.100.7', '2001:db8:bad::/48']);
      expect(config!.whiteList.entries.map((e) => e.text)).toEqual(['203.0.113.5']);
      expect(config!.fenceList.entries.map((e) => e.text)).toEqual(['10.200.0.0/16']);
    });

    it('reports a bad list entry at the list file line', () => {
      writeFileSync(path.join(dir, 'fence-bad.txt'), '10.200.0.0/16\n  10.300.0.0/16\n');
      const conf = path.join(dir, 'bad.conf');
      writeFileSync(conf, 'HwFENCELIST_ENABLE=yes\nHwFWFENCE=fence-bad.txt\n');
      const { config, diagnostics } = loadHoneywallConf(conf);
      expect(config).toBeNull();
      expect(diagnostics.map(formatDiagnostic)).toEqual([
        `${path.join(dir, 'fence-bad.txt')}:2:3: error invalid-list-entry: HwFWFENCE list: the entry (13 characters, not shown) is not an IPv4 or IPv6 address`,
      ]);
    });
  });
});
