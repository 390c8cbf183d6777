import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIp } from '../src/packet/build.js';
import { formatEveAlert, formatFastAlert, snortTimestamp, type AlertEvent } from '../src/output/alert.js';
import { formatFirewallLine } from '../src/runtime/firewall-log.js';
import { dropPrefix } from '../src/config/honeywall-conf.js';
import { emitFirewall, RULES_FILE } from '../src/emit/firewall/index.js';
import { parseTcpdumpStat } from '../src/runtime/full-capture.js';
import { parseNfqueueProc } from '../src/runtime/gateway.js';
import { META_STRIDE, unpackBatch } from '../src/runtime/nf-binding.js';
import { loadGatewayConfig, parseQueueBalance } from '../src/runtime/gateway-config.js';
import { RotatingFile } from '../src/runtime/rotating-file.js';
import { writeFileSync } from 'node:fs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hw-runtime-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tcp(src: string, dst: string, sport: number, dport: number, flags: string, payload = '', seq = 1000): Uint8Array {
  return buildIp({ ip: { src, dst }, tcp: { sport, dport, seq, ack: 1, flags }, payload: new TextEncoder().encode(payload) });
}

describe('alert lines', () => {
  const e: AlertEvent = {
    tsSec: 1_700_000_000,
    tsUsec: 42,
    gid: 1,
    sid: 9000001,
    rev: 1,
    msg: 'Dropping Telnet connection',
    classtype: 'attempted-admin',
    classification: 'Attempted Administrator Privilege Gain',
    priority: 1,
    action: 'drop',
    blocked: true,
    replaced: false,
    proto: 'TCP',
    src: '10.0.0.20',
    dst: '10.0.0.1',
    sport: 4000,
    dport: 23,
  };
  it('fast alert: Snort 2.9 layout with the drop mark', () => {
    expect(formatFastAlert(e, true)).toBe(
      '11/14-22:13:20.000042  [Drop] [**] [1:9000001:1] Dropping Telnet connection [**] [Classification: Attempted Administrator Privilege Gain] [Priority: 1] {TCP} 10.0.0.20:4000 -> 10.0.0.1:23',
    );
    expect(formatFastAlert({ ...e, blocked: false, classification: undefined, proto: 'ICMP', sport: -1, dport: -1 }, true)).toBe(
      '11/14-22:13:20.000042  [**] [1:9000001:1] Dropping Telnet connection [**] [Priority: 1] {ICMP} 10.0.0.20 -> 10.0.0.1',
    );
  });
  it("fast timestamps: the last second's date and time kept (the cache) give what a fresh Date gives", () => {
    const fresh = (sec: number, usec: number, utc: boolean) => {
      const d = new Date(sec * 1000);
      const f = utc
        ? [d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
        : [d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
      const p2 = (n: number) => String(n).padStart(2, '0');
      return `${p2(f[0]!)}/${p2(f[1]!)}-${p2(f[2]!)}:${p2(f[3]!)}:${p2(f[4]!)}.${String(usec).padStart(6, '0')}`;
    };
    // runs of the same second (as a capture's events come), the seconds from a few so that one comes back with the
    // other clock; local time away from UTC (Node reads TZ again when it is set)
    const stamp = fc.record({
      sec: fc.oneof(fc.constantFrom(0, 1_000_000_000, 1_700_000_000), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
      usec: fc.integer({ min: 0, max: 999_999 }),
      utc: fc.boolean(),
    });
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      fc.assert(
        fc.property(fc.array(fc.tuple(stamp, fc.integer({ min: 1, max: 4 })), { maxLength: 20 }), (runs) => {
          for (const [t, n] of runs)
            for (let k = 0; k < n; k++)
              expect(snortTimestamp(t.sec, (t.usec + k) % 1_000_000, t.utc)).toBe(fresh(t.sec, (t.usec + k) % 1_000_000, t.utc));
        }),
        { numRuns: 200, seed: 20261205 },
      );
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
  it('EVE JSON', () => {
    const o = JSON.parse(formatEveAlert(e)) as Record<string, unknown>;
    expect(o).toMatchObject({
      event_type: 'alert',
      src_ip: '10.0.0.20',
      dest_port: 23,
      alert: { action: 'blocked', signature_id: 9000001, severity: 1 },
    });
  });
});

describe('rotating file', () => {
  it('rotates at the first write of a new local day, keeps the live name', () => {
    let now = new Date(2024, 0, 1, 23, 59, 0).getTime();
    const f = new RotatingFile(path.join(tmp, 'rot', 'fast.log'), { clock: { now: () => now } });
    f.write('a');
    f.write('b');
    now = new Date(2024, 0, 2, 0, 0, 1).getTime();
    f.write('c');
    f.close();
    expect(readFileSync(path.join(tmp, 'rot', 'fast.log.2024-01-01'), 'utf8')).toBe('a\nb\n');
    expect(readFileSync(path.join(tmp, 'rot', 'fast.log'), 'utf8')).toBe('c\n');
    expect(f.rotations).toBe(1);
  });
  it('never throws on a write error', () => {
    writeFileSync(path.join(tmp, 'plain-file'), 'x');
    const f = new RotatingFile(path.join(tmp, 'plain-file', 'sub', 'x.log'));
    f.write('x');
    expect(f.errors).toBe(1);
  });
});

describe('firewall log lines', () => {
  it('kernel LOG layout', () => {
    const data = tcp('10.0.0.20', '10.0.0.1', 40000, 80, 'S');
    // The prefix exactly as the firewall emits it (with its trailing space): one space before IN=, never two.
    const line = formatFirewallLine(
      { prefix: dropPrefix('tcp', 20), data, indev: 3, outdev: 3, physindev: 2, physoutdev: 1, tsSec: 1_700_000_000 },
      { host: 'hw', ifname: (i) => ['', 'eth0', 'eth1', 'br0'][i]! },
    );
    expect(line).toMatch(
      /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d hw honeywall: Drop TCP > 20 attempts IN=br0 OUT=br0 PHYSIN=eth1 PHYSOUT=eth0 SRC=10\.0\.0\.20 DST=10\.0\.0\.1 LEN=40 .* PROTO=TCP SPT=40000 DPT=80 WINDOW=\d+ RES=0x00 SYN URGP=0$/,
    );
  });
  it('never throws on garbage', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        (b) =>
          typeof formatFirewallLine(
            { prefix: 'X: ', data: b, indev: 0, outdev: 0, physindev: 0, physoutdev: 0, tsSec: 0 },
            { host: 'h', ifname: String },
          ) === 'string',
      ),
    );
  });
});

describe('gateway config and counters', () => {
  it('reads the runtime names with their defaults and reports bad values by name', () => {
    const f = path.join(tmp, 'hw.conf');
    writeFileSync(
      f,
      'HwHPOT_PUBLIC_IP="10.0.0.20 10.0.0.21"\nHwQUEUE_BALANCE=2:3\nHwSEBEK=yes\nHwSEBEK_MAGIC=0x2a\nHwLOG_DIR=logs\nHwWATCH_a="limit mail=ops@x"\n',
    );
    const r = loadGatewayConfig(f, { allowEmpty: true });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({
      queues: [2, 3],
      workers: 2,
      logDir: path.join(tmp, 'logs'),
      sebek: { port: 1101, magic: 0x2a },
      inspector: { vars: { HOME_NET: '[10.0.0.20,10.0.0.21]' } },
    });
    writeFileSync(f, 'HwQUEUE_BALANCE=3:2\nHwSEBEK_MAGIC=zz\nHwSEBEK=yes\nHwWATCH_b="ids"\nHwTCPRATE=x\n');
    const bad = loadGatewayConfig(f, { allowEmpty: true });
    expect(bad.config).toBeNull();
    expect(bad.errors.join('\n')).toMatch(/HwTCPRATE/);
  });
  it('reports runtime-name errors by name', () => {
    const f = path.join(tmp, 'hw2.conf');
    writeFileSync(f, 'HwSEBEK_MAGIC=zz\nHwSEBEK=yes\nHwWATCH_b="ids"\n');
    const bad = loadGatewayConfig(f, { allowEmpty: true });
    expect(bad.errors).toEqual([expect.stringContaining('HwSEBEK_MAGIC'), expect.stringContaining('HwWATCH_b: no action')]);
    expect(parseQueueBalance('0:1')).toEqual([0, 1]);
  });
  it('serves the queues the firewall sends to: HwQUEUE_BALANCE is one setting for both', () => {
    const f = path.join(tmp, 'hw3.conf');
    writeFileSync(f, 'HwQUEUE_BALANCE=3:2\n');
    // Validated with the firewall's settings, at its line and column.
    expect(loadGatewayConfig(f, { allowEmpty: true }).errors).toEqual([
      `${f}:1:17: error invalid-value: HwQUEUE_BALANCE: '3:2': LAST must be greater than FIRST (iptables balances over two queues or more; for one, use HwQUEUE_NUM)`,
    ]);
    writeFileSync(f, 'HwQUEUE_BALANCE=4:6\nHwFAIL_OPEN=yes\n');
    const r = loadGatewayConfig(f, { allowEmpty: true });
    expect(r.config!.queues).toEqual([4, 5, 6]);
    const rules = emitFirewall(r.config!.firewall).files[RULES_FILE]!;
    expect(rules).toContain('-j NFQUEUE --queue-balance 4:6 --queue-bypass');
    // A --queue-balance override that disagrees with the firewall is served, with a warning.
    const over = loadGatewayConfig(f, { queueBalance: '0:1', allowEmpty: true });
    expect(over.config!.queues).toEqual([0, 1]);
    expect(over.warnings).toEqual([
      `${f}:1:17: warning queue-mismatch: --queue-balance 0:1 differs from the firewall's HwQUEUE_BALANCE=4:6: packets for queues nobody serves are dropped (fail closed)`,
    ]);
    writeFileSync(f, 'HwQUEUE_NUM=7\n');
    expect(loadGatewayConfig(f, { allowEmpty: true }).config!.queues).toEqual([7]);
  });
  it('parses /proc/net/netfilter/nfnetlink_queue and tcpdump statistics', () => {
    expect(parseNfqueueProc('    0  12345     3 2 65535     7     1      999  1\n')).toEqual([
      { queue: 0, waiting: 3, queueDropped: 7, userDropped: 1, idSequence: 999 },
    ]);
    const s = { captured: 0, received: 0, droppedByKernel: 0, droppedByInterface: 0 };
    expect(parseTcpdumpStat('12 packets captured', s)).toBe(true);
    expect(parseTcpdumpStat('3 packets dropped by kernel', s)).toBe(true);
    expect(parseTcpdumpStat('listening on eth1', s)).toBe(false);
    expect(s).toMatchObject({ captured: 12, droppedByKernel: 3 });
  });
});

void existsSync;
void readdirSync;

describe('NFQUEUE batches as the addon hands them over', () => {
  it('unpacks each packet from the batch words, its bytes a view of the batch, and its GSO flags', () => {
    const meta = new Uint32Array(2 * META_STRIDE);
    const data = new Uint8Array(64);
    data.set([0x45, 1, 2, 3], 8);
    data.set([0x45, 9], 40);
    // words: id hwProtocol hook mark indev outdev physindev physoutdev hwlen hw0 hw1 tsSec tsUsec offset length info caplen
    meta.set([7, 0x800, 1, 5, 3, 4, 11, 12, 6, 0x04030201, 0x0605, 1_700_000_000, 250, 8, 4, 3, 0], 0);
    meta.set([8, 0x800, 1, 0, 3, 4, 11, 12, 0, 0, 0, 1_700_000_001, 0, 40, 2, 2, 70_000], META_STRIDE);
    const [a, b] = unpackBatch(2, meta, data);
    expect(a).toMatchObject({
      id: 7,
      hwProtocol: 0x800,
      hook: 1,
      mark: 5,
      indev: 3,
      outdev: 4,
      physindev: 11,
      physoutdev: 12,
      tsSec: 1_700_000_000,
      tsUsec: 250,
    });
    expect(a).toMatchObject({ gso: true, csumNotReady: true, truncatedFrom: 0 });
    expect([...a!.data]).toEqual([0x45, 1, 2, 3]);
    expect([...a!.hwaddr!]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b).toMatchObject({ id: 8, gso: true, csumNotReady: false, truncatedFrom: 70_000, hwaddr: undefined });
    // no copy: the bytes are the batch buffer's, which the next read reuses (what keeps a packet copies it: see
    // PacketProcessor's keep, tested in runtime-packet-processor.test.ts)
    expect(a!.data.buffer).toBe(data.buffer);
    data.fill(0);
    expect([...a!.data]).toEqual([0, 0, 0, 0]);
    expect([...b!.data]).toEqual([0, 0]);
  });
});
