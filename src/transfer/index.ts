/**
 * Layer transfer (Yosinski et al. 2014; Oquab et al. 2014): copy the first n layers of a base model, re-initialise
 * the rest, freeze or fine-tune with discriminative learning rates, and run the AnB/BnB transferability experiment.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */

export type { LayerSelector, LeafLayer, ModelStructure } from '../model/structure.js';
export { modelStructure } from '../model/structure.js';
export type { BatchNormPolicy } from './batchnorm.js';
export { applyBatchNormPolicy } from './batchnorm.js';
export { type ClassSubset, randomClassSplit, selectClasses } from './data.js';
export {
  type AccuracyStats,
  type ModelFactory,
  summarizeTransfer,
  TransferExperiment,
  type TransferExperimentData,
  type TransferExperimentOptions,
  type TransferKind,
  type TransferPoint,
  type TransferResults,
  type TransferRun,
  type TransferRunKind,
  type TransferSummary,
  transferTable,
} from './experiment.js';
export { GraphModelClassifier, type GraphModelClassifierOptions } from './graph-classifier.js';
export {
  GroupedOptimizer,
  type GroupedOptimizerOptions,
  type OptimizerKind,
  type ParameterGroup,
} from './grouped-optimizer.js';
export {
  type FineTuneOptions,
  type HeadSpec,
  LayerTransfer,
  type LayerTransferOptions,
} from './layer-transfer.js';
export { type GroupTrainHistory, type GroupTrainOptions, trainWithGroups } from './train.js';
