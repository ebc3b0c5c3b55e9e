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
  checkInRange,
  checkInteger,
  checkNonEmptyArray,
  checkNumber,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkPositive,
  checkTensor,
} from '../core/checks.js';
import { DisposedError, InvalidArgumentError, rawValue, ShapeMismatchError } from '../core/errors.js';
import { readLabels } from '../core/labels.js';
import { Rng } from '../core/rng.js';
import type { LabeledData, PredictModel, ProgressCallback } from '../core/types.js';
import { outputKind } from '../model/output-kind.js';
import {
  applyBiasShift,
  type BiasObjective,
  type BiasShiftFit,
  checkLabelVector,
  fitBiasShift,
} from './bias.js';
import { jitterImages } from './jitter.js';
import {
  type DistillationForm,
  type ResolvedDistillationConfig,
  resolveDistillationConfig,
  weightedLoss,
  weightTargets,
} from './loss.js';
import { checkTeacher, predictSoftTargets, type Teacher } from './teacher.js';
import type { EnsembleCombine } from './temperature.js';

/** How the teacher's soft targets are obtained during training. */
export type TeacherOutputMode = 'cache' | 'per-batch';

/** Options of the {@link Distiller} constructor. */
export interface DistillerOptions {
  /** The temperature `T > 0` of the soft term (Hinton et al.: 20 on MNIST). */
  temperature: number;
  /**
   * Weight of the soft term: `alpha * T^2 * soft + (1 - alpha) * hard`. `alpha = 0` is plain training on the labels
   * (the teacher may then be `null`), which gives a from-scratch baseline with the same loop.
   * @default 0.9
   */
  alpha?: number;
  /**
   * The soft term (see {@link DistillationForm}).
   * @default 'cross-entropy'
   */
  form?: DistillationForm;
  /**
   * How an ensemble teacher is combined.
   * @default 'arithmetic'
   */
  combine?: EnsembleCombine;
  /**
   * `'cache'`: the teacher runs once over the transfer set and its soft targets are reused every epoch (with jitter,
   * the student sees shifted images paired with the soft targets of the unshifted ones). `'per-batch'`: the teacher
   * runs on every (jittered) batch, which is slower (the baseline of the benchmark).
   * @default 'cache'
   */
  teacherOutputs?: TeacherOutputMode;
  /**
   * The optimizer. When omitted the Distiller creates `tf.train.adam(learningRate)` and disposes it with itself;
   * an optimizer passed here belongs to the caller.
   * @default adam
   */
  optimizer?: tf.Optimizer;
  /**
   * Learning rate of the default Adam optimizer.
   * @default 0.001
   */
  learningRate?: number;
  /**
   * Examples per teacher forward pass when filling the cache.
   * @default 256
   */
  teacherBatchSize?: number;
}

/** The resolved configuration of a {@link Distiller}. */
export interface DistillerConfig extends ResolvedDistillationConfig {
  /** How an ensemble teacher is combined. */
  readonly combine: EnsembleCombine;
}

/** A validation score after one epoch (errors at `T = 1`). */
export interface DistillEpochValidation {
  /** Misclassified validation examples. */
  errors: number;
  /** `errors / N`. */
  errorRate: number;
  /** Mean cross-entropy of the true labels at `T = 1`. */
  loss: number;
}

/** Early stopping on the validation set. */
export interface EarlyStoppingOptions {
  /**
   * `'error'`: validation errors; `'loss'`: validation cross-entropy at `T = 1`.
   * @default 'error'
   */
  monitor?: 'error' | 'loss';
  /**
   * Epochs without improvement before stopping.
   * @default 5
   */
  patience?: number;
  /**
   * The smallest decrease that counts as an improvement (in errors, or in loss).
   * @default 0
   */
  minDelta?: number;
  /**
   * Restore the weights of the best epoch at the end.
   * @default true
   */
  restoreBest?: boolean;
}

/** Options of {@link Distiller.fit}. */
export interface DistillerFitOptions {
  /** True labels of the transfer set `[N]` (int32), needed when `alpha < 1`. @default undefined */
  labels?: tf.Tensor1D;
  /** Passes over the transfer set. @default 10 */
  epochs?: number;
  /** Examples per step. @default 128 */
  batchSize?: number;
  /**
   * Translation jitter of the student's inputs, in whole pixels (`0` = none; Hinton et al. jittered by up to 2).
   * Needs NHWC images `[N, H, W, C]`.
   * @default 0
   */
  jitter?: number;
  /** Seed of the shuffling and the jitter. @default 0 */
  seed?: number;
  /** Validation data, scored after every epoch (errors at `T = 1`). @default undefined */
  validation?: LabeledData;
  /** Stop when the validation score stops improving (needs `validation`). @default undefined (no early stopping) */
  earlyStopping?: EarlyStoppingOptions;
  /** Progress: phase `'teacher'` (cache filling, batches), then `'train'` (steps over all epochs). */
  onProgress?: ProgressCallback;
}

