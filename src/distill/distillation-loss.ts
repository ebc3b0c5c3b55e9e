/**
 * {@link DistillationLoss}: the distillation loss configured once, usable as a function in custom training loops and
 * as a tfjs-layers loss in `model.compile({ loss })` / `fit()`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkOptionKeys, checkTensor } from '../core/checks.js';
import { ShapeMismatchError } from '../core/errors.js';
import { scoped } from '../core/memory.js';
import {
  checkLossTensors,
  computeDistillationLoss,
  DISTILLATION_CONFIG_KEYS,
  type DistillationConfig,
  type DistillationForm,
  type LossReduction,
  perExampleDistillationLoss,
  type ResolvedDistillationConfig,
  resolveDistillationConfig,
  type TeacherInput,
  toOneHot,
} from './loss.js';

/**
 * The offset added to the true class's entry when soft targets and labels are packed into one `y_true` tensor for
 * `fit()` (see {@link DistillationLoss.pack}). Soft targets are in [0, 1], so an entry above 1.5 marks the label.
 *
 * @example
 * ```ts
 * // soft targets [0.7, 0.3] with label 0 pack to [0.7 + LABEL_OFFSET, 0.3] = [2.7, 0.3]
 * ```
 */
export const LABEL_OFFSET = 2;

/** What {@link DistillationLoss.unpack} returns: the two parts of a packed `y_true` (new tensors). */
export type PackedTargets = {
  /** The soft targets `[batch, classes]`. */
  softTargets: tf.Tensor2D;
  /** One-hot labels `[batch, classes]`; all-zero rows where no label was packed. */
  oneHot: tf.Tensor2D;
};

/**
 * A tfjs-layers loss function: `(yTrue, yPred) => per-example losses [batch]`.
 *
 * @example
 * ```ts
 * const fn: LayersLossFunction = new DistillationLoss({ temperature: 4 }).layersLoss;
 * model.compile({ optimizer: 'adam', loss: fn });
 * ```
 */
export type LayersLossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * Hinton et al.'s distillation loss, `alpha * T^2 * soft + (1 - alpha) * hard` (see {@link distillationLoss} for the
 * exact terms and gradients), configured once. It holds no tensors and needs no `dispose()`.
 *
 * Two ways to use it:
 * - custom loops: `loss.compute(studentLogits, teacher, labels)` inside `optimizer.minimize(...)`;
 * - `model.compile({ loss: loss.layersLoss })`: the student must output logits (a linear last layer), and `y_true`
 *   is the packing {@link DistillationLoss.pack} makes: `y_true = q + 2 * onehot(label)`, where `q` are the teacher's
 *   soft targets at this loss's temperature. The packed tensor has the model's output shape `[batch, classes]`, so
 *   `fit()` accepts it, and its argmax is the label, so the `'accuracy'` metric still works. A row without a label
 *   (no entry above 1.5) contributes no hard term. tfjs-layers averages the per-example losses over the batch, so
 *   `reduction` does not apply to `layersLoss`.
 *
 * @example
 * ```ts
 * const loss = new DistillationLoss({ temperature: 20, alpha: 0.9 });
 * // fit():
 * student.compile({ optimizer: 'adam', loss: loss.layersLoss, metrics: ['accuracy'] });
 * const q = softTargets(teacherLogits, loss.temperature);
 * const yTrue = loss.pack(q, labels);
 * await student.fit(x, yTrue, { epochs: 5 });
 * // a custom loop:
 * optimizer.minimize(() => loss.compute(student.apply(x, { training: true }) as tf.Tensor, teacherLogits, labels));
 * ```
 */
export class DistillationLoss {
  /** The temperature `T`. */
  readonly temperature: number;
  /** The weight of the soft term, in [0, 1]. */
  readonly alpha: number;
  /** `'cross-entropy'` or `'kl'`. */
  readonly form: DistillationForm;
  /** The reduction of {@link DistillationLoss.compute}. */
  readonly reduction: LossReduction;
  /** What the teacher tensor of {@link DistillationLoss.compute} holds. */
  readonly teacherInput: TeacherInput;
  /**
   * The loss for `model.compile({ loss })`: reads soft targets and labels from the packed `y_true` (see
   * {@link DistillationLoss.pack}) and returns the per-example losses `[batch]` for tfjs-layers to average.
   */
  readonly layersLoss: LayersLossFunction;

  private readonly config: ResolvedDistillationConfig;

