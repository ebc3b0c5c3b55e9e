/**
 * Features off the shelf (DeCAF, Donahue et al. 2014; Razavian et al. 2014): taps, pooling, normalisation,
 * augmented views, batched extraction and a feature file format.
 *
 * @module
 */

export { closeNames, editDistance } from '../core/names.js';
export { listGraphTaps } from '../model/graph-model.js';
export {
  type ExtractAllOptions,
  type ExtractorTap,
  FeatureExtractor,
  type FeatureExtractorOptions,
  type ImageSource,
  type TapOptions,
  type TapSpec,
} from './extractor.js';
export {
  decodeFeatures,
  encodeFeatures,
  FEATURES_MAGIC,
  type FeaturesFile,
  type FeaturesHeader,
} from './format.js';
export { type FeatureInput, FeatureMatrix } from './matrix.js';
export {
  l2Normalize,
  NORM_MODES,
  type NormMode,
  normalizeFeatures,
  POOL_MODES,
  type PoolMode,
  poolFeatures,
  powerNormalize,
  Standardizer,
  type StandardizerJSON,
} from './normalize.js';
export {
  canonicalJson,
  checkShard,
  mergeFeatureShards,
  parseShard,
  type ShardManifest,
  type ShardPart,
  type ShardSpec,
  shardBaseName,
  shardFromEnv,
  shardRange,
} from './shards.js';
export { listTaps, type TapInfo, type TapRef } from './taps.js';
export {
  type AugmentOptions,
  augmentedViews,
  type CropSet,
  centerCropBox,
  fitToSize,
  type Preprocessing,
  preprocessImages,
  RESIZE_MODES,
  type ResizeMode,
  type ViewCombine,
  type ViewSpec,
  viewSpecs,
} from './views.js';
