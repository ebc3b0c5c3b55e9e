/**
 * The worker side of {@link runTransferExperimentInWorkers}: one tfjs engine per worker thread, with its own
 * backend (wasm or cpu) and transferkit's training kernels, running one seed of a TransferExperiment per task.
 * Loaded by tinypool from `transferkit/node`'s pool (dist/pool-worker.js, or src/node/pool-worker.ts under tsx).
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type ModelFactory,
  type OutputKind,
  type ShardSpec,
  SpecialistEnsemble,
  type TrainEnsembleOptions,
  type TrainingKernelName,
  TransferExperiment,
  type TransferExperimentOptions,
  type TransferResults,
  type ZeilerFergusCnnOptions,
  zeilerFergusCnn,
} from '../index.js';
import { initBackend } from './backend.js';
import { extractFeatures } from './extraction.js';
import type { ExtractionSpec } from './extraction-inputs.js';
import { saveFeatureShard } from './shards.js';

/** A labelled set as plain arrays (what crosses the thread boundary). */
export interface PlainLabeledData {
  /** Inputs, row-major. */
  x: Float32Array;
  /** Shape of `x`, `[count, ...inputShape]`. */
  shape: number[];
  /** Class indices, one per input. */
  labels: Int32Array;
}

/**
 * Where a worker finds the model factory: an ES module and one of its exports, or the zoo's Zeiler-Fergus CNN
 * with some options (`numClasses` and `seed` set per network).
 */
export type ModelFactoryRef =
  | {
      /** Absolute path or file URL of an ES module (a .ts module needs tsx in the parent process). */
      module: string;
      /**
       * Export of that module: a {@link ModelFactory}.
       * @default 'default'
       */
      exportName?: string;
    }
  | {
      /** The zoo architecture. */
      zoo: 'zeilerFergusCnn';
      /** Its options. @default the zoo's defaults */
      options?: Omit<ZeilerFergusCnnOptions, 'numClasses' | 'seed'>;
    };

/** One task: the seeds' part of a TransferExperiment. */
export interface TransferTask {
  kind: 'transfer';
  backend: 'wasm' | 'cpu';
  kernels: TrainingKernelName[];
  train: PlainLabeledData;
  test: PlainLabeledData;
  classesA: number[];
  classesB: number[];
  factory: ModelFactoryRef;
  options: Omit<TransferExperimentOptions, 'modelFactory' | 'onRun' | 'onProgress'>;
}

/** One task: one specialist of a SpecialistEnsemble (Hinton et al. 2015, sec. 5), trained as `train` would. */
export interface SpecialistTask {
  kind: 'specialist';
  backend: 'wasm' | 'cpu';
  kernels: TrainingKernelName[];
  /** The generalist, saved with `tf.io.withSaveHandler`. */
  generalist: tf.io.ModelArtifacts;
  /** Training inputs, row-major, and their shape. */
  x: Float32Array;
  shape: number[];
  /** Generalist class of each row. */
  labels: Int32Array;
  /** The specialist's classes. */
  classes: number[];
  /** Its index in the ensemble (offsets the sampling and head seeds, as in `train`). */
  index: number;
  /** The ensemble's training options (JSON part). */
  options: Pick<
    TrainEnsembleOptions,
    'sampling' | 'training' | 'headInit' | 'numClasses' | 'generalistOutput'
  >;
}

/** What a specialist task returns: the trained model and what the ensemble records with it. */
export interface SpecialistTaskResult {
  artifacts: tf.io.ModelArtifacts;
  outputKind: OutputKind;
  dustbinLogitShift: number;
}

/** One task: one shard of a feature extraction, written into `outDir` with its manifest. */
export interface ExtractTask {
  kind: 'extract';
  backend: 'wasm' | 'cpu';
  kernels: TrainingKernelName[];
  spec: ExtractionSpec;
  shard: ShardSpec;
  outDir: string;
}

let ready: Promise<string> | undefined;

function backendReady(task: TransferTask | SpecialistTask | ExtractTask): Promise<string> {
  ready ??= initBackend(task.backend, { trainingKernels: task.kernels });
  return ready;
}

async function loadFactory(ref: ModelFactoryRef): Promise<ModelFactory> {
  if ('zoo' in ref) {
    const options = ref.options ?? {};
    return (numClasses, seed) => zeilerFergusCnn({ ...options, numClasses, seed });
  }
  const url = ref.module.startsWith('file:') ? ref.module : pathToFileURL(ref.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const f = mod[ref.exportName ?? 'default'];
  if (typeof f !== 'function') {
    throw new Error(
      `transferkit worker: ${ref.module} has no function export '${ref.exportName ?? 'default'}'`,
    );
  }
  return f as ModelFactory;
}

/** Saves a model to memory (topology and weights). */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      out = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out as tf.io.ModelArtifacts;
}

async function runSpecialist(task: SpecialistTask): Promise<SpecialistTaskResult> {
  const generalist = await tfl.loadLayersModel(tf.io.fromMemory(task.generalist));
  const x = tf.tensor(task.x, task.shape);
  try {
    const seed = task.options.sampling?.seed ?? 0;
    // One cluster, the sampling seed offset by the index: the sample and head seed of specialist `index` in train().
    const ensemble = await SpecialistEnsemble.train(generalist, x, task.labels, {
      ...task.options,
      clusters: [task.classes],
      minClusterSize: 1,
      sampling: { ...task.options.sampling, seed: seed + task.index },
    });
    try {
      const [s] = ensemble.specialists;
      return {
        artifacts: await modelArtifacts(s.model as tfl.LayersModel),
        outputKind: s.outputKind,
        dustbinLogitShift: s.dustbinLogitShift,
      };
    } finally {
      ensemble.dispose();
    }
  } finally {
    x.dispose();
    generalist.dispose();
  }
}

/** Runs one task in this worker's engine; the tensors it makes are freed before it returns. */
export default async function runTask(
  task: TransferTask | SpecialistTask | ExtractTask,
): Promise<TransferResults | SpecialistTaskResult | number> {
  await backendReady(task);
  if (task.kind === 'extract') {
    const r = await extractFeatures(task.spec, { shard: task.shard });
    await saveFeatureShard(task.outDir, task.shard, r.matrices, r);
    return r.end - r.start;
  }
  if (task.kind === 'specialist') return runSpecialist(task);
  const modelFactory = await loadFactory(task.factory);
  const make = (d: PlainLabeledData) => ({ x: tf.tensor(d.x, d.shape), labels: Array.from(d.labels) });
  const train = make(task.train);
  const test = make(task.test);
  try {
    const exp = new TransferExperiment(
      { train, test, classesA: task.classesA, classesB: task.classesB },
      { ...task.options, modelFactory },
    );
    return await exp.run();
  } finally {
    tf.dispose([train.x, test.x]);
  }
}
