/**
 * Options of the tfjs linear classifiers ({@link LinearSvm}, {@link SoftmaxRegression}).
 *
 * @module
 */

import type { LinearSvm } from './linear-svm.js';
import type { SoftmaxRegression } from './softmax-regression.js';
import type { ClassWeight } from './types.js';

/**
 * Training options shared by the tfjs linear classifiers.
 *
 * @example
 * ```ts
 * const training: LinearTrainingOptions = { epochs: 20, batchSize: 128, learningRate: 0.01, seed: 1 };
 * ```
 */
export interface LinearTrainingOptions {
  /** Number of classes. @default max label + 1 */
  numClasses?: number;
  /** Per-class loss weights: `'balanced'` or one number per class. @default all 1 */
  classWeight?: ClassWeight;
  /** Full batch: most iterations (Newton, L-BFGS) or steps (Adam); with `batchSize`: passes over the data. @default 300 */
  epochs?: number;
  /** Mini-batch size (Adam); omit for full-batch optimisation. @default full batch */
  batchSize?: number;
  /** Full-batch optimiser: `'newton'` (LinearSvm only: truncated Newton with conjugate gradients on the squared
   * hinge, all classes batched, liblinear's `-s 2` method and stopping rule), `'lbfgs'` (limited-memory BFGS, 10
   * pairs, backtracking Armijo line search) or `'adam'`. Mini-batches always use Adam.
   * @default 'newton' for LinearSvm, 'lbfgs' for SoftmaxRegression */
  solver?: 'newton' | 'lbfgs' | 'adam';
  /** Adam learning rate. @default 0.05 */
  learningRate?: number;
  /** Full batch: when to stop. `'newton'`: when every class's gradient norm is at most `tol` times its norm at
   * W = 0 (liblinear's rule; its `-s 2` default, 0.01 min(pos, neg) / N, is 2e-3 for 5 balanced classes and 1e-3
   * for 10). `'lbfgs'` / `'adam'`: when the objective changes by less than `tol` (relative; per iteration for
   * L-BFGS, over 10 steps for Adam). 0: until `epochs`, or (Newton) until a step gains less than float32 resolves.
   * @default 1e-3 for 'newton', 1e-6 otherwise */
  tol?: number;
  /** Seed of the mini-batch order. @default 0 */
  seed?: number;
}

/**
 * Options of {@link LinearSvm}.
 *
 * @example
 * ```ts
 * new LinearSvm({ C: 10, classWeight: 'balanced' });
 * ```
 */
export interface LinearSvmOptions extends LinearTrainingOptions {
  /** Misclassification cost C of the primal 1/2 ||w||^2 + C sum xi^2 (larger: less regularisation). @default 1 */
  C?: number;
  /**
   * Regularise the bias like the weights: the primal becomes 1/2 (||w||^2 + b^2) + C sum xi^2, which is what
   * liblinear solves with `-B 1` (the bias as an extra feature of value 1). Off: the bias is free, as in the
   * textbook SVM. On features with a large common offset the free bias fits better; turn it on to reproduce
   * liblinear's numbers.
   * @default false
   */
  penalizeBias?: boolean;
}

/**
 * Options of {@link SoftmaxRegression}.
 *
 * @example
 * ```ts
 * new SoftmaxRegression({ l2: 1e-3, epochs: 200 });
 * ```
 */
export interface SoftmaxRegressionOptions extends LinearTrainingOptions {
  /** L2 penalty lambda/2 ||W||^2 added to the mean cross-entropy. @default 1e-4 */
  l2?: number;
}
