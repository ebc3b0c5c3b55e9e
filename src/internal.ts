/**
 * The library's internals for its own report, CLI, bench and tests: argument checks, value descriptions, memory
 * helpers, shard and rendering helpers, and the Node helpers the commands share. This file is NO package entry and
 * nothing in `transferkit` or `transferkit/node` imports it; the build bundles what the CLI uses from here into
 * `dist/cli.js`, while classes, registries and error types stay imported from the public entries (see the
 * self-reference plugin in tsup.config.ts). Library modules import these helpers from their own files, never from
 * here.
 *
 * @internal
 * @module
 */

export { ML_SVM_KERNELS } from './classify/ml-svm.js';
export { checkModelArtifacts } from './core/artifacts.js';
export {
  checkClassIndices,
  checkImageBatch,
  checkInRange,
  checkInteger,
  checkNonEmptyArray,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkShape,
  checkTensor,
  isTensor,
  knownKeys,
} from './core/checks.js';
export { describeValue, rawValue } from './core/describe.js';
export { readLabels } from './core/labels.js';
export { LIMITS } from './core/limits.js';
export { disposeAll, readAndDispose, readFloat32AndDispose, scoped, withTracked } from './core/memory.js';
export { closeNames, editDistance } from './core/names.js';
export { isPredictModel, predict2d } from './core/types.js';
export { batchIndices } from './data/split.js';
export { occluderPositions } from './deconvnet/occlusion.js';
export { mapsToArrays } from './deconvnet/render.js';
export { getDeconvRule, PROJECTION_STRATEGIES, registeredDeconvLayers } from './deconvnet/rules.js';
export { LABEL_OFFSET } from './distill/distillation-loss.js';
export { randomShifts, shiftImages } from './distill/jitter.js';
export { confusionAffinity, covarianceToCorrelation, predictionCovariance } from './ensemble/affinity.js';
export { validateClusters } from './ensemble/clustering.js';
export { dustbinMatrix } from './ensemble/combine.js';
export { columnSilhouette, kMeansColumns } from './ensemble/kmeans.js';
export { dustbinLogitShift, enrichedSample, remapLabels } from './ensemble/sampling.js';
export { FEATURES_MAGIC } from './features/format.js';
export {
  l2Normalize,
  NORM_MODES,
  normalizeFeatures,
  POOL_MODES,
  poolFeatures,
  powerNormalize,
} from './features/normalize.js';
export {
  canonicalJson,
  checkShard,
  mergeFeatureShards,
  parseShard,
  shardBaseName,
  shardFromEnv,
  shardRange,
} from './features/shards.js';
export { listTaps } from './features/taps.js';
export { centerCropBox, fitToSize, preprocessImages, RESIZE_MODES, viewSpecs } from './features/views.js';
export { augmentImages, resolveFinetuneAugment } from './finetune/augment.js';
export { imageInputShape } from './finetune/image-sets.js';
export { confusionSvg, finetuneSummaryHtml } from './finetune/summary.js';
export { defaultTrainingKernels } from './kernels/registry.js';
export { dropoutLayers, seedDropoutMasks } from './model/dropout.js';
export { GRAPH_PROJECTION_OPS } from './model/graph-gradients.js';
export { listGraphTaps } from './model/graph-model.js';
export { isGraphModel, isLayersModel, modelKind } from './model/kinds.js';
export { NORMALIZATION_CLASSES } from './model/structure.js';
// Node helpers shared by the commands (not browser-safe: only Node code imports this file).
export {
  clearDataSetMemo,
  FASHION_MNIST_CLASSES,
  loadFashionMnistBytes,
  loadMnistFiles,
} from './node/datasets.js';
export {
  inputFingerprint,
  listImages,
  listInputs,
  loadModelArg,
  readImageFile,
} from './node/extraction-inputs.js';
export { scanClothesJson } from './node/fashion-json.js';
export {
  checkImageFiles,
  fileFeatureCache,
  imageSetFromFiles,
  modelCacheKey,
} from './node/finetune-files.js';
export { checkOutputFolder } from './node/finetune-model.js';
export { listImageFolder } from './node/images.js';
export { loadMnistDigits, MNIST_SIZE } from './node/mnist.js';
export { packageRoot } from './node/optional.js';
export { decodePng, encodePng, pngDataUri } from './node/png.js';
export { defaultWorkers } from './node/pool.js';
export { fileIOHandler } from './node/pretrained.js';
export { readFeatureShards, writeFileAtomic } from './node/shards.js';
export {
  boxArea,
  boxIntersection,
  checkImageSize,
  checkPixelBox,
  intersectionArea,
  normalizedToPixel,
  pixelBoxesToNormalized,
} from './patches/boxes.js';
export { BACKGROUND, DROPPED, MULTIPLE } from './patches/labels.js';
export { patchBox } from './patches/sampler.js';
export { type BarChartOptions, type BarSeries, barChart } from './render/charts.js';
export {
  type HeatMapBlock,
  type HeatMapDiagonalBlock,
  type HeatMapOptions,
  type HeatMapRect,
  heatMap,
} from './render/heatmap.js';
export { labelledGridSvg, toRgbaGrid } from './render/image.js';
export { colormap, escapeXml, formatNumber, niceTicks, PALETTE, rgbHex } from './render/svg.js';
export { batchNormPolicyOf } from './transfer/batchnorm.js';
export { TRANSFER_KINDS } from './transfer/experiment-types.js';
export { OPTIMIZER_KINDS } from './transfer/grouped-optimizer.js';
export { HINTON_PRESETS } from './zoo/mlp.js';
