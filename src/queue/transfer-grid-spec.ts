/**
 * A TransferExperiment grid as plain JSON (Yosinski et al. 2014): the data, model and training specs, its check, the
 * list of networks it asks for (baseA, baseB, every treatment x n x seed), their keys and the grid's id, and the
 * gathering of finished runs into `TransferResults`. No queue here: enqueueing and following are in
 * `transfer-grid.ts`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { checkInteger, checkNonEmptyArray } from '../core/checks.js';
import { canonicalJson } from '../features/shards.js';
import type { TransferKind, TransferResults, TransferRun, TransferRunKind } from '../index.js';
import { InvalidArgumentError } from '../index.js';
import { TRANSFER_KINDS } from '../internal.js';
import type { BatchNormPolicy } from '../transfer/batchnorm.js';
import type { OptimizerKind } from '../transfer/grouped-optimizer.js';
import type { ZeilerFergusCnnOptions } from '../zoo/cnn.js';

/**
 * Where a grid's data comes from: the bundled MNIST digits (optional package `mnist`) or a pair of IDX files
 * (images `[count, height, width]` or `[count, height, width, channels]`, uint8 scaled to [0, 1] or float; labels
 * `[count]`), split into train and test with a seeded, stratified split.
 */
export interface TransferDataSpec {
  /** `'mnist'` (the `mnist` package's 10,000 digits) or `'idx'` (the files below). */
  source: 'mnist' | 'idx';
  /** IDX file of the images (absolute, or relative to the enqueuing process), for `source: 'idx'`. */
  images?: string;
  /** IDX file of the labels, for `source: 'idx'`. */
  labels?: string;
  /** Seed of the train/test split. */
  seed: number;
  /** Fraction of each class held out for testing. @default 0.2 */
  testFraction?: number;
  /** At most this many items per class (drawn with the seed). @default no limit */
  limitPerClass?: number;
}

/**
 * The model factory of a grid: the zoo's Zeiler-Fergus CNN with some options, or an ES module export
 * `(numClasses, seed) => LayersModel` that every worker imports (functions cannot travel through a queue).
 */
export type TransferModelSpec =
  | {
      /** The zoo architecture. */
      zoo: 'zeilerFergusCnn';
      /** Its options (`numClasses` and `seed` are set per network). @default the zoo's defaults */
      options?: Omit<ZeilerFergusCnnOptions, 'numClasses' | 'seed'>;
    }
  | {
      /** Absolute path or file URL of an ES module. */
      module: string;
      /** The export that is a `ModelFactory`. @default 'default' */
      exportName?: string;
    };

/** The training schedule of every network of a grid (JSON: the numeric part of `GroupTrainOptions`). */
export interface TransferGridTraining {
  /** Epochs. @default 1 */
  epochs?: number;
  /** Mini-batch size. @default 32 */
  batchSize?: number;
  /** Learning rate. @default 0.001 */
  learningRate?: number;
  /** Optimizer. @default 'adam' */
  optimizer?: OptimizerKind;
}

/**
 * A TransferExperiment grid as plain JSON: the same experiment as `new TransferExperiment(data, options)` with
 * these classes, ns, seeds, kinds and training, run as one queue job per network.
 *
 * @example
 * ```ts
 * const grid: TransferGridSpec = {
 *   data: { source: 'mnist', seed: 0, testFraction: 0.25, limitPerClass: 400 },
 *   model: { zoo: 'zeilerFergusCnn', options: { filters: [8, 16], kernelSizes: [5, 3], hidden: [64] } },
 *   classesA: [0, 1, 2, 3, 4], classesB: [5, 6, 7, 8, 9], ns: [1, 2, 3], seeds: [1, 2, 3],
 *   training: { epochs: 1, batchSize: 32, learningRate: 0.01 },
 * };
 * ```
 */
export interface TransferGridSpec {
  /** The data. */
  data: TransferDataSpec;
  /** The networks. */
  model: TransferModelSpec;
  /** Classes of task A (original labels). */
  classesA: number[];
  /** Classes of task B, disjoint from A. */
  classesB: number[];
  /** Values of n (stages copied), each in [1, stages - 1] of the networks. */
  ns: number[];
  /** One repeat per seed. */
  seeds: number[];
  /** Treatments. @default all four */
  kinds?: TransferKind[];
  /** Training of every network. @default { epochs: 1, batchSize: 32, learningRate: 0.001, optimizer: 'adam' } */
  training?: TransferGridTraining;
  /** Learning rate of the copied layers in AnB+ and BnB+. @default `training.learningRate` */
  fineTuneCopiedLearningRate?: number;
  /** BatchNormalization policy of frozen layers. @default 'inference' */
  batchNorm?: BatchNormPolicy;
}

/** One network of a grid. */
export interface TransferJobRun {
  /** Which network. */
  kind: TransferRunKind;
  /** Stages copied (0 for the bases). */
  n: number;
  /** The repeat's seed. */
  seed: number;
}

/** The data of one transfer job. */
export interface TransferJobData {
  /** Job kind. */
  kind: 'transfer';
  /** The run (grid) the job belongs to. */
  runId: string;
  /** The grid (paths absolute). */
  grid: TransferGridSpec;
  /** The job's network. */
  run: TransferJobRun;
}

/** What a finished transfer job returns (its `returnvalue`). */
export interface TransferJobResult {
  /** The trained network's result, as `TransferExperiment` records it. */
  run: TransferRun;
  /** Number of stages of the networks. */
  stages: number;
  /** Process id of the worker that ran it. */
  pid: number;
  /** Whether the job trained its base network itself (not found in the worker's memory). */
  trainedBase: boolean;
}

