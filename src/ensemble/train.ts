/**
 * The work behind `SpecialistEnsemble.train` (Hinton, Vinyals & Dean 2015, section 5.2): options checked (nested
 * `sampling` and `training` included) before anything is built, one enriched sample per class set, one specialist
 * per set (a copy of the generalist with a new head, or a model of `modelFactory`), trained in turn with one
 * progress count over all of them. Returns what the ensemble's constructor takes; the class is in `ensemble.ts`.
 *
 * @module
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  checkInteger,
  checkOneOf,
  checkOptionKeys,
  checkOptions,
  checkTensor,
  knownKeys,
} from '../core/checks.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { PredictModel } from '../core/types.js';
import { isPredictModel } from '../core/types.js';
import { isLayersModel } from '../model/kinds.js';
import { outputKind } from '../model/output-kind.js';
import type { ClassClustering } from './clustering.js';
import { validateClusters } from './clustering.js';
import { checkLabelsPerRow, isClustering, resolveNumClasses, resolveOutputKind } from './internal.js';
import { type EnrichedSampleOptions, enrichedSample } from './sampling.js';
import type { SpecialistTrainHistory } from './specialist.js';
import { createSpecialist, trainSpecialist } from './specialist.js';
import type { Specialist, SpecialistEnsembleOptions, TrainEnsembleOptions } from './types.js';

/** The known keys of {@link TrainEnsembleOptions}. */
const TRAIN_ENSEMBLE_KEYS = knownKeys<TrainEnsembleOptions>({
  clusters: true,
  minClusterSize: true,
  allowOverlap: true,
  sampling: true,
  training: true,
  modelFactory: true,
  specialistOutput: true,
  headInit: true,
  onProgress: true,
  numClasses: true,
  generalistOutput: true,
});

/** The known keys of `TrainEnsembleOptions.sampling`. */
const SAMPLING_KEYS = knownKeys<EnrichedSampleOptions>({
  subsetFraction: true,
  rest: true,
  size: true,
  seed: true,
});

/** The known keys of `TrainEnsembleOptions.training`. */
const TRAINING_KEYS = knownKeys<NonNullable<TrainEnsembleOptions['training']>>({
  epochs: true,
  batchSize: true,
  learningRate: true,
});

/** Trained specialists and the options of the ensemble that wraps them. */
export interface TrainedSpecialists {
  /** One specialist per class set, in the order of the sets. */
  readonly specialists: Specialist[];
  /** The constructor options of the ensemble (class count, generalist output, clustering, overlap). */
  readonly options: SpecialistEnsembleOptions;
}

/**
 * Trains the specialists of `SpecialistEnsemble.train` (see there). Models made before a failure are disposed.
 *
 * @throws {@link InvalidArgumentError} for a bad option (a misspelt key of `options`, `options.sampling` or
 * `options.training` names the closest known key), bad clusters or labels, before any tensor is allocated.
 */
export async function trainSpecialists(
  generalist: PredictModel,
  x: Tensor,
  labels: ArrayLike<number>,
  options: TrainEnsembleOptions,
): Promise<TrainedSpecialists> {
  const fn = 'SpecialistEnsemble.train';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, TRAIN_ENSEMBLE_KEYS);
  if (!isPredictModel(generalist)) {
    throw new InvalidArgumentError(fn, 'generalist', 'a model with a predict() method', generalist);
  }
  if (opts.modelFactory === undefined && !isLayersModel(generalist)) {
    throw new InvalidArgumentError(
      fn,
      'generalist',
      'a LayersModel (or pass options.modelFactory)',
      generalist,
    );
  }
  if (opts.modelFactory !== undefined && typeof opts.modelFactory !== 'function') {
    throw new InvalidArgumentError(fn, 'options.modelFactory', 'a function', opts.modelFactory);
  }
  const numClasses = resolveNumClasses(fn, generalist, opts.numClasses);
  const generalistOutput = resolveOutputKind(fn, generalist, opts.generalistOutput);
  checkTensor(fn, 'x', x);
  checkLabelsPerRow(fn, labels, x.shape[0]);
  const minSize = opts.minClusterSize ?? 2;
  checkInteger(fn, 'options.minClusterSize', minSize, 1);
  let clustering: ClassClustering | undefined;
  let raw: readonly (readonly number[])[];
  if (isClustering(opts.clusters)) {
    clustering = opts.clusters;
    raw = opts.clusters.clusters.filter((c) => c.classes.length >= minSize).map((c) => c.classes);
    if (raw.length === 0) {
      throw new InvalidArgumentError(
        fn,
        'options.clusters',
        `a clustering with at least one cluster of >= ${minSize} classes`,
        `clusters of sizes [${opts.clusters.clusters.map((c) => c.classes.length).join(', ')}]`,
      );
    }
  } else {
    raw = opts.clusters;
  }
  const sets = validateClusters(fn, raw, numClasses, { allowOverlap: opts.allowOverlap ?? true });
  const specialistOutput = opts.specialistOutput ?? 'probabilities';
  checkOneOf(fn, 'options.specialistOutput', specialistOutput, ['probabilities', 'logits'] as const);
  const trainOpts = checkOptions(fn, 'options.training', opts.training);
  checkOptionKeys(fn, 'options.training', trainOpts, TRAINING_KEYS);
  const epochs = trainOpts.epochs ?? 3;
  const batchSize = trainOpts.batchSize ?? 64;
  const sampling = checkOptions(fn, 'options.sampling', opts.sampling);
  checkOptionKeys(fn, 'options.sampling', sampling, SAMPLING_KEYS);
  const samplingSeed = sampling.seed ?? 0;

  // Draw every sample first (validates labels before any model is built).
  const samples = sets.map((classes, m) =>
    enrichedSample(labels, classes, numClasses, { ...sampling, seed: samplingSeed + m }),
  );
  const totalBatches = samples.reduce((s, smp) => s + Math.ceil(smp.indices.length / batchSize) * epochs, 0);
  let doneBefore = 0;
  const made: Specialist[] = [];
  const histories: SpecialistTrainHistory[] = [];
  try {
    for (let m = 0; m < sets.length; m++) {
      const classes = sets[m];
      const model = opts.modelFactory
        ? await opts.modelFactory({
            index: m,
            classes: [...classes],
            numOutputs: classes.length + 1,
            generalist,
          })
        : await createSpecialist(generalist as tfl.LayersModel, classes, {
            headInit: opts.headInit,
            seed: samplingSeed + m,
          });
      // A copy of the generalist outputs what the generalist does; a factory's model what the options say.
      const kind = opts.modelFactory ? specialistOutput : outputKind(model);
      made.push({ model, classes, outputKind: kind, dustbinLogitShift: samples[m].dustbinLogitShift });
      const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(samples[m].indices, 'int32')));
      const base = doneBefore;
      try {
        histories.push(
          await trainSpecialist(model, xs, samples[m].labels, classes.length + 1, {
            ...trainOpts,
            epochs,
            batchSize,
            outputKind: kind,
            onProgress: opts.onProgress
              ? (e) =>
                  opts.onProgress?.({
                    ...e,
                    phase: 'specialists',
                    done: base + e.done,
                    total: totalBatches,
                  })
              : undefined,
          }),
        );
      } finally {
        xs.dispose();
      }
      doneBefore += Math.ceil(samples[m].indices.length / batchSize) * epochs;
    }
  } catch (e) {
    for (const s of made) (s.model as tfl.LayersModel).dispose();
    throw e;
  }
  return {
    specialists: made,
    options: { numClasses, generalistOutput, clustering, allowOverlap: opts.allowOverlap ?? true },
  };
}
