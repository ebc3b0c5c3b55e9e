/**
 * Specialist ensembles (Hinton, Vinyals & Dean 2015, section 5): confusable-class clustering, enriched specialist
 * data with a dustbin class, specialists copied from the generalist, and the KL combination at inference.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
 *
 * @module
 */
export type {
  ClassCluster,
  ClassClustering,
  ClusterClassesOptions,
  ClusterMethod,
  ValidateClustersOptions,
} from './clustering.js';
export { clusterClasses } from './clustering.js';
export type { CombineKLOptions, CombineKLResult, SpecialistDistribution } from './combine.js';
export { combineKL } from './combine.js';
export type { DistillEnsembleOptions } from './distill.js';
export { distillEnsemble } from './distill.js';
export { SpecialistEnsemble } from './ensemble.js';
export type { EnsembleHandlers, EnsembleManifest } from './persistence.js';
export { memoryEnsembleStore } from './persistence.js';
export type { EnrichedSample, EnrichedSampleOptions } from './sampling.js';
export type {
  CreateSpecialistOptions,
  SpecialistTrainHistory,
  TrainSpecialistOptions,
} from './specialist.js';
export { createSpecialist, trainSpecialist } from './specialist.js';
export type {
  EnsemblePrediction,
  EnsemblePredictOptions,
  Specialist,
  SpecialistEnsembleOptions,
  SpecialistFactory,
  SpecialistFactoryContext,
  TrainEnsembleOptions,
} from './types.js';
