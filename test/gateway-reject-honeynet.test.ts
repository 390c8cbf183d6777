/**
 * The `reject` verdict on the wire, on a real namespace honeynet (root only): `honeywall run` (the
 * built binary) with the compiled matcher (`honeywall compile`, HwIPS_MATCHER) holding two reject
 * rules, and real traffic from honeypot0 to the outside host:
 *   - a TCP connect to outside:2323 is refused (the gateway's RST reaches the honeypot) long before
 *     the connect timeout, and the outside host sees no connection;
 *   - a UDP datagram to outside:5353 is answered by an ICMP port unreachable (a connected UDP socket
 *     gets ECONNREFUSED; tcpdump in the honeypot sees ICMP type 3 code 3 quoting the datagram), and
 *     the outside host receives nothing;
 *   - fast.log has both alerts.
 * Then the control: the same rules with `drop` (SIGHUP): the connect times out instead, and the
 * datagram gets no answer, so the assertions above cannot pass without a working reject.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewaySkipReason, waitFor } from './gateway/prereqs.js';
import { GatewayNet } from './helpers/gateway-net.js';
import { decode } from '../src/packet/decode.js';
import { readCaptureAll } from '../src/packet/pcap.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const BIN = path.join(repoRoot, 'bin', 'honeywall.js');

const reason = gatewaySkipReason('gateway reject test', { tcpdump: true });

const rules = (action: 'reject' | 'drop') =>
  [
    `${action} tcp $HOME_NET any -> $EXTERNAL_NET 2323 (msg:"${action} test tcp"; flow:to_server; sid:9900001; rev:1;)`,
    `${action} udp $HOME_NET any -> $EXTERNAL_NET 5353 (msg:"${action} test udp"; sid:9900002; rev:1;)`,
    '',
  ].join('\n');

/**
 * Run in the honeypot: one TCP connect (`tcp HOST PORT TIMEOUT_MS`) or one connected-UDP exchange
 * (`udp HOST PORT WAIT_MS`: send, wait, send again; an ICMP port unreachable shows as ECONNREFUSED on
 * the socket). Prints {"result":"connected"|"timeout"|"error"|"silent","code":...,"ms":...}.
 */
const PROBE = `
import net from 'node:net';
import dgram from 'node:dgram';
const [mode, host, portText, waitText] = process.argv.slice(1);
const port = Number(portText), wait = Number(waitText);
const t0 = process.hrtime.bigint();
const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
const out = (o) => { process.stdout.write(JSON.stringify({ ...o, ms: ms() }) + '\\n'); process.exit(0); };
if (mode === 'tcp') {
  const s = net.connect({ host, port });
  const timer = setTimeout(() => { s.destroy(); out({ result: 'timeout' }); }, wait);
  s.on('connect', () => { clearTimeout(timer); s.destroy(); out({ result: 'connected' }); });
  s.on('error', (e) => { clearTimeout(timer); out({ result: 'error', code: e.code }); });
} else {
  const s = dgram.createSocket('udp4');
  s.on('error', (e) => out({ result: 'error', code: e.code }));
  s.on('message', () => out({ result: 'reply' }));
  s.connect(port, host, () => {
    s.send('reject-probe-1', (err) => {
      if (err) return out({ result: 'error', code: err.code, on: 'send1' });
      setTimeout(() => s.send('reject-probe-2', (err2) => {
        if (err2) return out({ result: 'error', code: err2.code, on: 'send2' });
        setTimeout(() => out({ result: 'silent' }), wait);
      }), wait);
    });
  });
}
`;

interface ProbeResult {
  result: 'connected' | 'timeout' | 'error' | 'silent' | 'reply';
  code?: string;
  ms: number;
}

const CONNECT_TIMEOUT_MS = 3000;

