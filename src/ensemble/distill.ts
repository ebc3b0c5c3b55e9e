/**
 * Distilling a specialist ensemble back into one model: the step Hinton, Vinyals & Dean (2015, section 5) leave
 * undone. The ensemble's combined distributions q (eq. 5) over a transfer set are computed once and used as the
 * teacher's outputs of a {@link Distiller}.
 *
 * @module
 */
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkOptionKeys, checkOptions, checkTensor, knownKeys } from '../core/checks.js';
import { DisposedError, InvalidArgumentError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { Distiller, type DistillHistory } from '../distill/distiller.js';
import type { SpecialistEnsemble } from './ensemble.js';
import type { EnsemblePredictOptions } from './types.js';

/** Options of {@link distillEnsemble}. */
export interface DistillEnsembleOptions {
  /** Temperature of the soft term (soft targets `q^(1/T)`, renormalised). @default 2 */
  temperature?: number;
  /** Weight of the soft term against the hard labels (`alpha = 1`: soft targets only). @default 0.9 */
  alpha?: number;
  /** True labels of the transfer set (needed when `alpha < 1`). */
  labels?: Tensor1D;
  /** Passes over the transfer set. @default 5 */
  epochs?: number;
  /** Mini-batch size. @default 128 */
  batchSize?: number;
  /** Adam's learning rate. @default 0.001 */
  learningRate?: number;
  /** Seed of the shuffling. @default 0 */
  seed?: number;
  /** How the ensemble predicts the soft targets (candidates, iterations...). */
  predict?: EnsemblePredictOptions;
  /** Validation data scored after each epoch. */
  validation?: {
    /** Validation inputs, one example per row along the first axis. */
    x: Tensor;
    /** Integer class label of each validation example. */
    labels: Tensor1D;
  };
  /** Progress: phase `'ensemble'` (the soft targets), then the Distiller's `'train'` steps. */
  onProgress?: ProgressCallback;
}

/** The known keys of {@link DistillEnsembleOptions}. */
const DISTILL_ENSEMBLE_OPTION_KEYS = knownKeys<DistillEnsembleOptions>({
  temperature: true,
  alpha: true,
  labels: true,
  epochs: true,
  batchSize: true,
  learningRate: true,
  seed: true,
  predict: true,
  validation: true,
  onProgress: true,
});

/**
 * Trains `student` (a LayersModel that outputs logits) in place to reproduce a specialist ensemble's combined
 * distributions on a transfer set, with {@link Distiller}'s loss `alpha * T^2 * soft + (1 - alpha) * hard`
 * (Hinton et al. 2015, section 2). The ensemble runs once over `x`; its outputs are freed before returning.
 *
 * @example
 * ```ts
 * const student = hintonMlp({ hidden: [32] }); // logits
 * const history = await distillEnsemble(ensemble, student, xTrain, { labels: yTrain, epochs: 5, temperature: 2 });
 * ```
 */
export async function distillEnsemble(
  ensemble: SpecialistEnsemble,
  student: tfl.LayersModel,
  x: Tensor,
  options?: DistillEnsembleOptions,
): Promise<DistillHistory> {
  const fn = 'distillEnsemble';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, DISTILL_ENSEMBLE_OPTION_KEYS);
  if (typeof ensemble !== 'object' || ensemble === null || typeof ensemble.predictProba !== 'function') {
    throw new InvalidArgumentError(fn, 'ensemble', 'a SpecialistEnsemble', ensemble);
  }
  if (ensemble.isDisposed) throw new DisposedError('SpecialistEnsemble', 'distill');
  checkTensor(fn, 'x', x);
  // The Distiller validates the student, temperature, alpha and the labels before anything is trained.
  opts.onProgress?.({ phase: 'ensemble', done: 0, total: 1 });
  const q = await ensemble.predictProba(x, opts.predict);
  let distiller: Distiller | undefined;
  try {
    distiller = new Distiller(
      student,
      { outputs: q, outputKind: 'probabilities' },
      {
        temperature: opts.temperature ?? 2,
        alpha: opts.alpha ?? 0.9,
        learningRate: opts.learningRate ?? 1e-3,
      },
    );
    opts.onProgress?.({ phase: 'ensemble', done: 1, total: 1 });
    return await distiller.fit(x, {
      labels: opts.labels,
      epochs: opts.epochs ?? 5,
      batchSize: opts.batchSize ?? 128,
      seed: opts.seed ?? 0,
      validation: opts.validation,
      onProgress: opts.onProgress,
    });
  } finally {
    distiller?.dispose();
    q.dispose();
  }
}
