/**
 * Synthetic "scenes": small grey-scale digits placed at several scales on a larger, cluttered canvas, with
 * ground-truth boxes and labels. They stand in for Pascal VOC in the multi-scale patch experiments (Oquab et al.
 * 2014): objects are off-centre, of different sizes, several per image, among distractors (strokes and fragments
 * of other digits). Plain TypeScript over typed arrays; {@link scenesToTensor} turns them into an image batch.
 *
 * @module
 */
import type { Tensor4D } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInRange,
  checkInteger,
  checkNonEmptyArray,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { Rng } from '../core/rng.js';
import type { PixelBox } from '../core/types.js';

import { area, inkBox, intersection, paste, resize, stroke } from './canvas.js';
/**
 * A set of small grey-scale images (e.g. MNIST digits) as one flat array, row-major, values in [0, 1], ink bright
 * on a dark background.
 */
export interface DigitSet {
  /** `n * height * width` values: image `i` starts at `i * height * width`. */
  pixels: ArrayLike<number>;
  /** The label of each image (`n` entries). */
  labels: ArrayLike<number>;
  /** Height of one image in pixels (28 for MNIST). */
  height: number;
  /** Width of one image in pixels (28 for MNIST). */
  width: number;
}

/** One object of a {@link Scene}. */
export interface SceneObject {
  /** The tight box around the object's ink (pixels above `inkThreshold`). */
  box: PixelBox;
  /** The object's class (the digit's label). */
  label: number;
  /** The side in pixels of the square the 28x28 digit was resized to. */
  scale: number;
  /** Index of the digit in the source {@link DigitSet}. */
  sourceIndex: number;
}

/** One synthetic scene: a single-channel image and its objects. */
export interface Scene {
  /** Height of the canvas in pixels. */
  height: number;
  /** Width of the canvas in pixels. */
  width: number;
  /** `height * width` values in [0, 1], row-major. */
  pixels: Float32Array;
  /** The objects placed (1 to `maxObjects`). */
  objects: SceneObject[];
}

/** Options of {@link generateScenes}. */
export interface SceneOptions {
  /** Number of scenes. */
  count: number;
  /** Seed (integer): the same seed and digits give the same scenes. */
  seed: number;
  /**
   * Side of the square canvas in pixels.
   * @default 112
   */
  canvasSize?: number;
  /**
   * Smallest side in pixels a digit is resized to.
   * @default 20
   */
  minScale?: number;
  /**
   * Largest side in pixels a digit is resized to (at most `canvasSize`).
   * @default 56
   */
  maxScale?: number;
  /**
   * Fewest objects per scene.
   * @default 1
   */
  minObjects?: number;
  /**
   * Most objects per scene. A scene may hold fewer than drawn when no free place is found (never fewer than 1).
   * @default 4
   */
  maxObjects?: number;
  /**
   * Largest allowed overlap between two objects' boxes, as intersection over the area of the smaller box.
   * @default 0.1
   */
  maxOverlap?: number;
  /**
   * Random line strokes of clutter per scene.
   * @default 3
   */
  strokes?: number;
  /**
   * Fragments of other digits (6-10 px crops, enlarged up to 1.25x, so that they stay smaller than the smallest
   * digits' strokes-and-loops) scattered as clutter per scene; each is placed so that at most 25% of its own area
   * lies inside any object's box.
   * @default 3
   */
  fragments?: number;
  /**
   * Standard deviation of the Gaussian pixel noise added everywhere (values are clipped to [0, 1]).
   * @default 0.05
   */
  noise?: number;
  /**
   * Pixels of a placed digit brighter than this count as ink for its tight box.
   * @default 0.2
   */
  inkThreshold?: number;
  /**
   * Keep only digits with these labels as objects (clutter fragments come from any digit).
   * @default every label
   */
  classes?: readonly number[];
}

/** The known keys of {@link SceneOptions}. */
const SCENE_OPTION_KEYS = knownKeys<SceneOptions>({
  count: true,
  seed: true,
  canvasSize: true,
  minScale: true,
  maxScale: true,
  minObjects: true,
  maxObjects: true,
  maxOverlap: true,
  strokes: true,
  fragments: true,
  noise: true,
  inkThreshold: true,
  classes: true,
});

