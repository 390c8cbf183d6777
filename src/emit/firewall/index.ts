/** Emits the Honeywall firewall for a validated config: IPv4 and IPv6 iptables-restore text and apply.sh. */
import type { HoneywallConfig } from '../../config/honeywall-conf.js';
import { applyScript, APPLY_FILE, RULES6_FILE, RULES_FILE } from './apply-script.js';
import { buildRuleset } from './honeywall-rules.js';
import type { Ruleset } from './ruleset.js';

export { APPLY_FILE, RULES6_FILE, RULES_FILE } from './apply-script.js';
export { buildRuleset } from './honeywall-rules.js';
export { Ruleset } from './ruleset.js';

export interface FirewallOutput {
  ruleset4: Ruleset;
  ruleset6: Ruleset;
  /** File name -> contents. */
  files: Record<string, string>;
}

export function emitFirewall(config: HoneywallConfig): FirewallOutput {
  const ruleset4 = buildRuleset(config, 4);
  const ruleset6 = buildRuleset(config, 6);
  const header = (family: string) => [
    `honeywall firewall: ${family} filter table generated from ${config.file.replace(/\n/g, ' ')}`,
    `Load atomically with ${family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore'} (or apply.sh).`,
  ];
  return {
    ruleset4,
    ruleset6,
    files: {
      [RULES_FILE]: ruleset4.toRestore(header('IPv4')),
      [RULES6_FILE]: ruleset6.toRestore(header('IPv6')),
      [APPLY_FILE]: applyScript(config),
    },
  };
}
