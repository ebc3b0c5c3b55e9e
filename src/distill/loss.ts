/**
 * The distillation loss of Hinton, Vinyals & Dean (2015), section 2, as a pure function.
 *
 * For one example with student logits `z`, teacher soft targets `q = softmax(v / T)` (eq. 1) and the student's soft
 * prediction `p = softmax(z / T)`:
 *
 * ```
 * loss = alpha * T^2 * soft + (1 - alpha) * hard
 * soft = -sum_i q_i log p_i                 (form 'cross-entropy')
 *      =  sum_i q_i (log q_i - log p_i)     (form 'kl': KL(q || p), the cross-entropy minus the entropy of q)
 * hard = -log softmax(z)_y                  (ordinary cross-entropy with the true label y, at T = 1)
 * ```
 *
 * Both forms have the same gradient with respect to the student logits: `d soft / d z_i = (1/T)(p_i - q_i)` (eq. 2,
 * where the paper writes q for the student and p for the teacher), so the scaled soft term `T^2 * soft` has the
 * gradient `T (p_i - q_i)` per example. The factor `T^2` keeps the soft term's weight against the hard term when `T`
 * changes (the gradient magnitudes of the soft term scale as `1/T^2`). For large `T` and zero-mean logits,
 * `d soft / d z_i ≈ (1/(N T^2))(z_i - v_i)` with `N` classes (eq. 4): distillation generalises logit matching.
 *
 * The soft and hard terms are summed over classes (not averaged) per example; `reduction` then averages (`'mean'`,
 * the default) or sums (`'sum'`) the per-example losses over the batch, or returns them (`'none'`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInRange,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { logSoftTargets } from './temperature.js';

/** Which soft term: the paper's cross-entropy with the soft targets, or the KL divergence `KL(q || p)`. */
export type DistillationForm = 'cross-entropy' | 'kl';

/** How per-example losses are combined over the batch. */
export type LossReduction = 'mean' | 'sum' | 'none';

/**
 * What the teacher tensor passed to {@link distillationLoss} holds:
 * - `'logits'`: pre-softmax scores `v`; the soft targets are `softmax(v / T)`;
 * - `'probabilities'`: a softmax output at `T = 1`; the soft targets are `softmax(log(p) / T)`;
 * - `'soft-targets'`: soft targets already at temperature `T` (from {@link softTargets}, {@link predictSoftTargets}
 *   or a {@link Distiller}'s cache), used as they are.
 */
export type TeacherInput = 'logits' | 'probabilities' | 'soft-targets';

/** Configuration shared by {@link distillationLoss} and {@link DistillationLoss}. */
export interface DistillationConfig {
  /**
   * The temperature `T > 0` at which teacher and student distributions are compared (Hinton et al. used 20 for
   * MNIST). The hard term is always taken at `T = 1`.
   */
  temperature: number;
  /**
   * Weight of the soft term, in [0, 1]: `alpha * T^2 * soft + (1 - alpha) * hard`. `alpha = 1` needs no labels;
   * `alpha = 0` is ordinary training on the labels. Hinton et al. found a considerably lower weight on the hard term
   * best.
   * @default 0.9
   */
  alpha?: number;
  /**
   * The soft term: `'cross-entropy'` (`-sum q log p`, the paper's) or `'kl'` (`KL(q || p)`, which is >= 0 and zero
   * exactly when the distributions agree). Same gradient; the values differ by the entropy of `q`.
   * @default 'cross-entropy'
   */
  form?: DistillationForm;
  /**
   * `'mean'` over the batch, `'sum'` over the batch, or `'none'` (a `[batch]` vector). Each example's loss is already
   * summed over classes.
   * @default 'mean'
   */
  reduction?: LossReduction;
  /**
   * What the teacher tensor holds (see {@link TeacherInput}).
   * @default 'logits'
   */
  teacherInput?: TeacherInput;
}

/** Options of {@link distillationLoss}. */
export interface DistillationLossOptions extends DistillationConfig {
  /**
   * True labels for the hard term: class indices `[batch]` (int32) or one-hot / label distributions
   * `[batch, classes]`. Required when `alpha < 1`; ignored (but shape-checked) when `alpha = 1`.
   * @default undefined
   */
  hardLabels?: tf.Tensor;
}

