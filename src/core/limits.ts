/**
 * Limits on sizes that come from input (counts, class numbers, pixel counts, lengths declared in files). A value past
 * its limit is rejected with an {@link InvalidArgumentError} before anything is allocated, so that a typo or a
 * hostile file ends in a clear error instead of a hang or an exhausted heap. The limits are far above any real use
 * of this library; functions that decode images take their own `maxPixels` option.
 *
 * @module
 */

/** The limits transferkit checks input sizes against (see the module comment). */
export const LIMITS = Object.freeze({
  /** Most classes of a classifier, a label set or a saved model (ImageNet-21k has 21,841). */
  maxClasses: 100_000,
  /** Most cells of a confusion matrix (`numClasses^2`): 10,000 classes. */
  maxConfusionCells: 100_000_000,
  /** Most pixels of one decoded image, by default (jpeg-js's `maxResolutionInMP` default: 100 megapixels). */
  maxPixels: 100_000_000,
  /** Most values generated in one call of a generator (e.g. `generateScenes`: count x canvas pixels): 2 GiB of float32. */
  maxGeneratedValues: 2 ** 29,
  /** Most dimensions of a feature vector or a saved classifier's input. */
  maxFeatureDim: 1 << 24,
  /** Most positions of an occluder along one axis. */
  maxPositions: 1 << 20,
});
