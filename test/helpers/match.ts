/** Small helpers for matcher tests: compile rule text, build packets and inspection items. */
import type { LoadedFile, RuleSet } from '../../src/config/ruleset.js';
import { defaultClassifications } from '../../src/config/classification.js';
import { VariableTable } from '../../src/config/variables.js';
import type { InspectionItem } from '../../src/flow/pipeline.js';
import type { HttpBuffers } from '../../src/http/session.js';
import { buildIp, type PacketSpec } from '../../src/packet/build.js';
import { decodeIpPacket } from '../../src/packet/decode.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseRules } from '../../src/parser/parse.js';
import { compileRuleSet, type CompileResult } from '../../src/match/compile.js';

export function ruleSetOf(text: string, vars: string[] = []): RuleSet {
  const r = parseRules(text, { file: 'test.rules' });
  const file: LoadedFile = { path: '/test.rules', display: 'test.rules', file: r.file, diagnostics: r.diagnostics };
  const table = VariableTable.withDefaults();
  for (const v of vars) {
    const [name, value] = v.split('=');
    table.set({ kind: table.get(name!)?.kind ?? 'var', name: name!, value: value!, origin: '--var' });
  }
  return {
    files: [file],
    ruleFiles: [{ path: file.path, display: file.display }],
    configs: [],
    vars: table,
    classifications: defaultClassifications(),
    diagnostics: [],
  };
}

export function compileText(text: string, vars: string[] = []): CompileResult {
  return compileRuleSet(ruleSetOf(text, vars));
}

export function tcpPacket(payload: Uint8Array | string, extra: Partial<PacketSpec> = {}): Packet {
  const spec: PacketSpec = {
    ip: { src: '10.0.0.1', dst: '192.168.1.2', ttl: 64, ...extra.ip },
    tcp: { sport: 40000, dport: 80, flags: 'PA', seq: 1000, ack: 2000, window: 512, ...extra.tcp },
    payload,
  };
  if (extra.udp) {
    delete spec.tcp;
    spec.udp = extra.udp;
  }
  if (extra.icmp) {
    delete spec.tcp;
    spec.icmp = extra.icmp;
  }
  return decodeIpPacket(buildIp(spec));
}

export function itemOf(packet: Packet, opts: Partial<InspectionItem> = {}, http?: HttpBuffers): InspectionItem {
  return {
    kind: 'packet',
    packet,
    flow: undefined,
    fromClient: true,
    established: false,
    streamInserted: false,
    detection: 'all',
    fragAlerts: undefined,
    segment: undefined,
    payload: undefined,
    http: http ? [http] : [],
    ...opts,
  };
}
