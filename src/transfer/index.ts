/**
 * Layer transfer (Yosinski et al. 2014; Oquab et al. 2014): copy the first n layers of a base model, re-initialise
 * the rest, freeze or fine-tune with discriminative learning rates, and run the AnB/BnB transferability experiment.
 *
 * @module
 */

export {
  type LayerSelector,
  type LeafLayer,
  type ModelStructure,
  modelStructure,
  NORMALIZATION_CLASSES,
} from '../model/structure.js';
export { applyBatchNormPolicy, type BatchNormPolicy, batchNormPolicyOf } from './batchnorm.js';
export { type ClassSubset, randomClassSplit, selectClasses } from './data.js';
export {
  type AccuracyStats,
  type ModelFactory,
  summarizeTransfer,
  TRANSFER_KINDS,
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
export {
  GraphModelClassifier,
  type GraphModelClassifierOptions,
  graphModelClassifier,
} from './graph-classifier.js';
export {
  GroupedOptimizer,
  type GroupedOptimizerOptions,
  OPTIMIZER_KINDS,
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
