/**
 * {@link SoftmaxRegression}: multinomial logistic regression on tfjs.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../core/errors.js';
import { checkSaved, TfLinearClassifier } from './linear-base.js';
import type { SoftmaxRegressionOptions } from './linear-options.js';
import type { SavedClassifier } from './types.js';

/**
 * Softmax (multinomial logistic) regression on tfjs: mean over examples of c_{y_i} times the cross-entropy of
 * softmax(W x_i + b), plus lambda/2 ||W||^2; scores are the class probabilities. With two classes it is logistic
 * regression. DeCAF uses logistic regression on its features for the fine-grained birds.
 *
 * @example
 * ```ts
 * const lr = new SoftmaxRegression({ l2: 1e-3, batchSize: 128, epochs: 20 });
 * await lr.fit(features, labels);
 * const probs = await lr.predictScores(testFeatures); // [N, K], rows sum to 1
 * ```
 */
export class SoftmaxRegression extends TfLinearClassifier {
  /** Always `'softmax'`. */
  readonly kind = 'softmax' as const;
  private readonly l2: number;

  constructor(options: SoftmaxRegressionOptions = {}) {
    super('SoftmaxRegression', options);
    this.l2 = options.l2 ?? 1e-4;
    if (typeof this.l2 !== 'number' || !(this.l2 >= 0) || !Number.isFinite(this.l2)) {
      throw new InvalidArgumentError('SoftmaxRegression', 'options.l2', 'a finite number >= 0', this.l2);
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
    const logp = tf.logSoftmax(scores);
    const data = tf.mean(tf.mul(tf.neg(tf.sum(tf.mul(oneHot, logp), 1)), sw)) as tf.Scalar;
    const rows = scores.shape[0];
    const dS = tf.mul(tf.sub(tf.exp(logp), oneHot), tf.reshape(tf.div(sw, rows), [rows, 1])) as tf.Tensor2D;
    return { data, dS };
  }

  protected lambda(): number {
    return this.l2;
  }

  protected scoresFromLogits(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.softmax(logits);
  }

  /** Saves `l2` with the common options. */
  protected extraOptions(): Record<string, unknown> {
    return { l2: this.l2 };
  }

  /** Restores a SoftmaxRegression saved with `save()`. */
  static async load(saved: SavedClassifier): Promise<SoftmaxRegression> {
    const s = checkSaved('SoftmaxRegression.load', saved, 'softmax');
    return new SoftmaxRegression(s.options as SoftmaxRegressionOptions).restore(s);
  }
}
