import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOptionKeys, checkOptions, knownKeys } from '../core/checks.js';
// From the entry, not ../kernels/registry.js: in the built package the registry must be the one the user's
// registerTrainingKernels call wrote to (dist/index.js), not a second bundled copy.
import {
  InvalidArgumentError,
  type ProgressCallback,
  type TransferExperimentData,
  type TransferExperimentOptions,
  type TransferResults,
  type TransferRun,
  trainingKernelsRegistered,
} from '../index.js';
import { type closeWorkerPool, leasePool, plain, poolKey } from './pool-entry.js';
import type { ModelFactoryRef, TransferTask } from './pool-worker.js';

export type { ModelFactoryRef } from './pool-worker.js';

/** Options of {@link runTransferExperimentInWorkers}: a TransferExperiment's, with the factory as a module. */
export interface ParallelTransferOptions
  extends Omit<TransferExperimentOptions, 'modelFactory' | 'onRun' | 'onProgress'> {
  /**
   * The model factory as an ES module export, which every worker imports (functions cannot cross threads), or
   * `{ zoo: 'zeilerFergusCnn', options }`.
   */
  modelFactory: ModelFactoryRef;
  /**
   * Called in the calling thread for every run a seed's worker finished (when that seed's task ends), with the
   * results so far (e.g. to save them as JSON; pass them back as `resume`).
   * @default undefined
   */
  onRun?: (run: TransferRun, results: TransferResults) => void | Promise<void>;
  /**
   * Worker threads (at most one per seed). 1 still runs in one worker, off the calling thread.
   * @default the number of cores (`os.availableParallelism()`)
   */
  workers?: number;
  /**
   * Called after each seed's runs finished (phase `'transfer'`, `done`/`total` in runs, with `{ seed }`).
   * @default undefined
   */
  onProgress?: ProgressCallback;
}

/** The number of cores, the default worker count. */
export function defaultWorkers(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The known keys of {@link ParallelTransferOptions}. */
const PARALLEL_TRANSFER_OPTION_KEYS = knownKeys<ParallelTransferOptions>({
  modelFactory: true,
  onRun: true,
  workers: true,
  onProgress: true,
  training: true,
  fineTuneCopiedLearningRate: true,
  ns: true,
  seeds: true,
  kinds: true,
  batchNorm: true,
  resume: true,
});

/**
 * Runs a `TransferExperiment` with its seeds spread over worker threads, and returns the same results as
 * `new TransferExperiment(data, { ...options, modelFactory }).run()` would (runs in seed order; `ms` aside, the
 * numbers are bit-identical for a seed on the same backend and kernels). The workers use the calling thread's
 * backend (`wasm` or `cpu`) and the training kernels registered on it. The threads stay warm for 15 s after the
 * call (a later call with the same backend and kernels, and at most as many workers, reuses them and skips their
 * start-up); {@link closeWorkerPool} ends them at once.
 *
 * @throws InvalidArgumentError for a bad worker count, factory reference or backend, before any worker starts
 * @example
 * ```ts
 * const results = await runTransferExperimentInWorkers(
 *   { train, test, classesA: [0, 1, 2, 3, 4], classesB: [5, 6, 7, 8, 9] },
 *   { modelFactory: { module: '/abs/path/factory.js', exportName: 'makeCnn' }, seeds: [1, 2, 3, 4], workers: 2 },
 * );
 * ```
 */
export async function runTransferExperimentInWorkers(
  data: TransferExperimentData,
  options: ParallelTransferOptions,
): Promise<TransferResults> {
  const fn = 'runTransferExperimentInWorkers';
  const opts = checkOptions(fn, 'options', options);
  checkOptionKeys(fn, 'options', opts, PARALLEL_TRANSFER_OPTION_KEYS);
  const { modelFactory, workers: w, onProgress, onRun, resume, ...rest } = opts;
  const isZoo =
    modelFactory !== null && typeof modelFactory === 'object' && 'zoo' in modelFactory
      ? modelFactory.zoo === 'zeilerFergusCnn'
      : false;
  const isModule =
    modelFactory !== null &&
    typeof modelFactory === 'object' &&
    'module' in modelFactory &&
    typeof modelFactory.module === 'string' &&
    modelFactory.module.length > 0;
  if (!isZoo && !isModule) {
    throw new InvalidArgumentError(
      fn,
      'options.modelFactory',
      "{ module: string, exportName?: string } or { zoo: 'zeilerFergusCnn', options? }",
      modelFactory,
    );
  }
  if (resume !== undefined && (resume?.version !== 1 || !Array.isArray(resume.runs))) {
    throw new InvalidArgumentError(fn, 'options.resume', 'TransferResults (version 1)', resume);
  }
  const workers = w ?? defaultWorkers();
  checkInteger(fn, 'options.workers', workers, 1);
  const seeds = [...(rest.seeds ?? [0])];
  seeds.forEach((s, i) => {
    checkInteger(fn, `options.seeds[${i}]`, s);
  });
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new InvalidArgumentError(
      fn,
      'backend',
      "the 'wasm' or 'cpu' backend (one engine per worker)",
      backend,
    );
  }
  if (data === null || typeof data !== 'object') {
    throw new InvalidArgumentError(fn, 'data', '{ train, test, classesA, classesB }', data);
  }
  const train = await plain(fn, 'data.train', data.train);
  const test = await plain(fn, 'data.test', data.test);
  const base: Omit<TransferTask, 'options'> = {
    kind: 'transfer',
    backend,
    kernels: trainingKernelsRegistered(backend),
    train,
    test,
    classesA: [...data.classesA],
    classesB: [...data.classesB],
    factory: structuredClone(modelFactory),
  };
  const pool = leasePool(Math.min(workers, seeds.length), poolKey(backend, base.kernels));
  let done = 0;
  const total = seeds.length;
  const finished = new Map<number, TransferResults>();
  const assemble = (first: TransferResults): TransferResults => ({
    version: 1,
    classesA: first.classesA,
    classesB: first.classesB,
    stages: first.stages,
    ns: first.ns,
    seeds,
    kinds: first.kinds,
    // Seed order, each seed's runs in the order its experiment recorded them (a resumed seed's earlier runs first).
    runs: seeds.flatMap((s) => finished.get(s)?.runs ?? resume?.runs.filter((r) => r.seed === s) ?? []),
  });
  try {
    const parts = await Promise.all(
      seeds.map(async (seed) => {
        const mine = resume ? { ...resume, runs: resume.runs.filter((r) => r.seed === seed) } : undefined;
        const r = (await pool.run({
          ...base,
          options: { ...rest, seeds: [seed], resume: mine },
        })) as TransferResults;
        finished.set(seed, r);
        done++;
        onProgress?.({ phase: 'transfer', done, total, metrics: { seed } });
        if (onRun) {
          const so = assemble(r);
          for (const run of r.runs.slice(mine?.runs.length ?? 0)) await onRun(run, so);
        }
        return r;
      }),
    );
    return assemble(parts[0]);
  } finally {
    await pool.release();
  }
}
