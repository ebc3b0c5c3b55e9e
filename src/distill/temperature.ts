/**
 * Temperature-softened class probabilities (Hinton, Vinyals & Dean 2015, eq. 1) and the soft targets of a teacher
 * or an ensemble of teachers.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkNonEmptyArray,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { rawValue } from '../core/describe.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import type { OutputKind } from '../model/output-kind.js';

/** How the members of an ensemble are combined into one distribution. */
export type EnsembleCombine = 'arithmetic' | 'geometric';

/**
 * `q_i = exp(z_i / T) / sum_j exp(z_j / T)` over the last axis (Hinton et al. 2015, eq. 1). `T = 1` is the ordinary
 * softmax; a higher `T` gives a softer distribution that keeps the ratios between the small probabilities the paper
 * calls dark knowledge.
 *
 * @param logits pre-softmax scores, `[batch, classes]` (any rank >= 1; the last axis is the class axis)
 * @param temperature `T > 0`
 * @returns a new tensor of the same shape whose rows sum to 1
 * @throws {@link InvalidArgumentError} when `temperature` is not a finite number > 0 or `logits` is not a tensor
 *
 * @example
 * ```ts
 * const q = softmaxWithTemperature(tf.tensor2d([[2, 1, 0]]), 20); // ~[[0.350, 0.333, 0.317]]
 * ```
 */
export function softmaxWithTemperature(logits: tf.Tensor, temperature: number): tf.Tensor {
  return tf.tidy('softmaxWithTemperature', () => {
    checkTensor('softmaxWithTemperature', 'logits', logits, { dtype: 'float32' });
    checkPositive('softmaxWithTemperature', 'temperature', temperature);
    if (logits.rank < 1) {
      throw new ShapeMismatchError('softmaxWithTemperature', 'logits', 'a tensor of rank >= 1', logits.shape);
    }
    return tf.softmax(tf.div(logits, temperature));
  });
}

/**
 * `log q` at temperature `T` of one teacher output, computed stably: from logits `v` it is `logSoftmax(v / T)`; from
 * probabilities `p` (a softmax output at `T = 1`) it is `logSoftmax(log(p) / T)`, because `log p` equals the logits up
 * to a per-row constant and the softmax ignores that constant. Zero probabilities stay exactly zero (`log 0 = -inf`).
 * Internal: call inside a scope.
 */
export function logSoftTargets(output: tf.Tensor, temperature: number, kind: OutputKind): tf.Tensor {
  const logits = kind === 'logits' ? output : tf.log(output);
  return tf.logSoftmax(tf.div(logits, temperature));
}

/** Options of {@link softTargets}. */
export interface SoftTargetsOptions {
  /**
   * What the teacher tensors hold: pre-softmax `'logits'`, or `'probabilities'` (softmax outputs at `T = 1`, rows
   * summing to 1; this function does not read tensor values, so use `checkProbabilities` to verify them).
   * @default 'logits'
   */
  outputKind?: OutputKind;
  /**
   * How an ensemble (several tensors) is combined. `'arithmetic'`: the mean of the members' soft targets at `T`
   * (Hinton et al. average the predictions of the ensemble). `'geometric'`: the normalised geometric mean of the
   * members' soft targets, which equals `softmax(mean_m(v_m) / T)`, the softmax of the members' mean logits.
   * Ignored for a single teacher.
   * @default 'arithmetic'
   */
  combine?: EnsembleCombine;
}

/** The known keys of {@link SoftTargetsOptions}. */
const SOFT_TARGETS_OPTION_KEYS = knownKeys<SoftTargetsOptions>({ outputKind: true, combine: true });

/**
 * The soft targets at temperature `T` of a teacher (one `[batch, classes]` output tensor) or of an ensemble (an array
 * of such tensors, one per member, all the same shape).
 *
 * - single teacher: `q = softmax(v / T)`
 * - `combine: 'arithmetic'`: `q = (1/M) sum_m softmax(v_m / T)`
 * - `combine: 'geometric'`: `q ∝ prod_m softmax(v_m / T)^(1/M)`, which is `softmax(mean_m(v_m) / T)`
 *
 * To get a model's outputs over a data set in batches, use {@link predictSoftTargets}.
 *
 * @param teacher logits (or probabilities, see `options.outputKind`) of one model, or one tensor per ensemble member
 * @param temperature `T > 0`
 * @returns a new `[batch, classes]` tensor whose rows sum to 1
 * @throws {@link InvalidArgumentError} for a bad temperature or option; {@link ShapeMismatchError} when the members'
 * shapes differ or a tensor is not rank 2
 *
 * @example
 * ```ts
 * const q = softTargets([logitsA, logitsB], 20, { combine: 'geometric' });
 * ```
 */
