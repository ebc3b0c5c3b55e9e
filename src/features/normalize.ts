/**
 * Per-tap post-processing of activations: pooling of conv maps to vectors, and the normalisations of Razavian et
 * al. 2014 (L2, signed power then L2) plus a standardisation fitted on training features.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkNumber, checkOneOf, checkPositive, checkTensor, isTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { scoped } from '../core/memory.js';
import { FeatureMatrix } from './matrix.js';

/**
 * How a tap's activations become one vector per image.
 *
 * @example
 * ```ts
 * new FeatureExtractor(model, { taps: 'conv2', pool: 'avg' }); // [N, channels]
 * ```
 */
export type PoolMode = 'flatten' | 'avg' | 'max';
/**
 * Vector normalisation. `'power'` is the signed power normalisation sign(x)|x|^a followed by L2.
 *
 * @example
 * ```ts
 * new FeatureExtractor(model, { taps: -2, normalize: 'power', powerAlpha: 0.5 });
 * ```
 */
export type NormMode = 'none' | 'l2' | 'power';

/**
 * The pooling modes, for validation and CLIs.
 *
 * @example
 * ```ts
 * POOL_MODES; // ['flatten', 'avg', 'max']
 * ```
 */
export const POOL_MODES: readonly PoolMode[] = ['flatten', 'avg', 'max'];
/**
 * The normalisation modes, for validation and CLIs.
 *
 * @example
 * ```ts
 * NORM_MODES; // ['none', 'l2', 'power']
 * ```
 */
export const NORM_MODES: readonly NormMode[] = ['none', 'l2', 'power'];

/**
 * Turns activations `[N, ...]` into features `[N, D]`: `'flatten'` keeps every value (row-major), `'avg'`/`'max'`
 * pool over all axes but the first and the last (the spatial axes of an NHWC map, giving `[N, C]`: global
 * average / max pooling). For rank-2 activations all modes return them unchanged (as a new tensor).
 *
 * @example
 * ```ts
 * const v = poolFeatures(tf.ones([2, 4, 4, 8]), 'avg'); // [2, 8]
 * ```
 */
export const poolFeatures = scoped(
  'poolFeatures',
  (x: tf.Tensor, mode: PoolMode = 'flatten'): tf.Tensor2D => {
    checkTensor('poolFeatures', 'x', x);
    checkOneOf('poolFeatures', 'mode', mode, POOL_MODES);
    if (x.rank < 2) {
      throw new ShapeMismatchError('poolFeatures', 'x', 'activations of rank >= 2 ([batch, ...])', x.shape);
    }
    const n = x.shape[0];
    if (x.rank === 2 || mode === 'flatten') return tf.reshape(x, [n, -1]) as tf.Tensor2D;
    const c = x.shape[x.rank - 1];
    const r = tf.reshape(x, [n, -1, c]);
    return (mode === 'avg' ? tf.mean(r, 1) : tf.max(r, 1)) as tf.Tensor2D;
  },
);

/**
 * Row-wise L2 normalisation x / max(||x||_2, eps).
 *
 * @example
 * ```ts
 * l2Normalize(tf.tensor2d([[3, 4]])); // [[0.6, 0.8]]
 * ```
 */