/** One epoch of {@link DistillHistory}. */
export interface DistillEpoch {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Validation score after the epoch, when validation data was given. */
  validation?: DistillEpochValidation;
  /** Wall time of the epoch's training steps in milliseconds (excluding validation). */
  ms: number;
}

/** What {@link Distiller.fit} returns. */
export interface DistillHistory {
  /** One record per epoch run. */
  epochs: DistillEpoch[];
  /** The epoch whose weights the student holds at the end (1-based). */
  bestEpoch: number;
  /** Whether early stopping ended training before `epochs`. */
  stoppedEarly: boolean;
  /** Teacher `predict` calls made so far by this Distiller (all fits). */
  teacherForwardPasses: number;
  /** Classes with no example in the transfer set (from its labels, else from the teacher's argmax). */
  absentClasses: number[];
}

/** Options of {@link Distiller.correctBias}. */
export interface CorrectBiasOptions {
  /** Classes to correct. @default the classes absent from the last transfer set */
  classes?: readonly number[];
  /** A given shift (Hinton et al.: 3.5 for the 3s); when omitted it is fitted on `validation`. @default undefined */
  shift?: number;
  /** Labelled data to fit the shift on (required without `shift`). @default undefined */
  validation?: LabeledData;
  /** See {@link fitBiasShift}. @default 'nll' */
  objective?: BiasObjective;
  /** The layer whose bias is shifted. @default the last layer with a bias */
  layer?: string;
}

