/**
 * The transfer section's statistics: per-seed accuracies relative to baseB, the regions of n where the paper's
 * findings sit, and the 95% Student-t intervals over seeds the verdicts are read from (render.ts draws and words them).
 *
 * @module
 */
import type { TransferKind, TransferResults } from '../../../index.js';
import { type Interval, mean, tInterval, type Verdict } from '../../stats.js';
import type { TransferSectionResult } from './config.js';

/** Accuracy of `kind` at `n` (n = 0 for the bases) per seed, in the order of `results.seeds`. */
export function perSeed(results: TransferResults, kind: string, n: number): number[] {
  return results.seeds.map((seed) => {
    const run = results.runs.find((r) => r.kind === kind && r.n === n && r.seed === seed);
    return run === undefined ? Number.NaN : run.accuracy;
  });
}

/** `kind(n) - baseB` per seed. */
export function relative(results: TransferResults, kind: TransferKind, n: number): number[] {
  const base = perSeed(results, 'baseB', 0);
  return perSeed(results, kind, n).map((v, i) => v - base[i]);
}

/** Per seed, the mean over `ns` of `kind(n) - baseB` (NaN when a run is missing or `ns` is empty). */
export function meanRelative(results: TransferResults, kind: TransferKind, ns: readonly number[]): number[] {
  const rows = ns.map((n) => relative(results, kind, n));
  return results.seeds.map((_, i) => {
    const xs = rows.map((r) => r[i]);
    return xs.length > 0 && xs.every(Number.isFinite) ? mean(xs) : Number.NaN;
  });
}

/** Whether `results` hold runs of `kind` (the dissimilar split may leave out AnB+). */
export function hasKind(results: TransferResults, kind: TransferKind): boolean {
  return results.runs.some((r) => r.kind === kind);
}

/** A t interval, or null with fewer than two finite values. */
export function interval(xs: readonly number[]): Interval | null {
  return xs.length >= 2 && xs.every(Number.isFinite) ? tInterval(xs) : null;
}

/** Equivalence verdict: the whole interval within +-margin holds, entirely outside does not, else inconclusive. */
export function within(iv: Interval | null, margin: number): Verdict {
  if (iv === null) return 'inconclusive';
  if (iv.lo > -margin && iv.hi < margin) return 'holds';
  if (iv.hi < -margin || iv.lo > margin) return 'does not hold';
  return 'inconclusive';
}

/**
 * The middle values of n (where the paper's BnB dip sits: the central one or two of the interior n, those strictly
 * between the first and the last) and the upper half (where specialisation shows).
 *
 * @example
 * ```ts
 * transferRegions([1, 2, 3, 4, 5, 6]); // { middle: [3, 4], upper: [4, 5, 6] }
 * ```
 */
export function transferRegions(ns: readonly number[]): { middle: number[]; upper: number[] } {
  const k = Math.max(...ns);
  const interior = ns.filter((n) => n > ns[0] && n < k);
  const c = Math.floor((interior.length - 1) / 2);
  const middle = interior.length <= 2 ? interior : interior.slice(c, c + 2);
  return { middle, upper: ns.filter((n) => n > k / 2) };
}

/** The intervals behind the section's verdicts (null with fewer than two seeds). */
export interface TransferIntervals {
  /** Similar split: mean over the middle n of BnB - baseB (the co-adaptation dip: below 0). */
  bnbDip: Interval | null;
  /**
   * Similar split: mean of BnB at the first and the last n minus the mean of BnB over the middle n (the dip's
   * shape against BnB's own ends, which also got their base's epochs: above 0).
   */
  bnbDipEnds: Interval | null;
  /** Similar split: AnB at the first n minus AnB at the last n (specialisation: above 0). */
  anbFall: Interval | null;
  /** Mean over the upper n of AnB(similar) - AnB(dissimilar) (above 0: transfer falls with dissimilarity). */
  dissimilarity: Interval | null;
  /** Similar split: mean over all n of AnB+ - baseB (above 0). */
  anbPlus: Interval | null;
  /** Dissimilar split: mean over all n of AnB+ - baseB. */
  anbPlusDissimilar: Interval | null;
  /** Similar split: mean over all n of BnB+ - baseB (within +-1 point). */
  bnbPlus: Interval | null;
  /**
   * Similar split: mean over the middle n of BnB+ - BnB, how much fine-tuning the copied layers gains over freezing
   * them (above 0 where the frozen lower layers hold co-adapted features the retrained upper layers cannot re-learn).
   */
  coAdaptation: Interval | null;
}

/**
 * The section's intervals: 95% Student-t over seeds of per-seed differences (the seeds are shared by both splits).
 *
 * @example
 * ```ts
 * verdict(transferIntervals(result).bnbDip!, 0, 'below');
 * ```
 */
export function transferIntervals(r: TransferSectionResult): TransferIntervals {
  const sim = r.splits.find((s) => s.name === 'similar')?.results;
  const dis = r.splits.find((s) => s.name === 'dissimilar')?.results;
  const none = null;
  if (sim === undefined) {
    return {
      bnbDip: none,
      bnbDipEnds: none,
      anbFall: none,
      dissimilarity: none,
      anbPlus: none,
      anbPlusDissimilar: none,
      bnbPlus: none,
      coAdaptation: none,
    };
  }
  const ns = sim.ns;
  const { middle, upper } = transferRegions(ns);
  const first = perSeed(sim, 'AnB', ns[0]);
  const last = perSeed(sim, 'AnB', ns[ns.length - 1]);
  let dissimilarity: Interval | null = null;
  if (dis !== undefined && dis.seeds.join() === sim.seeds.join()) {
    const a = meanRelative(sim, 'AnB', upper);
    const b = meanRelative(dis, 'AnB', upper);
    dissimilarity = interval(a.map((v, i) => v - b[i]));
  }
  const ends = meanRelative(sim, 'BnB', [ns[0], ns[ns.length - 1]]);
  const mid = meanRelative(sim, 'BnB', middle);
  return {
    bnbDip: interval(mid),
    bnbDipEnds: interval(ends.map((v, i) => v - mid[i])),
    anbFall: interval(first.map((v, i) => v - last[i])),
    dissimilarity,
    anbPlus: interval(meanRelative(sim, 'AnB+', ns)),
    anbPlusDissimilar:
      dis === undefined || !hasKind(dis, 'AnB+') ? null : interval(meanRelative(dis, 'AnB+', dis.ns)),
    bnbPlus: interval(meanRelative(sim, 'BnB+', ns)),
    coAdaptation: interval(meanRelative(sim, 'BnB+', middle).map((v, i) => v - mid[i])),
  };
}
