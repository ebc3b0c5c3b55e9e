/**
 * Input handling: fitting image batches of any size to a model's input (stretch or centre crop), the declared
 * pixel preprocessing (scale, offset, per-channel mean and std), and the augmented views of Razavian et al. 2014
 * (centre + four corner crops, each also mirrored), all built with one `cropAndResize`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkImageBatch,
  checkInRange,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { cropAndResize } from '../core/crop.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { scoped } from '../core/memory.js';

/**
 * How images of another size reach the model's input size.
 *
 * @example
 * ```ts
 * new FeatureExtractor(model, { taps: -2, resize: 'center-crop' });
 * ```
 */
export type ResizeMode = 'stretch' | 'center-crop' | 'none';
/**
 * Which crops make the augmented views.
 *
 * @example
 * ```ts
 * viewSpecs({ crops: 'center', flip: true }).length; // 2
 * ```
 */
export type CropSet = 'center' | 'center+corners';
/** How the responses of the views are combined: Razavian et al. sum them (`'sum'`, or `'mean'`: the same up to a
 * factor); `'concat'` keeps every view, side by side (`[N, views * D]`, view-major), to combine them yourself.
 *
 * @example
 * ```ts
 * new FeatureExtractor(model, { taps: -2, augment: { combine: 'sum' } });
 * ```
 */
export type ViewCombine = 'sum' | 'mean' | 'concat';

/**
 * The resize modes, for validation and CLIs.
 *
 * @example
 * ```ts
 * RESIZE_MODES.includes('stretch'); // true
 * ```
 */
export const RESIZE_MODES: readonly ResizeMode[] = ['stretch', 'center-crop', 'none'];

/**
 * Augmented views (Razavian et al. 2014, Sec. 2: crops and flips, responses combined).
 *
 * @example
 * ```ts
 * const augment: AugmentOptions = { crops: 'center+corners', flip: true, cropFraction: 0.875, combine: 'mean' };
 * ```
 */
export interface AugmentOptions {
  /** `'center'` (1 crop) or `'center+corners'` (5 crops). @default 'center+corners' */
  crops?: CropSet;
  /** Also use the horizontally mirrored version of every crop (doubles the views). @default true */
  flip?: boolean;
  /** Side of each crop as a fraction of the image side, in (0, 1]. @default 0.875 */
  cropFraction?: number;
  /** How the views' features are combined into one vector. @default 'mean' */
  combine?: ViewCombine;
}

/**
 * Declared pixel preprocessing, applied after resizing: `y = (x * scale + offset - mean[c]) / std[c]`.
 * Nothing is hidden: a model trained on [0, 1] inputs wants the defaults; MobileNet-style [-1, 1] wants
 * `{ scale: 2, offset: -1 }` on [0, 1] pixels, or `{ scale: 1 / 127.5, offset: -1 }` on [0, 255] pixels.
 *
 * @example
 * ```ts
 * const keras: Preprocessing = { scale: 2, offset: -1 }; // [0, 1] -> [-1, 1]
 * const caffe: Preprocessing = { scale: 255, mean: [123.68, 116.78, 103.94] };
 * ```
 */
export interface Preprocessing {
  /** Multiplier. @default 1 */
  scale?: number;
  /** Added after scaling. @default 0 */
  offset?: number;
  /** Per-channel mean subtracted after scale/offset (length = channels). @default no subtraction */
  mean?: readonly number[];
  /** Per-channel divisor applied last (length = channels). @default no division */
  std?: readonly number[];
}

/**
 * One view: a box in normalised `[y1, x1, y2, x2]` coordinates of the image and whether it is mirrored.
 *
 * @example
 * ```ts
 * viewSpecs()[1]; // { name: 'top-left', box: [0, 0, 0.875, 0.875], flip: false }
 * ```
 */
export interface ViewSpec {
  /** `'center'`, `'top-left'`, `'top-right'`, `'bottom-left'`, `'bottom-right'`, with `'+flip'` when mirrored. */
  readonly name: string;
  /** Normalised box: pixel row = y * (height - 1), as in `tf.image.cropAndResize`. */
  readonly box: readonly [number, number, number, number];
  /** Mirrored left-right after cropping. */
  readonly flip: boolean;
}

/** The known keys of {@link AugmentOptions}. */
const AUGMENT_KEYS = knownKeys<AugmentOptions>({
  crops: true,
  flip: true,
  cropFraction: true,
  combine: true,
});

/** The known keys of {@link Preprocessing}. */
const PREPROCESSING_KEYS = knownKeys<Preprocessing>({ scale: true, offset: true, mean: true, std: true });

