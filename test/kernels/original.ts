import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  unregisterTrainingKernels,
} from '../../src/kernels/index.js';

/** Runs `fn` on the backend's original kernels, then registers all of transferkit's training kernels again. */
export function onOriginal<T>(backend: TrainingKernelBackend, fn: () => T): T {
  unregisterTrainingKernels(backend);
  try {
    return fn();
  } finally {
    registerTrainingKernels(backend, { kernels: TRAINING_KERNEL_NAMES });
  }
}
