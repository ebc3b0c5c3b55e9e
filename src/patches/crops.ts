/**
 * Batched patch crops: all patches of a batch of images go through ONE `tf.image.cropAndResize` call (per
 * memory-bounded chunk), instead of a slice + resize per patch. Also the patch scores of a model over whole grids
 * ({@link predictPatches}). The training iterator over patches is `PatchDataset` (dataset.ts).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkImageBatch,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  knownKeys,
} from '../core/checks.js';
import { cropAndResize } from '../core/crop.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { PredictModel, ProgressCallback } from '../core/types.js';
import { predict2d } from '../core/types.js';
import { pixelBoxesToNormalized } from './boxes.js';
import { checkPatchModelInput } from './checks.js';
import type { PatchGrid } from './sampler.js';

/**
 * Options of the crop functions.
 *
 * @example
 * ```ts
 * cropGridChunks(images, grid, [28, 28], { method: 'bilinear', maxChunkBytes: 32 * 1024 * 1024 });
 * ```
 */
export interface CropOptions {
  /** Resampling of `tf.image.cropAndResize`. @default 'bilinear' */
  method?: 'bilinear' | 'nearest';
  /** Upper bound on the bytes of one chunk of crops (float32); a chunk holds whole images' patches. @default 67108864 (64 MiB) */
  maxChunkBytes?: number;
}

const f32 = Math.fround;

/**
 * Works around a bug of tfjs-backend-wasm 4.x's CropAndResize (CropAndResize.cc): when a box's pixel width equals the
 * crop width (`cropWidth == 1 + (x2 - x1) (W - 1)` in float32, with `x2 > x1`) and its interpolation test (which
 * uses `y1 * H` instead of `y1 * (H - 1)`) says none is needed, the kernel `memcpy`s whole rows starting at column 0:
 * every box with `x1 > 0` is read from the wrong place (nearest sampling takes that path whenever the widths match).
 * Moving `x2` down by a few float32 ulps makes the width test fail, so the general path runs; the samples move by
 * less than 1e-5 pixel. Only applied on the wasm backend; the other backends stay exact.
 */
function avoidWasmMemcpyPath(norm: Float32Array, cropWidth: number, width: number): void {
  if (tf.getBackend() !== 'wasm') return;
  const wm1 = f32(width - 1);
  const bits = new Float32Array(1);
  const ints = new Int32Array(bits.buffer);
  for (let i = 0; i < norm.length; i += 4) {
    const x1 = norm[i + 1];
    let x2 = norm[i + 3];
    // x2 > x1 >= 0, so x2 > 0 and decrementing its bit pattern gives the next float32 below it.
    for (let k = 0; k < 64 && x2 > x1 && f32(1 + f32(f32(x2 - x1) * wm1)) === cropWidth; k++) {
      bits[0] = x2;
      ints[0] -= 1;
      x2 = bits[0];
    }
    norm[i + 3] = x2;
  }
}

export function checkCropSize(fn: string, cropSize: unknown): asserts cropSize is readonly [number, number] {
  if (
    !Array.isArray(cropSize) ||
    cropSize.length !== 2 ||
    !cropSize.every((v) => Number.isInteger(v) && v >= 1)
  ) {
    throw new InvalidArgumentError(fn, 'cropSize', '[height, width] with positive integers', cropSize);
  }
}

function checkGrid(fn: string, grid: unknown, images: tf.Tensor): asserts grid is PatchGrid {
  const g = grid as PatchGrid;
  if (typeof grid !== 'object' || grid === null || !(g.boxes instanceof Float32Array)) {
    throw new InvalidArgumentError(fn, 'grid', 'a PatchGrid from PatchSampler.grid()', grid);
  }
  if (images.shape[1] !== g.height || images.shape[2] !== g.width) {
    throw new ShapeMismatchError(
      fn,
      'images',
      `images of the grid's size [*, ${g.height}, ${g.width}, *]`,
      images.shape,
    );
  }
}

/** The known keys of the options of `cropBoxes` (a `Pick` of {@link CropOptions}). */
const CROP_METHOD_OPTION_KEYS = knownKeys<Pick<CropOptions, 'method'>>({ method: true });

/**
 * Crops arbitrary pixel boxes out of a batch of images and resizes them to `cropSize` in ONE
 * `tf.image.cropAndResize` call. Box `i` is cut from image `boxImage[i]`.
 *
 * @param images `[batch, height, width, channels]`.
 * @param boxes pixel boxes `[y1, x1, y2, x2]`, flat `[n * 4]`, inside the image.
 * @param boxImage the image of each box, integers in `[0, batch)`.
 * @returns `[n, cropHeight, cropWidth, channels]` float32, owned by the caller.
 * @throws {@link InvalidArgumentError} for inverted boxes, boxes outside the image, bad image indices or crop size
 * (before any tensor is allocated).
 * @example
 * ```ts
 * const crops = cropBoxes(images, [0, 0, 28, 28, 10, 10, 50, 50], [0, 1], [28, 28]);
 * ```
 */
