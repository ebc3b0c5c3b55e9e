/**
 * {@link Distiller}: trains a student on a transfer set to match a teacher's soft targets (Hinton, Vinyals & Dean
 * 2015), with the teacher's outputs computed once and cached.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type Evaluation, evaluateClassifier } from '../classify/evaluate.js';
import {
  checkInteger,
  checkNonEmptyArray,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { rawValue } from '../core/describe.js';
import { DisposedError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { runTrainingLoop } from '../core/train-loop.js';
import type { LabeledData, PredictModel, ProgressCallback } from '../core/types.js';
import { seedDropoutMasks } from '../model/dropout.js';
import { outputKind } from '../model/output-kind.js';
import { applyBiasShift, fitBiasShift } from './bias.js';
import { checkDistillerInputs, checkDistillerLabels } from './checks.js';
import { absentClasses, checkFitOptions, outputClasses } from './distiller-checks.js';
import type {
  BiasCorrection,
  CorrectBiasOptions,
  DistillEpoch,
  DistillerConfig,
  DistillerFitOptions,
  DistillerOptions,
  DistillHistory,
  TeacherOutputMode,
} from './distiller-types.js';
import { jitterImages } from './jitter.js';
import { resolveDistillationConfig, weightedLoss, weightTargets } from './loss.js';
import { checkTeacher, predictSoftTargets, type Teacher } from './teacher.js';

export type {
  BiasCorrection,
  CorrectBiasOptions,
  DistillEpoch,
  DistillEpochValidation,
  DistillerConfig,
  DistillerFitOptions,
  DistillerOptions,
  DistillHistory,
  EarlyStoppingOptions,
  TeacherOutputMode,
} from './distiller-types.js';

/** The known keys of {@link CorrectBiasOptions}. */
const CORRECT_BIAS_OPTION_KEYS = knownKeys<CorrectBiasOptions>({
  classes: true,
  shift: true,
  validation: true,
  objective: true,
  layer: true,
});

/**
 * Trains `student` to reproduce a teacher's soft targets on a transfer set (which may differ from the teacher's
 * training set, lack classes or be unlabelled), with the loss `alpha * T^2 * soft + (1 - alpha) * hard` of
 * {@link distillationLoss}. The teacher (a model, an ensemble, or precomputed outputs) runs once over the transfer
 * set; its soft targets are cached in the Distiller and reused every epoch and by later `fit` calls on the same
 * tensor. The student must output logits (a linear last layer). It is trained in place.
 *
 * @example
 * ```ts
 * const distiller = new Distiller(student, teacher, { temperature: 20, alpha: 0.9 });
 * const history = await distiller.fit(xTransfer, {
 *   labels: yTransfer, epochs: 10, validation: { x: xVal, labels: yVal }, earlyStopping: { patience: 3 },
 * });
 * await distiller.correctBias({ validation: { x: xVal, labels: yVal } }); // classes absent from the transfer set
 * distiller.dispose();
 * ```
 */
export class Distiller {
  /** The student being trained (the caller's model). */
  readonly student: tfl.LayersModel;
  /** The resolved loss configuration. */
  readonly config: DistillerConfig;
  /** `'cache'` or `'per-batch'`. */
  readonly teacherOutputs: TeacherOutputMode;

  private readonly teacher: Teacher | null;
  private readonly optimizer: tf.Optimizer;
  private readonly ownsOptimizer: boolean;
  private readonly teacherBatchSize: number;
  private cache: { x: tf.Tensor; q: tf.Tensor2D } | undefined;
  private passes = 0;
  private absent: number[] = [];
  private disposed = false;

