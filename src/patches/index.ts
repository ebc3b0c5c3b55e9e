/**
 * Oquab et al. (2014)'s multi-scale patches: the patch grid, the labelling rule, batched crops and patch-to-image
 * score aggregation.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type { AggregateOptions, LocalizationOptions, PatchAggregation } from './aggregate.js';
export { aggregatePatchScores, localizationMap } from './aggregate.js';
export type { ImageSize, NormalizedBox } from './boxes.js';
export { boxIoU, intersectionOverArea, pixelToNormalized } from './boxes.js';
export type {
  CropOptions,
  GridChunk,
  PatchBatch,
  PatchDatasetOptions,
  PredictPatchesOptions,
} from './crops.js';
export { cropBoxes, cropGridChunks, PatchDataset, predictPatches } from './crops.js';
export type {
  LabelledBox,
  LabelOptions,
  MultiObjectPolicy,
  PatchLabels,
  PatchSelection,
  SelectOptions,
} from './labels.js';
export { labelPatches, selectTrainingPatches } from './labels.js';
export type { PatchGrid, PatchSamplerOptions, PatchScale } from './sampler.js';
export { PatchSampler } from './sampler.js';
export type { PatchGridSvgOptions } from './svg.js';
export { patchGridSvg } from './svg.js';
