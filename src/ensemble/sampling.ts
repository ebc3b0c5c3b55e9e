/**
 * Specialist training sets (Hinton, Vinyals & Dean 2015, section 5.2): a specialist sees data enriched in its
 * subset S of classes (the paper: half from S, half at random from the rest), with labels remapped to S's classes
 * plus one "dustbin" class for everything else. Because S is over-sampled, the dustbin's logit is then corrected
 * by the log of the over-sampling ratio.
 *
 * Plain TypeScript over label arrays: index lists come back, the caller gathers its tensors with them.
 *
 * @module
 */
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { validateClusters } from './clustering.js';

/** Options of `enrichedSample`. */
export interface EnrichedSampleOptions {
  /** Fraction of the sample drawn from the subset's examples, in (0, 1). @default 0.5 */
  subsetFraction?: number;
  /**
   * Where the other examples come from: `'remainder'` (only classes outside the subset, as the paper does) or
   * `'all'` (the whole training set, so some of them are subset examples too).
   * @default 'remainder'
   */
  rest?: 'remainder' | 'all';
  /** Number of examples to draw. @default round(subset examples / subsetFraction): each subset example once */
  size?: number;
  /** Seed of the draw. @default 0 */
  seed?: number;
}

/** A specialist's training set, as indices into the full training set. */
export interface EnrichedSample {
  /** Indices into the training set, shuffled (an index repeats only when a pool is smaller than its share). */
  indices: Int32Array;
  /** Remapped label of each drawn example: `0..|S|-1` for the subset's classes (in the order of `classes`), `|S|` for the dustbin. */
  labels: Int32Array;
  /** Fraction of the whole training set that belongs to the subset (the natural prior of S). */
  naturalSubsetFraction: number;
  /** Fraction of this sample that belongs to the subset. */
  sampleSubsetFraction: number;
  /** The correction to add to the dustbin's logit at inference (see `dustbinLogitShift`). */
  dustbinLogitShift: number;
}

function checkLabelArray(
  fn: string,
  labels: unknown,
  numClasses: number,
): asserts labels is ArrayLike<number> {
  if (
    labels === null ||
    typeof labels !== 'object' ||
    typeof (labels as ArrayLike<number>).length !== 'number' ||
    (labels as ArrayLike<number>).length === 0
  ) {
    throw new InvalidArgumentError(fn, 'labels', 'a non-empty array of class indices', labels);
  }
  const l = labels as ArrayLike<number>;
  for (let i = 0; i < l.length; i++) {
    if (!Number.isInteger(l[i]) || l[i] < 0 || l[i] >= numClasses) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, `an integer in [0, ${numClasses - 1}]`, l[i]);
    }
  }
}

/**
 * Remaps generalist labels to a specialist's outputs: class `classes[j]` becomes `j`, every
 * other class becomes the dustbin `classes.length`.
 *
 * @example
 * ```ts
 * remapLabels([3, 5, 1, 8], [3, 8], 10); // Int32Array [0, 2, 2, 1]
 * ```
 */
export function remapLabels(
  labels: ArrayLike<number>,
  classes: readonly number[],
  numClasses: number,
): Int32Array {
  const fn = 'remapLabels';
  const [set] = validateClusters(fn, [classes], numClasses);
  checkLabelArray(fn, labels, numClasses);
  const map = new Int32Array(numClasses).fill(set.length);
  set.forEach((c, j) => {
    map[c] = j;
  });
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = map[labels[i]];
  return out;
}

/**
 * The dustbin's logit correction for a specialist trained on an enriched sample. A classifier trained with class
 * priors `t` estimates `p_t(c|x) ∝ p(x|c) t_c`; the natural posterior is recovered by adding `log(pi_c / t_c)` to
 * each logit. Within S every class is over-sampled alike, so only the difference between the dustbin and the
 * subset matters:
 *
 *     shift = log((1 - pi_S) / (1 - t_S)) - log(pi_S / t_S)
 *
 * with `pi_S` the subset's natural fraction and `t_S` its fraction in the specialist's training set. (The paper
 * says "incrementing the logit of the dustbin class by the log of the proportion by which the specialist class is
 * oversampled", i.e. `log(t_S / pi_S)`; the formula here also counts the under-sampling of the rest, which matters
 * when S is not a tiny fraction of the data, as with 10 classes.)
 *
 * @example
 * ```ts
 * dustbinLogitShift(0.2, 0.5); // log(0.8 / 0.5) - log(0.2 / 0.5) = log 4
 * ```
 */
