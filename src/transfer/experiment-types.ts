/**
 * The vocabulary of Yosinski et al.'s transferability experiment: the four treatments (AnB, BnB, AnB+, BnB+), one
 * run and the results of a `TransferExperiment`, its data and options. Types and the treatment list only; the
 * runner is in `experiment.ts`, the summary in `summary.ts`.
 *
 * @module
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LabeledData, ProgressCallback } from '../core/types.js';
import type { BatchNormPolicy } from './batchnorm.js';
import type { GroupTrainOptions } from './train.js';

/** The four transfer treatments of the paper. */
export type TransferKind = 'AnB' | 'BnB' | 'AnB+' | 'BnB+';

/**
 * The treatments in the paper's order.
 *
 * @example
 * ```ts
 * for (const kind of TRANSFER_KINDS) console.log(kind, summary.series[kind].map((p) => p.mean));
 * ```
 */
export const TRANSFER_KINDS: readonly TransferKind[] = ['BnB', 'BnB+', 'AnB', 'AnB+'];

/** Every kind of run: the two base networks and the four treatments. */
export type TransferRunKind = 'baseA' | 'baseB' | TransferKind;

/** One trained and evaluated network. */
export interface TransferRun {
  /** Which network. */
  kind: TransferRunKind;
  /** Stages copied (0 for the base networks). */
  n: number;
  /** The repeat's seed. */
  seed: number;
  /** Top-1 accuracy on the test set of its task (A for baseA, B otherwise). */
  accuracy: number;
  /** Mean training loss of the last epoch. */
  trainLoss: number;
  /** Wall time of training and evaluation, in ms. */
  ms: number;
}

/** The experiment's results: JSON-serialisable, and resumable (pass them back as `resume`). */
export interface TransferResults {
  /** Format version. */
  version: 1;
  /** Original class indices of group A. */
  classesA: number[];
  /** Original class indices of group B. */
  classesB: number[];
  /** Number of stages of the networks (the last one is the head). */
  stages: number;
  /** The values of n run. */
  ns: number[];
  /** The repeats' seeds. */
  seeds: number[];
  /** The treatments run. */
  kinds: TransferKind[];
  /** Every finished run, in the order they finished. */
  runs: TransferRun[];
}

/** Makes a fresh, untrained classifier with `numClasses` outputs, initialised from `seed`. */
export type ModelFactory = (numClasses: number, seed: number) => tfl.LayersModel;

/** The data of the experiment: one labelled train and test set, and the two class groups. */
export interface TransferExperimentData {
  /** Training examples of all classes (not disposed by the experiment). */
  readonly train: LabeledData;
  /** Test examples of all classes (not disposed by the experiment). */
  readonly test: LabeledData;
  /** Classes of task A (original indices). */
  readonly classesA: readonly number[];
  /** Classes of task B (original indices), disjoint from A. */
  readonly classesB: readonly number[];
}

/** Options of a `TransferExperiment`. */
export interface TransferExperimentOptions {
  /** Makes the networks (baseA, baseB); transfer networks are rebuilt from them by `LayerTransfer`. */
  modelFactory: ModelFactory;
  /**
   * Training of every network (the same schedule for bases and treatments, as in the paper).
   * @default { epochs: 1, batchSize: 32, learningRate: 0.001, optimizer: 'adam' }
   */
  training?: Omit<GroupTrainOptions, 'groups' | 'onProgress' | 'seed'>;
  /**
   * Learning rate of the copied layers in AnB+ and BnB+.
   * @default `training.learningRate` (the paper fine-tunes the whole network at one rate)
   */
  fineTuneCopiedLearningRate?: number;
  /**
   * Values of n (stages copied), each in [1, stages - 1].
   * @default 1 .. stages - 1
   */
  ns?: readonly number[];
  /**
   * One repeat per seed (model initialisation, shuffling and re-initialisation all derive from it).
   * @default [0]
   */
  seeds?: readonly number[];
  /**
   * Treatments to run.
   * @default all four
   */
  kinds?: readonly TransferKind[];
  /**
   * BatchNormalization policy of frozen layers.
   * @default 'inference'
   */
  batchNorm?: BatchNormPolicy;
  /** Results of an interrupted run of the same experiment: finished runs are not repeated. @default undefined */
  resume?: TransferResults;
  /** Called after every finished run with the results so far (e.g. to save them as JSON). @default undefined */
  onRun?: (run: TransferRun, results: TransferResults) => void | Promise<void>;
  /**
   * Progress: phase `'transfer'` (runs done / total, with `{ n, accuracy }`) and phase `'train'` (steps of the
   * current network).
   * @default undefined
   */
  onProgress?: ProgressCallback;
}