/** A fully resolved configuration (defaults applied, validated). */
export interface ResolvedDistillationConfig {
  /** The temperature `T`. */
  readonly temperature: number;
  /** The weight of the soft term, in [0, 1]. */
  readonly alpha: number;
  /** `'cross-entropy'` or `'kl'`. */
  readonly form: DistillationForm;
  /** `'mean'`, `'sum'` or `'none'`. */
  readonly reduction: LossReduction;
  /** What the teacher tensor holds. */
  readonly teacherInput: TeacherInput;
}

/** The keys of a {@link DistillationConfig}. */
export const DISTILLATION_CONFIG_KEYS = [
  'temperature',
  'alpha',
  'form',
  'reduction',
  'teacherInput',
] as const satisfies readonly (keyof DistillationConfig)[];

/** Validates a configuration and applies the defaults. Allocates nothing. */
export function resolveDistillationConfig(
  fn: string,
  config: DistillationConfig,
): ResolvedDistillationConfig {
  const c = checkOptions(fn, 'options', config);
  if ((c as Partial<DistillationConfig>).temperature === undefined) {
    throw new InvalidArgumentError(fn, 'options.temperature', 'a finite number > 0', undefined);
  }
  checkPositive(fn, 'options.temperature', c.temperature);
  const alpha = c.alpha ?? 0.9;
  checkInRange(fn, 'options.alpha', alpha, 0, 1);
  const form = c.form ?? 'cross-entropy';
  checkOneOf(fn, 'options.form', form, ['cross-entropy', 'kl'] as const);
  const reduction = c.reduction ?? 'mean';
  checkOneOf(fn, 'options.reduction', reduction, ['mean', 'sum', 'none'] as const);
  const teacherInput = c.teacherInput ?? 'logits';
  checkOneOf(fn, 'options.teacherInput', teacherInput, ['logits', 'probabilities', 'soft-targets'] as const);
  return { temperature: c.temperature, alpha, form, reduction, teacherInput };
}

/** Checks student logits `[N, K]`, teacher `[N, K]` and optional hard labels (`[N]` or `[N, K]`). */
export function checkLossTensors(
  fn: string,
  studentLogits: unknown,
  teacher: unknown,
  hardLabels: unknown,
  needLabels: boolean,
): void {
  checkTensor(fn, 'studentLogits', studentLogits, { rank: 2, dtype: 'float32' });
  checkTensor(fn, 'teacher', teacher, { rank: 2, dtype: 'float32' });
  const [n, k] = studentLogits.shape;
  if (teacher.shape[1] !== k) {
    throw new ShapeMismatchError(
      fn,
      'teacher',
      `${k} classes (the student's logits are [${n}, ${k}])`,
      teacher.shape,
    );
  }
  if (teacher.shape[0] !== n) {
    throw new ShapeMismatchError(fn, 'teacher', `${n} rows (the student's batch)`, teacher.shape);
  }
  if (hardLabels === undefined) {
    if (needLabels) {
      throw new InvalidArgumentError(
        fn,
        'options.hardLabels',
        'labels (class indices [batch] or one-hot [batch, classes]) when alpha < 1; pass them or set alpha: 1',
        undefined,
      );
    }
    return;
  }
  checkTensor(fn, 'options.hardLabels', hardLabels, { rank: [1, 2] });
  if (hardLabels.rank === 1) {
    if (hardLabels.dtype !== 'int32') {
      throw new InvalidArgumentError(fn, 'options.hardLabels', 'class indices of dtype int32', hardLabels);
    }
    if (hardLabels.shape[0] !== n) {
      throw new ShapeMismatchError(fn, 'options.hardLabels', `shape [${n}]`, hardLabels.shape);
    }
  } else if (hardLabels.shape[0] !== n || hardLabels.shape[1] !== k) {
    throw new ShapeMismatchError(fn, 'options.hardLabels', `shape [${n}, ${k}] or [${n}]`, hardLabels.shape);
  }
}

