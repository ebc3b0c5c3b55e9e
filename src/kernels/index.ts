/**
 * Opt-in training kernels for the `wasm` and `cpu` backends: conv-net gradients as forward convolutions and
 * transposed matmuls as explicit transposes.
 *
 * Like every folder index of transferkit, it exports what a user calls (classes, entry functions, the types of their
 * arguments and results, constants that are values of those types) and leaves the helpers in their files; the
 * library's own report, CLI and bench reach those through `src/internal.ts`, which is no package entry.
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