/** What {@link Distiller.correctBias} did. */
export interface BiasCorrection {
  /** The corrected classes. */
  classes: number[];
  /** The shift added to their output biases. */
  shift: number;
  /** The fit, when the shift was fitted on validation data. */
  fit?: BiasShiftFit;
}

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
    checkTensor(fn, 'x', x);
    const opts = checkOptions(fn, 'options', options);
    const n = x.shape[0] as number;
    if (n < 1) throw new ShapeMismatchError(fn, 'x', 'at least one example', x.shape);
    const epochs = opts.epochs ?? 10;
    checkInteger(fn, 'options.epochs', epochs, 1);
    const batchSize = opts.batchSize ?? 128;
    checkInteger(fn, 'options.batchSize', batchSize, 1);
    const jitter = opts.jitter ?? 0;
    checkInteger(fn, 'options.jitter', jitter, 0);
    if (jitter > 0 && x.rank !== 4) {
      throw new ShapeMismatchError(fn, 'x', 'NHWC images [N, H, W, C] when jitter > 0', x.shape);
    }
    const seed = opts.seed ?? 0;
    checkInteger(fn, 'options.seed', seed);
    const { alpha } = this.config;
    if (opts.labels !== undefined) checkLabelVector(fn, 'options.labels', opts.labels, n);
    else if (alpha < 1) {
      throw new InvalidArgumentError(
        fn,
        'options.labels',
        'labels of the transfer set when alpha < 1 (or set alpha: 1)',
        undefined,
      );
    }
    if (opts.validation !== undefined) {
      checkOptions(fn, 'options.validation', opts.validation);
      checkTensor(fn, 'options.validation.x', opts.validation.x);
      checkLabelVector(
        fn,
        'options.validation.labels',
        opts.validation.labels,
        opts.validation.x.shape[0] as number,
      );
    }
    const es =
      opts.earlyStopping === undefined
        ? undefined
        : checkOptions(fn, 'options.earlyStopping', opts.earlyStopping);
    if (es !== undefined) {
      if (opts.validation === undefined) {
        throw new InvalidArgumentError(
          fn,
          'options.validation',
          'validation data when earlyStopping is set',
          undefined,
        );
      }
      checkOneOf(fn, 'options.earlyStopping.monitor', es.monitor ?? 'error', ['error', 'loss'] as const);
      checkInteger(fn, 'options.earlyStopping.patience', es.patience ?? 5, 0);
      checkInRange(fn, 'options.earlyStopping.minDelta', es.minDelta ?? 0, 0, Infinity);
    }
    if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
      throw new InvalidArgumentError(fn, 'options.onProgress', 'a function', opts.onProgress);
    }
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

    const rng = new Rng(seed);
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
    const patience = es?.patience ?? 5;
    const minDelta = es?.minDelta ?? 0;
    const restoreBest = es?.restoreBest ?? true;
    let best = Infinity;
    let bestEpoch = 0;
    let sinceBest = 0;
    let snapshot: tf.Tensor[] | undefined;
    const cfg = this.config;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const order = rng.permutation(n);
        const t0 = Date.now();
        let lossSum = tf.scalar(0);
        for (let s = 0; s < stepsPerEpoch; s++) {
          const idx = order.slice(s * batchSize, Math.min(n, (s + 1) * batchSize));
          const shifts = jitter > 0 ? rng.fork() : undefined;
          const batch = tf.tidy(() => {
            const ind = tf.tensor1d(idx, 'int32');
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
            const size = idx.length;
            const w = tf.tidy(() =>
              weightTargets(
                batch.qb,
                batch.yb === undefined || alpha === 1 ? undefined : tf.oneHot(batch.yb, numClasses),
                cfg,
                size,
              ),
            );
            let cost: tf.Scalar | null;
            try {
              cost = this.optimizer.minimize(
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
            } finally {
              tf.dispose([w.soft, w.hard, w.offset] as tf.Tensor[]);
            }
            if (cost !== null) {
              const next = tf.add(lossSum, cost) as tf.Scalar;
              lossSum.dispose();
              cost.dispose();
              lossSum = next;
            }
          } finally {
            tf.dispose([batch.xb, batch.qb, batch.yb] as tf.Tensor[]);
          }
          // The last step of an epoch is reported by the epoch's event below (with its metrics).
          if (s < stepsPerEpoch - 1) {
            progress({ phase: 'train', done: (epoch - 1) * stepsPerEpoch + s + 1, total: totalSteps });
          }
        }
        const loss = (await lossSum.data())[0] / stepsPerEpoch;
        lossSum.dispose();
        const record: DistillEpoch = { epoch, loss, ms: Date.now() - t0 };
        if (opts.validation !== undefined) {
          const v = await evaluateClassifier(this.student, opts.validation, { outputKind: 'logits' });
          record.validation = { errors: v.errors, errorRate: v.errorRate, loss: v.loss };
        }
        history.epochs.push(record);
        const metrics: Record<string, number> = { epoch, loss };
        if (record.validation) {
          metrics.valErrors = record.validation.errors;
          metrics.valLoss = record.validation.loss;
        }
        progress({ phase: 'train', done: epoch * stepsPerEpoch, total: totalSteps, metrics });
        if (es === undefined || record.validation === undefined) continue;
        const value = monitor === 'error' ? record.validation.errors : record.validation.loss;
        if (bestEpoch === 0 || value < best - minDelta) {
          best = value;
          bestEpoch = epoch;
          sinceBest = 0;
          if (restoreBest) {
            tf.dispose(snapshot);
            snapshot = this.student.getWeights().map((w) => tf.clone(w));
          }
        } else if (++sinceBest > patience) {
          history.stoppedEarly = epoch < epochs;
          break;
        }
      }
      history.bestEpoch = history.epochs.length;
      if (restoreBest && snapshot !== undefined && bestEpoch !== history.epochs.length) {
        this.student.setWeights(snapshot);
        history.bestEpoch = bestEpoch;
      }
      // Early stopping ends before the last step: close the phase (a full run reported done === total already).
      if (history.stoppedEarly) progress({ phase: 'train', done: totalSteps, total: totalSteps });
    } finally {
      tf.dispose(snapshot);
    }
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
    const fit = await fitBiasShift(this.student, opts.validation.x, opts.validation.labels as tf.Tensor1D, {
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

/** The number of classes of a tfjs-layers model's (single) output, when known. */
function outputClasses(model: unknown): number | undefined {
  const outputs = (model as { outputs?: { shape: (number | null)[] }[] }).outputs;
  if (!Array.isArray(outputs) || outputs.length !== 1) return undefined;
  const last = outputs[0].shape[outputs[0].shape.length - 1];
  return typeof last === 'number' ? last : undefined;
}

/** Classes with no example: from the labels if given, else from the teacher's argmax. */
async function absentClasses(
  labels: Int32Array | undefined,
  q: tf.Tensor2D | undefined,
  k: number | undefined,
): Promise<number[]> {
  if (k === undefined) return [];
  const seen = new Array<boolean>(k).fill(false);
  if (labels !== undefined) {
    for (const y of labels) seen[y] = true;
  } else if (q !== undefined) {
    const am = tf.argMax(q, 1);
    try {
      for (const y of await am.data()) seen[y] = true;
    } finally {
      am.dispose();
    }
  } else {
    return [];
  }
  return seen.flatMap((s, c) => (s ? [] : [c]));
}
