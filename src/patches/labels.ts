/**
 * Oquab et al.'s patch labelling rule and background sub-sampling, in plain TypeScript.
 *
 * Oquab, Bottou, Laptev & Sivic (2014), "Learning and transferring mid-level image representations using
 * convolutional neural networks", Sec. 3.3: a patch P is labelled as a positive for the class of object box B when
 *
 *     |P ∩ B| >= 0.2 |P|   and   |P ∩ B| >= 0.6 |B|
 *
 * (the patch overlaps enough of the object, and the object fills enough of the patch); patches matching several
 * objects are dropped, the others are background, randomly sub-sampled to balance the training set.
 *
 * Our reading of "several objects": objects of DIFFERENT classes. A patch that covers two objects of one class is
 * an unambiguous positive for that class. The {@link MultiObjectPolicy} decides what happens otherwise.
 *
 * @module
 */
import {
  checkInRange,
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { PixelBox } from '../core/types.js';
import type { ImageSize } from './boxes.js';
import { checkImageSize, checkPixelBox } from './boxes.js';
import { intersectionArea4 } from './internal.js';

/**
 * An object in an image: its box in pixels and its class index.
 *
 * @example
 * ```ts
 * const digit: LabelledBox = { box: [10, 12, 38, 40], label: 7 };
 * ```
 */
export interface LabelledBox {
  /** The object's box `[y1, x1, y2, x2]` in pixels. */
  readonly box: PixelBox;
  /** Its class, an integer in `[0, numClasses)`. */
  readonly label: number;
}

/**
 * What to do with a patch that matches objects of several classes: `'drop'` it (the paper), call it
 * `'background'`, or keep it as a `'multi-label'` positive for every matched class.
 *
 * @example
 * ```ts
 * labelPatches(patches, objects, { numClasses: 10, multiObject: 'multi-label' });
 * ```
 */
export type MultiObjectPolicy = 'drop' | 'background' | 'multi-label';

/**
 * Options of {@link labelPatches}.
 *
 * @example
 * ```ts
 * const opts: LabelOptions = { numClasses: 10, minPatchOverlap: 0.2, minObjectOverlap: 0.6, multiObject: 'drop' };
 * ```
 */
export interface LabelOptions {
  /** Number of object classes. */
  numClasses: number;
  /** Minimum `|P ∩ B| / |P|` (share of the patch covered by the object). @default 0.2 */
  minPatchOverlap?: number;
  /** Minimum `|P ∩ B| / |B|` (share of the object inside the patch). @default 0.6 */
  minObjectOverlap?: number;
  /** Patches matching objects of several classes. @default 'drop' */
  multiObject?: MultiObjectPolicy;
  /** When given, object boxes must lie inside this image (checked). */
  imageSize?: ImageSize;
}

/**
 * `label` value of a background patch.
 *
 * @example
 * ```ts
 * const isBackground = labels.label[i] === BACKGROUND;
 * ```
 */
export const BACKGROUND = -1;
/**
 * `label` value of a dropped patch (it matched several classes under the `'drop'` policy).
 *
 * @example
 * ```ts
 * const dropped = labels.label.filter((l) => l === DROPPED).length; // === labels.dropped
 * ```
 */
export const DROPPED = -2;
/**
 * `label` value of a patch with several classes (the `'multi-label'` policy); see `targets`.
 *
 * @example
 * ```ts
 * if (labels.label[i] === MULTIPLE) console.log(labels.targets.subarray(i * 10, (i + 1) * 10));
 * ```
 */
export const MULTIPLE = -3;

/**
 * The labels of the patches of one image.
 *
 * @example
 * ```ts
 * const labels: PatchLabels = sampler.label(grid, objects, { numClasses: 10 });
 * labels.positives + labels.background + labels.dropped === labels.count; // true
 * ```
 */
export interface PatchLabels {
  /** Number of patches. */
  readonly count: number;
  /** Number of object classes. */
  readonly numClasses: number;
  /** Per patch: its class (>= 0), -1 for background, -2 for dropped (ambiguous) or -3 for several classes. */
  readonly label: Int32Array;
  /** Per patch, multi-hot over classes (`[count * numClasses]`): the classes it is a positive for (none for background or dropped). */
  readonly targets: Uint8Array;
  /** Patches with one class or several (`label >= 0` or -3). */
  readonly positives: number;
  /** Background patches. */
  readonly background: number;
  /** Dropped patches. */
  readonly dropped: number;
}

/** The known keys of {@link LabelOptions}. */
const LABEL_OPTION_KEYS = knownKeys<LabelOptions>({
  numClasses: true,
  minPatchOverlap: true,
  minObjectOverlap: true,
  multiObject: true,
  imageSize: true,
});

/**
 * Labels patches against the objects of one image with Oquab et al.'s rule (Sec. 3.3):
 * P is a positive for the class of B when `|P ∩ B| >= minPatchOverlap |P|` and `|P ∩ B| >= minObjectOverlap |B|`.
 * Plain loops over typed arrays: 500 patches x 4 objects take microseconds.
 *
 * @param patches pixel boxes, either a flat `[n * 4]` array (e.g. {@link PatchGrid.boxes}) or a list of boxes.
 * @throws {@link InvalidArgumentError} for an inverted box, a box outside `options.imageSize`, a label outside
 * `[0, numClasses)` or a threshold outside `[0, 1]`.
 * @example
 * ```ts
 * const labels = labelPatches([[0, 0, 32, 32], [0, 0, 96, 96]], [{ box: [4, 4, 28, 28], label: 2 }], { numClasses: 10 });
 * labels.label; // Int32Array [2, -1]: the big patch is only 576/9216 = 6% object, below 20%
 * ```
 */
export function labelPatches(
  patches: ArrayLike<number> | readonly PixelBox[],
  objects: readonly LabelledBox[],
  options: LabelOptions,
): PatchLabels {
  const fn = 'labelPatches';
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, LABEL_OPTION_KEYS);
  checkInteger(fn, 'options.numClasses', o.numClasses, 1);
  const tp = o.minPatchOverlap ?? 0.2;
  const tb = o.minObjectOverlap ?? 0.6;
  const policy = o.multiObject ?? 'drop';
  checkInRange(fn, 'options.minPatchOverlap', tp, 0, 1);
  checkInRange(fn, 'options.minObjectOverlap', tb, 0, 1);
  checkOneOf(fn, 'options.multiObject', policy, ['drop', 'background', 'multi-label'] as const);
  if (o.imageSize !== undefined) checkImageSize(fn, 'options.imageSize', o.imageSize);
  const flat = toFlat(fn, patches, o.imageSize);
  if (!Array.isArray(objects))
    throw new InvalidArgumentError(fn, 'objects', 'an array of { box, label }', objects);
  const nObj = objects.length;
  const ob = new Float64Array(nObj * 4);
  const ol = new Int32Array(nObj);
  const oArea = new Float64Array(nObj);
  objects.forEach((obj, j) => {
    if (typeof obj !== 'object' || obj === null) {
      throw new InvalidArgumentError(fn, `objects[${j}]`, 'an object { box, label }', obj);
    }
    checkPixelBox(fn, `objects[${j}].box`, obj.box, o.imageSize);
    checkInteger(fn, `objects[${j}].label`, obj.label, 0, o.numClasses - 1);
    for (let c = 0; c < 4; c++) ob[4 * j + c] = obj.box[c];
    ol[j] = obj.label;
    oArea[j] = (obj.box[2] - obj.box[0]) * (obj.box[3] - obj.box[1]);
  });

  const n = flat.length / 4;
  const K = o.numClasses;
  const label = new Int32Array(n);
  const targets = new Uint8Array(n * K);
  let positives = 0;
  let background = 0;
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const py1 = flat[4 * i];
    const px1 = flat[4 * i + 1];
    const py2 = flat[4 * i + 2];
    const px2 = flat[4 * i + 3];
    const pArea = (py2 - py1) * (px2 - px1);
    let first = -1;
    let several = false;
    for (let j = 0; j < nObj; j++) {
      const inter = intersectionArea4(
        py1,
        px1,
        py2,
        px2,
        ob[4 * j],
        ob[4 * j + 1],
        ob[4 * j + 2],
        ob[4 * j + 3],
      );
      if (inter > 0 && inter >= tp * pArea && inter >= tb * oArea[j]) {
        const c = ol[j];
        targets[i * K + c] = 1;
        if (first < 0) first = c;
        else if (c !== first) several = true;
      }
    }
    if (first < 0) {
      label[i] = BACKGROUND;
      background++;
    } else if (!several) {
      label[i] = first;
      positives++;
    } else if (policy === 'multi-label') {
      label[i] = MULTIPLE;
      positives++;
    } else {
      targets.fill(0, i * K, (i + 1) * K);
      if (policy === 'drop') {
        label[i] = DROPPED;
        dropped++;
      } else {
        label[i] = BACKGROUND;
        background++;
      }
    }
  }
  return { count: n, numClasses: K, label, targets, positives, background, dropped };
}