export function cropBoxes(
  images: tf.Tensor4D,
  boxes: ArrayLike<number>,
  boxImage: ArrayLike<number>,
  cropSize: readonly [number, number],
  options?: Pick<CropOptions, 'method'>,
): tf.Tensor4D {
  const fn = 'cropBoxes';
  checkImageBatch(fn, 'images', images);
  checkCropSize(fn, cropSize);
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, CROP_METHOD_OPTION_KEYS);
  const method = o.method ?? 'bilinear';
  checkOneOf(fn, 'options.method', method, ['bilinear', 'nearest'] as const);
  const [N, H, W] = images.shape;
  if (typeof boxes?.length !== 'number' || boxes.length % 4 !== 0) {
    throw new InvalidArgumentError(
      fn,
      'boxes',
      'a flat array of [y1, x1, y2, x2] (length a multiple of 4)',
      boxes,
    );
  }
  const n = boxes.length / 4;
  if (typeof boxImage?.length !== 'number' || boxImage.length !== n) {
    throw new InvalidArgumentError(fn, 'boxImage', `an array of ${n} image indices (one per box)`, boxImage);
  }
  for (let i = 0; i < n; i++) {
    const y1 = boxes[4 * i];
    const x1 = boxes[4 * i + 1];
    const y2 = boxes[4 * i + 2];
    const x2 = boxes[4 * i + 3];
    if (!(y1 < y2 && x1 < x2)) {
      throw new InvalidArgumentError(
        fn,
        `boxes[${i}]`,
        'a box [y1, x1, y2, x2] with y1 < y2 and x1 < x2 (not inverted, not empty)',
        [y1, x1, y2, x2],
      );
    }
    if (!(y1 >= 0 && x1 >= 0 && y2 <= H && x2 <= W)) {
      throw new InvalidArgumentError(fn, `boxes[${i}]`, `a box inside the ${H}x${W} image`, [y1, x1, y2, x2]);
    }
    const b = boxImage[i];
    if (!Number.isInteger(b) || b < 0 || b >= N) {
      throw new InvalidArgumentError(fn, `boxImage[${i}]`, `an image index in [0, ${N - 1}]`, b);
    }
  }
  const norm = pixelBoxesToNormalized(boxes, { height: H, width: W });
  avoidWasmMemcpyPath(norm, cropSize[1], W);
  return tf.tidy(fn, () => {
    return cropAndResize(images, norm, boxImage, cropSize, method);
  });
}

/**
 * One chunk of `cropGridChunks`: the crops of images `[imageStart, imageEnd)`, patch-major per image.
 *
 * @example
 * ```ts
 * for (const { crops, imageStart, imageEnd } of cropGridChunks(images, grid, [28, 28])) crops.dispose();
 * ```
 */
export interface GridChunk {
  /** `[(imageEnd - imageStart) * grid.count, cropHeight, cropWidth, channels]`, owned by the caller. */
  readonly crops: tf.Tensor4D;
  /** First image of the chunk. */
  readonly imageStart: number;
  /** One past the last image of the chunk. */
  readonly imageEnd: number;
}

/** The known keys of {@link CropOptions}. */
const CROP_OPTION_KEYS = knownKeys<CropOptions>({ method: true, maxChunkBytes: true });

/**
 * Crops every patch of `grid` from every image, in chunks of whole images whose crops fit `maxChunkBytes`; each
 * chunk is ONE `tf.image.cropAndResize` call. Arguments are checked before the first chunk is made. Dispose each
 * chunk's `crops` when done with it.
 *
 * @example
 * ```ts
 * for (const { crops, imageStart } of cropGridChunks(images, grid, [28, 28])) {
 *   // crops: [images in chunk * grid.count, 28, 28, 1]
 *   crops.dispose();
 * }
 * ```
 */
