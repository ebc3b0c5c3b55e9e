/**
 * The option and result types of {@link SpecialistEnsemble}: a specialist, the constructor's, `predict`'s and
 * `train`'s options, the detailed prediction and the specialist factory. Types only; the class lives in
 * `ensemble.ts`.
 *
 * @module
 */
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PredictModel, ProgressCallback } from '../core/types.js';
import type { OutputKind } from '../model/output-kind.js';
import type { ClassClustering } from './clustering.js';
import type { CombineKLOptions } from './combine.js';
import type { EnrichedSampleOptions } from './sampling.js';
import type { CreateSpecialistOptions, TrainSpecialistOptions } from './specialist.js';

/** One specialist of an ensemble. */
export interface Specialist {
  /** The model: `[batch, ...]` inputs to `[batch, classes.length + 1]` outputs (the dustbin last). */
  model: PredictModel;
  /** Its subset S of the generalist's classes; output column `j` is class `classes[j]`. */
  classes: number[];
  /** Whether `model` returns probabilities or logits. */
  outputKind: OutputKind;
  /** Added to the dustbin's log-probability before combining (see `dustbinLogitShift`). @default 0 */
  dustbinLogitShift: number;
}

/** Options of the {@link SpecialistEnsemble} constructor. */
export interface SpecialistEnsembleOptions {
  /** The generalist's class count. @default read from the generalist's output shape (LayersModel) */
  numClasses?: number;
  /** What the generalist returns. @default detected from a LayersModel's last layer, else 'probabilities' */
  generalistOutput?: OutputKind;
  /** Which models `dispose()` frees: the specialists only, or the generalist too. @default 'specialists' */
  owns?: 'specialists' | 'all';
  /** The clustering the specialists came from (kept with the ensemble and saved with it). */
  clustering?: ClassClustering;
  /** Whether two specialists may share a class. @default true */
  allowOverlap?: boolean;
}

/** Options of {@link SpecialistEnsemble.predict}. */
export interface EnsemblePredictOptions extends CombineKLOptions {
  /** n: how many of the generalist's most probable classes choose the active specialists. @default 1 */
  candidates?: number;
  /** Rows per chunk (generalist, specialists and the KL solve run chunk by chunk). @default 256 */
  batchSize?: number;
}

/** What {@link SpecialistEnsemble.predictDetailed} returns. The caller owns the three tensors. */
export interface EnsemblePrediction {
  /** `[batch, numClasses]` combined distributions q. */
  probabilities: Tensor2D;
  /** `[batch, numClasses]` the generalist's distributions p_g. */
  generalist: Tensor2D;
  /** `[batch, specialists]` 1 where a specialist was active. */
  active: Tensor2D;
  /** Most gradient steps any chunk took. */
  iterations: number;
  /** Whether every chunk converged to the tolerance. */
  converged: boolean;
}

/** Context given to a {@link SpecialistFactory}. */
export interface SpecialistFactoryContext {
  /** The specialist's index in the ensemble. */
  index: number;
  /** Its subset S; output column `j` is class `classes[j]`. */
  classes: number[];
  /** Output units the model must have: `classes.length + 1` (dustbin last). */
  numOutputs: number;
  /** The generalist (to copy from, if the factory wants to). */
  generalist: PredictModel;
}

/** Builds an (uncompiled) specialist model; `train` compiles and fits it. */
export type SpecialistFactory = (ctx: SpecialistFactoryContext) => tfl.LayersModel | Promise<tfl.LayersModel>;

/** Options of {@link SpecialistEnsemble.train}. */
export interface TrainEnsembleOptions {
  /**
   * The specialists' class sets: a {@link ClassClustering} (its clusters with at least `minClusterSize` classes
   * are used) or explicit class lists.
   */
  clusters: ClassClustering | readonly (readonly number[])[];
  /** For a ClassClustering: smallest cluster that gets a specialist. @default 2 */
  minClusterSize?: number;
  /** Whether two specialists may share a class. @default true */
  allowOverlap?: boolean;
  /** Enriched sampling of each specialist's data (its seed is offset per specialist). */
  sampling?: EnrichedSampleOptions;
  /** Training of each specialist (epochs, batch size, learning rate). */
  training?: Pick<TrainSpecialistOptions, 'epochs' | 'batchSize' | 'learningRate'>;
  /** Builds each specialist instead of {@link index!createSpecialist | createSpecialist} (then the generalist may be any PredictModel). */
  modelFactory?: SpecialistFactory;
  /** What factory-made specialists output (copies of the generalist output what it does). @default 'probabilities' */
  specialistOutput?: OutputKind;
  /** How {@link index!createSpecialist | createSpecialist} initialises the new head. @default 'generalist' */
  headInit?: CreateSpecialistOptions['headInit'];
  /** Progress: phase `'specialists'`, one unit per training batch over all specialists. */
  onProgress?: ProgressCallback;
  /** Class count, when the generalist is not a LayersModel. */
  numClasses?: number;
  /** What the generalist returns. @default detected */
  generalistOutput?: OutputKind;
}
