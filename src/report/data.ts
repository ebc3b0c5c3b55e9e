/**
 * Tensors built from the uint8 images of an {@link ImageSplit} (full MNIST, Fashion-MNIST), only for the rows a
 * step needs, so that a large data set never sits in memory as floats as a whole; and the Fashion-MNIST split the
 * sections share.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ImageSplit, loadFashionMnist } from '../node/datasets.js';
import type { ReportContext } from './types.js';

const PER = 784;

/** Float tensors `[rows.length, 28, 28, 1]` in [0, 1] of the given rows of a part (a new tensor). */
export function imagesOf(part: ImageSplit['train'], rows: readonly number[]): tf.Tensor4D {
  const src = part.source.images;
  const out = new Float32Array(rows.length * PER);
  rows.forEach((r, i) => {
    const from = part.indices[r] * PER;
    for (let k = 0; k < PER; k++) out[i * PER + k] = src[from + k] / 255;
  });
  return tf.tensor4d(out, [rows.length, 28, 28, 1]);
}

/** The labels of the given rows of a part, int32 `[rows.length]` (a new tensor). */
export function labelsOf(part: ImageSplit['train'], rows: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(
    rows.map((r) => part.labels[r]),
    'int32',
  );
}

/** `[0, 1, ..., n - 1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** How the shared Fashion-MNIST split is drawn. */
export interface FashionSplitConfig {
  /** Images kept per class (of 7,000) before the split. */
  limitPerClass: number;
  /** Fraction of each class held out as the test part. */
  testFraction: number;
}

/**
 * The Fashion-MNIST split shared by the sections of one run (`ctx.shared` key `fashion:<limit>:<fraction>`, seeded
 * with `ctx.seed`): the images stay uint8, tensors are built per step with {@link imagesOf}. Disposed by the runner.
 *
 * @example
 * ```ts
 * const fashion = await sharedFashion(ctx, { limitPerClass: 3500, testFraction: 1 / 7 });
 * ```
 */
export function sharedFashion(
  ctx: Pick<ReportContext, 'seed' | 'shared'>,
  cfg: FashionSplitConfig,
): Promise<ImageSplit> {
  return ctx.shared(`fashion:${cfg.limitPerClass}:${cfg.testFraction}`, () =>
    loadFashionMnist({ seed: ctx.seed, testFraction: cfg.testFraction, limitPerClass: cfg.limitPerClass }),
  );
}
