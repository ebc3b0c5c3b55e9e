/**
 * transferkit: what CNNs learn and how that knowledge transfers, as typed, backend-agnostic TensorFlow.js
 * primitives. This entry is browser-safe: it imports no `node:` module and no tfjs backend.
 *
 * @packageDocumentation
 */
export * from './classify/index.js';
export * from './core/index.js';
export * from './data/index.js';
export * from './deconvnet/index.js';
export * from './distill/index.js';
export * from './ensemble/index.js';
export * from './features/index.js';
export * from './finetune/index.js';
export {
  type RegisterTrainingKernelsOptions,
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  type TrainingKernelName,
  trainingKernelsRegistered,
  unregisterTrainingKernels,
} from './kernels/index.js';
export * from './model/index.js';
export * from './patches/index.js';
export * from './render/index.js';
export * from './transfer/index.js';
export * from './zoo/index.js';
