/**
 * The worker side of a TransferExperiment grid on the queue: one job trains and evaluates one network. A worker
 * keeps the grid's data and the trained base networks of recent seeds in memory (a job whose base is not there
 * trains it, from the same seed, to the same weights), so every network gives the numbers of the sequential
 * `TransferExperiment.run()` for its seed.
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { evaluateClassifier } from '../classify/evaluate.js';
import { checkInteger } from '../core/checks.js';
import type { LabeledData } from '../core/types.js';
import { stratifiedSplit } from '../data/split.js';
import { InvalidArgumentError, LayerTransfer, type ModelFactory } from '../index.js';
import { modelStructure } from '../model/structure.js';
import { loadMnistDigits } from '../node/mnist.js';
import { readIdx } from '../node.js';
import { deriveSeed } from '../transfer/config.js';
import { type ClassSubset, selectClasses } from '../transfer/data.js';
import { trainWithGroups } from '../transfer/train.js';
import { zeilerFergusCnn } from '../zoo/cnn.js';
import type {
  TransferDataSpec,
  TransferGridSpec,
  TransferJobData,
  TransferJobResult,
  TransferModelSpec,
} from './transfer-grid-spec.js';

interface GridData {
  trainA: ClassSubset;
  testA: ClassSubset;
  trainB: ClassSubset;
  testB: ClassSubset;
  dispose(): void;
}

/**
 * Loads a grid's data: the seeded, stratified train/test split of the MNIST digits or of an IDX pair, x
 * `[count, h, w, c]` in [0, 1] (uint8) or as stored (float). The caller disposes the two `x` tensors.
 *
 * @example
 * ```ts
 * const [train, test] = await loadTransferGridData({ source: 'mnist', seed: 0, testFraction: 0.25, limitPerClass: 400 });
 * ```
 */
export async function loadTransferGridData(
  d: TransferDataSpec,
): Promise<[{ x: tf.Tensor4D; labels: number[] }, { x: tf.Tensor4D; labels: number[] }]> {
  let pixels: Float32Array;
  let labels: ArrayLike<number>;
  let shape: [number, number, number];
  if (d.source === 'mnist') {
    const digits = await loadMnistDigits();
    pixels = digits.pixels;
    labels = digits.labels;
    shape = [digits.height, digits.width, 1];
  } else {
    const fn = 'transfer job';
    const img = await readIdx(d.images as string);
    const lab = await readIdx(d.labels as string);
    if (img.dims.length < 3 || img.dims.length > 4 || lab.dims.length !== 1 || lab.dims[0] !== img.dims[0]) {
      throw new InvalidArgumentError(
        fn,
        'grid.data',
        'IDX images [count, h, w(, c)] and labels [count]',
        `${img.dims} / ${lab.dims}`,
      );
    }
    const scale = img.type === 'uint8' ? 1 / 255 : 1;
    pixels = Float32Array.from(img.data as ArrayLike<number>, (v) => v * scale);
    labels = lab.data as ArrayLike<number>;
    shape = [img.dims[1], img.dims[2], img.dims[3] ?? 1];
  }
  const split = stratifiedSplit(labels, {
    seed: d.seed,
    testFraction: d.testFraction,
    limitPerClass: d.limitPerClass,
  });
  const per = shape[0] * shape[1] * shape[2];
  const part = (indices: number[], ls: number[]) => {
    const out = new Float32Array(indices.length * per);
    indices.forEach((src, i) => {
      out.set(pixels.subarray(src * per, (src + 1) * per), i * per);
    });
    return { x: tf.tensor4d(out, [indices.length, ...shape]), labels: ls };
  };
  return [part(split.trainIndices, split.trainLabels), part(split.testIndices, split.testLabels)];
}

async function gridData(grid: TransferGridSpec): Promise<GridData> {
  const [train, test] = await loadTransferGridData(grid.data);
  const subsets: ClassSubset[] = [];
  try {
    for (const [d, classes] of [
      [train, grid.classesA],
      [test, grid.classesA],
      [train, grid.classesB],
      [test, grid.classesB],
    ] as const) {
      const s = await selectClasses(d, classes);
      subsets.push(s);
      if (s.x.shape[0] === 0) {
        throw new InvalidArgumentError(
          'transfer job',
          'grid.data',
          `examples of the classes [${classes.join(', ')}]`,
          'none of them',
        );
      }
    }
  } catch (e) {
    for (const s of subsets) s.x.dispose();
    throw e;
  } finally {
    tf.dispose([train.x, test.x]);
  }
  const [trainA, testA, trainB, testB] = subsets;
  return { trainA, testA, trainB, testB, dispose: () => tf.dispose(subsets.map((s) => s.x)) };
}

