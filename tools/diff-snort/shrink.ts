/**
 * Shrinking a disagreement with fast-check's own shrinker: the case's generator proposes smaller cases (fewer frames,
 * fewer rules, shorter payloads, simpler options); a round runs a batch of proposals through both engines at once and
 * keeps the first that still shows the same kind of disagreement, as fast-check's sequential shrinking would.
 */
import type fc from 'fast-check';
import type { Case } from './case.js';
import { runBatch, type CaseResult } from './batch.js';

export interface Shrunk {
  result: CaseResult;
  rounds: number;
  snortRuns: number;
}

export interface ShrinkOptions {
  /** Rounds at most (each is one batch). */
  maxRounds: number;
  /** Proposals tried per round at most. */
  perRound: number;
}

export const DEFAULT_SHRINK: ShrinkOptions = { maxRounds: 40, perRound: 32 };

export async function shrinkCase(
  arb: fc.Arbitrary<Case>,
  start: fc.Value<Case>,
  first: CaseResult,
  dir: string,
  opts: ShrinkOptions = DEFAULT_SHRINK,
): Promise<Shrunk> {
  let current = start;
  let best = first;
  let snortRuns = 0;
  let rounds = 0;
  for (; rounds < opts.maxRounds; rounds++) {
    const proposals = [...arb.shrink(current.value, current.context).take(opts.perRound)];
    if (proposals.length === 0) break;
    const { results, times } = await runBatch(
      proposals.map((p) => p.value),
      dir,
    );
    snortRuns += times.snortRuns;
    const k = results.findIndex((r) => r.verdict === first.verdict);
    if (k < 0) break;
    current = proposals[k]!;
    best = results[k]!;
  }
  // once more alone, in slot 0: the recorded outputs are then those of exactly the files a fixture keeps
  const alone = await runBatch([best.case], dir);
  snortRuns += alone.times.snortRuns;
  return { result: alone.results[0]!, rounds, snortRuns };
}