/**
 * Checks a grid spec and returns it with absolute paths.
 *
 * @throws {@link index!InvalidArgumentError | InvalidArgumentError} naming the field
 */
export function checkTransferGrid(fn: string, grid: TransferGridSpec): TransferGridSpec {
  if (typeof grid !== 'object' || grid === null) {
    throw new InvalidArgumentError(fn, 'grid', 'a TransferGridSpec object', grid);
  }
  const d = grid.data;
  if (typeof d !== 'object' || d === null || (d.source !== 'mnist' && d.source !== 'idx')) {
    throw new InvalidArgumentError(fn, 'grid.data', "{ source: 'mnist' | 'idx', seed, ... }", d);
  }
  checkInteger(fn, 'grid.data.seed', d.seed);
  if (d.testFraction !== undefined && !(d.testFraction > 0 && d.testFraction < 1)) {
    throw new InvalidArgumentError(fn, 'grid.data.testFraction', 'a number in (0, 1)', d.testFraction);
  }
  if (d.limitPerClass !== undefined) checkInteger(fn, 'grid.data.limitPerClass', d.limitPerClass, 2);
  const data: TransferDataSpec = { ...d };
  if (d.source === 'idx') {
    for (const k of ['images', 'labels'] as const) {
      if (typeof d[k] !== 'string' || d[k].length === 0) {
        throw new InvalidArgumentError(fn, `grid.data.${k}`, 'the path of an IDX file', d[k]);
      }
      data[k] = path.resolve(d[k]);
    }
  }
  const m = grid.model as Record<string, unknown> | null;
  let model: TransferModelSpec;
  if (m !== null && typeof m === 'object' && m.zoo === 'zeilerFergusCnn') {
    model = { zoo: 'zeilerFergusCnn', options: { ...(m.options as object) } };
  } else if (m !== null && typeof m === 'object' && typeof m.module === 'string' && m.module.length > 0) {
    const mod = m.module.startsWith('file:') ? m.module : path.resolve(m.module);
    model = { module: mod, exportName: (m.exportName as string | undefined) ?? 'default' };
  } else {
    throw new InvalidArgumentError(
      fn,
      'grid.model',
      "{ zoo: 'zeilerFergusCnn', options } or { module, exportName }",
      m,
    );
  }
  for (const key of ['classesA', 'classesB', 'ns', 'seeds'] as const) {
    checkNonEmptyArray(fn, `grid.${key}`, grid[key]);
    grid[key].forEach((v, i) => {
      checkInteger(fn, `grid.${key}[${i}]`, v, key === 'ns' ? 1 : key === 'seeds' ? undefined : 0);
    });
  }
  for (const key of ['classesA', 'classesB'] as const) {
    if (grid[key].length < 2) {
      throw new InvalidArgumentError(fn, `grid.${key}`, 'at least 2 classes', grid[key]);
    }
  }
  const overlap = grid.classesA.filter((c) => grid.classesB.includes(c));
  if (overlap.length > 0) {
    throw new InvalidArgumentError(fn, 'grid.classesB', 'classes disjoint from classesA', overlap);
  }
  const kinds = grid.kinds ?? [...TRANSFER_KINDS];
  checkNonEmptyArray(fn, 'grid.kinds', kinds);
  for (const k of kinds) {
    if (!TRANSFER_KINDS.includes(k)) {
      throw new InvalidArgumentError(fn, 'grid.kinds', `kinds among {${TRANSFER_KINDS.join(', ')}}`, k);
    }
  }
  return { ...grid, data, model, kinds: [...kinds] };
}

/**
 * The networks of a grid in the order a sequential `TransferExperiment.run()` records them: per seed, baseA,
 * baseB, then every n and kind.
 *
 * @example
 * ```ts
 * planTransferGrid(grid).length; // seeds x (2 + ns x kinds)
 * ```
 */
export function planTransferGrid(grid: TransferGridSpec): TransferJobRun[] {
  const kinds = grid.kinds ?? [...TRANSFER_KINDS];
  return grid.seeds.flatMap((seed) => [
    { kind: 'baseA' as const, n: 0, seed },
    { kind: 'baseB' as const, n: 0, seed },
    ...grid.ns.flatMap((n) => kinds.map((kind) => ({ kind, n, seed }))),
  ]);
}

/** The key of a run in a grid (also the suffix of its job id). */
export function transferRunKey(r: TransferJobRun): string {
  return `${r.kind.replace('+', 'plus')}-n${r.n}-s${r.seed}`;
}

/** A run id for a grid: a hash of the spec (the same grid enqueued twice has the same id). */
export function transferGridId(grid: TransferGridSpec): string {
  return createHash('sha256').update(canonicalJson(grid)).digest('hex').slice(0, 16);
}

/**
 * Assembles the results of a grid as `TransferExperiment.run()` returns them (resumable JSON), from the runs
 * collected so far (from earlier results and from jobs): runs in the sequential order, each run once.
 *
 * @example
 * ```ts
 * const results = transferResultsOf(grid, stages, collectedRuns);
 * ```
 */
export function transferResultsOf(
  grid: TransferGridSpec,
  stages: number,
  runs: readonly TransferRun[],
): TransferResults {
  const byKey = new Map<string, TransferRun>();
  for (const r of runs) if (!byKey.has(transferRunKey(r))) byKey.set(transferRunKey(r), r);
  const ordered = planTransferGrid(grid)
    .map((p) => byKey.get(transferRunKey(p)))
    .filter((r): r is TransferRun => r !== undefined);
  return {
    version: 1,
    classesA: [...grid.classesA],
    classesB: [...grid.classesB],
    stages,
    ns: [...grid.ns],
    seeds: [...grid.seeds],
    kinds: [...(grid.kinds ?? TRANSFER_KINDS)],
    runs: ordered,
  };
}