  /**
   * @throws {@link InvalidArgumentError} for `T <= 0`, `alpha` outside [0, 1] or an unknown option value
   */
  constructor(config: DistillationConfig) {
    checkOptionKeys('DistillationLoss', 'options', config, DISTILLATION_CONFIG_KEYS);
    const c = resolveDistillationConfig('DistillationLoss', config);
    this.config = c;
    this.temperature = c.temperature;
    this.alpha = c.alpha;
    this.form = c.form;
    this.reduction = c.reduction;
    this.teacherInput = c.teacherInput;
    const cfg = c;
    const layersLoss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        checkTensor('DistillationLoss.layersLoss', 'yPred', yPred, { rank: 2 });
        checkTensor('DistillationLoss.layersLoss', 'yTrue', yTrue, { rank: 2 });
        if (yTrue.shape[1] !== yPred.shape[1]) {
          throw new ShapeMismatchError(
            'DistillationLoss.layersLoss',
            'yTrue',
            `${yPred.shape[1]} classes (the model's output is [${yPred.shape.join(', ')}])`,
            yTrue.shape,
          );
        }
        const { softTargets: q, oneHot } = unpackTargets(yTrue);
        return perExampleDistillationLoss(yPred, q, undefined, oneHot, cfg);
      });
    Object.defineProperty(layersLoss, 'name', { value: 'distillationLoss' });
    this.layersLoss = layersLoss;
  }

  /**
   * The loss of a batch (the functional form, {@link distillationLoss} with this configuration).
   *
   * @param studentLogits `[batch, classes]`
   * @param teacher teacher logits, probabilities or soft targets `[batch, classes]`, as `teacherInput` says
   * @param hardLabels class indices `[batch]` (int32) or one-hot `[batch, classes]`; required when `alpha < 1`
   * @returns a scalar, or `[batch]` with `reduction: 'none'`
   *
   * @example
   * ```ts
   * const cost = optimizer.minimize(() => loss.compute(student.predict(x) as tf.Tensor2D, q, y), true);
   * ```
   */
  compute(studentLogits: tf.Tensor, teacher: tf.Tensor, hardLabels?: tf.Tensor): tf.Tensor {
    return computeChecked(studentLogits, teacher, hardLabels, this.config);
  }

  /**
   * Packs soft targets (at this loss's temperature) and optional labels into one `y_true` tensor for `fit()`:
   * `q + 2 * onehot(label)` (see `LABEL_OFFSET`). A new tensor; the inputs are not disposed.
   *
   * @param softTargets `[batch, classes]`, rows summing to 1 (e.g. from {@link index!softTargets | softTargets})
   * @param labels class indices `[batch]` (int32) or exactly one-hot `[batch, classes]`; an index outside
   * `[0, classes)` packs a row of `NaN` (so the loss of that example is `NaN`, never silently label-free)
   *
   * @example
   * ```ts
   * const yTrue = loss.pack(softTargets(teacherLogits, loss.temperature), labels);
   * ```
   */
  pack(softTargets: tf.Tensor, labels?: tf.Tensor): tf.Tensor2D {
    return packTargets(softTargets, labels);
  }

  /**
   * Splits a packed `y_true` back into soft targets and one-hot labels (all-zero rows where no label was packed).
   *
   * @example
   * ```ts
   * const { softTargets, oneHot } = loss.unpack(yTrue);
   * ```
   */
  unpack(yTrue: tf.Tensor): PackedTargets {
    return unpackChecked(yTrue);
  }
}

const computeChecked = scoped(
  'DistillationLoss.compute',
  (
    studentLogits: tf.Tensor,
    teacher: tf.Tensor,
    hardLabels: tf.Tensor | undefined,
    cfg: ResolvedDistillationConfig,
  ): tf.Tensor => {
    checkLossTensors('DistillationLoss.compute', studentLogits, teacher, hardLabels, cfg.alpha < 1);
    return computeDistillationLoss(studentLogits, teacher, hardLabels, cfg);
  },
);

const packTargets = scoped('DistillationLoss.pack', (q: tf.Tensor, labels?: tf.Tensor): tf.Tensor2D => {
  const fn = 'DistillationLoss.pack';
  checkTensor(fn, 'softTargets', q, { rank: 2, dtype: 'float32' });
  const [n, k] = q.shape;
  if (labels === undefined) return tf.clone(q) as tf.Tensor2D;
  checkTensor(fn, 'labels', labels, { rank: [1, 2] });
  if (labels.rank === 1 && (labels.dtype !== 'int32' || labels.shape[0] !== n)) {
    throw new ShapeMismatchError(fn, 'labels', `int32 class indices of shape [${n}]`, labels.shape);
  }
  if (labels.rank === 2 && (labels.shape[0] !== n || labels.shape[1] !== k)) {
    throw new ShapeMismatchError(fn, 'labels', `shape [${n}, ${k}] or [${n}]`, labels.shape);
  }
  return tf.add(q, tf.mul(toOneHot(labels, k), LABEL_OFFSET)) as tf.Tensor2D;
});

/** Splits packed targets (no checks). Call inside a scope. */
export function unpackTargets(yTrue: tf.Tensor): PackedTargets {
  const oneHot = tf.cast(tf.greater(yTrue, LABEL_OFFSET - 0.5), 'float32') as tf.Tensor2D;
  const softTargets = tf.sub(yTrue, tf.mul(oneHot, LABEL_OFFSET)) as tf.Tensor2D;
  return { softTargets, oneHot };
}

const unpackChecked = scoped('DistillationLoss.unpack', (yTrue: tf.Tensor) => {
  checkTensor('DistillationLoss.unpack', 'yTrue', yTrue, { rank: 2, dtype: 'float32' });
  return unpackTargets(yTrue);
});
