/**
 * Seeded, stratified train/test splits and class subsetting over plain label arrays (no tensors), so the same
 * seed gives the same split on every backend and platform. The MNIST loader of `transferkit/node` is built on it.
 *
 * @module
 */
import {
  checkInRange,
  checkInteger,
  checkNonEmptyArray,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** Options of {@link stratifiedSplit}. */
export interface StratifiedSplitOptions {
  /** Seed of the split (integer). */
  seed: number;
  /**
   * Fraction of each class that goes to the test part, in [0, 1). Per class, `round(n * testFraction)` items.
   * @default 0.2
   */
  testFraction?: number;
  /**
   * Keep only these original labels (e.g. `[0, 1, 2, 3, 4]`). Order matters when `relabel` is true.
   * @default every label present, ascending
   */
  classes?: readonly number[];
  /**
   * Map `classes[i]` to label `i` in the returned labels (e.g. digits 5-9 become 0-4).
   * @default false
   */
  relabel?: boolean;
  /**
   * Use at most this many items per class (drawn at random with the seed) before splitting.
   * @default no limit
   */
  limitPerClass?: number;
}

/** The result of {@link stratifiedSplit}: indices into the original arrays, and the labels of those items. */
export interface IndexSplit {
  /** Indices of the training items, in a seeded random order. */
  trainIndices: number[];
  /** Indices of the test items, in a seeded random order. */
  testIndices: number[];
  /** Labels of the training items (relabelled to 0..k-1 when `relabel` is true). */
  trainLabels: number[];
  /** Labels of the test items (relabelled when `relabel` is true). */
  testLabels: number[];
  /** The original labels kept, in the order that defines relabelling. */
  classes: number[];
}

/** The known keys of {@link StratifiedSplitOptions}. */
const STRATIFIED_SPLIT_OPTION_KEYS = knownKeys<StratifiedSplitOptions>({
  seed: true,
  testFraction: true,
  classes: true,
  relabel: true,
  limitPerClass: true,
});

/**
 * Splits items into train and test parts class by class, so both parts keep the class proportions: for each kept
 * class, its items are shuffled with the seed, optionally truncated to `limitPerClass`, and the first
 * `round(n * testFraction)` go to the test part. Both parts are then shuffled (seeded).
 *
 * @param labels the label of each item (integers)
 * @throws {@link InvalidArgumentError} for non-integer labels, a bad fraction, or a class that has no item
 *
 * @example
 * ```ts
 * const split = stratifiedSplit([0, 1, 0, 1, 2, 2], { seed: 1, testFraction: 0.5, classes: [1, 2], relabel: true });
 * split.trainLabels; // e.g. [1, 0]  (original 2 -> 1, original 1 -> 0)
 * ```
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: StratifiedSplitOptions): IndexSplit {
  const fn = 'stratifiedSplit';
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new InvalidArgumentError(fn, 'labels', 'an array of integer labels', labels);
  }
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, STRATIFIED_SPLIT_OPTION_KEYS);
  checkInteger(fn, 'options.seed', opts.seed);
  const testFraction = opts.testFraction ?? 0.2;
  checkInRange(fn, 'options.testFraction', testFraction, 0, 1, { hi: true });
  if (opts.limitPerClass !== undefined) checkInteger(fn, 'options.limitPerClass', opts.limitPerClass, 1);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l)) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, 'an integer label', l);
    }
    let list = byClass.get(l);
    if (list === undefined) {
      list = [];
      byClass.set(l, list);
    }
    list.push(i);
  }
  let classes: number[];
  if (opts.classes !== undefined) {
    checkNonEmptyArray(fn, 'options.classes', opts.classes);
    classes = [...opts.classes];
    const seen = new Set<number>();
    for (const c of classes) {
      if (!byClass.has(c)) {
        throw new InvalidArgumentError(
          fn,
          'options.classes',
          `labels present in the data (${[...byClass.keys()].sort((a, b) => a - b).join(', ')})`,
          opts.classes,
        );
      }
      if (seen.has(c)) throw new InvalidArgumentError(fn, 'options.classes', 'distinct labels', opts.classes);
      seen.add(c);
    }
  } else {
    classes = [...byClass.keys()].sort((a, b) => a - b);
  }
  const rng = new Rng(opts.seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const c of classes) {
    let items = rng.shuffle((byClass.get(c) as number[]).slice());
    if (opts.limitPerClass !== undefined) items = items.slice(0, opts.limitPerClass);
    const nTest = Math.round(items.length * testFraction);
    test.push(...items.slice(0, nTest));
    train.push(...items.slice(nTest));
  }
  rng.shuffle(train);
  rng.shuffle(test);
  const map = new Map<number, number>(classes.map((c, i) => [c, opts.relabel ? i : c]));
  const relabel = (idx: number[]) => idx.map((i) => map.get(labels[i]) as number);
  return {
    trainIndices: train,
    testIndices: test,
    trainLabels: relabel(train),
    testLabels: relabel(test),
    classes,
  };
}

/** The known keys of the options of `batchIndices`. */
const BATCH_OPTION_KEYS = knownKeys<{ seed?: number; dropRemainder?: boolean }>({
  seed: true,
  dropRemainder: true,
});

/**
 * Splits `0..n-1` into consecutive batches of at most `batchSize` indices, in a seeded random order (or in order
 * when `seed` is undefined). The last batch may be smaller unless `dropRemainder` is true.
 *
 * @example
 * ```ts
 * batchIndices(5, 2, { seed: 3 }); // e.g. [[4, 0], [2, 3], [1]]
 * ```
 */
export function batchIndices(
  n: number,
  batchSize: number,
  options: { seed?: number; dropRemainder?: boolean } = {},
): number[][] {
  const fn = 'batchIndices';
  checkInteger(fn, 'n', n, 0);
  checkInteger(fn, 'batchSize', batchSize, 1);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, BATCH_OPTION_KEYS);
  if (opts.seed !== undefined) checkInteger(fn, 'options.seed', opts.seed);
  const order =
    opts.seed === undefined ? Array.from({ length: n }, (_, i) => i) : new Rng(opts.seed).permutation(n);
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && opts.dropRemainder) break;
    out.push(b);
  }
  return out;
}
