/** Loads a honeywall.conf's firewall into a honeynet's gateway the way a deployment does: emit, then apply.sh. */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDiagnostic, parseHoneywallConf, type HoneywallConfig } from '../../src/config/honeywall-conf.js';
import { APPLY_FILE, emitFirewall } from '../../src/emit/firewall/index.js';
import type { ExecResult, Honeynet } from './honeynet.js';

export interface AppliedFirewall {
  config: HoneywallConfig;
  dir: string;
  /** Run apply.sh again (e.g. after a simulated reboot). */
  reapply(opts?: { bridge?: boolean; allowFail?: boolean }): Promise<ExecResult>;
  cleanup(): void;
}

export async function applyFirewall(net: Honeynet, confText: string, opts: { bridge?: boolean } = {}): Promise<AppliedFirewall> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honeywall-fw-'));
  const confFile = path.join(dir, 'honeywall.conf');
  writeFileSync(confFile, confText);
  const { config, diagnostics } = parseHoneywallConf(confText, confFile);
  if (!config) throw new Error(`bad test config:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  for (const [name, text] of Object.entries(emitFirewall(config).files)) writeFileSync(path.join(dir, name), text);
  chmodSync(path.join(dir, APPLY_FILE), 0o755);
  const run = (bridge: boolean, allowFail = false) =>
    net.exec('gateway', ['sh', path.join(dir, APPLY_FILE), ...(bridge ? ['--bridge'] : [])], { allowFail });
  await run(opts.bridge ?? false);
  return {
    config,
    dir,
    reapply: (o = {}) => run(o.bridge ?? false, o.allowFail ?? false),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A "reboot" of the gateway: no bridge, empty tables, empty connection tracking. apply.sh --bridge brings it back. */
export async function rebootGateway(net: Honeynet): Promise<void> {
  const empty = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
  // The same tools apply.sh uses (IPTABLES_RESTORE etc. select the backend).
  await net.exec(
    'gateway',
    `ip link del br0 2>/dev/null; printf '${empty}' | \${IPTABLES_RESTORE:-iptables-restore} && printf '${empty}' | \${IP6TABLES_RESTORE:-ip6tables-restore} && { conntrack -F 2>/dev/null; true; }`,
  );
}
