/**
 * A SpecialistEnsemble's specialists (Hinton et al. 2015, sec. 5) trained side by side in worker threads: each
 * specialist is independent of the others (its own enriched sample, head and training), so each worker trains one
 * as `SpecialistEnsemble.train` would and sends back its weights; the ensemble is the sequential one, weight for
 * weight.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
import { validateClusters } from '../ensemble/clustering.js';
// From the entry, not ../kernels/registry.js: in the built package the registry must be the one the user's
// registerTrainingKernels call wrote to (dist/index.js), not a second bundled copy.
import {
  type ClassClustering,
  InvalidArgumentError,
  type ProgressCallback,
  type Specialist,
  SpecialistEnsemble,
  type TrainEnsembleOptions,
  trainingKernelsRegistered,
} from '../index.js';
import { defaultWorkers } from './pool.js';
import { leasePool, poolKey } from './pool-entry.js';
import { modelArtifacts, type SpecialistTask, type SpecialistTaskResult } from './pool-worker.js';

/** Options of {@link trainSpecialistsInWorkers}: `SpecialistEnsemble.train`'s, without a model factory. */
export interface ParallelSpecialistOptions
  extends Omit<TrainEnsembleOptions, 'modelFactory' | 'specialistOutput' | 'onProgress'> {
  /** Worker threads (at most one per specialist). @default the number of cores */
  workers?: number;
  /** Called after each specialist finished (phase `'specialists'`, `done`/`total` in specialists). @default undefined */
  onProgress?: ProgressCallback;
}

/** The known keys of {@link ParallelSpecialistOptions}. */
const PARALLEL_SPECIALIST_OPTION_KEYS = knownKeys<ParallelSpecialistOptions>({
  clusters: true,
  minClusterSize: true,
  allowOverlap: true,
  sampling: true,
  training: true,
  headInit: true,
  numClasses: true,
  generalistOutput: true,
  workers: true,
  onProgress: true,
});

/**
 * Trains a SpecialistEnsemble with its specialists spread over worker threads, and returns the ensemble that
 * `SpecialistEnsemble.train(generalist, x, labels, options)` would (the same weights, bit for bit, on the same
 * backend and kernels). The generalist must be a tfjs-layers model (it is copied to each worker); the workers use
 * the calling thread's backend (`wasm` or `cpu`).
 *
 * @throws InvalidArgumentError for a bad generalist, clusters, worker count or backend, before any worker starts
 * @example
 * ```ts
 * const ensemble = await trainSpecialistsInWorkers(generalist, xTrain, yTrain, {
 *   clusters: [[3, 5, 8], [4, 9]], training: { epochs: 2 }, workers: 2,
 * });
 * ```
 */
export async function trainSpecialistsInWorkers(
  generalist: tfl.LayersModel,
  x: tf.Tensor,
  labels: ArrayLike<number>,
  options: ParallelSpecialistOptions,
): Promise<SpecialistEnsemble> {
  const fn = 'trainSpecialistsInWorkers';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, PARALLEL_SPECIALIST_OPTION_KEYS);
  const { workers: w, onProgress, clusters, minClusterSize, allowOverlap, ...rest } = opts;
  if (!(generalist instanceof tfl.LayersModel)) {
    throw new InvalidArgumentError(fn, 'generalist', 'a tfjs-layers LayersModel', generalist);
  }
  if (!(x instanceof tf.Tensor)) throw new InvalidArgumentError(fn, 'x', 'a Tensor', x);
  if (labels?.length !== x.shape[0]) {
    throw new InvalidArgumentError(fn, 'labels', `${x.shape[0]} labels (one per row of x)`, labels?.length);
  }
  const workers = w ?? defaultWorkers();
  checkInteger(fn, 'options.workers', workers, 1);
  const out = generalist.outputs[0].shape;
  const numClasses = opts.numClasses ?? (out[out.length - 1] as number);
  const minSize = minClusterSize ?? 2;
  checkInteger(fn, 'options.minClusterSize', minSize, 1);
  const isClustering = (c: unknown): c is ClassClustering =>
    typeof c === 'object' &&
    c !== null &&
    !Array.isArray(c) &&
    Array.isArray((c as ClassClustering).clusters);
  const raw = isClustering(clusters)
    ? clusters.clusters.filter((c) => c.classes.length >= minSize).map((c) => c.classes)
    : clusters;
  const sets = validateClusters(fn, raw, numClasses, { allowOverlap: allowOverlap ?? true });
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new InvalidArgumentError(
      fn,
      'backend',
      "the 'wasm' or 'cpu' backend (one engine per worker)",
      backend,
    );
  }
  const base: Omit<SpecialistTask, 'classes' | 'index'> = {
    kind: 'specialist',
    backend,
    kernels: trainingKernelsRegistered(backend),
    generalist: await modelArtifacts(generalist),
    x: Float32Array.from(await x.data()),
    shape: [...x.shape],
    labels: Int32Array.from(labels),
    options: rest,
  };
  const pool = leasePool(Math.min(workers, sets.length), poolKey(backend, base.kernels));
  const made: Specialist[] = [];
  let done = 0;
  try {
    const results = await Promise.all(
      sets.map(async (classes, index) => {
        const r = (await pool.run({ ...base, classes, index })) as SpecialistTaskResult;
        done++;
        onProgress?.({ phase: 'specialists', done, total: sets.length });
        return r;
      }),
    );
    for (const [m, r] of results.entries()) {
      made.push({
        model: await tfl.loadLayersModel(tf.io.fromMemory(r.artifacts)),
        classes: sets[m],
        outputKind: r.outputKind,
        dustbinLogitShift: r.dustbinLogitShift,
      });
    }
    return new SpecialistEnsemble(generalist, made, {
      numClasses: opts.numClasses,
      generalistOutput: opts.generalistOutput,
      clustering: isClustering(clusters) ? clusters : undefined,
      allowOverlap: allowOverlap ?? true,
    });
  } catch (e) {
    for (const s of made) (s.model as tfl.LayersModel).dispose();
    throw e;
  } finally {
    await pool.release();
  }
}