/** Validates augmentation options (unknown keys rejected, naming `argument.key`) and fills defaults. */
export function resolveAugment(
  fn: string,
  argument: string,
  opts: AugmentOptions | undefined,
): Required<AugmentOptions> {
  const o = checkOptions(fn, argument, opts);
  checkOptionKeys(fn, argument, o, AUGMENT_KEYS);
  const r: Required<AugmentOptions> = {
    crops: o.crops ?? 'center+corners',
    flip: o.flip ?? true,
    cropFraction: o.cropFraction ?? 0.875,
    combine: o.combine ?? 'mean',
  };
  checkOneOf(fn, `${argument}.crops`, r.crops, ['center', 'center+corners'] as const);
  checkOneOf(fn, `${argument}.flip`, r.flip, [true, false] as const);
  checkInRange(fn, `${argument}.cropFraction`, r.cropFraction, 0, 1, { lo: true });
  checkOneOf(fn, `${argument}.combine`, r.combine, ['sum', 'mean', 'concat'] as const);
  return r;
}

/**
 * The views of an augmentation setting, in the order their features are stacked: crops first (centre, then
 * top-left, top-right, bottom-left, bottom-right), then the same crops mirrored.
 *
 * @example
 * ```ts
 * viewSpecs({ crops: 'center+corners', flip: true }).length; // 10
 * ```
 */
export function viewSpecs(opts?: AugmentOptions): ViewSpec[] {
  const o = resolveAugment('viewSpecs', 'opts', opts);
  const f = o.cropFraction;
  const m = (1 - f) / 2;
  const crops: [string, [number, number, number, number]][] = [['center', [m, m, m + f, m + f]]];
  if (o.crops === 'center+corners') {
    crops.push(
      ['top-left', [0, 0, f, f]],
      ['top-right', [0, 1 - f, f, 1]],
      ['bottom-left', [1 - f, 0, 1, f]],
      ['bottom-right', [1 - f, 1 - f, 1, 1]],
    );
  }
  const views: ViewSpec[] = crops.map(([name, box]) => ({ name, box, flip: false }));
  if (o.flip) for (const [name, box] of crops) views.push({ name: `${name}+flip`, box, flip: true });
  return views;
}

/**
 * The normalised box of the largest centred region of an `h x w` image with the aspect ratio `th : tw`.
 *
 * @example
 * ```ts
 * centerCropBox(4, 8, 2, 2); // [0, 2/7, 1, 5/7]: the central 4x4 of a 4x8 image
 * ```
 */
export function centerCropBox(
  h: number,
  w: number,
  th: number,
  tw: number,
): [number, number, number, number] {
  const target = tw / th;
  let ch = h;
  let cw = w;
  if (w / h > target) cw = h * target;
  else ch = w / target;
  const norm = (lo: number, size: number, full: number): [number, number] =>
    full <= 1 ? [0, 0] : [lo / (full - 1), Math.min(1, (lo + size - 1) / (full - 1))];
  const [y1, y2] = norm((h - ch) / 2, ch, h);
  const [x1, x2] = norm((w - cw) / 2, cw, w);
  return [y1, x1, y2, x2];
}

/**
 * tfjs-backend-wasm 4.22's CropAndResize ignores x1 for a box that starts at y1 = 0 and maps pixels 1:1 (a fast
 * path with a wrong offset; measured: box [0, 0.5, 0.5, 1] of a 5x5 image returns columns 0-2 instead of 2-4).
 * Starting such boxes a millionth of the image lower changes values by at most 1e-6 of a pixel step on every
 * backend and avoids that path.
 */
export function safeBox(b: readonly number[]): [number, number, number, number] {
  return [b[0] === 0 && b[2] > 1e-6 ? 1e-6 : b[0], b[1], b[2], b[3]];
}

function compose(base: readonly number[], v: readonly number[]): [number, number, number, number] {
  const hh = base[2] - base[0];
  const ww = base[3] - base[1];
  return [base[0] + v[0] * hh, base[1] + v[1] * ww, base[0] + v[2] * hh, base[1] + v[3] * ww];
}

/**
 * Resizes or crops an NHWC batch to `[height, width]`. `'stretch'`: bilinear resize; `'center-crop'`: the largest
 * centred region with the target aspect ratio, then bilinear resize; `'none'`: the batch must already have the size.
 *
 * @example
 * ```ts
 * const x224 = fitToSize(images, [224, 224], 'center-crop');
 * ```
 */
export const fitToSize = scoped(
  'fitToSize',
  (images: tf.Tensor4D, size: readonly [number, number], mode: ResizeMode = 'stretch'): tf.Tensor4D => {
    checkImageBatch('fitToSize', 'images', images);
    checkOneOf('fitToSize', 'mode', mode, RESIZE_MODES);
    checkInteger('fitToSize', 'size[0]', size[0], 1);
    checkInteger('fitToSize', 'size[1]', size[1], 1);
    const [, h, w] = images.shape;
    if (h === size[0] && w === size[1]) return tf.cast(images, 'float32');
    if (mode === 'none') {
      throw new ShapeMismatchError(
        'fitToSize',
        'images',
        `images of ${size[0]}x${size[1]} (resize mode 'none'; use 'stretch' or 'center-crop' to adapt other sizes)`,
        images.shape,
      );
    }
    const x = tf.cast(images, 'float32') as tf.Tensor4D;
    if (mode === 'stretch') return tf.image.resizeBilinear(x, [size[0], size[1]]);
    const box = centerCropBox(h, w, size[0], size[1]);
    const n = images.shape[0];
    const boxes = Array.from({ length: n }, () => safeBox(box)).flat();
    const ind = Array.from({ length: n }, (_, i) => i);
    return cropAndResize(x, boxes, ind, [size[0], size[1]], 'bilinear');
  },
);

