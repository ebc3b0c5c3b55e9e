import { afterAll, beforeAll } from 'vitest';
import {
  registerTrainingKernels,
  TRAINING_KERNEL_NAMES,
  type TrainingKernelBackend,
  unregisterTrainingKernels,
} from '../../src/kernels/index.js';
import { backendName } from '../helpers.js';

/**
 * Registers every training kernel (also those not on by default for this backend, so all are proven on both
 * backends) before the file's tests and the project's default kernels again after them; returns the backend.
 */
export function useAllTrainingKernels(): TrainingKernelBackend {
  const b = backendName() as TrainingKernelBackend;
  beforeAll(() => {
    registerTrainingKernels(b, { kernels: TRAINING_KERNEL_NAMES });
  });
  afterAll(() => {
    registerTrainingKernels(b);
  });
  return b;
}

/** Runs `fn` on the backend's original kernels, then registers all of transferkit's training kernels again. */
export function onOriginal<T>(backend: TrainingKernelBackend, fn: () => T): T {
  unregisterTrainingKernels(backend);
  try {
    return fn();
  } finally {
    registerTrainingKernels(backend, { kernels: TRAINING_KERNEL_NAMES });
  }
}

/** Runs `fn` with a switch at `value` (`set` returns the value it replaces), then sets the previous value back. */
export function withSwitch<V, T>(set: (value: V) => V, value: V, fn: () => T): T {
  const was = set(value);
  try {
    return fn();
  } finally {
    set(was);
  }
}