  /**
   * @param student a tfjs-layers model that outputs logits `[batch, classes]`
   * @param teacher a model, an array of models (an ensemble), `{ outputs }` computed beforehand (one row per
   * transfer example), or `null` when `alpha = 0`
   * @throws {@link InvalidArgumentError} for a bad option, a softmax student or a missing teacher;
   * {@link ShapeMismatchError} when teacher and student class counts differ (when known up front)
   */
  constructor(student: tfl.LayersModel, teacher: Teacher | null, options: DistillerOptions) {
    const fn = 'Distiller';
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, [
      'temperature',
      'alpha',
      'form',
      'combine',
      'teacherOutputs',
      'optimizer',
      'learningRate',
      'teacherBatchSize',
    ] satisfies (keyof DistillerOptions)[]);
    const cfg = resolveDistillationConfig(fn, { ...opts, reduction: 'mean', teacherInput: 'soft-targets' });
    const combine = opts.combine ?? 'arithmetic';
    checkOneOf(fn, 'options.combine', combine, ['arithmetic', 'geometric'] as const);
    const mode = opts.teacherOutputs ?? 'cache';
    checkOneOf(fn, 'options.teacherOutputs', mode, ['cache', 'per-batch'] as const);
    const teacherBatchSize = opts.teacherBatchSize ?? 256;
    checkInteger(fn, 'options.teacherBatchSize', teacherBatchSize, 1);
    if (opts.optimizer === undefined) {
      checkPositive(fn, 'options.learningRate', opts.learningRate ?? 0.001);
    } else if (typeof (opts.optimizer as tf.Optimizer).minimize !== 'function') {
      throw new InvalidArgumentError(fn, 'options.optimizer', 'a tf.Optimizer', opts.optimizer);
    }
    if (
      typeof student !== 'object' ||
      student === null ||
      typeof (student as tfl.LayersModel).apply !== 'function' ||
      !Array.isArray((student as tfl.LayersModel).trainableWeights)
    ) {
      throw new InvalidArgumentError(fn, 'student', 'a tfjs-layers model (LayersModel)', student);
    }
    if (outputKind(student) === 'probabilities') {
      throw new InvalidArgumentError(
        fn,
        'student',
        'a student that outputs logits (a linear last layer, no softmax)',
        rawValue('a model whose last layer has a softmax activation'),
      );
    }
    const k = outputClasses(student);
    if (teacher === null) {
      if (cfg.alpha !== 0) {
        throw new InvalidArgumentError(fn, 'teacher', 'a teacher (null is only allowed with alpha: 0)', null);
      }
    } else {
      const { models, precomputed } = checkTeacher(fn, 'teacher', teacher);
      if (precomputed !== undefined && mode === 'per-batch') {
        throw new InvalidArgumentError(
          fn,
          'options.teacherOutputs',
          "'cache' for precomputed teacher outputs (there is no model to run per batch)",
          mode,
        );
      }
      const teacherK = precomputed
        ? (Array.isArray(precomputed.outputs) ? precomputed.outputs[0] : (precomputed.outputs as tf.Tensor))
            .shape[1]
        : models.map(outputClasses).find((c) => c !== undefined);
      if (k !== undefined && teacherK !== undefined && k !== teacherK) {
        throw new ShapeMismatchError(
          fn,
          'teacher',
          `${k} classes like the student`,
          `${teacherK} classes (teacher output [*, ${teacherK}])`,
        );
      }
    }
    this.student = student;
    this.teacher = teacher;
    this.config = { ...cfg, combine };
    this.teacherOutputs = mode;
    this.teacherBatchSize = teacherBatchSize;
    this.ownsOptimizer = opts.optimizer === undefined;
    this.optimizer = opts.optimizer ?? tf.train.adam(opts.learningRate ?? 0.001);
  }

  /** Teacher `predict` calls made so far (one per batch and ensemble member). */
  get teacherForwardPasses(): number {
    return this.passes;
  }

  /** Classes with no example in the last transfer set. */
  get absentClasses(): number[] {
    return [...this.absent];
  }

  /**
   * The teacher's soft targets at `T` for `x`, from the cache when `x` is the cached transfer set (a clone is
   * returned: the caller owns it).
   *
   * @example
   * ```ts
   * const q = await distiller.softTargetsFor(xTransfer); // [N, classes]
   * ```
   */
  async softTargetsFor(x: tf.Tensor): Promise<tf.Tensor2D> {
    this.assertLive('softTargetsFor');
    checkTensor('Distiller.softTargetsFor', 'x', x);
    if (this.teacher === null) {
      throw new InvalidArgumentError('Distiller.softTargetsFor', 'teacher', 'a teacher', null);
    }
    if (this.cache !== undefined && this.cache.x === x) return tf.clone(this.cache.q);
    return this.runTeacher(x);
  }

  /**
   * Trains the student on the transfer set `x` for `epochs` epochs (or until early stopping).
   *
   * @param x the transfer set, first axis = examples (NHWC images when `jitter > 0`)
   * @returns the history of the run
   * @throws {@link InvalidArgumentError} / {@link ShapeMismatchError} for bad options, labels out of range, teacher
   * probabilities that do not sum to 1, or mismatched sizes, before any training step
   *
   * @example
   * ```ts
   * const h = await distiller.fit(x, { labels: y, epochs: 5, jitter: 2, onProgress: (e) => console.log(e) });
   * ```
   */
  async fit(x: tf.Tensor, options: DistillerFitOptions = {}): Promise<DistillHistory> {
    this.assertLive('fit');
    const fn = 'Distiller.fit';
    const { alpha } = this.config;
    const { n, epochs, batchSize, jitter, seed, es } = checkFitOptions(fn, x, options, alpha);
    const opts = options;
    checkDistillerInputs(fn, this.student, this.teacher, x, opts.validation?.x);
    await checkDistillerLabels(fn, this.student, opts.labels, opts.validation?.labels);
    const k = outputClasses(this.student);
    const progress = opts.onProgress ?? (() => {});

    // Teacher soft targets, once (cache mode).
    let q: tf.Tensor2D | undefined;
    if (this.teacher !== null && alpha > 0 && this.teacherOutputs === 'cache') {
      if (this.cache === undefined || this.cache.x !== x || this.cache.q.isDisposed) {
        const fresh = await this.runTeacher(x, progress);
        if (this.cache !== undefined) this.cache.q.dispose();
        this.cache = { x, q: fresh };
      }
      q = this.cache.q;
      if (k !== undefined && q.shape[1] !== k) {
        throw new ShapeMismatchError(fn, 'teacher', `${k} classes like the student`, q.shape);
      }
    }
    const numClasses = k ?? q?.shape[1];
    if (numClasses === undefined) {
      throw new InvalidArgumentError(
        fn,
        'student',
        'a model with one output of known size [batch, classes]',
        this.student,
      );
    }
    let labelValues: Int32Array | undefined;
    if (opts.labels !== undefined) {
      labelValues = await readLabels(fn, 'options.labels', opts.labels, { numClasses });
    }
    if (opts.validation !== undefined) {
      await readLabels(fn, 'options.validation.labels', opts.validation.labels, { numClasses });
    }
    this.absent = await absentClasses(labelValues, q, numClasses);

    const vars = this.student.trainableWeights.map((w) => w.read() as tf.Variable);
    const stepsPerEpoch = Math.ceil(n / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const history: DistillHistory = {
      epochs: [],
      bestEpoch: 0,
      stoppedEarly: false,
      teacherForwardPasses: 0,
      absentClasses: [...this.absent],
    };
    const monitor = es?.monitor ?? 'error';
    const cfg = this.config;
    const validation = opts.validation;
    // The student's dropout masks (a teacher trained from scratch here has some) come from `seed` too.
    const unseedDropout = seedDropoutMasks(this.student, seed);
    const loop = await runTrainingLoop({
      count: n,
      batchSize,
      epochs,
      seed,
      lossMean: 'steps',
      readEvery: 10,
      step: async ({ indices, rng }) => {
        const shifts = jitter > 0 ? rng.fork() : undefined;
        const batch = tf.tidy(() => {
          const ind = tf.tensor1d(indices, 'int32');
          let xb = tf.gather(x, ind);
          if (shifts !== undefined) xb = jitterImages(xb as tf.Tensor4D, jitter, shifts);
          return {
            xb,
            qb: q === undefined ? undefined : tf.gather(q, ind),
            yb: opts.labels === undefined ? undefined : tf.gather(opts.labels, ind),
          };
        });
        try {
          if (this.teacher !== null && alpha > 0 && this.teacherOutputs === 'per-batch') {
            batch.qb = await this.runTeacher(batch.xb);
          }
          const size = indices.length;
          const w = tf.tidy(() =>
            weightTargets(
              batch.qb,
              batch.yb === undefined || alpha === 1 ? undefined : tf.oneHot(batch.yb, numClasses),
              cfg,
              size,
            ),
          );
          try {
            const cost = this.optimizer.minimize(
              () => {
                const z = this.student.apply(batch.xb, { training: true }) as tf.Tensor;
                if (z.rank !== 2 || z.shape[1] !== numClasses) {
                  throw new ShapeMismatchError(fn, 'student', `an output [batch, ${numClasses}]`, z.shape);
                }
                return weightedLoss(z, w, cfg.temperature);
              },
              true,
              vars,
            );
            return cost === null ? null : { loss: cost };
          } finally {
            tf.dispose([w.soft, w.hard, w.offset] as tf.Tensor[]);
          }
        } finally {
          tf.dispose([batch.xb, batch.qb, batch.yb] as tf.Tensor[]);
        }
      },
      // The last step of an epoch is reported by the epoch's event below (with its metrics).
      onStep: (m) => {
        if (m.step < stepsPerEpoch - 1) progress({ phase: 'train', done: m.done, total: totalSteps });
      },
      validate:
        validation === undefined
          ? undefined
          : async () => {
              const v = await evaluateClassifier(this.student, validation, { outputKind: 'logits' });
              return { errors: v.errors, errorRate: v.errorRate, loss: v.loss };
            },
      onEpoch: (r) => {
        const record: DistillEpoch = { epoch: r.epoch, loss: r.loss, ms: Math.round(r.trainSeconds * 1000) };
        if (r.validation !== undefined) {
          record.validation = {
            errors: r.validation.errors,
            errorRate: r.validation.errorRate,
            loss: r.validation.loss,
          };
        }
        history.epochs.push(record);
        const metrics: Record<string, number> = { epoch: r.epoch, loss: r.loss };
        if (record.validation) {
          metrics.valErrors = record.validation.errors;
          metrics.valLoss = record.validation.loss;
        }
        progress({ phase: 'train', done: r.epoch * stepsPerEpoch, total: totalSteps, metrics });
        return undefined;
      },
      earlyStopping:
        es === undefined
          ? undefined
          : {
              value: (r) => (r.validation as Record<string, number>)[monitor === 'error' ? 'errors' : 'loss'],
              patience: es.patience ?? 5,
              minDelta: es.minDelta ?? 0,
              snapshot:
                (es.restoreBest ?? true)
                  ? () => this.student.getWeights().map((w) => tf.clone(w))
                  : undefined,
              restore: (weights) => this.student.setWeights(weights),
            },
    }).finally(unseedDropout);
    history.bestEpoch = loop.bestEpoch;
    history.stoppedEarly = loop.stoppedEarly;
    // Early stopping ends before the last step: close the phase (a full run reported done === total already).
    if (history.stoppedEarly) progress({ phase: 'train', done: totalSteps, total: totalSteps });
    history.teacherForwardPasses = this.passes;
    return history;
  }

  /**
   * The student at `T = 1` on labeled data, with {@link evaluateClassifier}: accuracy, errors, loss, per-class errors.
   *
   * @example
   * ```ts
   * const { errors, perClassErrors } = await distiller.evaluate({ x: xTest, labels: yTest });
   * ```
   */
  async evaluate(data: LabeledData): Promise<Evaluation> {
    this.assertLive('evaluate');
    return evaluateClassifier(this.student, data, { outputKind: 'logits' });
  }

  /**
   * The bias-correction step for classes absent from the transfer set: adds a shift to their output biases, either a
   * given one (Hinton et al. raised the bias of the 3 by 3.5) or one fitted on labelled validation data with
   * {@link fitBiasShift}. Changes the student in place.
   *
   * @throws {@link InvalidArgumentError} when no class is absent and none is given, or neither `shift` nor
   * `validation` is given
   *
   * @example
   * ```ts
   * const { shift } = await distiller.correctBias({ validation: { x: xVal, labels: yVal } });
   * ```
   */
  async correctBias(options: CorrectBiasOptions = {}): Promise<BiasCorrection> {
    this.assertLive('correctBias');
    const fn = 'Distiller.correctBias';
    const opts = checkOptions(fn, 'options', options);
    checkOptionKeys(fn, 'options', opts, CORRECT_BIAS_OPTION_KEYS);
    const classes = opts.classes === undefined ? this.absentClasses : [...opts.classes];
    if (classes.length === 0) {
      throw new InvalidArgumentError(
        fn,
        'options.classes',
        'classes to correct (no class was absent from the last transfer set)',
        classes,
      );
    }
    checkNonEmptyArray<number>(fn, 'options.classes', classes);
    if (opts.shift !== undefined) {
      checkNumber(fn, 'options.shift', opts.shift);
      applyBiasShift(this.student, classes, opts.shift, { layer: opts.layer });
      return { classes, shift: opts.shift };
    }
    if (opts.validation === undefined) {
      throw new InvalidArgumentError(
        fn,
        'options.validation',
        'labelled validation data to fit the shift on (or pass options.shift)',
        undefined,
      );
    }
    const fit = await fitBiasShift(this.student, opts.validation, {
      classes,
      objective: opts.objective,
      outputKind: 'logits',
    });
    applyBiasShift(this.student, classes, fit.shift, { layer: opts.layer });
    return { classes, shift: fit.shift, fit };
  }

  /** Frees the cached soft targets and the optimizer (when the Distiller created it). Student and teacher stay. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.cache !== undefined) this.cache.q.dispose();
    this.cache = undefined;
    if (this.ownsOptimizer) this.optimizer.dispose();
  }

  /** Whether {@link Distiller.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  private async runTeacher(x: tf.Tensor, progress?: ProgressCallback): Promise<tf.Tensor2D> {
    const teacher = this.teacher as Teacher;
    const { models } = checkTeacher('Distiller', 'teacher', teacher);
    const counted: Teacher =
      models.length === 0
        ? teacher
        : models.map((m): PredictModel & { outputKind: 'logits' | 'probabilities' } => ({
            outputKind: outputKind(m),
            predict: (xb: tf.Tensor) => {
              this.passes++;
              return m.predict(xb);
            },
          }));
    const n = x.shape[0] as number;
    const total = Math.ceil(n / this.teacherBatchSize);
    const q = await predictSoftTargets(counted, x, this.config.temperature, {
      combine: this.config.combine,
      batchSize: this.teacherBatchSize,
    });
    progress?.({ phase: 'teacher', done: total, total });
    return q;
  }

  private assertLive(method: string): void {
    if (this.disposed) throw new DisposedError('Distiller', method);
  }
}
