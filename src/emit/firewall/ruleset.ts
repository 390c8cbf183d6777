/** A filter-table ruleset as data, and its `iptables-restore` text. */

export type Family = 4 | 6;
export type BuiltinChain = 'INPUT' | 'FORWARD' | 'OUTPUT';

export interface Rule {
  /** Arguments after `-A CHAIN`, one token each (a token may hold spaces: it is quoted on output). */
  args: string[];
}

export class Ruleset {
  readonly policies = new Map<BuiltinChain, 'ACCEPT' | 'DROP'>([
    ['INPUT', 'DROP'],
    ['FORWARD', 'DROP'],
    ['OUTPUT', 'DROP'],
  ]);
  private readonly userChains: string[] = [];
  private readonly rules = new Map<string, Rule[]>();

  constructor(readonly family: Family) {}

  chain(name: string): void {
    if (!this.userChains.includes(name)) this.userChains.push(name);
  }

  append(chain: string, ...args: Array<string | number>): void {
    if (!this.policies.has(chain as BuiltinChain) && !this.userChains.includes(chain)) {
      throw new Error(`internal: rule for undeclared chain ${chain}`);
    }
    const list = this.rules.get(chain) ?? [];
    list.push({ args: args.map(String) });
    this.rules.set(chain, list);
  }

  rulesOf(chain: string): readonly Rule[] {
    return this.rules.get(chain) ?? [];
  }

  get chains(): readonly string[] {
    return [...this.policies.keys(), ...this.userChains];
  }

  /** `iptables-restore` input for the whole filter table (replaces it atomically). */
  toRestore(headerComment: readonly string[]): string {
    const lines: string[] = headerComment.map((c) => `# ${c}`);
    lines.push('*filter');
    for (const [name, policy] of this.policies) lines.push(`:${name} ${policy} [0:0]`);
    for (const name of this.userChains) lines.push(`:${name} - [0:0]`);
    for (const name of this.chains) {
      for (const rule of this.rulesOf(name)) lines.push(`-A ${name} ${rule.args.map(quote).join(' ')}`);
    }
    lines.push('COMMIT', '');
    return lines.join('\n');
  }
}

/** iptables-restore splits on blanks and honours double quotes. Callers never pass `"` or `\` in tokens. */
function quote(token: string): string {
  if (token === '' || /[\s#']/.test(token)) return `"${token}"`;
  return token;
}