/**
 * Generates seeded synthetic scenes from a set of small digits: each scene has `minObjects..maxObjects` digits,
 * each resized to a random side in `[minScale, maxScale]` and placed where its ink box overlaps no other object's
 * by more than `maxOverlap` (of the smaller box), plus clutter (random strokes, fragments of other digits) and
 * Gaussian noise. Every object's box is the tight box of its ink, inside the canvas.
 *
 * @throws {@link InvalidArgumentError} for an empty or inconsistent digit set or out-of-range options
 *
 * @example
 * ```ts
 * const { train } = await loadMnist({ seed: 0 });
 * const scenes = generateScenes(
 *   { pixels: train.pixels, labels: train.labels, height: 28, width: 28 },
 *   { count: 100, seed: 1 },
 * );
 * scenes[0].objects; // [{ box: [y1, x1, y2, x2], label: 7, scale: 41, sourceIndex: 123 }, ...]
 * const x = scenesToTensor(scenes); // [100, 112, 112, 1]
 * ```
 */
export function generateScenes(digits: DigitSet, options: SceneOptions): Scene[] {
  const fn = 'generateScenes';
  if (digits === null || typeof digits !== 'object') {
    throw new InvalidArgumentError(fn, 'digits', 'a DigitSet {pixels, labels, height, width}', digits);
  }
  checkInteger(fn, 'digits.height', digits.height, 1);
  checkInteger(fn, 'digits.width', digits.width, 1);
  const dh = digits.height;
  const dw = digits.width;
  const n = digits.labels?.length ?? 0;
  if (n === 0) throw new InvalidArgumentError(fn, 'digits.labels', 'a non-empty array', digits.labels);
  if (digits.pixels?.length !== n * dh * dw) {
    throw new InvalidArgumentError(
      fn,
      'digits.pixels',
      `${n} x ${dh} x ${dw} = ${n * dh * dw} values`,
      digits.pixels,
    );
  }
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, SCENE_OPTION_KEYS);
  checkInteger(fn, 'options.count', opts.count, 0);
  checkInteger(fn, 'options.seed', opts.seed);
  const size = opts.canvasSize ?? 112;
  checkInteger(fn, 'options.canvasSize', size, 8, 1 << 14);
  if (opts.count * size * size > LIMITS.maxGeneratedValues) {
    throw new InvalidArgumentError(
      fn,
      'options.count',
      `at most ${Math.floor(LIMITS.maxGeneratedValues / (size * size))} scenes of ${size} x ${size} in one call (LIMITS.maxGeneratedValues); generate in parts with different seeds`,
      opts.count,
    );
  }
  const minScale = opts.minScale ?? 20;
  const maxScale = opts.maxScale ?? 56;
  checkInteger(fn, 'options.minScale', minScale, 4, size);
  checkInteger(fn, 'options.maxScale', maxScale, minScale, size);
  const minObjects = opts.minObjects ?? 1;
  const maxObjects = opts.maxObjects ?? 4;
  checkInteger(fn, 'options.minObjects', minObjects, 1);
  checkInteger(fn, 'options.maxObjects', maxObjects, minObjects);
  const maxOverlap = opts.maxOverlap ?? 0.1;
  checkInRange(fn, 'options.maxOverlap', maxOverlap, 0, 1);
  const strokes = opts.strokes ?? 3;
  const fragments = opts.fragments ?? 3;
  checkInteger(fn, 'options.strokes', strokes, 0);
  checkInteger(fn, 'options.fragments', fragments, 0);
  const noise = opts.noise ?? 0.05;
  checkInRange(fn, 'options.noise', noise, 0, 1);
  const threshold = opts.inkThreshold ?? 0.2;
  checkInRange(fn, 'options.inkThreshold', threshold, 0, 1, { hi: true });

  let candidates: number[];
  if (opts.classes !== undefined) {
    checkNonEmptyArray(fn, 'options.classes', opts.classes);
    const keep = new Set(opts.classes);
    candidates = [];
    for (let i = 0; i < n; i++) if (keep.has(digits.labels[i])) candidates.push(i);
    if (candidates.length === 0) {
      throw new InvalidArgumentError(fn, 'options.classes', 'labels present in digits.labels', opts.classes);
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }

  const rng = new Rng(opts.seed);
  const scenes: Scene[] = [];
  for (let s = 0; s < opts.count; s++) {
    const canvas = new Float32Array(size * size);
    const objects: SceneObject[] = [];
    const want = minObjects + rng.int(maxObjects - minObjects + 1);
    for (let k = 0; k < want; k++) {
      for (let attempt = 0; attempt < 60; attempt++) {
        const src = candidates[rng.int(candidates.length)];
        const scale = minScale + rng.int(maxScale - minScale + 1);
        const patch = resize(digits.pixels, src * dh * dw, dh, dw, scale, scale);
        const local = inkBox(patch, scale, scale, threshold);
        if (local === undefined) continue;
        const top = rng.int(size - scale + 1);
        const left = rng.int(size - scale + 1);
        const box: PixelBox = [top + local[0], left + local[1], top + local[2], left + local[3]];
        const clash = objects.some(
          (o) => intersection(o.box, box) > maxOverlap * Math.min(area(o.box), area(box)),
        );
        if (clash) continue;
        paste(canvas, size, patch, scale, scale, top, left);
        objects.push({ box, label: digits.labels[src], scale, sourceIndex: src });
        break;
      }
    }
    if (objects.length === 0) {
      // Every attempt drew an empty digit: fall back to the first candidate with ink, at the largest scale.
      for (const src of candidates) {
        const patch = resize(digits.pixels, src * dh * dw, dh, dw, maxScale, maxScale);
        const local = inkBox(patch, maxScale, maxScale, threshold);
        if (local === undefined) continue;
        paste(canvas, size, patch, maxScale, maxScale, 0, 0);
        objects.push({ box: local, label: digits.labels[src], scale: maxScale, sourceIndex: src });
        break;
      }
      if (objects.length === 0) {
        throw new InvalidArgumentError(fn, 'digits.pixels', `some pixel above inkThreshold ${threshold}`, 0);
      }
    }
    // Clutter: fragments of other digits, placed mostly outside the objects' boxes.
    for (let f = 0; f < fragments; f++) {
      const src = rng.int(n);
      const side = 6 + rng.int(5);
      const cy = rng.int(dh - side + 1);
      const cx = rng.int(dw - side + 1);
      const crop = new Float32Array(side * side);
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++)
          crop[y * side + x] = digits.pixels[src * dh * dw + (cy + y) * dw + cx + x];
      }
      const out = Math.round(side * (1 + rng.next() * 0.25));
      const patch = resize(crop, 0, side, side, out, out);
      for (let attempt = 0; attempt < 20; attempt++) {
        const top = rng.int(size - out + 1);
        const left = rng.int(size - out + 1);
        const fbox: PixelBox = [top, left, top + out, left + out];
        if (objects.some((o) => intersection(o.box, fbox) > 0.25 * out * out)) continue;
        paste(canvas, size, patch, out, out, top, left);
        break;
      }
    }
    for (let k = 0; k < strokes; k++) {
      const y0 = rng.uniform(0, size);
      const x0 = rng.uniform(0, size);
      const len = rng.uniform(5, 20);
      const angle = rng.uniform(0, Math.PI * 2);
      stroke(
        canvas,
        size,
        y0,
        x0,
        y0 + len * Math.sin(angle),
        x0 + len * Math.cos(angle),
        rng.uniform(0.5, 1.5),
        rng.uniform(0.3, 0.8),
      );
    }
    if (noise > 0) {
      for (let i = 0; i < canvas.length; i++) {
        canvas[i] = Math.min(1, Math.max(0, canvas[i] + rng.normal(0, noise)));
      }
    }
    scenes.push({ height: size, width: size, pixels: canvas, objects });
  }
  return scenes;
}

/**
 * Stacks scenes of one size into an NHWC batch `[n, height, width, 1]` (float32). The caller owns the tensor.
 *
 * @throws {@link InvalidArgumentError} when `scenes` is empty or the scenes differ in size
 *
 * @example
 * ```ts
 * const x = scenesToTensor(generateScenes(digits, { count: 8, seed: 0 })); // [8, 112, 112, 1]
 * ```
 */
export function scenesToTensor(scenes: readonly Scene[]): Tensor4D {
  const fn = 'scenesToTensor';
  checkNonEmptyArray(fn, 'scenes', scenes);
  const { height, width } = scenes[0];
  const data = new Float32Array(scenes.length * height * width);
  scenes.forEach((s, i) => {
    if (s.height !== height || s.width !== width || s.pixels.length !== height * width) {
      throw new InvalidArgumentError(
        fn,
        `scenes[${i}]`,
        `a ${height}x${width} scene`,
        `${s.height}x${s.width}`,
      );
    }
    data.set(s.pixels, i * height * width);
  });
  return tf.tensor4d(data, [scenes.length, height, width, 1], 'float32');
}