export function cropGridChunks(
  images: tf.Tensor4D,
  grid: PatchGrid,
  cropSize: readonly [number, number],
  options?: CropOptions,
): Generator<GridChunk> {
  const fn = 'cropGridChunks';
  checkImageBatch(fn, 'images', images);
  checkGrid(fn, grid, images);
  checkCropSize(fn, cropSize);
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, CROP_OPTION_KEYS);
  const maxBytes = o.maxChunkBytes ?? 64 * 1024 * 1024;
  checkPositive(fn, 'options.maxChunkBytes', maxBytes);
  const method = o.method ?? 'bilinear';
  checkOneOf(fn, 'options.method', method, ['bilinear', 'nearest'] as const);
  const perImage = grid.count * cropSize[0] * cropSize[1] * images.shape[3] * 4;
  const imagesPerChunk = Math.max(1, Math.floor(maxBytes / perImage));
  const norm = pixelBoxesToNormalized(grid.boxes, { height: grid.height, width: grid.width });
  avoidWasmMemcpyPath(norm, cropSize[1], grid.width);
  const N = images.shape[0];
  return (function* chunks(): Generator<GridChunk> {
    for (let start = 0; start < N; start += imagesPerChunk) {
      const end = Math.min(N, start + imagesPerChunk);
      const m = end - start;
      const allBoxes = new Float32Array(m * norm.length);
      const boxInd = new Int32Array(m * grid.count);
      for (let i = 0; i < m; i++) {
        allBoxes.set(norm, i * norm.length);
        boxInd.fill(start + i, i * grid.count, (i + 1) * grid.count);
      }
      const crops = tf.tidy(fn, () => cropAndResize(images, allBoxes, boxInd, cropSize, method));
      yield { crops, imageStart: start, imageEnd: end };
    }
  })();
}

/**
 * Options of {@link predictPatches}.
 *
 * @example
 * ```ts
 * await predictPatches(model, images, grid, [28, 28], { batchSize: 512, activation: 'softmax' });
 * ```
 */
export interface PredictPatchesOptions extends CropOptions {
  /** Patch crops per `model.predict` call. @default 256 */
  batchSize?: number;
  /** Applied to the model's outputs: `'none'` (they are probabilities already), `'softmax'` or `'sigmoid'`. @default 'none' */
  activation?: 'none' | 'softmax' | 'sigmoid';
  /** Progress over images (`phase: 'patches'`). */
  onProgress?: ProgressCallback;
}

/** The known keys of {@link PredictPatchesOptions}. */
const PREDICT_PATCHES_OPTION_KEYS = knownKeys<PredictPatchesOptions>({
  batchSize: true,
  activation: true,
  onProgress: true,
  method: true,
  maxChunkBytes: true,
});

/**
 * Runs `model` on every patch of `grid` in every image: `y(P_i, C)` of Oquab et al.'s Eq. for the image score.
 * Crops go through `cropGridChunks` (one cropAndResize per chunk); the model sees `batchSize` patches at once.
 *
 * @returns `[images, grid.count, classes]` patch scores, owned by the caller.
 * @example
 * ```ts
 * const scores = await predictPatches(model, images, grid, [28, 28], { activation: 'softmax' });
 * const image = aggregatePatchScores(scores, { method: 'power', power: 5 }); // [images, classes]
 * ```
 */
export async function predictPatches(
  model: PredictModel,
  images: tf.Tensor4D,
  grid: PatchGrid,
  cropSize: readonly [number, number],
  options?: PredictPatchesOptions,
): Promise<tf.Tensor3D> {
  const fn = 'predictPatches';
  if (typeof model !== 'object' || model === null || typeof model.predict !== 'function') {
    throw new InvalidArgumentError(fn, 'model', 'an object with predict(x)', model);
  }
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, PREDICT_PATCHES_OPTION_KEYS);
  const batchSize = o.batchSize ?? 256;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const activation = o.activation ?? 'none';
  checkOneOf(fn, 'options.activation', activation, ['none', 'softmax', 'sigmoid'] as const);
  checkPatchModelInput(fn, model, images, cropSize);
  const chunks = cropGridChunks(images, grid, cropSize, { method: o.method, maxChunkBytes: o.maxChunkBytes });
  const parts: tf.Tensor2D[] = [];
  try {
    for (const { crops, imageEnd } of chunks) {
      try {
        for (let s = 0; s < crops.shape[0]; s += batchSize) {
          const e = Math.min(crops.shape[0], s + batchSize);
          parts.push(
            tf.tidy(() => {
              const y = predict2d(fn, 'model', model, tf.slice(crops, [s, 0, 0, 0], [e - s, -1, -1, -1]));
              if (activation === 'softmax') return tf.softmax(y);
              if (activation === 'sigmoid') return tf.sigmoid(y);
              return y;
            }),
          );
        }
      } finally {
        crops.dispose();
      }
      o.onProgress?.({ phase: 'patches', done: imageEnd, total: images.shape[0] });
      await tf.nextFrame();
    }
    return tf.tidy(() => {
      const all = parts.length === 1 ? parts[0].clone() : tf.concat(parts, 0);
      return tf.reshape(all, [images.shape[0], grid.count, all.shape[1]]) as tf.Tensor3D;
    });
  } finally {
    tf.dispose(parts);
  }
}
