/**
 * PatchDataset: an iterator of (patch batch, labels) over a set of images for training a patch classifier (Oquab et
 * al. 2014): the grid labelled once, background patches re-drawn each epoch, each batch's patches cut in one batched
 * crop ({@link cropBoxes}).
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
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type CropOptions, checkCropSize, cropBoxes } from './crops.js';
import type { LabelledBox, LabelOptions, PatchLabels } from './labels.js';
import { BACKGROUND } from './labels.js';
import type { PatchGrid, PatchSampler } from './sampler.js';
import { type PatchSelection, selectTrainingPatches } from './selection.js';

/**
 * Options of {@link PatchDataset}.
 *
 * @example
 * ```ts
 * const opts: PatchDatasetOptions = { numClasses: 10, cropSize: [28, 28], backgroundRatio: 1, seed: 1 };
 * ```
 */
export interface PatchDatasetOptions extends LabelOptions, Pick<CropOptions, 'method'> {
  /** Network input size `[height, width]` the patches are resized to. */
  cropSize: readonly [number, number];
  /** Patches per batch. @default 64 */
  batchSize?: number;
  /** Background patches per positive patch (re-drawn every epoch); see {@link selectTrainingPatches}. @default 1 */
  backgroundRatio?: number;
  /** Seed of the background sample and the shuffle. @default 0 */
  seed?: number;
  /** Shuffle the chosen patches every epoch. @default true */
  shuffle?: boolean;
}

/**
 * One training batch of {@link PatchDataset.batches}; `x` and `y` are owned by the caller.
 *
 * @example
 * ```ts
 * for await (const { x, y, image, patch } of data.batches(0)) tf.dispose([x, y]);
 * ```
 */
export interface PatchBatch {
  /** Patch crops `[b, cropHeight, cropWidth, channels]`. */
  readonly x: tf.Tensor4D;
  /**
   * Targets `[b, numClasses + 1]`: multi-hot over the classes, and a last column that is 1 for background
   * patches (so with the `'drop'` or `'background'` policy each row is one-hot, ready for a softmax over
   * `numClasses + 1` outputs as in the paper).
   */
  readonly y: tf.Tensor2D;
  /** Image index of each patch. */
  readonly image: Int32Array;
  /** Patch index (in the grid) of each patch. */
  readonly patch: Int32Array;
}

/** The known keys of {@link PatchDatasetOptions}. */
const PATCH_DATASET_OPTION_KEYS = knownKeys<PatchDatasetOptions>({
  cropSize: true,
  batchSize: true,
  backgroundRatio: true,
  seed: true,
  shuffle: true,
  numClasses: true,
  minPatchOverlap: true,
  minObjectOverlap: true,
  multiObject: true,
  imageSize: true,
  method: true,
});

/**
 * A data set of labelled patches over a batch of scenes, for training: each epoch keeps every positive patch and a
 * fresh seeded sample of background patches (Oquab et al. Sec. 3.3), shuffles them and yields batches whose crops
 * come from ONE `tf.image.cropAndResize` call each. Labelling happens once, in the constructor. The data set holds
 * no tensor of its own (the images stay the caller's), so there is nothing to dispose.
 *
 * @example
 * ```ts
 * const data = new PatchDataset(images, objects, sampler, { numClasses: 10, cropSize: [28, 28] });
 * for await (const { x, y } of data.batches(0)) {
 *   await model.trainOnBatch(x, y);
 *   tf.dispose([x, y]);
 * }
 * ```
 */
export class PatchDataset {
  /** The grid shared by all images. */
  readonly grid: PatchGrid;
  /** Per-image labels of the grid's patches. */
  readonly labels: readonly PatchLabels[];
  private readonly images: tf.Tensor4D;
  private readonly o: Required<
    Omit<PatchDatasetOptions, 'imageSize' | 'minPatchOverlap' | 'minObjectOverlap' | 'multiObject'>
  >;

