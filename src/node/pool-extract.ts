/**
 * Feature extraction over every core of one machine: the extraction's shards (see `--shard i/n`) in worker
 * threads, each with its own tfjs engine, written as shard files into a temporary folder and merged; the file is
 * byte-identical to the single-process extraction.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger } from '../core/checks.js';
// From the entry, not ../kernels/registry.js: in the built package the registry must be the one the user's
// registerTrainingKernels call wrote to (dist/index.js), not a second bundled copy.
import { InvalidArgumentError, type ProgressCallback, trainingKernelsRegistered } from '../index.js';
import { type ExtractionSpec, listInputs } from './extraction-inputs.js';
import { defaultWorkers } from './pool.js';
import { leasePool, poolKey } from './pool-entry.js';
import type { ExtractTask } from './pool-worker.js';
import { type MergeResult, mergeFeatures } from './shards.js';

/** Options of {@link extractFeaturesInWorkers}. */
export interface ParallelExtractOptions {
  /** The feature file to write (atomically). */
  out: string;
  /** Worker threads. @default the number of cores */
  workers?: number;
  /** Shards (one task each; more shards than workers balance uneven images). @default `workers` */
  shards?: number;
  /** Called after each shard finished (phase `'extract'`, `done`/`total` in images). @default undefined */
  onProgress?: ProgressCallback;
}

/**
 * Runs an extraction with its shards in worker threads and writes the merged feature file to `out`:
 * byte-identical to `extractFeatures(spec)` saved with `saveFeatures` (the shards are contiguous rows, merged and
 * checked by `mergeFeatures`). The workers use the calling thread's backend (`wasm` or `cpu`); each loads the
 * model once per task.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} for a bad spec, worker or shard count, or
 * backend, before any worker starts; the failing shard's error (e.g. an unreadable image, named) otherwise
 * @example
 * ```ts
 * await extractFeaturesInWorkers({ model: 'm.json', images: 'data/shapes', taps: ['fc1'] }, { out: 'shapes.tkf' });
 * ```
 */
export async function extractFeaturesInWorkers(
  spec: ExtractionSpec,
  options: ParallelExtractOptions,
): Promise<MergeResult> {
  const fn = 'extractFeaturesInWorkers';
  if (typeof options?.out !== 'string' || options.out.length === 0) {
    throw new InvalidArgumentError(fn, 'options.out', 'a file path', options?.out);
  }
  const workers = options.workers ?? defaultWorkers();
  checkInteger(fn, 'options.workers', workers, 1);
  const inputs = await listInputs(spec);
  const count = options.shards ?? Math.min(workers, inputs.files.length);
  checkInteger(fn, 'options.shards', count, 1, inputs.files.length);
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new InvalidArgumentError(
      fn,
      'backend',
      "the 'wasm' or 'cpu' backend (one engine per worker)",
      backend,
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'transferkit-shards-'));
  const kernels = trainingKernelsRegistered(backend);
  const pool = leasePool(Math.min(workers, count), poolKey(backend, kernels));
  try {
    // Worker threads share the process's working folder: the spec goes as it is (relative paths and all), so
    // the file's metadata is the single-process one.
    let done = 0;
    await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const task: ExtractTask = {
          kind: 'extract',
          backend,
          kernels,
          spec,
          shard: { index, count },
          outDir: dir,
        };
        const rows = (await pool.run(task)) as number;
        done += rows;
        options.onProgress?.({ phase: 'extract', done, total: inputs.files.length });
      }),
    );
    return await mergeFeatures(dir, { out: options.out });
  } finally {
    await pool.release();
    await rm(dir, { recursive: true, force: true });
  }
}
