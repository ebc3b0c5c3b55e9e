/**
 * The batch side of {@link FeatureExtractor}: the per-tap configuration it resolves, feature dimensions from layer
 * shapes, the check of an image batch against the model's input, the combination of augmented views and the
 * joining of read-back feature chunks. Helpers only; the class lives in `extractor.ts`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkTensor } from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { NormMode, PoolMode, Standardizer } from './normalize.js';
import type { AugmentOptions, ResizeMode, ViewCombine } from './views.js';

/** A tap as the extractor keeps it: its resolved layer, post-processing and output slot. */
export interface TapConfig {
  /** Unique name of the tap. */
  name: string;
  /** The layer's class (the op for a graph node). */
  className: string;
  /** Output shape of the layer, batch as `null`. */
  outputShape: (number | null)[];
  /** Pooling of the activations. */
  pool: PoolMode;
  /** Normalisation after pooling. */
  normalize: NormMode;
  /** Exponent of the signed power normalisation. */
  powerAlpha: number;
  /** The standardisation applied last, if any. */
  standardizer: Standardizer | undefined;
  /** Index into the forward pass outputs. */
  output: number;
}

/** Number of elements of one item of a batch of `shape` (unknown dimensions count as 1). */
export function elems(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((p, d) => p * (d ?? 1), 1);
}

/** Feature dimension of a layer output of `shape` after `pool` (null when a dimension is unknown). */
export function poolDim(shape: readonly (number | null)[], pool: PoolMode): number | null {
  if (shape.length < 2 || shape.slice(1).some((d) => d === null)) return null;
  if (shape.length === 2 || pool === 'flatten') return elems(shape);
  return shape[shape.length - 1];
}

/** What a batch is checked against: the model's input and the extractor's resizing and augmentation. */
export interface BatchInput {
  /** The model's input shape, batch as `null` (`[]` when unknown). */
  inputShape: readonly (number | null)[];
  /** The `[height, width]` images are brought to, if any. */
  size: readonly [number, number] | undefined;
  /** How images of another size are adapted. */
  resize: ResizeMode;
  /** The resolved augmentation, if any. */
  augment: Required<AugmentOptions> | undefined;
}

/**
 * Checks one batch for `fn.method`: rank, channels and size of an image batch, or the shape of another input;
 * at least one item. Throws before any tensor is allocated.
 */
export function checkImageBatch(
  fn: string,
  method: string,
  argument: string,
  images: unknown,
  input: BatchInput,
): asserts images is tf.Tensor {
  const want = input.inputShape;
  if (want.length === 4) {
    checkTensor(`${fn}.${method}`, argument, images, { rank: 4 });
    const c = want[3];
    if (c !== null && images.shape[3] !== c) {
      throw new ShapeMismatchError(
        `${fn}.${method}`,
        argument,
        `an NHWC image batch with ${c} channel(s)`,
        images.shape,
      );
    }
    if (
      input.size !== undefined &&
      input.resize === 'none' &&
      input.augment === undefined &&
      (images.shape[1] !== input.size[0] || images.shape[2] !== input.size[1])
    ) {
      throw new ShapeMismatchError(
        `${fn}.${method}`,
        argument,
        `images of ${input.size[0]}x${input.size[1]} (resize 'none'; use 'stretch' or 'center-crop' for other sizes)`,
        images.shape,
      );
    }
  } else {
    checkTensor(`${fn}.${method}`, argument, images, want.length > 0 ? { rank: want.length } : {});
    const ok = want.every((d, i) => i === 0 || d === null || d === images.shape[i]);
    if (!ok) {
      throw new ShapeMismatchError(
        `${fn}.${method}`,
        argument,
        `a batch of shape [${want.map((d) => d ?? '*').join(', ')}]`,
        images.shape,
      );
    }
    if (input.augment !== undefined) {
      throw new InvalidArgumentError(
        fn,
        'options.augment',
        'no augmentation for a model without an image input',
        input.augment,
      );
    }
  }
  if (images.shape[0] === 0) {
    throw new ShapeMismatchError(`${fn}.${method}`, argument, 'at least one image', images.shape);
  }
}

/**
 * Combines the features of `views` views of `n` images (`[views * n, D]`, view-major) into `[n, D]` (mean or
 * sum) or `[n, views * D]` (concat). Call inside `tf.tidy`.
 */
export function combineViews(f: tf.Tensor2D, views: number, n: number, combine: ViewCombine): tf.Tensor2D {
  const r = tf.reshape(f, [views, n, f.shape[1]]);
  if (combine === 'concat') {
    return tf.reshape(tf.transpose(r, [1, 0, 2]), [n, views * f.shape[1]]) as tf.Tensor2D;
  }
  return (combine === 'sum' ? tf.sum(r, 0) : tf.mean(r, 0)) as tf.Tensor2D;
}

/** Joins read-back feature chunks into one `rows * dim` array. */
export function joinChunks(chunks: readonly Float32Array[], rows: number, dim: number): Float32Array {
  const data = new Float32Array(rows * dim);
  let off = 0;
  for (const ch of chunks) {
    data.set(ch, off);
    off += ch.length;
  }
  return data;
}