  /**
   * @param images the scenes `[N, H, W, C]` (kept by reference, not copied, not disposed).
   * @param objects the objects of each scene (`objects.length === N`).
   * @throws {@link InvalidArgumentError} for mismatched lengths, bad boxes or labels, bad options.
   */
  constructor(
    images: tf.Tensor4D,
    objects: readonly (readonly LabelledBox[])[],
    sampler: PatchSampler,
    options: PatchDatasetOptions,
  ) {
    const fn = 'PatchDataset';
    checkImageBatch(fn, 'images', images);
    const o = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', o, PATCH_DATASET_OPTION_KEYS);
    checkCropSize(fn, o.cropSize);
    if (!Array.isArray(objects) || objects.length !== images.shape[0]) {
      throw new InvalidArgumentError(
        fn,
        'objects',
        `an array of ${images.shape[0]} object lists (one per image)`,
        objects,
      );
    }
    if (typeof sampler?.grid !== 'function') {
      throw new InvalidArgumentError(fn, 'sampler', 'a PatchSampler', sampler);
    }
    const batchSize = o.batchSize ?? 64;
    checkInteger(fn, 'options.batchSize', batchSize, 1);
    const seed = o.seed ?? 0;
    checkInteger(fn, 'options.seed', seed);
    const method = o.method ?? 'bilinear';
    checkOneOf(fn, 'options.method', method, ['bilinear', 'nearest'] as const);
    const ratio = o.backgroundRatio ?? 1;
    if (typeof ratio !== 'number' || Number.isNaN(ratio) || ratio < 0) {
      throw new InvalidArgumentError(fn, 'options.backgroundRatio', 'a number >= 0 (or Infinity)', ratio);
    }
    this.grid = sampler.grid({ height: images.shape[1], width: images.shape[2] });
    const labelOptions: LabelOptions = {
      numClasses: o.numClasses,
      minPatchOverlap: o.minPatchOverlap,
      minObjectOverlap: o.minObjectOverlap,
      multiObject: o.multiObject,
    };
    this.labels = objects.map((objs) => sampler.label(this.grid, objs, labelOptions));
    this.images = images;
    this.o = {
      numClasses: o.numClasses,
      cropSize: o.cropSize,
      batchSize,
      backgroundRatio: ratio,
      seed,
      shuffle: o.shuffle ?? true,
      method,
    };
  }

  /** The patches chosen for `epoch` (deterministic for a seed and epoch), in training order. */
  selection(epoch = 0): PatchSelection {
    checkInteger('PatchDataset.selection', 'epoch', epoch, 0);
    const seed = (this.o.seed * 1000003 + epoch * 7919) | 0;
    const sel = selectTrainingPatches(this.labels, { backgroundRatio: this.o.backgroundRatio, seed });
    if (!this.o.shuffle) return sel;
    const order = new Rng(seed ^ 0x5bd1e995).permutation(sel.image.length);
    const image = new Int32Array(order.length);
    const patch = new Int32Array(order.length);
    order.forEach((j, i) => {
      image[i] = sel.image[j];
      patch[i] = sel.patch[j];
    });
    return { ...sel, image, patch };
  }

  /** Number of patches in one epoch's selection. */
  get size(): number {
    return this.selection(0).image.length;
  }

  /**
   * The batches of one epoch. Each `x`/`y` pair belongs to the caller, who disposes it.
   *
   * @throws {@link InvalidArgumentError} when the images were disposed meanwhile.
   */
  async *batches(epoch = 0): AsyncGenerator<PatchBatch> {
    const sel = this.selection(epoch);
    const { batchSize, numClasses: K, cropSize, method } = this.o;
    const n = sel.image.length;
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const image = sel.image.slice(s, e);
      const patch = sel.patch.slice(s, e);
      const boxes = new Float32Array((e - s) * 4);
      const y = new Float32Array((e - s) * (K + 1));
      for (let i = 0; i < e - s; i++) {
        const p = patch[i];
        boxes.set(this.grid.boxes.subarray(4 * p, 4 * p + 4), 4 * i);
        const l = this.labels[image[i]];
        if (l.label[p] === BACKGROUND) y[i * (K + 1) + K] = 1;
        else for (let c = 0; c < K; c++) y[i * (K + 1) + c] = l.targets[p * K + c];
      }
      if (this.images.isDisposed) {
        throw new InvalidArgumentError(
          'PatchDataset.batches',
          'images',
          'images that are not disposed',
          this.images,
        );
      }
      const x = cropBoxes(this.images, boxes, image, cropSize, { method });
      yield { x, y: tf.tensor2d(y, [e - s, K + 1]), image, patch };
    }
  }
}
