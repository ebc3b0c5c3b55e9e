/**
 * Translation jitter: every image of a batch shifted by a few whole pixels (Hinton et al. trained their MNIST
 * teacher on inputs "jittered by up to two pixels in any direction").
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkImageBatch, checkInteger, checkNonEmptyArray } from '../core/checks.js';
import { cropAndResize } from '../core/crop.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/**
 * Shifts image `n` of an NHWC batch by `shifts[n] = [dy, dx]` whole pixels (positive: down / right), filling the
 * uncovered border with zeros. One zero pad and one `cropAndResize` at whole-pixel positions for the whole batch.
 *
 * @param images `[N, H, W, C]`
 * @param shifts one `[dy, dx]` pair of integers per image
 * @returns a new `[N, H, W, C]` tensor
 * @throws {@link InvalidArgumentError} when a shift is not an integer; {@link ShapeMismatchError} when the number of
 * shifts is not `N`
 *
 * @example
 * ```ts
 * const moved = shiftImages(digits, [[2, 0], [-1, 1]]); // first digit 2 px down, second 1 px up and 1 px right
 * ```
 */
export function shiftImages(
  images: tf.Tensor4D,
  shifts: readonly (readonly [number, number])[],
): tf.Tensor4D {
  return tf.tidy('shiftImages', () => {
    const fn = 'shiftImages';
    checkImageBatch(fn, 'images', images);
    checkNonEmptyArray(fn, 'shifts', shifts);
    const [n, h, w] = images.shape;
    if (shifts.length !== n) {
      throw new ShapeMismatchError(fn, 'shifts', `${n} [dy, dx] pairs (one per image)`, [shifts.length, 2]);
    }
    let pad = 1;
    shifts.forEach((s, i) => {
      if (!Array.isArray(s) || s.length !== 2 || !Number.isInteger(s[0]) || !Number.isInteger(s[1])) {
        throw new InvalidArgumentError(fn, `shifts[${i}]`, 'a pair of integers [dy, dx]', s);
      }
      pad = Math.max(pad, Math.abs(s[0]) + 1, Math.abs(s[1]) + 1);
    });
    // Zero-pad by |shift| + 1 so that every sampled pixel centre lies strictly inside the padded image: the
    // sampling then never meets the boundary test.
    const hp = h + 2 * pad;
    const wp = w + 2 * pad;
    const boxes = new Float32Array(n * 4);
    shifts.forEach((s, i) => {
      // Output row r samples padded row pad - dy + r (whole-pixel positions: bilinear weights are 0 or 1 up to
      // rounding; the wasm backend's 'nearest' mode picks wrong columns for some boxes, so it is not used).
      const top = pad - s[0];
      const left = pad - s[1];
      boxes[i * 4] = top / (hp - 1);
      boxes[i * 4 + 1] = left / (wp - 1);
      boxes[i * 4 + 2] = (top + h - 1) / (hp - 1);
      boxes[i * 4 + 3] = (left + w - 1) / (wp - 1);
    });
    const padded = tf.pad(images, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ]) as tf.Tensor4D;
    const boxInd = Array.from({ length: n }, (_, i) => i);
    return cropAndResize(padded, boxes, boxInd, [h, w], 'bilinear', 0);
  });
}

/**
 * Draws one uniform integer shift in `[-maxShift, maxShift]^2` per image from `rng`.
 *
 * @example
 * ```ts
 * const shifts = randomShifts(128, 2, new Rng(0)); // [[dy, dx], ...] with |dy|, |dx| <= 2
 * ```
 */
export function randomShifts(count: number, maxShift: number, rng: Rng): [number, number][] {
  checkInteger('randomShifts', 'count', count, 0);
  checkInteger('randomShifts', 'maxShift', maxShift, 0);
  const span = 2 * maxShift + 1;
  return Array.from({ length: count }, () => [rng.int(span) - maxShift, rng.int(span) - maxShift]);
}

/**
 * Random translation jitter: each image shifted by an independent uniform integer offset in
 * `[-maxShift, maxShift]` pixels along each axis (zeros fill the border).
 *
 * @param images `[N, H, W, C]`
 * @param maxShift largest shift in pixels (Hinton et al.: 2)
 * @param rng the seeded generator the shifts are drawn from
 * @returns a new `[N, H, W, C]` tensor
 *
 * @example
 * ```ts
 * const xb = jitterImages(batch, 2, new Rng(7));
 * ```
 */
export function jitterImages(images: tf.Tensor4D, maxShift: number, rng: Rng): tf.Tensor4D {
  checkImageBatch('jitterImages', 'images', images);
  checkInteger('jitterImages', 'maxShift', maxShift, 0);
  return shiftImages(images, randomShifts(images.shape[0], maxShift, rng));
}
