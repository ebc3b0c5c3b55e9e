/**
 * From patch scores back to images: Oquab et al.'s power mean and the usual alternatives, and per-class
 * localisation maps.
 *
 * Oquab, Bottou, Laptev & Sivic (2014), Sec. 3.3, Eq. (4): the score of class C for an image with M patches is
 *
 *     score(C) = (1/M) sum_{i=1..M} y(P_i, C)^k,   k = 5,
 *
 * where y(P_i, C) is the network's output (a probability) for patch P_i. Large k focuses on the highest-scoring
 * patches (k -> infinity tends to the max, k = 1 is the mean), while still counting how many patches agree.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { PatchGrid } from './sampler.js';

/**
 * How patch scores become an image score: Oquab's `'power'` mean, or `'max'`, or `'mean'`.
 *
 * @example
 * ```ts
 * const method: PatchAggregation = 'power';
 * ```
 */
export type PatchAggregation = 'power' | 'max' | 'mean';

/**
 * Options of {@link aggregatePatchScores}.
 *
 * @example
 * ```ts
 * const opts: AggregateOptions = { method: 'power', power: 5 };
 * ```
 */
export interface AggregateOptions {
  /** The aggregation. @default 'power' */
  method?: PatchAggregation;
  /** The exponent k of the power mean. @default 5 */
  power?: number;
}

/** The known keys of {@link AggregateOptions}. */
const AGGREGATE_OPTION_KEYS = knownKeys<AggregateOptions>({ method: true, power: true });

/**
 * Aggregates patch scores into image scores: `'power'`: `(1/M) sum_i y_i^k` (Oquab et al. 2014, Eq. 4, k = 5 by
 * default, no k-th root, as in the paper; the ranking is the same with or without it); `'max'`: `max_i y_i`;
 * `'mean'`: `(1/M) sum_i y_i`. Use probabilities (in [0, 1]) for the power mean.
 *
 * @param scores `[images, patches, classes]` (or `[patches, classes]` for one image).
 * @returns `[images, classes]` (or `[classes]`), owned by the caller.
 * @example
 * ```ts
 * const s = tf.tensor3d([[[0.9, 0.1], [0.2, 0.3]]]); // 1 image, 2 patches, 2 classes
 * aggregatePatchScores(s, { method: 'power', power: 5 }); // [[(0.9^5 + 0.2^5) / 2, (0.1^5 + 0.3^5) / 2]]
 * ```
 */
export function aggregatePatchScores<T extends tf.Tensor2D | tf.Tensor3D>(
  scores: T,
  options?: AggregateOptions,
): T extends tf.Tensor3D ? tf.Tensor2D : tf.Tensor1D {
  const fn = 'aggregatePatchScores';
  checkTensor(fn, 'scores', scores, { rank: [2, 3] });
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, AGGREGATE_OPTION_KEYS);
  const method = o.method ?? 'power';
  checkOneOf(fn, 'options.method', method, ['power', 'max', 'mean'] as const);
  const k = o.power ?? 5;
  checkPositive(fn, 'options.power', k);
  if (scores.shape[scores.rank - 2] === 0) {
    throw new ShapeMismatchError(fn, 'scores', 'at least one patch', scores.shape);
  }
  const axis = scores.rank - 2;
  return tf.tidy(fn, () => {
    const y = scores.dtype === 'float32' ? scores : tf.cast(scores, 'float32');
    if (method === 'max') return tf.max(y, axis);
    if (method === 'mean') return tf.mean(y, axis);
    return tf.mean(tf.pow(y, tf.scalar(k)), axis);
  }) as never;
}

/**
 * Options of {@link localizationMap}.
 *
 * @example
 * ```ts
 * localizationMap(scores, grid, { maxChunkBytes: 16 * 1024 * 1024 });
 * ```
 */
export interface LocalizationOptions {
  /** Upper bound on the bytes of the intermediate `[images, classes, patches, width]` tensor per chunk. @default 67108864 */
  maxChunkBytes?: number;
}

/** The known keys of {@link LocalizationOptions}. */
const LOCALIZATION_OPTION_KEYS = knownKeys<LocalizationOptions>({ maxChunkBytes: true });

