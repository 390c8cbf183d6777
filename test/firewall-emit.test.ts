/**
 * The emitted rules: structure (roo's order and prefixes), and the laws over generated configs:
 * every valid config gives rules that iptables-restore --test / ip6tables-restore --test accept
 * (run in a throwaway network namespace); every invalid config gives a named, located error and no file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { registerFirewall } from '../src/cli/commands/firewall.js';
import { logPrefixes, MAX_LOG_PREFIX, parseHoneywallConf, SCALES, type HoneywallConfig } from '../src/config/honeywall-conf.js';
import { emitFirewall, RULES6_FILE, RULES_FILE, APPLY_FILE } from '../src/emit/firewall/index.js';
import { checkRestore } from '../src/emit/firewall/restore-check.js';
import { haveCommand, ScratchNetns } from './honeynet/scratch-netns.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundled = path.join(repoRoot, 'rulesets', 'honeywall.conf');

function configOf(text: string, lists: Record<string, string> = {}): HoneywallConfig {
  const r = parseHoneywallConf(text, '/etc/honeywall.conf', (p) => (p in lists ? { text: lists[p]! } : { error: 'no such file' }));
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

const forwardRules = (text: string) => text.split('\n').filter((l) => l.startsWith('-A FORWARD '));

describe('emitted ruleset structure', () => {
  it('default config: DROP policies, roo order, NFQUEUE without bypass, roo prefixes', () => {
    const out = emitFirewall(configOf(readFileSync(bundled, 'utf8')));
    const v4 = out.files[RULES_FILE]!;
    expect(v4).toMatch(/^\*filter$/m);
    for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) expect(v4).toContain(`:${chain} DROP [0:0]`);
    expect(v4.trimEnd().endsWith('COMMIT')).toBe(true);
    const fwd = forwardRules(v4);
    const idx = (re: RegExp) => fwd.findIndex((l) => re.test(l));
    const order = [
      /-d 10\.0\.0\.255 -j ACCEPT/,
      /--physdev-in eth0 -j InboundLog/,
      /--physdev-in eth0 -j ACCEPT/,
      /DHCP OUT REQUEST/,
      /Legal DNS/,
      /Honeypot -> Honeypot/,
      /RELATED,ESTABLISHED -j NFQUEUE --queue-num 0$/,
      /-s 10\.0\.0\.20 -p tcp .*--limit 20\/hour --limit-burst 20 -j tcpHandler/,
      /"Drop TCP > 20 attempts "/,
      /-s 10\.0\.0\.20 -p tcp -m conntrack --ctstate NEW -j DROP/,
      /"Drop udp > 20 attempts "/,
      /"Drop icmp > 50 attempts "/,
      /"Drop other > 10 attempts "/,
    ].map(idx);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(v4).not.toContain('--queue-bypass');
    expect(v4).toContain('-A tcpHandler -j NFLOG --nflog-group 1 --nflog-prefix "OUTBOUND TCP: "');
    expect(v4).toContain('-A tcpHandler -j NFQUEUE --queue-num 0');
    // Management lockdown.
    expect(v4).toContain('-A INPUT -i eth2 -s 10.10.10.0/24 -d 10.10.10.66 -p tcp -m multiport --dports 22,443 -m conntrack --ctstate NEW -j ACCEPT');
    expect(v4).toContain('-A OUTPUT -o eth2 -p tcp -m multiport --dports 22,25,43,80,443 -m conntrack --ctstate NEW -j ACCEPT');
    // IPv6 off: nothing crosses.
    const v6 = out.files[RULES6_FILE]!;
    expect(v6).toContain(':FORWARD DROP [0:0]');
    expect(forwardRules(v6).every((l) => !/-j (ACCEPT|NFQUEUE)/.test(l))).toBe(true);
    expect(out.files[APPLY_FILE]).toContain('nf_call_iptables 1 nf_call_ip6tables 1');
  });

  it('options: fail-open bypass, kernel LOG, roach motel, lists, per-honeypot limits, IPv6', () => {
    const text = [
      'HwHPOT_PUBLIC_IP="10.0.0.20 10.0.0.21 10.0.0.22"',
      'HwQUEUE_NUM=9',
      'HwFAIL_OPEN=yes',
      'HwLOG_TARGET=log',
      'HwBWLIST_ENABLE=yes',
      'HwFENCELIST_ENABLE=yes',
      'HwTCPRATE=0',
      'HwIPV6=yes',
      'HwHPOT_PUBLIC_IP6=2001:db8::20',
      'HwMANAGER6=2001:db8:ffff::/64',
    ].join('\n');
    const lists = { '/etc/blacklist.txt': '192.0.2.1\n2001:db8:bad::/48\n', '/etc/whitelist.txt': '', '/etc/fencelist.txt': '10.99.0.0/16\n' };
    const out = emitFirewall(configOf(text, lists));
    const v4 = out.files[RULES_FILE]!;
    expect(v4).toContain('-j NFQUEUE --queue-num 9 --queue-bypass');
    expect(v4).toContain('-j LOG --log-prefix "OUTBOUND UDP: " --log-level debug');
    expect(v4).not.toContain('NFLOG');
    expect(v4).toContain('-A BlackList -s 192.0.2.1 -j DROP');
    expect(v4).not.toContain('2001:db8:bad');
    expect(v4).toContain('-A FenceList -d 10.99.0.0/16 -j LOG --log-prefix "BOUNCED OFF Fence: " --log-level debug');
    // TCPRATE=0: no new TCP at all, but still logged once per scale.
    expect(v4).not.toContain('-j tcpHandler');
    expect(forwardRules(v4).filter((l) => l.includes('"Drop TCP > 0 attempts "'))).toHaveLength(3);
    for (const hp of ['10.0.0.20', '10.0.0.21', '10.0.0.22']) {
      expect(forwardRules(v4).filter((l) => l.includes(`-s ${hp} -p udp`) && l.includes('-j udpHandler'))).toHaveLength(1);
    }
    const v6 = out.files[RULES6_FILE]!;
    expect(v6).toContain('-A BlackList -s 2001:db8:bad::/48 -j DROP');
    expect(v6).toContain('-s 2001:db8::20 -p ipv6-icmp -m conntrack --ctstate NEW -m limit --limit 50/hour --limit-burst 50 -j icmpHandler');
    expect(v6).toContain('-A FORWARD -p ipv6-icmp --icmpv6-type 135 -j ACCEPT');

    // Every log prefix ends in a space (the kernel prints the packet fields right after it).
    for (const m of v4.matchAll(/--(?:nflog|log)-prefix "([^"]*)"/g)) expect(m[1]).toMatch(/ $/);

    const roach = emitFirewall(configOf('HwROACHMOTEL_ENABLE=yes\nHwQUEUE=no')).files[RULES_FILE]!;
    expect(roach).not.toContain('Handler');
    expect(roach).not.toContain('Legal DNS');
    expect(roach).toContain('-A FORWARD -m physdev --physdev-in eth1 -m conntrack --ctstate NEW -j DROP');
    expect(roach).toContain('-A FORWARD -m physdev --physdev-in eth1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  });

  it('HwQUEUE_BALANCE: NFQUEUE --queue-balance FIRST:LAST everywhere the IPS is reached, --queue-bypass only with HwFAIL_OPEN=yes', () => {
    const closed = emitFirewall(configOf('HwQUEUE_BALANCE=2:3')).files[RULES_FILE]!;
    const queued = closed.split('\n').filter((l) => l.includes('-j NFQUEUE'));
    // Established outbound traffic and the four protocol handlers.
    expect(queued).toHaveLength(5);
    expect(queued.every((l) => l.endsWith('-j NFQUEUE --queue-balance 2:3'))).toBe(true);
    expect(closed).not.toContain('--queue-num');
    const open = emitFirewall(configOf('HwQUEUE_BALANCE=2:3\nHwFAIL_OPEN=yes')).files[RULES_FILE]!;
    const openQueued = open.split('\n').filter((l) => l.includes('-j NFQUEUE'));
    expect(openQueued).toHaveLength(5);
    expect(openQueued.every((l) => l.endsWith('-j NFQUEUE --queue-balance 2:3 --queue-bypass'))).toBe(true);
    const noIps = emitFirewall(configOf('HwQUEUE_BALANCE=2:3\nHwQUEUE=no')).files[RULES_FILE]!;
    expect(noIps).not.toContain('NFQUEUE');
  });
});

// ---- generated configs ----

const ifaceName = fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/);
const port = fc.integer({ min: 1, max: 65535 });
const cidr4 = fc
  .tuple(fc.ipV4(), fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }))
  .map(([a, p]) => (p === undefined ? a : `${a}/${p}`));
const cidr6 = fc
  .tuple(fc.ipV6(), fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }))
  .map(([a, p]) => (p === undefined ? a : `${a}/${p}`));
const yesNo = fc.constantFrom('yes', 'no', 'YES', 'No');
const list = <T>(arb: fc.Arbitrary<T>, max: number) => fc.array(arb, { maxLength: max }).map((xs) => `"${xs.join(' ')}"`);

/** A valid honeywall.conf (as lines) plus the list files it reads. */
const validConfig = fc
  .record({
    ifaces: fc.uniqueArray(ifaceName, { minLength: 4, maxLength: 4 }),
    honeypots: fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 4 }),
    scale: fc.constantFrom(...SCALES),
    rates: fc.array(fc.integer({ min: 0, max: 10000 }), { minLength: 4, maxLength: 4 }),
    queue: yesNo,
    queueNum: fc.integer({ min: 0, max: 65535 }),
    queueBalance: fc.option(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 63 })), { nil: undefined }),
    failOpen: yesNo,
    roach: yesNo,
    sebek: yesNo,
    sebekLog: yesNo,
    sebekFate: fc.constantFrom('DROP', 'ACCEPT', 'drop'),
    sebekIp: fc.ipV4(),
    sebekPort: port,
    manager: list(cidr4, 3),
    manageIp: fc.option(fc.ipV4(), { nil: '' }),
    sshd: port,
    tcpIn: list(port, 20),
    restrict: yesNo,
    tcpOut: list(port, 20),
    udpOut: list(port, 20),
    dnsServers: list(cidr4, 2),
    bcast: fc.option(fc.ipV4(), { nil: '' }),
    logTarget: fc.constantFrom('nflog', 'log'),
    nflogGroup: fc.integer({ min: 0, max: 65535 }),
    logPrefix: fc.stringMatching(/^[a-z:-]{0,2}$/),
    bw: yesNo,
    fence: yesNo,
    black: fc.array(fc.oneof(cidr4, cidr6), { maxLength: 4 }),
    white: fc.array(fc.oneof(cidr4, cidr6), { maxLength: 4 }),
    fenceList: fc.array(fc.oneof(cidr4, cidr6), { maxLength: 4 }),
    ipv6: fc.boolean(),
    honeypots6: fc.uniqueArray(fc.ipV6(), { minLength: 1, maxLength: 3 }),
    manager6: list(cidr6, 2),
    dns6: list(cidr6, 2),
  })
  .map((g) => {
    // Keep HwLOG_PREFIX short enough for the longest built-in prefix these rates give (a longer one is the invalid case below).
    const [tcp, udp, icmp, other] = g.rates as [number, number, number, number];
    const room = MAX_LOG_PREFIX - Math.max(...logPrefixes({ tcp, udp, icmp, other }).map((p) => p.length));
    const logPrefix = g.logPrefix.slice(0, Math.max(0, room));
    const balance = g.queueBalance ? Math.min(g.queueBalance[0], 65535 - g.queueBalance[1]) : 0;
    const lines = [
      `HwINET_IFACE=${g.ifaces[0]}`,
      `HwLAN_IFACE=${g.ifaces[1]}`,
      `HwMANAGE_IFACE=${g.ifaces[2]}`,
      `HwBRIDGE_IFACE=${g.ifaces[3]}`,
      `HwHPOT_PUBLIC_IP="${g.honeypots.join(' ')}"`,
      `HwSCALE=${g.scale}`,
      `HwTCPRATE=${g.rates[0]}`,
      `HwUDPRATE=${g.rates[1]}`,
      `HwICMPRATE=${g.rates[2]}`,
      `HwOTHERRATE=${g.rates[3]}`,
      `HwQUEUE=${g.queue}`,
      `HwQUEUE_NUM=${g.queueNum}`,
      `HwQUEUE_BALANCE=${g.queueBalance ? `${balance}:${balance + g.queueBalance[1]}` : ''}`,
      `HwFAIL_OPEN=${g.failOpen}`,
      `HwROACHMOTEL_ENABLE=${g.roach}`,
      `HwSEBEK=${g.sebek}`,
      `HwSEBEK_LOG=${g.sebekLog}`,
      `HwSEBEK_FATE=${g.sebekFate}`,
      `HwSEBEK_DST_IP=${g.sebekIp}`,
      `HwSEBEK_DST_PORT=${g.sebekPort}`,
      `HwMANAGER=${g.manager}`,
      `HwMANAGE_IP=${g.manageIp}`,
      `HwSSHD_PORT=${g.sshd}`,
      `HwALLOWED_TCP_IN=${g.tcpIn}`,
      `HwRESTRICT=${g.restrict}`,
      `HwALLOWED_TCP_OUT=${g.tcpOut}`,
      `HwALLOWED_UDP_OUT=${g.udpOut}`,
      `HwDNS_SVRS=${g.dnsServers}`,
      `HwLAN_BCAST_ADDRESS=${g.bcast}`,
      `HwLOG_TARGET=${g.logTarget}`,
      `HwNFLOG_GROUP=${g.nflogGroup}`,
      `HwLOG_PREFIX="${logPrefix}"`,
      `HwBWLIST_ENABLE=${g.bw}`,
      `HwFENCELIST_ENABLE=${g.fence}`,
      'HwFWBLACK=black.txt',
      'HwFWWHITE=white.txt',
      'HwFWFENCE=fence.txt',
      `HwIPV6=${g.ipv6 ? 'yes' : 'no'}`,
      `HwHPOT_PUBLIC_IP6="${g.honeypots6.join(' ')}"`,
      `HwMANAGER6=${g.manager6}`,
      `HwDNS_SVRS6=${g.dns6}`,
    ];
    const lists: Record<string, string> = {
      '/etc/black.txt': g.black.join('\n'),
      '/etc/white.txt': `# white\n${g.white.join('\n')}`,
      '/etc/fence.txt': g.fenceList.map((e) => `  ${e}  # fenced`).join('\n'),
    };
    return { lines, lists };
  });

