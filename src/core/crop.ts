/**
 * One `cropAndResize` for every backend. tfjs 4.22's CropAndResize kernels on the GPU backends read the box's image
 * index wrongly (measured in headless Chromium by test/browser/matrix): webgl samples box `i` from image `i` whatever
 * `boxInd` says (and garbage past the batch), webgpu returns the extrapolation value for some boxes of image > 0. On
 * webgl and webgpu this helper therefore computes the same bilinear / nearest resampling from GatherV2, Mul and Add
 * (kernels every backend has), with the sample positions and weights computed here in plain numbers; elsewhere it
 * calls `tf.image.cropAndResize`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** The backends whose CropAndResize kernel is replaced by the gather form. */
export const GATHER_CROP_BACKENDS: readonly string[] = ['webgl', 'webgpu'];

/**
 * `tf.image.cropAndResize(images, boxes, boxInd, cropSize, method, extrapolationValue)` with the boxes and indices as
 * plain numbers, correct on every backend (see the module comment). Same conventions as tfjs: normalised boxes
 * `[y1, x1, y2, x2]` where row `y1 * (height - 1)` is the first sample, flat `[n * 4]`.
 *
 * @returns `[n, cropHeight, cropWidth, channels]` float32, owned by the caller.
 * @example
 * ```ts
 * const crops = cropAndResize(images, [0, 0, 0.5, 0.5], [1], [14, 14], 'bilinear');
 * ```
 */
export function cropAndResize(
  images: tf.Tensor4D,
  boxes: ArrayLike<number>,
  boxInd: ArrayLike<number>,
  cropSize: readonly [number, number],
  method: 'bilinear' | 'nearest' = 'bilinear',
  extrapolationValue = 0,
): tf.Tensor4D {
  const n = boxInd.length;
  if (!GATHER_CROP_BACKENDS.includes(tf.getBackend())) {
    return tf.tidy(() =>
      tf.image.cropAndResize(
        images.dtype === 'float32' ? images : tf.cast(images, 'float32'),
        tf.tensor2d(Float32Array.from(boxes), [n, 4]),
        tf.tensor1d(Int32Array.from(boxInd), 'int32'),
        [cropSize[0], cropSize[1]],
        method,
        extrapolationValue,
      ),
    );
  }
  return cropAndResizeByGather(images, boxes, boxInd, cropSize, method, extrapolationValue);
}

/**
 * The gather form of `tf.image.cropAndResize` that {@link cropAndResize} uses on webgl and webgpu: the sample
 * positions, source pixels and bilinear weights are computed here, the pixels fetched with one GatherV2 per
 * bilinear tap and blended with Mul and Add. Same arguments and result as {@link cropAndResize}.
 *
 * @example
 * ```ts
 * const crops = cropAndResizeByGather(images, [0, 0, 0.5, 0.5], [1], [14, 14], 'bilinear');
 * ```
 */
export function cropAndResizeByGather(
  images: tf.Tensor4D,
  boxes: ArrayLike<number>,
  boxInd: ArrayLike<number>,
  cropSize: readonly [number, number],
  method: 'bilinear' | 'nearest' = 'bilinear',
  extrapolationValue = 0,
): tf.Tensor4D {
  const n = boxInd.length;
  const [, H, W, C] = images.shape;
  const [ch, cw] = cropSize;
  const m = n * ch * cw;
  const taps = method === 'bilinear' ? 4 : 1;
  const index = Array.from({ length: taps }, () => new Int32Array(m));
  const weight = Array.from({ length: taps }, () => new Float32Array(m));
  const outside = new Float32Array(m);
  let anyOutside = false;
  // Sample positions as in tfjs's kernels: row y1 (H - 1) + r (y2 - y1)(H - 1)/(ch - 1), or the box centre for ch = 1.
  const pos = (a: number, b: number, k: number, size: number, len: number) =>
    size > 1 ? a * (len - 1) + (k * ((b - a) * (len - 1))) / (size - 1) : 0.5 * (a + b) * (len - 1);
  for (let i = 0; i < n; i++) {
    const [y1, x1, y2, x2] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
    const base = boxInd[i] * H * W;
    for (let r = 0; r < ch; r++) {
      const y = pos(y1, y2, r, ch, H);
      for (let c = 0; c < cw; c++) {
        const x = pos(x1, x2, c, cw, W);
        const o = (i * ch + r) * cw + c;
        if (y < 0 || y > H - 1 || x < 0 || x > W - 1) {
          outside[o] = 1;
          anyOutside = true;
          continue; // every weight stays 0
        }
        if (taps === 1) {
          index[0][o] = base + Math.round(y) * W + Math.round(x);
          weight[0][o] = 1;
          continue;
        }
        const top = Math.floor(y);
        const bottom = Math.ceil(y);
        const left = Math.floor(x);
        const right = Math.ceil(x);
        const dy = y - top;
        const dx = x - left;
        index[0][o] = base + top * W + left;
        index[1][o] = base + top * W + right;
        index[2][o] = base + bottom * W + left;
        index[3][o] = base + bottom * W + right;
        weight[0][o] = (1 - dx) * (1 - dy);
        weight[1][o] = dx * (1 - dy);
        weight[2][o] = (1 - dx) * dy;
        weight[3][o] = dx * dy;
      }
    }
  }
  return tf.tidy(() => {
    const flat = tf.reshape(images.dtype === 'float32' ? images : tf.cast(images, 'float32'), [-1, C]);
    let out = tf.zeros([m, C]) as tf.Tensor2D;
    for (let k = 0; k < taps; k++) {
      const v = tf.gather(flat, tf.tensor1d(index[k], 'int32'));
      out = tf.add(out, tf.mul(v, tf.tensor2d(weight[k], [m, 1])));
    }
    if (anyOutside && extrapolationValue !== 0) {
      out = tf.add(out, tf.mul(tf.tensor2d(outside, [m, 1]), extrapolationValue));
    }
    return tf.reshape(out, [n, ch, cw, C]) as tf.Tensor4D;
  });
}