/**
 * A per-class localisation map: for every pixel, the mean score of the patches that cover it (a pixel is covered
 * when its centre lies in the patch). High values show where the high-scoring patches are, i.e. where the network
 * sees class C (Oquab et al. 2014, Fig. 6). Computed with two matrix products per chunk of images:
 * `map_C = R^T diag(y_C) Cols`, with `R[p, y]` and `Cols[p, x]` the row and column indicators of patch p, divided by
 * the number of covering patches.
 *
 * @param scores `[images, grid.count, classes]` (or `[grid.count, classes]` for one image).
 * @returns `[images, grid.height, grid.width, classes]` (NHWC, so it can be drawn as an image), owned by the caller.
 * Pixels no patch covers are 0.
 * @example
 * ```ts
 * const scores = await predictPatches(model, images, grid, [28, 28], { activation: 'softmax' });
 * const maps = localizationMap(scores, grid); // [N, H, W, classes]
 * ```
 */
export function localizationMap(
  scores: tf.Tensor2D | tf.Tensor3D,
  grid: PatchGrid,
  options?: LocalizationOptions,
): tf.Tensor4D {
  const fn = 'localizationMap';
  checkTensor(fn, 'scores', scores, { rank: [2, 3] });
  if (typeof grid !== 'object' || grid === null || !(grid.boxes instanceof Float32Array)) {
    throw new InvalidArgumentError(fn, 'grid', 'a PatchGrid from PatchSampler.grid()', grid);
  }
  const P = scores.shape[scores.rank - 2];
  if (P !== grid.count) {
    throw new ShapeMismatchError(fn, 'scores', `[images, ${grid.count} patches, classes]`, scores.shape);
  }
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, LOCALIZATION_OPTION_KEYS);
  const maxBytes = o.maxChunkBytes ?? 64 * 1024 * 1024;
  checkPositive(fn, 'options.maxChunkBytes', maxBytes);
  const { height: H, width: W } = grid;
  const rows = new Float32Array(H * P); // R^T: [H, P]
  const cols = new Float32Array(P * W); // [P, W]
  for (let p = 0; p < P; p++) {
    const y1 = grid.boxes[4 * p];
    const x1 = grid.boxes[4 * p + 1];
    const y2 = grid.boxes[4 * p + 2];
    const x2 = grid.boxes[4 * p + 3];
    for (let y = Math.max(0, Math.ceil(y1 - 0.5)); y < H && y + 0.5 < y2; y++) rows[y * P + p] = 1;
    for (let x = Math.max(0, Math.ceil(x1 - 0.5)); x < W && x + 0.5 < x2; x++) cols[p * W + x] = 1;
  }
  const N = scores.rank === 3 ? scores.shape[0] : 1;
  const K = scores.shape[scores.rank - 1];
  const perImage = K * P * W * 4;
  const chunk = Math.max(1, Math.floor(maxBytes / perImage));
  return tf.tidy(fn, () => {
    const s3 = tf.cast(scores.rank === 3 ? scores : tf.expandDims(scores, 0), 'float32') as tf.Tensor3D;
    const rT = tf.tensor2d(rows, [H, P]);
    const c = tf.tensor2d(cols, [P, W]);
    const count = tf.matMul(rT, c); // [H, W]: patches covering each pixel
    const safe = tf.maximum(count, tf.scalar(1));
    const parts: tf.Tensor4D[] = [];
    for (let start = 0; start < N; start += chunk) {
      const m = Math.min(chunk, N - start);
      const s = tf.slice(s3, [start, 0, 0], [m, P, K]);
      // [m, P, K] -> [P, m*K, 1] * [P, 1, W] -> [P, m*K*W]
      const sp = tf.reshape(tf.transpose(s, [1, 0, 2]), [P, m * K, 1]);
      const weighted = tf.reshape(tf.mul(sp, tf.reshape(c, [P, 1, W])), [P, m * K * W]);
      const sum = tf.reshape(tf.matMul(rT, weighted), [H, m, K, W]); // [H, m, K, W]
      const mean = tf.div(tf.transpose(sum, [1, 0, 3, 2]), tf.reshape(safe, [1, H, W, 1])) as tf.Tensor4D;
      parts.push(mean);
    }
    return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  });
}