export function dustbinLogitShift(naturalSubsetFraction: number, sampleSubsetFraction: number): number {
  const fn = 'dustbinLogitShift';
  checkInRange(fn, 'naturalSubsetFraction', naturalSubsetFraction, 0, 1, { lo: true, hi: true });
  checkInRange(fn, 'sampleSubsetFraction', sampleSubsetFraction, 0, 1, { lo: true, hi: true });
  const pi = naturalSubsetFraction;
  const t = sampleSubsetFraction;
  return Math.log((1 - pi) / (1 - t)) - Math.log(pi / t);
}

/** Draws `count` items from `pool` in passes of fresh permutations (so repeats only once the pool is used up). */
function drawFromPool(pool: number[], count: number, rng: Rng, out: number[]): void {
  let left = count;
  while (left > 0) {
    const perm = rng.permutation(pool.length);
    const take = Math.min(left, pool.length);
    for (let i = 0; i < take; i++) out.push(pool[perm[i]]);
    left -= take;
  }
}

/** The known keys of {@link EnrichedSampleOptions}. */
const ENRICHED_SAMPLE_OPTION_KEYS = knownKeys<EnrichedSampleOptions>({
  subsetFraction: true,
  rest: true,
  size: true,
  seed: true,
});

/**
 * Draws a specialist's training set: `subsetFraction` of it from the examples of `classes`, the rest from the other
 * classes (or from all, with `rest: 'all'`), with labels remapped to the subset's classes plus a dustbin, and the
 * dustbin's logit correction for the over-sampling (Hinton et al. 2015, section 5.2).
 *
 * @param labels the generalist's training labels (class indices)
 * @param classes the specialist's subset S (generalist class indices)
 * @example
 * ```ts
 * const s = enrichedSample(yTrain, [3, 5, 8], 10, { subsetFraction: 0.5, seed: 1 });
 * const xs = tf.gather(xTrain, s.indices); // the caller's tensors, gathered with the indices
 * ```
 */
export function enrichedSample(
  labels: ArrayLike<number>,
  classes: readonly number[],
  numClasses: number,
  options?: EnrichedSampleOptions,
): EnrichedSample {
  const fn = 'enrichedSample';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, ENRICHED_SAMPLE_OPTION_KEYS);
  const [set] = validateClusters(fn, [classes], numClasses);
  checkLabelArray(fn, labels, numClasses);
  const f = opts.subsetFraction ?? 0.5;
  checkInRange(fn, 'options.subsetFraction', f, 0, 1, { lo: true, hi: true });
  const rest = opts.rest ?? 'remainder';
  checkOneOf(fn, 'options.rest', rest, ['remainder', 'all'] as const);
  const seed = opts.seed ?? 0;
  checkInteger(fn, 'options.seed', seed);

  const inS = new Uint8Array(numClasses);
  for (const c of set) inS[c] = 1;
  const subsetPool: number[] = [];
  const otherPool: number[] = [];
  const allPool: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (inS[labels[i]]) subsetPool.push(i);
    else otherPool.push(i);
    allPool.push(i);
  }
  if (subsetPool.length === 0) {
    throw new InvalidArgumentError(
      fn,
      'labels',
      `at least one example of the classes [${set.join(', ')}]`,
      labels,
    );
  }
  if (otherPool.length === 0) {
    throw new InvalidArgumentError(
      fn,
      'labels',
      `at least one example outside the classes [${set.join(', ')}] (for the dustbin)`,
      labels,
    );
  }
  const size = opts.size ?? Math.max(2, Math.round(subsetPool.length / f));
  checkInteger(fn, 'options.size', size, 2);
  const nSubset = Math.min(size - 1, Math.max(1, Math.round(f * size)));
  const rng = new Rng(seed);
  const drawn: number[] = [];
  drawFromPool(subsetPool, nSubset, rng, drawn);
  drawFromPool(rest === 'remainder' ? otherPool : allPool, size - nSubset, rng, drawn);
  rng.shuffle(drawn);

  const map = new Int32Array(numClasses).fill(set.length);
  set.forEach((c, j) => {
    map[c] = j;
  });
  const indices = Int32Array.from(drawn);
  const out = new Int32Array(indices.length);
  let subsetDrawn = 0;
  for (let i = 0; i < indices.length; i++) {
    out[i] = map[labels[indices[i]]];
    if (out[i] < set.length) subsetDrawn++;
  }
  const natural = subsetPool.length / labels.length;
  const sample = subsetDrawn / indices.length;
  return {
    indices,
    labels: out,
    naturalSubsetFraction: natural,
    sampleSubsetFraction: sample,
    dustbinLogitShift: sample < 1 ? dustbinLogitShift(natural, sample) : 0,
  };
}
