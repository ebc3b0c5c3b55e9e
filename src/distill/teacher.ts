/**
 * Teachers: a model, an ensemble of models, or outputs computed beforehand; and their soft targets over a data set.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  checkInteger,
  checkNonEmptyArray,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  isTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { isPredictModel, type PredictModel, predict2d } from '../core/types.js';
import { type OutputKind, outputKind } from '../model/output-kind.js';
import { checkTeacherInput } from './checks.js';
import {
  checkProbabilities,
  checkTeacherTensors,
  combineSoftTargets,
  type EnsembleCombine,
} from './temperature.js';

/**
 * A teacher's outputs over a data set, computed beforehand: one `[N, classes]` tensor, or one per ensemble member.
 * Row `i` belongs to example `i` of the data set it is used with.
 */
export interface TeacherOutputs {
  /** The outputs, `[N, classes]`, or one such tensor per ensemble member. */
  readonly outputs: tf.Tensor2D | readonly tf.Tensor2D[];
  /**
   * What they hold; probabilities are checked to sum to 1 by the async entries.
   * @default 'logits'
   */
  readonly outputKind?: OutputKind;
}

/** A teacher: a model (anything with `predict`, e.g. a `tf.LayersModel`), an ensemble of models, or its outputs. */
export type Teacher = PredictModel | readonly PredictModel[] | TeacherOutputs;

/** Is `t` a {@link TeacherOutputs} object? */
export function isTeacherOutputs(t: unknown): t is TeacherOutputs {
  if (typeof t !== 'object' || t === null || !('outputs' in t)) return false;
  const o = (t as TeacherOutputs).outputs;
  return isTensor(o) || (Array.isArray(o) && o.length > 0 && o.every(isTensor));
}

/** Options of {@link predictSoftTargets}. */
export interface PredictSoftTargetsOptions {
  /**
   * What the models return. By default inferred per model with {@link outputKind}; for {@link TeacherOutputs}
   * their own `outputKind` applies.
   * @default inferred
   */
  outputKind?: OutputKind;
  /**
   * How the members of an ensemble are combined (see {@link softTargets}).
   * @default 'arithmetic'
   */
  combine?: EnsembleCombine;
  /**
   * Examples per forward pass.
   * @default 256
   */
  batchSize?: number;
  /**
   * Largest accepted `|row sum - 1|` when the teacher outputs probabilities.
   * @default 1e-3
   */
  tolerance?: number;
}

/** The known keys of {@link PredictSoftTargetsOptions}. */
const PREDICT_SOFT_TARGETS_OPTION_KEYS = knownKeys<PredictSoftTargetsOptions>({
  outputKind: true,
  combine: true,
  batchSize: true,
  tolerance: true,
});

/**
 * Runs a teacher (a model or an ensemble) over `x` in batches and returns its soft targets at temperature `T`,
 * `[N, classes]` (see {@link softTargets} for the ensemble rules). Teacher probabilities (declared, or inferred from a
 * softmax last layer) are checked to sum to 1. For {@link TeacherOutputs}, `x` only fixes `N`.
 *
 * @param teacher a model, an array of models, or precomputed outputs
 * @param x the inputs, first axis = examples
 * @param temperature `T > 0`
 * @returns a new tensor `[N, classes]`
 * @throws {@link InvalidArgumentError} for a bad argument or probabilities that do not sum to 1;
 * {@link ShapeMismatchError} when the members' class counts differ or precomputed outputs have the wrong `N`
 *
 * @example
 * ```ts
 * const q = await predictSoftTargets([teacherA, teacherB], xTransfer, 20, { combine: 'arithmetic' });
 * ```
 */
