/**
 * Cases drawn from a seed: the area mix (or one area), fast-check's generators driven by a seeded pure-rand
 * generator, each case kept as a fast-check Value so that it can be shrunk later with its generator's own shrinker.
 */
import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { AREAS, type Area, type Case } from './case.js';
import { AREA_WEIGHTS, areaArb } from './gen/areas.js';

export interface Drawn {
  index: number;
  value: fc.Value<Case>;
  arb: fc.Arbitrary<Case>;
}

/** The areas a run covers, with their generators (sampled left out, and said so, when the corpus is absent). */
export function areaArbs(areas: readonly Area[]): { area: Area; arb: fc.Arbitrary<Case> }[] {
  const out: { area: Area; arb: fc.Arbitrary<Case> }[] = [];
  for (const a of areas) {
    const arb = areaArb(a);
    if (arb) out.push({ area: a, arb });
    else console.warn(`[diff-snort] area ${a}: the rule corpus (../shared/corpus/rules) is absent, area left out`);
  }
  return out;
}

/** `count` cases from `seed`: each picks its area by weight, then draws the case (every third with fast-check's bias). */
export function drawCases(seed: number, count: number, areas: readonly Area[] = AREAS): Drawn[] {
  const arbs = areaArbs(areas);
  if (arbs.length === 0) throw new Error('no area to generate');
  const mrng = new fc.Random(xoroshiro128plus(seed));
  const total = arbs.reduce((s, a) => s + AREA_WEIGHTS[a.area], 0);
  const out: Drawn[] = [];
  for (let i = 0; i < count; i++) {
    let pick = mrng.nextInt(0, total - 1);
    let chosen = arbs[0]!;
    for (const a of arbs) {
      if (pick < AREA_WEIGHTS[a.area]) {
        chosen = a;
        break;
      }
      pick -= AREA_WEIGHTS[a.area];
    }
    out.push({ index: i, arb: chosen.arb, value: chosen.arb.generate(mrng, i % 3 === 0 ? 2 : undefined) });
  }
  return out;
}
