/**
 * The option, configuration and result types of {@link Distiller}.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LabeledData, ProgressCallback } from '../core/types.js';
import type { BiasObjective, BiasShiftFit, fitBiasShift } from './bias.js';
import type { Distiller } from './distiller.js';
import type { DistillationForm, ResolvedDistillationConfig } from './loss.js';
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
  /** Seed of the shuffling, the jitter and the student's dropout masks. @default 0 */
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
