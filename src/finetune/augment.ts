/**
 * Training-time augmentation of image batches for {@link finetune}: seeded random crops (resized back) and
 * horizontal flips.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { FinetuneAugment } from './types.js';

/** {@link FinetuneAugment} with every field set. */
export type ResolvedAugment = Required<FinetuneAugment>;

/** The known keys of {@link FinetuneAugment}. */
const AUGMENT_OPTION_KEYS = knownKeys<FinetuneAugment>({ flip: true, minCrop: true, copies: true });

/** Resolves `augment` (false / true / options) to full options, or `undefined` when off. */
export function resolveFinetuneAugment(
  fn: string,
  augment: boolean | FinetuneAugment | undefined,
): ResolvedAugment | undefined {
  if (augment === undefined || augment === false) return undefined;
  if (augment !== true && (typeof augment !== 'object' || augment === null)) {
    throw new InvalidArgumentError(fn, 'options.augment', 'a boolean or { flip, minCrop, copies }', augment);
  }
  const o = augment === true ? {} : checkOptions(fn, 'options.augment', augment);
  checkOptionKeys(fn, 'options.augment', o, AUGMENT_OPTION_KEYS);
  const flip = o.flip ?? true;
  if (typeof flip !== 'boolean')
    throw new InvalidArgumentError(fn, 'options.augment.flip', 'a boolean', flip);
  const minCrop = o.minCrop ?? 0.8;
  checkInRange(fn, 'options.augment.minCrop', minCrop, 0, 1, { lo: true });
  const copies = o.copies ?? 2;
  checkInteger(fn, 'options.augment.copies', copies, 1);
  return { flip, minCrop, copies };
}

/**
 * A randomly augmented copy of an image batch: each image cropped to a random square-ish window whose sides are
 * `minCrop`..1 of the image's (bilinear, resized back to the batch's size), then flipped left-right with
 * probability 1/2. Draws from `rng` only (same seed, same batch -> same result). Returns a new tensor.
 *
 * @example
 * ```ts
 * const aug = augmentImages(x, new Rng(1), { flip: true, minCrop: 0.8, copies: 1 });
 * ```
 */
export function augmentImages(x: tf.Tensor4D, rng: Rng, augment: ResolvedAugment): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const boxes: number[] = [];
  const flips: number[] = [];
  for (let i = 0; i < n; i++) {
    const sy = augment.minCrop < 1 ? rng.uniform(augment.minCrop, 1) : 1;
    const sx = augment.minCrop < 1 ? rng.uniform(augment.minCrop, 1) : 1;
    const y0 = rng.uniform(0, 1 - sy);
    const x0 = rng.uniform(0, 1 - sx);
    boxes.push(y0, x0, y0 + sy, x0 + sx);
    flips.push(augment.flip && rng.next() < 0.5 ? 1 : 0);
  }
  return tf.tidy(() => {
    let out: tf.Tensor4D = x;
    if (augment.minCrop < 1) {
      out = tf.image.cropAndResize(
        x,
        tf.tensor2d(boxes, [n, 4]),
        tf.tensor1d(
          Int32Array.from({ length: n }, (_, i) => i),
          'int32',
        ),
        [h, w],
        'bilinear',
      );
    }
    if (augment.flip) {
      const m = tf.tensor4d(flips, [n, 1, 1, 1]);
      out = tf.add(tf.mul(out, tf.sub(1, m)), tf.mul(tf.reverse(out, 2), m));
    }
    return out === x ? tf.clone(x) : out;
  });
}