export const l2Normalize = scoped('l2Normalize', (x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D => {
  checkTensor('l2Normalize', 'x', x, { rank: 2 });
  checkPositive('l2Normalize', 'eps', eps);
  const norm = tf.sqrt(tf.sum(tf.square(x), 1, true));
  return tf.div(x, tf.maximum(norm, eps)) as tf.Tensor2D;
});

/**
 * Signed power normalisation (Razavian et al. 2014, for retrieval; Perronnin et al. 2010): sign(x)|x|^alpha,
 * then row-wise L2 normalisation.
 *
 * @example
 * ```ts
 * powerNormalize(tf.tensor2d([[4, -9]]), 0.5); // sign * sqrt: [2, -3] / sqrt(13)
 * ```
 */
export const powerNormalize = scoped(
  'powerNormalize',
  (x: tf.Tensor2D, alpha = 0.5, eps = 1e-12): tf.Tensor2D => {
    checkTensor('powerNormalize', 'x', x, { rank: 2 });
    checkPositive('powerNormalize', 'alpha', alpha);
    const p = tf.mul(tf.sign(x), tf.pow(tf.abs(x), alpha)) as tf.Tensor2D;
    return l2Normalize(p, eps);
  },
);

/**
 * Applies a {@link NormMode} to features `[N, D]`.
 *
 * @example
 * ```ts
 * const y = normalizeFeatures(x, 'power', 0.5);
 * ```
 */
export const normalizeFeatures = scoped(
  'normalizeFeatures',
  (x: tf.Tensor2D, mode: NormMode, alpha = 0.5): tf.Tensor2D => {
    checkOneOf('normalizeFeatures', 'mode', mode, NORM_MODES);
    if (mode === 'l2') return l2Normalize(x);
    if (mode === 'power') return powerNormalize(x, alpha);
    checkTensor('normalizeFeatures', 'x', x, { rank: 2 });
    return tf.reshape(x, x.shape) as tf.Tensor2D;
  },
);

/**
 * A serialised {@link Standardizer}.
 *
 * @example
 * ```ts
 * const json: StandardizerJSON = standardizer.toJSON();
 * const again = Standardizer.fromJSON(json);
 * ```
 */
export interface StandardizerJSON {
  /** Type tag, always `'standardizer'`. */
  kind: 'standardizer';
  /** Per-dimension mean subtracted from the features. */
  mean: number[];
  /** Per-dimension divisor (1 for dimensions with zero variance). */
  std: number[];
}

/**
 * Per-dimension standardisation (x - mean) / std, fitted on training features and reused for test features (and
 * saved with them). Dimensions with zero variance are only centred (std 1). Holds plain arrays, no tensor.
 *
 * @example
 * ```ts
 * const st = await Standardizer.fit(trainFeatures); // FeatureMatrix or Tensor2D
 * const testZ = st.transform(testTensor); // Tensor2D, yours
 * const again = Standardizer.fromJSON(st.toJSON());
 * ```
 */
export class Standardizer {
  /** Per-dimension mean. */
  readonly mean: Float32Array;
  /** Per-dimension standard deviation (1 where the training variance was 0). */
  readonly std: Float32Array;

  constructor(mean: Float32Array, std: Float32Array) {
    if (
      !(mean instanceof Float32Array) ||
      !(std instanceof Float32Array) ||
      mean.length !== std.length ||
      mean.length === 0
    ) {
      throw new InvalidArgumentError(
        'Standardizer',
        'mean/std',
        'two non-empty Float32Arrays of equal length',
        mean,
      );
    }
    for (let j = 0; j < std.length; j++) {
      if (!(std[j] > 0) || !Number.isFinite(std[j])) {
        throw new InvalidArgumentError('Standardizer', `std[${j}]`, 'a finite number > 0', std[j]);
      }
    }
    this.mean = mean;
    this.std = std;
  }

  /** Feature dimension. */
  get dim(): number {
    return this.mean.length;
  }

  /**
   * Fits mean and (population) standard deviation per dimension, two-pass in float64.
   * @param eps variances below eps^2 count as zero (std 1)
   */
  static async fit(features: FeatureMatrix | tf.Tensor2D, eps = 1e-8): Promise<Standardizer> {
    checkPositive('Standardizer.fit', 'eps', eps);
    const fm = isTensor(features) ? await FeatureMatrix.fromTensor(features) : features;
    if (!(fm instanceof FeatureMatrix)) {
      throw new InvalidArgumentError(
        'Standardizer.fit',
        'features',
        'a FeatureMatrix or a rank-2 tensor',
        features,
      );
    }
    if (fm.rows === 0)
      throw new InvalidArgumentError('Standardizer.fit', 'features', 'at least one row', '0 rows');
    const { rows, cols, data } = fm;
    const mean = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
    for (let j = 0; j < cols; j++) mean[j] /= rows;
    const v = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const d = data[i * cols + j] - mean[j];
        v[j] += d * d;
      }
    }
    const std = new Float32Array(cols);
    for (let j = 0; j < cols; j++) {
      const s = Math.sqrt(v[j] / rows);
      std[j] = s > eps ? s : 1;
    }
    return new Standardizer(Float32Array.from(mean), std);
  }

  /** (x - mean) / std for features `[N, D]` (a new tensor). */
  transform(x: tf.Tensor2D): tf.Tensor2D {
    checkTensor('Standardizer.transform', 'x', x, { rank: 2 });
    if (x.shape[1] !== this.dim) {
      throw new ShapeMismatchError(
        'Standardizer.transform',
        'x',
        `features of shape [*, ${this.dim}]`,
        x.shape,
      );
    }
    return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std)) as tf.Tensor2D);
  }

  /** (x - mean) / std for a FeatureMatrix (plain JS, a new matrix). */
  transformMatrix(x: FeatureMatrix): FeatureMatrix {
    if (!(x instanceof FeatureMatrix) || x.cols !== this.dim) {
      throw new ShapeMismatchError(
        'Standardizer.transformMatrix',
        'x',
        `a FeatureMatrix with ${this.dim} columns`,
        x instanceof FeatureMatrix ? [x.rows, x.cols] : 'not a FeatureMatrix',
      );
    }
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < x.cols; j++) {
        const k = i * x.cols + j;
        out[k] = (x.data[k] - this.mean[j]) / this.std[j];
      }
    }
    return new FeatureMatrix(x.rows, x.cols, out, x.name);
  }

  /** A JSON-serialisable copy. */
  toJSON(): StandardizerJSON {
    return { kind: 'standardizer', mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  /** Restores a Standardizer saved with {@link Standardizer.toJSON}. */
  static fromJSON(json: StandardizerJSON): Standardizer {
    if (
      typeof json !== 'object' ||
      json === null ||
      json.kind !== 'standardizer' ||
      !Array.isArray(json.mean) ||
      !Array.isArray(json.std)
    ) {
      throw new InvalidArgumentError(
        'Standardizer.fromJSON',
        'json',
        "an object saved by Standardizer.toJSON() (kind 'standardizer')",
        json,
      );
    }
    for (const [j, m] of json.mean.entries()) checkNumber('Standardizer.fromJSON', `json.mean[${j}]`, m);
    return new Standardizer(Float32Array.from(json.mean), Float32Array.from(json.std));
  }
}
