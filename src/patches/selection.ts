/**
 * The training sample of Oquab et al. (2014)'s patch classifier: every positive patch of the labelled grids plus a
 * seeded draw of background patches (dropped patches are never used), re-drawn per epoch by the caller's seed.
 *
 * @module
 */
import { checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { BACKGROUND, DROPPED, type PatchLabels } from './labels.js';

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
