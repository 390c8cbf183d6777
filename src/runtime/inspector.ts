/**
 * What the gateway's packet path needs from a rule engine: look at one decoded packet, rewrite its
 * bytes in place for `replace`, and say which rules fired. The compiled matcher (src/match) and the
 * basic rule interpreter (basic-inspector.ts) both fit behind it.
 */
import type { Packet } from '../packet/packet.js';
import type { RuleAction } from './alert-event.js';

export interface RuleHit {
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype?: string;
  classification?: string;
  priority: number;
  action: RuleAction;
  /** This rule rewrote the packet (its `replace` contents were applied; checksums are fixed by the caller). */
  replaced: boolean;
}

export interface PacketInspector {
  /** Rules fired by this packet (in evaluation order). May rewrite `packet.data` in place (same length). */
  inspect(packet: Packet): RuleHit[];
  /** Rules loaded (for the status). */
  readonly ruleCount: number;
  /** A one-line description (engine, source, rules loaded / skipped). */
  readonly description: string;
}