/**
 * The augmented views of a batch, fitted to `[height, width]`: `[V * N, height, width, C]`, view-major (all
 * images of view 0, then view 1, ...), views as in `viewSpecs`. Each crop is taken from the region that
 * `resize` selects (the whole image for `'stretch'`/`'none'`, the centred aspect-ratio region for
 * `'center-crop'`) and resized bilinearly.
 *
 * @example
 * ```ts
 * const v = augmentedViews(images, [32, 32], { crops: 'center+corners', flip: true }); // [10 * N, 32, 32, C]
 * ```
 */
export const augmentedViews = scoped(
  'augmentedViews',
  (
    images: tf.Tensor4D,
    size: readonly [number, number],
    opts?: AugmentOptions,
    resize: ResizeMode = 'stretch',
  ): tf.Tensor4D => {
    checkImageBatch('augmentedViews', 'images', images);
    checkInteger('augmentedViews', 'size[0]', size[0], 1);
    checkInteger('augmentedViews', 'size[1]', size[1], 1);
    checkOneOf('augmentedViews', 'resize', resize, RESIZE_MODES);
    const views = viewSpecs(opts);
    const [n, h, w] = images.shape;
    const base = resize === 'center-crop' ? centerCropBox(h, w, size[0], size[1]) : [0, 0, 1, 1];
    const boxes: number[][] = [];
    const ind: number[] = [];
    const crops = views.filter((v) => !v.flip);
    for (const v of crops) {
      const b = safeBox(compose(base, v.box));
      for (let i = 0; i < n; i++) {
        boxes.push(b);
        ind.push(i);
      }
    }
    const x = tf.cast(images, 'float32') as tf.Tensor4D;
    const cropped = cropAndResize(x, boxes.flat(), ind, [size[0], size[1]], 'bilinear');
    if (views.length === crops.length) return cropped;
    return tf.concat([cropped, tf.reverse(cropped, 2)], 0) as tf.Tensor4D;
  },
);

/** Validates a {@link Preprocessing} for images with `channels` channels (when known); unknown keys are rejected. */
export function checkPreprocessing(
  fn: string,
  argument: string,
  p: Preprocessing | undefined,
  channels?: number,
): Preprocessing {
  const o = checkOptions(fn, argument, p);
  checkOptionKeys(fn, argument, o, PREPROCESSING_KEYS);
  if (o.scale !== undefined) checkNumber(fn, `${argument}.scale`, o.scale);
  if (o.offset !== undefined) checkNumber(fn, `${argument}.offset`, o.offset);
  for (const key of ['mean', 'std'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      (channels !== undefined && v.length !== channels && v.length !== 1)
    ) {
      throw new InvalidArgumentError(
        fn,
        `${argument}.${key}`,
        `an array of ${channels ?? 'per-channel'} number(s) (one per channel, or one for all)`,
        v,
      );
    }
    v.forEach((x, i) => {
      checkNumber(fn, `${argument}.${key}[${i}]`, x);
      if (key === 'std' && x <= 0)
        throw new InvalidArgumentError(fn, `${argument}.std[${i}]`, 'a number > 0', x);
    });
  }
  return o;
}

/**
 * Applies a declared {@link Preprocessing} to an NHWC batch: `(x * scale + offset - mean[c]) / std[c]`.
 *
 * @example
 * ```ts
 * const y = preprocessImages(x, { scale: 2, offset: -1 }); // [0, 1] -> [-1, 1]
 * ```
 */
export const preprocessImages = scoped(
  'preprocessImages',
  (x: tf.Tensor4D, p: Preprocessing = {}): tf.Tensor4D => {
    checkImageBatch('preprocessImages', 'x', x);
    checkPreprocessing('preprocessImages', 'p', p, x.shape[3]);
    let y: tf.Tensor = tf.cast(x, 'float32');
    if (p.scale !== undefined && p.scale !== 1) y = tf.mul(y, p.scale);
    if (p.offset !== undefined && p.offset !== 0) y = tf.add(y, p.offset);
    if (p.mean !== undefined) y = tf.sub(y, tf.tensor1d([...p.mean]));
    if (p.std !== undefined) y = tf.div(y, tf.tensor1d([...p.std]));
    return y as tf.Tensor4D;
  },
);
