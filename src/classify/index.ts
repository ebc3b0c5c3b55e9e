/**
 * Classifiers on feature vectors (one interface: fit, predict, predictScores, save/load, dispose) and metrics.
 *
 * @module
 */

export { type EvaluateOptions, type Evaluation, evaluateClassifier } from './evaluate.js';
export {
  LinearSvm,
  type LinearSvmOptions,
  type LinearTrainingOptions,
  SoftmaxRegression,
  type SoftmaxRegressionOptions,
} from './linear.js';
export * from './load.js';
export * from './metrics.js';
export * from './ml-svm.js';
export type {
  ClassifierKind,
  ClassWeight,
  FeatureClassifier,
  FitOptions,
  FitReport,
  LabelInput,
  SavedClassifier,
} from './types.js';
