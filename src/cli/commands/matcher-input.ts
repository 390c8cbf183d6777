/**
 * The matcher artifact a replay or an import runs: the one given with --matcher, or the rules given with --rules
 * compiled into a temporary one (every rule that does not compile is said on stderr and counted as a problem).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArtifact } from '../../match/artifact.js';
import type { InputDialect } from '../../suricata/index.js';

export interface MatcherInput {
  artifact: string;
  /** Rules that did not compile. */
  problems: number;
  /** Removes the temporary artifact, if one was made. */
  cleanup(): void;
}

export async function matcherInput(
  matcher: string | undefined,
  rules: string[],
  conf: string | undefined,
  vars: string[],
  inputDialect?: InputDialect,
): Promise<MatcherInput> {
  if (matcher !== undefined) return { artifact: matcher, problems: 0, cleanup: () => undefined };
  // the parser and compiler load only for --rules (a run of an artifact does not need them)
  const { failureLine, loadAndCompile } = await import('./compile.js');
  const r = loadAndCompile(rules, conf, vars, inputDialect);
  for (const f of r.failures) process.stderr.write(`honeywall: ${failureLine(f)} (rule not loaded)\n`);
  const temp = mkdtempSync(join(tmpdir(), 'honeywall-rules-'));
  const cleanup = () => rmSync(temp, { recursive: true, force: true });
  try {
    const artifact = join(temp, 'rules.hwm');
    await writeArtifact(artifact, r.plan);
    return { artifact, problems: r.failures.length, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
