/**
 * Features off the shelf (DeCAF, Donahue et al. 2014; Razavian et al. 2014): taps, pooling, normalisation,
 * augmented views, batched extraction and a feature file format.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */

export { FeatureExtractor } from './extractor.js';
export type {
  ExtractAllOptions,
  ExtractorTap,
  FeatureExtractorOptions,
  ImageSource,
  TapOptions,
  TapSpec,
} from './extractor-options.js';
export { decodeFeatures, encodeFeatures, type FeaturesFile, type FeaturesHeader } from './format.js';
export { type FeatureInput, FeatureMatrix } from './matrix.js';
export { type NormMode, type PoolMode, Standardizer, type StandardizerJSON } from './normalize.js';
export type { ShardManifest, ShardPart, ShardSpec } from './shards.js';
export type { TapInfo, TapRef } from './taps.js';
export {
  type AugmentOptions,
  augmentedViews,
  type CropSet,
  type Preprocessing,
  type ResizeMode,
  type ViewCombine,
  type ViewSpec,
} from './views.js';