function toFlat(
  fn: string,
  patches: ArrayLike<number> | readonly PixelBox[],
  size: ImageSize | undefined,
): ArrayLike<number> {
  if (Array.isArray(patches) && patches.length > 0 && typeof patches[0] !== 'number') {
    const boxes = patches as readonly PixelBox[];
    const out = new Float64Array(boxes.length * 4);
    boxes.forEach((b, i) => {
      checkPixelBox(fn, `patches[${i}]`, b, size);
      out.set(b, 4 * i);
    });
    return out;
  }
  const flat = patches as ArrayLike<number>;
  if (typeof flat !== 'object' || flat === null || typeof flat.length !== 'number' || flat.length % 4 !== 0) {
    throw new InvalidArgumentError(
      fn,
      'patches',
      'a list of boxes or a flat array whose length is a multiple of 4',
      patches,
    );
  }
  const H = size?.height ?? Number.POSITIVE_INFINITY;
  const W = size?.width ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < flat.length; i += 4) {
    const y1 = flat[i];
    const x1 = flat[i + 1];
    const y2 = flat[i + 2];
    const x2 = flat[i + 3];
    // Fast path without allocation; on failure, the full check builds the message.
    const ok = y1 < y2 && x1 < x2 && (size === undefined || (y1 >= 0 && x1 >= 0 && y2 <= H && x2 <= W));
    if (!ok || !Number.isFinite(y2 - y1 + x2 - x1))
      checkPixelBox(fn, `patches[${i / 4}]`, [y1, x1, y2, x2], size);
  }
  return flat;
}

