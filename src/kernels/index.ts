/**
 * Opt-in training kernels for the `wasm` and `cpu` backends: conv-net gradients as forward convolutions and
 * transposed matmuls as explicit transposes.
 *
 * @module
 */
export {
  defaultTrainingKernels,
  type RegisterTrainingKernelsOptions,
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  type TrainingKernelName,
  trainingKernelsRegistered,
  unregisterTrainingKernels,
} from './registry.js';