/**
 * The per-example loss `[N]` from student logits `z`, soft targets `q` (and optionally their logs `logQ`, which may
 * hold `-inf` where `q = 0`; computed from `q` when needed and absent) and one-hot labels. `q` may be undefined when
 * `alpha = 0`, `oneHot` when `alpha = 1`. No checks; call inside a scope.
 */
export function perExampleDistillationLoss(
  z: tf.Tensor,
  q: tf.Tensor | undefined,
  logQ: tf.Tensor | undefined,
  oneHot: tf.Tensor | undefined,
  cfg: Pick<ResolvedDistillationConfig, 'temperature' | 'alpha' | 'form'>,
): tf.Tensor1D {
  const { temperature: t, alpha, form } = cfg;
  let total: tf.Tensor | undefined;
  if (alpha > 0 && q !== undefined) {
    const logP = tf.logSoftmax(tf.div(z, t));
    // Cross-entropy -sum q log p; for 'kl' add sum q log q, with 0 log 0 = 0.
    let soft = tf.neg(tf.sum(tf.mul(q, logP), -1));
    if (form === 'kl') {
      const lq = logQ ?? tf.log(q);
      const qLogQ = tf.where(tf.greater(q, 0), tf.mul(q, lq), tf.zerosLike(q));
      soft = tf.add(soft, tf.sum(qLogQ, -1));
    }
    total = tf.mul(soft, alpha * t * t);
  }
  if (alpha < 1 && oneHot !== undefined) {
    const hard = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(z)), -1));
    const weighted = tf.mul(hard, 1 - alpha);
    total = total === undefined ? weighted : tf.add(total, weighted);
  }
  return (total ?? tf.zeros([z.shape[0]])) as tf.Tensor1D;
}

/** Applies a reduction to a per-example loss vector. Call inside a scope. */
export function reduceLoss(perExample: tf.Tensor1D, reduction: LossReduction): tf.Tensor {
  if (reduction === 'mean') return tf.mean(perExample);
  if (reduction === 'sum') return tf.sum(perExample);
  return perExample;
}

/**
 * One-hot `[N, K]` float labels from indices `[N]` or a `[N, K]` tensor. An index outside `[0, K)` gives a row of
 * `NaN` (tfjs's `oneHot` would give zeros, silently dropping the example), so that a bad label poisons the loss
 * visibly: synchronous code cannot read the indices to reject them. Call inside a scope.
 */
export function toOneHot(labels: tf.Tensor, numClasses: number): tf.Tensor {
  if (labels.rank !== 1) return tf.cast(labels, 'float32');
  const oneHot = tf.cast(tf.oneHot(labels as tf.Tensor1D, numClasses), 'float32');
  // rows of an in-range index sum to 1 (x / 1 = x); rows of an out-of-range one to 0 (0 / 0 = NaN)
  return tf.div(oneHot, tf.sum(oneHot, -1, true));
}

/**
 * Hinton et al.'s distillation loss: `alpha * T^2 * soft + (1 - alpha) * hard` (see the module comment for the exact
 * terms). The gradient of the scaled soft term with respect to each example's student logits is `T (p - q)`, where
 * `p = softmax(z / T)` and `q` are the soft targets; with `reduction: 'mean'` it is divided by the batch size.
 *
 * This synchronous function does not read tensor values, so it cannot verify that declared probabilities sum to 1
 * or that label indices are in range; `checkProbabilities` does, and {@link Distiller} calls it. A hard label
 * outside `[0, classes)` makes that example's loss `NaN` (never a silent zero).
 *
 * @param studentLogits the student's pre-softmax outputs `[batch, classes]`
 * @param teacher the teacher's logits, probabilities or soft targets `[batch, classes]` (see `options.teacherInput`)
 * @returns a scalar (`'mean'`, `'sum'`) or a `[batch]` vector (`'none'`)
 * @throws {@link InvalidArgumentError} for `T <= 0`, `alpha` outside [0, 1], an unknown form/reduction, or missing
 * labels when `alpha < 1`; {@link ShapeMismatchError} when the class counts or batch sizes differ
 *
 * @example
 * ```ts
 * const loss = distillationLoss(studentLogits, teacherLogits, {
 *   temperature: 20, alpha: 0.9, hardLabels: labels, form: 'cross-entropy', reduction: 'mean',
 * });
 * ```
 */