const parseGenerated = (lines: string[], lists: Record<string, string>) =>
  parseHoneywallConf(lines.join('\n') + '\n', '/etc/honeywall.conf', (p) => (p in lists ? { text: lists[p]! } : { error: 'no such file' }));

/** Invalid values per variable. Each yields a value that must be rejected. */
const invalidSetting = fc.oneof(
  fc
    .stringMatching(/^[a-z]{1,10}$/)
    .filter((s) => !(SCALES as readonly string[]).includes(s))
    .map((v) => ['HwSCALE', v] as const),
  fc.integer({ min: 10001, max: 2 ** 31 }).map((v) => ['HwTCPRATE', String(v)] as const),
  fc.constantFrom('-1', '1.5', 'ten', '0x10').map((v) => ['HwUDPRATE', v] as const),
  fc.tuple(fc.ipV4(), fc.integer({ min: 33, max: 999 })).map(([a, p]) => ['HwMANAGER', `${a}/${p}`] as const),
  fc.tuple(fc.nat(255), fc.integer({ min: 256, max: 999 })).map(([a, b]) => ['HwDNS_SVRS', `10.${a}.${b}.1`] as const),
  fc.stringMatching(/^[a-z][a-z0-9]{15,30}$/).map((v) => ['HwLAN_IFACE', v] as const),
  fc.stringMatching(/^[A-Za-z0-9 -]{6,40}$/).map((v) => ['HwLOG_PREFIX', `"${v}"`] as const),
  fc.oneof(fc.constant(0), fc.integer({ min: 65536, max: 10 ** 7 })).map((v) => ['HwSSHD_PORT', String(v)] as const),
  fc.integer({ min: 65536, max: 10 ** 7 }).map((v) => ['HwQUEUE_NUM', String(v)] as const),
  fc.ipV6().map((v) => ['HwHPOT_PUBLIC_IP', v] as const),
  fc.constantFrom('maybe', 'on', '1', 'true').map((v) => ['HwFAIL_OPEN', v] as const),
  fc.constantFrom('REJECT', 'QUEUE', 'log').map((v) => ['HwSEBEK_FATE', v] as const),
  fc
    .oneof(
      fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 1000 })).map(([a, d]) => `${a}:${Math.max(0, a - d)}`),
      fc.tuple(fc.integer({ min: 0, max: 60000 }), fc.integer({ min: 64, max: 5000 })).map(([a, d]) => `${a}:${a + d}`),
      fc.constantFrom('1', '0-1', 'a:b', '1:', '0:70000'),
    )
    .map((v) => ['HwQUEUE_BALANCE', v] as const),
);

