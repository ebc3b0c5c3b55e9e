/**
 * The patches section's claim interval: a paired percentile bootstrap over test scenes of the mAP of two ways of
 * scoring the scenes (a resample draws scenes with replacement; both methods' per-class APs and mAPs are recomputed
 * on the same draw). Pure TypeScript, no tensors.
 *
 * @module
 */
import { meanAveragePrecision } from '../../../index.js';
import { bootstrapInterval } from '../../stats.js';
import type { PatchesIntervals } from './config.js';

/**
 * The bootstrap intervals of mAP(a), mAP(b) and mAP(a) - mAP(b), resampling the scenes (rows). `truth[i][c]` says
 * whether digit c is in scene i. The three intervals use the same resamples (same seed); the estimates are the
 * full-sample values. A class with no positive in a resample is left out of both means, as in the full-sample mAP.
 *
 * @example
 * ```ts
 * const { gain } = pairedMapIntervals(patchScores, wholeScores, truth, { seed: 29, resamples: 1000 });
 * ```
 */
export function pairedMapIntervals(
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  truth: readonly (readonly boolean[])[],
  boot: { seed: number; resamples: number },
): PatchesIntervals {
  const n = truth.length;
  if (a.length !== n || b.length !== n) {
    throw new RangeError(
      `\`pairedMapIntervals\` needs one score row per scene: ${a.length}, ${b.length}, ${n}`,
    );
  }
  const rows = Array.from({ length: n }, (_, i) => i);
  const mapOf = (scores: readonly (readonly number[])[], idx: readonly number[]) =>
    meanAveragePrecision(
      idx.map((i) => scores[i]),
      idx.map((i) => truth[i]),
    ).map;
  // The same seed draws the same resamples in the three calls: the intervals are paired.
  return {
    patches: bootstrapInterval(rows, { ...boot, statistic: (idx) => mapOf(a, idx) }),
    whole: bootstrapInterval(rows, { ...boot, statistic: (idx) => mapOf(b, idx) }),
    gain: bootstrapInterval(rows, { ...boot, statistic: (idx) => mapOf(a, idx) - mapOf(b, idx) }),
  };
}