export function distillationLoss(
  studentLogits: tf.Tensor,
  teacher: tf.Tensor,
  options: DistillationLossOptions,
): tf.Tensor {
  return tf.tidy('distillationLoss', () => {
    const fn = 'distillationLoss';
    checkOptionKeys(fn, 'options', options, [...DISTILLATION_CONFIG_KEYS, 'hardLabels']);
    const cfg = resolveDistillationConfig(fn, options);
    const labels = options.hardLabels;
    checkLossTensors(fn, studentLogits, teacher, labels, cfg.alpha < 1);
    return computeDistillationLoss(studentLogits, teacher, labels, cfg);
  });
}

/** The loss without argument checks (for callers that checked already). Call inside a scope. */
export function computeDistillationLoss(
  studentLogits: tf.Tensor,
  teacher: tf.Tensor,
  hardLabels: tf.Tensor | undefined,
  cfg: ResolvedDistillationConfig,
): tf.Tensor {
  const k = studentLogits.shape[1] as number;
  let logQ: tf.Tensor | undefined;
  let q: tf.Tensor;
  if (cfg.teacherInput === 'soft-targets') {
    q = teacher;
  } else {
    logQ = logSoftTargets(
      teacher,
      cfg.temperature,
      cfg.teacherInput === 'logits' ? 'logits' : 'probabilities',
    );
    q = tf.exp(logQ);
  }
  const oneHot = hardLabels === undefined || cfg.alpha === 1 ? undefined : toOneHot(hardLabels, k);
  return reduceLoss(perExampleDistillationLoss(studentLogits, q, logQ, oneHot, cfg), cfg.reduction);
}

/** Targets pre-weighted for one mean-reduced training step (see {@link weightTargets}). */
export type WeightedTargets = {
  /** `-alpha T^2 / N * q`, when the soft term is on. */
  soft?: tf.Tensor;
  /** `-(1 - alpha) / N * onehot`, when the hard term is on. */
  hard?: tf.Tensor;
  /** `alpha T^2 / N * sum q log q` for the `'kl'` form (a constant for the student). */
  offset?: tf.Tensor;
};

/**
 * Folds the weights of the batch-mean loss into the targets, outside the gradient tape, so that a training step
 * records only `sum(soft * logSoftmax(z / T)) + sum(hard * logSoftmax(z))` (see {@link weightedLoss}): the same value
 * and gradient as {@link distillationLoss} with `reduction: 'mean'`, in fewer recorded ops. Call inside a scope.
 */
export function weightTargets(
  q: tf.Tensor | undefined,
  oneHot: tf.Tensor | undefined,
  cfg: Pick<ResolvedDistillationConfig, 'temperature' | 'alpha' | 'form'>,
  n: number,
): WeightedTargets {
  const { temperature: t, alpha, form } = cfg;
  const w: WeightedTargets = {};
  if (alpha > 0 && q !== undefined) {
    const c = (alpha * t * t) / n;
    w.soft = tf.mul(q, -c);
    if (form === 'kl') {
      w.offset = tf.mul(tf.sum(tf.where(tf.greater(q, 0), tf.mul(q, tf.log(q)), tf.zerosLike(q))), c);
    }
  }
  if (alpha < 1 && oneHot !== undefined) w.hard = tf.mul(oneHot, -(1 - alpha) / n);
  return w;
}

/** The batch-mean distillation loss from {@link weightTargets}' output. Call inside a scope (or a tape). */
export function weightedLoss(z: tf.Tensor, w: WeightedTargets, temperature: number): tf.Scalar {
  const terms: tf.Tensor[] = [];
  if (w.soft !== undefined) terms.push(tf.sum(tf.mul(w.soft, tf.logSoftmax(tf.div(z, temperature)))));
  if (w.hard !== undefined) terms.push(tf.sum(tf.mul(w.hard, tf.logSoftmax(z))));
  if (w.offset !== undefined) terms.push(w.offset);
  if (terms.length === 0) return tf.mul(tf.sum(z), 0) as tf.Scalar;
  return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
}