describe('laws over generated configs', () => {
  it('every valid config parses without errors and keeps every log prefix within 29 characters', () => {
    fc.assert(
      fc.property(validConfig, ({ lines, lists }) => {
        const r = parseGenerated(lines, lists);
        expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
        const out = emitFirewall(r.config!);
        for (const file of [RULES_FILE, RULES6_FILE]) {
          for (const m of out.files[file]!.matchAll(/--(?:nflog|log)-prefix "([^"]*)"/g)) {
            expect(m[1]!.length).toBeLessThanOrEqual(MAX_LOG_PREFIX);
            expect(m[1]!.endsWith(' ')).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every invalid setting gives an error naming the variable at its line, and no config', () => {
    fc.assert(
      fc.property(validConfig, invalidSetting, ({ lines, lists }, [name, value]) => {
        const bad = [...lines, `${name}=${value}`];
        const r = parseGenerated(bad, lists);
        expect(r.config).toBeNull();
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        expect(errors.some((d) => d.message.startsWith(`${name}:`) && d.line === bad.length && d.file === '/etc/honeywall.conf')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  const canRestore = haveCommand('iptables-restore') && haveCommand('ip6tables-restore');
  const scratch = canRestore ? ScratchNetns.create() : null;
  if (!scratch) console.warn('iptables-restore --test checks skipped: need root, iproute2 and iptables (apt-get install iptables iproute2)');
  afterAll(() => scratch?.destroy());

  it.skipIf(!scratch)(
    'every valid config gives rules that iptables-restore --test and ip6tables-restore --test accept',
    () => {
      fc.assert(
        fc.property(validConfig, ({ lines, lists }) => {
          const out = emitFirewall(parseGenerated(lines, lists).config!);
          const v4 = checkRestore(out.files[RULES_FILE]!, 4, { netns: scratch!.name });
          expect(v4.message).toBe('');
          const v6 = checkRestore(out.files[RULES6_FILE]!, 6, { netns: scratch!.name });
          expect(v6.message).toBe('');
        }),
        { numRuns: 60 },
      );
    },
    120_000,
  );

  it.skipIf(!scratch)('the check can fail: a rule iptables rejects is reported with its line', () => {
    const out = emitFirewall(configOf(''));
    const broken = out.files[RULES_FILE]!.replace('--limit-burst 20 ', '--limit-burst 20000 ');
    const r = checkRestore(broken, 4, { netns: scratch!.name });
    expect(r.ok).toBe(false);
    const lineNo = broken.split('\n').findIndex((l) => l.includes('--limit-burst 20000')) + 1;
    expect(r.line).toBe(lineNo);
    expect(r.message).toContain('limit-burst');
  });
});

describe('honeywall firewall command', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hwfw-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
    const ctx = { exitCode: 0 };
    const program = new Command().exitOverride();
    registerFirewall(program, ctx);
    let stderr = '';
    let stdout = '';
    const origErr = process.stderr.write.bind(process.stderr);
    const origOut = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'honeywall', 'firewall', ...args]);
    } finally {
      process.stderr.write = origErr;
      process.stdout.write = origOut;
    }
    return { code: ctx.exitCode, stderr, stdout };
  }

  it('writes the rules, the IPv6 rules and an executable apply.sh', async () => {
    const out = path.join(dir, 'ok');
    const r = await run(['--config', bundled, '--out', out]);
    expect(r.code).toBe(0);
    const expected = emitFirewall(parseHoneywallConf(readFileSync(bundled, 'utf8'), bundled).config!).files;
    for (const name of [RULES_FILE, RULES6_FILE, APPLY_FILE]) {
      expect(readFileSync(path.join(out, name), 'utf8')).toBe(expected[name]);
    }
    expect(statSync(path.join(out, APPLY_FILE)).mode & 0o111).not.toBe(0);
  });

  it('an invalid config: located error, exit 1, nothing written', async () => {
    const conf = path.join(dir, 'bad.conf');
    writeFileSync(conf, 'HwTCPRATE=15\nHwSCALE=fortnight\n');
    const out = path.join(dir, 'bad-out');
    const r = await run(['--config', conf, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${conf}:2:9: error invalid-value: HwSCALE: expected one of second, minute, hour, day, got 'fortnight'`);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  const scratch = haveCommand('iptables-restore') ? ScratchNetns.create() : null;
  // biome-ignore lint/suspicious/noDuplicateTestHooks: this namespace belongs to the tests below it
  afterAll(() => scratch?.destroy());

  it.skipIf(!scratch)('--check passes the default config and refuses to write rules the kernel tools reject', async () => {
    // Point the tools at the throwaway namespace so nothing touches this machine's tables.
    const wrap = (tool: string, extra = '') => {
      const file = path.join(dir, `${tool}${extra ? '-broken' : ''}`);
      writeFileSync(file, `#!/bin/sh\n${extra}exec ip netns exec ${scratch!.name} ${tool} "$@"\n`);
      chmodSync(file, 0o755);
      return file;
    };
    const saved = { v4: process.env.IPTABLES_RESTORE, v6: process.env.IP6TABLES_RESTORE };
    try {
      process.env.IPTABLES_RESTORE = wrap('iptables-restore');
      process.env.IP6TABLES_RESTORE = wrap('ip6tables-restore');
      const ok = await run(['--config', bundled, '--check', '--out', path.join(dir, 'checked')]);
      expect(ok.stderr).toContain('honeywall.rules: iptables-restore --test: ok');
      expect(ok.code).toBe(0);
      expect(existsSync(path.join(dir, 'checked', RULES_FILE))).toBe(true);

      // A tool that rejects the input (as for a kernel without a needed match): exit 1, nothing written.
      process.env.IPTABLES_RESTORE = wrap('iptables-restore', 'echo "iptables-restore: line 7 failed" >&2; exit 1\n');
      const bad = await run(['--config', bundled, '--check', '--out', path.join(dir, 'rejected')]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('honeywall.rules:7:1: error restore-check: iptables-restore: line 7 failed');
      expect(existsSync(path.join(dir, 'rejected'))).toBe(false);
    } finally {
      if (saved.v4 === undefined) delete process.env.IPTABLES_RESTORE;
      else process.env.IPTABLES_RESTORE = saved.v4;
      if (saved.v6 === undefined) delete process.env.IP6TABLES_RESTORE;
      else process.env.IP6TABLES_RESTORE = saved.v6;
    }
  });
});
