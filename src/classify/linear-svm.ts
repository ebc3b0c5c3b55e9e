/**
 * {@link LinearSvm}: the one-vs-rest L2-loss (squared hinge) linear SVM on tfjs.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkPositive } from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import { checkSaved, TfLinearClassifier } from './linear-base.js';
import type { LinearSvmOptions } from './linear-options.js';
import type { SavedClassifier } from './types.js';

/**
 * One-vs-rest linear SVM with the squared hinge loss, on tfjs. For classes k = 1..K it minimises (divided by
 * C N, which leaves the minimiser unchanged)
 *
 *   1/2 ||w_k||^2 + C sum_i c_{y_i} max(0, 1 - t_ik (w_k . x_i + b_k))^2,   t_ik = +1 if y_i = k else -1
 *
 * (the L2-loss SVM of liblinear; the bias is not regularised unless `penalizeBias`), all classes at once. The
 * default full-batch solver is a truncated Newton method with conjugate gradients (Keerthi & DeCoste 2005; the
 * method of liblinear's `-s 2`), stopped by liblinear's rule ||grad_k|| <= tol ||grad_k(0)|| (`tol` 1e-3); L-BFGS
 * and Adam are options. Scores are the margins w_k . x + b_k. This is the classifier DeCAF (Donahue et al. 2014)
 * and Razavian et al. (2014) put on CNN features.
 *
 * @example
 * ```ts
 * const svm = new LinearSvm({ C: 1, classWeight: 'balanced' });
 * await svm.fit(features, labels);
 * const acc = accuracy(testLabels, await svm.predict(testFeatures));
 * ```
 */
export class LinearSvm extends TfLinearClassifier {
  /** Always `'linear-svm'`. */
  readonly kind = 'linear-svm' as const;
  private readonly C: number;
  private readonly penalizeBias: boolean;

  constructor(options: LinearSvmOptions = {}) {
    super('LinearSvm', options);
    this.C = options.C ?? 1;
    checkPositive('LinearSvm', 'options.C', this.C);
    this.penalizeBias = options.penalizeBias ?? false;
    if (typeof this.penalizeBias !== 'boolean') {
      throw new InvalidArgumentError('LinearSvm', 'options.penalizeBias', 'a boolean', this.penalizeBias);
    }
  }

  protected dataTerm(
    scores: tf.Tensor2D,
    oneHot: tf.Tensor2D,
    sw: tf.Tensor1D,
  ): {
    /** Mean over the batch of sw_i * loss_i(scores_i). */
    data: tf.Scalar;
    /** Gradient of `data` with respect to the scores, `[B, K]`. */
    dS: tf.Tensor2D;
  } {
    // t = +1 for the true class, -1 otherwise; h = max(0, 1 - t s); loss_i = sum_k h_ik^2.
    const t = tf.sub(tf.mul(oneHot, 2), 1);
    const h = tf.relu(tf.sub(1, tf.mul(t, scores)));
    const data = tf.mean(tf.mul(tf.sum(tf.square(h), 1), sw)) as tf.Scalar;
    const rows = scores.shape[0];
    const dS = tf.mul(tf.mul(t, h), tf.reshape(tf.mul(sw, -2 / rows), [rows, 1])) as tf.Tensor2D;
    return { data, dS };
  }

  protected lambda(n: number): number {
    return 1 / (this.C * n);
  }

  /** liblinear's `-B 1`: the bias regularised like the weights, when `penalizeBias`. */
  protected override biasLambda(n: number): number {
    return this.penalizeBias ? this.lambda(n) : 0;
  }

  protected scoresFromLogits(logits: tf.Tensor2D): tf.Tensor2D {
    return logits;
  }

  /** Saves `C` (and `penalizeBias` when on) with the common options. */
  protected extraOptions(): Record<string, unknown> {
    return this.penalizeBias ? { C: this.C, penalizeBias: true } : { C: this.C };
  }

  /** Restores a LinearSvm saved with `save()`. */
  static async load(saved: SavedClassifier): Promise<LinearSvm> {
    const s = checkSaved('LinearSvm.load', saved, 'linear-svm');
    return new LinearSvm(s.options as LinearSvmOptions).restore(s);
  }
}