/**
 * Options of {@link selectTrainingPatches}.
 *
 * @example
 * ```ts
 * selectTrainingPatches(perImage, { backgroundRatio: 2, minBackground: 100, seed: 3 });
 * ```
 */
export interface SelectOptions {
  /**
   * Background patches kept per positive patch, over the whole selection (`Infinity` keeps them all). When there
   * is no positive at all, `minBackground` decides.
   * @default 1
   */
  backgroundRatio?: number;
  /** Background patches kept at least (when there are that many). @default 0 */
  minBackground?: number;
  /** Seed of the {@link Rng} that draws the background sample. @default 0 */
  seed?: number;
}

/**
 * Patches chosen for training: parallel arrays of (image index, patch index), image-major and in patch order.
 *
 * @example
 * ```ts
 * const { image, patch } = selectTrainingPatches(perImage, { seed: 1 });
 * const box = patchBox(grid, patch[0]); // in scene image[0]
 * ```
 */
export interface PatchSelection {
  /** Image index of each chosen patch. */
  readonly image: Int32Array;
  /** Patch index (in its image's grid) of each chosen patch. */
  readonly patch: Int32Array;
  /** Positives chosen (all of them). */
  readonly positives: number;
  /** Background patches chosen. */
  readonly background: number;
  /** Background patches available before sub-sampling. */
  readonly backgroundAvailable: number;
  /** Dropped patches (never chosen). */
  readonly dropped: number;
}

/** The known keys of {@link SelectOptions}. */
const SELECT_OPTION_KEYS = knownKeys<SelectOptions>({
  backgroundRatio: true,
  minBackground: true,
  seed: true,
});

/**
 * Chooses the training patches of a data set: every positive patch, no dropped patch, and a uniform random sample
 * (seeded) of the background patches, `round(backgroundRatio * positives)` of them (at least `minBackground`, at
 * most all), as Oquab et al. sub-sample the background to balance the training set.
 *
 * @example
 * ```ts
 * const perImage = scenes.map((objects) => sampler.label(grid, objects, { numClasses: 10 }));
 * const chosen = selectTrainingPatches(perImage, { backgroundRatio: 1, seed: 7 });
 * chosen.positives === chosen.background; // when there is enough background
 * ```
 */
export function selectTrainingPatches(
  labels: readonly PatchLabels[],
  options?: SelectOptions,
): PatchSelection {
  const fn = 'selectTrainingPatches';
  const o = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', o, SELECT_OPTION_KEYS);
  const ratio = o.backgroundRatio ?? 1;
  const minBg = o.minBackground ?? 0;
  const seed = o.seed ?? 0;
  if (typeof ratio !== 'number' || Number.isNaN(ratio) || ratio < 0) {
    throw new InvalidArgumentError(fn, 'options.backgroundRatio', 'a number >= 0 (or Infinity)', ratio);
  }
  checkInteger(fn, 'options.minBackground', minBg, 0);
  checkInteger(fn, 'options.seed', seed);
  if (!Array.isArray(labels)) throw new InvalidArgumentError(fn, 'labels', 'an array of PatchLabels', labels);
  let positives = 0;
  let bgAvail = 0;
  let dropped = 0;
  labels.forEach((l, i) => {
    if (typeof l !== 'object' || l === null || !(l.label instanceof Int32Array)) {
      throw new InvalidArgumentError(fn, `labels[${i}]`, 'PatchLabels from labelPatches', l);
    }
    positives += l.positives;
    bgAvail += l.background;
    dropped += l.dropped;
  });
  const want = Math.min(
    bgAvail,
    Math.max(minBg, Number.isFinite(ratio) ? Math.round(ratio * positives) : bgAvail),
  );
  // Choose `want` of the `bgAvail` background patches (by their running index), then emit image-major.
  const keep = new Uint8Array(bgAvail);
  if (want === bgAvail) keep.fill(1);
  else {
    const rng = new Rng(seed);
    // Partial Fisher-Yates over indices without materialising objects.
    const idx = new Int32Array(bgAvail);
    for (let i = 0; i < bgAvail; i++) idx[i] = i;
    for (let i = 0; i < want; i++) {
      const j = i + rng.int(bgAvail - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      keep[idx[i]] = 1;
    }
  }
  const total = positives + want;
  const image = new Int32Array(total);
  const patch = new Int32Array(total);
  let k = 0;
  let b = 0;
  labels.forEach((l, im) => {
    for (let p = 0; p < l.count; p++) {
      const v = l.label[p];
      if (v === DROPPED) continue;
      if (v === BACKGROUND && !keep[b++]) continue;
      image[k] = im;
      patch[k] = p;
      k++;
    }
  });
  return { image, patch, positives, background: want, backgroundAvailable: bgAvail, dropped };
}
