/**
 * Classifiers on feature vectors (one interface: fit, predict, predictScores, save/load, dispose) and metrics.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
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
export { MlSvmClassifier, type MlSvmKernel, type MlSvmOptions } from './ml-svm.js';
export type {
  ClassifierKind,
  ClassWeight,
  FeatureClassifier,
  FitOptions,
  FitReport,
  LabelInput,
  SavedClassifier,
} from './types.js';