export async function predictSoftTargets(
  teacher: Teacher,
  x: tf.Tensor,
  temperature: number,
  options?: PredictSoftTargetsOptions,
): Promise<tf.Tensor2D> {
  const fn = 'predictSoftTargets';
  const { models, precomputed } = checkTeacher(fn, 'teacher', teacher);
  checkTensor(fn, 'x', x);
  checkTeacherInput(fn, teacher, x);
  checkPositive(fn, 'temperature', temperature);
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, PREDICT_SOFT_TARGETS_OPTION_KEYS);
  const combine = opts.combine ?? 'arithmetic';
  checkOneOf(fn, 'options.combine', combine, ['arithmetic', 'geometric'] as const);
  if (opts.outputKind !== undefined) {
    checkOneOf(fn, 'options.outputKind', opts.outputKind, ['logits', 'probabilities'] as const);
  }
  const batchSize = opts.batchSize ?? 256;
  checkInteger(fn, 'options.batchSize', batchSize, 1);
  const tolerance = opts.tolerance ?? 1e-3;
  checkPositive(fn, 'options.tolerance', tolerance);
  const n = x.shape[0] as number;

  if (precomputed !== undefined) {
    const members = checkTeacherTensors(fn, 'teacher.outputs', precomputed.outputs);
    if (members[0].shape[0] !== n) {
      throw new ShapeMismatchError(
        fn,
        'teacher.outputs',
        `${n} rows (one per example of x)`,
        members[0].shape,
      );
    }
    const kind = opts.outputKind ?? precomputed.outputKind ?? 'logits';
    if (kind === 'probabilities') {
      for (let m = 0; m < members.length; m++) {
        await checkProbabilities(fn, `teacher.outputs[${m}]`, members[m], { tolerance });
      }
    }
    return tf.tidy(() => combineSoftTargets(members, temperature, kind, combine));
  }

  const kinds = models.map((m) => opts.outputKind ?? outputKind(m));
  const parts: tf.Tensor2D[] = [];
  let done = false;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const outs = tf.tidy(() => {
        const xb = tf.slice(x, start, size);
        return models.map((m, i) => predict2d(fn, models.length > 1 ? `teacher[${i}]` : 'teacher', m, xb));
      });
      try {
        const k = outs[0].shape[1];
        for (let i = 1; i < outs.length; i++) {
          if (outs[i].shape[1] !== k) {
            throw new ShapeMismatchError(fn, `teacher[${i}]`, `an output with ${k} classes like teacher[0]`, [
              ...outs[i].shape,
            ]);
          }
        }
        for (let i = 0; i < outs.length; i++) {
          if (kinds[i] === 'probabilities') {
            await checkProbabilities(
              fn,
              models.length > 1 ? `teacher[${i}] output` : 'teacher output',
              outs[i],
              {
                tolerance,
              },
            );
          }
        }
        // Mixed kinds in one ensemble: convert each member to log-probabilities at T = 1 first.
        const uniform = kinds.every((kk) => kk === kinds[0]);
        parts.push(
          tf.tidy(() =>
            uniform
              ? combineSoftTargets(outs, temperature, kinds[0], combine)
              : combineSoftTargets(
                  outs.map((o, i) => (kinds[i] === 'logits' ? tf.logSoftmax(o) : tf.log(o))),
                  temperature,
                  'logits',
                  combine,
                ),
          ),
        );
      } finally {
        tf.dispose(outs);
      }
    }
    if (parts.length === 0) {
      throw new InvalidArgumentError(fn, 'x', 'at least one example', x);
    }
    const result = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    done = true;
    return result;
  } finally {
    if (!done || parts.length > 1) tf.dispose(parts);
  }
}

/** Splits and validates a {@link Teacher}. Allocates nothing. */
export function checkTeacher(
  fn: string,
  argument: string,
  teacher: unknown,
): { models: PredictModel[]; precomputed?: TeacherOutputs } {
  if (isTeacherOutputs(teacher)) {
    if (teacher.outputKind !== undefined) {
      checkOneOf(fn, `${argument}.outputKind`, teacher.outputKind, ['logits', 'probabilities'] as const);
    }
    return { models: [], precomputed: teacher };
  }
  if (isPredictModel(teacher)) return { models: [teacher] };
  if (Array.isArray(teacher)) {
    checkNonEmptyArray(fn, argument, teacher);
    teacher.forEach((m, i) => {
      if (!isPredictModel(m)) {
        throw new InvalidArgumentError(fn, `${argument}[${i}]`, 'a model with a predict() method', m);
      }
    });
    return { models: teacher as PredictModel[] };
  }
  throw new InvalidArgumentError(
    fn,
    argument,
    'a model with predict(), an array of such models, or { outputs: tensor | tensor[] }',
    teacher,
  );
}
