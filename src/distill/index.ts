/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015): temperature-softened soft targets, the distillation loss as a
 * function, a class and a tfjs-layers loss, and the {@link Distiller} training loop with cached teacher outputs and
 * bias correction for classes absent from the transfer set.
 *
 * @module
 */
export {
  type ApplyBiasShiftOptions,
  applyBiasShift,
  type BiasObjective,
  type BiasShiftFit,
  type FitBiasShiftOptions,
  fitBiasShift,
  type LayeredModel,
} from './bias.js';
export {
  DistillationLoss,
  LABEL_OFFSET,
  type LayersLossFunction,
  type PackedTargets,
} from './distillation-loss.js';
export {
  type BiasCorrection,
  type CorrectBiasOptions,
  type DistillEpoch,
  type DistillEpochValidation,
  Distiller,
  type DistillerConfig,
  type DistillerFitOptions,
  type DistillerOptions,
  type DistillHistory,
  type EarlyStoppingOptions,
  type TeacherOutputMode,
} from './distiller.js';
export { jitterImages, randomShifts, shiftImages } from './jitter.js';
export {
  type DistillationConfig,
  type DistillationForm,
  type DistillationLossOptions,
  distillationLoss,
  type LossReduction,
  type ResolvedDistillationConfig,
  type TeacherInput,
} from './loss.js';
export {
  type PredictSoftTargetsOptions,
  predictSoftTargets,
  type Teacher,
  type TeacherOutputs,
} from './teacher.js';
export {
  type CheckProbabilitiesOptions,
  checkProbabilities,
  type EnsembleCombine,
  type SoftTargetsOptions,
  softmaxWithTemperature,
  softTargets,
} from './temperature.js';