export function softTargets(
  teacher: tf.Tensor | readonly tf.Tensor[],
  temperature: number,
  options?: SoftTargetsOptions,
): tf.Tensor2D {
  return tf.tidy('softTargets', () => {
    const fn = 'softTargets';
    const members = checkTeacherTensors(fn, 'teacher', teacher);
    checkPositive(fn, 'temperature', temperature);
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, SOFT_TARGETS_OPTION_KEYS);
    const kind = opts.outputKind ?? 'logits';
    checkOneOf(fn, 'options.outputKind', kind, ['logits', 'probabilities'] as const);
    const combine = opts.combine ?? 'arithmetic';
    checkOneOf(fn, 'options.combine', combine, ['arithmetic', 'geometric'] as const);
    return combineSoftTargets(members, temperature, kind, combine);
  });
}

/** Checks one tensor or a non-empty array of equally shaped rank-2 float tensors; returns them as an array. */
export function checkTeacherTensors(
  fn: string,
  argument: string,
  teacher: tf.Tensor | readonly tf.Tensor[],
): tf.Tensor2D[] {
  const members = Array.isArray(teacher) ? (teacher as tf.Tensor[]) : [teacher as tf.Tensor];
  if (Array.isArray(teacher)) checkNonEmptyArray(fn, argument, teacher);
  members.forEach((t, m) => {
    const name = members.length > 1 || Array.isArray(teacher) ? `${argument}[${m}]` : argument;
    checkTensor(fn, name, t, { rank: 2, dtype: 'float32' });
    const first = members[0];
    if (m > 0 && (t.shape[0] !== first.shape[0] || t.shape[1] !== first.shape[1])) {
      throw new ShapeMismatchError(
        fn,
        name,
        `the shape of ${argument}[0], [${first.shape.join(', ')}]`,
        t.shape,
      );
    }
  });
  if ((members[0].shape[1] as number) < 2) {
    throw new ShapeMismatchError(fn, argument, 'at least 2 classes on the last axis', members[0].shape);
  }
  return members as tf.Tensor2D[];
}

/** The combination itself (no checks). Internal: call inside a scope. */
export function combineSoftTargets(
  members: readonly tf.Tensor[],
  temperature: number,
  kind: OutputKind,
  combine: EnsembleCombine,
): tf.Tensor2D {
  if (members.length === 1) return tf.exp(logSoftTargets(members[0], temperature, kind)) as tf.Tensor2D;
  if (combine === 'arithmetic') {
    const probs = members.map((t) => tf.exp(logSoftTargets(t, temperature, kind)));
    return tf.div(tf.addN(probs), members.length) as tf.Tensor2D;
  }
  // Geometric mean of the members' distributions, renormalised: the log-sum-exp constants of each member cancel,
  // so this is the softmax of the mean of the members' (temperature-scaled) log-probabilities.
  const logs = members.map((t) => logSoftTargets(t, temperature, kind));
  return tf.softmax(tf.div(tf.addN(logs), members.length)) as tf.Tensor2D;
}

/** Options of `checkProbabilities`. */
export interface CheckProbabilitiesOptions {
  /**
   * Largest accepted `|sum_i p_i - 1|` per row.
   * @default 1e-3
   */
  tolerance?: number;
}

/** The known keys of {@link CheckProbabilitiesOptions}. */
const CHECK_PROBABILITIES_OPTION_KEYS = knownKeys<CheckProbabilitiesOptions>({ tolerance: true });

/**
 * Verifies that a tensor declared to hold probabilities has non-negative entries and rows that sum to 1. It reads
 * the tensor's values asynchronously (`await t.data()`), which is why the synchronous losses do not call it: call
 * it on teacher probabilities before a custom loop; {@link Distiller} calls it itself.
 *
 * @param fn the function name for the error message
 * @param argument the argument name for the error message
 * @throws {@link InvalidArgumentError} naming the first bad row and its sum
 *
 * @example
 * ```ts
 * await checkProbabilities('myLoop', 'teacherProbs', teacherProbs); // throws if a row sums to 0.9
 * ```
 */
export async function checkProbabilities(
  fn: string,
  argument: string,
  probabilities: tf.Tensor,
  options?: CheckProbabilitiesOptions,
): Promise<void> {
  checkTensor(fn, argument, probabilities, { rank: 2, dtype: 'float32' });
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, CHECK_PROBABILITIES_OPTION_KEYS);
  const tol = opts.tolerance ?? 1e-3;
  checkPositive(fn, 'options.tolerance', tol);
  const [n, k] = probabilities.shape;
  const v = await probabilities.data();
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const p = v[r * k + c];
      if (!(p >= 0)) {
        throw new InvalidArgumentError(
          fn,
          argument,
          'probabilities (entries >= 0, rows summing to 1)',
          rawValue(`${p} at row ${r}, column ${c}`),
        );
      }
      s += p;
    }
    if (Math.abs(s - 1) > tol) {
      throw new InvalidArgumentError(
        fn,
        argument,
        `probabilities whose rows sum to 1 (within ${tol})`,
        rawValue(`row ${r} sums to ${s}`),
      );
    }
  }
}