describe.skipIf(reason !== undefined)('honeywall run: reject answers with a TCP RST and an ICMP port unreachable', () => {
  let g: GatewayNet;
  let dir: string;
  let tcpdump: ChildProcess;
  const hpPcap = () => path.join(dir, 'honeypot.pcap');
  const matcher = () => path.join(dir, 'reject.hwm');
  const fast = () => g.fast();
  const countIn = (text: string, needle: string) => text.split(needle).length - 1;

  function compile(action: 'reject' | 'drop'): void {
    const src = path.join(dir, `${action}.rules`);
    writeFileSync(src, rules(action));
    const out = execFileSync(NODE, [BIN, 'compile', src, '--var', 'HOME_NET=10.0.0.20', '--var', 'EXTERNAL_NET=any', '--out', matcher()], {
      encoding: 'utf8',
    });
    expect(out).toContain('2 rules: 2 compiled, 0 failed');
  }

  async function probe(mode: 'tcp' | 'udp', port: number, waitMs: number): Promise<ProbeResult> {
    const r = await g.net.exec('honeypot0', [NODE, '--input-type=module', '-e', PROBE, mode, g.net.addr.outside, String(port), String(waitMs)], {
      timeoutMs: 20_000,
    });
    return JSON.parse(r.stdout) as ProbeResult;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-reject-'));
    compile('reject');
    g = new GatewayNet(dir);
    await g.start(g.conf([`HwIPS_MATCHER=${matcher()}`]), { tcp: [2323], udp: [5353] }, async (net) => {
      tcpdump = net.spawn('honeypot0', [
        'tcpdump',
        '-Z',
        'root',
        '-i',
        'eth0',
        '-n',
        '-s',
        '0',
        '-U',
        '--immediate-mode',
        '-w',
        hpPcap(),
        'icmp or tcp port 2323',
      ]);
      let tdErr = '';
      tcpdump.stderr!.on('data', (d: Buffer) => (tdErr += d.toString()));
      await waitFor('tcpdump in the honeypot', () => tdErr.includes('listening on'));
    });
    expect(g.stderr).toContain(`compiled matcher: 2 rules from ${matcher()}`);
  }, 120_000);

  afterAll(async () => {
    await g?.stop();
  });

  it('TCP: the connect is refused at once (RST from the gateway), the outside host sees no connection', async () => {
    const r = await probe('tcp', 2323, CONNECT_TIMEOUT_MS);
    console.log(`reject tcp: ${JSON.stringify(r)}`);
    expect(r.result).toBe('error');
    expect(r.code).toBe('ECONNREFUSED');
    // Well under the connect timeout: the first SYN was answered, no retransmission (1 s) was needed.
    expect(r.ms).toBeLessThan(500);
    await g.outside.settle();
    expect(g.outside.count('tcp', 2323)).toBe(0);
    await waitFor('the TCP reject alert', () =>
      fast()
        .split('\n')
        .some((l) => l.includes('reject test tcp') && l.includes('[1:9900001:1]') && l.includes('10.0.0.20:')),
    );
  }, 30_000);

  it('UDP: the datagram is answered by an ICMP port unreachable, the outside host receives nothing', async () => {
    const r = await probe('udp', 5353, 500);
    console.log(`reject udp: ${JSON.stringify(r)}`);
    expect(r.result).toBe('error');
    expect(r.code).toBe('ECONNREFUSED');
    await g.outside.settle();
    expect(g.outside.count('udp', 5353)).toBe(0);
    await waitFor('the UDP reject alert', () =>
      fast()
        .split('\n')
        .some((l) => l.includes('reject test udp') && l.includes('[1:9900002:1]') && l.includes('10.0.0.20:')),
    );
  }, 30_000);

  it('the answers on the honeypot wire: RST|ACK acknowledging the SYN, ICMP 3/3 quoting the datagram, from the outside address', async () => {
    const capture = () => readCaptureAll(readFileSync(hpPcap())).records.map((rec) => decode(rec.linktype, rec.data));
    const addr = (b: Uint8Array | undefined) => (b ? [...b].join('.') : '');
    // tcpdump hands packets over in blocks (up to its 1 s buffer timeout even with -U): wait for the last one.
    const pkts = await waitFor(
      'the ICMP unreachable in the honeypot capture',
      () => {
        const all = capture();
        return all.some((p) => p.icmp?.type === 3) ? all : undefined;
      },
      5000,
    );
    const syn = pkts.find((p) => p.tcp?.dstPort === 2323 && (p.tcp.flags & 0x12) === 0x02);
    expect(syn).toBeDefined();
    const rst = pkts.find((p) => p.tcp?.srcPort === 2323 && (p.tcp.flags & 0x04) !== 0);
    expect(rst).toBeDefined();
    expect(addr(rst!.ip?.src)).toBe('10.0.0.1');
    expect(addr(rst!.ip?.dst)).toBe('10.0.0.20');
    expect(rst!.tcp!.dstPort).toBe(syn!.tcp!.srcPort);
    expect(rst!.tcp!.flags & 0x14).toBe(0x14);
    expect(rst!.tcp!.ack).toBe((syn!.tcp!.seq + 1) >>> 0);
    const unreach = pkts.filter((p) => p.icmp !== undefined && p.icmp.type === 3 && p.icmp.code === 3);
    expect(unreach.length).toBeGreaterThanOrEqual(1);
    expect(addr(unreach[0]!.ip?.src)).toBe('10.0.0.1');
    expect(addr(unreach[0]!.ip?.dst)).toBe('10.0.0.20');
    // The quoted datagram is the honeypot's UDP datagram to the outside host's port 5353.
    const icmp = unreach[0]!.icmp!;
    expect(icmp.embeddedOffset).toBeGreaterThan(0);
    const q = unreach[0]!.data.subarray(icmp.embeddedOffset);
    const ihl = (q[0]! & 0x0f) * 4;
    expect(q[9]).toBe(17);
    expect(addr(q.subarray(12, 16))).toBe('10.0.0.20');
    expect(addr(q.subarray(16, 20))).toBe('10.0.0.1');
    expect((q[ihl + 2]! << 8) | q[ihl + 3]!).toBe(5353);
  }, 30_000);

  it('the status counts the rejects: verdicts and answers sent, none failed', async () => {
    const n = countIn(g.stderr, '{"totals"');
    g.gateway!.kill('SIGUSR1');
    await waitFor('the SIGUSR1 status line', () => countIn(g.stderr, '{"totals"') > n);
    const st = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as {
      totals: { rejected: number };
      queues: { rejectsSent: number; rejectsFailed: number }[];
    };
    expect(st.totals.rejected).toBeGreaterThanOrEqual(2);
    expect(st.queues.reduce((a, q) => a + q.rejectsSent, 0)).toBe(st.totals.rejected);
    expect(st.queues.reduce((a, q) => a + q.rejectsFailed, 0)).toBe(0);
  }, 30_000);

  it('control: with `drop` instead of `reject` the connect times out and the datagram gets no answer', async () => {
    compile('drop');
    const n = countIn(g.stderr, ' reloaded: ');
    g.gateway!.kill('SIGHUP');
    await waitFor('the reload', () => countIn(g.stderr, ' reloaded: ') > n || g.stderr.includes('reload failed'));
    expect(g.stderr).not.toContain('reload failed');
    const t = await probe('tcp', 2323, 2500);
    console.log(`drop tcp: ${JSON.stringify(t)}`);
    expect(t.result).toBe('timeout');
    expect(t.ms).toBeGreaterThanOrEqual(2500);
    const u = await probe('udp', 5353, 500);
    console.log(`drop udp: ${JSON.stringify(u)}`);
    expect(u.result).toBe('silent');
    await g.outside.settle();
    expect(g.outside.count('tcp', 2323)).toBe(0);
    expect(g.outside.count('udp', 5353)).toBe(0);
    await waitFor('the drop alerts', () => fast().includes('drop test tcp') && fast().includes('drop test udp'));
  }, 40_000);
});
