/**
 * The worker side of {@link runTransferExperimentInWorkers}: one tfjs engine per worker thread, with its own
 * backend (wasm or cpu) and transferkit's training kernels, running one seed of a TransferExperiment per task.
 * Loaded by tinypool from `transferkit/node`'s pool (dist/pool-worker.js, or src/node/pool-worker.ts under tsx).
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  type ModelFactory,
  type TrainingKernelName,
  TransferExperiment,
  type TransferExperimentOptions,
  type TransferResults,
  type ZeilerFergusCnnOptions,
  zeilerFergusCnn,
} from '../index.js';
import { initBackend } from './backend.js';

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

let ready: Promise<string> | undefined;

function backendReady(task: TransferTask): Promise<string> {
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

/** Runs one task in this worker's engine; the tensors it makes are freed before it returns. */
export default async function runTask(task: TransferTask): Promise<TransferResults> {
  await backendReady(task);
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