async function factoryOf(spec: TransferModelSpec): Promise<ModelFactory> {
  if ('zoo' in spec) {
    const options = spec.options ?? {};
    return (numClasses, seed) => zeilerFergusCnn({ ...options, numClasses, seed });
  }
  const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(spec.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const f = mod[spec.exportName ?? 'default'];
  if (typeof f !== 'function') {
    throw new InvalidArgumentError(
      'transfer job',
      'grid.model',
      `a module with a function export '${spec.exportName ?? 'default'}'`,
      spec.module,
    );
  }
  return f as ModelFactory;
}

interface CachedBase {
  model: tfl.LayersModel;
  result: { accuracy: number; trainLoss: number; ms: number };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * What a worker keeps between transfer jobs: each grid's data (one grid at a time) and trained base networks
 * (the most recent few), so that a seed's treatments do not retrain its base.
 */
export class TransferJobCache {
  private data: { id: string; data: Promise<GridData> } | undefined;
  private readonly bases = new Map<string, Promise<CachedBase>>();
  private readonly maxBases: number;

  /** @param maxBases trained base networks kept (least recently used go first) */
  constructor(maxBases = 4) {
    this.maxBases = maxBases;
  }

  /** Base networks held now. */
  get size(): number {
    return this.bases.size;
  }

  private gridData(id: string, grid: TransferGridSpec): Promise<GridData> {
    if (this.data?.id !== id) {
      this.clear();
      const data = gridData(grid);
      this.data = { id, data };
      data.catch(() => {
        if (this.data?.data === data) this.data = undefined;
      });
    }
    return (this.data as { data: Promise<GridData> }).data;
  }

  /**
   * Runs one network of a grid: trains (or takes from memory) its base, then, for a treatment, builds the
   * transfer network exactly as `TransferExperiment.run()` does and trains and evaluates it.
   */
  async run(job: TransferJobData): Promise<TransferJobResult> {
    const { grid, run } = job;
    const data = await this.gridData(job.runId, grid);
    const factory = await factoryOf(grid.model);
    const training = grid.training ?? {};
    const { seed } = run;
    const side: 'A' | 'B' = run.kind === 'baseA' || run.kind.startsWith('A') ? 'A' : 'B';
    const [train, test] = side === 'A' ? [data.trainA, data.testA] : [data.trainB, data.testB];
    const trainAndEvaluate = async (
      model: tfl.LayersModel,
      d: LabeledData,
      t: LabeledData,
      transfer?: LayerTransfer,
      copiedLr?: number,
    ) => {
      const t0 = now();
      const history = transfer
        ? await transfer.fineTune(d, { ...training, seed, copiedLearningRate: copiedLr })
        : await trainWithGroups(model, d, { ...training, seed });
      const { accuracy } = await evaluateClassifier(model, t);
      return { accuracy, trainLoss: history.loss[history.loss.length - 1], ms: now() - t0 };
    };
    const key = `${job.runId}|${seed}|${side}`;
    let trainedBase = false;
    let base = this.bases.get(key);
    if (base === undefined) {
      const created = (async (): Promise<CachedBase> => {
        const numClasses = side === 'A' ? grid.classesA.length : grid.classesB.length;
        const m = factory(numClasses, deriveSeed(seed, side === 'A' ? 'baseA' : 'baseB'));
        if (typeof m !== 'object' || m === null || typeof m.getConfig !== 'function') {
          throw new InvalidArgumentError(
            'transfer job',
            'grid.model',
            'a factory returning a LayersModel',
            m,
          );
        }
        try {
          return { model: m, result: await trainAndEvaluate(m, train, test) };
        } catch (e) {
          m.dispose();
          throw e;
        }
      })();
      base = created;
      trainedBase = true;
      this.bases.set(key, created);
      created.catch(() => {
        if (this.bases.get(key) === created) this.bases.delete(key);
      });
      this.evict(key);
    } else {
      // Most recently used last.
      this.bases.delete(key);
      this.bases.set(key, base);
    }
    const { model, result } = await base;
    const stages = modelStructure(model).stages;
    if (run.kind === 'baseA' || run.kind === 'baseB') {
      // The base's training is deterministic for its seed: a base trained for a treatment job gives the same
      // numbers as its own job would (its `ms` is that training's).
      return { run: { kind: run.kind, n: 0, seed, ...result }, stages, pid: process.pid, trainedBase };
    }
    checkInteger('transfer job', 'grid.ns[]', run.n, 1, stages - 1);
    const t = new LayerTransfer(model, {
      copy: run.n,
      head: { kind: 'replace', numClasses: grid.classesB.length },
      seed: deriveSeed(seed, 'transfer'),
      batchNorm: grid.batchNorm,
    });
    try {
      const fineTune = run.kind.endsWith('+');
      if (!fineTune) t.freeze(run.n);
      const copiedLr = fineTune ? (grid.fineTuneCopiedLearningRate ?? training.learningRate) : undefined;
      const r = await trainAndEvaluate(t.model, data.trainB, data.testB, t, copiedLr);
      return { run: { kind: run.kind, n: run.n, seed, ...r }, stages, pid: process.pid, trainedBase };
    } finally {
      t.dispose();
    }
  }

  private evict(keep: string): void {
    for (const [k, p] of this.bases) {
      if (this.bases.size <= this.maxBases) break;
      if (k === keep) continue;
      this.bases.delete(k);
      void p.then((b) => b.model.dispose()).catch(() => {});
    }
  }

  /** Frees the data and the base networks. */
  clear(): void {
    for (const p of this.bases.values()) void p.then((b) => b.model.dispose()).catch(() => {});
    this.bases.clear();
    const d = this.data?.data;
    this.data = undefined;
    void d?.then((g) => g.dispose()).catch(() => {});
  }
}
