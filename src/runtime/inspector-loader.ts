/**
 * Builds the packet path's rule engine from the gateway config: the compiled matcher artifact when
 * one is configured (src/match), else the basic rule interpreter over the rule files.
 */
import { existsSync } from 'node:fs';
import { BasicInspector } from './basic-inspector.js';
import type { PacketInspector, RuleHit } from './inspector.js';
import type { Packet } from '../packet/packet.js';

export interface InspectorSpec {
  /** Rule files (Snort 2.9 text) for the basic interpreter. */
  rules: string[];
  /** Compiled matcher artifact (from the matcher's compile step); wins over `rules` when set. */
  matcher?: string;
  /** Snort variables (HOME_NET, EXTERNAL_NET, ...). */
  vars: Record<string, string>;
}

class NoRules implements PacketInspector {
  readonly ruleCount = 0;
  readonly description = 'no rules loaded: every packet is accepted';
  inspect(_p: Packet): RuleHit[] {
    return [];
  }
}

/** Combines several inspectors (one per rule file) in order. */
class Chain implements PacketInspector {
  constructor(private readonly parts: PacketInspector[]) {}
  get ruleCount(): number {
    return this.parts.reduce((n, p) => n + p.ruleCount, 0);
  }
  get description(): string {
    return this.parts.map((p) => p.description).join('; ');
  }
  inspect(p: Packet): RuleHit[] {
    const out: RuleHit[] = [];
    for (const part of this.parts) out.push(...part.inspect(p));
    return out;
  }
}

type MatcherModule = { loadMatcherInspector?: (path: string, vars: Record<string, string>) => Promise<PacketInspector> | PacketInspector };

/** Throws an Error with a one-line message when a file is missing or the artifact does not load. */
export async function loadInspector(spec: InspectorSpec): Promise<PacketInspector> {
  if (spec.matcher) {
    if (!existsSync(spec.matcher)) throw new Error(`HwIPS_MATCHER: ${spec.matcher}: no such file`);
    const modPath = './matcher-inspector.js';
    let mod: MatcherModule;
    try {
      mod = (await import(modPath)) as MatcherModule;
    } catch (err) {
      throw new Error(`HwIPS_MATCHER: the compiled matcher is not available in this build (${(err as Error).message.split('\n')[0]})`);
    }
    if (!mod.loadMatcherInspector) throw new Error('HwIPS_MATCHER: the compiled matcher is not available in this build');
    return await mod.loadMatcherInspector(spec.matcher, spec.vars);
  }
  const parts: PacketInspector[] = [];
  for (const file of spec.rules) {
    if (!existsSync(file)) throw new Error(`HwIPS_RULES: ${file}: no such file`);
    parts.push(BasicInspector.fromFile(file, { vars: spec.vars }));
  }
  if (parts.length === 0) return new NoRules();
  return parts.length === 1 ? parts[0]! : new Chain(parts);
}
